package synth

import (
	"hash/fnv"
	"testing"
)

// TestDeriveSeedFNV checks the written-out FNV-1a of deriveSeed against
// hash/fnv, so that every stream stays what it was.
func TestDeriveSeedFNV(t *testing.T) {
	for _, domain := range []string{"", "finger-master", "finger-impression-minutiae", "face\x00\xff"} {
		h := fnv.New64a()
		h.Write([]byte(domain))
		want := mix64(mix64(5^h.Sum64()) ^ mix64(9+0x632be59bd9b4e019))
		if got := deriveSeed(5, domain, 9); got != want {
			t.Errorf("deriveSeed(5, %q, 9) = %x, want %x", domain, got, want)
		}
	}
}
