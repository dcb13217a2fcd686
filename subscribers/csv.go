package subscribers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ImportResult counts the data rows of an import: Added + Updated +
// Skipped + Kept is every row that was not blank. Skipped rows are those
// already up to date and those in Errors; Kept rows are addresses whose
// no stayed a no, counted by reason in KeptBy.
type ImportResult struct {
	// Mapping is what the columns fed: the one given, or the one
	// GuessMapping made of the header (Source names the export it
	// recognised; Mapping.Left the columns left out).
	Mapping                       Mapping
	Added, Updated, Skipped, Kept int
	AddedPending                  int            // of Added: new rows that wait for a confirmation
	KeptBy                        map[string]int // "unsubscribed", "bounced", "complained", "forgotten"
	Errors                        []RowError
}

// ImportOptions say what the operator vouches for.
type ImportOptions struct {
	// Confirmed: new rows without a status column are confirmed (consent
	// was given elsewhere), not pending.
	Confirmed bool
	// Resubscribe, when set, names where the renewed consent of people
	// who had left came from ("signed paper form, fair 2026-11"): only then
	// may a row's status confirm an unsubscribed, bounced or complained
	// address, and the event records it. Erased addresses stay erased.
	Resubscribe string
	// Mapping, when set, says what each column feeds (a form's choice);
	// nil guesses it from the header (GuessMapping). Its Comma, when not
	// zero, is the delimiter; otherwise the header line decides it.
	Mapping *Mapping
	// Progress, when set, is told after each stored batch how many lines
	// and bytes of the input have been read.
	Progress func(lines int, bytes int64)
}

// RowError is a problem with one line of a CSV file.
type RowError struct {
	Line int
	Err  error
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e RowError) Unwrap() error { return e.Err }

// csvColumns are the columns Import knows and Export writes, in order.
var csvColumns = []string{"email", "name", "digests", "status", "timezone"}

// importBatch is how many rows one transaction stores: large enough that
// commits cost little, small enough that a long import never holds the
// writer for long.
const importBatch = 1000

// importRow is one valid data row. A column that is absent, or a cell past
// the end of a short row, leaves its *Set false: the stored value stays.
type importRow struct {
	line       int
	addr, name string
	digests    []string
	status     Status
	zone       string
	nameSet    bool
	digestsSet bool
	statusSet  bool
	zoneSet    bool
}

// Import adds and updates subscribers from CSV. The first line names the
// columns, in any order and case: email (required), name, digests (names
// separated by ";" or "|", empty meaning none; an absent column gives new
// rows every digest), status and timezone (an IANA name such as
// Europe/Berlin; empty keeps the stored zone, or the site's for a new
// row). A bad row, a time zone that does not exist among them, is reported in Errors with its
// line and skipped, and reading goes on with the next line; the others
// are stored in batches, so an import that fails part-way has stored the
// batches before. An address already on the list is updated, never
// duplicated. A no stays a no: an address that unsubscribed, bounced,
// complained or was erased keeps that status whatever the file says
// (Kept, with the reason), unless o.Resubscribe names where the consent
// came from; an erased address is never brought back. New rows without a
// status are pending, or confirmed when the operator says (o.Confirmed)
// that consent was given elsewhere.
//
// A header the importer cannot use is returned as a RowError before any
// row is stored.
func (s *Store) Import(ctx context.Context, r io.Reader, o ImportOptions, m Meta) (ImportResult, error) {
	var res ImportResult
	rr := newRecordReader(r)
	mp, err := readMapping(rr, o.Mapping)
	res.Mapping = mp
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	cols := mp.columns()
	var batch []importRow
	flush := func(line int) error {
		if len(batch) > 0 {
			if err := s.importRows(ctx, batch, o, m, &res); err != nil {
				return fmt.Errorf("import: storing lines %d to %d: %w", batch[0].line, batch[len(batch)-1].line, err)
			}
			batch = batch[:0]
		}
		if o.Progress != nil {
			o.Progress(line, rr.read)
		}
		return nil
	}
	line := 1
	for {
		rec, at, err := rr.Read()
		if err == io.EOF {
			break
		}
		line = max(line, at)
		var re RowError
		if errors.As(err, &re) {
			res.Skipped++
			res.Errors = append(res.Errors, re)
			continue
		}
		if err != nil {
			return res, fmt.Errorf("import: reading line %d: %w", at, err)
		}
		if blank(rec) {
			continue
		}
		row, err := s.parseRow(cols, rec, at)
		if err != nil {
			res.Skipped++
			res.Errors = append(res.Errors, RowError{Line: at, Err: err})
			continue
		}
		if batch = append(batch, row); len(batch) == importBatch {
			if err := flush(at); err != nil {
				return res, err
			}
		}
	}
	if err := flush(line); err != nil {
		return res, err
	}
	return res, nil
}

