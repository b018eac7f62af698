package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

// TestWSQCommand decodes a shared WSQ file to PNG, encodes the PNG back,
// and reads the result's metadata as JSON.
func TestWSQCommand(t *testing.T) {
	in := filepath.Join(shareddata.Dir(t, "formats/wsq"), "libbiomeval", "img.wsq")
	dir := t.TempDir()
	png, out := filepath.Join(dir, "img.png"), filepath.Join(dir, "img.wsq")
	if s, rc := captureStdout(t, func() int { return runWSQ([]string{"decode", in, png}) }); rc != 0 || !strings.Contains(s, "256x256") {
		t.Fatalf("decode: rc %d, %q", rc, s)
	}
	s, rc := captureStdout(t, func() int { return runWSQ([]string{"encode", png, out, "--ppi", "500", "--json"}) })
	if rc != 0 {
		t.Fatalf("encode: rc %d, %q", rc, s)
	}
	var enc struct {
		Bytes int     `json:"bytes"`
		PSNR  float64 `json:"psnr_db"`
	}
	if err := json.Unmarshal([]byte(s), &enc); err != nil || enc.Bytes == 0 || enc.PSNR < 30 {
		t.Fatalf("encode output %q (%v)", s, err)
	}
	s, rc = captureStdout(t, func() int { return runWSQ([]string{"info", "--json", out}) })
	var info struct {
		Width   int               `json:"width"`
		PPI     int               `json:"ppi"`
		NISTCOM map[string]string `json:"nistcom"`
	}
	if err := json.Unmarshal([]byte(s), &info); rc != 0 || err != nil || info.Width != 256 || info.PPI != 500 || info.NISTCOM["COMPRESSION"] != "WSQ" {
		t.Fatalf("info: rc %d, %q (%v)", rc, s, err)
	}
	if _, rc := captureStdout(t, func() int { return runWSQ([]string{"decode", png, filepath.Join(dir, "x.png")}) }); rc == 0 {
		t.Errorf("decoding a PNG as WSQ succeeded")
	}
}
