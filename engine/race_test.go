//go:build race

package engine

// raceEnabled is true when the tests run with -race, which slows the
// matcher's inner loops tenfold: long calibration runs shrink then.
const raceEnabled = true
