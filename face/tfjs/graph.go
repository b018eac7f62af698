package tfjs

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ebsp/ebsp/face/nn"
)

// Graph is a TensorFlow.js graph model compiled to nn layers. It supports
// the operations of convolutional detectors such as BlazeFace: Placeholder,
// Const, Conv2D and _FusedConv2D (with BiasAdd and an optional Relu),
// DepthwiseConv2dNative, AddV2/Add, Relu, MaxPool, Pad (spatial and channel),
// Reshape and Identity; batch size 1 and NHWC only.
type Graph struct {
	input string
	steps []step
	index map[string]int // node name → position in steps
}

type step struct {
	name   string
	op     string
	inputs []int // positions in steps
	// run computes the node; own says that it may overwrite in[0], which
	// no later node reads.
	run func(in []*nn.Tensor, own bool) (*nn.Tensor, error)
}

type graphJSON struct {
	Format          string  `json:"format"`
	WeightsManifest []Group `json:"weightsManifest"`
	ModelTopology   struct {
		Node []nodeJSON `json:"node"`
	} `json:"modelTopology"`
}

type nodeJSON struct {
	Name  string                     `json:"name"`
	Op    string                     `json:"op"`
	Input []string                   `json:"input"`
	Attr  map[string]json.RawMessage `json:"attr"`
}

// attr is one AttrValue of a GraphDef in its JSON form.
type attr struct {
	S    string `json:"s"`
	I    string `json:"i"`
	List struct {
		I []string `json:"i"`
		S []string `json:"s"`
	} `json:"list"`
}

// MaxNodes bounds the graph size.
const MaxNodes = 10000

// ParseGraph reads a graph model (model.json) and its weights; open returns
// the bytes of a shard named in the weights manifest.
func ParseGraph(model []byte, open func(path string) ([]byte, error)) (*Graph, error) {
	var m graphJSON
	if err := json.Unmarshal(model, &m); err != nil {
		return nil, fmt.Errorf("tfjs: graph model: %w", err)
	}
	if m.Format != "graph-model" {
		return nil, fmt.Errorf("tfjs: model format %q, want graph-model", m.Format)
	}
	if len(m.ModelTopology.Node) > MaxNodes {
		return nil, fmt.Errorf("tfjs: graph has %d nodes, more than %d", len(m.ModelTopology.Node), MaxNodes)
	}
	w, err := ReadWeights(m.WeightsManifest, open)
	if err != nil {
		return nil, err
	}
	g := &Graph{index: make(map[string]int)}
	consts := make(map[string]*Array)
	// Nodes may be listed in any order: compile in dependency order.
	byName := make(map[string]*nodeJSON, len(m.ModelTopology.Node))
	for i := range m.ModelTopology.Node {
		n := &m.ModelTopology.Node[i]
		if _, dup := byName[n.Name]; dup {
			return nil, fmt.Errorf("tfjs: node %q appears twice", n.Name)
		}
		byName[n.Name] = n
	}
	visiting := make(map[string]bool)
	var visit func(name string) error
	visit = func(name string) error {
		if _, done := g.index[name]; done {
			return nil
		}
		if _, done := consts[name]; done {
			return nil
		}
		n, ok := byName[name]
		if !ok {
			return fmt.Errorf("tfjs: node input %q is not a node", name)
		}
		if visiting[name] {
			return fmt.Errorf("tfjs: graph has a cycle through %q", name)
		}
		visiting[name] = true
		for _, in := range n.Input {
			if err := visit(strings.TrimSuffix(in, ":0")); err != nil {
				return err
			}
		}
		return g.compile(n, w, consts)
	}
	for i := range m.ModelTopology.Node {
		if err := visit(m.ModelTopology.Node[i].Name); err != nil {
			return nil, err
		}
	}
	if g.input == "" {
		return nil, fmt.Errorf("tfjs: graph has no Placeholder input")
	}
	return g, nil
}

