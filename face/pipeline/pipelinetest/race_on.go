//go:build race

package pipelinetest

// underRace: see Load.
const underRace = true
