package eval

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Sample is one named set of values that DistributionSVG draws.
type Sample struct {
	Name   string
	Values []float64
}

// PlotOptions choose how DistributionSVG draws.
type PlotOptions struct {
	// Survival draws 1 − F (the share of values at or above x) on a
	// logarithmic axis down to 1/n of the largest sample, instead of F on
	// a linear one: the upper tail, where thresholds are set.
	Survival bool
	// From and To bound the x axis; both 0: the samples' range (for
	// Survival, from the pooled median).
	From, To float64
}

// plot geometry, in SVG user units.
const (
	plotW, plotH             = 640.0, 400.0
	plotLeft, plotRight      = 64.0, 16.0
	plotTop, plotBottom      = 40.0, 48.0
	plotSteps                = 600 // points per curve
	plotMinSurvivalExponent  = -7  // a survival axis never goes below 1e-7
	plotColourCount          = 4
	plotLegendLine, plotFont = 18.0, 12.0
)

var plotColours = [plotColourCount]string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd"}

// DistributionSVG writes an SVG figure of the empirical distribution
// functions of the samples (or their survival functions, see PlotOptions),
// with a title, an x-axis label and a legend. It is self-contained (no
// fonts or scripts beyond the viewer's sans-serif) and deterministic: the
// same samples give the same bytes. It draws up to four samples.
func DistributionSVG(w io.Writer, title, xlabel string, samples []Sample, o PlotOptions) error {
	if len(samples) == 0 || len(samples) > plotColourCount {
		return fmt.Errorf("eval: plot %q: %d samples, want 1 to %d", title, len(samples), plotColourCount)
	}
	sorted := make([][]float64, len(samples))
	var pooled []float64
	for i, s := range samples {
		if len(s.Values) == 0 {
			return fmt.Errorf("eval: plot %q: sample %q is empty", title, s.Name)
		}
		sorted[i] = slices.Clone(s.Values)
		slices.Sort(sorted[i])
		pooled = append(pooled, s.Values...)
	}
	slices.Sort(pooled)
	lo, hi := o.From, o.To
	if lo == 0 && hi == 0 {
		lo, hi = pooled[0], pooled[len(pooled)-1]
		if o.Survival {
			lo = pooled[len(pooled)/2]
		}
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	// y axis: [0, 1] linear, or log10 survival from yMin to 0.
	yMin := 0.0
	if o.Survival {
		n := 0
		for _, s := range sorted {
			n = max(n, len(s))
		}
		yMin = math.Max(math.Floor(math.Log10(1/float64(n))), plotMinSurvivalExponent)
	}
	iw, ih := plotW-plotLeft-plotRight, plotH-plotTop-plotBottom
	px := func(x float64) float64 { return plotLeft + iw*(x-lo)/(hi-lo) }
	py := func(y float64) float64 {
		if o.Survival {
			y = math.Log10(math.Max(y, math.Pow(10, yMin)))
			return plotTop + ih*(y/yMin)
		}
		return plotTop + ih*(1-y)
	}
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="%g">`+"\n",
		plotW, plotH, plotW, plotH, plotFont)
	fmt.Fprintf(b, `<rect width="%g" height="%g" fill="white"/>`+"\n", plotW, plotH)
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle" font-size="14">%s</text>`+"\n", plotW/2, plotTop-16, esc(title))
	// Grid and ticks.
	for _, x := range niceTicks(lo, hi, 6) {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#ddd"/>`+"\n", px(x), plotTop, px(x), plotTop+ih)
		fmt.Fprintf(b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`+"\n", px(x), plotTop+ih+16, tickLabel(x))
	}
	if o.Survival {
		for e := 0.0; e >= yMin; e-- {
			y := math.Pow(10, e)
			fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/>`+"\n", plotLeft, py(y), plotLeft+iw, py(y))
			fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end">1e%d</text>`+"\n", plotLeft-6, py(y)+4, int(e))
		}
	} else {
		for i := 0; i <= 4; i++ {
			y := float64(i) / 4
			fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/>`+"\n", plotLeft, py(y), plotLeft+iw, py(y))
			fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end">%g</text>`+"\n", plotLeft-6, py(y)+4, y)
		}
	}
	fmt.Fprintf(b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="black"/>`+"\n", plotLeft, plotTop, iw, ih)
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`+"\n", plotLeft+iw/2, plotH-10, esc(xlabel))
	ylabel := "share at or below x"
	if o.Survival {
		ylabel = "share at or above x"
	}
	fmt.Fprintf(b, `<text transform="translate(14 %g) rotate(-90)" text-anchor="middle">%s</text>`+"\n", plotTop+ih/2, ylabel)
	// Curves: the distribution function at plotSteps points of the axis.
	for i, s := range sorted {
		var pts []string
		for k := 0; k <= plotSteps; k++ {
			x := lo + (hi-lo)*float64(k)/plotSteps
			var y float64
			if o.Survival {
				// share ≥ x
				j, _ := slices.BinarySearch(s, x)
				y = float64(len(s)-j) / float64(len(s))
				if y == 0 {
					break
				}
			} else {
				j := upperBound(s, x)
				y = float64(j) / float64(len(s))
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(x), py(y)))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`+"\n", plotColours[i], strings.Join(pts, " "))
		ly := plotTop + 14 + plotLegendLine*float64(i)
		lx := plotLeft + 10
		if !o.Survival {
			ly += ih / 2 // below the rising curves' start
		}
		fmt.Fprintf(b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="2"/>`+"\n", lx, ly-4, lx+22, ly-4, plotColours[i])
		fmt.Fprintf(b, `<text x="%g" y="%g">%s (n = %d)</text>`+"\n", lx+28, ly, esc(samples[i].Name), len(s))
	}
	fmt.Fprintln(b, "</svg>")
	return b.Flush()
}

// upperBound returns the number of values in sorted s that are at most x.
func upperBound(s []float64, x float64) int {
	j, _ := slices.BinarySearchFunc(s, x, func(v, t float64) int {
		if v <= t {
			return -1
		}
		return 1
	})
	return j
}

// niceTicks returns about n round values between lo and hi.
func niceTicks(lo, hi float64, n int) []float64 {
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= float64(n) {
			step *= m
			break
		}
	}
	var out []float64
	for x := math.Ceil(lo/step) * step; x <= hi+step*1e-9; x += step {
		out = append(out, math.Round(x/step)*step)
	}
	return out
}

// tickLabel prints a tick value without float noise.
func tickLabel(x float64) string { return strings.TrimSuffix(fmt.Sprintf("%.4g", x), ".0") }

// esc escapes text for an SVG text node.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
