package privacy

import (
	"errors"
	"fmt"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Projection reduces embeddings to fewer dimensions by principal component
// analysis: the Out leading eigenvectors of the training set's covariance.
// Similarities are cosines, so a reduced vector is compared after
// normalisation; the bench measures what the reduction costs in EER and
// TAR at FAR 1e-3. Apply subtracts the training mean first: embeddings
// that lie around a common mean, as dlib's do (docs/face.md), have
// impostor cosines near 0.8 uncentred and near 0 centred, so the centring
// matters even when Out equals In.
type Projection struct {
	In, Out int
	mean    []float64 // In values, the training set's mean
	rows    []float64 // Out × In, row k the k-th principal axis
}

// LearnProjection learns a projection to out dimensions from training
// embeddings (at least out+1 of them, all of the same length). The training
// set must be separate from the galleries and probes it is applied to.
func LearnProjection(train [][]float32, out int) (*Projection, error) {
	if len(train) <= out || out <= 0 {
		return nil, fmt.Errorf("privacy: %d training vectors cannot give %d dimensions", len(train), out)
	}
	in := len(train[0])
	if out > in {
		return nil, fmt.Errorf("privacy: cannot project %d dimensions to %d", in, out)
	}
	mean := make([]float64, in)
	for i, v := range train {
		if len(v) != in {
			return nil, fmt.Errorf("privacy: training vector %d has %d values, want %d", i, len(v), in)
		}
		for j, x := range v {
			mean[j] += float64(x)
		}
	}
	for j := range mean {
		mean[j] /= float64(len(train))
	}
	cov := mat.NewSymDense(in, nil)
	d := make([]float64, in)
	for _, v := range train {
		for j, x := range v {
			d[j] = float64(x) - mean[j]
		}
		cov.SymRankOne(cov, 1/float64(len(train)-1), mat.NewVecDense(in, d))
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return nil, errors.New("privacy: covariance eigen-decomposition did not converge")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, in)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		switch {
		case vals[a] > vals[b]:
			return -1
		case vals[a] < vals[b]:
			return 1
		}
		return 0
	})
	p := &Projection{In: in, Out: out, mean: mean, rows: make([]float64, out*in)}
	for k := range out {
		for j := range in {
			p.rows[k*in+j] = vecs.At(j, order[k])
		}
	}
	return p, nil
}

// Apply projects one embedding.
func (p *Projection) Apply(v []float32) ([]float32, error) {
	if len(v) != p.In {
		return nil, fmt.Errorf("privacy: embedding has %d values, projection expects %d", len(v), p.In)
	}
	out := make([]float32, p.Out)
	for k := range out {
		row := p.rows[k*p.In : (k+1)*p.In]
		var s float64
		for j, x := range v {
			s += row[j] * (float64(x) - p.mean[j])
		}
		out[k] = float32(s)
	}
	return out, nil
}
