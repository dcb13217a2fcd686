// Package webhook takes the bounce and complaint reports that email
// providers POST to /webhooks/{provider}: Amazon SES through SNS,
// Postmark, Mailgun and SendGrid. For each it checks that the request
// comes from the provider (the SNS message signature against the signing
// certificate fetched from sns.<region>.amazonaws.com; Postmark's HTTP
// basic auth; Mailgun's HMAC-SHA256 of timestamp and token, with old
// timestamps and replayed tokens refused; SendGrid's ECDSA signature of
// timestamp and body), reads the provider's JSON and maps each event to
// an inbound.Result, the same value the mail classifier makes of a DSN,
// with Provider set ("ses", "postmark", "mailgun", "sendgrid"). Each
// Result goes to Options.Handle, which matches and acts on it.
//
// A Result carries what the provider tells of the original: the failed
// or complaining address (Recipient), the envelope sender when the
// provider reports it, and any value of the provider's metadata that is
// a bounces+TOKEN@ address (To), and the original's Message-ID, so that
// the caller can match it to a delivery exactly as it matches mail.
//
// Answers: 200 once every event was handled (an event about mail never
// sent is handled too: the caller logs it as unmatched); 401 for a
// missing or wrong signature or password; 400 for a body that is not the
// provider's JSON; 413 past Options.MaxBytes; 404 for a provider that is
// off (its secret not configured) or unknown, saying how to turn it on;
// 503 when Handle fails, so that the provider sends it again.
//
// It is a leaf: it imports only mail/inbound and internal/web of this
// module. It does not match, store or change anything itself.
package webhook
