package main

import (
	"fmt"
	"slices"

	"github.com/ebsp/ebsp/eval"
)

// runEvalCompare is `ebsp eval compare`: how alike the score distributions
// of two groups of score files are (two-sample Kolmogorov-Smirnov).
func runEvalCompare(args []string) int {
	fs := newFlagSet("eval compare", `usage: ebsp eval compare --scores FILE [--scores FILE ...] --against FILE [--against FILE ...] [--json]

Pools the genuine and the impostor scores of each group of score files
(written by 'ebsp eval fingerprint --scores'), and prints for each kind the
two-sample Kolmogorov-Smirnov distance between the groups (the largest gap
between their distribution functions, 0 to 1), the sizes and the means:
e.g. synthetic sets against the real ones (docs/synthetic-data.md).`)
	var a, b stringList
	fs.Var(&a, "scores", "score `file` of the first group (repeat, or separate by commas)")
	fs.Var(&b, "against", "score `file` of the second group (repeat, or separate by commas)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if len(a) == 0 || len(b) == 0 || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	type kind struct {
		Kind  string  `json:"kind"`
		KS    float64 `json:"ks"`
		N     int     `json:"n"`
		NAg   int     `json:"n_against"`
		Mean  float64 `json:"mean"`
		MeanA float64 `json:"mean_against"`
	}
	var out []kind
	for _, k := range []string{"genuine", "impostor"} {
		x, err := pool(a, k)
		if err != nil {
			return fail("eval compare", err)
		}
		y, err := pool(b, k)
		if err != nil {
			return fail("eval compare", err)
		}
		out = append(out, kind{Kind: k, KS: eval.KS(x, y), N: len(x), NAg: len(y), Mean: mean(x), MeanA: mean(y)})
	}
	if *asJSON {
		return emitJSON("eval compare", out)
	}
	fmt.Println("kind      KS      n        mean     n against  mean against")
	for _, k := range out {
		fmt.Printf("%-8s  %.4f  %-7d  %.4f   %-9d  %.4f\n", k.Kind, k.KS, k.N, k.Mean, k.NAg, k.MeanA)
	}
	return 0
}

// pool reads the scores of one kind from every file.
func pool(files []string, kind string) ([]float64, error) {
	var out []float64
	for _, f := range files {
		s, err := readScores(f, kind)
		if err != nil {
			return nil, err
		}
		out = slices.Concat(out, s)
	}
	return out, nil
}

func mean(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	var m float64
	for _, v := range s {
		m += v
	}
	return m / float64(len(s))
}
