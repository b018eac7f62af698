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
//   - any two checkpoints are consistent: equal sizes have equal roots, and
//     each proves to extend the previous one with an RFC 6962 §2.1.2
//     consistency proof built from the leaves, which catches a forked
//     checkpoint even when the leaves themselves are unchanged.
func Verify(leaves [][]byte, v note.Verifier, kept []SignedCheckpoint) *Report {
	r := &Report{Origin: v.Name(), Leaves: int64(len(leaves))}
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

	type good struct {
		src string
		c   Checkpoint
	}
	var ok []good
	for _, k := range kept {
		res := CheckpointResult{Source: k.Source}
		c, err := OpenCheckpoint(k.Signed, v)
		res.Size = c.Size
		switch {
		case err != nil:
			res.Error = err.Error()
		case c.Size > int64(len(leaves)):
			res.Error = fmt.Sprintf("checkpoint commits to %d leaves but the log has %d: leaves were dropped", c.Size, len(leaves))
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
		if !res.OK {
			r.problem("checkpoint %s: %s", k.Source, res.Error)
		}
		r.Checkpoints = append(r.Checkpoints, res)
	}

	// Consistency between the signed checkpoints themselves, independent of
	// whether they match these leaves. Proofs come from the leaves; where the
	// leaves are shorter than a checkpoint no proof can be built and the
	// size problem above already stands.
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].c.Size < ok[j].c.Size })
	for i := 1; i < len(ok); i++ {
		a, b := ok[i-1], ok[i]
		var proof tlog.TreeProof
		if a.c.Size > 0 && a.c.Size < b.c.Size && b.c.Size <= int64(len(leaves)) {
			proof, err = tlog.ProveTree(b.c.Size, a.c.Size, reader)
			if err != nil {
				r.problem("consistency proof %d -> %d: %v", a.c.Size, b.c.Size, err)
				continue
			}
		} else if a.c.Size < b.c.Size && a.c.Size > 0 {
			continue
		}
		if err := CheckConsistency(a.c, b.c, proof); err != nil {
			r.problem("checkpoints %s and %s: %v", a.src, b.src, err)
		}
	}
	return r
}
