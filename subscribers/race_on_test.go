//go:build race

package subscribers

// raceOn: the race detector slows the database tenfold; big tests shrink.
const raceOn = true
