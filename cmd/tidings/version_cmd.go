package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

// buildInfo returns the version and the commit the binary was built from.
func buildInfo() (ver, commit string) {
	ver, commit = version, "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if ver == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	return ver, commit
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version and the commit it was built from",
		example: "tidings version",
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			ver, commit := buildInfo()
			fmt.Fprintf(e.stdout, "tidings %s (commit %s)\n", ver, commit)
			return nil
		},
	}
}
