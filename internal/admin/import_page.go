package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/subscribers"
)

// An import goes in steps, each a page: the upload form; the preview of
// the file as it will be read, with the column mapping; the progress of
// the import running in the background; its summary. The uploaded file
// waits in a temporary file from the upload until the import ends (or
// the operator discards it, or it is left unstarted for importIdle).

// DefaultImportMax is the largest CSV file the admin imports: a list of
// about a million addresses. A larger file is refused before anything is
// read from it; `tidings subscribers import FILE` on the server takes any
// size.
const DefaultImportMax = 100 << 20

// previewRows is how many rows the preview shows.
const previewRows = 10

// importIdle is how long an upload waits to be started, and a summary
// stays to be read.
const importIdle = 24 * time.Hour

// shownRowErrors bounds the row errors a summary lists; it counts them all.
const shownRowErrors = 100

// imports are the admin's imports: the uploads waiting, the one running,
// the summaries.
type imports struct {
	a   *Admin
	dir string // where uploads wait ("": the system's temp dir)
	max int64  // the largest file taken

	ctx    context.Context // ends at Close, stopping a running import
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	jobs map[string]*importJob
}

// importJob is one upload and its import.
type importJob struct {
	ID      string
	Name    string // the uploaded file's name, for the pages
	Size    int64
	Account string
	Created time.Time
	path    string

	// What the operator chose on the preview.
	Fields      []subscribers.Field // nil: the guessed mapping
	comma       rune
	Confirmed   bool
	Resubscribe string

	// The import, under imports.mu once started.
	State         string                   // "preview", "running", "done"
	Lines         int                      // the last line stored
	Bytes         int64                    // read so far
	Result        subscribers.ImportResult // its Errors cut to the first shownRowErrors
	RowErrors     int                      // how many rows had an error
	Err           error
	Started, Done time.Time
}

func newImports(a *Admin) *imports {
	ctx, cancel := context.WithCancel(context.Background())
	return &imports{a: a, max: DefaultImportMax, ctx: ctx, cancel: cancel, jobs: map[string]*importJob{}}
}

// Close stops a running import (what it stored stays, by whole batches)
// and removes every upload still waiting.
func (a *Admin) Close() error {
	im := a.imports
	im.cancel()
	im.wg.Wait()
	im.mu.Lock()
	defer im.mu.Unlock()
	for id, j := range im.jobs {
		os.Remove(j.path)
		delete(im.jobs, id)
	}
	return nil
}

// get returns the job the path's {job} names, as a copy to render.
func (im *imports) get(r *http.Request) (*importJob, importJob, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	j, ok := im.jobs[r.PathValue("job")]
	if !ok {
		return nil, importJob{}, web.Errorf(web.NotFound,
			"This import is not known (any more): uploads are kept for a day, and not across a restart. Upload the file again.")
	}
	return j, *j, nil
}

// sweep forgets the jobs older than importIdle that are not running.
func (im *imports) sweep(now time.Time) {
	im.mu.Lock()
	defer im.mu.Unlock()
	for id, j := range im.jobs {
		if j.State != "running" && now.Sub(j.Created) > importIdle {
			os.Remove(j.path)
			delete(im.jobs, id)
		}
	}
}

// importForm is the upload form.
func (a *Admin) importForm(w http.ResponseWriter, r *http.Request) error {
	return a.render(w, r, "import.html", "Import subscribers", importFormData{Max: a.imports.max >> 20, Sources: subscribers.Sources})
}

// importFormData is the data of import.html.
type importFormData struct {
	Max     int64 // MB
	Sources []string
	Error   string
}

