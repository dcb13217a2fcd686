// Package database opens the tidings database, SQLite (the default, one
// instance) or PostgreSQL (several instances on one list), and applies its
// schema.
//
// It owns the connection settings (SQLite's pragmas in the DSN, so every
// pooled connection gets them), the split into a writer, a read pool and a
// shared pool, the numbered migrations of each dialect embedded in the
// binary, and what several PostgreSQL instances need of each other:
// leader locks and change notices; and Copy, which moves every table of
// one database into a new one of either dialect and verifies it. It
// knows nothing of what the tables mean; the packages that use them do,
// and Copy reads the tables and their keys from the schema.
package database
