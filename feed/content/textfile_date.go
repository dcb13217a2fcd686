package content

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Reading the date of a plain-text article's date line: "3 June 2023,
// 14:05", "June 3, 2023 at 2:05 pm EDT", "Sat 3 Jun 2023 14.05 BST",
// "2023-06-03T14:05:00Z". The words of the line are read one by one into
// the fields of a date; a word that cannot be part of a date makes the
// line no date at all, which keeps sentences out. Day and month may come
// in either order, a weekday, "at", "on" and commas may sit between them,
// the time may have seconds, a.m./p.m. and a zone (a name or an offset).
// Slashed dates are taken only when the order is plain (23/06/2023, not
// 03/06/2023); dotted ones are day first (3.6.2023), as where they are
// written.

// textDate is what one date text says.
type textDate struct {
	t        time.Time
	timeOnly bool   // only a time and maybe a zone: "14:05 CET", which completes a date before it
	bad      string // the shape of a date, but not one to use: why
	unknown  string // the first word that is not part of a date
	// shaped: beside at most one unknown word, the text holds the
	// parts of a date (a number and a month name, a year or a time), so
	// that after a "Published" it is taken for a date line nobody could
	// read rather than for text.
	shaped bool
}

// textDateFields collects a date's parts as they are read.
type textDateFields struct {
	year, month, day     int // 0 until read
	hour, min, sec, nsec int
	hasTime              bool
	pendingHour          int // a bare number after the date: an hour if "pm" follows
	meridiem             byte
	weekday              int // 1+time.Weekday, 0 when not given
	zone                 *time.Location
	zoneBase             bool // the zone is UTC or GMT, which an offset may follow ("UTC+1")
	usZone               int  // a US zone named without its season ("ET"): its standard offset in hours
	hasZone              bool
	unknowns             int
	unknown              string
	digits, parts        bool
	fail                 bool // a token no date holds: a stray symbol, a number of the wrong length
	bad                  string
}

// textReadDate reads s as a date, its zone-less times in loc.
func textReadDate(s string, loc *time.Location) textDate {
	f := textDateFields{pendingHour: -1}
	for i := 0; i < len(s) && !f.fail && f.unknowns <= 1; {
		c := s[i]
		switch {
		case c == ' ' || c == ',' || c == '(' || c == ')' || c == '[' || c == ']' || c == '|' || c == ';' || c == '.':
			i++
		case c == '-' && (i+1 == len(s) || s[i+1] == ' '):
			i++
		case (c == '+' || c == '-') && i+1 < len(s) && textDigit(s[i+1]):
			j := i + 1
			for j < len(s) && (textDigit(s[j]) || s[j] == ':') {
				j++
			}
			f.offset(s[i:j])
			i = j
		case textDigit(c):
			j := i
			for j < len(s) && (textDigit(s[j]) || strings.IndexByte(":./-", s[j]) >= 0 ||
				s[j] == 'T' && textDigit(s[j-1]) && j+1 < len(s) && textDigit(s[j+1]) ||
				s[j] == '+' && strings.ContainsAny(s[i:j], ":T")) {
				j++
			}
			tok := strings.TrimRight(s[i:j], ".-")
			k := j
			for k < len(s) && (s[k] == '.' || s[k] < utf8.RuneSelf && unicode.IsLetter(rune(s[k]))) {
				k++
			}
			f.number(tok, textDateWord(s[j:k]))
			i = k
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == '·' || r == '•' || r == '—' || r == '–' {
				i += n
				continue
			}
			if !unicode.IsLetter(r) {
				f.fail = true
				break
			}
			j := i
			for j < len(s) {
				r, n := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r) && r != '.' {
					break
				}
				j += n
			}
			f.word(s[i:j], textDateWord(s[i:j]))
			i = j
		}
	}
	return f.result(loc)
}

// textDateWord is a word lower-cased without its dots: "a.m." is "am".
func textDateWord(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, ".", ""))
}

func textOffset(loc *time.Location) int {
	_, off := time.Date(2000, 1, 1, 0, 0, 0, 0, loc).Zone()
	return off
}

func textDigit(c byte) bool { return c >= '0' && c <= '9' }

