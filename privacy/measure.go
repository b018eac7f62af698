package privacy

import (
	"errors"
	"fmt"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/schemes/ckks"
)

// Trace keeps the encrypted per-entry decisions of one search, for
// measuring them against the plaintext decisions (ebsp bench privacy, the
// tests). Reading it needs both key shares, which no deployment holds in
// one place; the protocol itself only ever decrypts the count.
type Trace struct {
	responder *Party
	n         int
	blocks    []*rlwe.Ciphertext
}

// Decisions decrypts the trace with the requester's and the responder's
// shares: one value per gallery entry, near 1 above the threshold and near 0
// below.
func (t *Trace) Decisions(requester *Party) ([]float64, error) {
	if requester == nil || requester.sk == nil {
		return nil, errors.New("privacy: no requester key share")
	}
	p := t.responder.params
	joint := rlwe.NewSecretKey(p.CKKS)
	p.CKKS.RingQP().Add(requester.sk.Value, t.responder.sk.Value, joint.Value)
	dec := rlwe.NewDecryptor(p.CKKS, joint)
	ecd := ckks.NewEncoder(p.CKKS)
	out := make([]float64, 0, t.n)
	vals := make([]float64, p.Slots())
	for b, ct := range t.blocks {
		if err := ecd.Decode(dec.DecryptNew(ct), vals); err != nil {
			return nil, fmt.Errorf("privacy: decode block %d: %w", b, err)
		}
		out = append(out, vals[:min(p.Slots(), t.n-b*p.Slots())]...)
	}
	return out, nil
}
