package feed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// assetDeps loads, by article id, the assets each article named when it
// was last parsed.
func (s *Store) assetDeps(ctx context.Context) (map[string][]assetDep, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT article_id, path, file_size, file_mtime, name FROM article_assets ORDER BY article_id, path`)
	if err != nil {
		return nil, fmt.Errorf("load article assets: %w", err)
	}
	defer rows.Close()
	deps := map[string][]assetDep{}
	for rows.Next() {
		var id string
		var d assetDep
		if err := rows.Scan(&id, &d.rel, &d.size, &d.mtime, &d.name); err != nil {
			return nil, fmt.Errorf("load article assets: %w", err)
		}
		deps[id] = append(deps[id], d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load article assets: %w", err)
	}
	return deps, nil
}

// setAssets records the assets an article named as it was parsed now,
// when they differ from those stored (prev).
func (w *writer) setAssets(ctx context.Context, id string, deps, prev []assetDep) error {
	deps = sortedDeps(deps)
	if slices.Equal(deps, prev) {
		return nil
	}
	if err := w.begin(ctx); err != nil {
		return err
	}
	if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM article_assets WHERE article_id = ?`, id); err != nil {
		return fmt.Errorf("save assets of %s: %w", id, err)
	}
	for _, d := range deps {
		if _, err := w.tx.ExecContext(w.ctx, `INSERT INTO article_assets (article_id, path, file_size, file_mtime, name)
			VALUES (?, ?, ?, ?, ?)`, id, d.rel, d.size, d.mtime, d.name); err != nil {
			return fmt.Errorf("save assets of %s: %w", id, err)
		}
	}
	return nil
}

// sortedDeps sorts deps by path, one per path, as assetDeps loads them.
func sortedDeps(deps []assetDep) []assetDep {
	deps = slices.Clone(deps)
	slices.SortFunc(deps, func(a, b assetDep) int {
		switch {
		case a.rel < b.rel:
			return -1
		case a.rel > b.rel:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(deps, func(a, b assetDep) bool { return a.rel == b.rel })
}

// assetsChanged reports whether any asset an unchanged article file named
// is not as it was: changed, gone, come, or no longer published (the
// output folder was emptied). It only stats; the scan that parses the
// article again reads them through the content folder.
func (in *Ingester) assetsChanged(c candidate, deps []assetDep) bool {
	for _, d := range deps {
		info, err := os.Stat(filepath.Join(c.readDir, filepath.FromSlash(d.rel)))
		if d.size < 0 {
			if err == nil {
				return true
			}
			continue
		}
		if err != nil || info.Size() != d.size || info.ModTime().UnixNano() != d.mtime {
			return true
		}
		if d.name != "" {
			if _, err := os.Stat(filepath.Join(in.AssetDir, d.name)); err != nil {
				return true
			}
		}
	}
	return false
}
