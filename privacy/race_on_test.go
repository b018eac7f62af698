//go:build race

package privacy

// underRace is true under -race, which makes the lattice arithmetic many
// times slower: the tests that only repeat the circuit (the baby-step
// variants, the flooding measurement) then skip, and run in test.sh's
// second pass without the race detector.
const underRace = true
