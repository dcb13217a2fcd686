package transport

import (
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"strings"
)

// SendError carries the SMTP reply that refused a message; Permanent is
// true for 5xx. Failures to connect, start TLS or authenticate are not
// SendErrors even when the server answered 5xx: they say nothing about
// the recipient, so they must not count as a bounce.
type SendError struct {
	Command   string // the command answered: "MAIL", "RCPT" or "DATA"
	Code      int    // 451, 550, ...
	Enhanced  string // "5.1.1", when the server gave one
	Message   string // the reply text after the codes
	Permanent bool
	Err       error
}

func (e *SendError) Error() string {
	code := fmt.Sprint(e.Code)
	if e.Enhanced != "" {
		code += " " + e.Enhanced
	}
	return fmt.Sprintf("smtp %s: %s %s", e.Command, code, e.Message)
}

func (e *SendError) Unwrap() error { return e.Err }

// ErrUnreachable is wrapped by a Send that never reached the point where
// the server could answer for the message: connecting, the greeting,
// EHLO, STARTTLS or AUTH failed. The message was not sent, so the
// attempt says nothing about it; a sender pauses and probes instead of
// spending the attempts of everything it has queued.
var ErrUnreachable = errors.New("server unreachable")

// IsPermanent reports whether err carries a 5xx reply, so that trying the
// same message again cannot succeed. Everything else (4xx, timeouts,
// dropped connections) is temporary.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// enhancedCode matches an RFC 3463 status code at the start of a reply.
var enhancedCode = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})(\s+|$)`)

// replyError turns a reply to command into a *SendError, taking the
// enhanced status code from the text when its class matches the code's.
func replyError(command string, r *textproto.Error) *SendError {
	se := &SendError{Command: command, Code: r.Code, Message: r.Msg, Permanent: r.Code >= 500 && r.Code < 600, Err: r}
	if m := enhancedCode.FindStringSubmatch(r.Msg); m != nil && strings.HasPrefix(fmt.Sprint(r.Code), m[1]) {
		se.Enhanced = m[1] + "." + m[2] + "." + m[3]
		se.Message = r.Msg[len(m[0]):]
	}
	return se
}
