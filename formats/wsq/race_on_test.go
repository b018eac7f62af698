//go:build race

package wsq

// raceEnabled is true under the race detector, which slows the float loops
// of this package (which has no concurrency) about tenfold: the heavy tests
// then run on a few small files only.
const raceEnabled = true
