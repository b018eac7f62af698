package main

import (
	"fmt"

	"github.com/ebsp/ebsp/face/faceeval"
	"github.com/ebsp/ebsp/face/models"
	"github.com/ebsp/ebsp/face/pipeline"
)

func runEvalFace(args []string) int {
	fs := newFlagSet("eval face", `usage: ebsp eval face --dataset DIR [--models DIR] [--json]

Enrols every photo of DIR/labels.csv with the face pipeline (BlazeFace,
alignment, dlib's ResNet) and compares every pair: genuine pairs share an
identity, impostor pairs do not; the score is 1 − the Euclidean distance of
the embeddings, as the node's face engine scores. Prints the pair counts, EER, TAR at FAR 1e-3 with its
distance threshold, failures to enrol and the median time per photo (reading
and decoding plus the pipeline) in CPU time of the one thread doing the
work; rates are fractions.`)
	dataset := fs.String("dataset", "", "`folder` of photos with a labels.csv (columns file, identity)")
	dir := fs.String("models", models.DefaultDir(), "`directory` of the face models (ebsp models fetch)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	scores := fs.String("scores", "", "write every comparison (probe, gallery, genuine or impostor, score) to this CSV `file`, which 'ebsp eval tail' reads")
	if ok, code := parseFlags(fs, args); !ok {
		return code
	}
	if *dataset == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	p, err := pipeline.Load(*dir)
	if err != nil {
		return fail("eval face", err)
	}
	rep, err := faceeval.Run(p, *dataset)
	if err != nil {
		return fail("eval face", err)
	}
	if *scores != "" {
		if err := writeScores(*scores, rep.Comparisons); err != nil {
			return fail("eval face", err)
		}
	}
	if *asJSON {
		return emitJSON("eval face", rep)
	}
	clock := "thread CPU"
	if !rep.CPUTime {
		clock = "wall clock"
	}
	fmt.Printf("dataset            %s (%d photos, %d identities)\n", rep.Dataset, rep.Samples, rep.Identities)
	fmt.Printf("pairs              %d genuine, %d impostor\n", rep.GenuinePairs, rep.ImpostorPairs)
	fmt.Printf("EER                %.4f\n", rep.EER)
	fmt.Printf("TAR at FAR 1e-3    %.4f (distance threshold %.3f)\n", rep.TARAtFAR1e3, rep.ThresholdFAR1e3)
	fmt.Printf("distances          worst genuine %.3f, closest impostor %.3f\n", rep.GenuineDistanceMax, rep.ImpostorDistanceMin)
	fmt.Printf("failures to enrol  %d\n", rep.FailuresToEnrol)
	for _, f := range rep.Failures {
		fmt.Printf("  %s\n", f)
	}
	fmt.Printf("ms per photo       %.1f median (decode %.1f, pipeline %.1f; %s)\n", rep.MsPerImageMedian, rep.MsDecodeMedian, rep.MsPipelineMedian, clock)
	return 0
}
