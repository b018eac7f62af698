package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
)

// TestNodeStopsOnSIGTERM: on SIGTERM the node logs why it stops, answers
// /readyz with 503 while it drains, still serves the requests that arrive
// then, logs that it stopped and exits 0.
func TestNodeStopsOnSIGTERM(t *testing.T) {
	bin := buildEbsp(t)
	dir := t.TempDir()
	token := "sigterm-test-token"
	cfg := node.Config{State: "USA", Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"),
		Tokens: []node.TokenConfig{{Name: "t", SHA256: node.TokenHash(token), Roles: []node.Role{node.RoleAdmin}}}}
	cfgPath := filepath.Join(dir, "node.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, url := startNodeProcess(t, bin, cfgPath, dir, "--drain-delay", "1500ms")
	cl := node.NewClient(url, token, nil)
	ctx := context.Background()
	if !cl.Ready(ctx) {
		t.Fatal("node not ready before the signal")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Within the drain delay: not ready, but still serving.
	deadline := time.Now().Add(time.Second)
	status := 0
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if status = resp.StatusCode; status == 503 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status != 503 {
		t.Fatalf("/readyz answered %d after SIGTERM, want 503", status)
	}
	_, err := cl.Enroll(ctx, &node.EnrolRequest{Identity: node.IdentityInput{ID: "late-1"},
		Provenance: store.Provenance{LegalBasis: "test"},
		Samples:    []node.SampleInput{isoSample(t, 1, biometric.RightIndex)}})
	if err != nil {
		t.Fatalf("enrolment during the drain: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("node exited with %v, want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("node did not stop within 20 s of SIGTERM")
	}
	log, _ := os.ReadFile(filepath.Join(dir, "node.log"))
	for _, want := range []string{`"msg":"node starting"`, `"msg":"node stopping","reason":"signal terminated"`, `"msg":"node stopped"`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("node log lacks %s:\n%s", want, log)
		}
	}
}
