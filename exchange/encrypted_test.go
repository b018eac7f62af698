package exchange

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/face"
	"github.com/ebsp/ebsp/face/pipeline/pipelinetest"
	"github.com/ebsp/ebsp/internal/shareddata"
	"github.com/ebsp/ebsp/privacy"
	"github.com/ebsp/ebsp/store/sqlite"
	"github.com/ebsp/ebsp/synth"
)

// faceGallery is a responder's face gallery of synthetic recogniser
// embeddings: the clear search (step 2) by the recogniser's Euclidean
// distance, the vectors for the encrypted search, and disclosure.
type faceGallery struct {
	ids  []string
	embs []face.Embedding
	hit  float64 // a candidate's distance is below this
}

func (g *faceGallery) Search(ctx context.Context, p Probe) ([]biometric.Candidate, error) {
	var out []biometric.Candidate
	for _, b := range p.Faces {
		e, err := face.ParseEmbedding(b)
		if err != nil {
			return nil, err
		}
		for i := range g.embs {
			if d := face.Distance(&e, &g.embs[i]); d < g.hit {
				out = append(out, biometric.Candidate{IdentityID: g.ids[i], Score: 1 - d})
			}
		}
	}
	slices.SortFunc(out, func(a, b biometric.Candidate) int { return int(math.Copysign(1, b.Score-a.Score)) })
	return out, nil
}

