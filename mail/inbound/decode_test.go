package inbound

import (
	"strings"
	"testing"
)

func TestDecodeQP_KeepsBrokenEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"caf=C3=A9":            "café",
		"soft=\nbreak":         "softbreak",
		"soft=  \r\nbreak":     "softbreak",
		"bad =ZZ and =G1 kept": "bad =ZZ and =G1 kept",
		"trailing =":           "trailing ",
		"lower =e9 hex":        "lower \xe9 hex",
		"=3D":                  "=",
		"short =4":             "short =4",
	} {
		if got := string(decodeQP([]byte(in))); got != want {
			t.Errorf("decodeQP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeBase64_SkipsJunk(t *testing.T) {
	for in, want := range map[string]string{
		"aGVsbG8gd29ybGQ=":         "hello world",
		"aGVsbG8g\r\nd29y bGQ":     "hello world",
		"aGVs*bG8g~d29y!!bGQ":      "hello world",
		"aGVsbG8gd29ybGQ=trailing": "hello world",
		"aGVsbG8gd29ybGQx":         "hello world1", // no padding
		"aGVsbG8gd29ybGQxM":        "hello world1", // a lone sextet dropped
		"":                         "",
	} {
		if got := string(decodeBase64([]byte(in))); got != want {
			t.Errorf("decodeBase64(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestToUTF8(t *testing.T) {
	for _, c := range []struct{ in, charset, want string }{
		{"Gr\xfc\xdfe", "iso-8859-1", "Grüße"},
		{"doesn\x92t", "Windows-1252", "doesn’t"},
		{"plain", "", "plain"},
		{"Gr\xfc\xdfe", "x-unknown", "Grüße"},    // unknown and not UTF-8: Latin-1
		{"Grüße", "x-unknown", "Grüße"},          // unknown but UTF-8: kept
		{"bad \xff utf8", "utf-8", "bad ÿ utf8"}, // declared UTF-8, is not: Latin-1
	} {
		if got := toUTF8([]byte(c.in), c.charset); got != c.want {
			t.Errorf("toUTF8(%q, %q) = %q, want %q", c.in, c.charset, got, c.want)
		}
	}
}

func TestDecodeHeader(t *testing.T) {
	for in, want := range map[string]string{
		"=?iso-8859-1?Q?Abwesenheitsnotiz:_Tim_M=FCller?=":  "Abwesenheitsnotiz: Tim Müller",
		"=?UTF-8?B?UsOpcG9uc2UgYXV0b21hdGlxdWU=?= : absent": "Réponse automatique : absent",
		"=?windows-1252?Q?Automatische_Antwort=3A?= heute":  "Automatische Antwort: heute",
		"=?x-klingon?Q?Out_of_Office?=":                     "Out of Office",
		"=?utf-8?q?unterminated":                            "=?utf-8?q?unterminated",
	} {
		if got := decodeHeader(in); got != want {
			t.Errorf("decodeHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	in := `<html><head><style>p { color: red }</STYLE></head><body><p>Your message wasn't delivered to <b>kim@example.com</b> because</p><script>x()</script><p>Fish &amp; chips</p></body></html>`
	got := htmlToText(in)
	for _, want := range []string{"Your message wasn't delivered to  kim@example.com  because\n", "\nFish & chips\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("htmlToText = %q, want it to hold %q", got, want)
		}
	}
	if strings.Contains(got, "color") || strings.Contains(got, "x()") {
		t.Errorf("htmlToText = %q: style or script left in", got)
	}
}
