package database

import (
	"math"
	"testing"
)

// The canonical form tells apart what a dialect's dynamic typing or a
// careless conversion would merge (NULL, the empty text, 0, the text "0"), and gives
// one spelling per value.
func TestAppendCanonical(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, "N"},
		{int64(0), "I0;"},
		{int64(-42), "I-42;"},
		{int64(math.MaxInt64), "I9223372036854775807;"},
		{"", "T0:"},
		{"0", "T1:0"},
		{"Zoë", "T4:Zoë"},
		{"a;b\n", "T4:a;b\n"},
		{[]byte{}, "B0:"},
		{[]byte("ab"), "B2:ab"},
		{0.5, "R0.5;"},
		{1e21, "R1e+21;"},
		{math.Inf(-1), "R-Inf;"},
		{math.NaN(), "RNaN;"},
	} {
		got, err := appendCanonical(nil, c.v)
		if err != nil {
			t.Errorf("%#v: %v", c.v, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%#v = %q, want %q", c.v, got, c.want)
		}
	}
	if _, err := appendCanonical(nil, true); err == nil {
		t.Error("a bool got a canonical form; db copy would hash a type it cannot copy")
	}

	// Rows whose values run together differently hash differently.
	row := func(vs ...any) string {
		var b []byte
		for _, v := range vs {
			b, _ = appendCanonical(b, v)
		}
		return string(b)
	}
	seen := map[string][]any{}
	for _, r := range [][]any{
		{"ab", "c"}, {"a", "bc"}, {"abc", ""}, {"abc", nil}, {nil, "abc"},
		{int64(1), int64(23)}, {int64(12), int64(3)}, {"I1;", ""}, {"1", int64(1)}, {int64(1), "1"},
	} {
		k := row(r...)
		if other, ok := seen[k]; ok {
			t.Errorf("%#v and %#v have one form %q", r, other, k)
		}
		seen[k] = r
	}
}

// A value must be of its column's kind; PostgreSQL's text takes neither
// NUL nor bytes that are not UTF-8.
func TestFits(t *testing.T) {
	integer := column{name: "n", decl: "INTEGER", kind: kindInt}
	text := column{name: "s", decl: "TEXT", kind: kindText}
	for _, c := range []struct {
		col  column
		v    any
		to   Dialect
		fits bool
	}{
		{integer, int64(5), Postgres, true},
		{integer, nil, Postgres, true},
		{integer, "5", SQLite, false},
		{integer, "yesterday", Postgres, false},
		{integer, 5.5, Postgres, false},
		{text, "Zoë", Postgres, true},
		{text, "", Postgres, true},
		{text, int64(5), SQLite, false},
		{text, []byte("x"), SQLite, false},
		{text, "a\x00b", SQLite, true},
		{text, "a\x00b", Postgres, false},
		{text, "\xff", SQLite, true},
		{text, "\xff", Postgres, false},
	} {
		if err := fits(c.col, c.v, c.to); (err == nil) != c.fits {
			t.Errorf("%s %#v to %s: fits = %v (%v), want %v", c.col.decl, c.v, c.to, err == nil, err, c.fits)
		}
	}
}

func TestSQLiteKind(t *testing.T) {
	for decl, want := range map[string]kind{
		"INTEGER": kindInt, "BIGINT": kindInt, "TEXT": kindText, "VARCHAR(20)": kindText,
		"BLOB": kindBlob, "": kindBlob, "REAL": kindReal, "DOUBLE": kindReal, "NUMERIC": kindOther,
	} {
		if got := sqliteKind(decl); got != want {
			t.Errorf("%q: %s, want %s", decl, got, want)
		}
	}
}
