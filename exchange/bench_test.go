package exchange

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/store/sqlite"
)

// indexGallery is an exact-match index (SHA-256 of a finger's ISO record ->
// identities): a search costs one hash and one map lookup, so a benchmark
// over it measures the exchange itself, not the matcher.
type indexGallery struct {
	*memGallery
	index map[[32]byte][]string
}

func (g *indexGallery) Search(ctx context.Context, p Probe) ([]biometric.Candidate, error) {
	var out []biometric.Candidate
	for _, f := range p.Fingers {
		for _, id := range g.index[sha256.Sum256(isoBytes(f.Template, f.Position))] {
			out = append(out, biometric.Candidate{IdentityID: id, Score: 1})
		}
	}
	return out, nil
}

var benchGallery struct {
	once, prepOnce sync.Once
	people         []*galleryPerson
}

// benchPeople makes (once per process) 10,000 synthetic identities of one
// finger each: a 10,000-finger gallery.
func benchPeople() []*galleryPerson {
	benchGallery.once.Do(func() {
		const n = 10000
		people := make([]*galleryPerson, n)
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for k := w; k < n; k += 2 {
					finger := uint64(1000 + k)
					t := quantise(impression(finger, 0), biometric.RightIndex)
					people[k] = &galleryPerson{id: fmt.Sprintf("gb-id-%06d", k), finger: finger,
						fingers: map[biometric.FingerPosition][]byte{biometric.RightIndex: isoBytes(t, biometric.RightIndex)},
						fields:  map[string]string{"names": "P", "case_reference": "C"}}
				}
			}(w)
		}
		wg.Wait()
		benchGallery.people = people
	})
	return benchGallery.people
}

// prepareBenchPeople prepares the gallery for the matcher (once).
func prepareBenchPeople(people []*galleryPerson) {
	benchGallery.prepOnce.Do(func() {
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for k := w; k < len(people); k += 2 {
					rec, _, _ := iso19794.ParseMinutiaeAs(people[k].fingers[biometric.RightIndex], iso19794.ISO19794_2_2005)
					t, _ := rec.Template(0)
					people[k].prep = fingerprint.Prepare(t)
				}
			}(w)
		}
		wg.Wait()
	})
}

// benchSetup is a US requester and a GB responder on loopback mutual TLS
// with the 10,000-finger gallery, quotas out of the way, both on the real
// clock. With exact, the responder searches the exact-match index,
// otherwise it compares with the MCC matcher. Hit probes are enrolled
// impressions, the others fingers nobody enrolled; half the probes hit.
// With durable, the responder keeps its state (nonces, quota counts,
// cases) in a SQLite store, as a node does.
func benchSetup(b *testing.B, exact, durable bool) (*partnership, []Probe) {
	people := benchPeople()
	if !exact {
		prepareBenchPeople(people)
	}
	var st store.ExchangeState
	if durable {
		s, err := sqlite.Open(filepath.Join(b.TempDir(), "gb.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		st = s
	}
	p := newPartnershipState(b, func(a *Agreement) { a.Searches[Tenprint] = SearchRule{DailyQuota: 1 << 30} }, st)
	p.gallery.real = nil // mcc_bruteforce: every probe against every finger
	for _, person := range people {
		p.gallery.add(person)
	}
	if exact {
		ig := &indexGallery{memGallery: p.gallery, index: map[[32]byte][]string{}}
		for _, person := range people {
			k := sha256.Sum256(person.fingers[biometric.RightIndex])
			ig.index[k] = append(ig.index[k], person.id)
		}
		p.resp.searcher = ig
	}
	p.resp.now, p.resp.opener.Now, p.resp.sealer.Now = time.Now, time.Now, time.Now
	p.client.now, p.client.opener.Now, p.client.sealer.Now = time.Now, time.Now, time.Now
	rng := rand.New(rand.NewPCG(99, 1))
	var probes []Probe
	for i := 0; i < 32; i++ {
		person := people[rng.IntN(len(people))]
		if i%2 == 1 {
			probes = append(probes, freshProbe(rng))
		} else {
			probes = append(probes, probeOf(b, person))
		}
	}
	return p, probes
}

// BenchmarkStep1RoundTrip measures one step-1 search end to end, one at a
// time: seal and sign, mutual-TLS POST on loopback, envelope checks,
// quota, audit leaves with one fsync, the search of a 10,000-finger
// gallery, checkpoint signing and proofs, the signed reply, and the
// client's verification of the reply and its proofs. p50_ms and p99_ms are
// over the b.N requests.
//
//   - mcc_bruteforce: the search compares the probe with all 10,000
//     fingers with the fingerprint package's MCC matcher on every core: the
//     end-to-end time on a gallery searched without an index.
//   - exact_index: the search is an exact-match lookup, so the time is the
//     exchange's own overhead (TLS, signatures, audit log, proofs).
//   - exact_index_durable: the same with the responder's state in a SQLite
//     store (the nonce, the quota count and, for a hit, the case written
//     before the reply), as a node runs it.
func BenchmarkStep1RoundTrip(b *testing.B) {
	for _, v := range []struct {
		name           string
		exact, durable bool
	}{{"exact_index_10000_fingers", true, false}, {"exact_index_durable_10000_fingers", true, true}, {"mcc_bruteforce_10000_fingers", false, false}} {
		b.Run(v.name, func(b *testing.B) {
			p, probes := benchSetup(b, v.exact, v.durable)
			lat := make([]time.Duration, 0, b.N)
			hits := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				res, err := p.client.Step1(bg, border(probes[i%len(probes)]))
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				if res.Outcome == "hit" {
					hits++
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			b.ReportMetric(float64(hits)/float64(b.N), "hit_rate")
		})
	}
}

// BenchmarkStep1Throughput measures how many step-1 requests per second
// one responder sustains from 16 concurrent requesters (exact index, so
// the exchange and its audit log are what is measured).
func BenchmarkStep1Throughput(b *testing.B) {
	p, probes := benchSetup(b, true, false)
	b.SetParallelism(8)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := p.client.Step1(bg, border(probes[i%len(probes)])); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
