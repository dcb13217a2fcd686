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
	cols, err := readHeader(rr)
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	var batch []importRow
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := s.importRows(ctx, batch, o, m, &res); err != nil {
			return fmt.Errorf("import: storing lines %d to %d: %w", batch[0].line, batch[len(batch)-1].line, err)
		}
		batch = batch[:0]
		return nil
	}
	for {
		rec, line, err := rr.Read()
		if err == io.EOF {
			break
		}
		var re RowError
		if errors.As(err, &re) {
			res.Skipped++
			res.Errors = append(res.Errors, re)
			continue
		}
		if err != nil {
			return res, fmt.Errorf("import: reading line %d: %w", line, err)
		}
		if blank(rec) {
			continue
		}
		row, err := s.parseRow(cols, rec, line)
		if err != nil {
			res.Skipped++
			res.Errors = append(res.Errors, RowError{Line: line, Err: err})
			continue
		}
		if batch = append(batch, row); len(batch) == importBatch {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	return res, nil
}

// readHeader reads the first non-blank record and maps each known column
// to its index, -1 when absent.
func readHeader(rr *recordReader) (map[string]int, error) {
	var rec []string
	var line int
	for {
		var err error
		rec, line, err = rr.Read()
		if err == io.EOF {
			return nil, errors.New("the file is empty: its first line must name the columns, like email,name,digests")
		}
		var re RowError
		if errors.As(err, &re) {
			return nil, RowError{Line: re.Line, Err: fmt.Errorf("header: %w", re.Err)}
		}
		if err != nil {
			return nil, err
		}
		if !blank(rec) {
			break
		}
	}
	cols := map[string]int{}
	for _, c := range csvColumns {
		cols[c] = -1
	}
	known := strings.Join(csvColumns, ", ")
	for i, cell := range rec {
		name := strings.ToLower(strings.TrimSpace(cell))
		at, ok := cols[name]
		switch {
		case name == "" && i == len(rec)-1:
			continue // a trailing comma, as spreadsheets write
		case !ok:
			return nil, RowError{Line: line, Err: fmt.Errorf("unknown column %q: the columns are %s", clip(cell, 40), known)}
		case at >= 0:
			return nil, RowError{Line: line, Err: fmt.Errorf("column %q appears twice", name)}
		}
		cols[name] = i
	}
	if cols["email"] < 0 {
		return nil, RowError{Line: line, Err: fmt.Errorf("no email column: the first line must name the columns (%s), email among them", known)}
	}
	return cols, nil
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
func (s *Store) parseRow(cols map[string]int, rec []string, line int) (importRow, error) {
	width := 0
	for _, i := range cols {
		width = max(width, i+1)
	}
	for i := width; i < len(rec); i++ {
		if strings.TrimSpace(rec[i]) != "" {
			return importRow{}, fmt.Errorf("has %d fields, the header names %d: quote a field that holds a comma", len(rec), width)
		}
	}
	cell := func(col string) (string, bool) {
		i := cols[col]
		if i < 0 || i >= len(rec) {
			return "", false
		}
		return rearm(strings.TrimSpace(rec[i])), true
	}
	row := importRow{line: line}
	var err error
	email, _ := cell("email")
	if row.addr, err = NormalizeAddress(email); err != nil {
		return row, err
	}
	if name, ok := cell("name"); ok && name != "" {
		if row.name, err = validateName(name); err != nil {
			return row, err
		}
		row.nameSet = true
	}
	if ds, ok := cell("digests"); ok {
		names := strings.FieldsFunc(ds, func(r rune) bool { return r == ';' || r == '|' })
		if row.digests, err = s.checkDigests(names, false); err != nil {
			return row, err
		}
		row.digestsSet = true
	}
	if st, ok := cell("status"); ok && st != "" {
		if row.status, err = ParseStatus(st); err != nil {
			return row, err
		}
		row.statusSet = true
	}
	if z, ok := cell("timezone"); ok && z != "" {
		if row.zone, err = ParseTimeZone(z); err != nil {
			return row, err
		}
		row.zoneSet = true
	}
	return row, nil
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
	rows, err := s.db.Read.QueryContext(ctx, `SELECT s.email, s.name, s.status, s.timezone,
		(SELECT group_concat(d.digest, char(31)) FROM subscriber_digests d WHERE d.subscriber_id = s.id)
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
