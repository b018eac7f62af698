package audit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func mirror(t *testing.T, l *Log, dir string) {
	t.Helper()
	if err := l.Publish(dir, 0); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyTiles(t *testing.T) {
	fx := keptLog(t, 700, 1, 255, 256, 300, 699)
	dir := t.TempDir()
	mirror(t, fx.log, dir)
	fill(t, fx.log, 10)                              // the log grew since the last checkpoint kept
	if err := fx.log.Publish(dir, 700); err != nil { // and the mirror with it
		t.Fatal(err)
	}
	r := VerifyTiles(NewTileSource(context.Background(), dir, ""), fx.v, fx.kept)
	if !r.OK() || r.Leaves != 710 || len(r.Checkpoints) != 5 {
		t.Fatalf("intact log: %+v", r)
	}

	// The same over HTTP, with the bearer token the node's API wants.
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		http.StripPrefix("/v1/audit", files).ServeHTTP(w, req)
	}))
	defer srv.Close()
	if r := VerifyTiles(NewTileSource(context.Background(), srv.URL+"/v1/audit/", "tok"), fx.v, fx.kept); !r.OK() {
		t.Fatalf("over HTTP: %v", r.Problems)
	}
	if r := VerifyTiles(NewTileSource(context.Background(), srv.URL+"/v1/audit", "bad"), fx.v, fx.kept); r.OK() || !strings.Contains(r.Problems[0], "401") {
		t.Fatalf("without the token: %v", r.Problems)
	}
	// A token goes in the clear only to this machine.
	if r := VerifyTiles(NewTileSource(context.Background(), "http://auditor.invalid/v1/audit", "tok"), fx.v, fx.kept); r.OK() || !strings.Contains(r.Problems[0], "only over https") {
		t.Fatalf("a token over plain http to another host: %v", r.Problems)
	}

	// A tile changed in the mirror: it does not authenticate.
	bad := t.TempDir()
	copyDir(t, dir, bad)
	flipAt(t, filepath.Join(bad, "tile", "0", "000"), 100)
	if r := VerifyTiles(NewTileSource(context.Background(), bad, ""), fx.v, fx.kept); r.OK() {
		t.Fatal("a damaged tile verified")
	}

	// A fork: the same key publishes a log whose leaf 100 differs.
	forked, err := Open(t.TempDir(), fx.signer)
	if err != nil {
		t.Fatal(err)
	}
	defer forked.Close()
	for i := 0; i < 710; i++ {
		lf := leafN(i)
		if i == 100 {
			lf.Case = "case-rewritten"
		}
		if _, err := forked.AppendUnsynced(lf); err != nil {
			t.Fatal(err)
		}
	}
	forked.Append(leafN(710))
	fdir := t.TempDir()
	mirror(t, forked, fdir)
	r = VerifyTiles(NewTileSource(context.Background(), fdir, ""), fx.v, fx.kept)
	if r.OK() || len(r.Problems) != 4 {
		t.Fatalf("fork after leaf 100: problems %v, want the 4 checkpoints past it", r.Problems)
	}
	mustProblem(t, r, "does not extend")

	// A rollback: an older, shorter publication than a checkpoint kept.
	short := t.TempDir()
	copyDir(t, dir, short)
	for _, k := range fx.kept {
		if strings.HasSuffix(k.Source, "cp256") {
			os.WriteFile(filepath.Join(short, "checkpoint"), k.Signed, 0o600)
		}
	}
	r = VerifyTiles(NewTileSource(context.Background(), short, ""), fx.v, fx.kept)
	mustProblem(t, r, "rolled back")
}

// A tile of the wrong length is refused before any hashing.
func TestTileSourceRefusesWrongLength(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "tile", "0", "000.p", "3")
	os.MkdirAll(filepath.Dir(p), 0o700)
	os.WriteFile(p, make([]byte, 95), 0o600)
	src := NewTileSource(context.Background(), dir, "")
	if _, err := src.ReadTiles([]tlog.Tile{{H: 8, L: 0, N: 0, W: 3}}); err == nil {
		t.Fatal("short tile accepted")
	}
	os.WriteFile(p, make([]byte, 97), 0o600)
	if _, err := src.ReadTiles([]tlog.Tile{{H: 8, L: 0, N: 0, W: 3}}); err == nil {
		t.Fatal("long tile accepted")
	}
}
