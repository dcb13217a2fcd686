package feed

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tidings/tidings/internal/database"
)

// TestScan_Concurrent starts two scans of one folder together, in one
// process (serve scanning while another part asks for a scan) and as two
// processes on one database (tidings ingest beside tidings serve): both
// succeed, and each article is stored once.
func TestScan_Concurrent(t *testing.T) {
	const files = 2000
	for _, tt := range []struct {
		name        string
		twoDatabase bool // a second connection pool, as a second process has
	}{
		{"one process", false},
		{"two processes", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newIngestEnv(t)
			for i := range files {
				e.write(t, fmt.Sprintf("%02d/a-%04d.md", i%20, i), fmt.Sprintf("---\ntitle: Title %d\n---\nArticle %d.\n", i%(files/2), i))
			}
			second := e.in
			if tt.twoDatabase {
				db, err := database.Open(context.Background(), e.where)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				second = &Ingester{Store: NewStore(db), Dirs: e.in.Dirs, MaxBytes: e.in.MaxBytes, BaseURL: e.in.BaseURL,
					Location: e.in.Location, Now: e.in.Now}
			}
			var wg sync.WaitGroup
			results := make([]ScanResult, 2)
			errs := make([]error, 2)
			start := make(chan struct{})
			for i, in := range []*Ingester{e.in, second} {
				wg.Go(func() {
					<-start
					results[i], errs[i] = in.Scan(context.Background())
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("scan %d: %v", i+1, err)
				}
				if len(results[i].Rejected) > 0 {
					t.Fatalf("scan %d rejected %v", i+1, results[i].Rejected[0])
				}
			}
			if added := results[0].Added + results[1].Added; added != files {
				t.Errorf("the two scans added %d and %d articles, want %d between them", results[0].Added, results[1].Added, files)
			}
			var n, slugs int
			if err := e.store.db.Read.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT slug) FROM articles`).Scan(&n, &slugs); err != nil {
				t.Fatal(err)
			}
			if n != files || slugs != files {
				t.Errorf("%d articles with %d slugs stored, want %d of each", n, slugs, files)
			}
			// And a third scan finds everything as it was.
			if res := e.scan(t); counts(res) != [5]int{0, 0, files, 0, 0} {
				t.Errorf("rescan: %v, want all unchanged", counts(res))
			}
		})
	}
}
