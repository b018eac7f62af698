package fingerprint

// Verified returns the global verification term of m's last comparison
// (0 when it was not verified), and the weight it has in the score.
func (m *Matcher) Verified() (term, weight float64) { return m.verified, mccVerWeight }
