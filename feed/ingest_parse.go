package feed

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/tidings/tidings/feed/content"
)

// parseResult is one file read and parsed, or why it could not be.
type parseResult struct {
	c   candidate
	p   content.Doc
	err error
	// assets are the files the article named as assets, found or not.
	assets []assetDep
}

// parseAll reads and parses files on every core and hands each result to
// use, one at a time and in the order of cs, while later files are parsed.
// It stops at the first error use returns, or when ctx is done.
func (in *Ingester) parseAll(ctx context.Context, cs []candidate, r *content.Renderer, private []os.FileInfo, use func(parseResult) error) error {
	ctx, cancel := context.WithCancel(ctx)
	workers := min(runtime.GOMAXPROCS(0), max(len(cs), 1))
	// Each result has a slot of its own, so no worker ever waits for use;
	// ahead bounds how far parsing runs ahead of it, and so the memory the
	// waiting results hold.
	done := make([]chan parseResult, len(cs))
	for i := range done {
		done[i] = make(chan parseResult, 1)
	}
	ahead := make(chan struct{}, 64*workers)
	next := make(chan int)
	roots := &rootSet{}
	defer roots.close()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				done[i] <- in.parseOne(cs[i], r, private, roots)
			}
		})
	}
	wg.Go(func() {
		defer close(next)
		for i := range cs {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			next <- i
		}
	})
	defer func() {
		cancel() // stops the feeding when use failed
		wg.Wait()
	}()
	for i := range cs {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case pr := <-done[i]:
			if err := use(pr); err != nil {
				return err
			}
			<-ahead
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}

func (in *Ingester) parseOne(c candidate, r *content.Renderer, private []os.FileInfo, roots *rootSet) parseResult {
	data, err := in.read(c, private, roots)
	if err != nil {
		return parseResult{c: c, err: err}
	}
	if in.AssetDir == "" {
		p, err := content.ParseFile(c.rel, data, r, in.Location)
		return parseResult{c: c, p: p, err: err}
	}
	// Its references are resolved where the file is read: where a
	// followed link points.
	dir := path.Dir(c.readRel)
	if dir == "." {
		dir = ""
	}
	ap := &assetPublisher{root: c.readDir, dir: dir, out: in.AssetDir, baseURL: strings.TrimSuffix(in.BaseURL, "/"),
		maxBytes: in.MaxBytes, private: private, follow: in.FollowSymlinks}
	p, err := content.ParseFile(c.rel, data, r.WithAssets(ap.publish), in.Location)
	return parseResult{c: c, p: p, err: err, assets: ap.deps}
}

// rootSet holds each content folder opened once for a scan's reads,
// rather than once for every file.
type rootSet struct {
	mu sync.Mutex
	m  map[string]*os.Root
}

func (rs *rootSet) open(dir string) (*os.Root, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r := rs.m[dir]; r != nil {
		return r, nil
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	if rs.m == nil {
		rs.m = map[string]*os.Root{}
	}
	rs.m[dir] = r
	return r, nil
}

func (rs *rootSet) close() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.m {
		r.Close()
	}
	rs.m = nil
}

// read reads a listed file through its content folder, so that a link
// swapped in after the walk still cannot reach outside it, and never
// one of tidings' own files. roots, if not nil, keeps the folders open
// from one file to the next.
func (in *Ingester) read(c candidate, private []os.FileInfo, roots *rootSet) ([]byte, error) {
	var f *os.File
	var err error
	if roots == nil {
		f, err = os.OpenInRoot(c.readDir, filepath.FromSlash(c.readRel))
	} else {
		var root *os.Root
		if root, err = roots.open(c.readDir); err == nil {
			f, err = root.Open(filepath.FromSlash(c.readRel))
		}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	for _, p := range private {
		if os.SameFile(info, p) {
			return nil, ErrPrivate
		}
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	// The file may have grown since it was listed; room for its size and
	// a byte more is read into, so that its end is seen without growing.
	data := make([]byte, 0, min(info.Size(), in.MaxBytes)+1)
	lr := io.LimitReader(f, in.MaxBytes+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := lr.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(data)) > in.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes, content.max_bytes is %d", ErrTooLarge, in.MaxBytes, in.MaxBytes)
	}
	return data, nil
}

// privateFiles stats the files a scan must never read; one that does not
// exist (yet) needs no guarding.
func privateFiles(paths []string) []os.FileInfo {
	var out []os.FileInfo
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil {
			out = append(out, info)
		}
	}
	return out
}
