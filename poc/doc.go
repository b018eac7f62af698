// Package poc is ebsp's Proof-of-Concept evaluation of a biometric
// data-sharing partnership: what sharing gains (identifications a state could
// not make alone) and what it costs (false matches, innocent people whose data
// leaves their state, probes kept by partners, messages, latency, examiner
// work), measured on real ebsp nodes with a synthetic population and
// extrapolated to national scale from measured matcher score distributions.
//
// A run has four parts, one file each:
//
//   - scenario.go: the scenario file (JSON, documented field by field in
//     docs/poc.md): states and gallery sizes, population overlap, derogatory
//     records, border volume, fingers captured, agreement terms, operating
//     point.
//   - extrapolate.go (with binomial.go and scores.go): genuine and impostor
//     score samples from template-level synthetic fingerprints scored by the
//     real matcher, tail probabilities with exact (Clopper-Pearson) bounds,
//     and expected false matches per day at a national gallery size for 1, 2
//     and 10 fingers fused as the node fuses them (sum of per-finger scores,
//     fused threshold n·mean + (t−mean)·√n from search.Policy).
//   - models.go and partnership.go: the sharing models (national only,
//     Prüm-style, query-and-purge, the DHS ask as reported, bulk copy) run on
//     the same population over real nodes.
//   - report.go, plot.go and html.go: the report as one self-contained HTML
//     file with inline SVG plots, and the same numbers as JSON.
//
// Nothing here is a policy recommendation: the report states what was
// measured, how, and what the method cannot see.
package poc
