package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ebsp/ebsp/biometric"
	"github.com/ebsp/ebsp/formats/iso19794"
	"github.com/ebsp/ebsp/node"
	"github.com/ebsp/ebsp/store"
	"github.com/ebsp/ebsp/synth"
)

// binBuild is this command compiled once for all the tests of the
// package that run it as a process; TestMain removes it.
type binBuild struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// ebspBuild is the command as shipped; ebspFailpointBuild is built with
// the tag ebsp_failpoints, whose process kills itself at the failpoint
// EBSP_FAILPOINT names (package exchange, failpoint_on.go).
var ebspBuild, ebspFailpointBuild binBuild

// buildEbsp compiles this command into a temporary folder, once per test
// binary.
func buildEbsp(t *testing.T) string { return ebspBuild.get(t) }

// buildEbspFailpoints compiles this command with failpoints, once per
// test binary.
func buildEbspFailpoints(t *testing.T) string {
	return ebspFailpointBuild.get(t, "-tags", "ebsp_failpoints")
}

func (b *binBuild) get(t *testing.T, flags ...string) string {
	t.Helper()
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "ebsp-bin-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "ebsp")
		args := append(append([]string{"build"}, flags...), "-o", b.bin, ".")
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range []*binBuild{&ebspBuild, &ebspFailpointBuild} {
		if b.dir != "" {
			os.RemoveAll(b.dir)
		}
	}
	os.Exit(code)
}

// startNodeProcess runs `ebsp node` as a child process and waits until it
// is ready.
func startNodeProcess(t *testing.T, bin, cfgPath, dir string, flags ...string) (*exec.Cmd, string) {
	t.Helper()
	ready := filepath.Join(dir, "ready")
	return startProcess(t, bin, append([]string{"node", "--config", cfgPath, "--ready-file", ready}, flags...),
		filepath.Join(dir, "node.log"), ready)
}

// startLogged starts cmd with its output appended to logPath and kills
// it when the test ends.
func startLogged(t *testing.T, cmd *exec.Cmd, logPath string) *exec.Cmd {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

// startProcess runs bin with args as a child process, its output appended
// to logPath, and waits until it writes the ready file; it returns the
// process and what the file holds. The process is killed when the test
// ends.
func startProcess(t *testing.T, bin string, args []string, logPath, ready string) (*exec.Cmd, string) {
	t.Helper()
	os.Remove(ready)
	cmd := startLogged(t, exec.Command(bin, args...), logPath)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil && len(b) > 0 {
			return cmd, string(b)
		}
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("%s %s did not become ready in 60 s; log:\n%s", filepath.Base(bin), args[0], log)
	return nil, ""
}

func isoSample(t *testing.T, finger uint64, pos biometric.FingerPosition) node.SampleInput {
	m := synth.NewFingerMaster(11, finger)
	master := synth.TemplateMaster(m)
	rec, err := iso19794.MinutiaeRecordFromTemplate(synth.TemplateImpression(m, &master, 1), iso19794.ISO19794_2_2005, pos)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return node.SampleInput{Modality: biometric.Finger, Position: pos, Format: "iso19794-2", Data: b}
}

// TestKill9KeepsAcknowledgedEnrolments enrols from eight concurrent clients,
// kills the node with SIGKILL mid-stream, restarts it, and checks that every
// acknowledged enrolment is there in full and that no enrolment is there in
// part.
func TestKill9KeepsAcknowledgedEnrolments(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node binary")
	}
	bin := buildEbsp(t)
	dir := t.TempDir()
	token := "durability-test-token"
	_, cfgPath := writeAdminNodeConfig(t, dir, token, os.Getenv("EBSP_TEST_DURABILITY_POSTGRES"))
	cmd, url := startNodeProcess(t, bin, cfgPath, dir)
	cl := node.NewClient(url, token, nil)

	samples := make([]node.SampleInput, 40)
	for i := range samples {
		samples[i] = isoSample(t, uint64(i), biometric.RightIndex)
	}
	var (
		mu        sync.Mutex
		acked     []string
		attempted []string
		wg        sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("W%d-%05d", w, i)
				mu.Lock()
				attempted = append(attempted, id)
				mu.Unlock()
				_, err := cl.Enroll(ctx, &node.EnrolRequest{Identity: node.IdentityInput{ID: id},
					Encounter:  node.EncounterInput{ID: "enc-" + id},
					Provenance: store.Provenance{LegalBasis: "durability test"},
					Samples:    []node.SampleInput{samples[(w*7+i)%40], samples[(w*3+i+1)%40]}})
				if err == nil {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		}()
	}
	// Let the load run, then kill without warning.
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = cmd.Process.Wait()
	cancel()
	wg.Wait()
	if n < 20 {
		t.Fatalf("only %d enrolments acknowledged before the kill: load too light to test", n)
	}
	t.Logf("%d enrolments acknowledged, %d attempted before kill -9", len(acked), len(attempted))

	_, url = startNodeProcess(t, bin, cfgPath, dir)
	cl = node.NewClient(url, token, nil)
	ackSet := map[string]bool{}
	for _, id := range acked {
		ackSet[id] = true
	}
	check := context.Background()
	for _, id := range attempted {
		rec, err := readIdentity(check, cl, id)
		switch {
		case err != nil && ackSet[id]:
			t.Errorf("acknowledged enrolment %s lost: %v", id, err)
		case err != nil:
			// never acknowledged and not there: fine
		case len(rec.Encounters) != 1 || len(rec.Samples) != 2:
			t.Errorf("enrolment %s half-written: %d encounters, %d samples", id, len(rec.Encounters), len(rec.Samples))
		}
	}
	// And the gallery was rebuilt from the store: verification against an
	// acknowledged identity finds its templates (404 otherwise).
	if _, err := cl.Verify(check, &node.VerifyRequest{IdentityID: acked[0], Samples: []node.SampleInput{samples[0]}}); err != nil {
		t.Fatalf("verify after restart: %v", err)
	}
}

