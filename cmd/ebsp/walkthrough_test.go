package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebsp/ebsp/internal/testneed"
	"github.com/ebsp/ebsp/node"
)

// walkThrough returns the shell commands of the section of doc that starts
// with heading: its ```sh blocks, in order (other blocks are left out).
func walkThrough(t *testing.T, doc, heading string) string {
	t.Helper()
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("%s has no section %q", doc, heading)
	}
	s = s[i+len(heading)+2:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	var script strings.Builder
	blocks := 0
	for {
		k := strings.Index(s, "\n```sh\n")
		if k < 0 {
			break
		}
		s = s[k+len("\n```sh\n"):]
		end := strings.Index(s, "\n```")
		if end < 0 {
			t.Fatalf("%s: a ```sh block is not closed", doc)
		}
		script.WriteString(s[:end+1])
		s = s[end+4:]
		blocks++
	}
	if blocks < 5 {
		t.Fatalf("%s %q: only %d sh blocks", doc, heading, blocks)
	}
	return script.String()
}

// TestNodeWalkThrough runs the curl walk-through of docs/node.md as a user
// would: every command of the section, in order, with the ebsp binary on
// PATH, from a folder holding the repository's examples/. The node listens
// on a free port (EBSP_LISTEN overrides the example's).
func TestNodeWalkThrough(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testneed.Missing(t, "curl is not installed (apt-get install curl; ./test.sh installs it)")
	}
	script := walkThrough(t, filepath.Join("..", "..", "docs", "node.md"), "## Walk-through with curl")
	bin := buildEbsp(t)
	dir := t.TempDir()
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(examples, filepath.Join(dir, "examples")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	// The script starts nodes in the background: if it fails half way they
	// still run. They are in its process group, which the test ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	t.Cleanup(func() {
		if cmd.Process != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"EBSP_LISTEN=127.0.0.1:0", "EBSP_CONFIG=", "EBSP_STORE=", "EBSP_DATA_DIR=", "EBSP_STATE=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "node.log"))
		t.Fatalf("walk-through failed: %v\n--- output:\n%s\n--- node.log:\n%s", err, out, log)
	}
	// What the doc's comments promise, in the order it promises it.
	rest := string(out)
	for _, want := range []string{`"status": "ready"`, `"identity_id": "P-0001"`, `"decision": "hit"`, `"decision": "match"`,
		`"id": "P-0001"`, "204", `"decision": "no_hit"`, "ebsp_enrolments_total 1", "ebsp_erasures_total 1", `"openapi": "3.1`, `"unauthenticated"`, `"forbidden"`,
		"200 text/html", `"msg":"node stopping"`, `"msg":"node stopped"`, `"decision": "no_hit"`} {
		k := strings.Index(rest, want)
		if k < 0 {
			t.Fatalf("walk-through output lacks %s (in order); output:\n%s", want, out)
		}
		rest = rest[k+len(want):]
	}
}

// TestExampleConfigs: every node configuration in examples/ loads and
// validates, and gives every role a token.
func TestExampleConfigs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "node-*.json"))
	if len(files) < 3 {
		t.Fatalf("want the SQLite, PostgreSQL and mutual-TLS examples, found %v", files)
	}
	for _, f := range files {
		c, err := node.LoadConfig(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		c.Defaults()
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		roles := map[node.Role]bool{}
		for _, tok := range c.Tokens {
			for _, r := range tok.Roles {
				roles[r] = true
			}
			role := strings.TrimPrefix(tok.Name, "example-")
			secret, err := os.ReadFile(filepath.Join("..", "..", "examples", "tokens", role+".token"))
			if err != nil || node.TokenHash(strings.TrimSpace(string(secret))) != tok.SHA256 {
				t.Errorf("%s: token %s is not the hash of examples/tokens/%s.token (%v)", f, tok.Name, role, err)
			}
		}
		for _, r := range []node.Role{node.RoleEnroller, node.RoleSearcher, node.RoleExaminer, node.RoleAuditor, node.RoleAdmin} {
			if !roles[r] {
				t.Errorf("%s: no token for role %s", f, r)
			}
		}
	}
}