// importUpload takes the file into a temporary one and shows its preview.
func (a *Admin) importUpload(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.subscriberStore(); err != nil {
		return err
	}
	im := a.imports
	im.sweep(a.o.Now())
	refuse := func(status int, msg string) error {
		return a.renderStatus(w, r, status, "import.html", "Import subscribers",
			importFormData{Max: im.max >> 20, Sources: subscribers.Sources, Error: msg})
	}
	f, h, err := r.FormFile("file")
	if err != nil {
		return refuse(http.StatusBadRequest, "No file was sent: choose a CSV file to import.")
	}
	defer f.Close()
	setAudit(r, "subscribers.upload", fmt.Sprintf("%s, %d bytes", h.Filename, h.Size))
	switch {
	case h.Size > im.max:
		return refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf(
			"%s is %s; the admin imports files up to %d MB. Nothing was imported. Split the file, or import it on the server with `tidings subscribers import FILE`.",
			h.Filename, megabytes(h.Size), im.max>>20))
	case h.Size == 0:
		return refuse(http.StatusUnprocessableEntity, h.Filename+" is empty: its first line must name the columns, like email,name,digests.")
	}
	tmp, err := os.CreateTemp(im.dir, "tidings-import-*.csv")
	if err != nil {
		return fmt.Errorf("keep the upload: %w", err)
	}
	n, err := io.Copy(tmp, f)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("keep the upload: %w", err)
	}
	id := make([]byte, 12)
	rand.Read(id)
	j := &importJob{ID: hex.EncodeToString(id), Name: h.Filename, Size: n, Account: sessionOf(r).Account,
		Created: a.o.Now(), path: tmp.Name(), State: "preview"}
	im.mu.Lock()
	im.jobs[j.ID] = j
	im.mu.Unlock()
	return a.redirect(w, r, "/admin/subscribers/import/"+j.ID+"/", "")
}

