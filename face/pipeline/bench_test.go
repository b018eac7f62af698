package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebsp/ebsp/face/models"
	"github.com/ebsp/ebsp/internal/shareddata"
	"github.com/ebsp/ebsp/internal/testneed"
)

// BenchmarkStages times each stage on one 1350×1350 London photo:
// go test -run XXX -bench Stages ./face/pipeline
func BenchmarkStages(b *testing.B) {
	p, err := Load(models.DefaultDir())
	if errors.Is(err, models.ErrMissing) {
		testneed.Missing(b, "face model weights: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	img, err := os.ReadFile(filepath.Join(shareddata.Dir(b, "faces/frl_london_subset"), "images", "001_03.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := Decode(img)
	if err != nil {
		b.Fatal(err)
	}
	faces, err := p.det.Detect(m)
	if err != nil || len(faces) == 0 {
		b.Fatalf("detect: %d faces, %v", len(faces), err)
	}
	chip := Align(m, &faces[0])
	for _, s := range []struct {
		name string
		run  func() error
	}{
		{"decode", func() error { _, err := Decode(img); return err }},
		{"detect", func() error { _, err := p.det.Detect(m); return err }},
		{"align", func() error { Align(m, &faces[0]); return nil }},
		{"embed", func() error { _, err := p.rec.Embed(chip); return err }},
		{"all", func() error { _, err := p.Process(img); return err }},
	} {
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				if err := s.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
