// Package models fetches and checks the face pipeline's model weights.
//
// ebsp ships no weights. They come from two npm packages, pinned by version,
// and every file taken from them is pinned by SHA-256:
//
//   - @vladmandic/human: BlazeFace, MediaPipe's face detector (Apache-2.0),
//     as a TensorFlow.js graph model (models/blazeface.json and .bin);
//   - @vladmandic/face-api: dlib's face recognition ResNet (dlib's model
//     files are in the public domain; face-api's conversion is MIT), as a
//     TensorFlow.js weights manifest and shard.
//
// Fetch runs npm pack (the registry's ordinary client, which checks the
// package's integrity hash), takes only those files out of the tarball and
// checks their sums before writing them to the models directory.
// docs/face.md is the model card.
package models

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// File is one pinned model file.
type File struct {
	Name    string // file name in the models directory
	Package string // npm package@version it comes from
	Path    string // path inside the package tarball
	SHA256  string
}

// Files are the model files the face pipeline reads.
var Files = []File{
	{"blazeface.json", humanPackage, "package/models/blazeface.json", "cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f"},
	{"blazeface.bin", humanPackage, "package/models/blazeface.bin", "dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72"},
	{"face_recognition_model-weights_manifest.json", faceAPIPackage, "package/model/face_recognition_model-weights_manifest.json", "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b"},
	{"face_recognition_model.bin", faceAPIPackage, "package/model/face_recognition_model.bin", "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589"},
}

const (
	humanPackage   = "@vladmandic/human@3.3.6"
	faceAPIPackage = "@vladmandic/face-api@1.7.15"
)

// maxFile bounds what is read from a tarball entry (the largest file is
// 6.4 MB).
const maxFile = 64 << 20

// EnvDir names the environment variable that overrides DefaultDir.
const EnvDir = "EBSP_MODELS_DIR"

// DefaultDir is where models are kept unless told otherwise: $EBSP_MODELS_DIR,
// or ebsp/models under the user's cache directory.
func DefaultDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	if c, err := os.UserCacheDir(); err == nil {
		return filepath.Join(c, "ebsp", "models")
	}
	return filepath.Join(os.TempDir(), "ebsp-models")
}

// FetchCommand is what an operator runs to install the models into dir.
func FetchCommand(dir string) string {
	return "ebsp models fetch --dir " + dir
}

// ErrMissing is returned by Check when a model file is absent.
var ErrMissing = errors.New("face models are not installed")

// Check verifies that every model file in dir is present with its pinned
// sum.
func Check(dir string) error {
	for _, f := range Files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s has no %s; run: %s", ErrMissing, dir, f.Name, FetchCommand(dir))
		}
		if err != nil {
			return err
		}
		if got := sum(b); got != f.SHA256 {
			return fmt.Errorf("models: %s has SHA-256 %s, want %s; run: %s", filepath.Join(dir, f.Name), got, f.SHA256, FetchCommand(dir))
		}
	}
	return nil
}

// Fetch installs the model files into dir with npm pack. Files already
// present with the right sum are kept; npm writes its tarballs to a
// temporary directory removed afterwards.
func Fetch(ctx context.Context, dir string, log io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	byPkg := make(map[string][]File)
	var order []string
	for _, f := range Files {
		if b, err := os.ReadFile(filepath.Join(dir, f.Name)); err == nil && sum(b) == f.SHA256 {
			continue
		}
		if _, ok := byPkg[f.Package]; !ok {
			order = append(order, f.Package)
		}
		byPkg[f.Package] = append(byPkg[f.Package], f)
	}
	if len(order) == 0 {
		fmt.Fprintf(log, "models: %s already holds every model file\n", dir)
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("models: npm is needed to fetch the weights (Debian: apt-get install npm): %w", err)
	}
	tmp, err := os.MkdirTemp("", "ebsp-models-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, pkg := range order {
		fmt.Fprintf(log, "models: npm pack %s\n", pkg)
		cmd := exec.CommandContext(ctx, npm, "pack", "--silent", "--pack-destination", tmp, pkg)
		cmd.Dir = tmp
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("models: npm pack %s: %v: %s", pkg, err, strings.TrimSpace(errb.String()))
		}
		tgz := filepath.Join(tmp, strings.TrimSpace(lastLine(out.String())))
		if err := extract(tgz, dir, byPkg[pkg]); err != nil {
			return fmt.Errorf("models: %s: %w", pkg, err)
		}
	}
	return Check(dir)
}

// extract copies the wanted files out of an npm tarball after checking
// their sums; nothing else in the package is written.
func extract(tgz, dir string, want []File) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	left := make(map[string]File, len(want))
	for _, w := range want {
		left[w.Path] = w
	}
	for len(left) > 0 {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		w, ok := left[h.Name]
		if !ok {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxFile+1))
		if err != nil {
			return err
		}
		if len(b) > maxFile {
			return fmt.Errorf("%s is larger than %d bytes", h.Name, maxFile)
		}
		if got := sum(b); got != w.SHA256 {
			return fmt.Errorf("%s has SHA-256 %s, want %s", h.Name, got, w.SHA256)
		}
		dst := filepath.Join(dir, w.Name)
		if err := os.WriteFile(dst+".tmp", b, 0o644); err != nil {
			return err
		}
		if err := os.Rename(dst+".tmp", dst); err != nil {
			return err
		}
		delete(left, h.Name)
	}
	for p := range left {
		return fmt.Errorf("tarball has no %s", p)
	}
	return nil
}

// Open returns a function reading files of dir by the names a model's
// manifest uses, refusing any name that is not a pinned file.
func Open(dir string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		for _, f := range Files {
			if f.Name == name {
				return os.ReadFile(filepath.Join(dir, name))
			}
		}
		return nil, fmt.Errorf("models: %q is not a model file", name)
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
