package subscribers

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxRecordLines bounds how many lines one quoted field may run over. A
// quote left open longer, or at the end of the file, is a broken row: its
// first line is reported and reading goes on with the line after it, so
// one stray quote never swallows the rest of a file.
const maxRecordLines = 50

// maxRecordBytes bounds one record likewise.
const maxRecordBytes = 64 << 10

// errUnbalancedQuote is a quoted field that is never closed.
var errUnbalancedQuote = errors.New(`a quoted field is never closed: a field with quotes must be quoted as a whole, with each quote inside doubled ("")`)

// recordReader splits CSV text into records: one line each, or several
// when a quoted field holds line breaks. Every line of the input ends up
// in exactly one record or one broken row, which is what lets an import
// count its rows exactly.
type recordReader struct {
	br      *bufio.Reader
	ahead   []string // lines read past a broken row, to be read again
	next    int      // the number of the next line read from br
	aheadAt int      // the number of ahead[0]
	eof     bool
	// comma is the delimiter; when zero, the first line that is not
	// blank decides it (detectComma), and is checked to be text.
	comma rune
	// read counts the bytes taken from the input, for progress.
	read int64
}

func newRecordReader(r io.Reader) *recordReader {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		br.Discard(3)
	}
	return &recordReader{br: br, next: 1}
}

// line returns the next physical line without its line ending, and its
// number.
func (rr *recordReader) line() (string, int, error) {
	if len(rr.ahead) > 0 {
		l, n := rr.ahead[0], rr.aheadAt
		rr.ahead, rr.aheadAt = rr.ahead[1:], rr.aheadAt+1
		return l, n, nil
	}
	if rr.eof {
		return "", 0, io.EOF
	}
	s, err := rr.br.ReadString('\n')
	rr.read += int64(len(s))
	if err == io.EOF {
		rr.eof = true
		if s == "" {
			return "", 0, io.EOF
		}
	} else if err != nil {
		return "", 0, err
	}
	n := rr.next
	rr.next++
	return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r"), n, nil
}

// Read returns the next record's fields and the number of its first line.
// A row that cannot be read is returned as a RowError (and the reading
// can go on); io.EOF ends the input; other errors are the reader's.
func (rr *recordReader) Read() ([]string, int, error) {
	first, start, err := rr.line()
	if err != nil {
		return nil, 0, err
	}
	if rr.comma == 0 && strings.TrimSpace(first) != "" {
		if err := checkText(first); err != nil {
			return nil, start, err
		}
		rr.comma = detectComma(first)
	}
	comma := rr.comma
	if comma == 0 {
		comma = ','
	}
	text := first
	lines := []string{first}
	for open := inQuotes(first, false, comma); open; {
		l, _, err := rr.line()
		if err == io.EOF || len(lines) >= maxRecordLines || len(text) > maxRecordBytes {
			// Give back what was read past the broken row's first line.
			if err == nil {
				lines = append(lines, l)
			}
			rr.ahead = append(lines[1:], rr.ahead...)
			rr.aheadAt = start + 1
			return nil, start, RowError{Line: start, Err: errUnbalancedQuote}
		}
		if err != nil {
			return nil, 0, err
		}
		lines = append(lines, l)
		text += "\n" + l
		open = inQuotes(l, true, comma)
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.Comma = comma
	rec, err := cr.Read()
	var pe *csv.ParseError
	switch {
	case err == io.EOF:
		return []string{""}, start, nil // a blank line
	case errors.As(err, &pe):
		return nil, start, RowError{Line: start, Err: fmt.Errorf("%w: a field with quotes must be quoted as a whole, with each quote inside doubled (\"\")", pe.Err)}
	case err != nil:
		return nil, start, RowError{Line: start, Err: err}
	}
	return rec, start, nil
}

// inQuotes reports whether a quoted field is still open at the end of
// line, given whether one was open at its start, with comma the
// delimiter. As encoding/csv reads
// it: a quote opens a field only as its first character, and a doubled
// quote inside is a quote; a stray quote elsewhere opens nothing (the
// parser reports it for that line alone).
func inQuotes(line string, open bool, comma rune) bool {
	fieldStart := !open
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case !open && rune(c) == comma:
			fieldStart = true
		case open && c == '"' && i+1 < len(line) && line[i+1] == '"':
			i++
		case open && c == '"':
			open, fieldStart = false, false
		case open:
		case c == '"' && fieldStart:
			open = true
		default:
			fieldStart = false
		}
	}
	return open
}
