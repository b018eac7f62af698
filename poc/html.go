package poc

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ebsp/ebsp/biometric"
)

// figure is one plot with its caption.
type figure struct {
	ID      string
	Title   string
	SVG     template.HTML
	Caption string
}

// HTML writes the report as one self-contained page: inline CSS and SVG, no
// script, nothing fetched.
func (r *Report) HTML(w io.Writer) error {
	data := struct {
		*Report
		Figures    []figure
		Home       *State
		Method     []string
		ModelTable modelTable
	}{Report: r, Home: r.Scenario.state(r.Scenario.Home), ModelTable: r.modelTable()}
	data.Figures = r.figures()
	data.Method = r.method()
	return reportTemplate.Execute(w, data)
}

func (r *Report) figures() []figure {
	var figs []figure
	s := r.Scenario

	det := LineChart{Title: "Detection error trade-off (DET)", XLabel: "false-match rate per comparison (log)", YLabel: "false non-match rate (log)", LogX: true, LogY: true}
	var unseen []string
	for _, c := range r.DET {
		ser := Series{Name: fmt.Sprintf("%d finger%s", c.Fingers, plural(c.Fingers))}
		// Only observed points are drawn: a rate of zero has no place on a
		// log axis, and drawing it anywhere (the old "floor" lines) made a
		// curve that ran out of errors look worse than one that did not.
		// What was not observed is said in the caption.
		for _, p := range c.Points {
			if p.FMR > 0 && p.FNMR > 0 {
				ser.X = append(ser.X, p.FMR)
				ser.Y = append(ser.Y, p.FNMR)
			}
		}
		det.Series = append(det.Series, ser)
		unseen = append(unseen, detUnseen(c, len(ser.X)))
	}
	figs = append(figs, figure{ID: "det", Title: "How often the matcher errs", SVG: det.SVG(),
		Caption: fmt.Sprintf("Each line is the fingerprint matcher with 1, 2 or 10 fingers fused. Moving left means a stricter threshold: fewer false matches (wrongly linking two different people), at the price of more false non-matches (missing a person who is enrolled). Measured on %s impostor and %s genuine synthetic comparisons (for n fingers, n of them make one comparison). Only thresholds at which both errors were observed are drawn; where one was not, the sample only bounds it, which no point on a log scale can show: %s",
			formatNumber(float64(r.ImpostorScores)), formatNumber(float64(r.GenuineScores)), strings.Join(unseen, " "))})

	if nat := r.National; nat != nil {
		home := nat.Galleries[0]
		fn := BarChart{Title: fmt.Sprintf("Missed identifications at %s's national threshold (%s identities)", home.State, formatNumber(float64(home.Gallery))), XLabel: "fingers captured", YLabel: "FNIR (synthetic mates)"}
		// fnir is the home gallery's FNIR of a tail and rule at n fingers;
		// at one finger the target's threshold is the policy's.
		fnir := func(tail, rule string, n int) float64 {
			for _, row := range nat.Rows {
				if row.State == home.State && row.Tail == tail && row.Fingers == n && (row.Rule == rule || n == 1) {
					return row.FNIR
				}
			}
			return 0
		}
		var fingers []int
		for _, row := range nat.Rows {
			if !slices.Contains(fingers, row.Fingers) {
				fingers = append(fingers, row.Fingers)
				fn.Categories = append(fn.Categories, fmt.Sprintf("%d finger%s", row.Fingers, plural(row.Fingers)))
			}
		}
		for _, t := range nationalTails() {
			for _, rule := range []string{"policy", "target"} {
				ser := BarSeries{Name: legendLabel(t.Tail.Source, rule)}
				for _, n := range fingers {
					ser.Values = append(ser.Values, fnir(t.Tail.Source, rule, n))
				}
				fn.Series = append(fn.Series, ser)
			}
		}
		figs = append(figs, figure{ID: "national", Title: "What a national threshold costs", SVG: fn.SVG(),
			Caption: fmt.Sprintf("The share of enrolled travellers a search of %s's national gallery would miss at the threshold a node sets there for a %s FPIR, by the impostor tail the threshold rests on and the rule that scales it for several fingers (the node's √n, or the threshold at which the n-finger sum reaches the target). Counted on %s synthetic mated comparisons (for n fingers, n of them make one); the table below gives the intervals and the real-image figures. A missing bar is zero.",
				home.State, strconv.FormatFloat(100*nat.FPIRTarget, 'g', 3, 64)+"%", formatNumber(float64(nat.Genuine)))})
	}

	hits := BarChart{Title: "Identifications and false matches per model (simulated day)", YLabel: "count"}
	var ti, gain, fm, miss BarSeries
	ti.Name, gain.Name, fm.Name, miss.Name = "true identifications", "gained by sharing", "false matches", "missed"
	for _, m := range r.Models {
		hits.Categories = append(hits.Categories, string(m.Model))
		ti.Values = append(ti.Values, float64(m.TrueIdentifications))
		gain.Values = append(gain.Values, float64(m.GainedBySharing))
		fm.Values = append(fm.Values, float64(m.FalseMatches))
		miss.Values = append(miss.Values, float64(m.Missed))
	}
	hits.Series = []BarSeries{ti, gain, fm, miss}
	figs = append(figs, figure{ID: "hits", Title: "What sharing gains", SVG: hits.SVG(),
		Caption: fmt.Sprintf("For the same %d simulated border encounters: travellers correctly identified, those of them found only through a partner (gained by sharing), candidates that were the wrong person (false matches) and enrolled travellers not identified (missed). Every sharing model finds the same people at step 1; they differ in what happens next.", s.Border.Simulated)})

	disc := BarChart{Title: "Disclosure per model (simulated day)", YLabel: "count (log)", LogY: true}
	var rec, inn, ret, bulk BarSeries
	rec.Name, inn.Name, ret.Name, bulk.Name = "records disclosed", "innocent people disclosed", "probes kept by partners", "records copied up front"
	for _, m := range r.Models {
		disc.Categories = append(disc.Categories, string(m.Model))
		rec.Values = append(rec.Values, float64(m.RecordsDisclosed))
		inn.Values = append(inn.Values, float64(m.InnocentDisclosed))
		ret.Values = append(ret.Values, float64(m.ProbesRetained))
		bulk.Values = append(bulk.Values, float64(m.BulkRecords))
	}
	disc.Series = []BarSeries{rec, inn, ret, bulk}
	figs = append(figs, figure{ID: "disclosure", Title: "What sharing costs in privacy", SVG: disc.SVG(),
		Caption: "Records that crossed a border during the day (biographic data, flags, encounters), people other than the traveller whose records crossed because of a false match, probes partners kept, and, for the bulk copy, the partners' records handed over before any search. Log scale; a missing bar is zero."})

	lat := LineChart{Title: "Latency per search (cumulative)", XLabel: "milliseconds (log)", YLabel: "share of searches answered", LogX: true}
	for _, m := range r.Models {
		xs := slices.Clone(m.LatenciesMs)
		slices.Sort(xs)
		ser := Series{Name: string(m.Model)}
		step := max(1, len(xs)/100)
		for i := 0; i < len(xs); i += step {
			ser.X = append(ser.X, max(xs[i], 0.01))
			ser.Y = append(ser.Y, float64(i+1)/float64(len(xs)))
		}
		if len(xs) > 0 {
			ser.X = append(ser.X, max(xs[len(xs)-1], 0.01))
			ser.Y = append(ser.Y, 1)
		}
		lat.Series = append(lat.Series, ser)
	}
	figs = append(figs, figure{ID: "latency", Title: "How long a border officer waits", SVG: lat.SVG(),
		Caption: "For each model, the share of searches answered within a given time (machine time from submitting the fingerprints to the home state's answer, on this one machine over loopback; examiner time is not included). A line further right is slower. Models whose searches take the same path (Prüm-style, query-and-purge and the DHS ask share step 1) lie on top of each other; dashes keep them apart."})

	vol := LineChart{Title: "Volume over the simulated day", XLabel: "hour of day (UTC)", YLabel: "per hour"}
	enc := Series{Name: "encounters"}
	for h := range 24 {
		enc.X = append(enc.X, float64(h))
		enc.Y = append(enc.Y, float64(r.HourlyEncounters[h]))
	}
	vol.Series = append(vol.Series, enc)
	for _, m := range r.Models {
		if m.Messages == 0 {
			continue
		}
		ser := Series{Name: string(m.Model) + " messages"}
		for h := range 24 {
			ser.X = append(ser.X, float64(h))
			ser.Y = append(ser.Y, float64(m.HourlyMessages[h]))
		}
		vol.Series = append(vol.Series, ser)
	}
	figs = append(figs, figure{ID: "volume", Title: "Traffic through the day", SVG: vol.SVG(),
		Caption: "Border encounters per hour of the simulated day (following the scenario's hourly profile) and the cross-border messages each model sends for them. Models that never send a message during the day (national only, bulk copy) are not drawn; lines that coincide are dashed differently."})
	return figs
}

