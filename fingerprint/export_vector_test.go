package fingerprint

// VectorHistogram exposes pairHistogram to the external tests.
func VectorHistogram(p *Prepared) ([VectorLen]float64, bool) { return p.pairHistogram() }

// VectorMeanTable exposes vectorMean to the external tests.
func VectorMeanTable() [VectorLen]float32 { return vectorMean }
