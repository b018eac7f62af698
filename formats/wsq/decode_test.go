package wsq

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/png"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

// exactPairs are the WSQ files whose PNG is a pixel-exact reference decode:
// JNBIS's decodes beside the jnbis files (asserted pixel-exact by its tests)
// and NIST NBIS dwsq's decodes of every other file, listed in
// reference-nbis/decodes.csv. Under the race detector only the small ones.
func exactPairs(t testing.TB) map[string]string {
	dir := shareddata.Dir(t, "formats/wsq")
	pairs := map[string]string{
		filepath.Join(dir, "jnbis/sample.wsq"): filepath.Join(dir, "jnbis/sample.png"),
	}
	for n := 1; n <= 14; n++ {
		if raceEnabled && n != 11 {
			continue // fp-11 is the smallest finger
		}
		base := filepath.Join(dir, "jnbis/tpcard", fmt.Sprintf("fp-%d", n))
		pairs[base+".wsq"] = base + ".png"
	}
	rows, err := csv.NewReader(bytes.NewReader(mustRead(t, filepath.Join(dir, "reference-nbis/decodes.csv")))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("reference-nbis/decodes.csv: %v (%d rows)", err, len(rows))
	}
	for _, r := range rows[1:] { // wsq_file,width,height,nbis_dwsq_decode
		if len(r) != 4 {
			t.Fatalf("reference-nbis/decodes.csv: row %q", r)
		}
		w, _ := strconv.Atoi(r[1])
		h, _ := strconv.Atoi(r[2])
		if raceEnabled && w*h > 640*480 {
			continue
		}
		pairs[filepath.Join(dir, r[0])] = filepath.Join(dir, "reference-nbis", r[3])
	}
	return pairs
}

func allWSQ(t testing.TB) []string {
	dir := shareddata.Dir(t, "formats/wsq")
	var files []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".wsq") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatalf("no .wsq files under %s", dir)
	}
	return files
}

func shareddataDir(t testing.TB) string { return shareddata.Dir(t, "formats/wsq") }

func readGrayPNG(t testing.TB, path string) *image.Gray {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g
}

func decodeFile(t testing.TB, path string) (*image.Gray, *Metadata) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, meta, err := DecodeBytes(data, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img, meta
}

func TestDecodeExactPairs(t *testing.T) {
	for wsqPath, pngPath := range exactPairs(t) {
		name := filepath.Base(filepath.Dir(wsqPath)) + "/" + filepath.Base(wsqPath)
		t.Run(name, func(t *testing.T) {
			got, _ := decodeFile(t, wsqPath)
			want := readGrayPNG(t, pngPath)
			if got.Bounds() != want.Bounds() {
				t.Fatalf("size %v, reference %v", got.Bounds(), want.Bounds())
			}
			diff, maxd := 0, 0
			for i := range got.Pix {
				d := int(got.Pix[i]) - int(want.Pix[i])
				if d != 0 {
					diff++
					maxd = max(maxd, d, -d)
				}
			}
			if diff != 0 {
				t.Errorf("%d of %d pixels differ (max %d)", diff, len(got.Pix), maxd)
			}
		})
	}
}

// TestDecodeAll decodes the files that have no exact reference decode.
func TestDecodeAll(t *testing.T) {
	exact := exactPairs(t)
	for _, p := range allWSQ(t) {
		if _, ok := exact[p]; ok {
			continue
		}
		if raceEnabled {
			cfg, err := DecodeConfig(bytes.NewReader(mustRead(t, p)))
			if err != nil || cfg.Width*cfg.Height > 400*400 {
				continue // decoded by the non-race run
			}
		}
		img, meta := decodeFile(t, p)
		if img.Bounds().Dx() != meta.Width || img.Bounds().Dy() != meta.Height {
			t.Errorf("%s: image %v, metadata %dx%d", p, img.Bounds(), meta.Width, meta.Height)
		}
		if w, ok := meta.NISTCOM["PIX_WIDTH"]; ok && w != fmt.Sprint(meta.Width) {
			t.Errorf("%s: NISTCOM PIX_WIDTH %s, SOF width %d", p, w, meta.Width)
		}
	}
}

// TestDecodeSimilar compares with the SourceAFIS conversion, which is only
// similar (its tests allow a mean difference under 1%).
func TestDecodeSimilar(t *testing.T) {
	if raceEnabled {
		t.Skip("too slow under the race detector; this package has no concurrency")
	}
	dir := shareddata.Dir(t, "formats/wsq")
	got, _ := decodeFile(t, filepath.Join(dir, "sourceafis/wsq-original.wsq"))
	want := readGrayPNG(t, filepath.Join(dir, "sourceafis/wsq-converted.png"))
	if got.Bounds() != want.Bounds() {
		t.Fatalf("size %v, reference %v", got.Bounds(), want.Bounds())
	}
	sum, differ := 0, 0
	for i := range got.Pix {
		d := int(got.Pix[i]) - int(want.Pix[i])
		sum += max(d, -d)
		if d != 0 {
			differ++
		}
	}
	mean := float64(sum) / float64(len(got.Pix)) / 255
	t.Logf("mean absolute difference %.4f%% of full scale, %d of %d pixels differ", 100*mean, differ, len(got.Pix))
	if mean >= 0.01 {
		t.Errorf("mean difference %.4f, want < 0.01", mean)
	}
}

