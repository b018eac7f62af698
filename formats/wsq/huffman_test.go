package wsq

import (
	"bytes"
	"testing"
)

// TestHuffmanLengthLimit builds a table for Fibonacci frequencies, whose
// optimal code is far deeper than 16 bits, and checks the limit, the
// unused all-ones code and that every symbol decodes back.
func TestHuffmanLengthLimit(t *testing.T) {
	var freq [256]int
	a, b := 1, 1
	for s := 1; s <= 40; s++ {
		freq[s] = a
		a, b = b, min(a+b, 1<<40)
	}
	ht, et := buildHuffman(&freq)
	if err := checkCodeSpace(&ht.counts); err != nil {
		t.Fatal(err)
	}
	maxLen := 0
	for s := 1; s <= 40; s++ {
		if et.size[s] == 0 || et.size[s] > maxCodeLen {
			t.Fatalf("symbol %d: code length %d", s, et.size[s])
		}
		maxLen = max(maxLen, int(et.size[s]))
		if et.code[s] == 1<<et.size[s]-1 {
			t.Errorf("symbol %d has the all-ones code of length %d", s, et.size[s])
		}
	}
	if maxLen != maxCodeLen {
		t.Errorf("longest code %d bits, want the limit %d for these frequencies", maxLen, maxCodeLen)
	}
	// Every symbol, written and read back through the decoder.
	var w bitWriter
	var want []int32
	for s := 1; s <= 40; s++ {
		w.put(uint32(et.code[s]), uint(et.size[s]))
		want = append(want, 0) // categories 1..40 are zero runs of that length
		for i := 1; i < s; i++ {
			want = append(want, 0)
		}
	}
	w.flush()
	seg, _, err := destuff(nil, append(w.out, 0xFF, 0xA1), 0) // undo the 0xFF stuffing
	if err != nil {
		t.Fatal(err)
	}
	sink := coefficientSink{max: 1 << 20}
	if err := decodeInterval(seg, newDecodeTable(&ht), &sink, 0); err != nil {
		t.Fatal(err)
	}
	if len(sink.coef) != len(want) {
		t.Errorf("decoded %d coefficients, want %d", len(sink.coef), len(want))
	}
}

// TestRestartMarkersTransparent checks that restart markers change the
// file but not the decoded image.
func TestRestartMarkersTransparent(t *testing.T) {
	img, _ := decodeFile(t, sharedPath(t, "libbiomeval/img.wsq"))
	plain, err := EncodeBytes(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, interval := range []int{1, 7, 64} {
		withRST, err := EncodeBytes(img, &Options{RestartInterval: interval})
		if err != nil {
			t.Fatal(err)
		}
		a, _, err := DecodeBytes(plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, meta, err := DecodeBytes(withRST, nil)
		if err != nil {
			t.Fatalf("interval %d: %v", interval, err)
		}
		if meta.Restarts == 0 || bytes.Equal(plain, withRST) {
			t.Errorf("interval %d: %d restart markers", interval, meta.Restarts)
		}
		if !bytes.Equal(a.Pix, b.Pix) {
			t.Errorf("interval %d: restart markers changed the decoded image", interval)
		}
	}
}
