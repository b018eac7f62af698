package fingerprint

import "testing"

// The unrolled loops of mccDiffBits and mccSharedCells are written for this
// layout.
func TestGeometryConstants(t *testing.T) {
	if mccGeo.words != mccWordsConst || mccStride != mccStrideConst || mccGeo.cellWords != 2 {
		t.Fatalf("geometry has %d content and %d cell words (stride %d); the constants say %d and 2 (stride %d): update mccDiffBits and mccSharedCells",
			mccGeo.words, mccGeo.cellWords, mccStride, mccWordsConst, mccStrideConst)
	}
}
