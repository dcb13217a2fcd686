//go:build !race

package admin

const raceOn = false
