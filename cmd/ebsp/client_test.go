package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/node"
)

// TestClientCommands runs `ebsp enroll`, `ebsp identify` and `ebsp verify`
// as a user would, against `ebsp node` running as a child process.
func TestClientCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node binary")
	}
	bin := buildEbsp(t)
	dir := t.TempDir()
	token := "client-test-token"
	cfg := node.Config{State: "USA", Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"),
		Tokens: []node.TokenConfig{{Name: "officer", SHA256: node.TokenHash(token), Roles: []node.Role{node.RoleEnroller, node.RoleSearcher}}}}
	cfgPath := filepath.Join(dir, "node.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, url := startNodeProcess(t, bin, cfgPath, dir)
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name string, finger uint64) string {
		s := isoSample(t, finger, biometric.RightIndex)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, s.Data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "EBSP_NODE="+url, "EBSP_TOKEN_FILE="+tokFile)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ebsp %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for i := range 5 {
		run("enroll", "--json", "--identity", "CLI-"+string(rune('A'+i)), "--legal-basis", "test", "2="+write("g.iso", uint64(100+i)))
	}
	out := run("identify", "--json", "2="+write("p.iso", 102))
	var resp node.IdentifyResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("identify output is not JSON: %q", out)
	}
	if resp.Decision != biometric.Hit || resp.Candidates[0].IdentityID != "CLI-C" {
		t.Errorf("identify: %+v", resp)
	}
	if out := run("verify", "--identity", "CLI-C", "2="+write("p.iso", 102)); !strings.HasPrefix(out, "match") {
		t.Errorf("verify: %q", out)
	}
	if out := run("identify", "2="+write("p.iso", 102)); !strings.Contains(out, "decision hit") || !strings.Contains(out, "CLI-C") {
		t.Errorf("identify for people: %q", out)
	}
}
