// Package tidings holds the files that tidings init writes, so that the
// binary carries them and config.example.toml stays the one source of its
// commented defaults.
package tidings

import _ "embed"

// ExampleConfig is config.example.toml: every key, commented, with its default.
//
//go:embed config.example.toml
var ExampleConfig []byte

// WelcomeArticle is the first article tidings init puts in content/.
//
//go:embed testdata/content/welcome.md
var WelcomeArticle []byte
