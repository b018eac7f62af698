//go:build !race

package ansinist

const raceEnabled = false
