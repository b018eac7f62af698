package poc

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Plots are drawn here as inline SVG so that the report is one file that
// works offline: no script, no web font, no CDN. Every text is escaped; the
// result is marked safe for html/template only because this file built it.

const (
	plotW, plotH                               = 720, 380
	padLeft, padRight, padTop, padBottom       = 78, 170, 36, 56
	innerW, innerH                             = plotW - padLeft - padRight, plotH - padTop - padBottom
	fontAttr                                   = `font-family="sans-serif" font-size="12"`
	colourA, colourB, colourC, colourD, colour = "#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182"
)

// palette is colour-blind-safe enough to tell five series apart, and each
// series also has its own marker so that a grey print still reads.
var palette = []string{colourA, colourB, colourC, colourD, colour, "#6a4c93"}

// dashes tell apart lines that lie on top of each other (models with the
// same step-1 flow have the same latencies): each series has its own
// pattern, so the one drawn last does not hide the others completely.
var dashes = []string{"", "10 4", "3 3", "12 3 3 3", "1 5", "6 2"}

// Series is one line of a line chart.
type Series struct {
	Name string
	X, Y []float64
}

// LineChart is an x-y chart with optional logarithmic axes.
type LineChart struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Series                []Series
}

// axis maps data values to pixels.
type axis struct {
	lo, hi float64 // in data units (log10 of them when log)
	log    bool
	px0    float64 // pixel of lo
	pxLen  float64 // signed pixel length from lo to hi
}

func (a axis) pos(v float64) float64 {
	if a.log {
		v = math.Log10(v)
	}
	return a.px0 + (v-a.lo)/(a.hi-a.lo)*a.pxLen
}

