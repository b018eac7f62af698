package fingerprint_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/ebsp/ebsp/fingerprint"
	"github.com/ebsp/ebsp/internal/shareddata"
	"github.com/ebsp/ebsp/synth"
)

// TestPreparedBinarySecondLook stores the gallery forms of the 80
// images of FVC2004 DB2 (25 of more than 48 minutiae, with a second-look
// form) made by PrepareWith with SecondLook, with and without NoVerify,
// and checks that what UnmarshalBinary and UnmarshalCompact read back
// scores exactly as the form itself against a Matcher with the same
// options, every probe against every template; and that a verifying
// Matcher scores a form without the verification's grid (made with
// NoVerify) as one with it, making the grid for the comparison. Some of those scores must differ
// from a form without the second look's minutiae, or the check could not
// fail.
func TestPreparedBinarySecondLook(t *testing.T) {
	dir := shareddata.Dir(t, "fingerprints/fvc2004_DB2_B")
	files, err := filepath.Glob(filepath.Join(dir, "*.tif"))
	if err != nil || len(files) != 80 {
		t.Fatalf("%d images in %s, want 80: %v", len(files), dir, err)
	}
	ts := extractFiles(t, files, 500)
	for _, opt := range []fingerprint.MatchOptions{{SecondLook: true, NoVerify: true}, {SecondLook: true}} {
		n := len(ts)
		fresh, back, compact, first := make([]*fingerprint.Prepared, n), make([]*fingerprint.Prepared, n), make([]*fingerprint.Prepared, n), make([]*fingerprint.Prepared, n)
		gridless := make([]*fingerprint.Prepared, n)
		seconds := 0
		for i, tpl := range ts {
			fresh[i] = fingerprint.PrepareWith(tpl, opt)
			first[i] = fingerprint.PrepareWith(tpl, fingerprint.MatchOptions{NoVerify: opt.NoVerify})
			gridless[i] = fingerprint.PrepareWith(tpl, fingerprint.MatchOptions{SecondLook: true, NoVerify: true})
			data, err := fresh[i].MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if data[11]&1 != 0 {
				seconds++
			}
			back[i], compact[i] = new(fingerprint.Prepared), new(fingerprint.Prepared)
			if err := back[i].UnmarshalBinary(data); err != nil {
				t.Fatalf("%s: %v", filepath.Base(files[i]), err)
			}
			if err := compact[i].UnmarshalCompact(data); err != nil {
				t.Fatalf("%s: compact: %v", filepath.Base(files[i]), err)
			}
			if !reflect.DeepEqual(compact[i], back[i].Compact()) {
				t.Errorf("%s: UnmarshalCompact differs from UnmarshalBinary and Compact", filepath.Base(files[i]))
			}
			if again, _ := back[i].MarshalBinary(); !bytes.Equal(again, data) {
				t.Errorf("%s: the form read back encodes differently", filepath.Base(files[i]))
			}
		}
		if seconds < 20 {
			t.Errorf("%+v: %d of %d forms have a second-look form, want at least 20", opt, seconds, n)
		}
		moved, pairings := 0, 0
		for p, tpl := range ts {
			m := fingerprint.NewMatcherWith(tpl, opt)
			for g := range ts {
				s := m.Compare(fresh[g])
				if b, c := m.Compare(back[g]), m.Compare(compact[g]); b != s || c != s {
					t.Errorf("%+v: %s against %s: %v made, %v read back, %v read back compact",
						opt, filepath.Base(files[p]), filepath.Base(files[g]), s, b, c)
				}
				if x := m.Compare(gridless[g]); !opt.NoVerify && x != s {
					t.Errorf("%+v: %s against %s: %v with the grid, %v without", opt, filepath.Base(files[p]), filepath.Base(files[g]), s, x)
				}
				if m.Compare(first[g]) != s {
					moved++
					a, b := m.Pairing(fresh[g]), m.Pairing(back[g])
					if !reflect.DeepEqual(a, b) {
						t.Errorf("%+v: %s against %s: pairing %+v made, %+v read back", opt, filepath.Base(files[p]), filepath.Base(files[g]), a, b)
					}
					pairings++
				}
			}
		}
		// Measured before the verification was the default: 200 of the
		// 6,400 scores without it, 103 with it.
		t.Logf("%+v: %d of %d forms with a second look; %d of %d scores owe to the gallery's", opt, seconds, n, moved, n*n)
		if moved == 0 {
			t.Errorf("%+v: no score depends on the gallery's second-look form", opt)
		}
	}
}

