package subscribers

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestImport_PeerExports imports each tool's export, as its documentation
// and real files show it, and checks what each row became.
func TestImport_PeerExports(t *testing.T) {
	type want struct {
		name   string
		status Status
		zone   string
	}
	tests := []struct {
		file, source string
		confirmed    bool
		left         []string // some of the columns left out
		rows         map[string]want
	}{
		{"mailchimp_subscribed.csv", "mailchimp", true, []string{"MEMBER_RATING", "LEID", "TAGS", "Address"}, map[string]want{
			"ana@example.org":   {"Ana Lima", StatusConfirmed, "Europe/Lisbon"},
			"tomas@example.org": {"Tomás Ruiz", StatusConfirmed, ""},
		}},
		{"mailchimp_unsubscribed.csv", "mailchimp", true, []string{"UNSUB_REASON"}, map[string]want{
			"gone@example.org": {"Gil", StatusUnsubscribed, ""},
		}},
		{"mailchimp_cleaned.csv", "mailchimp", true, nil, map[string]want{
			"dead@example.org": {"", StatusBounced, ""},
		}},
		{"substack.csv", "substack", false, []string{"active_subscription", "plan"}, map[string]want{
			"reader@example.org": {"", StatusConfirmed, ""},
			"paid@example.org":   {"", StatusConfirmed, ""},
			"quiet@example.org":  {"", StatusUnsubscribed, ""},
		}},
		{"buttondown.csv", "buttondown", false, []string{"notes", "metadata", "secondary_id"}, map[string]want{
			"one@example.org":   {"", StatusConfirmed, ""},
			"two@example.org":   {"", StatusPending, ""},
			"three@example.org": {"", StatusUnsubscribed, ""},
			"four@example.org":  {"", StatusBounced, ""},
		}},
		{"buttondown_2024.csv", "buttondown", false, nil, map[string]want{
			"new@example.org": {"", StatusConfirmed, ""},
			"old@example.org": {"", StatusUnsubscribed, ""},
		}},
		{"listmonk.csv", "listmonk", false, []string{"uuid", "attributes"}, map[string]want{
			"lm@example.org": {"Lia Monk", StatusConfirmed, ""},
			"bl@example.org": {"Blocked One", StatusUnsubscribed, ""},
		}},
		{"ghost.csv", "ghost", false, []string{"note", "labels", "tiers"}, map[string]want{
			"jamie@example.org": {"Jamie", StatusConfirmed, ""},
			"sam@example.org":   {"", StatusUnsubscribed, ""},
		}},
		{"semicolon-bom.csv", "", false, nil, map[string]want{
			"semi@example.org": {"Sem, Icolon", StatusConfirmed, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "import", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			e := newStoreEnv(t)
			res, err := e.store.Import(context.Background(), f, ImportOptions{Confirmed: tt.confirmed}, importMeta)
			if err != nil {
				t.Fatal(err)
			}
			if res.Mapping.Source != tt.source {
				t.Errorf("recognised as %q, want %q (mapping %v)", res.Mapping.Source, tt.source, res.Mapping.Fields)
			}
			if len(res.Errors) > 0 || res.Added != len(tt.rows) {
				t.Fatalf("added %d of %d rows: %v", res.Added, len(tt.rows), res.Errors)
			}
			for _, col := range tt.left {
				if !slices.Contains(res.Mapping.Left(), col) {
					t.Errorf("column %q not among those left out: %v", col, res.Mapping.Left())
				}
			}
			for addr, w := range tt.rows {
				s := e.byEmail(t, addr)
				if s.Name != w.name || s.Status != w.status || s.TimeZone != w.zone {
					t.Errorf("%s: name %q status %s zone %q, want %q %s %q", addr, s.Name, s.Status, s.TimeZone, w.name, w.status, w.zone)
				}
			}
		})
	}
}

func TestGuessMapping(t *testing.T) {
	tests := []struct {
		header, source string
		fields         []Field
		wantErr        string
	}{
		{header: "email,name,digests,status,timezone", source: "tidings",
			fields: []Field{FieldEmail, FieldName, FieldDigests, FieldStatus, FieldTimeZone}},
		{header: "Email,Name,", source: "tidings", fields: []Field{FieldEmail, FieldName, FieldNone}},
		{header: "E-mail Address,First Name,Surname", source: "",
			fields: []Field{FieldEmail, FieldFirstName, FieldLastName}},
		{header: "email,phone", wantErr: `unknown column "phone"`},
		{header: "name,status", wantErr: "no email column"},
		{header: "email,mail", wantErr: `column "mail" appears twice`},
		// Ghost's status is its paid tier, not consent: left out.
		{header: "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,tiers,status",
			source: "ghost", fields: []Field{FieldNone, FieldEmail, FieldName, FieldNone, FieldSubscribed, FieldNone, FieldNone,
				FieldNone, FieldNone, FieldNone, FieldNone, FieldNone}},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			m, err := GuessMapping(strings.Split(tt.header, ","), ',')
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Source != tt.source || !slices.Equal(m.Fields, tt.fields) {
				t.Errorf("source %q fields %v, want %q %v", m.Source, m.Fields, tt.source, tt.fields)
			}
		})
	}
}

