package raster

import (
	"bytes"
	"encoding/binary"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/internal/shareddata"
)

// tiffSpec describes a hand-made grey TIFF for the shortcut's tests.
type tiffSpec struct {
	big          bool   // big-endian
	w, h         int    // size
	rowsPerStrip int    // 0: no RowsPerStrip tag
	photometric  int    // -1: no tag
	tableType    uint16 // strip tables' datatype: 1, 3 or 4
	short        int    // bytes cut from the last strip's count
	extra        [][3]uint32
}

// makeTIFF writes s as a TIFF: header, pixel strips, out-of-line strip
// tables, then the IFD with its entries sorted by tag.
func makeTIFF(s tiffSpec) []byte {
	var bo interface {
		binary.ByteOrder
		binary.AppendByteOrder
	} = binary.LittleEndian
	out := []byte("II\x2A\x00\x00\x00\x00\x00")
	if s.big {
		bo = binary.BigEndian
		out = []byte("MM\x00\x2A\x00\x00\x00\x00")
	}
	rows := s.h
	if s.rowsPerStrip > 0 && s.rowsPerStrip < s.h {
		rows = s.rowsPerStrip
	}
	strips := (s.h + rows - 1) / rows
	var offs, cnts []uint32
	for j := 0; j < strips; j++ {
		n := s.w * (min((j+1)*rows, s.h) - j*rows)
		offs = append(offs, uint32(len(out)))
		for i := 0; i < n; i++ {
			out = append(out, byte(j*31+i*7))
		}
		if j == strips-1 {
			n -= s.short
		}
		cnts = append(cnts, uint32(n))
	}
	table := func(v []uint32) (uint32, uint32) {
		size := map[uint16]int{1: 1, 3: 2, 4: 4}[s.tableType]
		var b []byte
		for _, x := range v {
			switch size {
			case 1:
				b = append(b, byte(x))
			case 2:
				b = bo.AppendUint16(b, uint16(x))
			default:
				b = bo.AppendUint32(b, x)
			}
		}
		if len(b) <= 4 {
			b = append(b, make([]byte, 4-len(b))...)
			return bo.Uint32(b), uint32(len(v))
		}
		at := uint32(len(out))
		out = append(out, b...)
		return at, uint32(len(v))
	}
	type entry struct {
		tag, dt uint16
		count   uint32
		val     uint32
	}
	short := func(tag uint16, v uint32) entry { return entry{tag, 3, 1, v} }
	es := []entry{short(256, uint32(s.w)), short(257, uint32(s.h)), short(258, 8), short(259, 1)}
	if s.photometric >= 0 {
		es = append(es, short(262, uint32(s.photometric)))
	}
	ov, oc := table(offs)
	es = append(es, entry{273, s.tableType, oc, ov})
	if s.rowsPerStrip > 0 {
		es = append(es, short(278, uint32(s.rowsPerStrip)))
	}
	cv, cc := table(cnts)
	es = append(es, entry{279, s.tableType, cc, cv})
	for _, x := range s.extra {
		es = append(es, short(uint16(x[0]), x[1]))
		if x[2] != 0 {
			es[len(es)-1].dt = uint16(x[2])
		}
	}
	for i := range es { // insertion sort by tag, a later entry before an earlier one of its tag
		for j := i; j > 0 && es[j].tag <= es[j-1].tag; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
	for i := 1; i < len(es); i++ {
		if es[i].tag == es[i-1].tag { // the later one replaces the earlier
			es = append(es[:i], es[i+1:]...)
			i--
		}
	}
	ifd := uint32(len(out))
	out = bo.AppendUint16(out, uint16(len(es)))
	for _, e := range es {
		out = bo.AppendUint16(out, e.tag)
		out = bo.AppendUint16(out, e.dt)
		out = bo.AppendUint32(out, e.count)
		if e.dt == 3 && e.count == 1 {
			out = bo.AppendUint16(out, uint16(e.val))
			out = append(out, 0, 0)
		} else {
			out = bo.AppendUint32(out, e.val)
		}
	}
	out = bo.AppendUint32(out, 0)
	bo.PutUint32(out[4:], ifd)
	return out
}

// generalGray decodes data with the general decoders only.
func generalGray(data []byte) (*image.Gray, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return Gray(img), nil
}

// checkShortcut says whether decodeGrayTIFF took data, and fails t if it
// did where the general decoder fails or gives other pixels.
func checkShortcut(t *testing.T, name string, data []byte) bool {
	t.Helper()
	if _, format, err := image.DecodeConfig(bytes.NewReader(data)); err != nil || format != "tiff" {
		return false
	}
	g, ok := decodeGrayTIFF(data)
	if !ok {
		return false
	}
	want, err := generalGray(data)
	if err != nil {
		t.Fatalf("%s: the shortcut decoded what the general decoder refuses (%v)", name, err)
	}
	if g.Rect != want.Rect || g.Stride != want.Stride || !bytes.Equal(g.Pix, want.Pix) {
		t.Fatalf("%s: the shortcut's pixels differ from the general decoder's", name)
	}
	return true
}

// TestTIFFShortcutFVC: every image of the shared FVC sets takes the
// shortcut and comes out as the general decoder makes it.
func TestTIFFShortcutFVC(t *testing.T) {
	root := shareddata.Dir(t, "fingerprints")
	n := 0
	for _, set := range []string{"fvc2002_DB1_B", "fvc2002_DB2_B", "fvc2002_DB3_B", "fvc2004_DB2_B", "fvc2004_DB3_B"} {
		ents, err := os.ReadDir(filepath.Join(root, set))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".tif") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(root, set, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if !checkShortcut(t, set+"/"+e.Name(), data) {
				t.Errorf("%s/%s: not taken by the shortcut", set, e.Name())
			}
			n++
		}
	}
	if n != 400 {
		t.Errorf("%d images, want 400", n)
	}
}

