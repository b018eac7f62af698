package fvc

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ebsp/ebsp/fingerprint"
)

// SetName is the name Across gives a report's data set: the base name of
// its folder.
func (r *Report) SetName() string { return filepath.Base(r.Dataset) }

// Across compares every sample of each report with every sample of each
// later report (the first as probe): impostor comparisons between data
// sets, which the FVC protocol does not make. Five sets of 80 impressions
// give 14,400 impostor pairs within the sets and 64,000 across them, so a
// score tail measured on both rests on five times as many pairs
// (engine.FVCFingerTail).
//
// Two data sets may hold the same finger under different names (one
// volunteer, two collections or sensors): such pairs are mates, not
// impostors, and would make the tail look heavier than it is. Each group
// of same lists the fingers, as "SET/FINGER" (SET as SetName gives it),
// that are one finger; pairs of two of them are left out. Across fails
// when a name is not a finger of one of the reports, when two reports have
// the same SetName, or when a report was not made with Options.Keep.
//
// Probe and Gallery are "SET/FILE"; ProbeIndex and GalleryIndex are the
// samples' places in their own report. Ghost templates (failures to
// extract) score 0, as in Run.
func Across(reps []*Report, same [][]string) ([]Comparison, error) {
	samples := map[string][]Sample{}
	for _, r := range reps {
		if r.prepared == nil && r.Samples > 0 {
			return nil, fmt.Errorf("fvc: %s was run without Options.Keep", r.Dataset)
		}
		if _, dup := samples[r.SetName()]; dup {
			return nil, fmt.Errorf("fvc: two data sets are named %q", r.SetName())
		}
		samples[r.SetName()] = r.samples
	}
	group, err := sameGroups(samples, same)
	if err != nil {
		return nil, err
	}
	var out []Comparison
	for a, ra := range reps {
		for i, sa := range ra.samples {
			// One matcher a probe, made here: a matcher keeps scratch
			// space of a few hundred KB, too much to keep for every
			// sample of every set.
			var m *fingerprint.Matcher
			if ra.prepared[i] != nil {
				m = fingerprint.NewMatcherWith(ra.templates[i], ra.match)
			}
			ga := group[ra.SetName()+"/"+sa.Finger]
			for _, rb := range reps[a+1:] {
				for j, sb := range rb.samples {
					if ga != 0 && ga == group[rb.SetName()+"/"+sb.Finger] {
						continue
					}
					score := 0.0
					if m != nil && rb.prepared[j] != nil {
						score = m.Compare(rb.prepared[j])
					}
					out = append(out, Comparison{
						Probe: ra.SetName() + "/" + filepath.Base(sa.Path), Gallery: rb.SetName() + "/" + filepath.Base(sb.Path),
						ProbeIndex: i, GalleryIndex: j, Score: score,
					})
				}
			}
		}
	}
	return out, nil
}

// CheckSame checks the groups of same fingers that Across would be given
// for the data sets in dirs, before they are run: each name must be
// "SET/FINGER" with SET the base name of one of dirs and FINGER one of its
// fingers, and no name may be given twice.
func CheckSame(dirs []string, same [][]string) error {
	samples := map[string][]Sample{}
	for _, d := range dirs {
		s, err := Scan(d)
		if err != nil {
			return err
		}
		if _, dup := samples[filepath.Base(d)]; dup {
			return fmt.Errorf("fvc: two data sets are named %q", filepath.Base(d))
		}
		samples[filepath.Base(d)] = s
	}
	_, err := sameGroups(samples, same)
	return err
}

// sameGroups maps each "SET/FINGER" of same to the index of its group,
// plus one, checking the names against the sets' samples.
func sameGroups(samples map[string][]Sample, same [][]string) (map[string]int, error) {
	group := map[string]int{}
	for g, names := range same {
		for _, n := range names {
			set, finger, ok := strings.Cut(n, "/")
			if !ok || !slices.ContainsFunc(samples[set], func(s Sample) bool { return s.Finger == finger }) {
				return nil, fmt.Errorf("fvc: same finger %q: want SET/FINGER naming a finger of one of the data sets", n)
			}
			if _, twice := group[n]; twice {
				return nil, fmt.Errorf("fvc: same finger %q is named twice", n)
			}
			group[n] = g + 1
		}
	}
	return group, nil
}
