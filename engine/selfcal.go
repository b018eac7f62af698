package engine

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"

	"github.com/ebsp/ebsp/search"
)

// Self-calibration: a node measures the impostor tail of its own gallery.
// A Sampler draws pairs of gallery templates of different identities at
// random, scores them with the engine's matcher, and keeps the scores; Tail
// turns them into a tail by Fit (measured on the safe side, extended by the
// bounded GPD fit). Pairs that score like mates (at or above the mate score,
// far beyond any impostor the default tail knows) are not impostors of the
// kind the tail describes but, most likely, one person enrolled under two
// identities: they are kept out of the tail and listed for examiners
// (Mates). The state is small (a float32 per comparison, up to
// MaxSampledScores) and is saved and loaded whole, so that a restarted node
// resumes where it stopped.

// MaxSampledScores bounds the scores a Sampler keeps (16 MiB of float32): 4
// million comparisons resolve FMR 1e-5 directly and carry the fit to a few
// decades beyond.
const MaxSampledScores = 1 << 22

// maxMates bounds the deduplication list.
const maxMates = 10_000

// Prober is an engine that can turn a gallery template (what
// search.Gallery.Entry returns) into a probe, so that two gallery templates
// can be compared.
type Prober interface {
	GalleryProbe(tmpl any) (search.Probe, error)
}

// ScoreScaled is an Engine whose scores have changed meaning between
// versions (a matcher stage made the default, say): ScoreScale names the
// current one, so that impostor scores sampled on an earlier scale, which
// a node keeps across restarts, are not fitted together with today's.
type ScoreScaled interface {
	ScoreScale() string
}

// Mate is a pair of identities whose templates score like one person's.
type Mate struct {
	A     string  `json:"a"`
	B     string  `json:"b"`
	Score float64 `json:"score"`
}

// Sampler accumulates sampled impostor comparisons of a gallery. It is safe
// for concurrent use.
type Sampler struct {
	mu  sync.Mutex
	st  samplerState
	rng *rand.Rand
	pcg *rand.PCG
}

// samplerState is what Save writes.
type samplerState struct {
	Version     int
	Comparisons int64 // impostor comparisons kept (len(Scores) until the cap)
	Sum         float64
	Scores      []float32
	Mates       []Mate
	MatePairs   int64 // comparisons at or above the mate score
	RNG         []byte
}

// NewSampler returns an empty sampler whose pair draws follow seed.
func NewSampler(seed uint64) *Sampler {
	pcg := rand.NewPCG(seed, 0x5e1f)
	return &Sampler{pcg: pcg, rng: rand.New(pcg), st: samplerState{Version: 1}}
}

// Step draws one probe template of g at random and compares it with k other
// templates of other identities, also at random. Scores at or above
// mateScore go to the mate list, the others to the tail. It returns the
// number of comparisons made (0 when the gallery has fewer than two
// identities or the sampler is full).
func (s *Sampler) Step(g *search.Gallery, p Prober, k int, mateScore float64) (int, error) {
	s.mu.Lock()
	full := len(s.st.Scores) >= MaxSampledScores
	s.mu.Unlock()
	if full {
		return 0, nil
	}
	_, ids := g.Len()
	if ids < 2 {
		return 0, nil
	}
	s.mu.Lock()
	n, _ := g.Len()
	i := s.rng.IntN(n)
	js := make([]int, k)
	for x := range js {
		js[x] = s.rng.IntN(n)
	}
	s.mu.Unlock()
	idA, ta, ok := g.Entry(i)
	if !ok {
		return 0, nil
	}
	probe, err := p.GalleryProbe(ta)
	if err != nil {
		return 0, err
	}
	type result struct {
		b     string
		score float64
	}
	var res []result
	for _, j := range js {
		idB, tb, ok := g.Entry(j)
		if !ok || idB == idA {
			continue
		}
		res = append(res, result{idB, probe.Compare(tb)})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range res {
		if r.score >= mateScore {
			s.st.MatePairs++
			s.addMate(idA, r.b, r.score)
			continue
		}
		if len(s.st.Scores) >= MaxSampledScores {
			break
		}
		s.st.Scores = append(s.st.Scores, float32(r.score))
		s.st.Sum += r.score
		s.st.Comparisons++
	}
	return len(res), nil
}

// addMate records a likely mate pair once, the higher score kept.
func (s *Sampler) addMate(a, b string, score float64) {
	if a > b {
		a, b = b, a
	}
	for i := range s.st.Mates {
		if m := &s.st.Mates[i]; m.A == a && m.B == b {
			m.Score = max(m.Score, score)
			return
		}
	}
	if len(s.st.Mates) < maxMates {
		s.st.Mates = append(s.st.Mates, Mate{A: a, B: b, Score: score})
	}
}

// Comparisons returns the number of impostor comparisons measured.
func (s *Sampler) Comparisons() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Comparisons
}

// Mates returns the pairs of identities that scored like mates: candidates
// for deduplication by an examiner.
func (s *Sampler) Mates() []Mate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mate(nil), s.st.Mates...)
}

// Tail fits the tail of the sampled comparisons of engine e's templates
// (FitEngine), with the given source name.
func (s *Sampler) Tail(e Engine, source string) (Tail, error) {
	s.mu.Lock()
	imp := make([]float64, len(s.st.Scores))
	for i, v := range s.st.Scores {
		imp[i] = float64(v)
	}
	s.mu.Unlock()
	return FitEngine(e, imp, source, 1)
}

// Save writes the sampler's state to path atomically: a temporary file,
// synced, renamed over path, and the folder synced, so that a crash leaves
// the old state or the new one.
func (s *Sampler) Save(path string) error {
	s.mu.Lock()
	rng, err := s.pcg.MarshalBinary()
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.st.RNG = rng
	var buf bytes.Buffer
	err = gob.NewEncoder(&buf).Encode(&s.st)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".selfcal-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// LoadSampler reads what Save wrote. A missing file is an empty sampler
// with the given seed.
func LoadSampler(path string, seed uint64) (*Sampler, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return NewSampler(seed), nil
	}
	if err != nil {
		return nil, err
	}
	s := NewSampler(seed)
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s.st); err != nil {
		return nil, fmt.Errorf("engine: self-calibration state %s: %w", path, err)
	}
	if s.st.Version != 1 || len(s.st.Scores) > MaxSampledScores || int64(len(s.st.Scores)) != s.st.Comparisons {
		return nil, fmt.Errorf("engine: self-calibration state %s: version %d with %d scores for %d comparisons: not a state this version wrote",
			path, s.st.Version, len(s.st.Scores), s.st.Comparisons)
	}
	if err := s.pcg.UnmarshalBinary(s.st.RNG); err != nil {
		return nil, fmt.Errorf("engine: self-calibration state %s: %w", path, err)
	}
	return s, nil
}
