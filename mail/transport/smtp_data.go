package transport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
)

// data sends raw as the message of the transaction begun on c: DATA, raw
// with its leading dots doubled, and the final dot. go-mail's Data writes
// through textproto's DotWriter, which handles every byte on its own; raw
// is written here a line at a time instead, which costs a copy. Text is
// what go-mail's Client exports for such extensions. It runs under the
// deadline transact set for the whole transaction.
func (c *smtpConn) data(raw []byte) (retry bool, err error) {
	t := c.sc.Text
	id, err := t.Cmd("DATA")
	if err != nil {
		c.drop()
		return true, fmt.Errorf("smtp DATA: %w", err)
	}
	t.StartResponse(id)
	_, _, err = t.ReadResponse(354)
	t.EndResponse(id)
	if err != nil {
		return c.refused("DATA", err)
	}
	if err := writeDotted(t.W, raw); err != nil {
		// The final dot was not sent: the server cannot have taken it.
		c.drop()
		return true, fmt.Errorf("smtp DATA: %w", err)
	}
	_, err = t.W.WriteString(".\r\n")
	if err == nil {
		err = t.W.Flush()
	}
	if err == nil {
		_, _, err = t.ReadResponse(250)
	}
	if err != nil {
		var reply *textproto.Error
		if errors.As(err, &reply) {
			c.reset(reply)
			return false, replyError("DATA", reply)
		}
		c.drop()
		return false, fmt.Errorf("smtp DATA: no reply after the message was sent, it may have been accepted: %w", err)
	}
	return false, nil
}

// writeDotted writes msg to w as RFC 5321 section 4.5.2 wants it: a dot
// doubled at the start of a line, every line ended with CRLF (a bare LF
// becomes CRLF, as textproto's DotWriter makes it). The final "." line is
// left to the caller. Runs of lines that need neither go out in one
// Write, which bufio passes straight to the socket when they are large.
func writeDotted(w *bufio.Writer, msg []byte) error {
	var err error
	put := func(b []byte) {
		if err == nil {
			_, err = w.Write(b)
		}
	}
	crlf := []byte("\r\n")
	done := 0 // msg[:done] is written
	for line := 0; line < len(msg) && err == nil; {
		if msg[line] == '.' {
			put(msg[done:line])
			put([]byte{'.'})
			done = line
		}
		end := bytes.IndexByte(msg[line:], '\n')
		if end < 0 { // the last line has no line end
			put(bytes.TrimSuffix(msg[done:], []byte{'\r'}))
			put(crlf)
			return err
		}
		end += line
		if end == 0 || msg[end-1] != '\r' {
			put(msg[done:end])
			put(crlf)
			done = end + 1
		}
		line = end + 1
	}
	put(msg[done:])
	return err
}
