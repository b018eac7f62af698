//go:build !race

package synth

// raceDetector is true when the tests run under -race.
const raceDetector = false
