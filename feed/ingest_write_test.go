package feed

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings/tidings/feed/content"
	"github.com/tidings/tidings/internal/database"
)

func TestScan_WriteFailureLeavesStoreAsItWas(t *testing.T) {
	e := newIngestEnv(t)
	for _, name := range []string{"a", "b", "c", "d"} {
		e.write(t, name+".md", "---\ntitle: "+name+"\n---\nText.\n")
	}
	// The store refuses one article, after others of the scan were written.
	refuse := []string{`CREATE TRIGGER refuse_c BEFORE INSERT ON articles WHEN NEW.id = 'c'
		BEGIN SELECT RAISE(ABORT, 'refused'); END`}
	if e.store.db.Dialect == database.Postgres {
		refuse = []string{`CREATE FUNCTION refuse_c() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.id = 'c' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER refuse_c BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse_c()`}
	}
	for _, q := range refuse {
		if _, err := e.store.db.Write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.in.Scan(context.Background())
	if err == nil || !strings.Contains(err.Error(), "c.md") {
		t.Fatalf("scan error = %v, want one naming c.md", err)
	}
	if res.Changed() {
		t.Errorf("failed scan reports changes: %v", counts(res))
	}
	var n int
	if err := e.store.db.Read.QueryRow(`SELECT COUNT(*) FROM articles`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d articles stored after a failed scan (%v), want none", n, err)
	}
}

func TestParseAll_OrderAndStop(t *testing.T) {
	e := newIngestEnv(t)
	r, err := content.NewRenderer(e.in.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	var cs []candidate
	for i := range 300 {
		rel := filepath.ToSlash(filepath.Join("d", strings.Repeat("x", i%7), "f"+strconv.Itoa(i)+".md"))
		// Files of very different sizes finish parsing out of order.
		e.write(t, rel, "# T\n\n"+strings.Repeat("word ", 1+(i%5)*300))
		cs = append(cs, candidate{dir: e.dir, rel: rel, readDir: e.dir, readRel: rel})
	}
	errStop := errors.New("stop")
	tests := []struct {
		name      string
		stopAt    int // -1: never
		cancel    bool
		wantErr   error
		wantCalls int
	}{
		{"all in order", -1, false, nil, len(cs)},
		{"use fails", 120, false, errStop, 121},
		{"canceled", 40, true, context.Canceled, 41},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var got []string
			err := e.in.parseAll(ctx, cs, r, nil, func(pr parseResult) error {
				if pr.err != nil {
					t.Errorf("%s: %v", pr.c.rel, pr.err)
				}
				got = append(got, pr.c.rel)
				if len(got)-1 == tt.stopAt {
					if tt.cancel {
						cancel()
						return nil
					}
					return errStop
				}
				return nil
			})
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if len(got) != tt.wantCalls {
				t.Fatalf("use called %d times, want %d", len(got), tt.wantCalls)
			}
			for i, rel := range got {
				if rel != cs[i].rel {
					t.Fatalf("result %d is %s, want %s", i, rel, cs[i].rel)
				}
			}
		})
	}
}
