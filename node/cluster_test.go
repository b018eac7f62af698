package node

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/cluster"
	"github.com/ebsp/ebsp/exchange"
)

// TestClusterNode runs a node whose fingerprint gallery is in three
// in-process matcher shards on its embedded NATS server: enrolment,
// identification, verification and erasure go through the shards; a
// stopped shard makes identification partial (flagged, counted, never a
// silent no-hit) and refuses a verification or an erasure it would need;
// an enrolment its shard did not take is sent again at the next start;
// and a restart with a fourth shard rebalances and still finds everyone.
func TestClusterNode(t *testing.T) {
	dir := t.TempDir()
	shards := []string{"s1", "s2", "s3"}
	compact := false
	start := func(shards []string) *testNode {
		tn := newTestNode(t, func(c *Config) {
			c.DataDir = dir
			c.Cluster = &ClusterConfig{Listen: "127.0.0.1:0", Shards: shards, CompactLogs: compact}
		})
		t.Cleanup(func() { tn.Close() })
		if tn.galleries[biometric.Finger] != nil || tn.sharded[biometric.Finger] == nil {
			t.Fatalf("in-process galleries %v, sharded %v: want fingers in the shards only", tn.galleries, tn.sharded)
		}
		return tn
	}
	tn := start(shards)
	enrolPeople(t, tn, 30)
	if tpl, ids := tn.galleryLen(biometric.Finger); tpl != 60 || ids != 30 {
		t.Fatalf("shards hold %d templates of %d identities, want 60 of 30", tpl, ids)
	}
	identify := func(tn *testNode, p int) (int, map[string]any) {
		return tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": person(t, p, 2)})
	}
	st, body := identify(tn, 5)
	if st != 200 || body["decision"] != "hit" || body["partial"] != nil || body["candidates"].([]any)[0].(map[string]any)["identity_id"] != "P005" {
		t.Fatalf("identify through the shards: %d %v", st, body)
	}
	if st, body = tn.call(t, RoleSearcher, "POST", "/v1/verify", map[string]any{"identity_id": "P005", "samples": person(t, 5, 3)}); st != 200 || body["decision"] != "match" {
		t.Fatalf("verify through the shards: %d %v", st, body)
	}

	// P005's shard stops.
	ring := tn.sharded[biometric.Finger].c.Ring()
	owner := ring.Owner("P005")
	tn.clusterParts.matchers[slices.Index(shards, owner)].Close()
	st, body = identify(tn, 5)
	if st != 200 || body["partial"] != true || fmt.Sprint(body["missing_shards"]) != fmt.Sprint([]any{owner}) || body["decision"] == "hit" {
		t.Fatalf("identify with %s down: %d %v", owner, st, body)
	}
	req, _ := http.NewRequest("GET", tn.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+roleTokens[RoleAuditor])
	resp, err := tn.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	observe("GET", "/metrics", resp.StatusCode)
	if want := `ebsp_partial_searches_total{modality="finger"} 1`; !strings.Contains(string(metrics), want) {
		t.Errorf("metrics lack %q", want)
	}
	if st, body = tn.call(t, RoleSearcher, "POST", "/v1/verify", map[string]any{"identity_id": "P005", "samples": person(t, 5, 3)}); st != 503 || errCode(body) != CodeShardsUnavailable {
		t.Errorf("verify with its shard down: %d %v", st, body)
	}
	if st, body = tn.call(t, RoleAdmin, "DELETE", "/v1/identities/P005", nil); st != 503 || errCode(body) != CodeShardsUnavailable {
		t.Errorf("erase with a shard down: %d %v", st, body)
	}
	if st, _ = tn.call(t, RoleExaminer, "GET", "/v1/identities/P005", nil); st != 200 {
		t.Errorf("an erasure the shards refused erased the record: %d", st)
	}
	// An enrolment for the stopped shard is stored, not searchable: 503.
	late := -1
	for p := 100; late < 0; p++ {
		if ring.Owner(fmt.Sprintf("P%03d", p)) == owner {
			late = p
		}
	}
	if st, body = tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody(fmt.Sprintf("P%03d", late), person(t, late, 1))); st != 503 || errCode(body) != CodeShardsUnavailable {
		t.Fatalf("enrol for a stopped shard: %d %v", st, body)
	}
	tn.srv.Close()
	tn.Close()
	tn.store.Close()

	// Restarted (the stopped shard's matcher with it): full answers, the
	// late enrolment sent to its shard from the store.
	tn = start(shards)
	if !strings.Contains(tn.log.String(), "shards not in step with the store") {
		t.Error("the restart did not see that a shard missed an enrolment")
	}
	for _, p := range []int{5, late} {
		st, body = identify(tn, p)
		if st != 200 || body["partial"] != nil || body["decision"] != "hit" || body["candidates"].([]any)[0].(map[string]any)["identity_id"] != fmt.Sprintf("P%03d", p) {
			t.Fatalf("identify P%03d after restart: %d %v", p, st, body)
		}
	}
	if st, _ = tn.call(t, RoleAdmin, "DELETE", "/v1/identities/P005", nil); st != 204 {
		t.Fatalf("erase: %d", st)
	}
	tn.srv.Close()
	tn.Close()
	tn.store.Close()
	logHolds := func(s, what string) bool {
		b, err := os.ReadFile(filepath.Join(dir, "shards", "finger", "shard-"+s+".log"))
		return err == nil && bytes.Contains(b, []byte(what))
	}
	if !logHolds(owner, "P005") {
		t.Fatal("the erased P005 is not in its shard log before compaction: the check below would prove nothing")
	}

	// A fourth shard: the identities it now owns move to it at start; the
	// logs are compacted first, which takes the erased P005 off the disk.
	compact = true
	tn = start(append(shards, "s4"))
	for _, s := range append(shards, "s4") {
		if logHolds(s, "P005") {
			t.Errorf("shard %s's log still holds the erased P005 after compaction", s)
		}
	}
	if strings.Contains(tn.log.String(), "not in step") || strings.Contains(tn.log.String(), "shards hold templates") {
		t.Error("shards in step with the store were sent the store again")
	}
	sizes := map[string]int{}
	for i, m := range tn.clusterParts.matchers {
		_, ids := m.Gallery().Len()
		sizes[tn.cfg.Cluster.Shards[i]] = ids
	}
	if sizes["s4"] == 0 || sizes["s1"]+sizes["s2"]+sizes["s3"]+sizes["s4"] != 30 {
		t.Fatalf("after adding s4: identities per shard %v, want 30 (29 enrolled and the late one) with some on s4", sizes)
	}
	for p := range 30 {
		st, body = identify(tn, p)
		want := fmt.Sprintf("P%03d", p)
		if p == 5 {
			if st != 200 || body["decision"] == "hit" && body["candidates"].([]any)[0].(map[string]any)["identity_id"] == want {
				t.Fatalf("erased P005 found after the rebalance: %v", body)
			}
			continue
		}
		if st != 200 || body["partial"] != nil || body["decision"] != "hit" || body["candidates"].([]any)[0].(map[string]any)["identity_id"] != want {
			t.Fatalf("identify %s after the rebalance: %d %v", want, st, body)
		}
	}
}

