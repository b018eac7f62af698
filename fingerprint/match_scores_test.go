package fingerprint_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/synth"
)

// The matcher's score scale is a contract: the node's decision thresholds
// (engine.FVCFingerTail, engine.SyntheticFingerTail) and every figure in docs/fingerprint-matching.md were
// measured on it. TestScoresPinned holds the scores of fixed template pairs
// to what the matcher gave when they were recorded, so that a speed change
// cannot move them unnoticed. For each set the golden file holds:
//
//	inputs SET HASH            hash of the set's templates (minutiae, in order)
//	row SET PROBE HASH         hash of the probe's scores against every
//	                           template of the set (the full N×N matrix)
//	pair SET PROBE GALLERY S   the exact score of a genuine pair, or of one
//	                           impostor pair per probe, to show what moved
//
// Regenerate (only after a deliberate change of the score scale, with the
// thresholds recalibrated) with
//
//	go test -run TestScoresPinned ./fingerprint -update-scores
var updateScores = flag.Bool("update-scores", false, "rewrite testdata/match_scores_*.txt from the current matcher")

// scoreTolerance is the largest score difference accepted: scores are
// recorded on amd64, and another architecture may fuse a multiply-add in the
// float32 relaxation.
const scoreTolerance = 1e-6

// pinnedSet is a named list of templates with their names (finger_impression).
type pinnedSet struct {
	name  string
	names []string
	ts    []fingerprint.Template
}

func TestScoresPinned(t *testing.T) {
	t.Run("secugen", func(t *testing.T) {
		var sets []pinnedSet
		for _, s := range []string{"fvc2002/DB1_B", "fvc2002/DB2_B", "fvc2002/DB3_B", "fvc2004/DB2_B", "fvc2004/DB3_B"} {
			files, ts := secugenTemplates(t, filepath.Join(s))
			names := make([]string, len(files))
			for i, f := range files {
				names[i] = strings.TrimSuffix(filepath.Base(f), ".iso")
			}
			sets = append(sets, pinnedSet{"secugen:" + s, names, ts})
		}
		checkPinned(t, "testdata/match_scores_secugen.txt", sets)
	})
	t.Run("synthetic", func(t *testing.T) {
		// 40 synthetic fingers of seed 7, three impressions each (the
		// template-level generator, as the node benchmarks use).
		set := pinnedSet{name: "synth:seed7"}
		for f := range uint64(40) {
			m := synth.NewFingerMaster(7, f)
			master := synth.TemplateMaster(m)
			for k := range uint64(3) {
				set.names = append(set.names, fmt.Sprintf("%d_%d", f, k+1))
				set.ts = append(set.ts, synth.TemplateImpression(m, &master, k+1))
			}
		}
		checkPinned(t, "testdata/match_scores_synth.txt", []pinnedSet{set})
	})
}

// finger is the finger part of a finger_impression name.
func finger(name string) string {
	f, _, _ := strings.Cut(name, "_")
	return f
}

// pinnedScores computes what the golden file records, in its line order;
// without rows, only the inputs and pair lines (a few thousand comparisons
// instead of about 46,000).
func pinnedScores(sets []pinnedSet, rows bool) []string {
	var lines []string
	for _, s := range sets {
		lines = append(lines, fmt.Sprintf("inputs %s %s", s.name, templatesHash(s.ts)))
		n := len(s.ts)
		gallery := make([]*fingerprint.Prepared, n)
		for i, tpl := range s.ts {
			gallery[i] = fingerprint.Prepare(tpl)
		}
		var pairs []string
		for i, tpl := range s.ts {
			// One Matcher per probe, used for every gallery template in
			// turn: what a 1:N scan does, scratch space reused.
			m := fingerprint.NewMatcher(tpl)
			imp := (i*7 + 3) % n
			h := sha256.New()
			for j, g := range gallery {
				detail := j != i && (finger(s.names[j]) == finger(s.names[i]) && j > i || j == imp && finger(s.names[j]) != finger(s.names[i]))
				if !detail && !rows {
					continue
				}
				score := m.Compare(g)
				h.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(score)))
				if detail {
					pairs = append(pairs, fmt.Sprintf("pair %s %s %s %s", s.name, s.names[i], s.names[j], strconv.FormatFloat(score, 'g', -1, 64)))
				}
			}
			if rows {
				lines = append(lines, fmt.Sprintf("row %s %s %s", s.name, s.names[i], hex.EncodeToString(h.Sum(nil)[:8])))
			}
		}
		lines = append(lines, pairs...)
	}
	return lines
}