func newAxis(vals []float64, log bool, px0, pxLen float64, zeroBased bool) axis {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if log {
			if !(v > 0) {
				continue
			}
			v = math.Log10(v)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	if log {
		lo, hi = math.Floor(lo), math.Ceil(hi)
	} else if zeroBased {
		lo = math.Min(lo, 0)
	}
	if hi <= lo {
		hi = lo + 1
	}
	if !log {
		span := hi - lo
		hi += 0.05 * span
	}
	return axis{lo: lo, hi: hi, log: log, px0: px0, pxLen: pxLen}
}

// ticks returns tick values and labels.
func (a axis) ticks() (vals []float64, labels []string) {
	if a.log {
		step := math.Max(1, math.Ceil((a.hi-a.lo)/8))
		for e := a.lo; e <= a.hi+1e-9; e += step {
			vals = append(vals, math.Pow(10, e))
			labels = append(labels, fmt.Sprintf("1e%d", int(e)))
		}
		return
	}
	raw := (a.hi - a.lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	for v := math.Ceil(a.lo/step) * step; v <= a.hi+1e-9*step; v += step {
		vals = append(vals, v)
		labels = append(labels, formatTick(v))
	}
	return
}

func formatTick(v float64) string {
	av := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case av >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case av >= 1e4:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", math.Round(v*1e6)/1e6)
}

type svgBuilder struct{ strings.Builder }

func (b *svgBuilder) f(format string, a ...any) { fmt.Fprintf(&b.Builder, format, a...) }

func esc(s string) string { return html.EscapeString(s) }

func (b *svgBuilder) frame(title, xlabel, ylabel string) {
	b.f(`<svg class="plot" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, plotW, plotH, plotW, plotH, esc(title))
	b.f(`<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>`, plotW, plotH)
	b.f(`<text x="%d" y="20" %s font-weight="bold">%s</text>`, padLeft, fontAttr, esc(title))
	b.f(`<text x="%d" y="%d" %s text-anchor="middle">%s</text>`, padLeft+innerW/2, plotH-12, fontAttr, esc(xlabel))
	b.f(`<text x="16" y="%d" %s text-anchor="middle" transform="rotate(-90 16 %d)">%s</text>`, padTop+innerH/2, fontAttr, padTop+innerH/2, esc(ylabel))
	b.f(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`, padLeft, padTop, innerW, innerH)
}

func (b *svgBuilder) yTicks(a axis) {
	vals, labels := a.ticks()
	for i, v := range vals {
		y := a.pos(v)
		b.f(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, padLeft, padLeft+innerW, y, y)
		b.f(`<text x="%d" y="%.1f" %s text-anchor="end">%s</text>`, padLeft-6, y+4, fontAttr, esc(labels[i]))
	}
}

func (b *svgBuilder) xTicks(a axis) {
	vals, labels := a.ticks()
	for i, v := range vals {
		x := a.pos(v)
		b.f(`<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ddd"/>`, x, x, padTop, padTop+innerH)
		b.f(`<text x="%.1f" y="%d" %s text-anchor="middle">%s</text>`, x, padTop+innerH+18, fontAttr, esc(labels[i]))
	}
}

func (b *svgBuilder) legend(i int, name string, line bool) {
	y := padTop + 10 + 20*i
	x := padLeft + innerW + 14
	if line {
		b.f(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="4" stroke-dasharray="%s"/>`, x-2, x+14, y-4, y-4, palette[i%len(palette)], dashes[i%len(dashes)])
	} else {
		b.f(`<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`, x, y-10, palette[i%len(palette)])
	}
	b.f(`<text x="%d" y="%d" %s>%s</text>`, x+18, y, fontAttr, esc(name))
}

// SVG renders the chart.
func (c LineChart) SVG() template.HTML {
	var xs, ys []float64
	for _, s := range c.Series {
		xs = append(xs, s.X...)
		ys = append(ys, s.Y...)
	}
	ax := newAxis(xs, c.LogX, padLeft, innerW, false)
	ay := newAxis(ys, c.LogY, padTop+innerH, -innerH, true)
	var b svgBuilder
	b.frame(c.Title, c.XLabel, c.YLabel)
	b.xTicks(ax)
	b.yTicks(ay)
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		var pts []string
		for j := range s.X {
			if (c.LogX && !(s.X[j] > 0)) || (c.LogY && !(s.Y[j] > 0)) {
				continue // a zero rate has no place on a log axis
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", ax.pos(s.X[j]), ay.pos(s.Y[j])))
		}
		if len(pts) > 0 {
			b.f(`<polyline class="series" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>`, col, dashes[i%len(dashes)], strings.Join(pts, " "))
			if len(pts) <= 40 {
				for _, p := range pts {
					xy := strings.SplitN(p, ",", 2)
					b.f(`<circle cx="%s" cy="%s" r="3" fill="%s"/>`, xy[0], xy[1], col)
				}
			}
		}
		b.legend(i, s.Name, true)
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// BarSeries is one colour of a grouped bar chart.
type BarSeries struct {
	Name   string
	Values []float64 // one per category
}

// BarChart is a grouped bar chart, one group per category.
type BarChart struct {
	Title, XLabel, YLabel string
	Categories            []string
	Series                []BarSeries
	LogY                  bool
}

// SVG renders the chart.
func (c BarChart) SVG() template.HTML {
	var ys []float64
	for _, s := range c.Series {
		ys = append(ys, s.Values...)
	}
	ay := newAxis(ys, c.LogY, padTop+innerH, -innerH, true)
	var b svgBuilder
	b.frame(c.Title, c.XLabel, c.YLabel)
	b.yTicks(ay)
	groups := max(len(c.Categories), 1)
	gw := float64(innerW) / float64(groups)
	bw := gw * 0.8 / float64(max(len(c.Series), 1))
	base := float64(padTop + innerH)
	for gi, cat := range c.Categories {
		x0 := float64(padLeft) + gw*float64(gi) + gw*0.1
		label := cat
		if len(c.Categories) > 6 && gi%2 == 1 {
			label = "" // every other label when crowded
		}
		b.f(`<text x="%.1f" y="%d" %s text-anchor="middle">%s</text>`, x0+gw*0.4, padTop+innerH+18, fontAttr, esc(label))
		for si, s := range c.Series {
			v := s.Values[gi]
			top := base
			switch {
			case c.LogY && v > 0:
				top = ay.pos(v)
			case !c.LogY:
				top = ay.pos(v)
			}
			h := math.Max(base-top, 0)
			b.f(`<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`,
				x0+bw*float64(si), base-h, math.Max(bw-1, 1), h, palette[si%len(palette)], esc(cat), esc(s.Name), esc(formatNumber(v)))
		}
	}
	for si, s := range c.Series {
		b.legend(si, s.Name, false)
	}
	b.f(`</svg>`)
	return template.HTML(b.String())
}

// formatNumber prints a count or rate readably: integers with thousands
// separators, small rates in scientific notation.
func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v == 0:
		return "0"
	case math.Abs(v) < 0.01 || math.Abs(v) >= 1e12:
		return fmt.Sprintf("%.2g", v)
	case v == math.Trunc(v):
		return thousands(int64(v))
	case math.Abs(v) >= 100:
		return thousands(int64(math.Round(v)))
	}
	return fmt.Sprintf("%.3g", v)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
