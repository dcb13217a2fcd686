package inbound

// fromUnsubscribe recognises a request to leave sent by mail to the
// List-Unsubscribe mailto address (RFC 2369): anything addressed to
// unsubscribe@ or unsubscribe+TOKEN@, whatever its subject and body. It
// runs last but one, so that a bounce or an auto-reply sent there
// unsubscribes no one. Recipient is the sender asking to leave; the
// caller checks the token in To and Subject.
func fromUnsubscribe(m *message, opts Options) (Result, bool) {
	to, ok := m.addressedTo(opts.UnsubscribeLocalPart)
	if !ok {
		return Result{}, false
	}
	return Result{
		Kind:      KindUnsubscribe,
		Recipient: m.from(),
		Provider:  "mailto",
		Reason:    "sent to the List-Unsubscribe address " + to,
	}, true
}
