package synth

import (
	"cmp"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"testing"
	"time"

	"github.com/ebsp/ebsp/formats/raster"
)

func montage(path string, ims []*image.Gray) {
	W, H := 0, 0
	for _, im := range ims {
		W += im.Bounds().Dx() + 4
		H = max(H, im.Bounds().Dy())
	}
	out := image.NewGray(image.Rect(0, 0, W, H))
	x := 0
	for _, im := range ims {
		draw.Draw(out, image.Rect(x, 0, x+im.Bounds().Dx(), im.Bounds().Dy()), im, image.Point{}, draw.Src)
		x += im.Bounds().Dx() + 4
	}
	w, _ := os.Create(path)
	png.Encode(w, out)
	w.Close()
}

func TestViewMasters(t *testing.T) {
	if os.Getenv("SYNTH_VIEW") == "" {
		t.Skip("SYNTH_VIEW not set")
	}
	var ims []*image.Gray
	for f := range uint64(5) {
		m := NewFingerMaster(5, f)
		t0, c0 := time.Now(), cpuTime()
		mi := RenderMaster(m)
		t.Logf("finger %d class %v: %v wall, %v cpu, %d iterations", f, m.Class, time.Since(t0), cpuTime()-c0, mi.Iterations)
		ims = append(ims, mi.Gray())
	}
	montage("/tmp/masters.png", ims)
}

func cpuTime() time.Duration { return processCPU() }

func TestViewImpressions(t *testing.T) {
	if os.Getenv("SYNTH_VIEW") == "" {
		t.Skip("SYNTH_VIEW not set")
	}
	for f := range uint64(2) {
		m := NewFingerMaster(5, f)
		mi := RenderMaster(m)
		var ims []*image.Gray
		c0 := cpuTime()
		for k := range uint64(4) {
			ims = append(ims, mi.Impression(k))
		}
		t.Logf("4 impressions: %v cpu", cpuTime()-c0)
		montage(fmt.Sprintf("/tmp/impr_%d.png", f), ims)
	}
}

func TestViewReal(t *testing.T) {
	if os.Getenv("SYNTH_VIEW") == "" {
		t.Skip("SYNTH_VIEW not set")
	}
	var ims []*image.Gray
	for _, f := range []string{"fvc2002_DB1_B/101_1.tif", "fvc2002_DB3_B/103_2.tif", "fvc2004_DB2_B/105_1.tif", "fvc2004_DB3_B/102_3.tif"} {
		b, err := os.ReadFile("/work/shared/data/fingerprints/" + f)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := raster.Decode(b, 4<<20)
		if err != nil {
			t.Fatal(err)
		}
		ims = append(ims, img)
	}
	montage("/tmp/real.png", ims)
}

func TestViewDir(t *testing.T) {
	dir := os.Getenv("SYNTH_VIEW_DIR")
	if dir == "" {
		t.Skip("SYNTH_VIEW_DIR not set")
	}
	var ims []*image.Gray
	for k := 1; k <= 8; k++ {
		b, err := os.ReadFile(fmt.Sprintf("%s/%s_%d.%s", dir, os.Getenv("SYNTH_VIEW_FINGER"), k, cmp.Or(os.Getenv("SYNTH_VIEW_EXT"), "png")))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := raster.Decode(b, 4<<20)
		if err != nil {
			t.Fatal(err)
		}
		ims = append(ims, img)
	}
	montage("/tmp/synthw/dir.png", ims)
}
