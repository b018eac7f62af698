package audit

import (
	"fmt"
	"sort"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// SignedCheckpoint is a checkpoint a party kept, with where it came from
// (a file name, a partner's name) for the report.
type SignedCheckpoint struct {
	Source string
	Signed []byte
}

// CheckpointResult is the verdict on one kept checkpoint.
type CheckpointResult struct {
	Source string `json:"source"`
	Size   int64  `json:"size"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
}

// Report is the result of Verify.
type Report struct {
	Origin      string             `json:"origin"`
	Leaves      int64              `json:"leaves"`
	Root        string             `json:"root"` // base64 root hash of the whole log
	Keys        []string           `json:"keys"` // the log keys checkpoints were verified with: those given, then those rotations introduced
	Checkpoints []CheckpointResult `json:"checkpoints"`
	Problems    []string           `json:"problems,omitempty"`
}

// OK reports whether nothing was wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Verify checks a log as a third party would, from the log's leaves, the
// log's public key and checkpoints kept by partners:
//
//   - every leaf decodes as a well-formed Leaf;
//   - every checkpoint's signature verifies and its origin is the log's;
//   - every checkpoint's root equals the tree hash of that many leaves,
//     so a modified, inserted or dropped leaf shows (its size also must not
//     exceed the log: a log shorter than a checkpoint has dropped leaves);
//   - any two checkpoints of one size have one root (else the log
//     equivocated), and matching checkpoints of different sizes pass an
//     RFC 6962 §2.1.2 consistency proof built from the leaves;
//   - where checkpoints disagree with the leaves, the range of leaves where
//     the histories diverge.
//
// Checkpoints are verified with v and the log keys that log-key rotation
// leaves introduced, each signed by a key already trusted (KeyRing); a
// retired key's checkpoint may not reach past its rotation.
func Verify(leaves [][]byte, v note.Verifier, kept []SignedCheckpoint) *Report {
	return VerifyKeys(leaves, []note.Verifier{v}, kept)
}

// VerifyKeys is Verify with several trusted keys of the log (a key
// history, such as a partner kept it), all of one origin.
func VerifyKeys(leaves [][]byte, keys []note.Verifier, kept []SignedCheckpoint) *Report {
	r := &Report{Leaves: int64(len(leaves))}
	if len(keys) == 0 {
		r.problem("no log key given")
		return r
	}
	r.Origin = keys[0].Name()
	ring, rotProblems, err := RingFromLeaves(leaves, keys...)
	if err != nil {
		r.problem("keys: %v", err)
		return r
	}
	r.Keys = ring.Keys()
	r.Problems = append(r.Problems, rotProblems...)
	var hashes []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(hashes)) {
				return nil, fmt.Errorf("stored hash %d out of range", x)
			}
			out[i] = hashes[x]
		}
		return out, nil
	})
	for i, b := range leaves {
		if _, err := DecodeLeaf(b); err != nil {
			r.problem("leaf %d: %v", i, err)
		}
		hs, err := tlog.StoredHashes(int64(i), b, reader)
		if err != nil {
			r.problem("leaf %d: hashing: %v", i, err)
			return r
		}
		hashes = append(hashes, hs...)
	}
	root, err := tlog.TreeHash(int64(len(leaves)), reader)
	if err != nil {
		r.problem("tree hash: %v", err)
		return r
	}
	r.Root = fmt.Sprint(root)
	checkKept(r, int64(len(leaves)), reader, ring, kept)
	return r
}

// checkKept checks kept checkpoints against the tree of n leaves whose
// stored hashes reader reads, with the log's key ring, and adds the
// results to r: the checkpoint half of VerifyKeys and VerifyPath.
func checkKept(r *Report, n int64, reader tlog.HashReader, ring *KeyRing, kept []SignedCheckpoint) {
	type good struct {
		src string
		c   Checkpoint
	}
	var ok []good
	matches := map[string]bool{} // by source: the checkpoint matches the leaves
	for _, k := range kept {
		res := CheckpointResult{Source: k.Source}
		c, err := ring.Open(k.Signed)
		res.Size = c.Size
		switch {
		case err != nil:
			res.Error = err.Error()
		case c.Size > n:
			res.Error = fmt.Sprintf("checkpoint commits to %d leaves but the log has %d: leaves were dropped", c.Size, n)
		default:
			h, err := tlog.TreeHash(c.Size, reader)
			if err != nil {
				res.Error = fmt.Sprintf("tree hash at %d: %v", c.Size, err)
			} else if h != c.Hash {
				res.Error = fmt.Sprintf("root hash of the first %d leaves is %v, checkpoint says %v: a leaf was modified, inserted or dropped, or the checkpoint is from a fork", c.Size, h, c.Hash)
			} else {
				res.OK = true
			}
		}
		if err == nil {
			ok = append(ok, good{k.Source, c})
		}
		matches[k.Source] = res.OK
		if !res.OK {
			r.problem("checkpoint %s: %s", k.Source, res.Error)
		}
		r.Checkpoints = append(r.Checkpoints, res)
	}

	// Where the history diverges: between the largest checkpoint that
	// matches the leaves and the smallest one that does not.
	var lo, hi int64 = 0, -1
	for _, res := range r.Checkpoints {
		if res.OK && res.Size > lo {
			lo = res.Size
		}
	}
	for _, res := range r.Checkpoints {
		if !res.OK && res.Error != "" && res.Size > 0 && res.Size <= n && (hi < 0 || res.Size < hi) {
			hi = res.Size
		}
	}
	if hi >= 0 {
		from := int64(0)
		for _, res := range r.Checkpoints {
			if res.OK && res.Size < hi && res.Size > from {
				from = res.Size
			}
		}
		r.problem("history diverges between leaf %d and leaf %d: a leaf in that range was modified, inserted or dropped, or the checkpoints from size %d on come from a fork", from, hi-1, hi)
	}

	// Consistency between the checkpoints themselves. Two validly signed
	// checkpoints of one size with different roots are proof that the log
	// showed two histories (equivocation), whatever the leaves say. For
	// checkpoints of different sizes an RFC 6962 §2.1.2 consistency proof is
	// built from the leaves and checked; such a proof is only evidence when
	// the leaves match the larger checkpoint, so it is checked for the
	// checkpoints that match (a mismatch is already reported above).
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].c.Size < ok[j].c.Size })
	for i := 1; i < len(ok); i++ {
		a, b := ok[i-1], ok[i]
		if a.c.Size == b.c.Size {
			if err := CheckConsistency(a.c, b.c, nil); err != nil {
				r.problem("checkpoints %s and %s: %v", a.src, b.src, err)
			}
			continue
		}
		if a.c.Size == 0 || b.c.Size > n || !matches[a.src] || !matches[b.src] {
			continue
		}
		proof, err := tlog.ProveTree(b.c.Size, a.c.Size, reader)
		if err == nil {
			err = CheckConsistency(a.c, b.c, proof)
		}
		if err != nil {
			r.problem("checkpoints %s and %s: %v", a.src, b.src, err)
		}
	}
}
