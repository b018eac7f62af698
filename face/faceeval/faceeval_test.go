package faceeval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/face/pipeline/pipelinetest"
	"github.com/ebsp/ebsp/internal/shareddata"
)

// TestLondonSubset is the acceptance check on the shared face set:
// no failure to enrol, and every genuine pair closer than every impostor
// pair (so above the FAR 1e-3 threshold) and within dlib's 0.6.
func TestLondonSubset(t *testing.T) {
	dir := shareddata.Dir(t, "faces/frl_london_subset")
	pipelinetest.SkipUnderRace(t)
	p := pipelinetest.Load(t)
	rep, err := Run(p, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	if rep.FailuresToEnrol != 0 {
		t.Errorf("failures to enrol: %v", rep.Failures)
	}
	if rep.GenuinePairs != 20 || rep.ImpostorPairs != 760 {
		t.Errorf("pairs %d genuine, %d impostor; want 20 and 760", rep.GenuinePairs, rep.ImpostorPairs)
	}
	if rep.TARAtFAR1e3 != 1 || rep.GenuineDistanceMax >= rep.ImpostorDistanceMin {
		t.Errorf("TAR at FAR 1e-3 %.3f: worst genuine distance %.3f, closest impostor %.3f", rep.TARAtFAR1e3, rep.GenuineDistanceMax, rep.ImpostorDistanceMin)
	}
	if rep.GenuineDistanceMax >= 0.6 {
		t.Errorf("worst genuine distance %.3f is beyond dlib's threshold 0.6", rep.GenuineDistanceMax)
	}
}

func TestReadLabelsErrors(t *testing.T) {
	for name, body := range map[string]string{
		"no columns": "a,b\nx,y\n",
		"empty":      "file,identity\n",
		"escape":     "file,identity\n../x.jpg,1\n",
		"no id":      "file,identity\nx.jpg,\n",
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "labels.csv"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadLabels(dir); err == nil || !strings.Contains(err.Error(), "labels.csv") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
