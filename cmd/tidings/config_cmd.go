package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/pelletier/go-toml/v2"
)

func configCheckCommand() *command {
	return &command{
		name:    "config check",
		summary: "validate the config and print it, secrets masked",
		detail:  "Prints the effective config: the file over the built-in defaults, with secrets from the environment applied and masked.",
		example: "tidings config check --config ./tidings.toml",
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			path := configPath(e.configFlag, e.getenv)
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			b, err := toml.Marshal(cfg.Masked())
			if err != nil {
				return fmt.Errorf("print config: %w", err)
			}
			if path == "" {
				path = "built-in defaults"
			}
			dkim, err := loadDKIM(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "# %s: OK\n%s", path, b)
			if dkim != nil {
				fmt.Fprintln(e.stdout, "\n# DKIM: publish these TXT records")
				for _, r := range dkim.Records() {
					fmt.Fprintf(e.stdout, "# %s TXT %q\n", r[0], r[1])
				}
			}
			for _, w := range cfg.Warnings(configPath(e.configFlag, e.getenv)) {
				fmt.Fprintf(e.stderr, "warning: %s\n", w)
			}
			return nil
		},
	}
}
