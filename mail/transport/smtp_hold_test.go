package transport

import (
	"errors"
	"testing"
)

// SendHeld writes the message while the caller waits in hold, but the
// server can take it only once hold lets the final dot go; a hold that
// says no leaves the server without the message and the transport
// usable.
func TestSMTP_SendHeldSendsTheFinalDotOnlyAfterHold(t *testing.T) {
	for _, pipelining := range []bool{true, false} {
		name := "pipelining"
		if !pipelining {
			name = "no pipelining"
		}
		t.Run(name, func(t *testing.T) {
			srv := startServer(t, serverOpts{noPipelining: !pipelining})
			tr := newTestSMTP(t, srv, SMTPConfig{Connections: 1})

			held := 0
			err := tr.SendHeld(t.Context(), simpleMessage("ana@example.com"), func() bool {
				held++
				srv.waitFor("the message open on the server", func() bool { return srv.inData == 1 })
				if _, _, msgs := srv.stats(); len(msgs) != 0 {
					t.Errorf("the server took %d messages before hold returned", len(msgs))
				}
				return true
			})
			if err != nil || held != 1 {
				t.Fatalf("SendHeld: %v, hold called %d times; want nil, once", err, held)
			}
			if _, _, msgs := srv.stats(); len(msgs) != 1 || msgs[0].to[0] != "ana@example.com" {
				t.Fatalf("after hold let it go the server has %v, want ana's message", byRecipient(msgs))
			}

			err = tr.SendHeld(t.Context(), simpleMessage("bo@example.com"), func() bool { return false })
			if !errors.Is(err, ErrHeld) {
				t.Fatalf("SendHeld with hold saying no: %v, want ErrHeld", err)
			}
			if err := tr.Send(t.Context(), simpleMessage("cy@example.com")); err != nil {
				t.Fatalf("Send after a held message: %v", err)
			}
			srv.waitFor("the held connection gone", func() bool { return srv.inData == 0 })
			_, _, msgs := srv.stats()
			if got := byRecipient(msgs); len(msgs) != 2 || got["bo@example.com"] != 0 || got["cy@example.com"] != 1 {
				t.Fatalf("the server has %v, want ana and cy but never bo", got)
			}
		})
	}
}

// A server that refuses the recipient ends the transaction before the
// message: there is nothing to hold, and the refusal is the error.
func TestSMTP_SendHeldDoesNotHoldARefusedTransaction(t *testing.T) {
	srv := startServer(t, serverOpts{})
	srv.rejectRcpt("gone@example.com", 550, [3]int{5, 1, 1}, "no such user")
	tr := newTestSMTP(t, srv, SMTPConfig{Connections: 1})
	called := false
	err := tr.SendHeld(t.Context(), simpleMessage("gone@example.com"), func() bool { called = true; return true })
	var se *SendError
	if !errors.As(err, &se) || se.Code != 550 || called {
		t.Fatalf("SendHeld to a refused recipient: %v (hold called: %v), want the 550 and no hold", err, called)
	}
}