// templatesHash identifies a list of templates, so that a change of the
// inputs (the synthetic generator, the ISO reader) is told apart from a
// change of the matcher.
func templatesHash(ts []fingerprint.Template) string {
	h := sha256.New()
	var b []byte
	for _, t := range ts {
		b = binary.BigEndian.AppendUint32(b[:0], uint32(t.Width))
		b = binary.BigEndian.AppendUint32(b, uint32(t.Height))
		b = binary.BigEndian.AppendUint32(b, uint32(t.DPI))
		b = binary.BigEndian.AppendUint32(b, uint32(len(t.Minutiae)))
		for _, m := range t.Minutiae {
			b = binary.BigEndian.AppendUint32(b, uint32(m.X))
			b = binary.BigEndian.AppendUint32(b, uint32(m.Y))
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(m.Angle))
			b = append(b, byte(m.Type), m.Quality)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func checkPinned(t *testing.T, golden string, sets []pinnedSet) {
	got := pinnedScores(sets, *updateScores || !testing.Short())
	if *updateScores {
		out := "# Scores of fixed template pairs, pinned by TestScoresPinned (match_scores_test.go).\n" +
			"# Rewritten by: go test -run TestScoresPinned ./fingerprint -update-scores\n" +
			strings.Join(got, "\n") + "\n"
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d lines)", golden, len(got))
		return
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatalf("%v (write it with -update-scores)", err)
	}
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	wantBy := map[string]string{} // line key (all but the value) → value
	for _, l := range want {
		i := strings.LastIndexByte(l, ' ')
		wantBy[l[:i]] = l[i+1:]
	}
	checked, exact, rowsBad := 0, 0, 0
	for _, l := range got {
		i := strings.LastIndexByte(l, ' ')
		key, v := l[:i], l[i+1:]
		w, ok := wantBy[key]
		switch {
		case !ok:
			t.Errorf("%s: no such line in %s (regenerate with -update-scores?)", key, golden)
		case strings.HasPrefix(key, "inputs "):
			if w != v {
				t.Fatalf("%s: the templates changed (hash %s, recorded %s): the synthetic generator or the template reader changed, not necessarily the matcher; check the matcher against the old inputs before regenerating with -update-scores", key, v, w)
			}
		case strings.HasPrefix(key, "row "):
			if w != v && runtime.GOARCH == "amd64" { // rows are exact, as recorded on amd64
				rowsBad++
				if rowsBad <= 20 {
					t.Errorf("%s: scores against the set changed", key)
				}
			}
		case strings.HasPrefix(key, "pair "):
			checked++
			gs, _ := strconv.ParseFloat(v, 64)
			ws, err := strconv.ParseFloat(w, 64)
			if err != nil {
				t.Fatalf("%s: bad recorded score %q", key, w)
			}
			if gs == ws {
				exact++
			} else if math.Abs(gs-ws) > scoreTolerance {
				t.Errorf("%s: score %s, recorded %s (difference %.3g)", key, v, w, gs-ws)
			}
		}
	}
	if rowsBad > 0 {
		t.Errorf("%d probes' rows of scores changed", rowsBad)
	}
	if checked == 0 {
		t.Fatal("no pair checked")
	}
	t.Logf("%s: %d pairs checked, %d bit for bit; %d of %d full rows differ (none checked with -short)", golden, checked, exact, rowsBad, len(got)-checked-len(sets))
}