// TestClusterNodeFaces keeps faces in the shards too: an enrolled face is
// found through them, the node's in-process galleries hold neither faces
// nor fingers, and a restart (the shards' vector-only snapshots) finds it
// again.
func TestClusterNodeFaces(t *testing.T) {
	dir := t.TempDir()
	start := func() *testNode {
		tn := newTestNode(t, func(c *Config) {
			c.DataDir = dir
			c.Cluster = &ClusterConfig{Listen: "127.0.0.1:0", Shards: []string{"a", "b"}, Modalities: []biometric.Modality{biometric.Finger, biometric.Face}}
		})
		t.Cleanup(func() { tn.Close() })
		if tn.galleries[biometric.Face] != nil || tn.sharded[biometric.Face] == nil {
			t.Fatal("faces not in the shards")
		}
		return tn
	}
	tn := start()
	for p := range 12 {
		if st, body := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody(fmt.Sprintf("F%02d", p), []SampleInput{faceSampleOf(t, p)})); st != 201 {
			t.Fatalf("enrol face %d: %d %v", p, st, body)
		}
	}
	top := func(tn *testNode) string {
		st, body := tn.call(t, RoleSearcher, "POST", "/v1/identify", map[string]any{"samples": []SampleInput{faceSampleOf(t, 7)}})
		c, _ := body["candidates"].([]any)
		if st != 200 || body["partial"] != nil || len(c) == 0 {
			t.Fatalf("identify face: %d %v", st, body)
		}
		return c[0].(map[string]any)["identity_id"].(string)
	}
	if got := top(tn); got != "F07" {
		t.Fatalf("top candidate %s, want F07", got)
	}
	if _, ids := tn.galleryLen(biometric.Face); ids != 12 {
		t.Fatalf("face shards hold %d identities, want 12", ids)
	}
	tn.srv.Close()
	tn.Close()
	tn.store.Close()
	tn = start()
	for _, m := range tn.clusterParts.matchers {
		if m.SnapshotState != "loaded" {
			t.Errorf("a matcher restarted with snapshot %q", m.SnapshotState)
		}
	}
	if got := top(tn); got != "F07" {
		t.Fatalf("after restart: top candidate %s, want F07", got)
	}
}

