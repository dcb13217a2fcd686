package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kind is what went wrong with a request, as the web answers it: each
// kind has one status code, a page title and a default message.
type Kind string

// The kinds of error answer. The zero Kind is Internal: an error nobody
// gave a kind is the server's fault.
const (
	Internal         Kind = ""
	BadRequest       Kind = "bad_request"        // the request could not be read: 400
	Invalid          Kind = "invalid"            // a field's value is refused: 422
	NotFound         Kind = "not_found"          // 404
	Gone             Kind = "gone"               // a link that has expired: 410
	Conflict         Kind = "conflict"           // 409
	Unauthorized     Kind = "unauthorized"       // 401
	TooLarge         Kind = "too_large"          // the body is over its limit: 413
	TooManyRequests  Kind = "too_many_requests"  // 429, with Retry-After
	MethodNotAllowed Kind = "method_not_allowed" // 405; the handler sets Allow
	Unavailable      Kind = "unavailable"        // a part the answer needs is down: 503
)

// answer is how the web answers one kind of error.
type answer struct {
	status         int
	title, message string
}

// kinds is the one table from kinds to answers. The messages say what to
// do next, for a person reading a page or a program reading JSON.
var kinds = map[Kind]answer{
	Internal: {http.StatusInternalServerError, "Something went wrong",
		"Something went wrong on our side. The error has been logged; please try again in a few minutes."},
	BadRequest: {http.StatusBadRequest, "Bad request",
		"The request could not be read. Check the address or the form and try again."},
	Invalid: {http.StatusUnprocessableEntity, "Not accepted",
		"A value in the request cannot be used. Correct it and try again."},
	NotFound: {http.StatusNotFound, "Not found",
		"There is nothing at this address. It may have been removed, or the link is mistyped."},
	Gone: {http.StatusGone, "Link expired",
		"This link has expired."},
	Conflict: {http.StatusConflict, "Conflict",
		"The request conflicts with what is already there."},
	Unauthorized: {http.StatusUnauthorized, "Not authorized",
		"This needs credentials: a missing or wrong bearer token."},
	TooLarge: {http.StatusRequestEntityTooLarge, "Too large",
		"The request is larger than this address accepts."},
	TooManyRequests: {http.StatusTooManyRequests, "Too many requests",
		"Too many requests came from here. Please try again in a few minutes."},
	MethodNotAllowed: {http.StatusMethodNotAllowed, "Method not allowed",
		"This address does not answer that method."},
	Unavailable: {http.StatusServiceUnavailable, "Unavailable",
		"The service is unavailable just now. Please try again in a few minutes."},
}

// defaultRetryAfter is the wait a 429 names when its Problem gives none.
const defaultRetryAfter = time.Minute

// Problem is an error with what the web should answer about it: its kind,
// the field at fault and words for the person who asked. Handlers make
// one from their package's errors (feed.ErrNotFound, a field error, ...)
// and hand it to Error; internal/web knows nothing of those packages.
type Problem struct {
	Kind  Kind
	Field string // the input at fault ("email", "id"), if one is
	// Title heads the error page; empty: the kind's.
	Title string
	// Message is shown to whoever asked, in the page or the JSON; empty:
	// the kind's. It is written for them: never put the cause in it.
	Message string
	// RetryAfter, when positive, is sent as Retry-After (429 and 503).
	RetryAfter time.Duration
	// Err is the cause; it is logged with a 5xx and matched by errors.Is.
	Err error
}

func (p *Problem) Error() string {
	var parts []string
	for _, s := range []string{p.Field, p.Message} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if p.Err != nil {
		parts = append(parts, p.Err.Error())
	}
	if len(parts) == 0 {
		return p.message()
	}
	return strings.Join(parts, ": ")
}

func (p *Problem) Unwrap() error { return p.Err }

// Status is the problem's status code, from the table.
func (p *Problem) Status() int { return p.answer().status }

func (p *Problem) answer() answer {
	if a, ok := kinds[p.Kind]; ok {
		return a
	}
	return kinds[Internal]
}

func (p *Problem) title() string {
	if p.Title != "" {
		return p.Title
	}
	return p.answer().title
}

// message is what the person who asked reads.
func (p *Problem) message() string {
	if p.Message != "" {
		return p.Message
	}
	return p.answer().message
}

// Errorf returns a Problem of kind whose message is the formatted text.
func Errorf(kind Kind, format string, args ...any) *Problem {
	return &Problem{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf is Errorf for a problem with one input field.
func FieldErrorf(kind Kind, field, format string, args ...any) *Problem {
	return &Problem{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ProblemOf returns the Problem in err's chain, or an Internal one whose
// cause is err.
func ProblemOf(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return &Problem{Kind: Internal, Err: err}
}

// Status is the status code the web answers err with.
func Status(err error) int { return ProblemOf(err).Status() }

// Message is what the person who asked reads about err: its Problem's
// message, or the table's for its kind.
func Message(err error) string { return ProblemOf(err).message() }

// retryAfter sets Retry-After for a problem that asks to wait.
func retryAfter(h http.Header, p *Problem) {
	d := p.RetryAfter
	if d <= 0 && p.Kind == TooManyRequests {
		d = defaultRetryAfter
	}
	if d > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
}