// TestTIFFShortcut covers the layouts the shortcut takes (both byte
// orders, either photometric, one or several strips, strip tables in the
// entry or out of it, of every integer type) and those it must leave to
// the general decoder, whose answer Decode must then give.
func TestTIFFShortcut(t *testing.T) {
	take := []tiffSpec{
		{w: 30, h: 20, photometric: 1, tableType: 4},
		{w: 30, h: 20, photometric: 0, tableType: 4, big: true},
		{w: 30, h: 20, photometric: -1, tableType: 3},
		{w: 30, h: 20, photometric: 1, tableType: 3, rowsPerStrip: 7},
		{w: 30, h: 20, photometric: 1, tableType: 4, rowsPerStrip: 7, big: true},
		{w: 3, h: 20, photometric: 1, tableType: 1, rowsPerStrip: 10},
		{w: 30, h: 20, photometric: 1, tableType: 3, rowsPerStrip: 40},
		{w: 30, h: 20, photometric: 1, tableType: 4, extra: [][3]uint32{{317, 1, 0}, {284, 1, 0}}},
		{w: 30, h: 20, photometric: 1, tableType: 4, extra: [][3]uint32{{256, 30, 4}}},     // width as a LONG
		{w: 30, h: 20, photometric: 1, tableType: 4, extra: [][3]uint32{{278, 0xffff, 0}}}, // rows per strip past the height
	}
	for i, s := range take {
		if !checkShortcut(t, "take", makeTIFF(s)) {
			t.Errorf("layout %d (%+v) not taken", i, s)
		}
	}
	leave := []tiffSpec{
		{w: 30, h: 20, photometric: 1, tableType: 4, short: 1},                         // a strip short of its pixels
		{w: 30, h: 20, photometric: 1, tableType: 4, rowsPerStrip: 7, short: 1},        // the last one
		{w: 30, h: 20, photometric: 1, tableType: 4, extra: [][3]uint32{{259, 5, 0}}},  // LZW
		{w: 30, h: 20, photometric: 1, tableType: 4, extra: [][3]uint32{{317, 2, 0}}},  // horizontal predictor
		{w: 30, h: 20, photometric: 1, tableType: 4, extra: [][3]uint32{{258, 16, 0}}}, // 16 bits
		{w: 30, h: 20, photometric: 2, tableType: 4},                                   // RGB
		{w: 30, h: 20, photometric: 1, tableType: 4, extra: [][3]uint32{{322, 16, 0}}}, // tiles
		{w: 30, h: 20, photometric: 1, tableType: 4, extra: [][3]uint32{{339, 1, 0}}},  // sample format
		{w: 30, h: 20, photometric: 1, tableType: 5},                                   // strip tables as RATIONAL
	}
	for i, s := range leave {
		data := makeTIFF(s)
		if checkShortcut(t, "leave", data) {
			t.Errorf("layout %d (%+v) taken by the shortcut", i, s)
		}
		g, _, err := Decode(data, 0)
		want, werr := generalGray(data)
		if (err == nil) != (werr == nil) || (err == nil && !bytes.Equal(g.Pix, want.Pix)) {
			t.Errorf("layout %d: Decode gave %v, the general decoder %v", i, err, werr)
		}
	}
}

// FuzzTIFFShortcut mutates grey TIFFs: whenever the shortcut takes the
// input, the general decoder must decode it to the same pixels.
func FuzzTIFFShortcut(f *testing.F) {
	f.Add(makeTIFF(tiffSpec{w: 9, h: 5, photometric: 1, tableType: 4}))
	f.Add(makeTIFF(tiffSpec{w: 9, h: 5, photometric: 0, tableType: 3, rowsPerStrip: 2, big: true}))
	f.Add(makeTIFF(tiffSpec{w: 2, h: 3, photometric: -1, tableType: 1, rowsPerStrip: 1}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if cfg, err := tiffConfig(data); err != nil || cfg.Width*cfg.Height > 1<<16 {
			return
		}
		checkShortcut(t, "fuzz", data)
	})
}

func tiffConfig(data []byte) (image.Config, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	return cfg, err
}