func (g *faceGallery) FaceVectors(ctx context.Context) ([][]float32, error) {
	out := make([][]float32, len(g.embs))
	for i := range g.embs {
		v, err := faceVector(g.embs[i].Bytes())
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (g *faceGallery) Disclose(ctx context.Context, id string, fields []string) (map[string]string, error) {
	return map[string]string{"names": "Face " + id, "case_reference": "GB-" + id, "nationality": "GBR"}, nil
}

// recorder keeps the bodies of the requests a transport sends.
type recorder struct {
	rt     http.RoundTripper
	mu     sync.Mutex
	bodies map[string][][]byte // by path
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bodies[req.URL.Path] = append(r.bodies[req.URL.Path], b)
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(b))
	return r.rt.RoundTrip(req)
}

// encFixture is what TestEncryptedFaceSearch runs on: GB's face gallery,
// the index of the person a mated probe shows, both probes (recogniser
// embeddings), the agreed projection and threshold.
type encFixture struct {
	gal                       *faceGallery
	mated                     int
	matedProbe, strangerProbe []byte
	proj                      *privacy.Projection
	threshold                 float64
}

// encLogN is the ring degree of the encrypted-search tests: the
// deployment's 2^15, or 2^12 (not secure) under -short and -race.
func encLogN() int {
	if testing.Short() || underRace {
		return 12
	}
	return 15
}

// TestEncryptedFaceSearch runs the encrypted face search between two nodes
// over mutual TLS (Done-when 2 of issue 18) on synthetic 128-d faces: see
// runEncryptedFaceSearch. At 2^15 it took 222 s of wall time and 29 s of
// CPU at load 26-31 on 2 cores.
func TestEncryptedFaceSearch(t *testing.T) {
	// The agreed projection, learned on a population of its own.
	train := synth.NewFaceGenerator(181, synth.DefaultFaceModel())
	var tv [][]float32
	for i := range 600 {
		id := uint64(i)
		tv = append(tv, train.Capture(train.Identity(id), id, 0, train.Quality(id, 0), 0))
	}
	proj, err := privacy.LearnProjection(tv, 128)
	if err != nil {
		t.Fatal(err)
	}
	// GB's gallery: 300 synthetic identities, capture 0.
	gen := synth.NewFaceGenerator(18, synth.DefaultFaceModel())
	gal := &faceGallery{hit: 0.45}
	for i := range 300 {
		id := uint64(i)
		gal.ids = append(gal.ids, fmt.Sprintf("GB-%03d", i))
		gal.embs = append(gal.embs, gen.Embedding(gen.Identity(id), id, 0, gen.Quality(id, 0), 0))
	}
	probe := func(id uint64) []byte {
		e := gen.Embedding(gen.Identity(id), id, 1, gen.Quality(id, 1), 0)
		return e.Bytes()
	}
	runEncryptedFaceSearch(t, encFixture{gal: gal, mated: 42, matedProbe: probe(42), strangerProbe: probe(9000), proj: proj, threshold: 0.6})
}

// TestEncryptedFaceSearchRealFaces is TestEncryptedFaceSearch on real
// embeddings: ebsp's recogniser on the shared London face photos (20
// people, a neutral and a smiling photo each). GB enrols the neutral
// photos of 12 people; the US probes with the smiling photo of one of them
// (012) and of a person enrolled nowhere (062). Too few photos exist to
// learn principal axes, so the agreed projection only centres, on the mean
// of the 14 photos of the 7 remaining people; the threshold is set between the mated
// similarity and the highest other one of these two probes (a functional
// test of the protocol on real data, not an accuracy claim).
func TestEncryptedFaceSearchRealFaces(t *testing.T) {
	if underRace {
		// The recogniser under the race detector took 425 s here; the
		// exchange paths are TestEncryptedFaceSearch's, which runs under
		// -race. test.sh's pass without -race runs this one at 2^15.
		t.Skip("real-face variant runs without -race")
	}
	photos := shareddata.Dir(t, "faces/frl_london_subset")
	rec := engine.FacePhotos{Pipeline: pipelinetest.Load(t)}
	emb := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(photos, "images", name+".jpg"))
		if err != nil {
			t.Fatal(err)
		}
		tmpl, _, err := rec.Template(&engine.Sample{Modality: biometric.Face, Format: "jpeg", Data: b}, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return tmpl
	}
	gal := &faceGallery{hit: 0.6}
	enrolled := []string{"001", "002", "003", "004", "005", "006", "007", "008", "012", "017", "018", "024"}
	for _, id := range enrolled {
		e, err := face.ParseEmbedding(emb(id + "_03"))
		if err != nil {
			t.Fatal(err)
		}
		gal.ids = append(gal.ids, "GB-"+id)
		gal.embs = append(gal.embs, e)
	}
	mean := make([]float32, face.RecogniserDim)
	n := 0
	for _, id := range []string{"025", "030", "034", "037", "038", "042", "043"} {
		for _, pose := range []string{"03", "08"} {
			v, err := faceVector(emb(id + "_" + pose))
			if err != nil {
				t.Fatal(err)
			}
			for j := range v {
				mean[j] += v[j]
			}
			n++
		}
	}
	for j := range mean {
		mean[j] /= float32(n)
	}
	proj := privacy.CentringProjection(mean)
	mated, stranger := emb("012_08"), emb("062_08")
	// The threshold: halfway between the mated probe's similarity with its
	// own entry and the highest similarity of any other pair here.
	vecs, _ := gal.FaceVectors(context.Background())
	for i := range vecs {
		vecs[i], _ = proj.Apply(vecs[i])
	}
	pg, _ := privacy.NewGallery(face.RecogniserDim, vecs)
	var genuine, other float64 = 0, -1
	for k, pr := range [][]byte{mated, stranger} {
		v, _ := faceVector(pr)
		v, _ = proj.Apply(v)
		sims, err := pg.Similarities(v)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range sims {
			if k == 0 && i == 8 {
				genuine = s
			} else {
				other = max(other, s)
			}
		}
	}
	t.Logf("centred cosine: mated %.3f, highest other %.3f", genuine, other)
	if genuine <= other {
		t.Fatalf("the mated similarity %.3f is not above every other %.3f", genuine, other)
	}
	threshold := math.Round((genuine+other)/2*100) / 100
	runEncryptedFaceSearch(t, encFixture{gal: gal, mated: 8, matedProbe: mated, strangerProbe: stranger, proj: proj, threshold: threshold})
}