// megabytes writes a size for a person.
func megabytes(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KB", (n+1023)>>10)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// importPage is the preview before the import, its progress while it
// runs, and its summary after.
func (a *Admin) importPage(w http.ResponseWriter, r *http.Request) error {
	_, j, err := a.imports.get(r)
	if err != nil {
		return err
	}
	switch j.State {
	case "running":
		// A Refresh header rather than <meta http-equiv="refresh">: the
		// page reloads without script, and the page itself carries no
		// timed refresh for assistive technology to trip on.
		w.Header().Set("Refresh", "2")
		return a.render(w, r, "import_progress.html", "Importing "+j.Name, progressOf(j))
	case "done":
		return a.render(w, r, "import_summary.html", "Import of "+j.Name, summaryOf(j))
	}
	return a.preview(w, r, http.StatusOK, j, "")
}

// previewData is the data of import_preview.html.
type previewData struct {
	Job     importJob
	Source  string
	Comma   string
	Columns []previewColumn
	Rows    []subscribers.PreviewRow
	Fields  []subscribers.Field
	Problem string // the header cannot be used as mapped
	Error   string // the form was refused
	CanMap  bool   // there is a header to map
}

// previewColumn is one column of the file and what it feeds.
type previewColumn struct {
	Index  int
	Header string
	Sample string
	Field  subscribers.Field
}

// preview reads the head of the upload as the import will.
func (a *Admin) preview(w http.ResponseWriter, r *http.Request, status int, j importJob, formError string) error {
	st, err := a.subscriberStore()
	if err != nil {
		return err
	}
	f, err := os.Open(j.path)
	if err != nil {
		return fmt.Errorf("read the upload: %w", err)
	}
	defer f.Close()
	var o subscribers.ImportOptions
	if j.Fields != nil {
		o.Mapping = &subscribers.Mapping{Comma: j.comma, Fields: j.Fields}
	}
	p, perr := st.PreviewImport(f, o, previewRows)
	d := previewData{Job: j, Source: p.Mapping.Source, Rows: p.Rows, Fields: subscribers.Fields, Error: formError,
		CanMap: len(p.Mapping.Header) > 0}
	if perr != nil {
		d.Problem = strings.TrimPrefix(perr.Error(), "import: ")
	}
	d.Comma = map[rune]string{',': "comma", ';': "semicolon", '\t': "tab", '|': "vertical bar"}[p.Mapping.Comma]
	for i, h := range p.Mapping.Header {
		c := previewColumn{Index: i, Header: h}
		if i < len(p.Mapping.Fields) {
			c.Field = p.Mapping.Fields[i]
		}
		for _, row := range p.Rows {
			if i < len(row.Cells) && strings.TrimSpace(row.Cells[i]) != "" {
				c.Sample = row.Cells[i]
				break
			}
		}
		d.Columns = append(d.Columns, c)
	}
	// The form posts the comma it was shown with.
	a.imports.mu.Lock()
	if live, ok := a.imports.jobs[j.ID]; ok && live.State == "preview" {
		live.comma = p.Mapping.Comma
	}
	a.imports.mu.Unlock()
	return a.renderStatus(w, r, status, "import_preview.html", "Import "+j.Name, d)
}

// importAct is the preview's form: preview again with another mapping,
// start the import, or discard the upload.
func (a *Admin) importAct(w http.ResponseWriter, r *http.Request) error {
	im := a.imports
	live, j, err := im.get(r)
	if err != nil {
		return err
	}
	action := r.PostFormValue("action")
	setAudit(r, "subscribers.import."+action, j.Name)
	if j.State != "preview" {
		return a.redirect(w, r, "/admin/subscribers/import/"+j.ID+"/", "This import has already started.")
	}
	if action == "discard" {
		im.mu.Lock()
		delete(im.jobs, j.ID)
		im.mu.Unlock()
		os.Remove(j.path)
		return a.redirect(w, r, "/admin/subscribers/import", "Discarded "+j.Name+": nothing was imported.")
	}
	fields, err := formFields(r)
	if err != nil {
		return a.preview(w, r, http.StatusUnprocessableEntity, j, err.Error())
	}
	j.Fields = fields
	j.Confirmed = r.PostFormValue("confirmed") != ""
	j.Resubscribe = strings.TrimSpace(r.PostFormValue("resubscribe"))
	im.mu.Lock()
	live.Fields, live.Confirmed, live.Resubscribe = j.Fields, j.Confirmed, j.Resubscribe
	im.mu.Unlock()
	if action != "import" {
		return a.redirect(w, r, "/admin/subscribers/import/"+j.ID+"/", "")
	}
	m := subscribers.Mapping{Comma: j.comma, Fields: fields}
	if err := m.Check(); err != nil {
		return a.preview(w, r, http.StatusUnprocessableEntity, j, "Not started: "+err.Error()+".")
	}
	im.mu.Lock()
	if live.State != "preview" { // started by another request meanwhile
		im.mu.Unlock()
		return a.redirect(w, r, "/admin/subscribers/import/"+j.ID+"/", "This import has already started.")
	}
	for _, other := range im.jobs {
		if other.State == "running" {
			im.mu.Unlock()
			return a.preview(w, r, http.StatusConflict, j, "Not started: another import ("+other.Name+
				") is running. Start this one when it is done.")
		}
	}
	live.State, live.Started = "running", a.o.Now()
	im.mu.Unlock()
	im.wg.Add(1)
	go im.run(live, m, meta(r))
	return a.redirect(w, r, "/admin/subscribers/import/"+j.ID+"/", "")
}

// formFields reads the mapping form: col0, col1, ... each a field or "".
func formFields(r *http.Request) ([]subscribers.Field, error) {
	n, err := strconv.Atoi(r.PostFormValue("columns"))
	if err != nil || n <= 0 || n > 1000 {
		return nil, errors.New("the form is missing its columns: reload the page")
	}
	fields := make([]subscribers.Field, n)
	for i := range n {
		f := subscribers.Field(r.PostFormValue("col" + strconv.Itoa(i)))
		if f != subscribers.FieldNone && !slices.Contains(subscribers.Fields, f) {
			return nil, fmt.Errorf("column %d: %q is not a field", i+1, f)
		}
		fields[i] = f
	}
	return fields, nil
}

// run imports j's file and keeps its summary; the upload goes when done.
func (im *imports) run(j *importJob, m subscribers.Mapping, meta subscribers.Meta) {
	defer im.wg.Done()
	a := im.a
	meta.Route = "import"
	res, err := func() (subscribers.ImportResult, error) {
		f, err := os.Open(j.path)
		if err != nil {
			return subscribers.ImportResult{}, fmt.Errorf("read the upload: %w", err)
		}
		defer f.Close()
		return a.o.Data.Subscribers.Import(im.ctx, f, subscribers.ImportOptions{Mapping: &m, Confirmed: j.Confirmed,
			Resubscribe: j.Resubscribe, Progress: func(lines int, bytes int64) {
				im.mu.Lock()
				j.Lines, j.Bytes = lines, bytes
				im.mu.Unlock()
			}}, meta)
	}()
	os.Remove(j.path)
	// A summary waits a day to be read: it keeps the count of row
	// errors, and only the ones it shows (a million bad rows would be
	// hundreds of megabytes).
	rowErrors := len(res.Errors)
	res.Errors = slices.Clip(res.Errors[:min(rowErrors, shownRowErrors)])
	im.mu.Lock()
	j.Result, j.RowErrors, j.Err, j.State, j.Done = res, rowErrors, err, "done", a.o.Now()
	lines := j.Lines
	im.mu.Unlock()
	detail := fmt.Sprintf("%s: added %d, updated %d, skipped %d (%d errors), kept %d", j.Name, res.Added, res.Updated,
		res.Skipped, rowErrors, res.Kept)
	if err != nil {
		detail += fmt.Sprintf("; stopped after line %d: %v", lines, err)
		a.log.Warn("import stopped", "file", j.Name, "stored_lines", lines, slog.Any("error", err))
	}
	if aerr := a.Store.Audit(context.WithoutCancel(im.ctx), AuditEntry{Account: j.Account, Action: "subscribers.import.done",
		Detail: detail}); aerr != nil {
		a.log.Error("audit log", "action", "subscribers.import.done", slog.Any("error", aerr))
	}
}

// progressData is the data of import_progress.html.
type progressData struct {
	Job     importJob
	Percent int
	Read    string
}

func progressOf(j importJob) progressData {
	d := progressData{Job: j, Read: megabytes(j.Bytes) + " of " + megabytes(j.Size)}
	if j.Size > 0 {
		d.Percent = int(j.Bytes * 100 / j.Size)
	}
	return d
}

// summaryData is the data of import_summary.html.
type summaryData struct {
	Job       importJob
	Res       subscribers.ImportResult
	UpToDate  int // of Skipped: rows that changed nothing
	Errors    []subscribers.RowError
	More      int // row errors not listed
	Kept      []keptCount
	Left      []string
	Stopped   string // why the import ended early, "" when it did not
	Stored    int    // the last line stored when it stopped
	Completed bool
}

type keptCount struct {
	Why string
	N   int
}

func summaryOf(j importJob) summaryData {
	res := j.Result
	d := summaryData{Job: j, Res: res, UpToDate: res.Skipped - j.RowErrors, Errors: res.Errors,
		Left: res.Mapping.Left(), Completed: j.Err == nil, Stored: j.Lines}
	if len(d.Errors) > shownRowErrors {
		d.Errors = d.Errors[:shownRowErrors]
	}
	d.More = j.RowErrors - len(d.Errors)
	for _, why := range []string{"unsubscribed", "bounced", "complained", "forgotten"} {
		if n := res.KeptBy[why]; n > 0 {
			d.Kept = append(d.Kept, keptCount{why, n})
		}
	}
	if j.Err != nil {
		d.Stopped = strings.TrimPrefix(j.Err.Error(), "import: ")
		if errors.Is(j.Err, context.Canceled) {
			d.Stopped = "tidings was stopped while the import ran"
		}
	}
	return d
}
