package synth

import (
	"math/rand/v2"
	"strings"
)

// Names are built from syllables so that no real person's name is used on
// purpose. Each nationality draws from its own subset of the inventory, so
// names of one nationality share a sound, as real name pools do.
var (
	onsets = []string{"b", "br", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "kh", "l", "m", "n", "p",
		"r", "s", "sh", "st", "t", "th", "tr", "v", "w", "y", "z", ""}
	vowels = []string{"a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ei", "ou", "ia", "y"}
	codas  = []string{"", "", "", "n", "r", "l", "s", "k", "m", "t", "nd", "rk", "sh", "x"}
)

// namePool is one nationality's share of the syllable inventory.
type namePool struct {
	onsets, vowels, codas []string
}

func newNamePool(seed uint64, nationality string) namePool {
	r := newRand(seed, "names-"+nationality)
	pick := func(all []string, n int) []string {
		idx := r.Perm(len(all))[:n]
		out := make([]string, n)
		for i, j := range idx {
			out[i] = all[j]
		}
		return out
	}
	return namePool{pick(onsets, 14), pick(vowels, 8), pick(codas, 7)}
}

func (p namePool) word(r *rand.Rand, minSyl, maxSyl int) string {
	var b strings.Builder
	n := minSyl + r.IntN(maxSyl-minSyl+1)
	for i := range n {
		b.WriteString(p.onsets[r.IntN(len(p.onsets))])
		b.WriteString(p.vowels[r.IntN(len(p.vowels))])
		if i == n-1 || r.IntN(3) == 0 {
			b.WriteString(p.codas[r.IntN(len(p.codas))])
		}
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}
