package models

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckSaysWhatToRun(t *testing.T) {
	dir := t.TempDir()
	err := Check(dir)
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "ebsp models fetch --dir "+dir) {
		t.Fatalf("error %v", err)
	}
	for _, f := range Files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), []byte("not the model"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Check(dir); err == nil || errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("tampered files: error %v", err)
	}
}

func tarball(t *testing.T, files map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, b := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "pkg.tgz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExtractChecksSums(t *testing.T) {
	good := []byte("weights")
	want := []File{{Name: "w.bin", Path: "package/w.bin", SHA256: sum(good)}}
	dir := t.TempDir()
	tgz := tarball(t, map[string][]byte{"package/w.bin": good, "package/other.js": []byte("x")})
	if err := extract(tgz, dir, want); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "w.bin")); err != nil || !bytes.Equal(b, good) {
		t.Fatalf("extracted %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.js")); err == nil {
		t.Fatal("extracted a file that is not a model")
	}
	bad := tarball(t, map[string][]byte{"package/w.bin": []byte("tampered")})
	if err := extract(bad, t.TempDir(), want); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("tampered weights: error %v", err)
	}
	if err := extract(tarball(t, map[string][]byte{"package/x": nil}), t.TempDir(), want); err == nil {
		t.Fatal("missing file: no error")
	}
}

func TestOpenRefusesOtherFiles(t *testing.T) {
	if _, err := Open(t.TempDir())("../../etc/passwd"); err == nil {
		t.Fatal("no error")
	}
}
