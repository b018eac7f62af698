package main

import (
	"bufio"
	"encoding/json"
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
