package exchange

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// benchPartnership is a US requester and a GB responder on loopback mutual
// TLS with a gallery of n single-finger identities (n fingers), quotas out
// of the way.
func benchPartnership(b *testing.B, n int) (*partnership, []Probe) {
	p := newPartnership(b, func(a *Agreement) { a.Searches[Tenprint] = SearchRule{DailyQuota: 1 << 30} })
	rng := rand.New(rand.NewPCG(99, 1))
	people := p.enrol(rng, n, "GBR")
	// Half the probes are enrolled fingers (hits), half unknown (no-hits).
	var probes []Probe
	for i := 0; i < 64; i++ {
		if i%2 == 0 {
			probes = append(probes, probeOf(b, people[rng.IntN(len(people))]))
		} else {
			probes = append(probes, freshProbe(rng))
		}
	}
	return p, probes
}

// BenchmarkStep1RoundTrip measures one step-1 search end to end, one at a
// time: seal and sign, mutual TLS POST on loopback, verify, quota, two
// fsynced audit appends, search of a 10,000-finger gallery, checkpoint
// signing and proofs, signed reply, and the client's verification of the
// reply and its audit proofs. It reports the median and 99th percentile.
func BenchmarkStep1RoundTrip(b *testing.B) {
	p, probes := benchPartnership(b, 10000)
	// The fixture's clock is fixed; re-point both sides at real time.
	p.resp.now, p.resp.opener.Now, p.resp.sealer.Now = time.Now, time.Now, time.Now
	p.client.now, p.client.opener.Now, p.client.sealer.Now = time.Now, time.Now, time.Now
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
}

// BenchmarkStep1Throughput measures how many step-1 requests per second
// one responder sustains with concurrent requesters.
func BenchmarkStep1Throughput(b *testing.B) {
	p, probes := benchPartnership(b, 10000)
	p.resp.now, p.resp.opener.Now, p.resp.sealer.Now = time.Now, time.Now, time.Now
	p.client.now, p.client.opener.Now, p.client.sealer.Now = time.Now, time.Now, time.Now
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
