package privacy

import (
	"errors"
	"fmt"
	"sync"

	"github.com/tuneinsight/lattigo/v6/core/rlwe"
	"github.com/tuneinsight/lattigo/v6/multiparty"
	"github.com/tuneinsight/lattigo/v6/utils"
	"github.com/tuneinsight/lattigo/v6/utils/sampling"
)

// Party is one state's side of an agreement's encrypted search: its share
// of the joint secret key and, after the setup, the joint evaluation keys.
// The same Party acts as requester (EncryptProbe, Count) and as responder
// (Search): the agreement applies in both directions.
//
// A Party is safe for concurrent use after Finish.
type Party struct {
	params Params
	sk     *rlwe.SecretKey
	seed   []byte

	// setup state
	eph      *rlwe.SecretKey
	rkgCRP   multiparty.RelinearizationKeyGenCRP
	gkgCRP   []multiparty.GaloisKeyGenCRP
	own1     *Round1
	relin1   multiparty.RelinearizationKeyGenShare
	relin2   multiparty.RelinearizationKeyGenShare
	galois   []*rlwe.GaloisKey
	finished bool

	evk *rlwe.MemEvaluationKeySet

	// workers are the search's per-goroutine evaluators and buffers, kept
	// between searches (evaluate).
	workers sync.Pool
}

// Round1 is a party's first setup message: its round-one share of the
// relinearisation key and its shares of every rotation key.
type Round1 struct {
	Relin  multiparty.RelinearizationKeyGenShare
	Galois []multiparty.GaloisKeyGenShare
}

// Round2 is a party's second setup message: its round-two share of the
// relinearisation key.
type Round2 struct {
	Relin multiparty.RelinearizationKeyGenShare
}

// NewParty draws a fresh secret-key share for one agreement. seed is the
// common reference string both parties derive the same way (for instance
// SHA-256 over the agreement id and a nonce from each side); it must be at
// least 16 bytes and fresh per agreement.
func NewParty(p Params, seed []byte) (*Party, error) {
	if len(seed) < 16 {
		return nil, errors.New("privacy: common reference seed shorter than 16 bytes")
	}
	kg := rlwe.NewKeyGenerator(p.CKKS)
	return &Party{params: p, sk: kg.GenSecretKeyNew(), seed: append([]byte(nil), seed...)}, nil
}

// Params returns the party's parameters.
func (pa *Party) Params() Params { return pa.params }

// galoisKeys lists the rotations the search needs and at which level: the
// baby and giant steps of the similarity products at the probe's level,
// and the rotations of the final slot sum at level 0 only (a key at level 0
// is several times smaller than one at the top level).
func (p Params) galoisKeys() (els []uint64, full []bool) {
	seen := map[uint64]bool{}
	add := func(rot int, top bool) {
		el := p.CKKS.GaloisElementForRotation(rot)
		if seen[el] {
			return
		}
		seen[el] = true
		els = append(els, el)
		full = append(full, top)
	}
	add(1, true)
	for r := 2; r <= hoist && r < p.Dim; r++ {
		add(r, true)
	}
	for _, b := range babySteps {
		if p.Dim > b {
			add(b, true)
		}
	}
	for r := 1; r < p.Slots(); r <<= 1 {
		add(r, false)
	}
	return
}

// babySteps are the baby-step sizes the search may use (see baby).
var babySteps = []int{16, 64}

// hoist is the number of baby steps computed from one key-switch
// decomposition (hoisted rotations by 1..hoist, one key each): a rotation
// at the top level decomposes its input before the key's product, and
// rotations of the same ciphertext share that decomposition. With 4, 16
// of the 63 rotations of a 64-d probe decompose instead of all 63 (plus
// the 3 to the chains' starts), which made a hoisted rotation about a third
// cheaper (docs/privacy.md, "Measured"); each extra top-level key costs
// some 12 MiB of key setup each way at 2^15.
const hoist = 3

// optionalKey says whether rotation key el may be missing from stored keys:
// parties stored before the hoisted baby steps lack the keys by 2..hoist
// that are not also slot-sum keys (those they hold at level 0 only), and
// their searches rotate by 1 instead (hoisted).
func (p Params) optionalKey(el uint64) bool {
	for r := 2; r <= hoist; r++ {
		if r&(r-1) != 0 && el == p.CKKS.GaloisElementForRotation(r) {
			return true
		}
	}
	return false
}

// hoisting returns how many baby steps babySteps takes from one
// decomposition: hoist if the keys by 2..hoist reach level, else 1 (a
// party stored before the hoisted baby steps).
func (pa *Party) hoisting(level int) int {
	for r := 2; r <= hoist; r++ {
		k, err := pa.evk.GetGaloisKey(pa.params.CKKS.GaloisElementForRotation(r))
		if err != nil || k.LevelQ() < level {
			return 1
		}
	}
	return hoist
}

// baby is the baby-step size of the similarity products for a gallery of
// blocks ciphertexts: rotations 1..baby-1 of the probe are computed once per
// query, rotations by baby once per block and giant step, so the number of
// rotations is baby−1 + blocks·(Dim/baby − 1); baby picks the cheaper.
func (p Params) baby(blocks int) int {
	best, cost := 0, 0
	for _, b := range babySteps {
		b = min(b, p.Dim)
		c := b - 1 + blocks*(p.Dim/b-1)
		if best == 0 || c < cost {
			best, cost = b, c
		}
	}
	return best
}

// evkParams gives the level of a rotation key: the slot-sum keys only
// reach q0, but keep every special prime, because Lattigo's InnerSum
// decomposes with all of them whatever the key holds. With one special
// prime (an earlier version) the count, read as the mean of the slots,
// came out exactly 256 off in 4 of 26 bench queries at ring degree 2^15;
// with all of them, 0 of 6 on the same gallery and probes.
func (p Params) evkParams(top bool) rlwe.EvaluationKeyParameters {
	if top {
		return rlwe.EvaluationKeyParameters{}
	}
	return rlwe.EvaluationKeyParameters{LevelQ: utils.Pointy(0)}
}