// ImportPreview is what an import would read, before anything is stored.
type ImportPreview struct {
	Mapping Mapping
	Rows    []PreviewRow
}

// PreviewRow is one data row as the mapping reads it: its cells, and
// what would be stored, or why it would be skipped.
type PreviewRow struct {
	Line                int
	Cells               []string
	Email, Name, Status string
	TimeZone            string
	Digests             []string
	DigestsSet, Problem bool
	Reason              string
}

// PreviewImport reads the header and the first n data rows of a CSV file
// as Import would, with o.Mapping or the guessed one, and stores nothing.
// The error is a header that cannot be used (with the guessed mapping in
// the preview, for a form to correct).
func (s *Store) PreviewImport(r io.Reader, o ImportOptions, n int) (ImportPreview, error) {
	rr := newRecordReader(r)
	mp, err := readMapping(rr, o.Mapping)
	p := ImportPreview{Mapping: mp}
	if err != nil {
		return p, fmt.Errorf("import: %w", err)
	}
	cols := mp.columns()
	for len(p.Rows) < n {
		rec, at, err := rr.Read()
		if err == io.EOF {
			break
		}
		var re RowError
		if errors.As(err, &re) {
			p.Rows = append(p.Rows, PreviewRow{Line: at, Problem: true, Reason: re.Err.Error()})
			continue
		}
		if err != nil {
			return p, fmt.Errorf("import: reading line %d: %w", at, err)
		}
		if blank(rec) {
			continue
		}
		pr := PreviewRow{Line: at, Cells: rec}
		row, err := s.parseRow(cols, rec, at)
		if err != nil {
			pr.Problem, pr.Reason = true, err.Error()
		} else {
			pr.Email, pr.Name, pr.Status, pr.TimeZone = row.addr, row.name, string(row.status), row.zone
			pr.Digests, pr.DigestsSet = row.digests, row.digestsSet
		}
		p.Rows = append(p.Rows, pr)
	}
	return p, nil
}

// readMapping reads the first non-blank record, the header, and maps it:
// by the given mapping (checked against it), else by GuessMapping.
func readMapping(rr *recordReader, given *Mapping) (Mapping, error) {
	if given != nil && given.Comma != 0 {
		rr.comma = given.Comma
	}
	var rec []string
	var line int
	for {
		var err error
		rec, line, err = rr.Read()
		if err == io.EOF {
			return Mapping{}, errors.New("the file is empty: its first line must name the columns, like email,name,digests")
		}
		var re RowError
		if errors.As(err, &re) {
			return Mapping{}, RowError{Line: re.Line, Err: fmt.Errorf("header: %w", re.Err)}
		}
		if err != nil {
			return Mapping{}, err
		}
		if !blank(rec) {
			break
		}
	}
	if given == nil {
		m, err := GuessMapping(rec, rr.comma)
		var re RowError
		if errors.As(err, &re) {
			re.Line = line
			return m, re
		}
		return m, err
	}
	m := *given
	m.Comma, m.Header = rr.comma, rec
	if len(m.Fields) != len(rec) {
		return m, RowError{Line: line, Err: fmt.Errorf("the mapping names %d columns, the header has %d", len(m.Fields), len(rec))}
	}
	if err := m.Check(); err != nil {
		return m, RowError{Line: line, Err: err}
	}
	return m, nil
}

// importColumns is a mapping as parseRow reads it: the column of each
// field, and the header's width.
type importColumns struct {
	at    map[Field][]int
	width int
}

func (m Mapping) columns() importColumns {
	c := importColumns{at: map[Field][]int{}, width: len(m.Header)}
	if c.width > 0 && strings.TrimSpace(m.Header[c.width-1]) == "" {
		c.width-- // a trailing comma
	}
	for i, f := range m.Fields {
		if f != FieldNone {
			c.at[f] = append(c.at[f], i)
		}
	}
	return c
}

