// Package cluster spreads a gallery over matcher processes that talk over
// NATS (nats.go; nats-server embedded or external). Each matcher holds one
// shard: the identities a consistent-hash ring (Ring) places on it, kept
// in a search.Gallery and, durably, in an append-only shard log on its
// disk. A Client is the node's side: it sends enrolments and erasures to
// the owning shard and scatters a search to every shard, gathering and
// merging their candidates; a shard that does not answer in time makes
// the answer partial, which the Result and the Client's counters say, and
// never a silent no-hit.
//
// The wire protocol is JSON request/reply on subjects
// <prefix>.shard.<shard>.<operation> (search, enrol, remove, info); a
// matcher subscribes in the queue group "matchers", so several processes
// may serve one shard.
package cluster

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
)

// Ring places identities on shards by consistent hashing (Karger et al.,
// STOC 1997): each shard owns vnodes points on a 64-bit circle and an
// identity belongs to the shard of the first point at or after its hash.
// Adding a shard moves only the identities that now hash to its points,
// about 1/(n+1) of them, and every other identity stays where it was.
type Ring struct {
	points []ringPoint
	shards []string
}

type ringPoint struct {
	h     uint64
	shard string
}

// ringVnodes is the points per shard: enough that shards' shares differ by
// a few per cent.
const ringVnodes = 256

// NewRing returns the ring of the named shards (at least one, no
// duplicates, none empty).
func NewRing(shards []string) (*Ring, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("cluster: a ring needs at least one shard")
	}
	r := &Ring{shards: slices.Clone(shards)}
	seen := map[string]bool{}
	for _, s := range shards {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("cluster: shard name %q is empty or repeated", s)
		}
		seen[s] = true
		for v := range ringVnodes {
			r.points = append(r.points, ringPoint{hash64(fmt.Sprintf("%s#%d", s, v)), s})
		}
	}
	sort.Slice(r.points, func(i, j int) bool {
		if r.points[i].h != r.points[j].h {
			return r.points[i].h < r.points[j].h
		}
		return r.points[i].shard < r.points[j].shard
	})
	return r, nil
}

// Shards returns the shard names, in the order given.
func (r *Ring) Shards() []string { return slices.Clone(r.shards) }

// Owner returns the shard that holds identity.
func (r *Ring) Owner(identity string) string {
	h := hash64(identity)
	i := sort.Search(len(r.points), func(i int) bool { return r.points[i].h >= h })
	if i == len(r.points) {
		i = 0
	}
	return r.points[i].shard
}

// TemplateDigest is one template's share of a shard's Info.Digest: sums
// of it over sets of templates are equal, whatever the order, when the
// sets are (up to a collision of 64-bit hashes).
func TemplateDigest(identity, templateID string) uint64 {
	return hash64(identity + "\x00" + templateID)
}

func hash64(s string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(s))
	// FNV's low bits mix poorly for short keys; a final avalanche
	// (SplitMix64's) spreads them over the circle.
	x := f.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
