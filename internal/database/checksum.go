package database

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// appendCanonical appends the canonical text form of one value as either
// driver returns it, the same for equal values on SQLite and PostgreSQL:
// a letter for its kind, then the value, so that NULL, the empty text and 0 differ
// and so do the integer 5 and the text "5" (which SQLite's dynamic typing
// lets an INTEGER column hold):
//
//	NULL      N
//	integer   I-42;
//	real      R0.5;  (shortest form that reads back the same; NaN and ±Inf spelled so)
//	text      T5:hello  (the length in bytes, then the bytes)
//	blob      B3:abc
//
// Every form ends where its own text says, so a row's values can be
// written one after the other without a separator that could be taken
// for part of a value.
func appendCanonical(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, 'N'), nil
	case int64:
		b = append(b, 'I')
		b = strconv.AppendInt(b, v, 10)
		return append(b, ';'), nil
	case float64:
		b = append(b, 'R')
		switch {
		case math.IsNaN(v):
			b = append(b, "NaN"...)
		case math.IsInf(v, 0):
			b = append(b, strconv.FormatFloat(v, 'f', -1, 64)...) // +Inf, -Inf
		default:
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
		return append(b, ';'), nil
	case string:
		b = append(b, 'T')
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		return append(b, v...), nil
	case []byte:
		b = append(b, 'B')
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		return append(b, v...), nil
	}
	return b, fmt.Errorf("a value of Go type %T, which db copy does not know", v)
}

// valueKind is the kind of a value as the driver returned it.
func valueKind(v any) kind {
	switch v.(type) {
	case int64:
		return kindInt
	case string:
		return kindText
	case float64:
		return kindReal
	case []byte:
		return kindBlob
	}
	return kindOther
}

// fits reports why the target cannot take v into column c, or nil. A
// value must be of its column's kind: SQLite keeps text that does not
// read as a number in an INTEGER column as text, which PostgreSQL refuses
// and which no tidings wrote; and PostgreSQL's text holds neither NUL
// nor bytes that are not UTF-8.
func fits(c column, v any, to Dialect) error {
	if v == nil {
		return nil
	}
	if k := valueKind(v); k != c.kind {
		return fmt.Errorf("holds %s %s in a column of type %s, where tidings writes only %s values", k, shorten(v), c.decl, c.kind)
	}
	if s, ok := v.(string); ok && to == Postgres {
		if !utf8.ValidString(s) {
			return fmt.Errorf("holds text that is not UTF-8 (%s), which PostgreSQL cannot store", shorten(v))
		}
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("holds text with a NUL byte (%s), which PostgreSQL cannot store", shorten(v))
		}
	}
	return nil
}

// shorten quotes a value for a message, cut to a readable length.
func shorten(v any) string {
	var s string
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Sprint(v)
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}

// scanned is one table read in key order: how many rows, and the
// checksum over them.
type scanned struct {
	rows int64
	sum  string // sha256, hex
}

// rowsOf reads every row of t in key order, byte order for text on both
// dialects, and hashes it: the table's columns by name, then each row's
// canonical values, one row to a line. Each row's values, in t.columns'
// order, go to fn when fn is not nil.
func rowsOf(ctx context.Context, q querier, d Dialect, t *table, fn func(vals []any) error) (scanned, error) {
	var order []string
	for _, c := range t.key() {
		e := quote(c.name)
		if c.kind == kindText {
			e += d.Pick(" COLLATE BINARY", `::text COLLATE "C"`)
		}
		order = append(order, e+" NULLS FIRST")
	}
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = quote(c.name)
	}
	rows, err := q.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+quote(t.name)+" ORDER BY "+strings.Join(order, ", "))
	if err != nil {
		return scanned{}, fmt.Errorf("read %s: %w", t.name, err)
	}
	defer rows.Close()
	h := sha256.New()
	h.Write([]byte(strings.Join(t.names(), ",") + "\n"))
	vals := make([]any, len(t.columns))
	ptrs := make([]any, len(t.columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	var buf []byte
	for rows.Next() {
		for i := range vals {
			vals[i] = nil
		}
		if err := rows.Scan(ptrs...); err != nil {
			return scanned{}, fmt.Errorf("read %s: %w", t.name, err)
		}
		if buf, err = hashRow(h, buf[:0], t, vals); err != nil {
			return scanned{}, err
		}
		n++
		if fn != nil {
			if err := fn(vals); err != nil {
				return scanned{}, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return scanned{}, fmt.Errorf("read %s: %w", t.name, err)
	}
	return scanned{rows: n, sum: hex.EncodeToString(h.Sum(nil))}, nil
}

// hashRow writes one row's canonical form and a newline to h, using buf.
func hashRow(h hash.Hash, buf []byte, t *table, vals []any) ([]byte, error) {
	var err error
	for i, v := range vals {
		if buf, err = appendCanonical(buf, v); err != nil {
			return buf, fmt.Errorf("table %s, column %s, row %s: %w", t.name, t.columns[i].name, rowKey(t, vals), err)
		}
	}
	buf = append(buf, '\n')
	h.Write(buf)
	return buf, nil
}

// rowKey names a row for a message by its key: "id=3".
func rowKey(t *table, vals []any) string {
	var parts []string
	for _, k := range t.key() {
		for i, c := range t.columns {
			if c.name == k.name {
				parts = append(parts, k.name+"="+shorten(vals[i]))
			}
		}
	}
	return strings.Join(parts, ", ")
}
