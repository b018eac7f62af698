package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
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

// processPartnership is a requesting (US) and a responding (GB) state
// running as separate `ebsp node` processes from configuration files, with
// credentials and an agreement made by `ebsp pki`.
type processPartnership struct {
	dir   string
	ports []int // US API, GB API, US partner, GB partner
	nodes map[string]*partnerNode
}

// startProcessPartnership makes the PKI and the agreement US-GB (with a
// daily quota of quota tenprint searches, 0 for the default) and starts
// both nodes with bin. configure, if given, may add settings to a state's
// exchange section before its configuration is written (the PKI is made
// by then).
func startProcessPartnership(t *testing.T, bin string, quota int, configure ...func(pp *processPartnership, state string, x map[string]any)) *processPartnership {
	t.Helper()
	dir := t.TempDir()
	pp := &processPartnership{dir: dir, ports: freePorts(t, 4), nodes: map[string]*partnerNode{}}
	p := pp.ports
	for _, s := range []string{"US", "GB"} {
		runEbsp(t, bin, "pki", "init", "--state", s, "--out", filepath.Join(dir, s+"-ca"))
		runEbsp(t, bin, "pki", "node", "--ca", filepath.Join(dir, s+"-ca"), "--name", s+"-node", "--out", filepath.Join(dir, s+"-node"))
	}
	agreement := filepath.Join(dir, "US-GB.json")
	runEbsp(t, bin, "pki", "agreement", "--id", "US-GB", "--a", filepath.Join(dir, "US-node"), "--b", filepath.Join(dir, "GB-node"),
		"--endpoint-a", fmt.Sprintf("https://127.0.0.1:%d", p[2]), "--endpoint-b", fmt.Sprintf("https://127.0.0.1:%d", p[3]), "--out", agreement)
	if quota > 0 {
		var ag map[string]any
		raw, _ := os.ReadFile(agreement)
		if err := json.Unmarshal(raw, &ag); err != nil {
			t.Fatal(err)
		}
		ag["searches"].(map[string]any)["tenprint"].(map[string]any)["daily_quota"] = quota
		raw, _ = json.MarshalIndent(ag, "", "  ")
		if err := os.WriteFile(agreement, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range []string{"US", "GB"} {
		n := &partnerNode{dir: filepath.Join(dir, s), tokens: map[string]string{}}
		os.MkdirAll(n.dir, 0o700)
		x := map[string]any{"listen": fmt.Sprintf("127.0.0.1:%d", p[2+i]), "credentials": filepath.Join(dir, s+"-node"), "agreements": []string{agreement}}
		for _, f := range configure {
			f(pp, s, x)
		}
		cfg := map[string]any{"state": map[string]string{"US": "USA", "GB": "GBR"}[s], "data_dir": filepath.Join(n.dir, "data"),
			"listen": fmt.Sprintf("127.0.0.1:%d", p[i]), "rate_per_second": 1000, "burst": 1000, "exchange": x}
		var toks []map[string]any
		for role, roles := range map[string][]string{"operator": {"enroller", "searcher"}, "examiner": {"examiner"}, "admin": {"admin"}, "auditor": {"auditor"}} {
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
		pp.nodes[s] = n
	}
	return pp
}

func (pp *processPartnership) client(state, role string) *node.Client {
	n := pp.nodes[state]
	return node.NewClient(n.url, n.tokens[role], nil)
}

// kill stops a state's node with SIGKILL.
func (pp *processPartnership) kill(t *testing.T, state string) {
	t.Helper()
	n := pp.nodes[state]
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	n.cmd.Wait()
}

// start starts a state's node again with bin, after it stopped.
func (pp *processPartnership) start(t *testing.T, state, bin string) {
	t.Helper()
	n := pp.nodes[state]
	n.cmd, n.url = startNodeProcess(t, bin, n.cfg, n.dir)
}

// enrolGB enrols GB-0 ... GB-(k-1), named "Person i", at GB.
func (pp *processPartnership) enrolGB(t *testing.T, k int) {
	t.Helper()
	for i := range k {
		if _, err := pp.client("GB", "operator").Enroll(context.Background(), &node.EnrolRequest{Identity: node.IdentityInput{ID: fmt.Sprintf("GB-%d", i), Names: []string{fmt.Sprintf("Person %d", i)}},
			Provenance: store.Provenance{LegalBasis: "test"}, Samples: []node.SampleInput{isoSample(t, uint64(700+i), biometric.RightIndex)}}); err != nil {
			t.Fatal(err)
		}
	}
}

// disclosureCase runs step 1 from the US for GB's person i and step 2
// for their names, and returns the case.
func (pp *processPartnership) disclosureCase(t *testing.T, i int) string {
	t.Helper()
	ctx := context.Background()
	res, err := pp.client("US", "operator").ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB", Purpose: "border_screening",
		LegalBasis: "test", Officer: "o-1", Samples: []node.SampleInput{isoSample(t, uint64(700+i), biometric.RightIndex)}})
	if err != nil || res.Outcome != "hit" {
		t.Fatalf("step 1: %+v %v", res, err)
	}
	dc, err := pp.client("US", "operator").RequestDisclosure(ctx, &node.ExchangeDisclosureRequest{Partner: "GB", Reference: res.Reference, Officer: "o-1", Fields: []string{"names"}})
	if err != nil {
		t.Fatal(err)
	}
	return dc.Case
}

// gbLeaves reads GB's transparency log, GB stopped.
func (pp *processPartnership) gbLeaves(t *testing.T) []audit.Leaf {
	t.Helper()
	gbCreds, err := exchange.LoadNode(filepath.Join(pp.dir, "GB-node"))
	if err != nil {
		t.Fatal(err)
	}
	lg, err := audit.Open(filepath.Join(pp.nodes["GB"].dir, "data", "audit"), gbCreds.LogSigner)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	leaves, err := audit.DecodeLeaves(lg.Leaves())
	if err != nil {
		t.Fatal(err)
	}
	return leaves
}

// countLeaves counts the leaves of a kind about a case.
func countLeaves(leaves []audit.Leaf, kind audit.Kind, caseID string) int {
	n := 0
	for _, l := range leaves {
		if l.Kind == kind && l.Case == caseID {
			n++
		}
	}
	return n
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
	// A quota of 4 tenprint searches a day, so that the count shows.
	pp := startProcessPartnership(t, bin, 4)
	dir, p := pp.dir, pp.ports
	us, gb := pp.nodes["US"], pp.nodes["GB"]
	ctx := context.Background()
	client := func(n *partnerNode, role string) *node.Client { return node.NewClient(n.url, n.tokens[role], nil) }
	restartGB := func() {
		t.Helper()
		pp.kill(t, "GB")
		pp.start(t, "GB", bin)
	}
	pp.enrolGB(t, 3)

	// Step 1 (search 1 of 4 today) and step 2; the examiner confirms.
	caseID := pp.disclosureCase(t, 1)
	if err := client(gb, "examiner").Decide(ctx, caseID, true, "GB-1"); err != nil {
		t.Fatal(err)
	}
	// Killed between the confirmation and the delivery.
	restartGB()
	st, err := client(us, "operator").Disclosure(ctx, "GB", caseID)
	if err != nil || st.Release == nil || st.Release.Fields["names"] != "Person 1" {
		t.Fatalf("after the restart: %+v %v, want the release", st, err)
	}
	if st, err = client(us, "operator").Disclosure(ctx, "GB", caseID); err != nil || st.Release != nil || st.Status != exchange.StatusDelivered {
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
	pp.kill(t, "GB")
	if n := countLeaves(pp.gbLeaves(t), audit.KindRelease, caseID); n != 1 {
		t.Fatalf("%d release leaves for case %s, want 1", n, caseID)
	}
}

// TestDecisionAndDeliveryKilledInTheirWindows puts a kill -9 of the
// responding node exactly where its audit log and its store disagree: GB
// runs a build with failpoints (tag ebsp_failpoints) that kills itself
// right after writing the examiner's decision leaf, before its store
// records the decision; and again right after writing the release leaf,
// before its store records the delivery. After each restart the decision
// stands (the case is not queued again and a second decision is refused)
// and the release is delivered once: one examiner leaf, one release leaf.
func TestDecisionAndDeliveryKilledInTheirWindows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice and runs two node processes")
	}
	bin, fbin := buildEbsp(t), buildEbspFailpoints(t)
	pp := startProcessPartnership(t, bin, 0)
	ctx := context.Background()
	pp.enrolGB(t, 2)
	caseID := pp.disclosureCase(t, 1)

	// restartInto restarts GB with the failpoint build set to die at fp.
	restartInto := func(fp string) {
		t.Helper()
		pp.kill(t, "GB")
		t.Setenv("EBSP_FAILPOINT", fp) // read by the failpoint build only
		pp.start(t, "GB", fbin)
	}
	// diedAt waits for GB to kill itself, and starts it again as shipped.
	diedAt := func(fp string) {
		t.Helper()
		gb := pp.nodes["GB"]
		done := make(chan error, 1)
		go func() { done <- gb.cmd.Wait() }()
		select {
		case err := <-done:
			if ws, ok := gb.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("GB at failpoint %s: %v, want killed by SIGKILL", fp, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("GB did not die at failpoint %s", fp)
		}
		log, _ := os.ReadFile(filepath.Join(gb.dir, "node.log"))
		if !bytes.Contains(log, []byte("failpoint "+fp)) {
			t.Fatalf("GB's log does not show failpoint %s", fp)
		}
		pp.start(t, "GB", buildEbsp(t))
	}

	restartInto("decision-leaf")
	if err := pp.client("GB", "examiner").Decide(ctx, caseID, true, "GB-1"); err == nil {
		t.Fatal("the confirmation was answered although the node died writing it")
	}
	diedAt("decision-leaf")
	if queue, err := pp.client("GB", "examiner").Cases(ctx); err != nil || len(queue) != 0 {
		t.Fatalf("examiners' queue after the restart: %+v %v, want empty (the decision stands)", queue, err)
	}
	err := pp.client("GB", "examiner").Decide(ctx, caseID, false, "")
	var ae *node.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Fatalf("a second decision after the restart: %v, want 409", err)
	}

	restartInto("release-leaf")
	if st, err := pp.client("US", "operator").Disclosure(ctx, "GB", caseID); err == nil && st.Release != nil {
		t.Fatalf("the release was delivered although GB died before recording it: %+v", st)
	}
	diedAt("release-leaf")
	st, err := pp.client("US", "operator").Disclosure(ctx, "GB", caseID)
	if err != nil || st.Release == nil || st.Release.Fields["names"] != "Person 1" {
		t.Fatalf("after the restart: %+v %v, want the release", st, err)
	}
	if st, err = pp.client("US", "operator").Disclosure(ctx, "GB", caseID); err != nil || st.Release != nil || st.Status != exchange.StatusDelivered {
		t.Fatalf("second poll: %+v %v, want delivered and no data", st, err)
	}
	pp.kill(t, "GB")
	leaves := pp.gbLeaves(t)
	if n := countLeaves(leaves, audit.KindExaminer, caseID); n != 1 {
		t.Errorf("%d examiner leaves for case %s, want 1", n, caseID)
	}
	if n := countLeaves(leaves, audit.KindRelease, caseID); n != 1 {
		t.Errorf("%d release leaves for case %s, want 1", n, caseID)
	}
}
