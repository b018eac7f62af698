// Command stepgen generates privacy/step_table.go: for each threshold t in
// a range of hundredths, a composite minimax approximation of the sign
// function on the similarities' actual domain, which is lopsided when t is
// high, and therefore needs less depth than the symmetric composite of
// privacy/sign.go.
//
// The similarity x of a unit probe and a stored gallery entry (int8, norm
// at most 1.045 in up to 128 dimensions) lies in [-1.05, 1.05]; the first
// polynomial takes s = x/1.05 in [-1, 1] and is the minimax approximation,
// of full degree 7 (not odd), of sign(s − t/1.05) on
// [−1, (t − m)/1.05] ∪ [(t + m)/1.05, 1], m = (1.05 + t)·2^-5 the package's
// margin (Lattigo's multi-interval Remez, trying every split of the nodes
// between the two intervals). The next ones, odd and of degree 7, each
// refine the previous output as in Lee, Lee, Kim, No (IEEE TDSC 2021) and
// Lattigo's minimax.GenMinimaxCompositePolynomial, with a scheme error of
// 2^-20 allowed at every stage. A threshold is kept only if the composite,
// checked in float64 on a fine grid of the whole domain, is within 2^-24 of
// the step outside the margin and within [−2^-24, 1 + 2^-24] inside it.
//
// Usage: go run ./privacy/internal/stepgen [from to] > privacy/step_table.go
// (thresholds from/100 to to/100, default 0.50 to 0.95).
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"math"
	"math/big"
	"os"
	"strconv"

	"github.com/tuneinsight/lattigo/v6/utils/bignum"
)

const (
	prec     = 200
	logAlpha = 5  // the margin: |z| ≥ 2^-5
	logErr   = 20 // scheme error allowed at every stage
	xMax     = 1.05
	maxErr   = 1.0 / (1 << 24)
)

// degrees of the composite after the first polynomial (odd, symmetric).
var rest = []int{7, 7}

func remez(f func(*big.Float) *big.Float, iv []bignum.Interval) (r *bignum.Remez, ok bool) {
	defer func() {
		if err := recover(); err != nil {
			log.Printf("remez: %v", err)
			ok = false
		}
	}()
	r = bignum.NewRemez(bignum.RemezParameters{Function: f, Basis: bignum.Chebyshev, Intervals: iv,
		ScanStep: bignum.NewFloat(1e-3, prec), Prec: prec, OptimalScanStep: true})
	// Approximate prints its iterations on stdout.
	stdout := os.Stdout
	os.Stdout, _ = os.Open(os.DevNull)
	defer func() { os.Stdout = stdout }()
	r.Approximate(60, 1e-4)
	return r, true
}

func coeffs(r *bignum.Remez, div *big.Float) []float64 {
	out := make([]float64, len(r.Coeffs))
	for i, c := range r.Coeffs {
		q := new(big.Float).SetPrec(prec).Set(c)
		if div != nil {
			q.Quo(q, div)
		}
		out[i], _ = q.Float64()
	}
	return out
}

// composite returns the polynomials for threshold t, the first one in
// s = x/xMax, all in the Chebyshev basis on [-1, 1], each scaled so that the
// next one sees [-1, 1]; the last one is still a sign (−1/1).
func composite(t float64) ([][]float64, bool) {
	e := bignum.NewFloat(math.Exp2(-logErr), prec)
	m := margin(t)
	const d1 = 7
	// sign(s − t/xMax)
	step := func(s *big.Float) *big.Float {
		return bignum.Sign(new(big.Float).Sub(s, bignum.NewFloat(t/xMax, prec)))
	}
	var first *bignum.Remez
	var best float64
	for neg := 2; neg <= d1; neg++ {
		iv := []bignum.Interval{
			{A: *bignum.NewFloat(-1, prec), B: *bignum.NewFloat((t-m)/xMax, prec), Nodes: neg},
			{A: *bignum.NewFloat((t+m)/xMax, prec), B: *bignum.NewFloat(1, prec), Nodes: d1 + 2 - neg},
		}
		iv[0].A.Sub(&iv[0].A, e)
		iv[1].B.Add(&iv[1].B, e)
		r, ok := remez(step, iv)
		if !ok {
			continue
		}
		if m, _ := r.MaxErr.Float64(); m > 0 && (first == nil || m < best) {
			first, best = r, m
		}
	}
	if first == nil {
		return nil, false
	}
	var out [][]float64
	r := first
	for _, d := range rest {
		hi := new(big.Float).SetPrec(prec).SetFloat64(1)
		hi.Add(hi, r.MaxErr)
		hi.Add(hi, e)
		lo := new(big.Float).SetPrec(prec).SetFloat64(1)
		lo.Sub(lo, r.MaxErr)
		lo.Sub(lo, e)
		out = append(out, coeffs(r, hi))
		a := new(big.Float).Quo(lo, hi)
		var ok bool
		r, ok = remez(bignum.Sign, []bignum.Interval{
			{A: *bignum.NewFloat(-1, prec), B: *new(big.Float).Neg(a), Nodes: 1 + (d+1)>>1},
			{A: *a, B: *bignum.NewFloat(1, prec), Nodes: 1 + (d+1)>>1},
		})
		if !ok {
			return nil, false
		}
	}
	out = append(out, coeffs(r, nil))
	// Odd stages: drop the even coefficients the solver leaves near zero
	// (and with them the solver's degree 8).
	for i, c := range out[1:] {
		for k := 0; k < len(c); k += 2 {
			c[k] = 0
		}
		out[i+1] = c[:rest[i]+1]
	}
	return out, true
}