// runEncryptedFaceSearch runs the encrypted face search between two nodes
// over mutual TLS (Done-when 2 of issue 18): the key setup in chunks, key
// material that survives a restart of the responder, an encrypted probe
// of a GB-enrolled face that decrypts to a hit at the US, GB's examiner
// confirming after step 2 sent the probe, the release; and a stranger's
// encrypted probe that leaves GB nothing but audit leaves: no case, no
// probe or ciphertext in its store, keyring, audit log or operational log.
// It uses one 32768-slot block at ring 2^15 (2^12 under -short, -race).
func runEncryptedFaceSearch(t *testing.T, fx encFixture) {
	ctx := context.Background()
	logN := encLogN()
	gal, proj, threshold := fx.gal, fx.proj, fx.threshold
	projBytes, _ := proj.MarshalBinary()
	// Plaintext reference: the threshold must separate the mated probe
	// from every other entry by more than the margin.
	params, err := privacy.NewParams(logN, proj.Out, threshold)
	if err != nil {
		t.Fatal(err)
	}
	vecs, _ := gal.FaceVectors(ctx)
	for i := range vecs {
		vecs[i], _ = proj.Apply(vecs[i])
	}
	pg, _ := privacy.NewGallery(proj.Out, vecs)
	for _, c := range []struct {
		name  string
		probe []byte
		want  int
	}{{"mated", fx.matedProbe, 1}, {"stranger", fx.strangerProbe, 0}} {
		v, _ := faceVector(c.probe)
		v, _ = proj.Apply(v)
		sims, err := pg.Similarities(v)
		if err != nil {
			t.Fatal(err)
		}
		above := 0
		for _, s := range sims {
			if math.Abs(s-threshold) < params.Margin() {
				t.Fatalf("%s probe: similarity %.3f within the margin %.3f of the threshold %.2f: pick other data", c.name, s, params.Margin(), threshold)
			}
			if s > threshold {
				above++
			}
		}
		if above != c.want {
			t.Fatalf("%s probe: %d entries above the threshold in the clear, want %d", c.name, above, c.want)
		}
	}

	dbPath := filepath.Join(t.TempDir(), "gb.db")
	st, err := sqlite.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := newPartnershipState(t, func(a *Agreement) {
		a.Modalities = append(a.Modalities, biometric.Face)
		a.Searches[FaceSearch] = SearchRule{DailyQuota: 10}
		a.EncryptedSearch = &EncryptedSearch{Modalities: []biometric.Modality{biometric.Face}, Threshold: threshold,
			Projection: projBytes, LogN: logN, InsecureTestParameters: logN < 15}
	}, st)
	gbKeys := filepath.Join(t.TempDir(), "gb-keys")
	keys, err := OpenKeyring(gbKeys)
	if err != nil {
		t.Fatal(err)
	}
	p.respCfg.Keys, p.respCfg.Faces, p.respCfg.Searcher, p.respCfg.Discloser = keys, gal, gal, gal
	p.restart(t)
	usKeys, err := OpenKeyring(filepath.Join(t.TempDir(), "us-keys"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.gbCA.Cert)
	rec := &recorder{bodies: map[string][][]byte{}, rt: &http.Transport{
		TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, Certificates: []tls.Certificate{p.us.TLS}}}}
	usAgreement, _ := ParseAgreement(mustMarshal(t, p.agreement))
	client, err := NewClient(ClientConfig{Credentials: p.us, Agreement: usAgreement, Now: p.clock.Now, Keys: usKeys, Transport: rec})
	if err != nil {
		t.Fatal(err)
	}
	face1 := func(probe []byte) Step1Params {
		return Step1Params{Purpose: BorderScreening, LegalBasis: "test", Officer: "officer-1", SearchType: FaceSearch,
			Probe: Probe{Faces: [][]byte{probe}}}
	}

	// Before the key setup, an encrypted search is refused on this side.
	if _, err := client.Step1(ctx, face1(fx.matedProbe)); refusalReason(t, err).Reason != ReasonKeySetup {
		t.Fatalf("search before the key setup: %v", err)
	}
	ks, err := client.SetupEncryptedSearch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := int64(params.Round1Size()), int64(params.Round2Size())
	if ks.BytesUp != r1+r2 || ks.BytesDown != r1+r2 {
		t.Errorf("key setup sent %d and received %d bytes, want %d each way", ks.BytesUp, ks.BytesDown, r1+r2)
	}
	t.Logf("key setup: %d messages, %d bytes each way (ring 2^%d)", ks.Messages, ks.BytesUp, logN)
	// Another start so soon is refused: each start costs GB a round one.
	if _, err := client.SetupEncryptedSearch(ctx); refusalReason(t, err).Reason != ReasonKeySetupTooSoon {
		t.Fatalf("second key setup within %s: %v", KeySetupStartInterval, err)
	}
	for _, dir := range []string{gbKeys, usKeys.dir} {
		if fi, err := os.Stat(filepath.Join(dir, p.agreement.ID+".party")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("key material in %s: %v %v", dir, fi, err)
		}
	}
	// GB restarts: its key material comes back from disk.
	keys2, _ := OpenKeyring(gbKeys)
	p.respCfg.Keys = keys2
	p.restart(t)

	// A GB-enrolled face: the encrypted count decrypts to one.
	res, err := client.Step1(ctx, face1(fx.matedProbe))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Encrypted || res.Outcome != audit.OutcomeHit || res.CandidateCount != 1 || res.Reference == "" {
		t.Fatalf("mated encrypted search: %+v", res)
	}
	if res.BytesUp != params.ProbeSize() || res.BytesDown != params.ReplySize() {
		t.Errorf("ciphertexts of %d and %d bytes, want %d and %d", res.BytesUp, res.BytesDown, params.ProbeSize(), params.ReplySize())
	}
	// A stranger: no hit.
	logsBefore := p.logs.Len()
	casesBefore, _ := st.Cases(ctx)
	res2, err := client.Step1(ctx, face1(fx.strangerProbe))
	if err != nil {
		t.Fatal(err)
	}
	if res2.Outcome != audit.OutcomeNoHit || res2.Reference != "" {
		t.Fatalf("stranger's encrypted search: %+v", res2)
	}
	strangerReq := rec.bodies[PathStep1][len(rec.bodies[PathStep1])-1]
	if len(strangerReq) < params.ProbeSize() {
		t.Fatalf("the stranger's request is %d bytes, the probe alone %d", len(strangerReq), params.ProbeSize())
	}
	// GB holds nothing of the stranger's probe: no case, and neither its
	// embedding nor any piece of the request's ciphertext in its store,
	// keyring, audit log or operational log.
	casesAfter, _ := st.Cases(ctx)
	if len(casesAfter) != len(casesBefore) {
		t.Errorf("the stranger's search left %d cases, before %d", len(casesAfter), len(casesBefore))
	}
	emb := fx.strangerProbe[:64]
	mid := strangerReq[len(strangerReq)/2 : len(strangerReq)/2+48]
	opLog := p.logs.Bytes()[logsBefore:]
	if bytes.Contains(opLog, emb) || bytes.Contains(opLog, mid) || len(opLog) > 2048 {
		t.Errorf("operational log after the stranger's search (%d bytes): %s", len(opLog), opLog)
	}
	st.Close()
	for _, dir := range []string{filepath.Dir(dbPath), gbKeys, p.logDir} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(b, emb) || bytes.Contains(b, mid) {
				t.Errorf("the stranger's probe found in %s", path)
			}
			return nil
		})
	}
	if st, err = sqlite.Open(dbPath); err != nil {
		t.Fatal(err)
	}
	p.respCfg.State = st
	p.restart(t)
	var encLeaves int
	for _, l := range p.leaves(t) {
		if l.Outcome == OutcomeEncrypted {
			encLeaves++
			if l.BytesIn != int64(params.ProbeSize()) || l.BytesOut != int64(params.ReplySize()) || l.Count != len(gal.ids) {
				t.Errorf("encrypted search leaf: %+v", l)
			}
		}
	}
	if encLeaves != 2 {
		t.Errorf("%d encrypted-search decision leaves, want 2", encLeaves)
	}
	for i, raw := range p.log.Leaves() {
		if len(raw) > 1024 {
			t.Errorf("leaf %d is %d bytes", i, len(raw))
		}
	}

	// Step 2 of the hit: the probe goes in the clear now; GB's examiner
	// confirms and the US receives the allow-listed fields.
	caseID, _, err := client.RequestDisclosure(ctx, res.Reference, []string{"names", "case_reference"}, "officer-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.RequestDisclosure(ctx, res.Reference, nil, "officer-1"); refusalReason(t, err).Reason != ReasonReferenceUsed {
		t.Errorf("second step 2 under the reference: %v", err)
	}
	q, err := p.resp.Queue(examinerID, examinerSecret)
	if err != nil || len(q) != 1 || len(q[0].Candidates) == 0 || q[0].Candidates[0] != gal.ids[fx.mated] ||
		len(q[0].Probe.Faces) != 1 || !bytes.Equal(q[0].Probe.Faces[0], fx.matedProbe) {
		t.Fatalf("GB's queue: %+v %v", q, err)
	}
	if err := p.resp.Decide(ctx, examinerID, examinerSecret, caseID, true, gal.ids[fx.mated]); err != nil {
		t.Fatal(err)
	}
	status, rel, err := client.Status(ctx, caseID)
	if err != nil || status != StatusReleased || rel.Fields["names"] != "Face "+gal.ids[fx.mated] || len(rel.Fields) != 2 {
		t.Fatalf("after confirmation: %s %+v %v", status, rel, err)
	}

	// The gallery prepared for the agreement is kept while it is in force
	// and dropped by a sweep once the agreement is gone, and at once by a
	// suspension.
	held := func(id string) bool {
		p.resp.encMu.Lock()
		defer p.resp.encMu.Unlock()
		return p.resp.encGalleries[id] != nil
	}
	if _, err := client.Step1(ctx, face1(fx.strangerProbe)); err != nil {
		t.Fatal(err)
	}
	p.resp.encMu.Lock()
	p.resp.encGalleries["no-longer-configured"] = &encSlot{build: make(chan struct{}, 1)}
	p.resp.encMu.Unlock()
	if _, err := p.resp.Sweep(); err != nil {
		t.Fatal(err)
	}
	if !held(p.agreement.ID) || held("no-longer-configured") {
		t.Errorf("after a sweep: gallery of the agreement in force kept %v, of an unknown agreement kept %v",
			held(p.agreement.ID), held("no-longer-configured"))
	}
	if err := p.resp.Suspend(p.agreement.ID, "gb-dpo-1"); err != nil {
		t.Fatal(err)
	}
	if held(p.agreement.ID) {
		t.Error("the suspended agreement's prepared gallery is still held")
	}
	if err := p.resp.Reinstate(p.agreement.ID, "gb-dpo-1"); err != nil {
		t.Fatal(err)
	}

	// A clear face probe under this agreement is refused.
	p.agreement.EncryptedSearch = nil
	plain, _ := NewClient(ClientConfig{Credentials: p.us, Agreement: p.agreement, Now: p.clock.Now})
	if _, err := plain.Step1(ctx, face1(fx.matedProbe)); refusalReason(t, err).Reason != ReasonEncryption {
		t.Errorf("clear face search under an encrypted agreement: %v", err)
	}
	if strings.Contains(p.logs.String(), "embedding") {
		t.Error("the operational log mentions an embedding")
	}
}

