//go:build !race

package privacy

const underRace = false
