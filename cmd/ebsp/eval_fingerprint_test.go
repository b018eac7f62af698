package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/eval"
	"github.com/ebsp/ebsp/fingerprint/fvc"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// fvcSetArgs are the flags of `ebsp eval fingerprint` for the five shared
// FVC sets at their resolutions (PROVENANCE.md).
func fvcSetArgs(t *testing.T) []string {
	args := []string{"--dpi", "500,569,500,500,512"}
	for _, s := range []string{"fvc2002_DB1_B", "fvc2002_DB2_B", "fvc2002_DB3_B", "fvc2004_DB2_B", "fvc2004_DB3_B"} {
		args = append(args, "--dataset", shareddata.Dir(t, filepath.Join("fingerprints", s)))
	}
	return args
}

// TestEvalFingerprintSets runs `ebsp eval fingerprint` on the five shared
// FVC sets with --leave-one-out: the pooled error-versus-reject curve must
// fall when the lowest-quality 5% of the images are rejected (issue 15: the
// sample quality predicts matching performance), and there is one fold per
// set and target FMR, its threshold chosen on the other four.
func TestEvalFingerprintSets(t *testing.T) {
	if testing.Short() {
		t.Skip("extracts 400 images")
	}
	args := append([]string{"fingerprint", "--leave-one-out", "--json"}, fvcSetArgs(t)...)
	out, rc := captureStdout(t, func() int { return runEval(args) })
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, out)
	}
	var got struct {
		Sets []struct {
			Dataset           string          `json:"dataset"`
			FailuresToExtract int             `json:"failures_to_extract"`
			ERC               []eval.ERCPoint `json:"erc"`
		} `json:"sets"`
		PooledERC   []eval.ERCPoint `json:"erc_pooled"`
		LeaveOneOut []fvc.Fold      `json:"leave_one_out"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Sets) != 5 || len(got.PooledERC) != len(fvc.ERCFractions) || len(got.LeaveOneOut) != 10 {
		t.Fatalf("%d sets, %d pooled ERC points, %d folds; want 5, %d, 10", len(got.Sets), len(got.PooledERC), len(got.LeaveOneOut), len(fvc.ERCFractions))
	}
	at := func(pts []eval.ERCPoint, f float64) eval.ERCPoint {
		for _, p := range pts {
			if p.Fraction == f {
				return p
			}
		}
		t.Fatalf("no ERC point at %v", f)
		return eval.ERCPoint{}
	}
	p0, p5 := at(got.PooledERC, 0), at(got.PooledERC, 0.05)
	t.Logf("pooled FNMR @ FMR 0.1%%: %.2f%% -> %.2f%% rejecting the lowest-quality 5%% (%d images)", 100*p0.FNMR, 100*p5.FNMR, p5.Rejected)
	if p5.Rejected != 20 || p5.FNMR >= p0.FNMR {
		t.Errorf("pooled ERC: rejecting %d images took FNMR from %v to %v, want 20 images and lower", p5.Rejected, p0.FNMR, p5.FNMR)
	}
	for _, s := range got.Sets {
		// The fingerprint check (fingerprint/validity.go) refuses no real
		// print: failures to extract stay at none.
		if s.FailuresToExtract != 0 {
			t.Errorf("%s: %d failures to extract", filepath.Base(s.Dataset), s.FailuresToExtract)
		}
		t.Logf("%s: FNMR @ FMR 0.1%% %.2f%% -> %.2f%% at 5%% rejected", filepath.Base(s.Dataset), 100*at(s.ERC, 0).FNMR, 100*at(s.ERC, 0.05).FNMR)
	}
	for _, f := range got.LeaveOneOut {
		if f.FMR != 1e-2 && f.FMR != 1e-3 || f.Threshold <= 0 || f.HeldOutFNMR < 0 || f.HeldOutFNMR > 1 {
			t.Errorf("fold %+v", f)
		}
	}
	// The text form prints the fold table (two sets, to keep it short).
	out, rc = captureStdout(t, func() int {
		return runEval([]string{"fingerprint", "--leave-one-out", "--dataset", got.Sets[0].Dataset, "--dataset", got.Sets[2].Dataset})
	})
	folds := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "fvc2002_DB3_B ") {
			folds++
		}
	}
	if rc != 0 || !strings.Contains(out, "leave one set out") || !strings.Contains(out, "2 sets pooled") || folds != 2 {
		t.Errorf("text output (exit %d):\n%s", rc, out)
	}
}

// TestEvalFingerprintSameFingerRefused checks --same-finger's errors: it
// needs --scores and two or more sets, a group names two or more fingers,
// and a name that is no finger of the sets is refused by name before the
// sets are run.
func TestEvalFingerprintSameFingerRefused(t *testing.T) {
	d1 := shareddata.Dir(t, "fingerprints/fvc2002_DB1_B")
	d3 := shareddata.Dir(t, "fingerprints/fvc2002_DB3_B")
	scores := filepath.Join(t.TempDir(), "s.csv")
	for _, c := range []struct {
		args []string
		rc   int
		want string
	}{
		{[]string{"--dataset", d1, "--dataset", d3, "--same-finger", "fvc2002_DB1_B/101,fvc2002_DB3_B/101"}, 1, "needs --scores"},
		{[]string{"--dataset", d1, "--scores", scores, "--same-finger", "fvc2002_DB1_B/101,fvc2002_DB3_B/101"}, 1, "two or more --dataset"},
		{[]string{"--dataset", d1, "--dataset", d3, "--scores", scores, "--same-finger", "fvc2002_DB1_B/101"}, 2, "two or more SET/FINGER"},
		{[]string{"--dataset", d1, "--dataset", d3, "--scores", scores, "--same-finger", "fvc2002_DB1_B/101,fvc2002_DB3_B/999"}, 1, `"fvc2002_DB3_B/999"`},
	} {
		out, rc := captureStderr(t, func() int { return runEval(append([]string{"fingerprint"}, c.args...)) })
		if rc != c.rc || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, want %d and %q: %s", c.args, rc, c.rc, c.want, out)
		}
		if strings.Contains(out, "eval: set 1 of 2") {
			t.Errorf("%v: the sets were run before the error: %s", c.args, out)
		}
	}
}
