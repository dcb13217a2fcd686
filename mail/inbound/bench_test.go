package inbound

import (
	"testing"
)

// BenchmarkClassify classifies the whole corpus per iteration and reports
// messages per second: all of it, and the bounces alone (the hot path
// downstream, which aims at 1,000 bounces a second end to end).
func BenchmarkClassify(b *testing.B) {
	var all, bounces [][]byte
	for _, c := range corpus {
		raw := readCorpus(b, c.file)
		all = append(all, raw)
		if c.kind == KindBounce {
			bounces = append(bounces, raw)
		}
	}
	for _, set := range []struct {
		name string
		msgs [][]byte
	}{{"corpus", all}, {"bounces", bounces}} {
		b.Run(set.name, func(b *testing.B) {
			var size int64
			for _, m := range set.msgs {
				size += int64(len(m))
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, m := range set.msgs {
					ClassifyBytes(m, Options{})
				}
			}
			b.ReportMetric(float64(b.N*len(set.msgs))/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