func mustMarshal(t *testing.T, a *Agreement) []byte {
	t.Helper()
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzEncryptedReference feeds arbitrary references to the parser of
// encrypted-search references: it must never panic, and accept only the
// very reference the responder made (the MAC covers every other byte).
func FuzzEncryptedReference(f *testing.F) {
	r := &Responder{refKey: [32]byte{1, 2, 3}}
	a := &Agreement{ID: "US-GB-TEST"}
	partner := Address{"US", "us-node"}
	// The reference newEncRef makes, with a fixed case id (the fuzzing
	// workers must agree on it).
	body := encRefPrefix + "79bbd11f60a4624700354209." + strconv.FormatInt(time.Date(2026, 6, 3, 10, 0, 0, 0, time.UTC).Unix(), 10) + ".border_screening.face"
	valid := body + "." + r.refMAC(a, partner, body)
	if _, until, pu, st, ok := r.openEncRef(a, partner, valid); !ok || pu != BorderScreening || st != FaceSearch || until.Year() != 2026 {
		f.Fatalf("valid reference: %v %v %v %v", until, pu, st, ok)
	}
	f.Add(valid)
	f.Add("e.00.1.border_screening.face.")
	f.Add("e....")
	f.Fuzz(func(t *testing.T, ref string) {
		if _, _, _, _, ok := r.openEncRef(a, partner, ref); ok && ref != valid {
			t.Errorf("accepted %q", ref)
		}
		if _, _, _, _, ok := r.openEncRef(a, Address{"GB", "gb-node"}, ref); ok {
			t.Errorf("accepted %q for another partner", ref)
		}
	})
}

// TestEncryptedGalleryKept: the responder prepares its face gallery for an
// agreement's encrypted searches once (projected, quantised, precomputed)
// and rebuilds it only when the faces or the agreement's settings change.
func TestEncryptedGalleryKept(t *testing.T) {
	gen := synth.NewFaceGenerator(19, synth.DefaultFaceModel())
	gal := &faceGallery{}
	var tv [][]float32
	for i := range 40 {
		id := uint64(i)
		gal.ids = append(gal.ids, fmt.Sprintf("GB-%03d", i))
		gal.embs = append(gal.embs, gen.Embedding(gen.Identity(id), id, 0, gen.Quality(id, 0), 0))
		tv = append(tv, gen.Capture(gen.Identity(id+100), id+100, 0, gen.Quality(id+100, 0), 0))
	}
	proj, err := privacy.LearnProjection(tv, 16)
	if err != nil {
		t.Fatal(err)
	}
	projBytes, _ := proj.MarshalBinary()
	a := &Agreement{ID: "kept", Modalities: []biometric.Modality{biometric.Face}, EncryptedSearch: &EncryptedSearch{
		Modalities: []biometric.Modality{biometric.Face}, Threshold: 0.6, Projection: projBytes, LogN: 12, InsecureTestParameters: true}}
	if err := a.EncryptedSearch.validate(a); err != nil {
		t.Fatal(err)
	}
	r := &Responder{faces: gal}
	ctx := context.Background()
	g1, err := r.encryptedGallery(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if g2, _ := r.encryptedGallery(ctx, a); g2 != g1 {
		t.Fatal("unchanged faces: the gallery was built again")
	}
	if g1.Len() != 40 || g1.Dim() != 16 {
		t.Fatalf("gallery of %d entries of %d values, want 40 of 16", g1.Len(), g1.Dim())
	}
	gal.embs = append(gal.embs, gen.Embedding(gen.Identity(77), 77, 0, gen.Quality(77, 0), 0))
	g3, err := r.encryptedGallery(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if g3 == g1 || g3.Len() != 41 {
		t.Fatalf("after an enrolment: same gallery %v, %d entries", g3 == g1, g3.Len())
	}
	a.EncryptedSearch.Threshold = 0.7
	if err := a.EncryptedSearch.validate(a); err != nil {
		t.Fatal(err)
	}
	if g4, _ := r.encryptedGallery(ctx, a); g4 == g3 {
		t.Fatal("new threshold: the gallery prepared for the old one was used")
	}
	// While one agreement's gallery is being built (its token held here),
	// another agreement's search does not wait for it, and a search of the
	// same agreement whose caller has gone gives up.
	b := *a
	b.ID = "other"
	r.encGalleries[a.ID].build <- struct{}{}
	bctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := r.encryptedGallery(bctx, &b); err != nil {
		t.Fatalf("another agreement during a build: %v", err)
	}
	gone, stop := context.WithCancel(ctx)
	stop()
	if _, err := r.encryptedGallery(gone, a); !errors.Is(err, context.Canceled) {
		t.Fatalf("a search whose caller has gone, during a build: %v", err)
	}
	<-r.encGalleries[a.ID].build
}
