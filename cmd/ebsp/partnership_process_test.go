package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ebsp/ebsp/audit"
	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/exchange"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
)

// freePorts returns n TCP ports free on the loopback now.
func freePorts(t *testing.T, n int) []int {
	var out []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out
}

func runEbsp(t *testing.T, bin string, args ...string) {
	t.Helper()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("ebsp %v: %v\n%s", args, err, out)
	}
}

// partnerNode is one state's `ebsp node` process of the test.
type partnerNode struct {
	dir, cfg string
	cmd      *exec.Cmd
	url      string
	tokens   map[string]string // by role
}

// TestPartnershipProcessesSurviveKill9 is the test of issue 13's "Done
// when": a requesting (US) and a responding (GB) state run as separate
// `ebsp node` processes from configuration files with credentials and an
// agreement made by `ebsp pki`. It runs step 1 and step 2; an examiner
// confirms and GB is killed with SIGKILL before the requester collects
// the release: after the restart the release is delivered once (one
// release leaf). Then GB suspends the agreement and is killed again: after
// the restart the suspension, the day's quota count and the replay cache
// are still in force.
func TestPartnershipProcessesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two node processes")
	}
	bin := buildEbsp(t)
	dir := t.TempDir()
	p := freePorts(t, 4) // US API, GB API, US partner, GB partner
	for _, s := range []string{"US", "GB"} {
		runEbsp(t, bin, "pki", "init", "--state", s, "--out", filepath.Join(dir, s+"-ca"))
		runEbsp(t, bin, "pki", "node", "--ca", filepath.Join(dir, s+"-ca"), "--name", s+"-node", "--out", filepath.Join(dir, s+"-node"))
	}
	agreement := filepath.Join(dir, "US-GB.json")
	runEbsp(t, bin, "pki", "agreement", "--id", "US-GB", "--a", filepath.Join(dir, "US-node"), "--b", filepath.Join(dir, "GB-node"),
		"--endpoint-a", fmt.Sprintf("https://127.0.0.1:%d", p[2]), "--endpoint-b", fmt.Sprintf("https://127.0.0.1:%d", p[3]), "--out", agreement)
	// A quota of 4 tenprint searches a day, so that the count shows.
	var ag map[string]any
	raw, _ := os.ReadFile(agreement)
	if err := json.Unmarshal(raw, &ag); err != nil {
		t.Fatal(err)
	}
	ag["searches"].(map[string]any)["tenprint"].(map[string]any)["daily_quota"] = 4
	raw, _ = json.MarshalIndent(ag, "", "  ")
	if err := os.WriteFile(agreement, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	nodes := map[string]*partnerNode{}
	for i, s := range []string{"US", "GB"} {
		n := &partnerNode{dir: filepath.Join(dir, s), tokens: map[string]string{}}
		os.MkdirAll(n.dir, 0o700)
		cfg := map[string]any{"state": map[string]string{"US": "USA", "GB": "GBR"}[s], "data_dir": filepath.Join(n.dir, "data"),
			"listen": fmt.Sprintf("127.0.0.1:%d", p[i]), "rate_per_second": 1000, "burst": 1000,
			"exchange": map[string]any{"listen": fmt.Sprintf("127.0.0.1:%d", p[2+i]), "credentials": filepath.Join(dir, s+"-node"), "agreements": []string{agreement}}}
		var toks []map[string]any
		for role, roles := range map[string][]string{"operator": {"enroller", "searcher"}, "examiner": {"examiner"}, "admin": {"admin"}} {
			n.tokens[role] = fmt.Sprintf("%s-%s-token-%d", s, role, time.Now().UnixNano())
			toks = append(toks, map[string]any{"name": s + "-" + role, "sha256": node.TokenHash(n.tokens[role]), "roles": roles})
		}
		cfg["tokens"] = toks
		b, _ := json.MarshalIndent(cfg, "", "  ")
		n.cfg = filepath.Join(n.dir, "node.json")
		if err := os.WriteFile(n.cfg, b, 0o600); err != nil {
			t.Fatal(err)
		}
		n.cmd, n.url = startNodeProcess(t, bin, n.cfg, n.dir)
		nodes[s] = n
	}
	us, gb := nodes["US"], nodes["GB"]
	ctx := context.Background()
	client := func(n *partnerNode, role string) *node.Client { return node.NewClient(n.url, n.tokens[role], nil) }
	restartGB := func() {
		t.Helper()
		if err := gb.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		gb.cmd.Wait()
		gb.cmd, gb.url = startNodeProcess(t, bin, gb.cfg, gb.dir)
	}
	for i := range 3 {
		if _, err := client(gb, "operator").Enroll(ctx, &node.EnrolRequest{Identity: node.IdentityInput{ID: fmt.Sprintf("GB-%d", i), Names: []string{fmt.Sprintf("Person %d", i)}},
			Provenance: store.Provenance{LegalBasis: "test"}, Samples: []node.SampleInput{isoSample(t, uint64(700+i), biometric.RightIndex)}}); err != nil {
			t.Fatal(err)
		}
	}

	// Step 1 (search 1 of 4 today) and step 2; the examiner confirms.
	res, err := client(us, "operator").ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB", Purpose: "border_screening",
		LegalBasis: "test", Officer: "o-1", Samples: []node.SampleInput{isoSample(t, 701, biometric.RightIndex)}})
	if err != nil || res.Outcome != "hit" {
		t.Fatalf("step 1: %+v %v", res, err)
	}
	dc, err := client(us, "operator").RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: "GB", Reference: res.Reference, Officer: "o-1", Fields: []string{"names"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := client(gb, "examiner").Decide(ctx, dc.Case, true, "GB-1"); err != nil {
		t.Fatal(err)
	}
	// Killed between the confirmation and the delivery.
	restartGB()
	st, err := client(us, "operator").Disclosure(ctx, "GB", dc.Case)
	if err != nil || st.Release == nil || st.Release.Fields["names"] != "Person 1" {
		t.Fatalf("after the restart: %+v %v, want the release", st, err)
	}
	if st, err = client(us, "operator").Disclosure(ctx, "GB", dc.Case); err != nil || st.Release != nil || st.Status != exchange.StatusDelivered {
		t.Fatalf("second poll: %+v %v, want delivered and no data", st, err)
	}

	// Searches 2 and 3 of the day, sent as signed envelopes from the US
	// credentials, so that one can be replayed.
	usCreds, err := exchange.LoadNode(filepath.Join(dir, "US-node"))
	if err != nil {
		t.Fatal(err)
	}
	gbCA, _ := os.ReadFile(filepath.Join(dir, "GB-ca", exchange.CACertFile))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(gbCA)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{usCreds.TLS}}}}
	gbAddr := exchange.Address{State: "GB", Node: "GB-node"}
	probe := isoSample(t, 999, biometric.RightIndex).Data
	seal := func() []byte {
		b, _, err := exchange.NewSealer(usCreds, time.Now).Seal(exchange.MsgStep1Request, "US-GB", gbAddr, exchange.Step1Request{
			Purpose: exchange.BorderScreening, LegalBasis: "test", Officer: "o-1", SearchType: exchange.Tenprint,
			Fingers: []exchange.WireFinger{{Position: biometric.RightIndex, Format: "iso19794-2:2005", Record: probe}}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	post := func(env []byte) (int, string) {
		resp, err := hc.Post(fmt.Sprintf("https://127.0.0.1:%d%s", p[3], exchange.PathStep1), "application/json", bytes.NewReader(env))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e exchange.Envelope
		var rr exchange.RefusalReply
		if json.Unmarshal(b, &e) == nil && json.Unmarshal(e.Body, &rr) == nil && rr.Reason != "" {
			return resp.StatusCode, rr.Reason
		}
		if json.Unmarshal(b, &rr) == nil && rr.Reason != "" {
			return resp.StatusCode, rr.Reason
		}
		return resp.StatusCode, ""
	}
	kept := seal()
	for i, env := range [][]byte{bytes.Clone(kept), seal()} {
		if code, reason := post(env); code != 200 {
			t.Fatalf("search %d: %d %s", i+2, code, reason)
		}
	}
	if got, err := client(gb, "admin").Agreement(ctx, "US-GB", "suspend"); err != nil || got != "suspended" {
		t.Fatalf("suspend: %q %v", got, err)
	}
	restartGB()

	if code, reason := post(bytes.Clone(kept)); code != 401 || reason != exchange.ReasonReplayed {
		t.Errorf("replay after the restart: %d %s, want 401 %s", code, reason, exchange.ReasonReplayed)
	}
	if code, reason := post(seal()); code != 403 || reason != exchange.ReasonSuspended {
		t.Errorf("search after the restart: %d %s, want 403 %s", code, reason, exchange.ReasonSuspended)
	}
	if got, err := client(gb, "admin").Agreement(ctx, "US-GB", "reinstate"); err != nil || got != "reinstated" {
		t.Fatalf("reinstate: %q %v", got, err)
	}
	// Three of four used before the restart: one more, then 429.
	if code, reason := post(seal()); code != 200 {
		t.Errorf("search 4 of 4: %d %s", code, reason)
	}
	if code, reason := post(seal()); code != 429 || reason != exchange.ReasonQuota {
		t.Errorf("search 5 of 4: %d %s, want 429 %s", code, reason, exchange.ReasonQuota)
	}

	// One release leaf for the case in GB's log.
	gb.cmd.Process.Signal(syscall.SIGKILL)
	gb.cmd.Wait()
	gbCreds, err := exchange.LoadNode(filepath.Join(dir, "GB-node"))
	if err != nil {
		t.Fatal(err)
	}
	lg, err := audit.Open(filepath.Join(gb.dir, "data", "audit"), gbCreds.LogSigner)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	leaves, err := audit.DecodeLeaves(lg.Leaves())
	if err != nil {
		t.Fatal(err)
	}
	releases := 0
	for _, l := range leaves {
		if l.Kind == audit.KindRelease && l.Case == dc.Case {
			releases++
		}
	}
	if releases != 1 {
		t.Fatalf("%d release leaves for case %s, want 1", releases, dc.Case)
	}
}
