package transport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// startData sends DATA and reads the 354 that lets the message follow.
func (c *smtpConn) startData() (retry bool, err error) {
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
	return false, nil
}

// pipelined opens the transaction as RFC 2920 lets a client when the
// server offers PIPELINING: MAIL, RCPT and DATA in one write, their three
// replies read after it. It saves two round trips per message, and the
// server as many reads. A refusal is the first reply that is not what
// its command wanted; the commands after it are refused by the server in
// turn (503), and every reply is read so that the connection stays in
// step.
func (c *smtpConn) pipelined(from, to string, raw wire, hold func() bool) (retry bool, err error) {
	if strings.ContainsAny(from+to, "\r\n") {
		return false, ErrHeaderInjection
	}
	t := c.sc.Text
	id := t.Next()
	t.StartRequest(id)
	_, err = t.W.WriteString("MAIL FROM:" + from + "\r\nRCPT TO:" + to + "\r\nDATA\r\n")
	if err == nil {
		err = t.W.Flush()
	}
	t.EndRequest(id)
	if err != nil {
		c.drop()
		return true, fmt.Errorf("smtp MAIL: %w", err)
	}
	// The replies are read under the pipeline's turn, which is given up
	// before anything else is said on the connection (RSET, the message).
	var first error
	var firstCmd string
	dataOpen, broken := false, error(nil)
	t.StartResponse(id)
	for _, step := range []struct {
		cmd  string
		want int
	}{{"MAIL", 250}, {"RCPT", 25}, {"DATA", 354}} {
		_, _, err := t.ReadResponse(step.want)
		if err == nil {
			dataOpen = step.cmd == "DATA"
			continue
		}
		var reply *textproto.Error
		if !errors.As(err, &reply) {
			broken = fmt.Errorf("smtp %s: %w", step.cmd, err)
			break
		}
		if first == nil {
			first, firstCmd = err, step.cmd
		}
	}
	t.EndResponse(id)
	if broken != nil {
		c.drop()
		return true, broken
	}
	if first == nil {
		return c.data(raw, hold)
	}
	var reply *textproto.Error
	errors.As(first, &reply)
	if dataOpen {
		// A server that took DATA though a command before it failed
		// gets an empty message, which it has no recipient for.
		_, err := t.W.WriteString(".\r\n")
		if err == nil {
			err = t.W.Flush()
		}
		if err == nil {
			_, _, err = t.ReadResponse(250)
		}
		var r *textproto.Error
		if err != nil && !errors.As(err, &r) {
			c.drop()
			return false, replyError(firstCmd, reply)
		}
	}
	c.reset(reply)
	return false, replyError(firstCmd, reply)
}

// wire is a rendered message on its way to the server; dotFree says that
// no line of it starts with a dot and every line ends with CRLF, as
// renderTo knows of the messages it makes from templates.
type wire struct {
	raw     []byte
	dotFree bool
}

// data sends raw as the message of the transaction begun on c, once DATA
// was answered with 354: raw with its leading dots doubled, and the
// final dot once hold, if not nil, lets it go. go-mail's Data writes
// through textproto's DotWriter, which handles every byte on its own; raw
// is written here a line at a time instead, which costs a copy. Text is
// what go-mail's Client exports for such extensions. It runs under the
// deadline transact set for the whole transaction.
func (c *smtpConn) data(raw wire, hold func() bool) (retry bool, err error) {
	t := c.sc.Text
	if raw.dotFree {
		_, err = t.W.Write(raw.raw)
	} else {
		err = writeDotted(t.W, raw.raw)
	}
	if err == nil && hold != nil {
		// Out before the wait, so that the server reads it meanwhile.
		err = t.W.Flush()
	}
	if err != nil {
		// The final dot was not sent: the server cannot have taken it.
		c.drop()
		return true, fmt.Errorf("smtp DATA: %w", err)
	}
	if hold != nil && !hold() {
		// Without its final dot the server drops the message with the
		// connection (RFC 5321 section 4.1.1.4).
		c.drop()
		return false, ErrHeld
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