func (g *Graph) compile(n *nodeJSON, w map[string]*Array, consts map[string]*Array) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("tfjs: node %q (%s): %s", n.Name, n.Op, fmt.Sprintf(format, a...))
	}
	if n.Op == "Const" {
		a, ok := w[n.Name]
		if !ok {
			return bad("no weight of that name")
		}
		consts[n.Name] = a
		return nil
	}
	var tensors []int
	var arrays []*Array
	for _, in := range n.Input {
		in = strings.TrimSuffix(in, ":0")
		if a, ok := consts[in]; ok {
			arrays = append(arrays, a)
		} else {
			tensors = append(tensors, g.index[in])
		}
	}
	at := func(key string) (attr, error) {
		var a attr
		raw, ok := n.Attr[key]
		if !ok {
			return a, bad("attribute %s missing", key)
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			return a, bad("attribute %s: %v", key, err)
		}
		return a, nil
	}
	str := func(s string) string {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "?"
		}
		return string(b)
	}
	// stride and padding of a convolution or pooling node, with checks that
	// the layout is the only one supported.
	window := func() (stride int, p nn.Padding, err error) {
		if df, ok := n.Attr["data_format"]; ok {
			var a attr
			if json.Unmarshal(df, &a) == nil && a.S != "" && str(a.S) != "NHWC" {
				return 0, 0, bad("data format %s, want NHWC", str(a.S))
			}
		}
		s, err := at("strides")
		if err != nil {
			return 0, 0, err
		}
		if len(s.List.I) != 4 || s.List.I[1] != s.List.I[2] || s.List.I[0] != "1" || s.List.I[3] != "1" {
			return 0, 0, bad("strides %v", s.List.I)
		}
		if stride, err = strconv.Atoi(s.List.I[1]); err != nil || stride < 1 || stride > 16 {
			return 0, 0, bad("stride %q", s.List.I[1])
		}
		pa, err := at("padding")
		if err != nil {
			return 0, 0, err
		}
		if p, err = nn.ParsePadding(str(pa.S)); err != nil {
			return 0, 0, bad("%v", err)
		}
		if d, ok := n.Attr["dilations"]; ok {
			var a attr
			if json.Unmarshal(d, &a) == nil {
				for _, v := range a.List.I {
					if v != "1" {
						return 0, 0, bad("dilations %v are not supported", a.List.I)
					}
				}
			}
		}
		return stride, p, nil
	}
	need := func(nt, na int) error {
		if len(tensors) != nt || len(arrays) != na {
			return bad("%d tensor and %d constant inputs, want %d and %d", len(tensors), len(arrays), nt, na)
		}
		return nil
	}
	var run func(in []*nn.Tensor, own bool) (*nn.Tensor, error)
	switch n.Op {
	case "Placeholder":
		if g.input != "" {
			return bad("a second input; only one is supported")
		}
		g.input = n.Name
		run = func(in []*nn.Tensor, own bool) (*nn.Tensor, error) { return nil, nil }
	case "Conv2D", "_FusedConv2D":
		if n.Op == "Conv2D" {
			if err := need(1, 1); err != nil {
				return err
			}
		} else if err := need(1, 2); err != nil {
			return err
		}
		stride, p, err := window()
		if err != nil {
			return err
		}
		c, err := nn.NewConv(arrays[0].Shape, arrays[0].Float, stride, p)
		if err != nil {
			return bad("%v", err)
		}
		if n.Op == "_FusedConv2D" {
			f, err := at("fused_ops")
			if err != nil {
				return err
			}
			ops := make([]string, len(f.List.S))
			for i, s := range f.List.S {
				ops[i] = str(s)
			}
			if len(ops) == 0 || ops[0] != "BiasAdd" || len(ops) > 2 || (len(ops) == 2 && ops[1] != "Relu") {
				return bad("fused ops %v are not supported (want BiasAdd and optionally Relu)", ops)
			}
			if len(arrays[1].Float) != c.Out {
				return bad("bias has %d values for %d outputs", len(arrays[1].Float), c.Out)
			}
			copy(c.Bias, arrays[1].Float)
			c.Relu = len(ops) == 2
		}
		run = func(in []*nn.Tensor, own bool) (*nn.Tensor, error) { return c.Apply(in[0]) }
	case "DepthwiseConv2dNative":
		if err := need(1, 1); err != nil {
			return err
		}
		stride, p, err := window()
		if err != nil {
			return err
		}
		d, err := nn.NewDepthwise(arrays[0].Shape, arrays[0].Float, stride, p)
		if err != nil {
			return bad("%v", err)
		}
		run = func(in []*nn.Tensor, own bool) (*nn.Tensor, error) { return d.Apply(in[0]) }
	case "MaxPool":
		if err := need(1, 0); err != nil {
			return err
		}
		stride, p, err := window()
		if err != nil {
			return err
		}
		k, err := at("ksize")
		if err != nil {
			return err
		}
		if len(k.List.I) != 4 || k.List.I[1] != k.List.I[2] {
			return bad("ksize %v", k.List.I)
		}
		size, err := strconv.Atoi(k.List.I[1])
		if err != nil || size < 1 || size > 16 {
			return bad("ksize %v", k.List.I)
		}
		run = func(in []*nn.Tensor, own bool) (*nn.Tensor, error) { return nn.MaxPool(in[0], size, stride, p), nil }
	case "AddV2", "Add":
		if err := need(2, 0); err != nil {
			return err
		}
		run = func(in []*nn.Tensor, own bool) (*nn.Tensor, error) {
			o := in[0]
			if !own {
				o = &nn.Tensor{H: o.H, W: o.W, C: o.C, Data: append([]float32(nil), o.Data...)}
			}
			return o, nn.Add(o, in[1])
		}
	case "Relu":
		if err := need(1, 0); err != nil {
			return err
		}
		run = func(in []*nn.Tensor, own bool) (*nn.Tensor, error) {
			o := in[0]
			if !own {
				o = &nn.Tensor{H: o.H, W: o.W, C: o.C, Data: append([]float32(nil), o.Data...)}
			}
			nn.Relu(o)
			return o, nil
		}
	case "Identity":
		if err := need(1, 0); err != nil {
			return err
		}
		run = func(in []*nn.Tensor, own bool) (*nn.Tensor, error) { return in[0], nil }
	case "Pad":
		if err := need(1, 1); err != nil {
			return err
		}
		p := arrays[0].Int
		if len(p) != 8 || p[0] != 0 || p[1] != 0 {
			return bad("paddings %v, want [4 2] with none on the batch", p)
		}
		for _, v := range p {
			if v < 0 || v > 4096 {
				return bad("padding %d", v)
			}
		}
		run = func(in []*nn.Tensor, own bool) (*nn.Tensor, error) {
			t := nn.PadSpatial(in[0], int(p[2]), int(p[3]), int(p[4]), int(p[5]))
			return nn.PadChannels(t, int(p[6]), int(p[7])), nil
		}
	case "Reshape":
		if err := need(1, 1); err != nil {
			return err
		}
		shape := arrays[0].Int
		if len(shape) < 1 || len(shape) > 4 {
			return bad("target shape %v", shape)
		}
		run = func(in []*nn.Tensor, own bool) (*nn.Tensor, error) { return reshape(in[0], shape) }
	default:
		return bad("operation not supported")
	}
	g.index[n.Name] = len(g.steps)
	g.steps = append(g.steps, step{name: n.Name, op: n.Op, inputs: tensors, run: run})
	return nil
}

