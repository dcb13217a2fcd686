package database

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// kind is what a column holds, by its declared type: the part of a type
// that both dialects share and that db copy checks every value against.
type kind int

const (
	kindInt kind = iota
	kindText
	kindReal
	kindBlob
	kindOther
)

func (k kind) String() string {
	return [...]string{"integer", "text", "real", "blob", "other"}[k]
}

// column is one column of a table as one dialect declares it.
type column struct {
	name string
	decl string // the declared type, for messages: INTEGER, bigint, citext
	kind kind
	pk   int // its place in the primary key, from 1; 0: not in it
}

// table is one table of the schema, its columns sorted by name.
type table struct {
	name     string
	columns  []column
	parents  []string // the tables its foreign keys point at
	identity []string // PostgreSQL: its identity columns
}

// key is the columns that order its rows: the primary key, else every
// column (a table without a key, such as signup_mails, may hold equal
// rows; they hash the same in whichever order they come).
func (t *table) key() []column {
	var k []column
	for _, c := range t.columns {
		if c.pk > 0 {
			k = append(k, c)
		}
	}
	if len(k) == 0 {
		return t.columns
	}
	sort.Slice(k, func(i, j int) bool { return k[i].pk < k[j].pk })
	return k
}

func (t *table) names() []string {
	n := make([]string, len(t.columns))
	for i, c := range t.columns {
		n[i] = c.name
	}
	return n
}

// querier is what reading the schema needs: a transaction or a pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// schema reads the tables of a database, without schema_migrations: each
// dialect numbers its own migrations, so that table is not data to copy.
func schema(ctx context.Context, q querier, d Dialect) (map[string]*table, error) {
	var tables map[string]*table
	var err error
	if d == Postgres {
		tables, err = pgSchema(ctx, q)
	} else {
		tables, err = sqliteSchema(ctx, q)
	}
	if err != nil {
		return nil, fmt.Errorf("read the schema: %w", err)
	}
	delete(tables, "schema_migrations")
	for _, t := range tables {
		sort.Slice(t.columns, func(i, j int) bool { return t.columns[i].name < t.columns[j].name })
		slices.Sort(t.parents)
		t.parents = slices.Compact(t.parents)
	}
	return tables, nil
}

func sqliteSchema(ctx context.Context, q querier) (map[string]*table, error) {
	names, err := strings1(ctx, q, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return nil, err
	}
	tables := map[string]*table{}
	for _, n := range names {
		t := &table{name: n}
		rows, err := q.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?)`, n)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c column
			if err := rows.Scan(&c.name, &c.decl, &c.pk); err != nil {
				rows.Close()
				return nil, err
			}
			c.kind = sqliteKind(c.decl)
			t.columns = append(t.columns, c)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		rows.Close()
		if t.parents, err = strings1(ctx, q, `SELECT "table" FROM pragma_foreign_key_list(?)`, n); err != nil {
			return nil, err
		}
		tables[n] = t
	}
	return tables, nil
}

// sqliteKind is SQLite's type affinity of a declared type
// (https://sqlite.org/datatype3.html#determination_of_column_affinity).
func sqliteKind(decl string) kind {
	d := strings.ToUpper(decl)
	switch {
	case strings.Contains(d, "INT"):
		return kindInt
	case strings.Contains(d, "CHAR"), strings.Contains(d, "CLOB"), strings.Contains(d, "TEXT"):
		return kindText
	case d == "", strings.Contains(d, "BLOB"):
		return kindBlob
	case strings.Contains(d, "REAL"), strings.Contains(d, "FLOA"), strings.Contains(d, "DOUB"):
		return kindReal
	}
	return kindOther // NUMERIC affinity: ints, reals or text by the value
}

func pgSchema(ctx context.Context, q querier) (map[string]*table, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), t.typname, a.attidentity != '',
			COALESCE((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) WHERE k.attnum = a.attnum), 0)
		FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
		WHERE c.relkind IN ('r', 'p') AND c.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tables := map[string]*table{}
	for rows.Next() {
		var tn, typ string
		var identity bool
		var c column
		if err := rows.Scan(&tn, &c.name, &c.decl, &typ, &identity, &c.pk); err != nil {
			return nil, err
		}
		c.kind = pgKind(typ)
		t := tables[tn]
		if t == nil {
			t = &table{name: tn}
			tables[tn] = t
		}
		t.columns = append(t.columns, c)
		if identity {
			t.identity = append(t.identity, c.name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	fks, err := q.QueryContext(ctx, `
		SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid
		JOIN pg_class p ON p.oid = k.confrelid
		WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, err
	}
	defer fks.Close()
	for fks.Next() {
		var child, parent string
		if err := fks.Scan(&child, &parent); err != nil {
			return nil, err
		}
		if t := tables[child]; t != nil {
			t.parents = append(t.parents, parent)
		}
	}
	return tables, fks.Err()
}