// TestClusterFacesRefuseEncryptedSearch: a node whose faces are in shards
// refuses an agreement with an encrypted face search (its responder would
// count over an empty in-process gallery and answer every search 0).
func TestClusterFacesRefuseEncryptedSearch(t *testing.T) {
	tn := newTestNode(t, func(c *Config) {
		c.Cluster = &ClusterConfig{Listen: "127.0.0.1:0", Shards: []string{"a"}, Modalities: []biometric.Modality{biometric.Finger, biometric.Face}}
	})
	t.Cleanup(func() { tn.Close() })
	now := time.Now()
	var creds [2]*exchange.NodeCredentials
	for i, s := range []string{"US", "GB"} {
		ca, err := exchange.NewCA(s, now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if creds[i], err = ca.IssueNode(s+"-node", []string{"127.0.0.1"}, now, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	lg, err := audit.Open(filepath.Join(t.TempDir(), "audit"), creds[0].LogSigner)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	a := exchange.DefaultAgreement("US-GB", creds[0].Party("https://127.0.0.1:1"), creds[1].Party("https://127.0.0.1:2"))
	a.EncryptedSearch = &exchange.EncryptedSearch{Modalities: []biometric.Modality{biometric.Face}}
	err = tn.EnableExchange(ExchangeSetup{Credentials: creds[0], Agreements: []*exchange.Agreement{a}, Log: lg})
	if err == nil || !strings.Contains(err.Error(), "not built over a cluster's face shards") {
		t.Fatalf("EnableExchange: %v", err)
	}
}

// TestClusterListenLoopback: the embedded NATS server listens beyond
// loopback, and an external server on another host is used, only with
// TLS (cluster.tls, whose files must all be named and readable, or a
// tls:// URL).
func TestClusterListenLoopback(t *testing.T) {
	dir := t.TempDir()
	pem := filepath.Join(dir, "x.pem")
	os.WriteFile(pem, []byte("x"), 0o600)
	withTLS := &ClusterTLS{CAFile: pem, CertFile: pem, KeyFile: pem}
	for _, c := range []struct {
		listen, nats, matchers string
		tls                    *ClusterTLS
		want                   string // "" for ok, else a part of the error
	}{
		{"127.0.0.1:4222", "", "node", nil, ""},
		{"[::1]:4222", "", "node", nil, ""},
		{"localhost:0", "", "node", nil, ""},
		{"0.0.0.0:4222", "", "node", nil, "loopback"},
		{":4222", "", "node", nil, "loopback"},
		{"10.1.2.3:4222", "", "node", nil, "loopback"},
		{"0.0.0.0:4222", "", "external", nil, "loopback"}, // external matchers would reach a server that authenticates no one
		{"0.0.0.0:4222", "", "external", withTLS, ""},
		{"10.1.2.3:4222", "", "node", withTLS, ""},
		{"", "nats://10.1.2.3:4222", "", nil, "in the clear"},
		{"", "nats://127.0.0.1:4222,nats://10.1.2.3:4222", "", nil, "in the clear"},
		{"", "nats://127.0.0.1:4222", "", nil, ""},
		{"", "tls://10.1.2.3:4222", "", nil, ""},
		{"", "nats://10.1.2.3:4222", "", withTLS, ""},
		{"", "10.1.2.3", "", nil, "not a NATS URL"},
		{"", "nats://10.1.2.3:4222", "", &ClusterTLS{CAFile: pem, CertFile: pem}, "key_file is required"},
		{"", "nats://10.1.2.3:4222", "", &ClusterTLS{CAFile: filepath.Join(dir, "missing.pem"), CertFile: pem, KeyFile: pem}, "ca_file"},
	} {
		cc := &ClusterConfig{Shards: []string{"a"}, Listen: c.listen, NATS: c.nats, Matchers: c.matchers, TLS: c.tls}
		cc.defaults()
		err := cc.validate(false)
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("listen %q nats %q matchers %q tls %v: %v, want %q", c.listen, c.nats, c.matchers, c.tls != nil, err, c.want)
		}
	}
}

// TestSelfCalibrationOverShards: a node whose fingerprints are in the
// shards of its own matchers samples its impostor tail there, shard by
// shard, and lists a person enrolled twice on one shard as a possible
// duplicate; external matchers are refused with self-calibration.
func TestSelfCalibrationOverShards(t *testing.T) {
	shards := []string{"a", "b"}
	tn := newTestNode(t, func(c *Config) {
		c.DataDir = t.TempDir()
		c.Cluster = &ClusterConfig{Listen: "127.0.0.1:0", Shards: shards}
		c.SelfCalibration.ComparisonsPerSecond = 1_000_000
	})
	t.Cleanup(func() { tn.Close() })
	enrolPeople(t, tn, 12)
	// The same captures again, under an identity the ring puts on P000's
	// shard.
	ring, _ := cluster.NewRing(shards)
	twice := ""
	for k := 0; twice == ""; k++ {
		if id := fmt.Sprint("TWICE-", k); ring.Owner(id) == ring.Owner("P000") {
			twice = id
		}
	}
	if st, b := tn.call(t, RoleEnroller, "POST", "/v1/enrolments", enrolBody(twice, person(t, 0, 1))); st != 201 {
		t.Fatalf("enrol again: %d %v", st, b)
	}
	got := selfCalUntilDuplicate(t, tn)
	if len(got) != 1 || got[0].A != "P000" || got[0].B != twice {
		t.Fatalf("duplicates %v after %d comparisons: want P000 and %s", got, tn.selfCalProgress(biometric.Finger), twice)
	}
	if tn.selfCalProgress(biometric.Finger) == 0 {
		t.Fatal("no comparisons sampled")
	}

	cc := &ClusterConfig{Shards: shards, NATS: "nats://127.0.0.1:4222"}
	cc.defaults()
	if err := cc.validate(true); err == nil || !strings.Contains(err.Error(), "external matchers") {
		t.Errorf("self-calibration with external matchers: %v", err)
	}
	cc = &ClusterConfig{Shards: shards}
	cc.defaults()
	if err := cc.validate(true); err != nil {
		t.Errorf("self-calibration with the node's own matchers: %v", err)
	}
}
