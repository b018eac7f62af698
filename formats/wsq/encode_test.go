package wsq

import (
	"bytes"
	"encoding/csv"
	"image"
	"image/color"
	"math"
	"math/rand"
	"os"
	"reflect"
	"strconv"
	"testing"
)

// dttFor builds the transform table the decoder reads for half filters.
func dttFor(t *testing.T, lowHalf, highHalf []float64, lowTaps, highTaps int) *transformTable {
	t.Helper()
	var w segmentWriter
	writeDTT(&w, lowHalf, highHalf, lowTaps, highTaps)
	tt, err := parseDTT(&segReader{b: w.b, name: "DTT"})
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// TestPerfectReconstruction checks that the encoder's analysis and the
// decoder's synthesis invert each other (no quantisation) for every image
// size parity and small sizes.
func TestPerfectReconstruction(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, sz := range [][2]int{{64, 64}, {65, 64}, {64, 65}, {97, 131}, {256, 200}, {33, 45}} {
		if maxErr := reconstructionError(t, standardFilters, sz[0], sz[1], rng); maxErr > 1e-2 {
			t.Errorf("%dx%d: max reconstruction error %g", sz[0], sz[1], maxErr)
		}
	}
}

// reconstructionError decomposes a random w×h plane with fb's analysis
// filters, reconstructs it with the synthesis filters the decoder reads
// from fb's transform table, and returns the largest difference.
func reconstructionError(t *testing.T, fb filterBank, w, h int, rng *rand.Rand) float64 {
	t.Helper()
	tt := dttFor(t, fb.lowHalf, fb.highHalf, fb.lowTaps, fb.highTaps)
	f := &analysisFilters{h0: fullFilter(fb.lowHalf, fb.lowTaps, false), h1: fullFilter(fb.highHalf, fb.highTaps, true)}
	orig := make([]float32, w*h)
	for i := range orig {
		orig[i] = float32(rng.NormFloat64() * 50)
	}
	plane := append([]float32(nil), orig...)
	tmp := make([]float32, w*h)
	l := newLayout(w, h)
	decompose(plane, tmp, w, l, f)
	reconstruct(plane, tmp, w, l, tt)
	maxErr := 0.0
	for i := range orig {
		maxErr = math.Max(maxErr, math.Abs(float64(plane[i]-orig[i])))
	}
	return maxErr
}

// evenBanks are even-length biorthogonal pairs: Haar (2/2) and the
// spline pair with a 6-tap lowpass and 2-tap highpass.
var evenBanks = []filterBank{
	{[]float64{math.Sqrt2 / 2}, []float64{math.Sqrt2 / 2}, 2, 2},
	{[]float64{math.Sqrt2 / 2, math.Sqrt2 / 16, -math.Sqrt2 / 16}, []float64{math.Sqrt2 / 2}, 6, 2},
}

func TestPerfectReconstructionEven(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, fb := range evenBanks {
		for _, sz := range [][2]int{{64, 64}, {65, 63}, {97, 131}} {
			if maxErr := reconstructionError(t, fb, sz[0], sz[1], rng); maxErr > 1e-2 {
				t.Errorf("%d/%d taps, %dx%d: max reconstruction error %g", fb.lowTaps, fb.highTaps, sz[0], sz[1], maxErr)
			}
		}
	}
}

// TestEvenFilterFiles writes and reads whole files with even-length filters
// (the shared data has none) at a high rate.
func TestEvenFilterFiles(t *testing.T) {
	orig, _ := decodeFile(t, sharedPath(t, "libbiomeval/img.wsq"))
	for _, fb := range evenBanks {
		data, err := encode(orig, orig.Rect.Dx(), orig.Rect.Dy(), &Options{Bitrate: 3}, fb)
		if err != nil {
			t.Fatal(err)
		}
		got, meta, err := DecodeBytes(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if meta.LowpassTaps != fb.lowTaps || meta.HighpassTaps != fb.highTaps {
			t.Errorf("DTT read back as %d/%d taps", meta.LowpassTaps, meta.HighpassTaps)
		}
		q := psnr(orig, got)
		t.Logf("%d/%d taps: %.3f bpp, PSNR %.2f dB", fb.lowTaps, fb.highTaps, meta.BitsPerPixel(), q)
		if q < 30 {
			t.Errorf("%d/%d taps: PSNR %.2f dB", fb.lowTaps, fb.highTaps, q)
		}
	}
}

func psnr(a, b *image.Gray) float64 {
	var se float64
	for i := range a.Pix {
		d := float64(a.Pix[i]) - float64(b.Pix[i])
		se += d * d
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(len(a.Pix))))
}

// readRaw reads an 8-bit raw pixel file of known size.
func readRaw(t testing.TB, path string, w, h int) *image.Gray {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != w*h {
		t.Fatalf("%s: %d bytes, want %d", path, len(b), w*h)
	}
	return &image.Gray{Pix: b, Stride: w, Rect: image.Rect(0, 0, w, h)}
}

// TestEncodeRoundTrip encodes real fingerprints, decodes them with this
// package and requires a PSNR floor: 30 dB at the default 0.75 bit rate
// for 500 ppi prints, and at the rate the file itself was made with for
// the small high-contrast BiomSharp print.
func TestEncodeRoundTrip(t *testing.T) {
	dir := shareddataDir(t)
	fp1, _ := decodeFile(t, dir+"/jnbis/tpcard/fp-1.wsq")
	lib, _ := decodeFile(t, dir+"/libbiomeval/img.wsq")
	bio, _ := decodeFile(t, dir+"/biomsharp/fingerprint_01.wsq")
	cases := []struct {
		name string
		img  *image.Gray
		opts *Options
	}{
		{"tpcard/fp-1 (reference decode)", fp1, nil},
		{"libbiomeval/img", lib, nil},
		{"biomsharp/fingerprint_01 at 1.5 bpp", bio, &Options{Bitrate: 1.5}},
		{"tpcard/fp-1 at 2.25 bpp with restarts", fp1, &Options{Bitrate: 2.25, PPI: 500, RestartInterval: 100, Comments: []string{"ebsp test"}}},
	}
	for _, c := range cases {
		if raceEnabled && c.img == fp1 {
			continue
		}
		data, err := EncodeBytes(c.img, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		got, meta, err := DecodeBytes(data, nil)
		if err != nil {
			t.Fatalf("%s: decoding our own encoding: %v", c.name, err)
		}
		q := psnr(c.img, got)
		t.Logf("%s: %d bytes, %.3f bpp, PSNR %.2f dB", c.name, len(data), meta.BitsPerPixel(), q)
		if q < 30 {
			t.Errorf("%s: PSNR %.2f dB < 30", c.name, q)
		}
		if len(meta.Warnings) > 0 {
			t.Errorf("%s: warnings %v", c.name, meta.Warnings)
		}
		if c.opts != nil && c.opts.RestartInterval > 0 && (meta.Restarts == 0 || meta.RestartInterval != c.opts.RestartInterval) {
			t.Errorf("%s: restart interval %d, %d markers", c.name, meta.RestartInterval, meta.Restarts)
		}
		rate := DefaultBitrate
		ppi := "-1"
		if c.opts != nil {
			rate = c.opts.Bitrate
			if c.opts.PPI > 0 {
				ppi = strconv.Itoa(c.opts.PPI)
			}
		}
		want := map[string]string{
			"NIST_COM": "9", "PIX_WIDTH": strconv.Itoa(c.img.Rect.Dx()), "PIX_HEIGHT": strconv.Itoa(c.img.Rect.Dy()),
			"PIX_DEPTH": "8", "PPI": ppi, "LOSSY": "1", "COLORSPACE": "GRAY", "COMPRESSION": "WSQ",
			"WSQ_BITRATE": strconv.FormatFloat(rate, 'f', 6, 64),
		}
		if !reflect.DeepEqual(meta.NISTCOM, want) {
			t.Errorf("%s: NISTCOM %v, want %v", c.name, meta.NISTCOM, want)
		}
	}
}

// TestEncodeMatchesVendor encodes the raw images the MITRE JET files were
// made from at the rate the vendor's encoder used (2.25, read off the
// vendor files' size) and requires at least the vendor file's PSNR, less
// 0.1 dB, at no more than 2% more bytes.
func TestEncodeMatchesVendor(t *testing.T) {
	if raceEnabled {
		t.Skip("two 1.5 Mpixel encodes are too slow under the race detector; this package has no concurrency")
	}
	dir := shareddataDir(t)
	for _, c := range []struct {
		name string
		w, h int
	}{{"a001", 1508, 1008}, {"a002", 1452, 1006}} {
		raw := readRaw(t, dir+"/mitre-jet/"+c.name+".raw", c.w, c.h)
		vendor, vm := decodeFile(t, dir+"/mitre-jet/"+c.name+".wsq")
		data, err := EncodeBytes(raw, &Options{Bitrate: 2.25})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := DecodeBytes(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		vq, q := psnr(raw, vendor), psnr(raw, got)
		t.Logf("%s: vendor %d bytes %.2f dB, ours %d bytes %.2f dB", c.name, vm.Size, vq, len(data), q)
		if q < vq-0.1 || float64(len(data)) > 1.02*float64(vm.Size) {
			t.Errorf("%s: ours %d bytes %.2f dB, vendor %d bytes %.2f dB", c.name, len(data), q, vm.Size, vq)
		}
	}
}

// TestEncodeMatchesNBIS encodes every image of reference-nbis/
// cwsq-0.75-encodes.csv (the jnbis sample and the 14 tenprint-card fingers)
// at 0.75 bpp and requires what the NIST reference encoder reached on it:
// a PSNR no more than 0.5 dB below cwsq's at no more than 2% more bytes.
func TestEncodeMatchesNBIS(t *testing.T) {
	dir := shareddataDir(t)
	rows, err := csv.NewReader(bytes.NewReader(mustRead(t, dir+"/reference-nbis/cwsq-0.75-encodes.csv"))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("cwsq-0.75-encodes.csv: %v (%d rows)", err, len(rows))
	}
	for _, r := range rows[1:] { // file,width,height,ref_bytes,ref_psnr_db
		if len(r) != 5 {
			t.Fatalf("cwsq-0.75-encodes.csv: row %q", r)
		}
		name := r[0]
		if raceEnabled && name != "fp-11.png" {
			continue
		}
		refBytes, err1 := strconv.Atoi(r[3])
		refPSNR, err2 := strconv.ParseFloat(r[4], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("cwsq-0.75-encodes.csv: row %q", r)
		}
		path := dir + "/jnbis/" + name
		if name != "sample.png" {
			path = dir + "/jnbis/tpcard/" + name
		}
		img := readGrayPNG(t, path)
		data, err := EncodeBytes(img, &Options{Bitrate: 0.75, PPI: 500})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := DecodeBytes(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		q := psnr(img, got)
		t.Logf("%s: ebsp %d bytes %.2f dB, cwsq %d bytes %.2f dB (%+.2f dB, %+.2f%% bytes)",
			name, len(data), q, refBytes, refPSNR, q-refPSNR, 100*(float64(len(data))/float64(refBytes)-1))
		if q < refPSNR-0.5 || float64(len(data)) > 1.02*float64(refBytes) {
			t.Errorf("%s: ebsp %d bytes %.2f dB, reference %d bytes %.2f dB", name, len(data), q, refBytes, refPSNR)
		}
	}
}

// TestEncodeSmall covers tiny and odd sizes, flat images and colour input.
func TestEncodeSmall(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, sz := range [][2]int{{1, 1}, {2, 3}, {7, 5}, {31, 33}, {64, 1}, {1, 64}} {
		g := image.NewGray(image.Rect(0, 0, sz[0], sz[1]))
		for i := range g.Pix {
			g.Pix[i] = uint8(100 + rng.Intn(50))
		}
		data, err := EncodeBytes(g, nil)
		if err != nil {
			t.Fatalf("%v: %v", sz, err)
		}
		got, _, err := DecodeBytes(data, nil)
		if err != nil {
			t.Fatalf("%v: %v", sz, err)
		}
		if got.Rect != g.Rect {
			t.Errorf("%v: decoded %v", sz, got.Rect)
		}
	}
	flat := image.NewUniform(color.Gray{200})
	data, err := EncodeBytes(&image.Gray{Pix: bytes.Repeat([]byte{200}, 100*80), Stride: 100, Rect: image.Rect(0, 0, 100, 80)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := DecodeBytes(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got.Pix {
		if p != flat.C.(color.Gray).Y {
			t.Fatalf("flat image decoded with pixel %d", p)
		}
	}
	rgba := image.NewRGBA(image.Rect(10, 10, 60, 50))
	if _, err := EncodeBytes(rgba, nil); err != nil {
		t.Errorf("RGBA input: %v", err)
	}
	if _, err := EncodeBytes(image.NewGray(image.Rect(0, 0, 0, 5)), nil); err == nil {
		t.Errorf("empty image: no error")
	}
	if _, err := EncodeBytes(image.NewGray(image.Rect(0, 0, 5, 5)), &Options{Bitrate: -1}); err == nil {
		t.Errorf("negative bit rate: no error")
	}
}

func sharedPath(t testing.TB, rel string) string {
	return shareddataDir(t) + "/" + rel
}