// TestPreparedBinaryVersion1 reads a form written before the second-look
// form was stored (testdata/prepared_v1_synth1.bin: PrepareWith with
// SecondLook and Verify of the 76-minutiae template of synthetic finger 0
// of seed 1, impression 1, by commit fe40d9d): it reads back as Prepare's
// form, and a form without a second look is still written with those
// bytes. A form with one differs in the flags byte and what follows.
func TestPreparedBinaryVersion1(t *testing.T) {
	old, err := os.ReadFile("testdata/prepared_v1_synth1.bin")
	if err != nil {
		t.Fatal(err)
	}
	m := synth.NewFingerMaster(1, 0)
	master := synth.TemplateMaster(m)
	tpl := synth.TemplateImpression(m, &master, 1)
	if len(tpl.Minutiae) != 76 {
		t.Fatalf("synthetic template of %d minutiae, want 76", len(tpl.Minutiae))
	}
	if fingerprint.PreparedFormatVersion != 1 || old[4] != 1 {
		t.Fatalf("version %d, stored %d", fingerprint.PreparedFormatVersion, old[4])
	}
	var q fingerprint.Prepared
	if err := q.UnmarshalBinary(old); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&q, fingerprint.Prepare(tpl)) {
		t.Error("version-1 form reads back other than Prepare's")
	}
	if now, _ := fingerprint.Prepare(tpl).MarshalBinary(); !bytes.Equal(now, old) {
		t.Error("a form without a second look is no longer written as before")
	}
	with, _ := fingerprint.PrepareWith(tpl, fingerprint.MatchOptions{SecondLook: true}).MarshalBinary()
	if len(with) <= len(old) || with[11] != 1 || !bytes.Equal(with[:11], old[:11]) || !bytes.Equal(with[12:len(old)], old[12:]) {
		t.Errorf("a form with a second look (%d bytes, flags %#x) is not the first form, flag 1, and more", len(with), with[11])
	}
}

// TestPreparedBinaryHostile checks that UnmarshalBinary refuses damaged
// forms with a second-look form, saying what is wrong and where, and that
// it allocates no more than the input justifies.
func TestPreparedBinaryHostile(t *testing.T) {
	m := synth.NewFingerMaster(1, 0)
	master := synth.TemplateMaster(m)
	tpl := synth.TemplateImpression(m, &master, 1)
	good, _ := fingerprint.PrepareWith(tpl, fingerprint.MatchOptions{SecondLook: true}).MarshalBinary()
	small, _ := fingerprint.Prepare(fingerprint.Template{Minutiae: tpl.Minutiae[:20]}).MarshalBinary()
	const first = 12 + 48*83 // the second-look form's minutiae count
	const second = first + 2 // its first minutia
	const stride = 15
	if len(good) != second+72*83 || binary.BigEndian.Uint16(good[first:]) != 72 {
		t.Fatalf("%d bytes, want %d with a second-look form of 72 minutiae", len(good), second+72*83)
	}
	const m2 = 72
	bitsAt := second + m2*stride
	origAt := bitsAt + m2*8*8
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"unknown flag", func(b []byte) []byte { b[11] |= 2; return b }, "flags 0x3"},
		{"flag after a small form", func([]byte) []byte { s := bytes.Clone(small); s[11] = 1; return s }, "second-look form after 20 minutiae"},
		{"flag, no count", func(b []byte) []byte { return b[:first+1] }, "need at least 3998"},
		{"flag, no form", func(b []byte) []byte { b[11] = 1; return b[:first] }, "need at least 3998"},
		{"too few", func(b []byte) []byte { binary.BigEndian.PutUint16(b[first:], 48); return b }, "second-look form of 48 minutiae at offset 3996"},
		{"too many", func(b []byte) []byte { binary.BigEndian.PutUint16(b[first:], 65535); return b }, "second-look form of 65535 minutiae at offset 3996"},
		{"fewer stated", func(b []byte) []byte { binary.BigEndian.PutUint16(b[first:], 71); return b }, "second-look form of 71 need 9891"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, "second-look form of 72 need"},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, "second-look form of 72 need"},
		{"validity", func(b []byte) []byte { b[second+12] = 2; return b }, "second-look form: minutia 0: validity byte 2 at offset 4010"},
		{"order", func(b []byte) []byte { copy(b[second+8:], b[bitsAt-stride+8:][:4]); return b }, "second-look form: minutia 1 at offset 4013 not in direction order"},
		{"angle", func(b []byte) []byte { b[second+8] = 0xff; return b }, "second-look form: minutia 0 at offset 3998 out of range"},
		{"cells", func(b []byte) []byte { b[second+13] = 0xff; return b }, "second-look form: minutia 0: 65"},
		{"mask", func(b []byte) []byte { b[bitsAt+8*8-1] ^= 1; return b }, "second-look form: minutia 0: "},
		{"origin", func(b []byte) []byte { b[origAt+4] = 0x80; return b }, "second-look form: minutia 1: negative original index at offset"},
		{"first form's order", func(b []byte) []byte { copy(b[12+8:], b[12+47*stride+8:][:4]); return b }, "minutia 1 at offset 27 not in direction order"},
	} {
		data := c.edit(bytes.Clone(good))
		var q fingerprint.Prepared
		err := q.UnmarshalBinary(data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
		if err := q.UnmarshalCompact(data); err == nil {
			t.Errorf("%s: accepted compact", c.name)
		}
		// What a refused form costs: under 1 KB for a wrong header or
		// length, 17-22 KB for a wrong second-look form, read after the
		// first form with its pair table (measured, for 9,974 bytes).
		if a := allocated(func() { _ = q.UnmarshalBinary(data) }); a > 3*uint64(len(data))+4096 {
			t.Errorf("%s: %d bytes allocated to refuse %d", c.name, a, len(data))
		}
	}
	// Decoding the whole form, pair tables included, takes 4.4 times its
	// bytes (measured: 44 KB for 9,974).
	var q fingerprint.Prepared
	if a := allocated(func() { _ = q.UnmarshalBinary(good) }); a > 6*uint64(len(good)) {
		t.Errorf("%d bytes allocated to read %d", a, len(good))
	}
}

// allocated returns the bytes f allocates: the least of three runs, as
// another goroutine may allocate meanwhile.
func allocated(f func()) uint64 {
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}
