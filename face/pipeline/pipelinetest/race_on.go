//go:build race

package pipelinetest

// underRace: see SkipUnderRace.
const underRace = true
