package feed

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tidings/tidings/feed/content"
)

// Assets are the images and files an article names by a relative path,
// next to it in its content folder: ![](img/harbor.jpg) in
// posts/bridge.md is posts/img/harbor.jpg. Each is published under a name
// that carries a hash of its bytes (assets/harbor.3f2a9c1e5b7d0a42.jpg),
// so that its URL never names other bytes and may be cached for good; an
// edit of the file is a new name, and the article that shows it changes.
// They are written, by ingest, to the assets folder below the feeds'
// output folder, where serve and any static host serve them.

// assetsPath is the assets' folder below the output folder, and their
// URL path below the site.
const assetsPath = "assets"

// AssetDir is the folder assets are written to for the output folder dir.
func AssetDir(outputDir string) string { return filepath.Join(outputDir, assetsPath) }

// assetTypes are the files published as assets, by extension (lower
// case), with the Content-Type they are served with. Nothing else next to
// an article is: a link to a page, a script or a config file stays a link.
var assetTypes = map[string]string{
	"jpg":  "image/jpeg",
	"jpeg": "image/jpeg",
	"png":  "image/png",
	"gif":  "image/gif",
	"webp": "image/webp",
	"avif": "image/avif",
	"svg":  "image/svg+xml",
	"pdf":  "application/pdf",
	"mp3":  "audio/mpeg",
	"mp4":  "video/mp4",
}

// IsAsset reports whether a file of this name is one an article may
// publish next to it (an image, a PDF, audio, video): the watcher wakes
// for such files as it does for articles.
func IsAsset(name string) bool {
	_, ok := assetTypes[strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), ".")]
	return ok
}

// assetHashLen is how many hex digits of the SHA-256 of its bytes an
// asset's name carries: 64 bits, so that two files of one name never
// share one by chance.
const assetHashLen = 16

// Errors an asset is not published with; each becomes a warning naming
// the article and its reference.
var (
	errAssetOutside = errors.New("it points outside the article's content folder")
	errAssetHidden  = errors.New("it names a hidden file or folder")
	errAssetMissing = errors.New("no such file")
)

// assetDep is a file an article named as an asset, as the scan found it:
// a later scan parses the article again when it differs, so that an
// image replaced under the same name gives the article the new one.
// size is -1 for a file that was not there.
type assetDep struct {
	rel         string // below the content folder, slashes
	size, mtime int64
	name        string // as published; "" when it was not
}

// assetPublisher publishes the assets of one article file.
type assetPublisher struct {
	root     string // the content folder the file is read through (links resolved)
	dir      string // the article's folder below root, slashes; "" for root itself
	out      string // the assets folder
	baseURL  string // the site's, without a trailing slash
	maxBytes int64
	private  []os.FileInfo
	follow   bool // content.follow_symlinks: a link to a file inside root is read

	deps []assetDep // every asset the article named, found or not
}

// publish is the article's content.AssetFunc.
func (ap *assetPublisher) publish(ref string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(ref), "."))
	if _, ok := assetTypes[ext]; !ok {
		return "", content.ErrNotAsset
	}
	rel, err := assetRel(ap.dir, ref)
	if err != nil {
		return "", err
	}
	name, err := ap.copy(rel, ext)
	if err != nil {
		return "", err
	}
	return ap.baseURL + "/" + assetsPath + "/" + url.PathEscape(name), nil
}

// assetRel resolves ref, a relative path in an article in folder dir (both
// slash-separated, below the content folder), to the file's path below the
// content folder. It refuses a path that leaves the folder ("../../x")
// and one through a hidden file or folder (".git/x"), which the folder's
// walk passes over too.
func assetRel(dir, ref string) (string, error) {
	if ref == "" || strings.HasPrefix(ref, "/") || strings.ContainsRune(ref, 0) {
		return "", errAssetOutside
	}
	rel := path.Join(dir, ref)
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", errAssetOutside
	}
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(seg, ".") {
			return "", errAssetHidden
		}
	}
	return rel, nil
}

