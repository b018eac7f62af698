//go:build race

package exchange

// underRace is true under -race, which makes the lattice arithmetic of
// the encrypted search many times slower: TestEncryptedFaceSearch then
// uses the small ring (test.sh runs it again without -race at 2^15).
const underRace = true