func fingerNames(fs []biometric.FingerPosition) string {
	var names []string
	for _, f := range fs {
		names = append(names, f.String())
	}
	return strings.Join(names, ", ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// method is the method section, one paragraph each.
func (r *Report) method() []string {
	s := r.Scenario
	var states []string
	for _, st := range s.States {
		states = append(states, fmt.Sprintf("%s (%s people)", st.Code, formatNumber(float64(st.Gallery))))
	}
	return []string{
		fmt.Sprintf("A synthetic population was enrolled in %d real ebsp nodes, one per state: %s. Some people are enrolled in more than one state, as the scenario's overlap says; a share of each state's records carries a derogatory flag. Every node is the same software a state would run: its own SQLite store, its fingerprint matcher, its HTTP API, and for the partners the same membership ebsp node joins (a state CA, a signed agreement with the home state, a transparency log, a mutual-TLS partner endpoint). Searches of partners, disclosure requests and the partners' examiner decisions went through the nodes' exchange API.", len(s.States), strings.Join(states, ", ")),
		fmt.Sprintf("%d border encounters at %s were simulated: %.0f%% travellers already enrolled at home, %.0f%% drawn from the partners' records, the rest enrolled nowhere. Each traveller gave a fresh capture of the fingers (%s). Every encounter was searched at home and at every partner at the same time, in the bulk-copy hub, and every partner candidate was read; each model is scored on the subset of these calls it would make, so all models see exactly the same people and the same matcher results.",
			s.Border.Simulated, s.Home, 100*s.Border.FromHome, 100*s.Border.FromPartners, fingerNames(s.Capture.Fingers)),
		fmt.Sprintf("The hit threshold (%.5g per finger) comes from %s. A search with n fingers adds the n per-finger scores of each gallery identity; the node's threshold for that sum is n·m + (t−m)·√n, where t is the single-finger threshold and m = %.4g the mean impostor score of %s, which keeps the false-match rate per comparison about the same whatever the number of fingers.", r.Threshold, r.ThresholdFrom, r.FusionMean, fusionMeanFrom(r)),
		"The national figures are not simulated. A national node raises its threshold with its gallery: for a target FPIR (the share of searches of people not enrolled that end in a false hit) of 0.1% against N identities, its policy takes the single-finger score that a fraction 0.1%/N of impostor comparisons reach on its impostor tail, and scales it by √n for n fingers. At N in the millions that fraction (1e-12 at 270 million) lies far beyond any sample, so the FPIR at each threshold is what the tail says: the single-finger distribution the tail stands for, convolved n times. The tail a node uses at national sizes is its default one, measured on real FVC images; the deep synthetic measurement is shown beside it. What the threshold costs, the FNIR, is counted on measured mated comparisons, with exact binomial intervals at the scenario's confidence.",
	}
}

// tailLabel names a tail (engine.Tail.Source) in the report.
func tailLabel(source string) string {
	switch source {
	case "fvc-real":
		return "real FVC images"
	case "synthetic-templates":
		return "synthetic templates"
	}
	return source
}

// legendLabel is a short name of a tail and a rule, for a plot's legend.
func legendLabel(source, rule string) string {
	tail := "synthetic"
	if source == "fvc-real" {
		tail = "real"
	}
	if rule == "target" {
		return tail + ", target"
	}
	return tail + ", node √n"
}

// ruleLabel names a national threshold rule in the report.
func ruleLabel(rule string) string {
	if rule == "target" {
		return "n-finger target"
	}
	return "node policy"
}

// fusionMeanFrom says where the mean that fuses thresholds comes from.
func fusionMeanFrom(r *Report) string {
	if r.Scenario.Matcher.NodePolicy() {
		return "the tail the nodes' policy rests on"
	}
	return "this run's measured impostor scores"
}

// detUnseen says in words what curve c's plot leaves out: the thresholds
// at which no false match (or no false non-match) was observed, and what
// the sample says of them then. drawn is how many points were drawn.
func detUnseen(c DETCurve, drawn int) string {
	name := fmt.Sprintf("%d finger%s", c.Fingers, plural(c.Fingers))
	var noFM, noFNM int
	minFNMR := math.Inf(1) // FNMR at the strictest threshold with no false match seen
	minFMR := math.Inf(1)  // FMR at the loosest threshold with no false non-match seen
	for _, p := range c.Points {
		if p.FMR == 0 {
			noFM++
			minFNMR = math.Min(minFNMR, p.FNMR)
		}
		if p.FNMR == 0 {
			noFNM++
			minFMR = math.Min(minFMR, p.FMR)
		}
	}
	var parts []string
	if noFM > 0 {
		parts = append(parts, fmt.Sprintf("at its %d strictest thresholds no false match was observed among %s comparisons (false-match rate below %.2g), with a false non-match rate of %s or more",
			noFM, formatNumber(float64(c.Impostor)), 1/float64(max(c.Impostor, 1)), strconv.FormatFloat(100*minFNMR, 'g', 3, 64)+"%"))
	}
	if noFNM > 0 {
		parts = append(parts, fmt.Sprintf("at its %d loosest thresholds no false non-match was observed among %s comparisons (rate below %.2g), with a false-match rate of %.2g or more",
			noFNM, formatNumber(float64(c.Genuine)), 1/float64(max(c.Genuine, 1)), minFMR))
	}
	switch {
	case len(parts) == 0:
		return name + ": every point drawn."
	case drawn == 0:
		return name + ": no point with both errors observed, so no line; " + strings.Join(parts, "; ") + "."
	}
	return name + ": " + strings.Join(parts, "; ") + "."
}

// modelTable is the models' measures with one column per model and one
// row per measure: seventeen measures side by side were wider than the
// page, and their last columns hid behind a scrollbar some browsers do not
// show.
type modelTable struct {
	Models []string
	Rows   []modelRow
}

type modelRow struct {
	Measure string
	Values  []string
}

func (r *Report) modelTable() modelTable {
	var t modelTable
	for _, m := range r.Models {
		t.Models = append(t.Models, m.Label)
	}
	row := func(measure string, f func(m ModelResult) string) {
		mr := modelRow{Measure: measure}
		for _, m := range r.Models {
			mr.Values = append(mr.Values, f(m))
		}
		t.Rows = append(t.Rows, mr)
	}
	d := func(v int) string { return fmt.Sprint(v) }
	row("searches", func(m ModelResult) string { return d(m.Searches) })
	row("identified", func(m ModelResult) string { return d(m.TrueIdentifications) })
	row("gained by sharing", func(m ModelResult) string { return d(m.GainedBySharing) })
	row("of them derogatory", func(m ModelResult) string { return d(m.DerogatoryGained) })
	row("missed", func(m ModelResult) string { return d(m.Missed) })
	row("false matches", func(m ModelResult) string { return d(m.FalseMatches) })
	row("innocent people disclosed", func(m ModelResult) string { return d(m.InnocentDisclosed) })
	row("records disclosed", func(m ModelResult) string { return d(m.RecordsDisclosed) })
	row("records per partner hit", func(m ModelResult) string { return fmt.Sprintf("%.2f", m.RecordsPerPartnerHit) })
	row("probes kept by partners", func(m ModelResult) string { return d(m.ProbesRetained) })
	row("probes seen by partners", func(m ModelResult) string { return d(m.ProbesSeen) })
	row("messages", func(m ModelResult) string { return formatNumber(float64(m.Messages)) })
	row("bytes", func(m ModelResult) string { return fmt.Sprintf("%.1f kB", float64(m.Bytes)/1000) })
	row("refused (quota)", func(m ModelResult) string { return d(m.Refused) })
	row("latency median / p99", func(m ModelResult) string { return fmt.Sprintf("%.1f ms / %.1f ms", m.LatencyMedianMs, m.LatencyP99Ms) })
	row("examiner cases", func(m ModelResult) string { return d(m.ExaminerCases) })
	row("examiner hours", func(m ModelResult) string { return fmt.Sprintf("%.1f", m.ExaminerHours) })
	return t
}

var funcs = template.FuncMap{
	"num": formatNumber,
	"numi": func(v any) string {
		switch x := v.(type) {
		case int:
			return formatNumber(float64(x))
		case int64:
			return formatNumber(float64(x))
		}
		return fmt.Sprint(v)
	},
	"pct":  func(v float64) string { return fmt.Sprintf("%.3g%%", 100*v) },
	"ms":   func(v float64) string { return fmt.Sprintf("%.1f ms", v) },
	"join": strings.Join,
	"fingers": func(n int) string {
		return fmt.Sprintf("%d finger%s", n, plural(n))
	},
	"tail": tailLabel,
	"rule": ruleLabel,
	"year": func(perDay float64) string { return formatNumber(365 * perDay) },
	"kb":   func(b int64) string { return fmt.Sprintf("%.1f kB", float64(b)/1000) },
	"gb":   func(b int64) float64 { return float64(b) / 1e9 },
}

var reportTemplate = template.Must(template.New("report").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ebsp PoC report: {{.Scenario.Name}}</title>
<style>
body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1.5rem 0; } figcaption { font-size: 0.9rem; color: #444; max-width: 45rem; }
svg.plot { max-width: 100%; height: auto; border: 1px solid #eee; }
.wide { overflow-x: auto; scrollbar-width: auto; scrollbar-color: #888 #eee; padding-bottom: 0.3rem; }
.wide::-webkit-scrollbar { height: 10px; } .wide::-webkit-scrollbar-thumb { background: #888; } .wide::-webkit-scrollbar-track { background: #eee; }
table.models th { white-space: normal; overflow-wrap: anywhere; min-width: 5rem; }
table.ops { font-size: 0.8rem; } table.ops th { white-space: normal; }
.note { background: #f6f6f0; padding: 0.5rem 1rem; border-left: 4px solid #c9b458; }
.ok { color: #1a7f37; } .bad { color: #b42318; font-weight: bold; }
</style>
</head>
<body>
<h1>Biometric data sharing: what it gains and what it costs</h1>
<p>Proof-of-Concept evaluation <strong>{{.Scenario.Name}}</strong>, run {{.Started.Format "2006-01-02 15:04 UTC"}} in {{printf "%.0f" .Seconds}} s by ebsp, an open reference implementation. {{.Scenario.Description}}</p>
<p class="note">Everything here was measured on synthetic people by software anyone can run again with the same scenario file (<code>ebsp poc --scenario FILE --out DIR</code>). The national figures are extrapolations with stated bounds, not observations; read the limits at the end.</p>

<h2>In short</h2>
<table>
<tr><th>model</th><th>identified</th><th>gained by sharing</th><th>false matches</th><th>innocent people disclosed</th><th>records disclosed</th><th>median latency</th></tr>
{{range .Models}}<tr><td>{{.Label}}</td><td>{{.TrueIdentifications}}</td><td>{{.GainedBySharing}}</td><td>{{.FalseMatches}}</td><td>{{.InnocentDisclosed}}</td><td>{{.RecordsDisclosed}}{{if .BulkRecords}} + {{numi .BulkRecords}} up front{{end}}</td><td>{{ms .LatencyMedianMs}}</td></tr>
{{end}}</table>
<p>Simulated day: {{.Scenario.Border.Simulated}} border encounters at {{.Scenario.Home}}. National scale, {{fingers (len .Scenario.Capture.Fingers)}}, {{numi .Scenario.Border.EncountersPerDay}} encounters a day, every national gallery searched at the threshold its own node's policy sets at its size for a 0.1% FPIR on the node's real-image (FVC) impostor tail (see "At national scale"; the false matches are what that tail implies, not observations):</p>
<table>
<tr><th>model</th><th>galleries searched</th><th>false matches per day</th><th>bounds</th><th>innocent people disclosed per day</th><th>bounds</th></tr>
{{range .ModelsNational}}<tr><td>{{.Label}}</td><td>{{numi .Gallery}}</td><td>{{num .FalseMatchesPerDay}}</td><td>{{num .FalseMatchesPerDayLow}} to {{num .FalseMatchesPerDayHigh}}</td><td>{{num .InnocentDisclosedPerDay}}{{if .TransferredUpFront}} (and {{numi .TransferredUpFront}} copied up front){{end}}</td><td>{{num .InnocentDisclosedPerDayLow}} to {{num .InnocentDisclosedPerDayHi}}</td></tr>
{{end}}</table>

<h2>Method</h2>
{{range .Method}}<p>{{.}}</p>
{{end}}
<h3>The sharing models</h3>
<ul>
<li><strong>National only</strong>: the home state searches its own gallery. Nothing crosses a border.</li>
<li><strong>Prüm-style</strong>: the home state asks each partner's node whether it holds a match (step 1: hit or no hit, no personal data). On a hit it asks for the record (step 2); a partner examiner looks first, and only the agreed categories ({{join .Scenario.Agreement.Disclosure ", "}}) are released. Partners keep probes as the agreement allows ({{.Scenario.Agreement.RetentionDays}} days).</li>
<li><strong>Query-and-purge</strong>: as Prüm-style, and a probe that did not match leaves no trace at the partner.</li>
<li><strong>Encrypted search</strong>: as query-and-purge, but step 1 sends the probe encrypted (homomorphic encryption, two-party keys): a partner never sees a probe that matches nothing, and sees a probe only when a hit leads to step 2. The decisions are this run's clear step-1 decisions (the encrypted protocol is built for faces; the run searches fingerprints); the bytes and latency add the real encrypted protocol's, measured below.</li>
<li><strong>DHS ask as reported</strong>: on a match the partner's biographic, derogatory and encounter data go back automatically, with no human step.</li>
<li><strong>Bulk copy</strong>: the partners' holdings are copied into the home state's hub beforehand and searched there.</li>
</ul>

<h2>Figures</h2>
{{range .Figures}}<figure id="fig-{{.ID}}">
<h3>{{.Title}}</h3>
{{.SVG}}
<figcaption>{{.Caption}}</figcaption>
</figure>
{{end}}

{{with .National}}<h2>At national scale</h2>
<p>Each national gallery at the threshold its node's policy sets there for a target FPIR of {{pct .FPIRTarget}}: the single-finger score at which the impostor tail gives FMR = {{pct .FPIRTarget}} / gallery, scaled by √n for n fingers (rule "node policy"); for two and ten fingers also the fused threshold at which the tail's n-fold convolution gives the target itself (rule "n-finger target"). The FPIR is what the tail says at that threshold, its bounds those of the convolution's grid; the tail's own confidence bound is in the tail: the real-image tail beyond what it measured is the safe end of its fit's 95% interval, so its FPIR is an upper bound at 95% under the fitted model, while the synthetic tail's exponential extension beyond 1e-6 states no interval; the FNIR is counted on {{numi .Genuine}} synthetic mated comparisons{{if .RealGenuine}} and on {{numi .RealGenuine}} of real images ({{.RealSource}}){{end}}, with exact binomial intervals. False matches per day: at {{numi $.Scenario.Border.EncountersPerDay}} searches a day.</p>
<ul>{{range $src, $note := .Tails}}<li><strong>{{tail $src}}</strong>: {{$note}}.</li>{{end}}</ul>
<div class="wide" tabindex="0" role="region" aria-label="national thresholds, FPIR and FNIR"><table class="ops">
<tr><th>tail</th><th>gallery</th><th>fingers</th><th>rule</th><th>single-finger threshold</th><th>fused threshold</th><th>FPIR</th><th>bounds</th><th>false matches per day</th><th>per year</th><th>FNIR (synthetic)</th><th>interval</th>{{if .RealGenuine}}<th>FNIR (real FVC)</th><th>interval</th>{{end}}</tr>
{{$real := .RealGenuine}}{{range .Rows}}<tr><td>{{tail .Tail}}</td><td>{{.State}} {{numi .Gallery}}</td><td>{{fingers .Fingers}}</td><td>{{rule .Rule}}</td><td>{{printf "%.4g" .SingleFingerThreshold}}</td><td>{{printf "%.4g" .Threshold}}</td><td>{{pct .FPIR}}</td><td>{{pct .FPIRLow}} to {{pct .FPIRHigh}}</td><td>{{num .FalseMatchesPerDay}}</td><td>{{year .FalseMatchesPerDay}}</td><td>{{pct .FNIR}} ({{.Missed}}/{{.Mated}})</td><td>{{pct .FNIRLow}} to {{pct .FNIRHigh}}</td>{{if $real}}<td>{{pct .RealFNIR}} ({{.RealMissed}}/{{.RealMated}})</td><td>{{pct .RealFNIRLow}} to {{pct .RealFNIRHigh}}</td>{{end}}</tr>
{{end}}</table></div>{{end}}

<h2>Measured on the nodes (simulated day)</h2>
{{with .ModelTable}}<div class="wide" tabindex="0" role="region" aria-label="measures per sharing model"><table class="models">
<tr><th>measure</th>{{range .Models}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Measure}}</td>{{range .Values}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table></div>{{end}}
{{with .Encrypted}}<p>Encrypted search, measured once in this run with the real protocol (package privacy) at ring degree 2^{{.LogN}}{{if not .Secure}} (NOT secure: test parameters){{end}}, {{.Dimensions}}-d vectors, {{numi .BlockSize}} gallery entries a block, load average {{printf "%.1f" .Load}}: key setup {{kb .SetupBytes}} each way once per agreement ({{printf "%.1f" .SetupCPUSeconds}} s of CPU for both parties); per query {{numi .ProbeBytes}} bytes up and {{numi .ReplyBytes}} down ({{kb .WireBytes}} in the envelopes), {{printf "%.2f" .CPUSecondsFixed}} s of CPU plus {{printf "%.2f" .CPUSecondsPerBlock}} s per block, {{printf "%.1f" .WallSeconds1Block}} s of wall time for one block and {{printf "%.1f" .WallSeconds2Blocks}} s for two. Scaled by blocks to the partners' national galleries:</p>
<table>
<tr><th>partner</th><th>national gallery</th><th>blocks</th><th>CPU seconds per query</th><th>CPU hours per day</th></tr>
{{range .National}}<tr><td>{{.State}}</td><td>{{numi .Gallery}}</td><td>{{numi .Blocks}}</td><td>{{printf "%.1f" .CPUSeconds}}</td><td>{{printf "%.0f" .CPUHoursDaily}}</td></tr>
{{end}}</table>{{end}}
{{range .Models}}{{if .BulkRecords}}<p>Bulk copy: {{numi .BulkRecords}} records of {{numi .BulkPeople}} people not enrolled at home ({{kb .BulkBytes}}) were handed to the hub before the first search.</p>{{end}}{{end}}
<p>Travellers: {{index .Travellers "home"}} enrolled at home, {{index .Travellers "partner"}} drawn from partners, {{index .Travellers "unknown"}} enrolled nowhere.</p>

<h2>The nodes' own counters</h2>
<p>Each node counts its enrolments and decisions itself (its metrics endpoint). They must equal what this run sent and received. Each node's decision policy is as its calibration endpoint (GET /v1/calibration) gives it: the impostor tail its thresholds rest on, and the hit threshold at its gallery's size, per finger and for the {{len .Scenario.Capture.Fingers}} fingers a search fuses. Retakes are enrolment captures the node refused for too few minutiae, taken again.</p>
<table>
<tr><th>node</th><th>enrolments (node / run)</th><th>retakes</th><th>hits (node / run)</th><th>no-hits (node / run)</th><th>templates</th><th>identities</th><th>tail</th><th>hit threshold (finger / fused)</th></tr>
{{range .Nodes}}<tr><td>{{.State}}{{if .Hub}} hub{{end}}</td><td>{{.Enrolments}} / {{.RunEnrolments}}</td><td>{{.Retakes}}</td><td>{{index .Decisions "hit"}} / {{index .RunDecisions "hit"}}</td><td>{{index .Decisions "no_hit"}} / {{index .RunDecisions "no_hit"}}</td><td>{{.Templates}}</td><td>{{.Policy.GalleryIdentities}}</td><td>{{.Policy.Tail}} ({{numi .Policy.TailComparisons}}){{if .Policy.Fixed}}, fixed thresholds{{else}}, FPIR {{pct .Policy.FPIRTarget}}{{end}}</td><td>{{printf "%.4g" .Policy.HitThreshold}} / {{printf "%.4g" .Policy.FusedHitThreshold}}</td></tr>
{{end}}</table>

{{if .Audit}}<p>Each partner's transparency log (an append-only Merkle tree of hashes and metadata) records every step-1 request and decision, every examiner decision and every release. Counted leaf by leaf:</p>
<table>
<tr><th>partner</th><th>leaves</th><th>step-1 requests</th><th>hits</th><th>no-hits</th><th>refusals</th><th>examiner decisions</th><th>confirmed</th><th>releases</th></tr>
{{range .Audit}}<tr><td>{{.State}}</td><td>{{.Leaves}}</td><td>{{.Requests}}</td><td>{{.Hits}}</td><td>{{.NoHits}}</td><td>{{.Refusals}}</td><td>{{.Examiner}}</td><td>{{.Confirmed}}</td><td>{{.Releases}}</td></tr>
{{end}}</table>{{end}}

{{if .Phases}}<h2>How long it took</h2>
<p>This run on the machine that made it: wall time and the CPU time of the whole process (every node runs in it) for each step, with the process's peak resident memory by the end of the step.</p>
<table>
<tr><th>step</th><th>wall s</th><th>CPU s</th><th>peak resident</th></tr>
{{range .Phases}}<tr><td>{{.Name}}</td><td>{{printf "%.1f" .Seconds}}</td><td>{{printf "%.1f" .CPUSeconds}}</td><td>{{if .PeakRSS}}{{printf "%.2f" (gb .PeakRSS)}} GB{{else}}not measured{{end}}</td></tr>
{{end}}</table>{{end}}

<h2>Limits</h2>
<ul>
{{range .Limits}}<li>{{.}}</li>
{{end}}</ul>
<p>Scenario: states {{range .Scenario.States}}{{.Code}} ({{numi .Gallery}} simulated, {{numi .NationalGallery}} national, {{pct .Derogatory}} derogatory) {{end}}; agreement purposes {{join .Scenario.Agreement.Purposes ", "}}, candidate cap {{.Scenario.Agreement.CandidateCap}}, daily quota {{.Scenario.Agreement.DailyQuota}}; examiner false confirmations {{pct .Scenario.Examiner.FalseConfirm}}, false rejections {{pct .Scenario.Examiner.FalseReject}}, {{.Scenario.Examiner.MinutesPerCase}} minutes a case.</p>
</body>
</html>
`))
