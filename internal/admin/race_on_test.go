//go:build race

package admin

// raceOn: the race detector slows SQLite tenfold; the seeded tests skip.
const raceOn = true
