//go:build !race

package wsq

const raceEnabled = false
