package main

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/formats/iso19794"
)

func TestSynthPeopleCommand(t *testing.T) {
	dir := t.TempDir()
	sc := filepath.Join(dir, "scenario.json")
	os.WriteFile(sc, []byte(`{"seed": 7, "people": 40, "multi_state_rate": 0.5,
		"states": [{"code": "AUT", "name": "A", "weight": 1}, {"code": "BEL", "name": "B", "weight": 1}]}`), 0o644)
	out := filepath.Join(dir, "out")
	if rc := synthPeople([]string{"--scenario", sc, "--out", out, "--json"}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	var truth struct {
		People     int `json:"people"`
		CrossState int `json:"cross_state"`
		Truth      []struct {
			ID      string `json:"id"`
			Records []struct {
				State    string `json:"state"`
				RecordID string `json:"record_id"`
			} `json:"records"`
		} `json:"truth"`
	}
	b, err := os.ReadFile(filepath.Join(out, "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	if truth.People != 40 || truth.CrossState == 0 {
		t.Fatalf("truth: %d people, %d cross-state", truth.People, truth.CrossState)
	}
	// Every record in the truth is in its state's records, once.
	seen := map[string]int{}
	for _, st := range []string{"AUT", "BEL"} {
		f, err := os.Open(filepath.Join(out, st, "records.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var rec struct {
				RecordID   string            `json:"record_id"`
				Encounters []json.RawMessage `json:"encounters"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(rec.RecordID, st+"-") || len(rec.Encounters) == 0 {
				t.Fatalf("%s: record %q with %d encounters", st, rec.RecordID, len(rec.Encounters))
			}
			seen[rec.RecordID]++
		}
		f.Close()
	}
	for _, p := range truth.Truth {
		for _, r := range p.Records {
			if seen[r.RecordID] != 1 {
				t.Fatalf("record %s of %s written %d times", r.RecordID, p.ID, seen[r.RecordID])
			}
		}
	}
}

func TestSynthFingerprintTemplatesCommand(t *testing.T) {
	out := t.TempDir()
	if rc := synthFingerprints([]string{"--templates", "--fingers", "3", "--impressions", "2", "--seed", "5", "--workers", "2", "--out", out}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	for _, name := range []string{"1_1.iso", "1_2.iso", "3_2.iso"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		rec, _, err := iso19794.ParseMinutiae(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rec.Views) == 0 || len(rec.Views[0].Minutiae) < 5 {
			t.Fatalf("%s: too few minutiae", name)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Fatal(err)
	}
}

// TestSynthCompareCommand compares synthetic fingers with a stand-in "real"
// set (other synthetic fingers as ISO records, so that the test needs no
// data): five quantities with KS distances in [0, 1], sizes of the FVC
// protocol, and a well-formed SVG figure for each, the impostor tail too.
func TestSynthCompareCommand(t *testing.T) {
	real, figs := t.TempDir(), filepath.Join(t.TempDir(), "figs")
	if rc := synthFingerprints([]string{"--templates", "--fingers", "3", "--impressions", "4", "--seed", "9", "--out", real}); rc != 0 {
		t.Fatalf("synth fingerprints: exit code %d", rc)
	}
	os.Remove(filepath.Join(real, "manifest.json"))
	out, rc := captureStdout(t, func() int {
		return synthCompare([]string{"--dataset", real, "--fingers", "4", "--seed", "2", "--svg", figs, "--json"})
	})
	if rc != 0 {
		t.Fatalf("exit code %d: %s", rc, out)
	}
	var got []comparedQuantity
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// 4 fingers of 8 impressions: 112 genuine and 384 impostor pairs; 3 of
	// 4: 18 and 48.
	want := map[string][2]int{"genuine score": {112, 18}, "impostor score": {384, 48}, "minutiae per template": {32, 12}}
	if len(got) != 5 {
		t.Fatalf("%d quantities, want 5: %s", len(got), out)
	}
	for _, q := range got {
		if q.KS < 0 || q.KS > 1 || q.Figure == "" {
			t.Errorf("%+v", q)
		}
		if w, ok := want[q.Quantity]; ok && (q.Synthetic != w[0] || q.Real != w[1]) {
			t.Errorf("%s: %d synthetic and %d real, want %v", q.Quantity, q.Synthetic, q.Real, w)
		}
	}
	for _, f := range []string{"genuine", "impostor", "impostor-tail", "minutiae", "minutia-quality", "template-quality"} {
		b, err := os.ReadFile(filepath.Join(figs, f+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(b, new(struct{})); err != nil || !strings.Contains(string(b), "<polyline") {
			t.Errorf("%s.svg: not a figure (%v)", f, err)
		}
	}
}