// blank reports whether a record holds only spaces.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// parseRow checks one record; what it cannot check without the database
// (existing and erased addresses) importRows does.
func (s *Store) parseRow(cols importColumns, rec []string, line int) (importRow, error) {
	for i := cols.width; i < len(rec); i++ {
		if strings.TrimSpace(rec[i]) != "" {
			return importRow{}, fmt.Errorf("has %d fields, the header names %d: quote a field that holds a comma", len(rec), cols.width)
		}
	}
	cell := func(f Field) (string, bool) {
		at := cols.at[f]
		if len(at) == 0 || at[0] >= len(rec) {
			return "", false
		}
		return rearm(strings.TrimSpace(rec[at[0]])), true
	}
	row := importRow{line: line}
	var err error
	email, _ := cell(FieldEmail)
	if row.addr, err = NormalizeAddress(email); err != nil {
		return row, err
	}
	name, ok := cell(FieldName)
	first, okFirst := cell(FieldFirstName)
	last, okLast := cell(FieldLastName)
	if okFirst || okLast {
		name, ok = strings.TrimSpace(first+" "+last), true
	}
	if ok && name != "" {
		if row.name, err = validateName(name); err != nil {
			return row, err
		}
		row.nameSet = true
	}
	if ds, ok := cell(FieldDigests); ok {
		names := strings.FieldsFunc(ds, func(r rune) bool { return r == ';' || r == '|' })
		if row.digests, err = s.checkDigests(names, false); err != nil {
			return row, err
		}
		row.digestsSet = true
	}
	if row.status, row.statusSet, err = rowStatus(cell); err != nil {
		return row, err
	}
	if z, ok := cell(FieldTimeZone); ok && z != "" {
		if row.zone, err = ParseTimeZone(z); err != nil {
			return row, err
		}
		row.zoneSet = true
	}
	return row, nil
}

// rowStatus reads what a row's status columns say. Where they disagree,
// a no wins over a yes, and of the noes the strongest (complained, then
// bounced, then unsubscribed); of the yeses pending wins over confirmed.
func rowStatus(cell func(Field) (string, bool)) (Status, bool, error) {
	var said []Status
	if v, ok := cell(FieldStatus); ok && v != "" {
		st, err := parseStatusWord(v)
		if err != nil {
			return "", false, err
		}
		said = append(said, st)
	}
	for _, yn := range []struct {
		f       Field
		yes, no Status
	}{{FieldSubscribed, StatusConfirmed, StatusUnsubscribed}, {FieldDisabled, StatusUnsubscribed, StatusConfirmed}} {
		if v, ok := cell(yn.f); ok && v != "" {
			b, err := parseYesNo(yn.f, v)
			if err != nil {
				return "", false, err
			}
			said = append(said, map[bool]Status{true: yn.yes, false: yn.no}[b])
		}
	}
	if v, ok := cell(FieldUnsubscribedAt); ok && v != "" {
		said = append(said, StatusUnsubscribed)
	}
	if v, ok := cell(FieldCleanedAt); ok && v != "" {
		said = append(said, StatusBounced)
	}
	for _, st := range []Status{StatusComplained, StatusBounced, StatusUnsubscribed, StatusPending, StatusConfirmed} {
		if slices.Contains(said, st) {
			return st, true, nil
		}
	}
	return "", false, nil
}

// formulaStart are the first characters that make a spreadsheet read a
// cell as a formula (OWASP's CSV injection list).
const formulaStart = "=+-@\t\r"

// defuse makes a cell that a spreadsheet would run as a formula read as
// text, by a leading apostrophe; rearm takes it off again on import, so
// an export imports back to the same list.
func defuse(cell string) string {
	if cell != "" && strings.IndexByte(formulaStart, cell[0]) >= 0 {
		return "'" + cell
	}
	return cell
}

func rearm(cell string) string {
	if len(cell) >= 2 && cell[0] == '\'' && strings.IndexByte(formulaStart, cell[1]) >= 0 {
		return cell[1:]
	}
	return cell
}

// Export writes every subscriber as CSV, by id, with the header
// email,name,digests,status,timezone: the format Import reads. A cell that a
// spreadsheet would take for a formula gets a leading apostrophe.
func (s *Store) Export(ctx context.Context, w io.Writer) error {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT s.email, s.name, s.status, s.timezone, `+digestsColumn(s.db.Dialect)+`
		FROM subscribers s ORDER BY s.id`)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	rec := make([]string, len(csvColumns))
	for rows.Next() {
		var digests *string
		if err := rows.Scan(&rec[0], &rec[1], &rec[3], &rec[4], &digests); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		rec[2] = ""
		if digests != nil {
			ds := strings.Split(*digests, digestSep)
			slices.Sort(ds)
			rec[2] = strings.Join(ds, ";")
		}
		for i := range rec {
			rec[i] = defuse(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
