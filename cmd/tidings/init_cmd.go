package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tidings/tidings"
)

func initCommand() *command {
	var dir string
	return &command{
		name:    "init",
		summary: "write tidings.toml and content/ to start from",
		detail:  "Writes a commented tidings.toml (every key with its default) and a content folder with a first article.\nExisting files are never overwritten.",
		example: "mkdir mynews && cd mynews && tidings init && tidings serve",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&dir, "dir", ".", "folder to write into")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			files := []struct {
				path string
				data []byte
				mode os.FileMode // the config may hold secrets: only its owner reads it
			}{
				{"tidings.toml", tidings.ExampleConfig, 0o600},
				{filepath.Join("content", "welcome.md"), tidings.WelcomeArticle, 0o644},
			}
			for _, f := range files {
				p := filepath.Join(dir, f.path)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return err
				}
				// O_EXCL: init never overwrites an operator's file.
				fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
				if errors.Is(err, os.ErrExist) {
					fmt.Fprintf(e.stdout, "kept    %s (already there)\n", p)
					continue
				}
				if err != nil {
					return err
				}
				_, err = fh.Write(f.data)
				if cerr := fh.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return fmt.Errorf("write %s: %w", p, err)
				}
				fmt.Fprintf(e.stdout, "wrote   %s\n", p)
			}
			fmt.Fprintln(e.stdout, "\nNext: edit tidings.toml (site.title, site.base_url), then run \"tidings serve\".")
			return nil
		},
	}
}
