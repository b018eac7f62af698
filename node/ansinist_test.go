package node

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/formats/ansinist"
	"github.com/ebsp/ebsp/internal/shareddata"
)

func postRaw(t *testing.T, tn *testNode, role Role, path, ctype, accept string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", tn.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("Authorization", "Bearer "+roleTokens[role])
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	observe("POST", path, resp.StatusCode)
	return resp.StatusCode, resp.Header, b
}

// TestTenprintTransaction enrols the NIST tenprint card (ANSI/NIST-ITL
// Type-4 records, WSQ) and identifies one of its fingers, sent as a WSQ
// sample and as the Type-14 transaction of the same card, which also
// gets an ANSI/NIST search response.
func TestTenprintTransaction(t *testing.T) {
	dir := shareddata.Dir(t, "formats/ansi-nist/nist-reference")
	card, err := os.ReadFile(filepath.Join(dir, "type-4-tpcard.an2"))
	if err != nil {
		t.Fatal(err)
	}
	tn := newTestNode(t, nil)
	enrolPeople(t, tn, 5) // others in the gallery
	st, _, body := postRaw(t, tn, RoleEnroller, "/v1/enrolments?identity_id=CARD-1&legal_basis=test", mediaANSINIST, "", card)
	if st != 201 {
		t.Fatalf("enrol tenprint card: %d %s", st, body)
	}
	var er struct {
		EnrolResponse
		Skipped []string `json:"skipped"`
	}
	if err := json.Unmarshal(body, &er); err != nil {
		t.Fatal(err)
	}
	if len(er.Samples) < 10 {
		t.Fatalf("%d samples enrolled from the card (skipped %v)", len(er.Samples), er.Skipped)
	}
	for _, s := range er.Samples {
		if !s.Template {
			t.Errorf("sample %v not searchable", s)
		}
	}
	// One finger's WSQ from the card's records, as a JSON sample.
	tx, _, err := ansinist.Decode(card)
	if err != nil {
		t.Fatal(err)
	}
	right := fingerImageAt(t, tx, biometric.RightIndex)
	st2, b := tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": []SampleInput{{Modality: biometric.Finger, Position: biometric.RightIndex, Format: "wsq", Data: right.Data}}})
	if st2 != 200 || b["decision"] != "hit" || b["candidates"].([]any)[0].(map[string]any)["identity_id"] != "CARD-1" {
		t.Fatalf("identify right index: %d %v", st2, b)
	}
	// The same card as a Type-14 transaction, answered in ANSI/NIST.
	t14, err := os.ReadFile(filepath.Join(dir, "type-14-tpcard-nqm.an2"))
	if err != nil {
		t.Fatal(err)
	}
	st, h, body := postRaw(t, tn, RoleSearcher, "/v1/identify", mediaANSINIST, mediaANSINIST, t14)
	if st != 200 || h.Get("Content-Type") != mediaANSINIST {
		t.Fatalf("identify Type-14 card: %d %s", st, body)
	}
	sre, _, err := ansinist.Decode(body)
	if err != nil {
		t.Fatalf("response is not a transaction: %v", err)
	}
	if sre.TOT() != "SRE" || !bytes.Contains(body, []byte("CARD-1")) {
		t.Errorf("search response TOT %q, candidate CARD-1 present: %v", sre.TOT(), bytes.Contains(body, []byte("CARD-1")))
	}
	// The card's plain right-four-finger slap (FGP 13, no segmentation in
	// Type-4) as a Type-14 record with 14.021 SEG boxes around its four
	// fingers, read off the image by eye, and one entry naming a left
	// finger: the node cuts the four fingers out and finds the card.
	slap := slapTransaction(t, tx)
	sl, _, err := ansinist.Decode(slap)
	if err != nil {
		t.Fatal(err)
	}
	var slapImage ansinist.FingerImage
	for _, im := range sl.FingerImages() {
		slapImage = im
	}
	// Under a bound smaller than the slap, nothing is cut, and the note says
	// why.
	if fingers, notes := slapSamples(sl, slapImage, 1000); len(fingers) != 0 || len(notes) != 2 {
		t.Fatalf("slap under a 1000-pixel bound: %d fingers, notes %q", len(fingers), notes)
	}
	fingers, notes := slapSamples(sl, slapImage, slapPixels(tn.cfg.MaxImagePixels))
	if len(fingers) != 4 || len(notes) != 1 {
		t.Fatalf("slap cut into %d fingers, notes %q", len(fingers), notes)
	}
	for i, f := range fingers {
		if f.Position != biometric.FingerPosition(i+2) || f.Format != "png" || f.DPI != 500 {
			t.Errorf("finger %d: position %d, format %s, %d dpi", i, f.Position, f.Format, f.DPI)
		}
	}
	st, _, body = postRaw(t, tn, RoleSearcher, "/v1/identify", mediaANSINIST, "", slap)
	var ir IdentifyResponse
	// Hit or review: the slap's fused score sits at the hit threshold the
	// conservative real-image tail gives (0.471 against 0.472 for six
	// identities); what is checked is that the cut fingers find the card.
	if st != 200 || json.Unmarshal(body, &ir) != nil || ir.Decision == biometric.NoHit || ir.Candidates[0].IdentityID != "CARD-1" {
		t.Fatalf("identify with the segmented slap: %d %s", st, body)
	}
	t.Logf("SLAP: 4 fingers cut from the FGP 13 slap; identify: %s, first candidate %s, score %.3f", ir.Decision, ir.Candidates[0].IdentityID, ir.Candidates[0].Score)
	// A transaction that is not one.
	if st, _, _ := postRaw(t, tn, RoleEnroller, "/v1/enrolments?legal_basis=test", mediaANSINIST, "", []byte("1.001:17\x1d1.002:0400\x1c")); st != 422 {
		t.Errorf("broken transaction: %d", st)
	}
}

// fingerImageAt returns the (last) finger image record of tx whose first
// finger position is pos.
func fingerImageAt(t *testing.T, tx *ansinist.Transaction, pos biometric.FingerPosition) ansinist.FingerImage {
	t.Helper()
	var found ansinist.FingerImage
	for _, im := range tx.FingerImages() {
		if len(im.Positions) > 0 && im.Positions[0] == pos {
			found = im
		}
	}
	if found.Data == nil {
		t.Fatalf("no finger image at position %d in the transaction", pos)
	}
	return found
}

// slapTransaction makes a Type-14 transaction of the tenprint card's
// plain right-four-finger image (WSQ, 1572x1000 at 500 ppi) with SEG boxes
// (FGP, left, right, top, bottom) for the index, middle, ring and little
// fingers, and one for a left finger, which the node must refuse.
func slapTransaction(t *testing.T, card *ansinist.Transaction) []byte {
	four := fingerImageAt(t, card, biometric.PlainRightFour)
	tr := ansinist.New(ansinist.Header{TOT: "CPS", DAI: "TEST", ORI: "TEST", TCN: "SLAP-1"}, nil)
	tr.AddFinger(ansinist.FingerImage{Image: ansinist.Image{Compression: ansinist.WSQ, Width: four.Width, Height: four.Height, PPI: 500, Data: four.Data},
		Positions: []biometric.FingerPosition{biometric.PlainRightFour}})
	tr.Records[len(tr.Records)-1].Set(&ansinist.Field{Number: 21, Subfields: []ansinist.Subfield{
		{"2", "115", "418", "481", "962"}, {"3", "407", "705", "40", "516"}, {"4", "796", "1066", "6", "447"},
		{"5", "1215", "1495", "390", "762"}, {"7", "0", "10", "0", "10"}}})
	b, err := tr.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
