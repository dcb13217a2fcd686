package subscribers

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ImportResult counts the data rows of an import: Added + Updated +
// Skipped is every row that was not blank. Skipped rows are those already
// up to date and those in Errors.
type ImportResult struct {
	Added, Updated, Skipped int
	Errors                  []RowError
}

// RowError is a problem with one line of a CSV file.
type RowError struct {
	Line int
	Err  error
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e RowError) Unwrap() error { return e.Err }

// csvColumns are the columns Import knows and Export writes, in order.
var csvColumns = []string{"email", "name", "digests", "status"}

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
	nameSet    bool
	digestsSet bool
	statusSet  bool
}

// Import adds and updates subscribers from CSV. The first line names the
// columns, in any order and case: email (required), name, digests (names
// separated by ";" or "|", empty meaning none; an absent column gives new
// rows every digest) and status. A bad row is reported in Errors with its
// line and skipped; the others are stored in batches, so an import that
// fails part-way has stored the batches before. An address already on the
// list is updated, never duplicated, and its status changes only where the
// status column says so: a person who left is never re-confirmed by
// accident. An address erased on request is refused. New rows without a
// status are pending, or confirmed when the operator says (confirmed) that
// consent was given elsewhere.
//
// A header the importer cannot use is returned as a RowError before any
// row is stored.
func (s *Store) Import(ctx context.Context, r io.Reader, confirmed bool, m Meta) (ImportResult, error) {
	var res ImportResult
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cols, err := readHeader(cr)
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	var batch []importRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && pe.Err != nil {
			// The reader has consumed the broken record and goes on with
			// the next line.
			res.Skipped++
			res.Errors = append(res.Errors, RowError{Line: pe.StartLine,
				Err: fmt.Errorf("%w: a field with quotes must be quoted as a whole, with each quote inside doubled (\"\")", pe.Err)})
			continue
		}
		if err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		row, err := s.parseRow(cols, rec, line)
		if err != nil {
			res.Skipped++
			res.Errors = append(res.Errors, RowError{Line: line, Err: err})
			continue
		}
		if batch = append(batch, row); len(batch) == importBatch {
			if err := s.importRows(ctx, batch, confirmed, m, &res); err != nil {
				return res, fmt.Errorf("import: line %d: %w", batch[0].line, err)
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := s.importRows(ctx, batch, confirmed, m, &res); err != nil {
			return res, fmt.Errorf("import: line %d: %w", batch[0].line, err)
		}
	}
	return res, nil
}

// readHeader reads the first non-blank record and maps each known column
// to its index, -1 when absent.
func readHeader(cr *csv.Reader) (map[string]int, error) {
	var rec []string
	for {
		var err error
		rec, err = cr.Read()
		if err == io.EOF {
			return nil, errors.New("the file is empty: its first line must name the columns, like email,name,digests")
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, RowError{Line: pe.StartLine, Err: fmt.Errorf("header: %w", pe.Err)}
		}
		if err != nil {
			return nil, err
		}
		if !blank(rec) {
			break
		}
	}
	line, _ := cr.FieldPos(0)
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
		return strings.TrimSpace(rec[i]), true
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
	return row, nil
}

// Export writes every subscriber as CSV, by id, with the header
// email,name,digests,status: the format Import reads.
func (s *Store) Export(ctx context.Context, w io.Writer) error {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT s.email, s.name, s.status,
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
	rec := make([]string, 4)
	for rows.Next() {
		var digests *string
		if err := rows.Scan(&rec[0], &rec[1], &rec[3], &digests); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		rec[2] = ""
		if digests != nil {
			ds := strings.Split(*digests, digestSep)
			slices.Sort(ds)
			rec[2] = strings.Join(ds, ";")
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
