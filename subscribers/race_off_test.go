//go:build !race

package subscribers

const raceOn = false
