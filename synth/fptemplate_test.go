package synth

import (
	"math"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
)

func TestTemplateDeterministic(t *testing.T) {
	a := NewFingerMaster(7, 3)
	b := NewFingerMaster(7, 3)
	ma, mb := TemplateMaster(a), TemplateMaster(b)
	if !reflect.DeepEqual(ma, mb) {
		t.Fatal("same seed gave different masters")
	}
	ia, ib := TemplateImpression(a, &ma, 2), TemplateImpression(b, &mb, 2)
	if !reflect.DeepEqual(ia, ib) {
		t.Fatal("same seed gave different impressions")
	}
	if c := TemplateMaster(NewFingerMaster(8, 3)); reflect.DeepEqual(c, ma) {
		t.Fatal("different seeds gave the same master")
	}
}

// TestTemplateStatistics checks the template level against the FVC 2002/2004
// figures it is set to follow: 37-68 minutiae per impression on average (our
// extractor on the five real sets), 49-65% endings, directions along the
// ridge flow.
func TestTemplateStatistics(t *testing.T) {
	var n, count, endings int
	var offFlow float64
	var offN int
	for f := range uint64(60) {
		m := NewFingerMaster(1, f)
		mt := TemplateMaster(m)
		for _, mn := range mt.Minutiae {
			// Direction against the field: angle mod π minus orientation.
			d := math.Abs(math.Mod(mn.Angle, math.Pi) - m.Orientation(float64(mn.X), float64(mn.Y)))
			offFlow += math.Min(d, math.Pi-d)
			offN++
		}
		for k := range uint64(4) {
			it := TemplateImpression(m, &mt, k)
			n++
			count += len(it.Minutiae)
			for _, mn := range it.Minutiae {
				if mn.Type == fingerprint.Ending {
					endings++
				}
				if mn.X < 0 || mn.Y < 0 || mn.X >= it.Width || mn.Y >= it.Height || mn.Angle < 0 || mn.Angle >= 2*math.Pi {
					t.Fatalf("minutia out of range: %+v", mn)
				}
			}
		}
	}
	mean := float64(count) / float64(n)
	share := float64(endings) / float64(count)
	t.Logf("impressions: %.1f minutiae on average, %.2f endings; master directions %.3f rad off the flow", mean, share, offFlow/float64(offN))
	if mean < 37 || mean > 68 {
		t.Errorf("mean minutiae per impression %.1f, want 37-68", mean)
	}
	if share < 0.5 || share > 0.66 {
		t.Errorf("ending share %.2f, want 0.50-0.66", share)
	}
	if offFlow/float64(offN) > 0.05 {
		t.Errorf("master minutiae %.3f rad off the orientation field", offFlow/float64(offN))
	}
}

// BenchmarkTemplates measures template-level throughput: one master and
// eight impressions per finger (NewTemplateFinger, Impression), as
// galleries with several captures per finger make them; templates/s counts
// all nine.
// It reports wall-clock throughput and, because this machine is shared,
// throughput per CPU-second of this process.
func BenchmarkTemplates(b *testing.B) {
	var f uint64
	c0 := processCPU()
	for b.Loop() {
		tf := NewTemplateFinger(NewFingerMaster(1, f))
		for k := range uint64(8) {
			_ = tf.Impression(k)
		}
		f++
	}
	b.ReportMetric(float64(9*b.N)/b.Elapsed().Seconds(), "templates/s")
	b.ReportMetric(float64(9*b.N)/(processCPU()-c0).Seconds(), "templates/cpu-s")
}

func TestClassMix(t *testing.T) {
	const n = 20000
	var counts [numClasses]int
	for i := range uint64(n) {
		counts[NewFingerMaster(9, i).Class]++
	}
	for c, want := range ClassFrequencies {
		got := float64(counts[c]) / n
		// Binomial sd at n = 20000 is at most 0.0035; allow 4 sd.
		if math.Abs(got-want) > 0.014 {
			t.Errorf("%v: %.4f of fingers, want %.3f", PatternClass(c), got, want)
		}
	}
	t.Logf("class mix over %d fingers: %v", n, counts)
}

// BenchmarkTemplatesParallel is BenchmarkTemplates on every core (galleries
// of millions are generated finger by finger in parallel): templates/s is
// the machine's throughput.
func BenchmarkTemplatesParallel(b *testing.B) {
	var next atomic.Uint64
	c0 := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tf := NewTemplateFinger(NewFingerMaster(1, next.Add(1)))
			for k := range uint64(8) {
				_ = tf.Impression(k)
			}
		}
	})
	b.ReportMetric(float64(9*b.N)/b.Elapsed().Seconds(), "templates/s")
	b.ReportMetric(float64(9*b.N)/(processCPU()-c0).Seconds(), "templates/cpu-s")
}

// BenchmarkTemplatesOneEach is template throughput when every template
// comes from a finger model made for it alone (NewFingerMaster,
// TemplateMaster, TemplateImpression), as populations that make a capture
// on demand do (synth.Population.Captures, poc); templates/s counts the
// impressions only.
func BenchmarkTemplatesOneEach(b *testing.B) {
	var f uint64
	c0 := processCPU()
	for b.Loop() {
		m := NewFingerMaster(1, f)
		mt := TemplateMaster(m)
		_ = TemplateImpression(m, &mt, 1+f%8)
		f++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "templates/s")
	b.ReportMetric(float64(b.N)/(processCPU()-c0).Seconds(), "templates/cpu-s")
}

// TestTemplateFinger checks that TemplateFinger gives what TemplateMaster
// and TemplateImpression give.
func TestTemplateFinger(t *testing.T) {
	for f := range uint64(20) {
		m := NewFingerMaster(5, f)
		tf := NewTemplateFinger(m)
		mt := TemplateMaster(m)
		if !reflect.DeepEqual(tf.Master, mt) {
			t.Fatalf("finger %d: master differs", f)
		}
		for k := range uint64(9) {
			if a, b := tf.Impression(k), TemplateImpression(m, &mt, k); !reflect.DeepEqual(a, b) {
				t.Fatalf("finger %d impression %d: TemplateFinger and TemplateImpression differ", f, k)
			}
		}
	}
}

func TestLookWobble(t *testing.T) {
	for k := range uint64(40) {
		regime := ImpressionRegime(k)
		a, b := newRand(3, "look", k), newRand(3, "look", k)
		if w, want := lookWobble(a, regime), newImpressionLook(b, regime).wobble; w != want {
			t.Fatalf("impression %d: lookWobble %v, newImpressionLook's wobble %v", k, w, want)
		}
	}
}