func pgKind(typname string) kind {
	switch typname {
	case "int2", "int4", "int8":
		return kindInt
	case "text", "varchar", "bpchar", "citext":
		return kindText
	case "float4", "float8":
		return kindReal
	case "bytea":
		return kindBlob
	}
	return kindOther
}

// strings1 returns the first column of every row of a query.
func strings1(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// sameSchema checks that both sides have the same tables, each with the
// same columns of the same kinds, and that db copy knows every kind.
func sameSchema(from, to map[string]*table, fd, td Dialect) error {
	var problems []string
	for _, n := range sortedKeys(from) {
		t, ok := to[n]
		if !ok {
			problems = append(problems, fmt.Sprintf("table %s is in the %s database only", n, fd))
			continue
		}
		f := from[n]
		fc, tc := f.names(), t.names()
		if !slices.Equal(fc, tc) {
			problems = append(problems, fmt.Sprintf("table %s has columns (%s) on %s, (%s) on %s",
				n, strings.Join(fc, ", "), fd, strings.Join(tc, ", "), td))
			continue
		}
		for i, c := range f.columns {
			d := t.columns[i]
			switch {
			case c.kind == kindOther:
				problems = append(problems, fmt.Sprintf("table %s column %s: db copy does not know the type %s", n, c.name, c.decl))
			case d.kind == kindOther:
				problems = append(problems, fmt.Sprintf("table %s column %s: db copy does not know the type %s", n, d.name, d.decl))
			case c.kind != d.kind:
				problems = append(problems, fmt.Sprintf("table %s column %s is %s on %s, %s on %s", n, c.name, c.decl, fd, d.decl, td))
			case c.pk != d.pk:
				problems = append(problems, fmt.Sprintf("table %s: the primary keys differ (column %s)", n, c.name))
			}
		}
	}
	for _, n := range sortedKeys(to) {
		if _, ok := from[n]; !ok {
			problems = append(problems, fmt.Sprintf("table %s is in the %s database only", n, td))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the two databases' schemas differ (is one of them from another tidings version?): %s", strings.Join(problems, "; "))
	}
	return nil
}

// parentsFirst orders the tables so that each comes after every table its
// foreign keys point at, and by name where that leaves a choice.
func parentsFirst(tables map[string]*table) ([]*table, error) {
	done := map[string]bool{}
	var order []*table
	for len(order) < len(tables) {
		progress := false
		for _, n := range sortedKeys(tables) {
			t := tables[n]
			if done[n] {
				continue
			}
			ready := true
			for _, p := range t.parents {
				if _, known := tables[p]; known && p != n && !done[p] {
					ready = false
				}
			}
			if ready {
				done[n] = true
				order = append(order, t)
				progress = true
			}
		}
		if !progress {
			var left []string
			for _, n := range sortedKeys(tables) {
				if !done[n] {
					left = append(left, n)
				}
			}
			return nil, fmt.Errorf("the foreign keys of %s form a cycle: no order to copy them in", strings.Join(left, ", "))
		}
	}
	return order, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// quote quotes an identifier the way both dialects read it.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
