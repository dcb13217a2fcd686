package feed

import (
	"context"
	"fmt"
)

// indexQuery reads only columns the index articles_file_scan holds, so that
// SQLite answers it from that index without reading the rows' overflow
// pages of HTML and text.
const indexQuery = `SELECT ` + storedColumns + ` FROM articles WHERE source = 'content'`

// index loads what a scan compares files against, in one query: the
// articles of content files, by file.
func (s *Store) index(ctx context.Context) (map[fileKey]stored, error) {
	rows, err := s.db.Read.QueryContext(ctx, indexQuery)
	if err != nil {
		return nil, fmt.Errorf("load article index: %w", err)
	}
	defer rows.Close()
	byFile := map[fileKey]stored{}
	for rows.Next() {
		st, err := scanStored(rows)
		if err != nil {
			return nil, fmt.Errorf("load article index: %w", err)
		}
		// A file that changed its id has an old, removed row too; the live
		// row speaks for the file.
		if old, ok := byFile[st.file]; !ok || old.removed {
			byFile[st.file] = st
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load article index: %w", err)
	}
	return byFile, nil
}