func (f *textDateFields) word(raw, w string) {
	if m, ok := textMonths[w]; ok {
		if f.month != 0 {
			f.fail = true
		}
		f.month, f.parts = m, true
		return
	}
	if d, ok := textWeekdays[w]; ok {
		f.weekday = 1 + int(d)
		return
	}
	if off, ok := textZones[w]; ok {
		f.setZone(time.FixedZone(strings.ToUpper(w), off), w == "utc" || w == "gmt" || w == "z")
		return
	}
	if h, ok := textUSZones[w]; ok {
		f.setZone(nil, false)
		f.usZone = h
		return
	}
	switch w {
	case "", "at", "on", "of", "the":
		return
	case "am", "pm":
		f.setMeridiem(w)
		return
	}
	if f.unknowns == 0 {
		f.unknown = raw
	}
	f.unknowns++
}

func (f *textDateFields) setZone(loc *time.Location, base bool) {
	if f.hasZone {
		// "+0100 (CET)" names one zone twice; "CET EST" two.
		if loc == nil || f.zone == nil || textOffset(loc) != textOffset(f.zone) {
			f.fail = true
		}
		return
	}
	f.zone, f.zoneBase, f.hasZone = loc, base, true
}

func (f *textDateFields) setMeridiem(w string) {
	switch {
	case f.meridiem != 0:
		f.fail = true
	case f.pendingHour >= 0:
		f.hour, f.min, f.hasTime, f.pendingHour = f.pendingHour, 0, true, -1
	case !f.hasTime:
		f.fail = true
	}
	f.meridiem = w[0]
}

// offset reads "+01:00", "+0100", "-5": after a time, or after "UTC".
func (f *textDateFields) offset(s string) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	var h, m int
	switch len(digits) {
	case 1, 2:
		h, _ = strconv.Atoi(digits)
	case 4:
		h, _ = strconv.Atoi(digits[:2])
		m, _ = strconv.Atoi(digits[2:])
	default:
		f.fail = true
		return
	}
	if h > 14 || m > 59 || (!f.hasTime && !f.zoneBase) || (f.hasZone && !f.zoneBase) {
		f.fail = true
		return
	}
	f.zone, f.zoneBase, f.hasZone = time.FixedZone("", sign*(h*3600+m*60)), false, true
}

// number reads a token that starts with a digit, and the letters right
// after it ("3rd", "2pm", "14:05Z").
func (f *textDateFields) number(tok, suffix string) {
	f.digits = true
	switch {
	case strings.IndexByte(tok, 'T') > 0:
		date, clock, _ := strings.Cut(tok, "T")
		if !f.isoDate(date) {
			f.fail = true
			return
		}
		f.clock(clock)
	case strings.IndexByte(tok, ':') > 0:
		f.clock(tok)
	case len(tok) >= 8 && tok[4] == '-':
		if !f.isoDate(tok) {
			f.fail = true
		}
	case strings.IndexByte(tok, '/') > 0:
		f.slashDate(tok)
	case strings.IndexByte(tok, '.') > 0:
		f.dotted(tok)
	default:
		n, err := strconv.Atoi(tok)
		if err != nil {
			f.fail = true
			return
		}
		switch {
		case len(tok) == 4 && f.year == 0:
			f.year, f.parts = n, true
		case len(tok) > 2:
			f.fail = true
		case suffix == "am" || suffix == "pm":
			if f.hasTime {
				f.fail = true
			}
			f.pendingHour = n
			f.setMeridiem(suffix)
			return
		case f.day == 0:
			f.day = n
		case f.year != 0 && f.month != 0 && !f.hasTime && f.pendingHour < 0:
			f.pendingHour = n
		default:
			f.fail = true
		}
	}
	switch suffix {
	case "":
	case "st", "nd", "rd", "th":
		if f.day == 0 || f.hasTime {
			f.fail = true
		}
	case "am", "pm":
		f.setMeridiem(suffix)
	case "z":
		f.setZone(time.UTC, true)
	default:
		f.fail = true
	}
}

// isoDate reads "2023-06-03".
func (f *textDateFields) isoDate(s string) bool {
	p := strings.Split(s, "-")
	if len(p) != 3 || len(p[0]) != 4 || len(p[1]) > 2 || len(p[2]) > 2 || f.year != 0 || f.month != 0 || f.day != 0 {
		return false
	}
	var ok [3]bool
	f.year, ok[0] = textAtoi(p[0])
	f.month, ok[1] = textAtoi(p[1])
	f.day, ok[2] = textAtoi(p[2])
	f.parts = true
	return ok[0] && ok[1] && ok[2]
}

