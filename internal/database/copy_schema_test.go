package database

import (
	"strings"
	"testing"
)

// Parents come before children, whatever their names; a cycle, which no
// order can copy, is named.
func TestParentsFirst(t *testing.T) {
	tables := map[string]*table{
		"a_child":  {name: "a_child", parents: []string{"m_parent", "z_root"}},
		"m_parent": {name: "m_parent", parents: []string{"z_root", "m_parent"}}, // itself: allowed
		"z_root":   {name: "z_root"},
		"b_free":   {name: "b_free", parents: []string{"not_a_table"}},
	}
	order, err := parentsFirst(tables)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, t := range order {
		names = append(names, t.name)
	}
	if got := strings.Join(names, " "); got != "b_free z_root m_parent a_child" {
		t.Errorf("order %s", got)
	}
	tables["z_root"].parents = []string{"a_child"}
	if _, err := parentsFirst(tables); err == nil || !strings.Contains(err.Error(), "a_child, m_parent, z_root form a cycle") {
		t.Errorf("cycle: %v", err)
	}
}

// The two schemas must agree on tables, columns, kinds and keys; each
// difference is named.
func TestSameSchema(t *testing.T) {
	mk := func(cols ...column) map[string]*table {
		return map[string]*table{"t": {name: "t", columns: cols}}
	}
	id := column{name: "id", decl: "INTEGER", kind: kindInt, pk: 1}
	s := column{name: "s", decl: "TEXT", kind: kindText}
	for _, c := range []struct {
		from, to map[string]*table
		want     string
	}{
		{mk(id, s), mk(id, s), ""},
		{mk(id, s), mk(id, column{name: "s", decl: "citext", kind: kindText}), ""},
		{mk(id, s), mk(id), "table t has columns (id, s) on sqlite, (id) on postgres"},
		{mk(id, s), mk(id, column{name: "s", decl: "bigint", kind: kindInt}), "column s is TEXT on sqlite, bigint on postgres"},
		{mk(id, s), mk(column{name: "id", decl: "bigint", kind: kindInt}, s), "primary keys differ"},
		{mk(id, column{name: "s", decl: "NUMERIC", kind: kindOther}), mk(id, s), "does not know the type NUMERIC"},
		{mk(id), map[string]*table{}, "table t is in the sqlite database only"},
	} {
		err := sameSchema(c.from, c.to, SQLite, Postgres)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
