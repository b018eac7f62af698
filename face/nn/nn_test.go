package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// naiveConv is the textbook definition, for checking Conv.Apply.
func naiveConv(t *Tensor, c *Conv) *Tensor {
	oh, pt := window(t.H, c.KH, c.Stride, c.Padding)
	ow, pl := window(t.W, c.KW, c.Stride, c.Padding)
	o := New(oh, ow, c.Out)
	for oy := range oh {
		for ox := range ow {
			for co := range c.Out {
				s := float64(c.Bias[co])
				for ky := range c.KH {
					for kx := range c.KW {
						y, x := oy*c.Stride-pt+ky, ox*c.Stride-pl+kx
						if y < 0 || y >= t.H || x < 0 || x >= t.W {
							continue
						}
						for ci := range c.In {
							s += float64(t.At(y, x, ci)) * float64(c.Filter[((ky*c.KW+kx)*c.In+ci)*c.Out+co])
						}
					}
				}
				if c.Relu && s < 0 {
					s = 0
				}
				o.Data[(oy*ow+ox)*c.Out+co] = float32(s)
			}
		}
	}
	return o
}

func TestConvMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		h, w, k, in, out, stride int
		p                        Padding
	}{
		{9, 7, 3, 5, 16, 1, Same}, {10, 10, 3, 8, 24, 2, Same}, {11, 9, 7, 3, 32, 2, Valid},
		{5, 6, 1, 13, 37, 1, Valid}, {8, 8, 3, 4, 3, 1, Same}, {6, 6, 5, 2, 40, 3, Same},
	} {
		in := &Tensor{H: tc.h, W: tc.w, C: tc.in, Data: randSlice(r, tc.h*tc.w*tc.in)}
		c, err := NewConv([]int{tc.k, tc.k, tc.in, tc.out}, randSlice(r, tc.k*tc.k*tc.in*tc.out), tc.stride, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		copy(c.Bias, randSlice(r, tc.out))
		c.Relu = tc.out%2 == 0
		got, err := c.Apply(in)
		if err != nil {
			t.Fatal(err)
		}
		want := naiveConv(in, c)
		if got.H != want.H || got.W != want.W || got.C != want.C {
			t.Fatalf("%+v: shape %v, want %v", tc, got, want)
		}
		for i := range want.Data {
			if d := math.Abs(float64(got.Data[i] - want.Data[i])); d > 1e-3*(1+math.Abs(float64(want.Data[i]))) {
				t.Fatalf("%+v: value %d is %v, want %v", tc, i, got.Data[i], want.Data[i])
			}
		}
	}
}

func TestGemmSIMDMatchesPortable(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{1, 1, 1}, {4, 3, 16}, {7, 9, 24}, {13, 27, 45}, {64, 288, 64}, {5, 0, 8}} {
		m, k, n := s[0], s[1], s[2]
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		c1, c2 := randSlice(r, m*n), make([]float32, m*n)
		copy(c2, c1)
		Gemm(m, k, n, a, b, c1)
		Pack(k, n, b).MulAdd(m, a, c2)
		for i := range c1 {
			if d := math.Abs(float64(c1[i] - c2[i])); d > 1e-4*(1+math.Abs(float64(c1[i]))) {
				t.Fatalf("%v: value %d is %v, want %v", s, i, c2[i], c1[i])
			}
		}
	}
}

func TestSamePaddingFollowsTensorFlow(t *testing.T) {
	// tf.nn.conv2d: out = ceil(in/stride), the odd padding pixel after.
	for _, c := range []struct{ n, k, s, out, before int }{
		{256, 3, 2, 128, 0}, {255, 3, 2, 128, 1}, {128, 5, 1, 128, 2}, {7, 2, 2, 4, 0},
	} {
		out, before := window(c.n, c.k, c.s, Same)
		if out != c.out || before != c.before {
			t.Errorf("window(%d, %d, %d) = %d, %d; want %d, %d", c.n, c.k, c.s, out, before, c.out, c.before)
		}
	}
}

func TestPool(t *testing.T) {
	in := &Tensor{H: 3, W: 3, C: 1, Data: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}
	if got := MaxPool(in, 2, 2, Same); got.H != 2 || got.Data[0] != 5 || got.Data[3] != 9 {
		t.Errorf("max pool = %v %v", got, got.Data)
	}
	if got := AvgPool(in, 2, 2, Valid); got.H != 1 || got.Data[0] != 3 {
		t.Errorf("avg pool = %v %v", got, got.Data)
	}
}

func BenchmarkConv3x3(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	in := &Tensor{H: 35, W: 35, C: 32, Data: randSlice(r, 35*35*32)}
	c, _ := NewConv([]int{3, 3, 32, 32}, randSlice(r, 9*32*32), 1, Same)
	b.SetBytes(0)
	for b.Loop() {
		if _, err := c.Apply(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(35*35*9*32*32*2)/b.Elapsed().Seconds()*float64(b.N)/1e9, "GFLOP/s")
}

func TestDepthwiseMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		h, w, k, c, stride int
		p                  Padding
	}{{9, 8, 3, 24, 1, Same}, {10, 10, 3, 16, 2, Same}, {7, 9, 5, 5, 1, Same}, {8, 8, 3, 8, 2, Valid}} {
		in := &Tensor{H: tc.h, W: tc.w, C: tc.c, Data: randSlice(r, tc.h*tc.w*tc.c)}
		d, err := NewDepthwise([]int{tc.k, tc.k, tc.c, 1}, randSlice(r, tc.k*tc.k*tc.c), tc.stride, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		copy(d.Bias, randSlice(r, tc.c))
		got, err := d.Apply(in)
		if err != nil {
			t.Fatal(err)
		}
		// The same layer as a full convolution whose filter is zero off the
		// diagonal.
		full := make([]float32, tc.k*tc.k*tc.c*tc.c)
		for i := range tc.k * tc.k {
			for ch := range tc.c {
				full[(i*tc.c+ch)*tc.c+ch] = d.Filter[i*tc.c+ch]
			}
		}
		c, _ := NewConv([]int{tc.k, tc.k, tc.c, tc.c}, full, tc.stride, tc.p)
		copy(c.Bias, d.Bias)
		want := naiveConv(in, c)
		for i := range want.Data {
			if d := math.Abs(float64(got.Data[i] - want.Data[i])); d > 1e-4*(1+math.Abs(float64(want.Data[i]))) {
				t.Fatalf("%+v: value %d is %v, want %v", tc, i, got.Data[i], want.Data[i])
			}
		}
	}
}

func TestAddRelu(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 3, 8, 21, 96} {
		a := &Tensor{H: 1, W: 1, C: n, Data: randSlice(r, n)}
		b := &Tensor{H: 1, W: 1, C: n, Data: randSlice(r, n)}
		want := make([]float32, n)
		for i := range want {
			want[i] = max(a.Data[i]+b.Data[i], 0)
		}
		if err := Add(a, b); err != nil {
			t.Fatal(err)
		}
		Relu(a)
		for i := range want {
			if a.Data[i] != want[i] {
				t.Fatalf("n=%d: value %d is %v, want %v", n, i, a.Data[i], want[i])
			}
		}
	}
}
