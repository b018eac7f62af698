//go:build !race

package pipelinetest

const underRace = false
