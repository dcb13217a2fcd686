package feed

// Benchmarks of the hot paths: scanning content, building feeds, serving a
// built feed. Their goals (see the README's performance table):
//
//   - a rescan of 10,000 unchanged files well under 1 s;
//   - a first scan of 10,000 files within a few seconds;
//   - RSS, Atom and JSON for 10,000 articles in under 0.5 s and 200 MB;
//   - a cached feed response in microseconds.
//
// The heavy ones are meant for -benchtime=3x:
//
//	go test ./feed -run '^$' -bench 'Scan|Build' -benchtime=3x
//	go test ./feed -run '^$' -bench ServeFeed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/feed/content"
	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// benchNow is after every generated article's date, so all are published.
var benchNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var benchWords = strings.Fields(`harbour council bridge ferry budget school market fishermen weather storm
	festival museum library tide lighthouse railway station mayor vote plan street square church
	river dock crane container shipyard tourists season report committee residents traffic
	parking cyclists footpath garden park concert theatre exhibition history archive volunteers
	the a of and to in on for with by from at about after before during new old small large`)

var benchTags = []string{"City", "Transport", "Harbour", "Politics", "Culture", "Sport", "Weather",
	"Schools", "Business", "Health", "History", "Environment", "Events", "Opinion", "Letters",
	"Housing", "Tourism", "Fishing", "Music", "Theatre", "Crime", "Courts", "Science", "Food",
	"Ελλάδα", "C++", "Obituaries", "Religion", "Youth", "Elections"}

// benchArticleMD returns the i-th generated article: YAML front matter
// with title, date, author and tags, a heading, paragraphs with emphasis
// and links, a list, sometimes a table, sometimes an image. The same i
// always gives the same file, about 5 KB.
func benchArticleMD(i int) string {
	rng := rand.New(rand.NewPCG(42, uint64(i)))
	words := func(n int) string {
		ws := make([]string, n)
		for k := range ws {
			ws[k] = benchWords[rng.IntN(len(benchWords))]
		}
		return strings.Join(ws, " ")
	}
	var b strings.Builder
	b.WriteString("---\n")
	// The number keeps titles, and so slugs, apart, as real titles mostly are.
	fmt.Fprintf(&b, "title: \"%s no. %d\"\n", capitalize(words(4+rng.IntN(5))), i)
	date := time.Date(2020, 1, 1, 6, 0, 0, 0, time.UTC).Add(time.Duration(i)*4*time.Hour + time.Duration(rng.IntN(180))*time.Minute)
	fmt.Fprintf(&b, "date: %s\n", date.Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "author: %s\n", []string{"Jane Roe", "John Doe", "Maria Papadopoulou", "Newsroom"}[rng.IntN(4)])
	tags := make([]string, 1+rng.IntN(4))
	for k := range tags {
		tags[k] = benchTags[rng.IntN(len(benchTags))]
	}
	fmt.Fprintf(&b, "tags: [%s]\n", strings.Join(tags, ", "))
	b.WriteString("---\n\n")
	for b.Len() < 4600 {
		switch rng.IntN(8) {
		case 0:
			fmt.Fprintf(&b, "## %s\n\n", capitalize(words(3+rng.IntN(4))))
		case 1:
			for range 3 + rng.IntN(3) {
				fmt.Fprintf(&b, "- %s\n", capitalize(words(4+rng.IntN(8))))
			}
			b.WriteString("\n")
		case 2:
			if rng.IntN(3) == 0 {
				b.WriteString("| Item | Before | After |\n|---|---:|---:|\n")
				for k := range 3 + rng.IntN(3) {
					fmt.Fprintf(&b, "| %s | %d | %d |\n", capitalize(words(2)), 100*k+rng.IntN(100), 100*k+rng.IntN(100))
				}
				b.WriteString("\n")
			} else {
				fmt.Fprintf(&b, "![%s](img/%d.jpg)\n\n", words(3), i)
			}
		default:
			fmt.Fprintf(&b, "%s, *%s* %s [%s](/articles/%d) %s `%s` %s. %s; see [the report](https://example.net/r/%d?x=1&y=2).\n\n",
				capitalize(words(20+rng.IntN(20))), words(2), words(15), words(3), rng.IntN(i+1), words(15),
				words(1), words(10), capitalize(words(12)), rng.IntN(1000))
		}
	}
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// writeBenchCorpus writes n generated articles into dir, 100 to a folder,
// as a site of that size would be laid out, and returns their total size.
func writeBenchCorpus(tb testing.TB, dir string, n int) int64 {
	tb.Helper()
	return writeBenchFiles(tb, dir, n, ".md", benchArticleMD)
}

// benchArticleTXT returns the i-th generated plain-text article, as a news
// page copied as text: a title, a date line and a byline in the forms news
// sites print (cycling through them), then one paragraph per line with
// headings and lists between them, about 5 KB.
func benchArticleTXT(i int) string {
	rng := rand.New(rand.NewPCG(43, uint64(i)))
	words := func(n int) string {
		ws := make([]string, n)
		for k := range ws {
			ws[k] = benchWords[rng.IntN(len(benchWords))]
		}
		return strings.Join(ws, " ")
	}
	date := time.Date(2020, 1, 1, 6, 0, 0, 0, time.UTC).Add(time.Duration(i)*4*time.Hour + time.Duration(rng.IntN(180))*time.Minute)
	var b strings.Builder
	fmt.Fprintf(&b, "%s no. %d\n", capitalize(words(4+rng.IntN(5))), i)
	b.WriteString(date.Format([]string{"Published 2 January 2006, 15:04", "Posted on January 2, 2006 at 3:04 pm",
		"Mon 2 Jan 2006 15.04 MST", "2006-01-02 15:04", "Updated 2 Jan 2006 15:04 (first published 2 Jan 2006 09:00)"}[i%5]) + "\n")
	b.WriteString([]string{"By Jane Roe", "By John Doe, Harbour Desk", "Reporter: Maria Papadopoulou", "— Newsroom"}[i%4] + "\n\n")
	for b.Len() < 4600 {
		switch rng.IntN(8) {
		case 0:
			fmt.Fprintf(&b, "%s\n", capitalize(words(3+rng.IntN(4))))
		case 1:
			for range 3 + rng.IntN(3) {
				fmt.Fprintf(&b, "- %s\n", capitalize(words(4+rng.IntN(8))))
			}
		default:
			fmt.Fprintf(&b, "%s, %s %d %s. %s.\n", capitalize(words(20+rng.IntN(20))), words(15), rng.IntN(1000),
				words(10), capitalize(words(12)))
		}
	}
	return b.String()
}

// writeBenchFiles writes n articles made by gen into dir, 100 to a folder,
// as a site of that size would be laid out, and returns their total size.
func writeBenchFiles(tb testing.TB, dir string, n int, ext string, gen func(int) string) int64 {
	tb.Helper()
	var total int64
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("%03d", i/100), fmt.Sprintf("article-%05d%s", i, ext))
		if i%100 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		md := gen(i)
		if err := os.WriteFile(p, []byte(md), 0o644); err != nil {
			tb.Fatal(err)
		}
		total += int64(len(md))
	}
	return total
}

