package transport

import (
	"errors"
	"testing"
)

func TestSMTP_TLSModes(t *testing.T) {
	tests := []struct {
		name      string
		server    string // serverOpts.tls
		client    string // SMTPConfig.TLS
		encrypted bool
	}{
		{"starttls", "starttls", "starttls", true},
		{"implicit tls", "tls", "tls", true},
		{"none ignores an offered STARTTLS", "starttls", "none", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, serverOpts{tls: tt.server})
			tr := newTestSMTP(t, srv, SMTPConfig{TLS: tt.client, InsecureSkipVerify: true})
			for _, to := range []string{"a@example.com", "b@example.com"} {
				if err := tr.Send(t.Context(), simpleMessage(to)); err != nil {
					t.Fatal(err)
				}
			}
			sessions, _, msgs := srv.stats()
			if sessions != 1 || len(msgs) != 2 {
				t.Fatalf("%d sessions, %d messages; want 1, 2", sessions, len(msgs))
			}
			for _, m := range msgs {
				if m.tls != tt.encrypted {
					t.Errorf("message to %v: TLS %v, want %v", m.to, m.tls, tt.encrypted)
				}
			}
		})
	}
}

func TestSMTP_TLSFailuresSendNothing(t *testing.T) {
	tests := []struct {
		name, server, client string
		insecure             bool
	}{
		{"starttls required but not offered", "", "starttls", true},
		{"self-signed certificate not trusted", "starttls", "starttls", false},
		{"implicit tls against a plain server", "", "tls", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, serverOpts{tls: tt.server})
			tr := newTestSMTP(t, srv, SMTPConfig{TLS: tt.client, InsecureSkipVerify: tt.insecure})
			err := tr.Send(t.Context(), simpleMessage("a@example.com"))
			var se *SendError
			if err == nil || IsPermanent(err) || errors.As(err, &se) || !errors.Is(err, ErrUnreachable) {
				t.Fatalf("err = %v, want a temporary connection error wrapping ErrUnreachable", err)
			}
			if _, _, msgs := srv.stats(); len(msgs) != 0 {
				t.Errorf("%d messages received", len(msgs))
			}
			// go-mail leaves the socket open when the handshake fails after
			// connecting; the transport closes it.
			srv.waitFor("the failed connection closed", func() bool { return len(srv.open) == 0 })
		})
	}
}

func TestSMTP_Auth(t *testing.T) {
	srv := startServer(t, serverOpts{tls: "starttls", user: "tidings", pass: "s3cret"})

	good := newTestSMTP(t, srv, SMTPConfig{TLS: "starttls", InsecureSkipVerify: true, Username: "tidings", Password: "s3cret"})
	if err := good.Send(t.Context(), simpleMessage("a@example.com")); err != nil {
		t.Fatal(err)
	}

	bad := newTestSMTP(t, srv, SMTPConfig{TLS: "starttls", InsecureSkipVerify: true, Username: "tidings", Password: "wrong"})
	err := bad.Send(t.Context(), simpleMessage("b@example.com"))
	var se *SendError
	if err == nil || IsPermanent(err) || errors.As(err, &se) || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("wrong password: err = %v, want a temporary connection error wrapping ErrUnreachable (not a bounce)", err)
	}
	if _, _, msgs := srv.stats(); len(msgs) != 1 {
		t.Errorf("%d messages received, want 1", len(msgs))
	}
	// The refused connection is closed, not left for the garbage collector.
	srv.waitFor("only the good connection open", func() bool { return len(srv.open) == 1 })
}
