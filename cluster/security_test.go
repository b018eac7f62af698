package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebsp/ebsp/engine"
	"github.com/ebsp/ebsp/exchange"
)

// tlsFilesOf issues a certificate of ca for 127.0.0.1 (server and client
// authentication) and returns the files of mutual TLS with it.
func tlsFilesOf(t *testing.T, ca *exchange.CA, name string) *TLSFiles {
	t.Helper()
	now := time.Now()
	nc, err := ca.IssueNode(name, []string{"127.0.0.1"}, now.Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), name)
	if err := nc.Save(dir); err != nil {
		t.Fatal(err)
	}
	return &TLSFiles{CA: filepath.Join(dir, exchange.CACertFile), Cert: filepath.Join(dir, exchange.TLSCertFile), Key: filepath.Join(dir, exchange.TLSKeyFile)}
}

// TestMutualTLS: an embedded server with TLS files refuses a client that
// shows no certificate or one of another CA, and a matcher and client
// connected over mutual TLS enrol and find a person.
func TestMutualTLS(t *testing.T) {
	now := time.Now()
	ca, err := exchange.NewCA("GB", now.Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := exchange.NewCA("FR", now.Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srvFiles := tlsFilesOf(t, ca, "nats")
	srv, err := StartServer("127.0.0.1", -1, srvFiles)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	url := srv.ClientURL()

	if nc, err := Connect(url, "plain", nil); err == nil {
		nc.Close()
		t.Fatal("a client without TLS connected")
	}
	if nc, err := Connect(url, "stranger", tlsFilesOf(t, other, "stranger")); err == nil {
		nc.Close()
		t.Fatal("a client with a certificate of another CA connected")
	}
	if _, err := Connect(url, "no key", &TLSFiles{CA: srvFiles.CA, Cert: srvFiles.Cert}); err == nil || !strings.Contains(err.Error(), "key") {
		t.Fatalf("TLS files without a key: %v", err)
	}
	if _, err := StartServer("127.0.0.1", -1, &TLSFiles{Cert: srvFiles.Cert, Key: srvFiles.Key}); err == nil || !strings.Contains(err.Error(), "CA") {
		t.Fatalf("a server without a CA file: %v", err)
	}

	mine := tlsFilesOf(t, ca, "node")
	mc, err := Connect(url, "matcher", mine)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	m, err := NewMatcher(mc, MatcherConfig{Prefix: "t", Shard: "s1", Engine: engine.Finger{}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cc, err := Connect(url, "client", mine)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ring, _ := NewRing([]string{"s1"})
	c := NewClient(cc, "t", ring, 2*time.Second)
	ctx := context.Background()
	for p := range 3 {
		ts, _ := person(t, p, 1)
		if err := c.Enrol(ctx, Enrolment{Identity: fmt.Sprint("P", p), Templates: ts}); err != nil {
			t.Fatal(err)
		}
	}
	_, probe := person(t, 1, 1)
	res, err := c.Search(ctx, probe, 3, 0.01)
	if err != nil || res.Partial || len(res.Candidates) == 0 || res.Candidates[0].IdentityID != "P1" {
		t.Fatalf("search over mutual TLS: %+v, %v", res, err)
	}
}