// clock reads "14:05", "2:05:30", "14:05:00.123+02:00".
func (f *textDateFields) clock(s string) {
	if f.hasTime || f.pendingHour >= 0 {
		f.fail = true
		return
	}
	var off string
	if k := strings.IndexAny(s, "+-"); k > 0 {
		s, off = s[:k], s[k:]
	}
	frac := ""
	if k := strings.IndexByte(s, '.'); k > 0 {
		s, frac = s[:k], s[k+1:]
	}
	p := strings.Split(s, ":")
	if len(p) < 2 || len(p) > 3 || len(p[0]) > 2 || len(p[1]) != 2 || len(p) == 3 && len(p[2]) != 2 {
		f.fail = true
		return
	}
	var ok [3]bool
	f.hour, ok[0] = textAtoi(p[0])
	f.min, ok[1] = textAtoi(p[1])
	ok[2] = true
	if len(p) == 3 {
		f.sec, ok[2] = textAtoi(p[2])
	}
	if frac != "" {
		n, fok := textAtoi(frac)
		if !fok || len(frac) > 9 {
			f.fail = true
			return
		}
		for range 9 - len(frac) {
			n *= 10
		}
		f.nsec = n
	}
	if !ok[0] || !ok[1] || !ok[2] {
		f.fail = true
		return
	}
	f.hasTime, f.parts = true, true
	if off != "" {
		f.offset(off)
	}
}

// slashDate reads "23/06/2023", "6/23/2023" and "2023/06/03"; when day and
// month could be either way round ("03/06/2023") the date is not used.
func (f *textDateFields) slashDate(s string) {
	p := strings.Split(s, "/")
	if len(p) != 3 || f.year != 0 || f.month != 0 || f.day != 0 {
		f.fail = true
		return
	}
	long := 2 // the part that holds the year
	if len(p[0]) == 4 {
		long = 0
	}
	var n [3]int
	for i, q := range p {
		var ok bool
		if n[i], ok = textAtoi(q); !ok || len(q) != 4 && i == long || len(q) > 2 && i != long {
			f.fail = true
			return
		}
	}
	f.parts = true
	if len(p[0]) == 4 {
		f.year, f.month, f.day = n[0], n[1], n[2]
		return
	}
	f.year = n[2]
	switch a, b := n[0], n[1]; {
	case a == b || b > 12:
		f.month, f.day = a, b
	case a > 12:
		f.day, f.month = a, b
	default:
		f.month, f.day = 1, 1 // not used: bad is set
		f.bad = fmt.Sprintf("%s may be %d %s or %d %s", s, a, time.Month(b), b, time.Month(a))
	}
}

// dotted reads "3.6.2023" (day first) and, after a date, the time "14.05".
func (f *textDateFields) dotted(s string) {
	p := strings.Split(s, ".")
	switch {
	case len(p) == 3 && len(p[0]) <= 2 && len(p[1]) <= 2 && len(p[2]) == 4 && f.year == 0 && f.month == 0 && f.day == 0:
		var ok [3]bool
		f.day, ok[0] = textAtoi(p[0])
		f.month, ok[1] = textAtoi(p[1])
		f.year, ok[2] = textAtoi(p[2])
		f.parts = true
		if !ok[0] || !ok[1] || !ok[2] {
			f.fail = true
		}
	case len(p) == 2 && len(p[0]) <= 2 && len(p[1]) == 2 && f.year != 0 && f.day != 0:
		f.clock(p[0] + ":" + p[1])
	default:
		f.fail = true
	}
}

func textAtoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !textDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// textOldest and textNewest bound the years a date line may name: an
// earlier one is a typo or a history piece's subject, not its date, and a
// later one a typo. A near-future date is a schedule, as in front matter.
const textOldest, textNewest = 1990, 2200

func (f *textDateFields) result(loc *time.Location) textDate {
	r := textDate{unknown: f.unknown}
	r.shaped = f.unknowns <= 1 && f.digits && f.parts
	if f.fail || f.unknowns > 0 {
		r.shaped = r.shaped && !f.fail
		return r
	}
	if f.year == 0 && f.month == 0 && f.day == 0 {
		r.timeOnly = f.hasTime && f.weekday == 0
		return r
	}
	if f.year == 0 || f.month == 0 || f.day == 0 || f.pendingHour >= 0 {
		return r
	}
	r.bad = f.bad
	if r.bad == "" {
		r.bad = f.check()
	}
	if r.bad != "" {
		return r
	}
	hour := f.hour
	if f.meridiem == 'p' && hour < 12 {
		hour += 12
	} else if f.meridiem == 'a' && hour == 12 {
		hour = 0
	}
	zone := loc
	switch {
	case f.usZone != 0:
		off := f.usZone
		if textUSDaylight(f.year, time.Month(f.month), f.day, hour) {
			off++
		}
		zone = time.FixedZone("", off*3600)
	case f.zone != nil:
		zone = f.zone
	}
	r.t = time.Date(f.year, time.Month(f.month), f.day, hour, f.min, f.sec, f.nsec, zone)
	return r
}

