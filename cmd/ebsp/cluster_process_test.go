package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/cluster"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
)

// natsServerBinary builds the real nats-server command from the module
// this repository already requires (go.mod), so that the test runs the
// server operators run, as a separate process.
func natsServerBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "nats-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		t.Fatalf("build nats-server: %v\n%s", err, out)
	}
	return bin
}

// startNATSServer runs the nats-server binary on a free local port, with
// args added to its command line, and waits until it accepts connections.
func startNATSServer(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	host, port, _ := net.SplitHostPort(addr)
	startLogged(t, exec.Command(bin, append([]string{"-a", host, "-p", port}, args...)...), filepath.Join(dir, "nats-server.log"))
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "nats://" + addr
		}
	}
	t.Fatal("nats-server did not listen in 30 s")
	return ""
}

// TestNodeOverExternalNATS runs the real nats-server binary, three
// `ebsp matcher` processes and an `ebsp node` process whose fingerprint
// gallery is in their shards. Identification through the node's API
// finds a person; while searches run continuously through the API, the
// matcher holding that person is killed with SIGKILL: no request fails,
// and every identification started after the kill answers partial naming
// the dead shard (never a silent no-hit), which the node's metrics count;
// the matcher restarted on its shard log gives full answers that find the
// person again. Every connection to NATS is mutual TLS (the server
// requires a client certificate of the state's CA), as a deployment over
// a network would run it.
func TestNodeOverExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nats-server, the node and three matchers")
	}
	bin := buildEbsp(t)
	dir := t.TempDir()
	ca, err := exchange.NewCA("GB", time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(name string) (caFile, cert, key string) {
		nc, err := ca.IssueNode(name, []string{"127.0.0.1"}, time.Now().Add(-time.Hour), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		d := filepath.Join(dir, "tls-"+name)
		if err := nc.Save(d); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(d, exchange.CACertFile), filepath.Join(d, exchange.TLSCertFile), filepath.Join(d, exchange.TLSKeyFile)
	}
	sCA, sCert, sKey := issue("nats")
	url := startNATSServer(t, natsServerBinary(t), dir, "--tlsverify", "--tlscacert", sCA, "--tlscert", sCert, "--tlskey", sKey)
	cCA, cCert, cKey := issue("cluster")
	shards := []string{"m1", "m2", "m3"}
	matchers := map[string]*exec.Cmd{}
	startM := func(s string) {
		ready := filepath.Join(dir, s+".ready")
		matchers[s], _ = startProcess(t, bin, []string{"matcher", "--nats", url, "--shard", s, "--prefix", "ebsp.finger",
			"--data", filepath.Join(dir, "shards"), "--workers", "1", "--ready-file", ready,
			"--tls-ca", cCA, "--tls-cert", cCert, "--tls-key", cKey}, filepath.Join(dir, s+".log"), ready)
	}
	for _, s := range shards {
		startM(s)
	}
	token := "cluster-test-token"
	cfg, cfgPath := writeAdminNodeConfig(t, dir, token, "")
	cfg.Cluster = &node.ClusterConfig{NATS: url, Shards: shards, TimeoutMS: 1500, TLS: &node.ClusterTLS{CAFile: cCA, CertFile: cCert, KeyFile: cKey}}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, base := startNodeProcess(t, bin, cfgPath, dir)
	cl := node.NewClient(base, token, nil)
	ctx := context.Background()

	pos := []biometric.FingerPosition{biometric.RightIndex, biometric.LeftIndex}
	samples := func(p int) []node.SampleInput {
		return []node.SampleInput{isoSample(t, uint64(2*p), pos[0]), isoSample(t, uint64(2*p+1), pos[1])}
	}
	const people = 40
	for p := range people {
		if _, err := cl.Enroll(ctx, &node.EnrolRequest{Identity: node.IdentityInput{ID: fmt.Sprint("P", p)},
			Provenance: store.Provenance{LegalBasis: "cluster test"}, Samples: samples(p)}); err != nil {
			t.Fatalf("enrol P%d: %v", p, err)
		}
	}
	ring, _ := cluster.NewRing(shards)
	who := -1
	for p := range people {
		if ring.Owner(fmt.Sprint("P", p)) == "m2" {
			who = p
			break
		}
	}
	probe := &node.IdentifyRequest{Samples: samples(who)}
	found := func(r *node.IdentifyResponse) bool {
		return len(r.Candidates) > 0 && r.Candidates[0].IdentityID == fmt.Sprint("P", who)
	}
	r, err := cl.Identify(ctx, probe)
	if err != nil || r.Partial || !found(r) || r.GallerySize != people {
		t.Fatalf("before the kill: %+v, %v", r, err)
	}

	after, errs := searchThroughKill(t, func() (*node.IdentifyResponse, error) { return cl.Identify(ctx, probe) }, matchers["m2"])
	if len(errs) > 0 {
		t.Fatalf("identifications through the node failed around the kill: %v", errs[0])
	}
	if len(after) == 0 {
		t.Fatal("no identification completed after the kill")
	}
	for _, r := range after {
		if !r.Partial || len(r.MissingShards) != 1 || r.MissingShards[0] != "m2" || found(r) {
			t.Fatalf("answer after the kill: partial %v missing %v candidates %v; want partial, m2 missing, the person not found", r.Partial, r.MissingShards, r.Candidates)
		}
	}
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var counted float64
	for _, line := range strings.Split(string(metrics), "\n") {
		if v, ok := strings.CutPrefix(line, `ebsp_partial_searches_total{modality="finger"} `); ok {
			fmt.Sscan(v, &counted)
		}
	}
	if counted < float64(len(after)) {
		t.Errorf("ebsp_partial_searches_total{modality=\"finger\"} %v, want at least the %d partial answers seen", counted, len(after))
	}

	startM("m2")
	r, err = cl.Identify(ctx, probe)
	if err != nil || r.Partial || !found(r) {
		t.Fatalf("after the matcher's restart: %+v, %v", r, err)
	}
	t.Logf("%d identifications answered partial while m2 was down", len(after))
}