func TestMapping_Check(t *testing.T) {
	h := []string{"a", "b", "c"}
	tests := []struct {
		fields []Field
		want   string
	}{
		{[]Field{FieldEmail, FieldNone, FieldNone}, ""},
		{[]Field{FieldNone, FieldName, FieldNone}, "no column feeds email"},
		{[]Field{FieldEmail, FieldEmail, FieldNone}, `columns "a" and "b" both feed email`},
		{[]Field{FieldEmail, FieldName, FieldFirstName}, `columns "b" and "c" both give the name`},
		{[]Field{FieldEmail, "phone", FieldNone}, `"phone" is not a field`},
		{[]Field{FieldEmail, FieldUnsubscribedAt, FieldCleanedAt}, ""},
	}
	for _, tt := range tests {
		err := Mapping{Header: h, Fields: tt.fields}.Check()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%v: %v, want %q", tt.fields, err, tt.want)
		}
	}
}

// TestImport_GivenMapping is what the admin's import form does: the
// operator maps an unknown column by hand, and leaves another out.
func TestImport_GivenMapping(t *testing.T) {
	e := newStoreEnv(t)
	data := "Adresse;Vorname;Telefon\nm@example.org;Mia;+49 30 1\n"
	m := &Mapping{Fields: []Field{FieldEmail, FieldName, FieldNone}}
	res, err := e.store.Import(context.Background(), strings.NewReader(data), ImportOptions{Mapping: m, Confirmed: true}, importMeta)
	if err != nil || res.Added != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if s := e.byEmail(t, "m@example.org"); s.Name != "Mia" {
		t.Errorf("name %q", s.Name)
	}
	if res.Mapping.Comma != ';' || !slices.Equal(res.Mapping.Left(), []string{"Telefon"}) {
		t.Errorf("mapping %+v", res.Mapping)
	}
	_, err = e.store.Import(context.Background(), strings.NewReader(data), ImportOptions{Mapping: &Mapping{Fields: []Field{FieldEmail}}}, importMeta)
	if err == nil || !strings.Contains(err.Error(), "the mapping names 1 columns, the header has 3") {
		t.Errorf("a mapping of the wrong width: %v", err)
	}
}

func TestImport_NotCSV(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00docProps/app.xml", "not a CSV file"},
		{"latin-1", "email,name\nb@example.org,Bj\xf6rk\n", ""}, // the header is ASCII: the row is refused, not the file
		{"latin-1 header", "email,n\xe4me\n", "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStoreEnv(t)
			res, err := e.store.Import(context.Background(), strings.NewReader(tt.data), ImportOptions{}, importMeta)
			if tt.want == "" {
				if err != nil || len(res.Errors) != 1 {
					t.Errorf("%+v %v", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if e.count(t, "subscribers") != 0 {
				t.Error("stored rows from a file that is not CSV")
			}
		})
	}
}

func TestPreviewImport(t *testing.T) {
	e := newStoreEnv(t)
	data := "email,name,status\na@example.org,Ann,confirmed\nbad,,\nc@example.org,<b>Cy</b>,enabled\nd@example.org,,\n"
	p, err := e.store.PreviewImport(strings.NewReader(data), ImportOptions{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mapping.Source != "tidings" || len(p.Rows) != 3 {
		t.Fatalf("%+v", p)
	}
	if r := p.Rows[0]; r.Line != 2 || r.Email != "a@example.org" || r.Status != "confirmed" || r.Problem {
		t.Errorf("row 1 %+v", r)
	}
	if r := p.Rows[1]; !r.Problem || !strings.Contains(r.Reason, "email") {
		t.Errorf("row 2 %+v", r)
	}
	if r := p.Rows[2]; r.Name != "<b>Cy</b>" || r.Status != "confirmed" {
		t.Errorf("row 3 %+v: markup in a name is kept as text, escaped where shown", r)
	}
	if e.count(t, "subscribers") != 0 {
		t.Error("a preview stored rows")
	}
}

func TestImport_Progress(t *testing.T) {
	e := newStoreEnv(t)
	var b strings.Builder
	b.WriteString("email\n")
	for i := range 2500 {
		b.WriteString("p" + strconv.Itoa(i) + "@example.org\n")
	}
	var lines []int
	var last int64
	_, err := e.store.Import(context.Background(), strings.NewReader(b.String()), ImportOptions{
		Progress: func(n int, bytes int64) { lines = append(lines, n); last = bytes }}, importMeta)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[2] != 2501 || last != int64(b.Len()) {
		t.Errorf("progress %v, %d of %d bytes", lines, last, b.Len())
	}
}