func TestMetadata(t *testing.T) {
	dir := shareddata.Dir(t, "formats/wsq")
	f, err := os.Open(filepath.Join(dir, "jnbis/tpcard/fp-1.wsq"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ReadMetadata(f)
	if err != nil {
		t.Fatal(err)
	}
	if m.Width != 804 || m.Height != 752 || m.PPI != 500 || m.NISTCOM["WSQ_BITRATE"] != "0.750000" ||
		m.LowpassTaps != 9 || m.HighpassTaps != 7 || m.Blocks != 3 {
		t.Errorf("metadata %+v", m)
	}
	cfg, name, err := image.DecodeConfig(bytes.NewReader(mustRead(t, filepath.Join(dir, "jnbis/tpcard/fp-11.wsq"))))
	if err != nil || name != "wsq" || cfg.Width != 392 || cfg.Height != 1000 {
		t.Errorf("image.DecodeConfig: %v %q %+v", err, name, cfg)
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejects(t *testing.T) {
	dir := shareddata.Dir(t, "formats/wsq")
	good := mustRead(t, filepath.Join(dir, "libbiomeval/img.wsq"))
	// Truncations must fail with an error, never panic.
	for _, n := range []int{0, 1, 2, 10, 100, 500, len(good) / 2, len(good) - 2} {
		if _, _, err := DecodeBytes(good[:n], nil); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	// A frame over the limit is refused before allocation.
	_, _, err := DecodeBytes(good, &DecodeOptions{MaxPixels: 100})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxPixels 100: %v", err)
	}
	if _, _, err := DecodeBytes([]byte{0xFF, 0xD8, 0xFF, 0xE0}, nil); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "SOI") {
		t.Errorf("JPEG bytes: %v", err)
	}
}

// TestDecodeBoundedMemory checks that a small file declaring a huge frame
// is refused before the frame's buffers are made.
func TestDecodeBoundedMemory(t *testing.T) {
	data := mustRead(t, sharedPath(t, "libbiomeval/img.wsq"))
	// Find the SOF and declare 60000 x 60000 pixels (3.6 G pixels).
	i := bytes.Index(data, []byte{0xFF, 0xA2})
	if i < 0 {
		t.Fatal("no SOF")
	}
	big := append([]byte(nil), data...)
	binary.BigEndian.PutUint16(big[i+6:], 60000)
	binary.BigEndian.PutUint16(big[i+8:], 60000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := DecodeBytes(big, nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("60000x60000 frame: %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("refusing the frame allocated %d bytes", n)
	}
	// Within the limit, the buffers are bounded by MaxPixels: a 512x512
	// frame with 256x256 pixels of data decodes with a warning or fails,
	// and never allocates more than about 12 bytes a pixel.
	binary.BigEndian.PutUint16(big[i+6:], 512)
	binary.BigEndian.PutUint16(big[i+8:], 512)
	runtime.GC()
	runtime.ReadMemStats(&before)
	DecodeBytes(big, &DecodeOptions{MaxPixels: 512 * 512})
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 12*512*512+1<<20 {
		t.Errorf("512x512 frame allocated %d bytes", n)
	}
}

// TestDecodeConcurrent decodes different files at once: the pooled
// buffers must never be shared between decodes.
func TestDecodeConcurrent(t *testing.T) {
	pairs := exactPairs(t)
	type job struct{ wsq, png string }
	var jobs []job
	for w, p := range pairs {
		if st, err := os.Stat(w); err == nil && st.Size() < 30000 {
			jobs = append(jobs, job{w, p})
		}
	}
	if raceEnabled && len(jobs) > 2 {
		jobs = jobs[:2] // the race detector slows the float loops tenfold
	}
	want := map[string]*image.Gray{}
	for _, j := range jobs {
		want[j.wsq] = readGrayPNG(t, j.png)
	}
	errs := make(chan error, 4*len(jobs))
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := range jobs {
				j := jobs[(i+g)%len(jobs)]
				img, _, err := DecodeBytes(mustRead(t, j.wsq), nil)
				if err == nil && !bytes.Equal(img.Pix, want[j.wsq].Pix) {
					err = fmt.Errorf("%s: pixels differ from the reference decode", j.wsq)
				}
				if err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
