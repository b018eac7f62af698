package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/node"
)

// TestKeyLifecycleProcesses: the key and certificate lifecycle with `ebsp
// node` processes and the `ebsp pki` commands. GB rotates its log key and
// its signing key (`ebsp pki rotate`) and restarts on the same agreement
// files; the US node, which holds checkpoints of GB's old key, goes on
// searching GB (it follows the signed rotation to the new key), and `ebsp
// audit verify` with GB's old key verifies GB's log across the rotation.
// Then the US CA revokes the US node's signing certificate (`ebsp pki
// revoke`); after a SIGHUP, GB refuses the US search and the US officer
// gets 403 certificate_revoked. GB's /metrics shows the revocation list's
// next update.
func TestKeyLifecycleProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two node processes")
	}
	bin := buildEbsp(t)
	pp := startProcessPartnership(t, bin, 0, func(pp *processPartnership, state string, x map[string]any) {
		if state == "GB" {
			runEbsp(t, bin, "pki", "revoke", "--ca", filepath.Join(pp.dir, "US-ca")) // an empty list to start with
			x["revocation_lists"] = []string{filepath.Join(pp.dir, "US-ca", "crl.pem")}
		}
	})
	dir := pp.dir
	us, gb := pp.nodes["US"], pp.nodes["GB"]
	ctx := context.Background()
	search := func() error {
		_, err := node.NewClient(us.url, us.tokens["operator"], nil).ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "GB",
			Purpose: "border_screening", LegalBasis: "test", Officer: "o-1", Samples: []node.SampleInput{isoSample(t, 31, biometric.RightIndex)}})
		return err
	}
	for range 2 {
		if err := search(); err != nil {
			t.Fatalf("before the rotation: %v", err)
		}
	}

	gbCreds := filepath.Join(dir, "GB-node")
	runEbsp(t, bin, "pki", "rotate", "--node", gbCreds, "--log")
	runEbsp(t, bin, "pki", "rotate", "--node", gbCreds, "--sign", "--ca", filepath.Join(dir, "GB-ca"))
	stop := func(n *partnerNode) {
		t.Helper()
		n.cmd.Process.Signal(syscall.SIGTERM)
		n.cmd.Wait()
	}
	stop(gb)
	gb.cmd, gb.url = startNodeProcess(t, bin, gb.cfg, gb.dir)
	for range 2 {
		if err := search(); err != nil {
			t.Fatalf("after GB rotated its keys: %v", err)
		}
	}

	// The US revokes its node's signing certificate; GB re-reads on SIGHUP.
	runEbsp(t, bin, "pki", "revoke", "--ca", filepath.Join(dir, "US-ca"), "--cert", filepath.Join(dir, "US-node", "sign.pem"))
	if err := gb.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(gb.dir, "node.log")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if b, _ := os.ReadFile(logPath); strings.Contains(string(b), "revocation lists reloaded") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("GB did not reload its revocation lists after SIGHUP")
		}
	}
	var ae *node.APIError
	if err := search(); !errors.As(err, &ae) || ae.Status != 403 || ae.Code != node.CodeCertificateRevoked {
		t.Fatalf("search with a revoked signing certificate: %v, want 403 %s", err, node.CodeCertificateRevoked)
	}
	req, _ := http.NewRequest("GET", gb.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+gb.tokens["auditor"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `ebsp_exchange_revocation_list_next_update_seconds{file="crl.pem"}`) ||
		!strings.Contains(string(body), `ebsp_exchange_certificate_expiry_seconds{certificate="sign"}`) {
		t.Errorf("GB /metrics lacks the lifecycle gauges:\n%.2000s", body)
	}

	// A third party with GB's first log key (the agreements' key, kept in
	// retired/) verifies GB's log and its checkpoint across the rotation.
	stop(gb)
	out, err := exec.Command(bin, "audit", "verify", "--log", filepath.Join(gb.dir, "data", "audit"),
		"--key", filepath.Join(gbCreds, "retired", "0001-log.pub"), "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("ebsp audit verify: %v\n%s", err, out)
	}
	var rep struct {
		OK          bool
		Keys        []string
		Checkpoints []struct{ OK bool }
	}
	if err := json.Unmarshal(out, &rep); err != nil || !rep.OK || len(rep.Keys) != 2 || len(rep.Checkpoints) != 1 || !rep.Checkpoints[0].OK {
		t.Fatalf("audit verify across the rotation: %v\n%s", err, out)
	}
}