// check evaluates the composite (as a step, 0/1) in float64 over the whole
// domain and returns the largest error outside the margin and the range of
// values inside it.
func check(t float64, polys [][]float64) (worst, lo, hi float64) {
	m := margin(t)
	lo, hi = math.Inf(1), math.Inf(-1)
	const n = 400000
	for i := 0; i <= n; i++ {
		x := -xMax + 2*xMax*float64(i)/n
		v := x / xMax
		for _, c := range polys {
			v = chebyshev(c, v)
		}
		v = (1 + v) / 2
		if math.Abs(x-t) < m {
			lo, hi = min(lo, v), max(hi, v)
			continue
		}
		want := 0.0
		if x > t {
			want = 1
		}
		worst = max(worst, math.Abs(v-want))
	}
	return worst, lo, hi
}

// margin is the package's (Params.Margin): similarities within
// (1.05 + t)·2^-5 of t may be decided either way.
func margin(t float64) float64 { return (xMax + t) * math.Exp2(-logAlpha) }

func chebyshev(c []float64, x float64) float64 {
	var b1, b2 float64
	for k := len(c) - 1; k >= 1; k-- {
		b1, b2 = 2*x*b1-b2+c[k], b1
	}
	return x*b1 - b2 + c[0]
}

func main() {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by go run ./privacy/internal/stepgen; DO NOT EDIT.\n\npackage privacy\n\n")
	fmt.Fprintf(&b, "// stepTable holds, per threshold in hundredths, the lopsided composite\n")
	fmt.Fprintf(&b, "// sign approximation of degrees 7, 7, 7 (depth 9) that privacy/internal/stepgen\n")
	fmt.Fprintf(&b, "// found within 2^-24 of the step outside the margin; each comment gives that\n")
	fmt.Fprintf(&b, "// error and the range of the step inside the margin (float64 check).\n")
	fmt.Fprintf(&b, "var stepTable = map[int][][]float64{\n")
	from, to := 50, 95
	if len(os.Args) == 3 {
		from, _ = strconv.Atoi(os.Args[1])
		to, _ = strconv.Atoi(os.Args[2])
	}
	for h := from; h <= to; h++ {
		t := float64(h) / 100
		polys, ok := composite(t)
		if !ok {
			log.Printf("t=%.2f: no convergence", t)
			continue
		}
		worst, lo, hi := check(t, polys)
		log.Printf("t=%.2f: error 2^%.2f outside the margin, [%.3g, %.3g] inside", t, math.Log2(worst), lo, hi)
		if worst > maxErr || lo < -maxErr || hi > 1+maxErr {
			continue
		}
		fmt.Fprintf(&b, "\t%d: { // error 2^%.1f, inside the margin [%.3g, %.3g]\n", h, math.Log2(worst), lo, hi)
		for _, c := range polys {
			fmt.Fprintf(&b, "\t\t{")
			for k, x := range c {
				if k > 0 {
					fmt.Fprintf(&b, ", ")
				}
				fmt.Fprintf(&b, "%.17g", x)
			}
			fmt.Fprintf(&b, "},\n")
		}
		fmt.Fprintf(&b, "\t},\n")
	}
	fmt.Fprintf(&b, "}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	os.Stdout.Write(src)
}
