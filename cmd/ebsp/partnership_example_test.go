package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
)

// portBase finds n consecutive free loopback ports.
func portBase(t *testing.T, n int) int {
	for base := 21000 + os.Getpid()%2000*4; base < 60000; base += n {
		ok := true
		for p := base; p < base+n && ok; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}

// TestPartnershipExample runs examples/partnership/run.sh as a user would:
// four ebsp node processes, partnership.json with what is needed to use
// them, a cross-border search, one node killed with -9 and started again
// with --restart, then --stop.
func TestPartnershipExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four node processes")
	}
	bin := buildEbsp(t)
	dir := filepath.Join(t.TempDir(), "p")
	script, _ := filepath.Abs("../../examples/partnership/run.sh")
	env := append(os.Environ(), "EBSP="+bin, fmt.Sprintf("EBSP_PORT_BASE=%d", portBase(t, 8)))
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(script, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("run.sh %v: %v\n%s", args, err, out)
		}
	}
	run(dir)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			exec.Command(script, "--stop", dir).Run()
		}
	})
	type stateInfo struct {
		API     string            `json:"api"`
		PID     int               `json:"pid"`
		DataDir string            `json:"data_dir"`
		Tokens  map[string]string `json:"tokens"`
	}
	var summary struct {
		States     map[string]stateInfo `json:"states"`
		Agreements []struct {
			ID      string   `json:"id"`
			Parties []string `json:"parties"`
		} `json:"agreements"`
	}
	read := func() {
		b, err := os.ReadFile(filepath.Join(dir, "partnership.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &summary); err != nil {
			t.Fatalf("partnership.json: %v\n%s", err, b)
		}
	}
	read()
	if len(summary.States) != 4 || len(summary.Agreements) != 3 {
		t.Fatalf("partnership.json: %d states, %d agreements", len(summary.States), len(summary.Agreements))
	}
	for s, st := range summary.States {
		if st.API == "" || st.PID == 0 || st.DataDir == "" || len(st.Tokens) != 4 {
			t.Fatalf("%s: %+v", s, st)
		}
	}
	for _, a := range summary.Agreements {
		if len(a.Parties) != 2 || a.Parties[0] != "US" || a.ID != "US-"+a.Parties[1] {
			t.Fatalf("agreement %+v", a)
		}
	}
	ctx := context.Background()
	cl := func(s, role string) *node.Client {
		return node.NewClient(summary.States[s].API, summary.States[s].Tokens[role], nil)
	}
	if _, err := cl("NL", "operator").Enroll(ctx, &node.EnrolRequest{Identity: node.IdentityInput{ID: "NL-1"},
		Provenance: store.Provenance{LegalBasis: "test"}, Samples: []node.SampleInput{isoSample(t, 811, biometric.RightIndex)}}); err != nil {
		t.Fatal(err)
	}
	search := func() string {
		res, err := cl("US", "operator").ExchangeSearch(ctx, &node.ExchangeSearchRequest{Partner: "NL", Purpose: "border_screening",
			LegalBasis: "test", Officer: "o-1", Samples: []node.SampleInput{isoSample(t, 811, biometric.RightIndex)}})
		if err != nil {
			t.Fatalf("search NL from US: %v", err)
		}
		return res.Outcome
	}
	if got := search(); got != "hit" {
		t.Fatalf("search: %s, want hit", got)
	}
	if err := syscall.Kill(summary.States["NL"].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	run("--restart", dir, "NL")
	read()
	if got := search(); got != "hit" {
		t.Fatalf("search after the restart: %s, want hit", got)
	}
	run("--stop", dir)
	stopped = true
	for s := range summary.States {
		if cl(s, "operator").Ready(ctx) {
			t.Errorf("%s still answers after --stop", s)
		}
	}
}
