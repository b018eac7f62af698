//go:build race

package bench

// underRace is true under -race, which makes the privacy benchmark's
// lattice arithmetic many times slower; TestRunPrivacy then skips and runs in
// test.sh's second pass without the race detector (package privacy's own
// tests cover its concurrency under -race).
const underRace = true
