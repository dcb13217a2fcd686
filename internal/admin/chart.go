package admin

import (
	"fmt"
	"strconv"
	"strings"
)

// chart is an inline SVG chart drawn by the server (chart in layout.html
// draws it): bars in series told apart by pattern as well as by shade, a
// line with a marker on every point, labelled axes, a <title> and a
// <desc>, and always a table of the same numbers beside it, so that it
// reads without colour and without sight.
type chart struct {
	ID          string // unique on the page: the SVG's title and desc ids
	Title, Desc string
	W, H        int
	Bars        []bar
	Line        string // "x,y x,y ..." of the line series, if any
	Dots        []point
	XTicks      []tick
	YTicks      []tick
	Legend      []legend
	Left, Base  float64 // the plot's left edge and baseline
	Right       float64
}

type bar struct {
	X, Y, W, H float64
	Hatched    bool
	Label      string // the bar's own <title>: its value
}

type point struct {
	X, Y  float64
	Label string
}

type tick struct {
	X, Y  float64
	Label string
}

// legend is one series' key: a swatch like its bars (or a line) and a name.
type legend struct {
	X       float64
	Name    string
	Hatched bool
	Line    bool
}

// X2 and Mid are the end and the middle of a line's swatch.
func (l legend) X2() float64  { return l.X + 14 }
func (l legend) Mid() float64 { return l.X + 7 }

const (
	chartW     = 720
	chartH     = 240
	chartLeft  = 56.0
	chartRight = 12.0
	chartTop   = 30.0
	chartBase  = 200.0
)

// series is one set of values over the chart's columns.
type series struct {
	Name    string
	Values  []int
	Hatched bool
}

func newChart(id, title, desc string, labels []string) *chart {
	return &chart{ID: id, Title: title, Desc: desc, W: chartW, H: chartH, Left: chartLeft, Base: chartBase,
		Right: chartW - chartRight, XTicks: xTicks(labels)}
}

func colW(n int) float64 { return (chartW - chartLeft - chartRight) / float64(max(n, 1)) }

// xTicks labels every few columns, so that the labels never overlap.
func xTicks(labels []string) []tick {
	every := max(1, (len(labels)+5)/6)
	w := colW(len(labels))
	var out []tick
	for i, l := range labels {
		if i%every == 0 || i == len(labels)-1 && len(labels) <= 6 {
			out = append(out, tick{X: chartLeft + w*(float64(i)+0.5), Y: chartBase + 16, Label: l})
		}
	}
	return out
}

// yScale sets the value axis for values up to top and returns the y of v.
func (c *chart) yScale(top int) func(v int) float64 {
	top = niceTop(top)
	c.YTicks = nil
	for i := 0; i <= 4; i++ {
		v := top * i / 4
		c.YTicks = append(c.YTicks, tick{X: chartLeft - 6, Y: y(v, top), Label: number(v)})
	}
	return func(v int) float64 { return y(v, top) }
}

func y(v, top int) float64 { return chartBase - (chartBase-chartTop)*float64(v)/float64(top) }

// niceTop rounds a maximum up to 1, 2 or 5 times a power of ten (and at
// least 4, so that the quarter ticks are whole).
func niceTop(v int) int {
	if v <= 4 {
		return 4
	}
	p := 1
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= v && m*p%4 == 0 {
			return m * p
		}
	}
	return 10 * p
}

// barChart draws the series side by side in each column.
func barChart(id, title, desc string, labels []string, ss ...series) *chart {
	c := newChart(id, title, desc, labels)
	top := 0
	for _, s := range ss {
		for _, v := range s.Values {
			top = max(top, v)
		}
	}
	yOf := c.yScale(top)
	w := colW(len(labels))
	bw := w * 0.8 / float64(len(ss))
	for si, s := range ss {
		for i, v := range s.Values {
			yv := yOf(v)
			c.Bars = append(c.Bars, bar{X: chartLeft + w*float64(i) + w*0.1 + bw*float64(si), Y: yv, W: bw, H: chartBase - yv,
				Hatched: s.Hatched, Label: fmt.Sprintf("%s, week of %s: %s", s.Name, labels[i], number(v))})
		}
		c.Legend = append(c.Legend, legend{X: chartLeft + float64(si)*200, Name: s.Name, Hatched: s.Hatched})
	}
	return c
}

// lineChart draws one series as a line with a marker on each point.
func lineChart(id, title, desc string, labels []string, s series) *chart {
	c := newChart(id, title, desc, labels)
	top := 0
	for _, v := range s.Values {
		top = max(top, v)
	}
	yOf := c.yScale(top)
	w := colW(len(labels))
	var pts []string
	for i, v := range s.Values {
		p := point{X: chartLeft + w*(float64(i)+0.5), Y: yOf(v), Label: fmt.Sprintf("%s, week of %s: %s", s.Name, labels[i], number(v))}
		c.Dots = append(c.Dots, p)
		pts = append(pts, strconv.FormatFloat(p.X, 'f', 1, 64)+","+strconv.FormatFloat(p.Y, 'f', 1, 64))
	}
	c.Line = strings.Join(pts, " ")
	c.Legend = []legend{{X: chartLeft, Name: s.Name, Line: true}}
	return c
}

// number writes n with thousands separators: 100,000.
func number(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func strconvFloat(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