// benchIngester opens a fresh database (distinct per call, so each scan
// starts empty; PostgreSQL when TIDINGS_TEST_POSTGRES is set) and returns
// an Ingester of dir.
func benchIngester(tb testing.TB, dir string) (*Ingester, *database.DB) {
	tb.Helper()
	db, err := database.Open(context.Background(), databasetest.Where(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return &Ingester{
		Store: NewStore(db), Dirs: []string{dir}, MaxBytes: 1 << 20,
		BaseURL: "https://news.example.org/", Location: time.UTC,
		Now: func() time.Time { return benchNow },
	}, db
}

func benchScan(tb testing.TB, in *Ingester, wantAdded, wantUnchanged int) {
	tb.Helper()
	res, err := in.Scan(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if res.Added != wantAdded || res.Unchanged != wantUnchanged || len(res.Rejected) > 0 {
		tb.Fatalf("scan: %+v, want %d added, %d unchanged", res, wantAdded, wantUnchanged)
	}
}

const benchArticles = 10000

// BenchmarkScan_First10k measures a first scan of 10,000 new files into an
// empty database: walk, read, parse and render Markdown, sanitize, insert.
func BenchmarkScan_First10k(b *testing.B) {
	dir := b.TempDir()
	size := writeBenchCorpus(b, dir, benchArticles)
	b.SetBytes(size)
	b.ReportAllocs()
	var cpu cpuMeter
	for b.Loop() {
		b.StopTimer()
		in, db := benchIngester(b, dir)
		b.StartTimer()
		cpu.start()
		benchScan(b, in, benchArticles, 0)
		cpu.stop()
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	cpu.report(b)
}

// BenchmarkScan_First10kText is BenchmarkScan_First10k for plain-text
// articles, whose date and byline lines are read.
func BenchmarkScan_First10kText(b *testing.B) {
	dir := b.TempDir()
	size := writeBenchFiles(b, dir, benchArticles, ".txt", benchArticleTXT)
	b.SetBytes(size)
	b.ReportAllocs()
	var cpu cpuMeter
	for b.Loop() {
		b.StopTimer()
		in, db := benchIngester(b, dir)
		b.StartTimer()
		cpu.start()
		benchScan(b, in, benchArticles, 0)
		cpu.stop()
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	cpu.report(b)
}

// BenchmarkScan_Unchanged10k measures a rescan in which no file changed:
// walk and stat, compare with the index, read nothing.
func BenchmarkScan_Unchanged10k(b *testing.B) {
	dir := b.TempDir()
	writeBenchCorpus(b, dir, benchArticles)
	in, db := benchIngester(b, dir)
	defer db.Close()
	benchScan(b, in, benchArticles, 0)
	// Reading the rows instead of the covering index costs most of a
	// rescan on SQLite. (PostgreSQL reads the whole table by a plan of its
	// own choosing, from statistics and the visibility map.)
	if db.Dialect == database.SQLite {
		var id, parent, unused int
		var plan string
		if err := db.Read.QueryRow(`EXPLAIN QUERY PLAN `+indexQuery).Scan(&id, &parent, &unused, &plan); err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(plan, "COVERING INDEX") {
			b.Fatalf("index query plan %q, want a covering index scan", plan)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		benchScan(b, in, 0, benchArticles)
	}
}

// cpuMeter sums the CPU time (user and system, of every goroutine) of
// the timed parts of a benchmark. On a machine shared with other work it
// moves with the load less than the wall time does.
type cpuMeter struct {
	total, from time.Duration
	n           int
}

func (c *cpuMeter) start() { c.from = cpuTime() }
func (c *cpuMeter) stop()  { c.total += cpuTime() - c.from; c.n++ }

// report adds the CPU seconds per run to the benchmark's line; like
// peakMem.report, after the b.Loop loop.
func (c *cpuMeter) report(b *testing.B) {
	if c.n > 0 {
		b.ReportMetric(c.total.Seconds()/float64(c.n), "cpu-s/op")
	}
}

// benchArticleSet parses n generated files as a scan would, so that the
// articles carry real sanitized HTML, text and summaries.
func benchArticleSet(tb testing.TB, n int) []*Article {
	tb.Helper()
	r, err := content.NewRenderer("https://news.example.org/")
	if err != nil {
		tb.Fatal(err)
	}
	as := make([]*Article, n)
	for i := range n {
		rel := fmt.Sprintf("%03d/article-%05d.md", i/100, i)
		p, err := content.ParseFile(rel, []byte(benchArticleMD(i)), r, time.UTC)
		if err != nil {
			tb.Fatal(err)
		}
		// Newest first, as Store.List returns them.
		as[n-1-i] = &Article{
			ID: p.ID, Slug: p.SlugBase, Source: "content", Path: rel, Title: p.Title, Author: p.Author,
			Tags: p.Tags, Summary: p.Summary, ContentHTML: p.HTML, ContentText: p.Text, Image: p.Image,
			Published: p.Date, Updated: p.Date, FirstSeen: benchNow, ContentHash: p.Hash,
		}
	}
	return as
}

// memSampler records the largest heap, and the most memory the Go runtime
// held from the OS, while it runs. runtime/metrics is read every 100µs: it
// does not stop the world, as ReadMemStats does, so it barely disturbs
// what it watches. Memory grows by what is allocated between two samples
// at most, a few hundred KB at the rates measured here, so the peaks are
// accurate to about a megabyte.
//
// "Heap" is the bytes of heap objects, live and not yet collected: what
// the program really holds. "Mapped" is every byte the runtime has from
// the OS and not released (total minus released): free spans kept for
// reuse and fragmentation included, so it is near the process's RSS and
// what a container limit would see.
type memSampler struct {
	stop             chan struct{}
	wg               sync.WaitGroup
	peakHeap, peakOS uint64
}

// memNow returns the heap objects' bytes and the runtime's mapped bytes.
func memNow() (heap, mapped uint64) {
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64() - s[2].Value.Uint64()
}

func (m *memSampler) sample() {
	h, o := memNow()
	m.peakHeap, m.peakOS = max(m.peakHeap, h), max(m.peakOS, o)
}

func startMemSampler() *memSampler {
	m := &memSampler{stop: make(chan struct{})}
	m.sample()
	m.wg.Go(func() {
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	})
	return m
}

// Stop ends the sampling; the peaks may be read after it.
func (m *memSampler) Stop() {
	close(m.stop)
	m.wg.Wait()
	m.sample()
}

// peakMem is one measured run: the heap held before it (after a full GC:
// the inputs, such as the articles), the largest heap during it and the
// most memory mapped from the OS during it.
type peakMem struct{ base, heap, mapped uint64 }

// measurePeak runs f once with the timer stopped.
func measurePeak(b *testing.B, f func()) peakMem {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	runtime.GC()
	base, _ := memNow()
	m := startMemSampler()
	f()
	m.Stop()
	return peakMem{base: base, heap: m.peakHeap, mapped: m.peakOS}
}

// report adds the figures to the benchmark's line, in MB. It must come
// after the b.Loop loop, which deletes metrics reported before it.
func (p peakMem) report(b *testing.B) {
	b.ReportMetric(float64(p.base)/1e6, "base-heap-MB")
	b.ReportMetric(float64(p.heap)/1e6, "peak-heap-MB")
	b.ReportMetric(float64(p.mapped)/1e6, "peak-mapped-MB")
}

// BenchmarkBuild measures writing the three formats of one channel of n
// articles of about 5 KB of HTML each. The bytes per op are the three
// feeds together; each op builds a fresh channel, so the gorilla model
// shared by the formats is built every time, as in a real build.
//
// "stream" is the headline: the feeds are written straight to the output,
// here a writer that counts the bytes and keeps none, as they are sent to
// a client or a file. "buffer" writes each into one bytes.Buffer grown to
// the largest; its peak includes the largest feed held whole in memory.
func BenchmarkBuild(b *testing.B) {
	s := testSite()
	for _, n := range []int{50, 1000, benchArticles} {
		var as []*Article // parsed once for both, and only if one runs
		articles := func(b *testing.B) []*Article {
			if as == nil {
				as = benchArticleSet(b, n)
			}
			return as
		}
		b.Run(fmt.Sprintf("articles=%d/stream", n), func(b *testing.B) {
			var w countingWriter
			benchBuild(b, s, articles(b), func(_ string) io.Writer { return &w }, func() int64 { return w.n })
		})
		b.Run(fmt.Sprintf("articles=%d/buffer", n), func(b *testing.B) {
			var buf bytes.Buffer
			var total int64
			as := articles(b)
			benchBuild(b, s, as, func(format string) io.Writer {
				total += int64(buf.Len())
				buf.Reset()
				return &buf
			}, func() int64 { return total + int64(buf.Len()) })
		})
	}
}

// benchBuild writes the three formats of a channel of as to the writers
// next returns, one per format; written reports the bytes of the last build.
func benchBuild(b *testing.B, s *Site, as []*Article, next func(format string) io.Writer, written func() int64) {
	var total int64
	build := func() {
		ch := &channel{Title: s.Title, Articles: as}
		start := written()
		for _, f := range formats {
			if err := f.write(next(f.name), s, ch, "tidings bench"); err != nil {
				b.Fatalf("%s: %v", f.name, err)
			}
		}
		total = written() - start
	}
	peak := measurePeak(b, build)
	b.SetBytes(total)
	b.ReportAllocs()
	var cpu cpuMeter
	for b.Loop() {
		cpu.start()
		build()
		cpu.stop()
	}
	peak.report(b)
	cpu.report(b)
}

// countingWriter counts what is written to it and keeps none of it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// BenchmarkPublisherBuild measures Publisher.Build on a real store of
// 10,000 scanned articles: the site feed, one feed per tag (30 tags), each
// in three formats. "cold" is a fresh publisher and an empty output folder
// each time (every feed new: hashed, gzipped, written and synced); "warm"
// rebuilds with nothing changed (query and encode; nothing written).
// Items=50 is the default cut; Items=10000 puts every article in every
// feed.
func BenchmarkPublisherBuild(b *testing.B) {
	dir := b.TempDir()
	writeBenchCorpus(b, dir, benchArticles)
	in, db := benchIngester(b, dir)
	defer db.Close()
	benchScan(b, in, benchArticles, 0)
	now := func() time.Time { return benchNow }
	edits := 0 // across the runs, so that each edit writes new content
	for _, items := range []int{50, benchArticles} {
		site := *testSite()
		site.Items = items
		b.Run(fmt.Sprintf("items=%d/cold", items), func(b *testing.B) {
			var pub *Publisher
			peak := measurePeak(b, func() {
				pub = &Publisher{Store: in.Store, Site: site, OutputDir: b.TempDir(), Now: now}
				if _, err := pub.Build(context.Background()); err != nil {
					b.Fatal(err)
				}
			})
			feeds := len(pub.Paths())
			b.ReportAllocs()
			var cpu cpuMeter
			for b.Loop() {
				b.StopTimer()
				// The previous build's feeds are not this one's cost: their
				// memory is collected, and their files (790 MB at
				// items=10000) removed, so that the kernel is not still
				// writing them back while this build writes its own.
				os.RemoveAll(pub.OutputDir)
				pub = &Publisher{Store: in.Store, Site: site, OutputDir: b.TempDir(), Now: now}
				runtime.GC()
				b.StartTimer()
				cpu.start()
				if _, err := pub.Build(context.Background()); err != nil {
					b.Fatal(err)
				}
				cpu.stop()
			}
			peak.report(b)
			cpu.report(b)
			b.ReportMetric(float64(feeds), "feeds")
		})
		b.Run(fmt.Sprintf("items=%d/warm", items), func(b *testing.B) {
			pub := &Publisher{Store: in.Store, Site: site, OutputDir: b.TempDir(), Now: now}
			if _, err := pub.Build(context.Background()); err != nil {
				b.Fatal(err)
			}
			peak := measurePeak(b, func() {
				if _, err := pub.Build(context.Background()); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportAllocs()
			for b.Loop() {
				res, err := pub.Build(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if res.Written != 0 {
					b.Fatalf("rebuild with nothing changed wrote %d feeds", res.Written)
				}
			}
			peak.report(b)
		})
		b.Run(fmt.Sprintf("items=%d/one-changed", items), func(b *testing.B) {
			// One file edited and scanned (untimed), then the build: only
			// the feeds and archive pages that carry it are rendered.
			pub := &Publisher{Store: in.Store, Site: site, OutputDir: b.TempDir(), Now: now}
			if _, err := pub.Build(context.Background()); err != nil {
				b.Fatal(err)
			}
			const newest = benchArticles - 1
			file := filepath.Join(dir, fmt.Sprintf("%03d", newest/100), fmt.Sprintf("article-%05d.md", newest))
			edit := func() {
				edits++
				if err := os.WriteFile(file, []byte(benchArticleMD(newest)+fmt.Sprintf("\nEdit %d.\n", edits)), 0o644); err != nil {
					b.Fatal(err)
				}
				if res, err := in.Scan(context.Background()); err != nil || res.Updated != 1 {
					b.Fatalf("scan after an edit: %+v, %v", res, err)
				}
			}
			var written int
			var cpu cpuMeter
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				edit()
				b.StartTimer()
				cpu.start()
				res, err := pub.Build(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				cpu.stop()
				written = res.Written
			}
			cpu.report(b)
			b.ReportMetric(float64(written), "feeds-written")
		})
	}
}

// BenchmarkServeFeed measures answering GET /feed.xml from the built feeds
// (50 articles of about 5 KB) through the real routes.
func BenchmarkServeFeed(b *testing.B) {
	e := newIngestEnv(b)
	for i := range 50 {
		e.write(b, fmt.Sprintf("article-%02d.md", i), benchArticleMD(i))
	}
	e.scan(b)
	pub := &Publisher{Store: e.store, Site: *testSite(), OutputDir: b.TempDir(), Now: e.clock.Now}
	if _, err := pub.Build(context.Background()); err != nil {
		b.Fatal(err)
	}
	h, err := NewHandler(pub, "", slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	out := pub.Lookup("feed.xml")
	gz, err := out.Gzip() // compressed here, once
	if err != nil {
		b.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
		size   int
	}{
		{"200", nil, http.StatusOK, len(out.Body)},
		{"304", map[string]string{"If-None-Match": out.ETag}, http.StatusNotModified, 0},
		{"gzip", map[string]string{"Accept-Encoding": "gzip, deflate, br"}, http.StatusOK, len(gz)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/feed.xml", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			b.SetBytes(int64(tc.size))
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, req)
				if w.Code != tc.status || w.Body.Len() != tc.size {
					b.Fatalf("status %d, %d bytes; want %d, %d", w.Code, w.Body.Len(), tc.status, tc.size)
				}
			}
		})
	}
}
