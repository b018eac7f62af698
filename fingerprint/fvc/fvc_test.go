package fvc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebsp/ebsp/fingerprint"
)

// makeSet writes empty files for fingers × impressions and a few files
// Scan must ignore.
func makeSet(t *testing.T, fingers, impressions int) string {
	dir := t.TempDir()
	for f := 0; f < fingers; f++ {
		for i := 1; i <= impressions; i++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d_%d.tif", 101+f, i)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, n := range []string{"README.txt", "Thumbs.db", "x_y.tif"} {
		_ = os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	return dir
}

// The FVC counts for 10 fingers of 8 impressions: 10 × C(8,2) = 280
// genuine, C(10,2) = 45 standard impostor and C(80,2) − 280 = 2,880
// extended impostor pairs.
func TestPairsCounts(t *testing.T) {
	s, err := Scan(makeSet(t, 10, 8))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 80 || s[0].Finger != "101" || s[0].Impression != 1 || s[79].Finger != "110" || s[79].Impression != 8 {
		t.Fatalf("scan: %d samples, first %+v, last %+v", len(s), s[0], s[len(s)-1])
	}
	gen, std, ext := Pairs(s)
	if len(gen) != 280 || len(std) != 45 || len(ext) != 2880 {
		t.Errorf("pairs %d/%d/%d, want 280/45/2880", len(gen), len(std), len(ext))
	}
	for _, p := range std {
		if s[p[0]].Impression != 1 || s[p[1]].Impression != 1 || s[p[0]].Finger == s[p[1]].Finger {
			t.Errorf("std pair %v: %+v %+v", p, s[p[0]], s[p[1]])
		}
	}
}

// A loader that fails for some samples: they count as failures to extract
// and score 0 (ghost templates), and the figures still come out.
func TestRunWithFailures(t *testing.T) {
	dir := makeSet(t, 3, 3)
	tpl := fingerprint.Template{Width: 300, Height: 300, DPI: 500}
	for i := 0; i < 20; i++ {
		tpl.Minutiae = append(tpl.Minutiae, fingerprint.Minutia{X: 30 + (i*71)%240, Y: 30 + (i*43)%240, Angle: float64(i % 6), Type: 1})
	}
	load := func(path string) (fingerprint.Template, error) {
		if filepath.Base(path) == "102_2.tif" {
			return fingerprint.Template{}, errors.New("blank image")
		}
		// Each finger gets its own pattern: shift the minutiae of finger f.
		t := tpl
		t.Minutiae = nil
		f := int(filepath.Base(path)[2] - '0')
		for _, m := range tpl.Minutiae {
			m.Angle += float64(f) * 1.7
			m.X = (m.X * (f + 1)) % 300
			t.Minutiae = append(t.Minutiae, m)
		}
		return t, nil
	}
	rep, err := Run(dir, load, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.FailuresToExtract != 1 || len(rep.Failures) != 1 || rep.ExtractMsMedian < 0 || rep.ExtractMsMedian > 1000 {
		t.Errorf("failures %d %v, median %v ms", rep.FailuresToExtract, rep.Failures, rep.ExtractMsMedian)
	}
	ghosts := 0
	for _, c := range rep.Comparisons {
		if c.Probe == "102_2.tif" || c.Gallery == "102_2.tif" {
			if c.Score != 0 {
				t.Errorf("ghost comparison %+v scored", c)
			}
			ghosts++
		}
	}
	if ghosts != 8 || len(rep.Comparisons) != 36 {
		t.Errorf("%d ghost comparisons of %d, want 8 of 36", ghosts, len(rep.Comparisons))
	}
	// Identical templates per finger: every genuine pair but the two with
	// the ghost scores 1-ish, so FNMR is at most 2/9.
	if rep.FNMRAtFMR1e2 > 2.0/9+1e-9 || rep.ComparisonsPerSecond <= 0 || len(rep.DET) == 0 {
		t.Errorf("FNMR@1%% %v, cps %v, %d DET points", rep.FNMRAtFMR1e2, rep.ComparisonsPerSecond, len(rep.DET))
	}
}

func TestScanErrors(t *testing.T) {
	if _, err := Scan(t.TempDir()); err == nil {
		t.Error("empty folder accepted")
	}
	dir := makeSet(t, 1, 2)
	_ = os.WriteFile(filepath.Join(dir, "101_1.png"), nil, 0o644)
	if _, err := Scan(dir); err == nil {
		t.Error("two files for 101_1 accepted")
	}
}

// ThreadCPU counts the work of the thread, not the time it waits: a sleep
// costs next to nothing, a busy loop about its wall time.
func TestThreadCPU(t *testing.T) {
	d, cpu := ThreadCPU(func() { time.Sleep(60 * time.Millisecond) })
	if !cpu {
		if d < 60*time.Millisecond {
			t.Errorf("wall-clock fallback measured %v for a 60 ms sleep", d)
		}
		t.Skip("no thread CPU time on this system")
	}
	if d > 20*time.Millisecond {
		t.Errorf("a 60 ms sleep cost %v of CPU time", d)
	}
	x := 1.0
	d, _ = ThreadCPU(func() {
		for start := time.Now(); time.Since(start) < 30*time.Millisecond; {
			for i := 0; i < 1000; i++ {
				x = x*1.0000001 + 1e-9
			}
		}
	})
	if d <= 0 || d > 2*time.Second {
		t.Errorf("30 ms of busy loop cost %v of CPU time (x %v)", d, x)
	}
}
