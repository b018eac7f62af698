package fvc

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
)

// patternLoader gives each finger its own minutiae pattern, the same for
// each of its impressions, keyed by the finger's name.
func patternLoader(path string) (fingerprint.Template, error) {
	f := 0
	for _, c := range strings.Split(filepath.Base(path), "_")[0] {
		f = f*7 + int(c)
	}
	t := fingerprint.Template{Width: 300, Height: 300, DPI: 500}
	for i := 0; i < 20; i++ {
		t.Minutiae = append(t.Minutiae, fingerprint.Minutia{X: 30 + (i*71*(f%5+1))%240, Y: 30 + (i*43+f)%240, Angle: float64(i%6) + float64(f%11)*0.5, Type: 1})
	}
	return t, nil
}

// Across pairs every impression of one set with every impression of the
// other, leaves out the fingers declared the same, and refuses what it
// cannot resolve.
func TestAcross(t *testing.T) {
	a, b := makeSet(t, 3, 2), makeSet(t, 2, 2)
	// Set b's finger 101 is set a's finger 102 under another name: the
	// same pattern. Its 102_2 fails extraction: a ghost that scores 0.
	ra, err := Run(a, patternLoader, Options{Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Run(b, func(p string) (fingerprint.Template, error) {
		switch name := filepath.Base(p); {
		case name == "102_2.tif":
			return fingerprint.Template{}, errors.New("blank image")
		case strings.HasPrefix(name, "101_"):
			return patternLoader(filepath.Join(filepath.Dir(p), "102_x"))
		}
		return patternLoader(p)
	}, Options{Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := ra.SetName(), rb.SetName()
	all, err := Across([]*Report{ra, rb}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6*4 {
		t.Fatalf("%d comparisons across 6 and 4 impressions, want 24", len(all))
	}
	best, ghosts := all[0], 0
	for _, c := range all {
		if !strings.HasPrefix(c.Probe, sa+"/") || !strings.HasPrefix(c.Gallery, sb+"/") || c.Genuine {
			t.Fatalf("comparison %+v: want an impostor from %s to %s", c, sa, sb)
		}
		if c.Gallery == sb+"/102_2.tif" {
			if c.Score != 0 {
				t.Errorf("ghost comparison %+v scored", c)
			}
			ghosts++
		}
		if c.Score > best.Score {
			best = c
		}
	}
	if ghosts != 6 {
		t.Errorf("%d comparisons with the ghost, want 6", ghosts)
	}
	if !strings.HasPrefix(best.Probe, sa+"/102_") || !strings.HasPrefix(best.Gallery, sb+"/101_") {
		t.Fatalf("best pair across %+v: want %s/102 against %s/101, the one finger", best, sa, sb)
	}
	kept, err := Across([]*Report{ra, rb}, [][]string{{sa + "/102", sb + "/101"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 24-4 {
		t.Fatalf("%d comparisons with one finger declared the same, want 20", len(kept))
	}
	for _, c := range kept {
		if strings.HasPrefix(c.Probe, sa+"/102_") && strings.HasPrefix(c.Gallery, sb+"/101_") {
			t.Fatalf("declared pair kept: %+v", c)
		}
	}
	for _, bad := range [][][]string{{{sa + "/999", sb + "/101"}}, {{"nosuchset/101", sb + "/101"}}, {{"102", sb + "/101"}}, {{sa + "/101", sa + "/101"}}} {
		if _, err := Across([]*Report{ra, rb}, bad); err == nil {
			t.Errorf("same %v: no error", bad)
		}
	}
	if _, err := Across([]*Report{ra, ra}, nil); err == nil {
		t.Error("two reports of one folder: no error")
	}
	plain, err := Run(a, patternLoader, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Across([]*Report{plain, rb}, nil); err == nil {
		t.Error("a report without Keep: no error")
	}
}