func readIdentity(ctx context.Context, cl *node.Client, id string) (*store.IdentityRecord, error) {
	var rec store.IdentityRecord
	err := cl.Get(ctx, "/v1/identities/"+strings.ReplaceAll(id, "/", ""), &rec)
	return &rec, err
}

// TestEnrolRetryAfterKill9: an enrolment committed by a node killed with
// SIGKILL before its reply reached the client (the client saw a reset) is
// sent again with the same encounter id, as node.Client and ebsp enroll
// do, to the restarted node: the answer is the first enrolment's
// (replayed), and the person is enrolled once.
func TestEnrolRetryAfterKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node binary")
	}
	bin := buildEbsp(t)
	dir := t.TempDir()
	token := "retry-test-token"
	cfg, cfgPath := writeAdminNodeConfig(t, dir, token, "")
	cmd, url := startNodeProcess(t, bin, cfgPath, dir)
	ctx := context.Background()
	req := &node.EnrolRequest{Encounter: node.EncounterInput{ID: "visa-2026-000042"}, Provenance: store.Provenance{LegalBasis: "test"},
		Samples: []node.SampleInput{isoSample(t, 4242, biometric.RightIndex)}}
	first, err := node.NewClient(url, token, nil).Enroll(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// The reply is treated as lost: the node dies right after the commit.
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	cmd, url = startNodeProcess(t, bin, cfgPath, dir)
	again, err := node.NewClient(url, token, nil).Enroll(ctx, req)
	if err != nil || !again.Replayed || again.IdentityID != first.IdentityID || again.EncounterID != first.EncounterID {
		t.Fatalf("retry after the restart: %+v %v; first %+v", again, err, first)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	st, err := node.OpenStore(ctx, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if ids, templates, err := st.Counts(ctx); err != nil || ids != 1 || templates != 1 {
		t.Fatalf("store after the retry: %d identities, %d templates, %v; want 1 and 1", ids, templates, err)
	}
}

// writeAdminNodeConfig writes DIR/node.json for a node on a free loopback
// port with its data in DIR/data, the store storeURL ("" for SQLite), no
// rate limit and one admin token, and returns it and its path.
func writeAdminNodeConfig(t *testing.T, dir, token, storeURL string) (node.Config, string) {
	t.Helper()
	cfg := node.Config{State: "USA", Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), Store: storeURL,
		RatePerSecond: 1e6, Burst: 1e6,
		Tokens: []node.TokenConfig{{Name: "t", SHA256: node.TokenHash(token), Roles: []node.Role{node.RoleAdmin}}}}
	path := filepath.Join(dir, "node.json")
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

// TestBackupRestoreCommands runs `ebsp backup` against a running node
// process, then, the node killed and its data directory gone, `ebsp
// restore` into a fresh directory, and starts `ebsp node` on the restored
// configuration: the enrolment is there. (TestBackupRestore, package
// partnership, does the same with an exchange, its log and PostgreSQL.)
func TestBackupRestoreCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the node binary")
	}
	bin := buildEbsp(t)
	dir := t.TempDir()
	token := "backup-test-token"
	cfg, cfgPath := writeAdminNodeConfig(t, dir, token, "")
	cmd, url := startNodeProcess(t, bin, cfgPath, dir)
	ctx := context.Background()
	first, err := node.NewClient(url, token, nil).Enroll(ctx, &node.EnrolRequest{Provenance: store.Provenance{LegalBasis: "test"},
		Samples: []node.SampleInput{isoSample(t, 4343, biometric.RightIndex)}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "backup")
	runEbsp(t, bin, "backup", "--config", cfgPath, "--out", out)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if err := os.RemoveAll(cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(dir, "restored")
	runEbsp(t, bin, "restore", "--from", out, "--to", to)
	if err := exec.Command(bin, "restore", "--from", out, "--to", to).Run(); err == nil {
		t.Fatal("ebsp restore into a directory that is not empty succeeded")
	}
	_, url = startNodeProcess(t, bin, filepath.Join(to, "node.json"), to)
	rec, err := readIdentity(ctx, node.NewClient(url, token, nil), first.IdentityID)
	if err != nil || len(rec.Samples) != 1 {
		t.Fatalf("the enrolment on the restored node: %+v %v", rec, err)
	}
}
