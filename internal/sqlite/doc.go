// Package sqlite opens the tidings database and applies its schema.
//
// It owns the connection settings (pragmas in the DSN, so every pooled
// connection gets them), the split into one writer connection and a read
// pool, and the numbered migrations embedded in the binary. It knows
// nothing of what the tables mean; the packages that use them do.
package sqlite
