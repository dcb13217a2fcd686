package admin

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzSubscribersQuery sends the list's query and the import mapping
// form anything: the answer is a page (200, or 4xx saying what was
// wrong), never a server error, and markup in a term never comes back as markup.
func FuzzSubscribersQuery(f *testing.F) {
	ta, br, st := subsAdmin(f)
	add(f, st, "a@example.org", "A", "daily")
	u, _ := url.Parse(br.base + "/admin/")
	cookies := br.c.Jar.Cookies(u)
	csrf := br.get("/admin/subscribers").csrf(f)
	for _, s := range [][5]string{
		{"", "", "", "", ""},
		{"a@", "confirmed", "daily", "0", ""},
		{"%_\\", "active", "nosuch", "-1", "x"},
		{"<tidings-probe>", "", "", "9223372036854775807", "1"},
		{"\x00\xff", "PENDING ", "Daily", "", "99999999999999999999"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	f.Fuzz(func(t *testing.T, q, status, digest, after, before string) {
		v := url.Values{"q": {q}, "status": {status}, "digest": {digest}, "after": {after}, "before": {before}}
		r := httptest.NewRequest("GET", "/admin/subscribers?"+v.Encode(), nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		ta.ServeHTTP(w, r)
		if w.Code >= 500 || (w.Code != 200 && w.Code != 400) {
			t.Fatalf("%v: %d %s", v, w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), "<tidings-probe") {
			t.Fatalf("%q comes back unescaped", q)
		}
		// The same strings as a mapping form for an import that is not there.
		form := url.Values{"csrf": {csrf}, "action": {"import"}, "columns": {after}, "col0": {q}, "col1": {status}}
		r = httptest.NewRequest("POST", "/admin/subscribers/import/"+url.PathEscape(digest)+"x/", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w = httptest.NewRecorder()
		ta.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("import form %v: %d %s", form, w.Code, w.Body)
		}
	})
}

func TestFormFields(t *testing.T) {
	for _, c := range []struct {
		form url.Values
		ok   bool
	}{
		{url.Values{"columns": {"2"}, "col0": {"email"}, "col1": {""}}, true},
		{url.Values{"columns": {"2"}, "col0": {"email"}, "col1": {"password"}}, false},
		{url.Values{"columns": {"0"}}, false},
		{url.Values{"columns": {"100000"}}, false},
		{url.Values{}, false},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		fields, err := formFields(r)
		if (err == nil) != c.ok {
			t.Errorf("%v: %v %v", c.form, fields, err)
		}
	}
}