// copy reads the file at rel through the content folder, so that a link
// inside it cannot lead out, and writes it to the assets folder under its
// hashed name unless a file of that name is there already.
func (ap *assetPublisher) copy(rel, ext string) (string, error) {
	dep := assetDep{rel: rel, size: -1}
	defer func() { ap.deps = append(ap.deps, dep) }()
	full := filepath.Join(ap.root, filepath.FromSlash(rel))
	if !ap.follow {
		// As for articles, a link is not followed, even to a file inside
		// the folder. One swapped in after this look is still held
		// inside it by the root.
		if real, err := filepath.EvalSymlinks(full); err == nil && real != filepath.Clean(full) {
			if info, err := os.Stat(full); err == nil { // as assetsChanged looks
				dep.size, dep.mtime = info.Size(), info.ModTime().UnixNano()
			}
			return "", fmt.Errorf("%w: content.follow_symlinks is off", ErrSymlink)
		}
	}
	f, err := os.OpenInRoot(ap.root, filepath.FromSlash(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w %s", errAssetMissing, full)
	}
	if err != nil {
		// Most likely a link that leads out, which the root refuses; say
		// so in the author's words.
		if real, e := filepath.EvalSymlinks(full); e == nil {
			if root, e := filepath.Abs(ap.root); e == nil {
				if r, _ := inside(real, []string{root}); r == "" {
					return "", fmt.Errorf("%w: %s is a link to %s", errAssetOutside, rel, real)
				}
			}
		}
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	dep.size, dep.mtime = info.Size(), info.ModTime().UnixNano()
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("not a regular file")
	}
	for _, p := range ap.private {
		if os.SameFile(info, p) {
			return "", ErrPrivate
		}
	}
	if info.Size() > ap.maxBytes {
		return "", fmt.Errorf("%w: %d bytes, content.max_bytes is %d", ErrTooLarge, info.Size(), ap.maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, ap.maxBytes+1))
	if err != nil {
		return "", err
	}
	if int64(len(data)) > ap.maxBytes {
		return "", fmt.Errorf("%w: more than %d bytes, content.max_bytes is %d", ErrTooLarge, ap.maxBytes, ap.maxBytes)
	}
	sum := sha256.Sum256(data)
	name := assetName(path.Base(rel), ext, hex.EncodeToString(sum[:])[:assetHashLen])
	file := filepath.Join(ap.out, name)
	if fi, err := os.Stat(file); err != nil || fi.Size() != int64(len(data)) {
		// Else the hash names its bytes: they are there already.
		if err := writeAtomic(file, data); err != nil {
			return "", fmt.Errorf("write asset %s: %w", file, err)
		}
	}
	dep.name = name
	return name, nil
}

// assetName is the published name of a file: its base name made safe for
// a URL and any file system (lower-case letters, digits, "-" and "_"),
// the hash, and the extension in lower case: "Harbor View.JPG" is
// "harbor-view.3f2a9c1e5b7d0a42.jpg".
func assetName(base, ext, hash string) string {
	stem := strings.TrimSuffix(base, path.Ext(base))
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(stem) {
		if b.Len() >= 60 {
			break
		}
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if s == "" {
		s = "asset"
	}
	return s + "." + hash + "." + ext
}

// parseAssetName checks that name is one assetName makes and returns its
// hash and Content-Type.
func parseAssetName(name string) (hash, contentType string, ok bool) {
	stem, ext, ok := strings.Cut(name, ".")
	if !ok || stem == "" {
		return "", "", false
	}
	hash, ext, ok = strings.Cut(ext, ".")
	if !ok || len(hash) != assetHashLen {
		return "", "", false
	}
	for _, c := range stem {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return "", "", false
		}
	}
	for _, c := range hash {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", "", false
		}
	}
	contentType, ok = assetTypes[ext]
	return hash, contentType, ok
}

// writeAtomic writes data to path through a temp file beside it and a
// rename, so that a reader never sees half a file.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