// reshape keeps the data and takes the last three dimensions of the target
// shape (after a leading batch of 1) as H, W, C.
func reshape(t *nn.Tensor, shape []int32) (*nn.Tensor, error) {
	dims := make([]int, len(shape))
	total := len(t.Data)
	known, unknown := 1, -1
	for i, d := range shape {
		switch {
		case d == -1 && unknown < 0:
			unknown = i
		case d < 1:
			return nil, fmt.Errorf("tfjs: reshape of %v to %v", t, shape)
		default:
			dims[i] = int(d)
			known *= int(d)
		}
	}
	if unknown >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("tfjs: reshape of %v to %v", t, shape)
		}
		dims[unknown] = total / known
	} else if known != total {
		return nil, fmt.Errorf("tfjs: reshape of %v to %v", t, shape)
	}
	if len(dims) == 4 {
		if dims[0] != 1 {
			return nil, fmt.Errorf("tfjs: reshape to batch %d", dims[0])
		}
		dims = dims[1:]
	}
	for len(dims) < 3 {
		dims = append([]int{1}, dims...)
	}
	return &nn.Tensor{H: dims[0], W: dims[1], C: dims[2], Data: t.Data}, nil
}

// Run feeds in to the graph's input and returns the named nodes' values.
func (g *Graph) Run(in *nn.Tensor, outputs ...string) ([]*nn.Tensor, error) {
	want := make([]int, len(outputs))
	last := 0
	for i, name := range outputs {
		p, ok := g.index[strings.TrimSuffix(name, ":0")]
		if !ok {
			return nil, fmt.Errorf("tfjs: graph has no node %q", name)
		}
		want[i] = p
		last = max(last, p)
	}
	vals := make([]*nn.Tensor, last+1)
	// uses counts the readers of every value still to run, so that a node
	// may overwrite an input nobody reads after it (and values are freed
	// as soon as they are done with).
	uses := make([]int, last+1)
	for i := 0; i <= last; i++ {
		for _, p := range g.steps[i].inputs {
			uses[p]++
		}
	}
	for _, p := range want {
		uses[p]++
	}
	args := make([]*nn.Tensor, 0, 4)
	for i := 0; i <= last; i++ {
		s := &g.steps[i]
		if s.op == "Placeholder" {
			vals[i] = in
			continue
		}
		args = args[:0]
		for _, p := range s.inputs {
			args = append(args, vals[p])
		}
		own := false
		if len(s.inputs) > 0 {
			first := s.inputs[0]
			own = uses[first] == 1 && g.steps[first].op != "Placeholder" && g.steps[first].op != "Identity" && g.steps[first].op != "Reshape"
			for _, p := range s.inputs[1:] {
				own = own && p != first
			}
		}
		v, err := s.run(args, own)
		if err != nil {
			return nil, fmt.Errorf("tfjs: node %q: %w", s.name, err)
		}
		vals[i] = v
		for _, p := range s.inputs {
			if uses[p]--; uses[p] == 0 {
				vals[p] = nil
			}
		}
	}
	out := make([]*nn.Tensor, len(want))
	for i, p := range want {
		out[i] = vals[p]
	}
	return out, nil
}