// crs returns the common reference string; both parties read it in the
// same order (relinearisation, then rotation keys in galoisKeys order).
func (pa *Party) sampleCRPs() error {
	crs, err := sampling.NewKeyedPRNG(pa.seed)
	if err != nil {
		return fmt.Errorf("privacy: common reference string: %w", err)
	}
	rkg := multiparty.NewRelinearizationKeyGenProtocol(pa.params.CKKS)
	pa.rkgCRP = rkg.SampleCRP(crs)
	gkg := multiparty.NewGaloisKeyGenProtocol(pa.params.CKKS)
	els, full := pa.params.galoisKeys()
	pa.gkgCRP = make([]multiparty.GaloisKeyGenCRP, len(els))
	for i := range els {
		pa.gkgCRP[i] = gkg.SampleCRP(crs, pa.params.evkParams(full[i]))
	}
	return nil
}

// Round1 starts the key setup and returns the message for the peer.
func (pa *Party) Round1() (*Round1, error) {
	if pa.own1 != nil {
		return nil, errors.New("privacy: Round1 called twice")
	}
	if err := pa.sampleCRPs(); err != nil {
		return nil, err
	}
	rkg := multiparty.NewRelinearizationKeyGenProtocol(pa.params.CKKS)
	eph, r1, r2 := rkg.AllocateShare()
	rkg.GenShareRoundOne(pa.sk, pa.rkgCRP, eph, &r1)
	pa.eph, pa.relin2 = eph, r2
	m := &Round1{Relin: r1}
	gkg := multiparty.NewGaloisKeyGenProtocol(pa.params.CKKS)
	els, full := pa.params.galoisKeys()
	for i, el := range els {
		sh := gkg.AllocateShare(pa.params.evkParams(full[i]))
		if err := gkg.GenShare(pa.sk, el, pa.gkgCRP[i], &sh); err != nil {
			return nil, fmt.Errorf("privacy: rotation key share %d: %w", i, err)
		}
		m.Galois = append(m.Galois, sh)
	}
	pa.own1 = m
	return m, nil
}

// Round2 takes the peer's first message and returns the second one.
func (pa *Party) Round2(peer *Round1) (*Round2, error) {
	if pa.own1 == nil {
		return nil, errors.New("privacy: Round2 before Round1")
	}
	if peer == nil || len(peer.Galois) != len(pa.own1.Galois) {
		return nil, errors.New("privacy: peer's round-one message does not match these parameters")
	}
	rkg := multiparty.NewRelinearizationKeyGenProtocol(pa.params.CKKS)
	_, agg, _ := rkg.AllocateShare()
	rkg.AggregateShares(pa.own1.Relin, peer.Relin, &agg)
	pa.relin1 = agg
	rkg.GenShareRoundTwo(pa.eph, pa.sk, agg, &pa.relin2)

	gkg := multiparty.NewGaloisKeyGenProtocol(pa.params.CKKS)
	els, full := pa.params.galoisKeys()
	pa.galois = make([]*rlwe.GaloisKey, len(els))
	for i := range els {
		sh := gkg.AllocateShare(pa.params.evkParams(full[i]))
		if err := gkg.AggregateShares(pa.own1.Galois[i], peer.Galois[i], &sh); err != nil {
			return nil, fmt.Errorf("privacy: rotation key %d: %w", i, err)
		}
		gk := rlwe.NewGaloisKey(pa.params.CKKS, pa.params.evkParams(full[i]))
		if err := gkg.GenGaloisKey(sh, pa.gkgCRP[i], gk); err != nil {
			return nil, fmt.Errorf("privacy: rotation key %d: %w", i, err)
		}
		pa.galois[i] = gk
	}
	return &Round2{Relin: pa.relin2}, nil
}

// Finish takes the peer's second message and assembles the joint
// evaluation keys.
func (pa *Party) Finish(peer *Round2) error {
	if pa.galois == nil {
		return errors.New("privacy: Finish before Round2")
	}
	if peer == nil {
		return errors.New("privacy: missing round-two message")
	}
	rkg := multiparty.NewRelinearizationKeyGenProtocol(pa.params.CKKS)
	_, _, agg := rkg.AllocateShare()
	rkg.AggregateShares(pa.relin2, peer.Relin, &agg)
	rlk := rlwe.NewRelinearizationKey(pa.params.CKKS)
	rkg.GenRelinearizationKey(pa.relin1, agg, rlk)
	pa.evk = rlwe.NewMemEvaluationKeySet(rlk, pa.galois...)
	// The search's fused relinearisation needs rings built once per
	// parameter set (a fraction of a second at 2^15); build them now
	// rather than in the first search.
	if _, err := newFusedRings(pa.params); err != nil {
		return err
	}
	pa.eph, pa.own1, pa.galois = nil, nil, nil
	pa.finished = true
	return nil
}

// Setup runs the whole two-party key setup between a and b in one process
// (tests, benchmarks, the PoC simulator); over a network each party calls
// Round1, Round2 and Finish with the peer's messages.
func Setup(a, b *Party) error {
	a1, err := a.Round1()
	if err != nil {
		return err
	}
	b1, err := b.Round1()
	if err != nil {
		return err
	}
	a2, err := a.Round2(b1)
	if err != nil {
		return err
	}
	b2, err := b.Round2(a1)
	if err != nil {
		return err
	}
	if err := a.Finish(b2); err != nil {
		return err
	}
	return b.Finish(a2)
}
