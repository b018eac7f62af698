package storetest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/store"
)

// Sizes of the benchmark's records: a 500 ppi WSQ-compressed rolled print
// is of the order of 30 KB, a minutiae template with a fixed-length vector
// about 1 KB.
const (
	BenchSampleBytes   = 30 << 10
	BenchTemplateBytes = 1 << 10
	// GalleryTemplates is the gallery size BenchGalleryLoad loads.
	GalleryTemplates = 10000
)

var tenFingers = []biometric.FingerPosition{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

// BenchEnroll measures enrolment throughput: each operation is one
// enrolment of a new identity with two index fingers (sample and template
// each), acknowledged only when durable. With parallel > 1 that many
// goroutines enrol at once, as a node's request handlers do.
func BenchEnroll(b *testing.B, open Opener, parallel int) {
	s := open(b)
	f := newFixture(1000)
	// Enrolments are built before the clock starts: the benchmark
	// measures the store, not random byte generation.
	es := make([]store.Enrolment, b.N)
	for i := range es {
		es[i] = f.enrolmentSized(fingers2, false, BenchSampleBytes, BenchTemplateBytes)
	}
	var next atomic.Int64
	ctx := context.Background()
	b.SetBytes(int64(2 * (BenchSampleBytes + BenchTemplateBytes)))
	b.ResetTimer()
	start := time.Now()
	done := make(chan error, parallel)
	for w := 0; w < parallel; w++ {
		go func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(es) {
					done <- nil
					return
				}
				if err := s.Enroll(ctx, es[i]); err != nil {
					done <- err
					return
				}
			}
		}()
	}
	for w := 0; w < parallel; w++ {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "enrolments/s")
	// Engines that group commits say how many enrolments a commit carried.
	if gc, ok := s.(interface {
		CommitStats() (commits, enrolments int64)
	}); ok {
		if c, n := gc.CommitStats(); c > 0 {
			b.ReportMetric(float64(n)/float64(c), "enrolments/commit")
		}
	}
}

// BenchGalleryLoad measures the start-up load of a gallery of
// GalleryTemplates finger templates (1,000 identities with ten fingers
// each): each operation streams all of them through Gallery, as the node
// does at start.
func BenchGalleryLoad(b *testing.B, open Opener) {
	s := open(b)
	f := newFixture(2000)
	ctx := context.Background()
	for i := 0; i < GalleryTemplates/len(tenFingers); i++ {
		// Small samples: the load reads templates only, and a smaller
		// file makes the set-up quicker.
		if err := s.Enroll(ctx, f.enrolmentSized(tenFingers, false, 64, BenchTemplateBytes)); err != nil {
			b.Fatal(err)
		}
	}
	// The set-up runs once; the sub-benchmark is what the framework
	// repeats with growing b.N.
	b.Run("templates=10000", func(b *testing.B) {
		b.SetBytes(GalleryTemplates * BenchTemplateBytes)
		start := time.Now()
		for i := 0; i < b.N; i++ {
			n := 0
			err := s.Gallery(ctx, biometric.Finger, func(g store.GalleryEntry) error {
				n++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if n != GalleryTemplates {
				b.Fatalf("Gallery streamed %d templates, want %d", n, GalleryTemplates)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N*GalleryTemplates)/time.Since(start).Seconds(), "templates/s")
	})
}
