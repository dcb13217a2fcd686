package webhook

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/mail/inbound"
)

// Options configure a Handler. A provider whose secret is empty is off.
type Options struct {
	// MaxBytes bounds one request body, 1 MiB when zero.
	MaxBytes int64
	// MaxAge is how far a signed timestamp (Mailgun, SendGrid) may be
	// from now, either way; 15 minutes when zero.
	MaxAge time.Duration

	SES      SES
	Postmark Postmark
	Mailgun  Mailgun
	SendGrid SendGrid

	// Handle acts on one event. Its error makes the answer a 503, so
	// that the provider sends the request again; events of the request
	// handled before it are handled again then, which the caller's
	// matching makes harmless.
	Handle func(ctx context.Context, res inbound.Result) error
	Logger *slog.Logger
	// Now is the clock for the signed timestamps; nil: time.Now.
	Now func() time.Time
}

// Postmark turns the Postmark webhook on: Postmark is given the URL with
// these credentials in it (https://USER:PASSWORD@host/webhooks/postmark).
type Postmark struct {
	Username, Password string
}

// Mailgun turns the Mailgun webhook on with the domain's HTTP webhook
// signing key.
type Mailgun struct {
	SigningKey string
}

// SendGrid turns the SendGrid event webhook on with the verification key
// of its Signed Event Webhook (base64 DER, as the SendGrid settings page
// shows it, or PEM).
type SendGrid struct {
	PublicKey string
}

const (
	defaultMaxBytes = 1 << 20
	defaultMaxAge   = 15 * time.Minute
)

// Handler answers POST /webhooks/{provider}.
type Handler struct {
	o      Options
	log    *slog.Logger
	web    *web.Renderer
	sg     *ecdsa.PublicKey
	sns    *snsVerifier
	tokens *replayCache
}

// New returns a Handler for o. The error names a SendGrid key that
// cannot be read.
func New(o Options) (*Handler, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultMaxBytes
	}
	if o.MaxAge <= 0 {
		o.MaxAge = defaultMaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{o: o, log: o.Logger, web: web.NewJSON(o.Logger), tokens: newReplayCache(o.MaxAge, o.Now)}
	if o.SendGrid.PublicKey != "" {
		k, err := ParseSendGridKey(o.SendGrid.PublicKey)
		if err != nil {
			return nil, err
		}
		h.sg = k
	}
	h.sns = newSNSVerifier(o.SES, o.Now)
	return h, nil
}

// Routes registers POST /webhooks/{provider} on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /webhooks/{provider}", h.serve)
}

// receiver checks one provider's request and reads its events. commit,
// when not nil, is called once every event was handled (Mailgun's token
// is used up then, not before: a request answered 503 may come again).
type receiver func(r *http.Request, body []byte) (events []inbound.Result, commit func(), err error)

// provider is what the Handler knows of one provider: whether it is on,
// what to set to turn it on, how to take its requests.
type provider struct {
	on      bool
	turnOn  string
	receive receiver
}

func (h *Handler) provider(name string) (provider, bool) {
	switch name {
	case "ses":
		return provider{len(h.o.SES.TopicARNs) > 0, "list the SNS topic's ARN in inbound.webhooks.ses_topic_arns", h.receiveSNS}, true
	case "postmark":
		return provider{h.o.Postmark.Password != "", "set inbound.webhooks.postmark_password (or TIDINGS_POSTMARK_PASSWORD)", h.receivePostmark}, true
	case "mailgun":
		return provider{h.o.Mailgun.SigningKey != "", "set inbound.webhooks.mailgun_signing_key (or TIDINGS_MAILGUN_SIGNING_KEY)", h.receiveMailgun}, true
	case "sendgrid":
		return provider{h.sg != nil, "set inbound.webhooks.sendgrid_public_key (or TIDINGS_SENDGRID_PUBLIC_KEY)", h.receiveSendGrid}, true
	}
	return provider{}, false
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	p, ok := h.provider(name)
	if !ok {
		h.web.Error(w, r, web.Errorf(web.NotFound, "no webhook for %q: tidings takes ses, postmark, mailgun and sendgrid", name))
		return
	}
	if !p.on {
		h.web.Error(w, r, web.Errorf(web.NotFound, "the %s webhook is off: %s", name, p.turnOn))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.o.MaxBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		h.web.Error(w, r, web.Errorf(web.TooLarge, "the body is larger than the %d bytes a webhook may send (inbound.webhooks.max_bytes)", h.o.MaxBytes))
		return
	}
	if err != nil {
		h.web.Error(w, r, &web.Problem{Kind: web.BadRequest, Message: "the body could not be read", Err: err})
		return
	}
	log := h.log.With("provider", name)
	results, commit, err := p.receive(r, body)
	if err != nil {
		if web.Status(err) < 500 {
			log.Warn("webhook refused", "status", web.Status(err), "remote", r.RemoteAddr, "reason", web.Message(err))
		}
		if name == "postmark" && web.Status(err) == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="tidings webhooks"`)
		}
		h.web.Error(w, r, err)
		return
	}
	for _, res := range results {
		res.Provider, res.Verified = name, true
		if err := h.o.Handle(r.Context(), res); err != nil {
			h.web.Error(w, r, &web.Problem{Kind: web.Unavailable, RetryAfter: time.Minute,
				Message: "the event could not be recorded just now; send it again", Err: err})
			return
		}
	}
	if commit != nil {
		commit()
	}
	web.JSON(w, http.StatusOK, map[string]int{"events": len(results)})
}

// unauthorized is the answer to a request that does not prove it comes
// from the provider.
func unauthorized(format string, args ...any) error {
	return web.Errorf(web.Unauthorized, format, args...)
}

// malformed is the answer to a body that is not the provider's JSON.
func malformed(provider string, err error) error {
	return &web.Problem{Kind: web.BadRequest, Message: "the body is not a " + provider + " webhook: " + err.Error(), Err: err}
}
