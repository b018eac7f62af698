package node

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/search"
)

// Self-calibration (docs/node.md, "Self-calibration"): with
// self_calibration.comparisons_per_second set, RunSelfCalibration samples
// impostor comparisons of the node's own gallery in the background
// (engine.Sampler), saves the state under data_dir every minute and at the
// end, and refits the gallery's tail. The node's thresholds follow that tail
// once it is deep enough for the gallery's size (deepEnough); until then
// the engine's conservative default.
//
// With the gallery in shards served by the node's own matchers
// (cluster.matchers "node"), each step samples one shard's gallery, the
// shards in turn: identities are placed on shards by a hash of their id,
// not of their biometrics, so pairs within a shard are a random sample of
// the gallery's impostor pairs. The duplicate list then holds only pairs
// enrolled on one shard. External matchers hold templates the node does
// not, and the configuration check refuses self-calibration with them.

// selfCal is the node's self-calibration state.
type selfCal struct {
	mu       sync.Mutex
	samplers map[biometric.Modality]*engine.Sampler
	tails    map[biometric.Modality]engine.Tail // the latest fit
	// shards are the galleries of the node's own matchers, per modality
	// held in shards (openCluster).
	shards map[biometric.Modality][]*search.Gallery
	turn   map[biometric.Modality]int // each modality's shards in turn
}

// gallery returns the gallery of modality m the next step samples: the
// node's own, or the next shard's.
func (sc *selfCal) gallery(n *Node, m biometric.Modality) *search.Gallery {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if gs := sc.shards[m]; len(gs) > 0 {
		if sc.turn == nil {
			sc.turn = map[biometric.Modality]int{}
		}
		sc.turn[m]++
		return gs[sc.turn[m]%len(gs)]
	}
	return n.galleries[m]
}

// addShard records g, a shard gallery of modality m held in this process.
func (sc *selfCal) addShard(m biometric.Modality, g *search.Gallery) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.shards == nil {
		sc.shards = map[biometric.Modality][]*search.Gallery{}
	}
	sc.shards[m] = append(sc.shards[m], g)
}

// selfCalMinComparisons is the least a gallery's own tail must measure
// before it is used.
const selfCalMinComparisons = 100_000

func (n *Node) selfCalPath(m biometric.Modality) string {
	name := "selfcal-" + string(m)
	if s, ok := n.engines[m].(engine.ScoreScaled); ok {
		// A new scale starts a new sample; the old file stays for the
		// operator to remove.
		name += "-" + strings.ReplaceAll(s.ScoreScale(), "/", "-")
	}
	return filepath.Join(n.cfg.DataDir, name+".gob")
}

// loadSelfCal reads the saved samplers of the modalities whose engine can
// compare two gallery templates.
func (n *Node) loadSelfCal() error {
	if n.cfg.SelfCalibration.ComparisonsPerSecond == 0 {
		return nil
	}
	n.selfcal = &selfCal{samplers: map[biometric.Modality]*engine.Sampler{}, tails: map[biometric.Modality]engine.Tail{}}
	for m, e := range n.engines {
		if _, ok := e.(engine.Prober); !ok {
			continue
		}
		path := n.selfCalPath(m)
		// Samples of other score scales (the name without one, or with
		// another) are not resumed; say so, once.
		others, _ := filepath.Glob(filepath.Join(n.cfg.DataDir, "selfcal-"+string(m)+"*.gob"))
		for _, old := range others {
			if old != path {
				n.log.Warn("a self-calibration sample of an earlier score scale is not resumed: sampling starts again; the old file may be deleted",
					"modality", m, "file", old)
			}
		}
		s, err := engine.LoadSampler(path, uint64(time.Now().UnixNano()))
		if err != nil {
			return fmt.Errorf("node: %w", err)
		}
		n.selfcal.samplers[m] = s
		if t, err := s.Tail(e, "gallery"); err == nil {
			n.selfcal.tails[m] = t
		}
	}
	return nil
}

// RunSelfCalibration samples impostor comparisons of the gallery until ctx
// ends, at most self_calibration.comparisons_per_second of them on one
// goroutine that sleeps between batches (so that searches keep the cores),
// saving the state every minute and when it stops. It returns at once when
// self-calibration is off.
func (n *Node) RunSelfCalibration(ctx context.Context) error {
	sc := n.selfcal
	if sc == nil {
		return nil
	}
	const batch = 64
	rate := n.cfg.SelfCalibration.ComparisonsPerSecond
	pause := time.Duration(float64(time.Second) * batch / float64(rate))
	lastSave := time.Now()
	save := func() error {
		for m, s := range sc.samplers {
			if err := s.Save(n.selfCalPath(m)); err != nil {
				return fmt.Errorf("node: save self-calibration: %w", err)
			}
			if t, err := s.Tail(n.engines[m], "gallery"); err == nil {
				sc.mu.Lock()
				sc.tails[m] = t
				sc.mu.Unlock()
			}
		}
		n.metrics.setGallery(n)
		return nil
	}
	for {
		made := 0
		for m, s := range sc.samplers {
			g := sc.gallery(n, m)
			if g == nil {
				continue
			}
			k, err := s.Step(g, n.engines[m].(engine.Prober), batch, n.mateScore(m))
			if err != nil {
				return err
			}
			made += k
		}
		if time.Since(lastSave) > time.Minute {
			if err := save(); err != nil {
				return err
			}
			lastSave = time.Now()
		}
		wait := pause
		if made == 0 {
			wait = time.Second // an empty gallery, or the samplers are full
		}
		select {
		case <-ctx.Done():
			return save()
		case <-time.After(wait):
		}
	}
}

// mateScore is the score at or above which a sampled pair counts as one
// person enrolled twice: the engine's default tail at FMR 1e-7 per
// comparison (0.406 for fingerprints with the verification, where the FVC
// sets' genuine pairs have a median of 0.76), so that of the at most 4 million comparisons sampled fewer
// than one impostor is expected on the list.
func (n *Node) mateScore(m biometric.Modality) float64 {
	return n.engines[m].Tail().ScoreAt(1e-7)
}

// selfTail returns the gallery's own tail of modality m when it is deep
// enough for the gallery's size: at least selfCalMinComparisons, and the
// hit threshold's FMR (fpir_hit / identities) no more than two decades
// beyond what it measured.
func (n *Node) selfTail(m biometric.Modality) (engine.Tail, bool) {
	if n.selfcal == nil {
		return engine.Tail{}, false
	}
	n.selfcal.mu.Lock()
	t, ok := n.selfcal.tails[m]
	n.selfcal.mu.Unlock()
	if !ok || t.Comparisons < selfCalMinComparisons {
		return engine.Tail{}, false
	}
	_, ids := n.galleryLen(m)
	if n.cfg.FPIRHit/float64(max(ids, 1)) < t.MeasuredFMR/100 {
		return engine.Tail{}, false
	}
	return t, true
}

// Duplicates returns, per modality, the pairs of identities the
// self-calibration found scoring like one person: a deduplication list for
// examiners.
func (n *Node) Duplicates() map[biometric.Modality][]engine.Mate {
	out := map[biometric.Modality][]engine.Mate{}
	if n.selfcal == nil {
		return out
	}
	for m, s := range n.selfcal.samplers {
		out[m] = s.Mates()
	}
	return out
}

// selfCalProgress returns the comparisons sampled of modality m so far.
func (n *Node) selfCalProgress(m biometric.Modality) int64 {
	if n.selfcal == nil || n.selfcal.samplers[m] == nil {
		return 0
	}
	return n.selfcal.samplers[m].Comparisons()
}
