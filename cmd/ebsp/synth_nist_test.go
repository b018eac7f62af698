package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/formats/ansinist"
	"github.com/ebsp/ebsp/formats/wsq"
	"github.com/ebsp/ebsp/node"
)

// synthNode is an in-process node that takes ANSI/NIST-ITL transactions.
type synthNode struct {
	srv   *httptest.Server
	token string
}

func newSynthNode(t *testing.T) *synthNode {
	t.Helper()
	dir := t.TempDir()
	tok := "synth-nist-test-token"
	cfg := &node.Config{State: "USA", DataDir: dir, RatePerSecond: 1000, Burst: 1000,
		Tokens: []node.TokenConfig{{Name: "officer", SHA256: node.TokenHash(tok), Roles: []node.Role{node.RoleEnroller, node.RoleSearcher}}},
		// The people are synthetic: the node is calibrated with the tail
		// measured on synthetic fingers, not the conservative real-image
		// default, whose thresholds synthetic genuine scores do not all
		// reach (docs/synthetic-data.md).
		ImpostorTails: map[biometric.Modality]engine.Tail{biometric.Finger: engine.SyntheticFingerTail}}
	st, err := node.OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(cfg, st, engine.Defaults(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.LoadGallery(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &synthNode{srv: srv, token: tok}
}

// post sends a transaction file and decodes the JSON answer.
func (sn *synthNode) post(t *testing.T, path, file string, out any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", sn.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/x-ansi-nist")
	req.Header.Set("Authorization", "Bearer "+sn.token)
	resp, err := sn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s %s: %d %s", path, filepath.Base(file), resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("POST %s: %v: %s", path, err, body)
	}
}

func (sn *synthNode) enrol(t *testing.T, id, file string) {
	t.Helper()
	var r node.EnrolResponse
	sn.post(t, "/v1/enrolments?identity_id="+id+"&legal_basis=test", file, &r)
	if len(r.Samples) == 0 {
		t.Fatalf("enrol %s from %s: no samples", id, file)
	}
	for _, s := range r.Samples {
		if !s.Template {
			t.Fatalf("enrol %s from %s: sample %+v not searchable", id, file, s)
		}
	}
}

func (sn *synthNode) identify(t *testing.T, file string) node.IdentifyResponse {
	t.Helper()
	var r node.IdentifyResponse
	sn.post(t, "/v1/identify", file, &r)
	return r
}

// readCleanTransaction decodes a transaction file and fails on any reader
// warning or missing mandatory field.
func readCleanTransaction(t *testing.T, file string) *ansinist.Transaction {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tx, warns, err := ansinist.Decode(b)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	warns = append(warns, tx.Conformance()...)
	if len(warns) > 0 {
		t.Fatalf("%s: warnings %v", file, warns)
	}
	return tx
}

// TestSynthFingerprintsNIST checks the whole chain of image-level export:
// each impression's transaction reads without warnings, holds a Type-14 WSQ
// record at 500 ppi whose image decodes close to the PNG beside it, and a
// node enrols the first impressions and identifies each finger from its
// second impression's transaction.
func TestSynthFingerprintsNIST(t *testing.T) {
	if underRace {
		t.Skip("image rendering under -race takes a minute; this test has no concurrency of its own")
	}
	out := t.TempDir()
	const fingers = 3
	if rc := synthFingerprints([]string{"--fingers", fmt.Sprint(fingers), "--impressions", "2", "--seed", "11", "--fgp", "2", "--out", out}); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
	tx := readCleanTransaction(t, filepath.Join(out, "nist", "1_1.an2"))
	ims := tx.FingerImages()
	if len(ims) != 1 {
		t.Fatalf("%d finger images, want 1", len(ims))
	}
	im := ims[0]
	if im.Type != 14 || im.Compression != ansinist.WSQ || im.PPI != 500 || im.Impression != 0 ||
		len(im.Positions) != 1 || im.Positions[0] != biometric.RightIndex {
		t.Fatalf("Type-14 record: %+v", im.Image)
	}
	got, meta, err := wsq.DecodeBytes(im.Data, nil)
	if err != nil {
		t.Fatalf("WSQ: %v", err)
	}
	if meta.PPI != 500 || meta.NISTCOM == nil {
		t.Errorf("WSQ NISTCOM: ppi %d, %v", meta.PPI, meta.NISTCOM)
	}
	if bpp := float64(len(im.Data)*8) / float64(im.Width*im.Height); bpp > 1.2 {
		t.Errorf("WSQ at %.2f bits per pixel, want about 0.75", bpp)
	}
	f, err := os.Open(filepath.Join(out, "1_1.png"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != ref.Bounds() {
		t.Fatalf("WSQ image %v, PNG %v", got.Bounds(), ref.Bounds())
	}
	var sum float64
	for y := range got.Bounds().Dy() {
		for x := range got.Bounds().Dx() {
			r, _, _, _ := ref.At(x, y).RGBA()
			d := float64(got.GrayAt(x, y).Y) - float64(r>>8)
			sum += d * d
		}
	}
	rms := math.Sqrt(sum / float64(got.Bounds().Dx()*got.Bounds().Dy()))
	t.Logf("WSQ %d bytes, %.2f bits per pixel, RMS difference from the PNG %.1f grey levels",
		len(im.Data), float64(len(im.Data)*8)/float64(im.Width*im.Height), rms)
	if rms > 15 {
		t.Errorf("WSQ image differs from the PNG by RMS %.1f grey levels", rms)
	}

	sn := newSynthNode(t)
	for i := 1; i <= fingers; i++ {
		sn.enrol(t, fmt.Sprintf("F%d", i), filepath.Join(out, "nist", fmt.Sprintf("%d_1.an2", i)))
	}
	for i := 1; i <= fingers; i++ {
		file := filepath.Join(out, "nist", fmt.Sprintf("%d_2.an2", i))
		readCleanTransaction(t, file)
		r := sn.identify(t, file)
		if r.Decision != biometric.Hit || len(r.Candidates) == 0 || r.Candidates[0].IdentityID != fmt.Sprintf("F%d", i) {
			t.Errorf("identify finger %d from its second impression: %+v", i, r)
		}
	}
}

// synthManifest is what a state's manifest.json holds.
type synthManifest struct {
	Records []stateTruthLine `json:"records"`
}

func readStateManifest(t *testing.T, dir string) synthManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m synthManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSynthPeopleNIST enrols one state's first encounters, as the
// transactions synth people wrote, into a node and searches the other
// state's transactions of the same travellers: the chain a cross-border
// search runs. Template level (Type-9 minutiae) and image level (Type-14
// WSQ) both.
func TestSynthPeopleNIST(t *testing.T) {
	for _, images := range []bool{false, true} {
		t.Run(fmt.Sprintf("images=%v", images), func(t *testing.T) {
			if images && underRace {
				t.Skip("image rendering under -race takes a minute; the template-level run covers the concurrency")
			}
			dir := t.TempDir()
			sc := filepath.Join(dir, "scenario.json")
			people, fingers := 12, `[2, 7]`
			if images {
				people, fingers = 3, `[2]` // rendering costs about a second a finger
			}
			os.WriteFile(sc, []byte(fmt.Sprintf(`{"seed": 9, "people": %d, "multi_state_rate": 1, "foreign_share": 0,
				"encounters": {"visa": 0, "border_crossing": 1.5, "arrest": 0.3},
				"states": [{"code": "AUT", "name": "A", "weight": 1}, {"code": "BEL", "name": "B", "weight": 1}],
				"biometrics": {"fingers": %s, "face": false, "finger_images": %v}}`, people, fingers, images)), 0o644)
			out := filepath.Join(dir, "out")
			if rc := synthPeople([]string{"--scenario", sc, "--out", out, "--workers", "2"}); rc != 0 {
				t.Fatalf("exit code %d", rc)
			}
			a, b := readStateManifest(t, filepath.Join(out, "AUT")), readStateManifest(t, filepath.Join(out, "BEL"))
			sn := newSynthNode(t)
			owner := map[string]string{} // person -> AUT record
			wantType := 9
			if images {
				wantType = 14
			}
			for _, r := range a.Records {
				if len(r.Transactions) == 0 {
					t.Fatalf("AUT record %s has no transactions", r.RecordID)
				}
				file := filepath.Join(out, "AUT", r.Transactions[0])
				tx := readCleanTransaction(t, file)
				if got := tx.Records[1].Value(9); got != r.RecordID {
					t.Errorf("%s: Type-2 OCA %q", file, got)
				}
				if len(tx.Records) < 3 || tx.Records[2].Type != wantType {
					t.Fatalf("%s: record 2 is not Type-%d", file, wantType)
				}
				sn.enrol(t, r.RecordID, file)
				owner[r.PersonID] = r.RecordID
			}
			searched := 0
			for _, r := range b.Records {
				want, ok := owner[r.PersonID]
				if !ok || len(r.Transactions) == 0 {
					continue
				}
				file := filepath.Join(out, "BEL", r.Transactions[len(r.Transactions)-1])
				readCleanTransaction(t, file)
				res := sn.identify(t, file)
				searched++
				if res.Decision != biometric.Hit || len(res.Candidates) == 0 || res.Candidates[0].IdentityID != want {
					t.Errorf("search of %s (person %s): want %s first, got %+v", r.RecordID, r.PersonID, want, res)
				}
			}
			if searched == 0 {
				t.Fatal("no traveller enrolled in both states")
			}
			t.Logf("%d cross-border searches", searched)
		})
	}
}
