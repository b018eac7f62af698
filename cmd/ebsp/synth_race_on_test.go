//go:build race

package main

// underRace is true when the tests run under -race, which makes rendering
// and WSQ coding some twenty times slower.
const underRace = true
