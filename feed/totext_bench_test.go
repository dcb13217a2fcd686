package feed

import (
	"fmt"
	"testing"
	"time"

	"github.com/tidings/tidings/feed/content"
)

// BenchmarkHTMLToText measures the plain-text version of the Scan
// benchmark's articles: their HTML as Normalize hands it to HTMLToText,
// rendered and sanitized outside the timing, laid out at the mail's width.
func BenchmarkHTMLToText(b *testing.B) {
	r, err := content.NewRenderer("https://news.example.org/")
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]string, 100)
	size := 0
	for i := range docs {
		d, err := content.ParseFile(fmt.Sprintf("a/%d.md", i), []byte(benchArticleMD(i)), r, time.UTC)
		if err != nil {
			b.Fatal(err)
		}
		docs[i] = d.HTML
		size += len(d.HTML)
	}
	b.SetBytes(int64(size / len(docs)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		content.HTMLToText(docs[i%len(docs)], 72)
	}
}
