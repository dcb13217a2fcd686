package feed

import (
	"testing"
	"time"

	"github.com/tidings/tidings/feed/content"
)

func TestStamp(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := now.Add(-time.Millisecond)
	day := func(n int) time.Time { return now.AddDate(0, 0, n) }
	prev := &stored{hash: "old", pub: day(-10), upd: day(-5)}
	tests := []struct {
		name     string
		doc      content.Doc
		prev     *stored
		pub, upd time.Time
	}{
		{"new, undated: first seen", content.Doc{Hash: "h"}, nil, at, at},
		{"new, dated", content.Doc{Hash: "h", Date: day(-3)}, nil, day(-3), day(-3)},
		{"new, updated named", content.Doc{Hash: "h", Date: day(-3), Updated: day(-2)}, nil, day(-3), day(-2)},
		{"new, updated before published", content.Doc{Hash: "h", Date: day(-3), Updated: day(-4)}, nil, day(-3), day(-3)},
		{"new, dated ahead: kept for an author", content.Doc{Hash: "h", Date: day(30)}, nil, day(30), day(30)},
		{"unchanged: both kept", content.Doc{Hash: "old"}, prev, day(-10), day(-5)},
		{"changed: updated moves to at", content.Doc{Hash: "new"}, prev, day(-10), at},
		{"changed, redated", content.Doc{Hash: "new", Date: day(-7)}, prev, day(-7), at},
		{"changed, updated named", content.Doc{Hash: "new", Updated: day(-6)}, prev, day(-10), day(-6)},
		{"redated after updated", content.Doc{Hash: "new", Date: day(-1), Updated: day(-2)}, prev, day(-1), day(-1)},

		{"syndicated, new, dated ahead: now", content.Doc{Hash: "h", Date: day(2), Updated: day(3), Syndicated: true}, nil, now, now},
		{"syndicated, new, within the slack", content.Doc{Hash: "h", Date: now.Add(FutureSlack), Syndicated: true}, nil,
			now.Add(FutureSlack), now.Add(FutureSlack)},
		{"syndicated, changed: published fixed", content.Doc{Hash: "new", Date: day(-1), Syndicated: true}, prev, day(-10), at},
		{"syndicated, changed, updated forward", content.Doc{Hash: "new", Updated: day(-1), Syndicated: true}, prev, day(-10), day(-1)},
		{"syndicated, changed, updated not forward", content.Doc{Hash: "new", Updated: day(-6), Syndicated: true}, prev, day(-10), at},
		{"syndicated, unchanged", content.Doc{Hash: "old", Date: day(-1), Syndicated: true}, prev, day(-10), day(-5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, upd := stamp(&tt.doc, tt.prev, at, now)
			if !pub.Equal(tt.pub) || !upd.Equal(tt.upd) {
				t.Errorf("published %v, updated %v; want %v, %v", pub, upd, tt.pub, tt.upd)
			}
		})
	}
}
