//go:build race

package poc

// Under -race the lattice arithmetic is many times slower: the encrypted
// protocol's cost is measured at ring degree 2^12 (the report marks it not
// secure); test.sh's second pass without -race measures 2^15. The national
// section's convolutions are too: a coarser grid (its bounds are wider,
// and TestNationalSection checks them all the same).
func init() {
	encryptedLogN = 12
	nationalBins = 1000
}
