package poc

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/internal/progress"
)

// allFingers are the ten FGP codes in order: score samples use every finger
// of a pair of people, so that consecutive scores form real multi-finger
// comparisons.
var allFingers = []biometric.FingerPosition{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

// Seed offsets keep the people of the score samples, of the direct check and
// of the partnership apart: the same synth seed with another offset gives
// other fingers.
const (
	seedScores = 0x5c07e5
	seedCheck  = 0xc4ec4
)

// MeasureScores scores template-level synthetic fingerprints with the real
// matcher (fingerprint.NewMatcher, fingerprint.Prepare) and returns about
// impostor impostor and genuine genuine single-finger scores.
//
// Impostor scores compare finger f of a probe person with finger f of a
// different gallery person, for all ten fingers of every (probe, gallery)
// pair, in finger order; genuine scores compare the gallery capture of
// finger f with a second capture of it, ten fingers per person in order.
// So consecutive runs of n scores are real n-finger comparisons, which is
// what TailEstimate.Observed counts.
func MeasureScores(ctx context.Context, seed uint64, impostor, genuine, workers int) (*Scores, error) {
	return measureScores(ctx, seed, impostor, genuine, workers, nil)
}

// measureScores is MeasureScores reporting its three steps on w
// (internal/progress; nil: silent).
func measureScores(ctx context.Context, seed uint64, impostor, genuine, workers int, w io.Writer) (*Scores, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pairs := (impostor + len(allFingers) - 1) / len(allFingers)
	side := int(math.Ceil(math.Sqrt(float64(pairs))))
	probes := (pairs + side - 1) / side
	genuinePeople := (genuine + len(allFingers) - 1) / len(allFingers)
	galleryPeople := max(side, genuinePeople)

	// Gallery people 0..galleryPeople-1 (first capture), probe people after
	// them (second capture).
	gallery := make([][]*fingerprint.Prepared, galleryPeople)
	second := make([][]fingerprint.Template, galleryPeople)
	probeT := make([][]fingerprint.Template, probes)
	err := parallel(ctx, workers, galleryPeople+probes, progress.Start(w, "  making synthetic templates (people)", galleryPeople+probes), func(i int) {
		if i < galleryPeople {
			gallery[i] = make([]*fingerprint.Prepared, len(allFingers))
			if i < genuinePeople {
				second[i] = make([]fingerprint.Template, len(allFingers))
			}
			for f, pos := range allFingers {
				gallery[i][f] = fingerprint.Prepare(fingerTemplate(seed, i, pos, 1))
				if i < genuinePeople {
					second[i][f] = fingerTemplate(seed, i, pos, 2)
				}
			}
			return
		}
		j := i - galleryPeople
		probeT[j] = make([]fingerprint.Template, len(allFingers))
		for f, pos := range allFingers {
			probeT[j][f] = fingerTemplate(seed, galleryPeople+j, pos, 2)
		}
	})
	if err != nil {
		return nil, err
	}

	sc := &Scores{Impostor: make([]float64, pairs*len(allFingers)), Genuine: make([]float64, genuinePeople*len(allFingers))}
	err = parallel(ctx, workers, probes, progress.Start(w, "  impostor comparisons (probe people)", probes), func(p int) {
		for f := range allFingers {
			m := fingerprint.NewMatcher(probeT[p][f])
			for g := range side {
				k := p*side + g
				if k >= pairs {
					break
				}
				sc.Impostor[k*len(allFingers)+f] = m.Compare(gallery[g][f])
			}
		}
	})
	if err != nil {
		return nil, err
	}
	err = parallel(ctx, workers, genuinePeople, progress.Start(w, "  genuine comparisons (people)", genuinePeople), func(i int) {
		for f := range allFingers {
			sc.Genuine[i*len(allFingers)+f] = fingerprint.NewMatcher(second[i][f]).Compare(gallery[i][f])
		}
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// parallel runs fn(0..n-1) on workers goroutines, stopping early when ctx
// ends, and counts each call on job (nil: not reported) and ends it.
func parallel(ctx context.Context, workers, n int, job *progress.Job, fn func(i int)) error {
	defer job.Done()
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
				job.Add(1)
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("poc: measuring scores: %w", err)
	}
	return nil
}