// check says what makes the fields no real date, or "".
func (f *textDateFields) check() string {
	day := fmt.Sprintf("%d %s %d", f.day, time.Month(f.month), f.year)
	switch {
	case f.year < textOldest:
		return fmt.Sprintf("%d is before %d", f.year, textOldest)
	case f.year > textNewest:
		return fmt.Sprintf("%d is after %d", f.year, textNewest)
	case f.month > 12:
		return fmt.Sprintf("there is no month %d", f.month)
	case f.day < 1 || f.day > time.Date(f.year, time.Month(f.month)+1, 0, 0, 0, 0, 0, time.UTC).Day():
		return "there is no " + day
	case f.meridiem != 0 && (f.hour < 1 || f.hour > 12), f.hour > 23, f.min > 59, f.sec > 59:
		return fmt.Sprintf("there is no time %d:%02d%s", f.hour, f.min, map[byte]string{'a': " am", 'p': " pm"}[f.meridiem])
	}
	if f.weekday != 0 {
		if wd := time.Date(f.year, time.Month(f.month), f.day, 0, 0, 0, 0, time.UTC).Weekday(); 1+int(wd) != f.weekday {
			return fmt.Sprintf("%s was a %s, not a %s", day, wd, time.Weekday(f.weekday-1))
		}
	}
	return ""
}

// textUSDaylight reports whether US daylight saving time is in force at
// that wall-clock hour: from the second Sunday in March to the first in
// November since 2007, from the first Sunday in April to the last in
// October before. It dates "ET", "PT" and the like, which name the zone
// but not its season.
func textUSDaylight(y int, m time.Month, d, h int) bool {
	sunday := func(m time.Month, from int) time.Time {
		t := time.Date(y, m, from, 0, 0, 0, 0, time.UTC)
		return t.AddDate(0, 0, (7-int(t.Weekday()))%7)
	}
	start, end := sunday(time.March, 8), sunday(time.November, 1)
	if y < 2007 {
		start, end = sunday(time.April, 1), sunday(time.October, 25)
	}
	wall := time.Date(y, m, d, h, 0, 0, 0, time.UTC)
	// Both changes happen at 2 a.m.; the hour repeated in autumn is read
	// as the first, daylight one.
	return !wall.Before(start.Add(2*time.Hour)) && wall.Before(end.Add(2*time.Hour))
}

var textMonths = map[string]int{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
	"june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
	"october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

var textWeekdays = map[string]time.Weekday{
	"monday": time.Monday, "mon": time.Monday, "tuesday": time.Tuesday, "tue": time.Tuesday, "tues": time.Tuesday,
	"wednesday": time.Wednesday, "wed": time.Wednesday, "thursday": time.Thursday, "thu": time.Thursday,
	"thur": time.Thursday, "thurs": time.Thursday, "friday": time.Friday, "fri": time.Friday,
	"saturday": time.Saturday, "sat": time.Saturday, "sunday": time.Sunday, "sun": time.Sunday,
}

// textZones are the zone names news pages print, by their offset in
// seconds. Names that stand for several zones (IST: India, Ireland,
// Israel) are left out, so a line naming one is reported, not misread.
var textZones = func() map[string]int {
	hours := map[string]float64{
		"utc": 0, "gmt": 0, "z": 0, "wet": 0, "west": 1, "bst": 1, "cet": 1, "cest": 2, "met": 1, "mest": 2,
		"eet": 2, "eest": 3, "msk": 3, "wat": 1, "cat": 2, "sast": 2, "eat": 3, "pkt": 5, "npt": 5.75,
		"ict": 7, "wib": 7, "hkt": 8, "sgt": 8, "awst": 8, "pht": 8, "jst": 9, "kst": 9, "acst": 9.5, "acdt": 10.5,
		"aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13, "hst": -10, "akst": -9, "akdt": -8, "pst": -8, "pdt": -7,
		"mst": -7, "mdt": -6, "cst": -6, "cdt": -5, "est": -5, "edt": -4, "ast": -4, "adt": -3, "nst": -3.5, "ndt": -2.5,
		"brt": -3, "art": -3,
	}
	m := make(map[string]int, len(hours))
	for k, h := range hours {
		m[k] = int(h * 3600)
	}
	return m
}()

// textUSZones are US zones named without their season, by their standard
// offset in hours.
var textUSZones = map[string]int{"et": -5, "ct": -6, "mt": -7, "pt": -8}
