package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"sweep"
)

// Trunk is the classic MNIST CNN that reads the image: conv 1→C1 (5×5),
// max-pool 2, ReLU, conv C1→C2 (5×5), max-pool 2, ReLU, flatten 16·C2,
// FC H + ReLU (+ dropout while training), FC 10, log-softmax, with the
// widths C1, C2, H of the settings (10, 20, 50 by default: 320 flattened).
// Its output is the digit log-probabilities.
type Trunk struct {
	conv1W, conv1B, conv2W, conv2B, fc1W, fc1B, fc2W, fc2B *G.Node

	flat    int           // 16·C2: the flattened second block
	dropout float64       // probability on the hidden layer; 0 = none
	drop    *dropoutState // the dropout op's state once Forward built it

	// stock builds the layers from gorgonia's own ops instead of the fast
	// ones (ops.go, ops_linear.go); tests compare the two.
	stock bool
	work  *workers // the run's threads for the fast ops; nil: one
}

// trunkParams declares the trunk's tensors and their fan-in for the widths
// of s (resolved).
func trunkParams(s sweep.Settings) []param {
	c1, c2, h := s.Conv1Channels, s.Conv2Channels, s.FCHidden
	flat := c2 * 4 * 4
	return []param{
		{"trunk.conv1.w", tensor.Shape{c1, 1, 5, 5}, 1 * 5 * 5},
		{"trunk.conv1.b", tensor.Shape{c1}, 1 * 5 * 5},
		{"trunk.conv2.w", tensor.Shape{c2, c1, 5, 5}, c1 * 5 * 5},
		{"trunk.conv2.b", tensor.Shape{c2}, c1 * 5 * 5},
		{"trunk.fc1.w", tensor.Shape{flat, h}, flat},
		{"trunk.fc1.b", tensor.Shape{h}, flat},
		{"trunk.fc2.w", tensor.Shape{h, 10}, h},
		{"trunk.fc2.b", tensor.Shape{10}, h},
	}
}

// newTrunk binds the trunk's parameters; dropout is the probability on the
// hidden layer (0 for evaluation graphs).
func newTrunk(g *G.ExprGraph, p *Params, dropout float64) *Trunk {
	t := &Trunk{
		conv1W: bind(g, p, "trunk.conv1.w"), conv1B: bind(g, p, "trunk.conv1.b"),
		conv2W: bind(g, p, "trunk.conv2.w"), conv2B: bind(g, p, "trunk.conv2.b"),
		fc1W: bind(g, p, "trunk.fc1.w"), fc1B: bind(g, p, "trunk.fc1.b"),
		fc2W: bind(g, p, "trunk.fc2.w"), fc2B: bind(g, p, "trunk.fc2.b"),
		dropout: dropout,
	}
	t.flat = t.fc1W.Shape()[0]
	return t
}

// Learnables lists the trunk's parameter nodes.
func (t *Trunk) Learnables() G.Nodes {
	return G.Nodes{t.conv1W, t.conv1B, t.conv2W, t.conv2B, t.fc1W, t.fc1B, t.fc2W, t.fc2B}
}

// Forward maps images [batch, 1, 28, 28] to digit log-probabilities [batch, 10].
func (t *Trunk) Forward(x *G.Node) (*G.Node, error) {
	batch := x.Shape()[0]
	b := &builder{stock: t.stock, work: t.work}
	// The images need no gradient; the first block's output does.
	h := b.convBlock(x, t.conv1W, t.conv1B, false)
	h = b.convBlock(h, t.conv2W, t.conv2B, true)
	h = b.reshape(h, batch, t.flat)
	h = b.linear(h, t.fc1W, t.fc1B, true)
	if t.dropout > 0 {
		h = b.do(func() (*G.Node, error) {
			y, s, err := dropout(h, t.dropout)
			t.drop = s
			return y, err
		})
	}
	h = b.logSoftmax(b.linear(h, t.fc2W, t.fc2B, false))
	if b.err != nil {
		return nil, fmt.Errorf("model: build trunk: %w", b.err)
	}
	return h, nil
}

// SumHead predicts the sum from the trunk's 10 digit log-probabilities (or
// their probabilities, with sum_input "probs") and the one-hot addend (20
// inputs), through an optional hidden ReLU layer.
// The regression form has one output trained with MSE; the classify form
// has 19 log-probabilities trained with NLL.
type SumHead struct {
	Form             sweep.Head
	Hidden           int            // 0: a single linear layer
	Input            sweep.SumInput // what it reads of the digit head
	LossForm         sweep.SumLoss  // regression: mse or broadcast_mse
	hiddenW, hiddenB *G.Node
	outW, outB       *G.Node
	stock            bool     // gorgonia's own ops for the layers, as Trunk.stock
	work             *workers // as Trunk.work
}

// sumHeadParams declares the sum head's tensors.
func sumHeadParams(form sweep.Head, hidden int) []param {
	in := 20
	var ps []param
	if hidden > 0 {
		ps = append(ps,
			param{"sum.hidden.w", tensor.Shape{in, hidden}, in},
			param{"sum.hidden.b", tensor.Shape{hidden}, in})
		in = hidden
	}
	out := 1
	if form == sweep.HeadClassify {
		out = sweep.SumClasses
	}
	return append(ps,
		param{"sum.out.w", tensor.Shape{in, out}, in},
		param{"sum.out.b", tensor.Shape{out}, in})
}

func newSumHead(g *G.ExprGraph, p *Params, s sweep.Settings) *SumHead {
	h := &SumHead{Form: s.Head, Hidden: s.SumHidden, Input: s.SumInput, LossForm: s.SumLoss,
		outW: bind(g, p, "sum.out.w"), outB: bind(g, p, "sum.out.b")}
	hidden := s.SumHidden
	if hidden > 0 {
		h.hiddenW, h.hiddenB = bind(g, p, "sum.hidden.w"), bind(g, p, "sum.hidden.b")
	}
	return h
}

// Learnables lists the head's parameter nodes.
func (h *SumHead) Learnables() G.Nodes {
	if h.Hidden > 0 {
		return G.Nodes{h.hiddenW, h.hiddenB, h.outW, h.outB}
	}
	return G.Nodes{h.outW, h.outB}
}

// Forward maps digit log-probabilities [batch, 10] and one-hot addends
// [batch, 10] to the sum prediction: [batch] for regression, 19 class
// log-probabilities [batch, 19] for classify.
func (h *SumHead) Forward(digitLogProbs, addend *G.Node) (*G.Node, error) {
	batch := digitLogProbs.Shape()[0]
	b := &builder{stock: h.stock, work: h.work}
	digits := digitLogProbs
	if h.Input == sweep.SumInputProbs {
		digits = b.do(func() (*G.Node, error) { return G.Exp(digitLogProbs) })
	}
	x := b.concat(1, digits, addend)
	if h.Hidden > 0 {
		x = b.linear(x, h.hiddenW, h.hiddenB, true)
	}
	x = b.linear(x, h.outW, h.outB, false)
	if h.Form == sweep.HeadClassify {
		x = b.logSoftmax(x)
	} else {
		x = b.reshape(x, batch)
	}
	if b.err != nil {
		return nil, fmt.Errorf("model: build sum head: %w", b.err)
	}
	return x, nil
}

// Loss is the head's training loss for target: for regression the mean
// squared error against the sums [batch] (or, with LossForm
// broadcast_mse, over all pairs of predictions and sums); for classify
// the mean negative log-likelihood of the one-hot sum classes [batch, 19].
func (h *SumHead) Loss(out, target *G.Node) (*G.Node, error) {
	b := &builder{}
	var loss *G.Node
	switch {
	case h.Form == sweep.HeadClassify:
		loss = b.nll(out, target)
	case h.LossForm == sweep.SumLossBroadcastMSE:
		loss = b.broadcastMSE(out, target)
	default:
		loss = b.meanSquaredError(out, target)
	}
	if b.err != nil {
		return nil, fmt.Errorf("model: sum loss: %w", b.err)
	}
	return loss, nil
}

// bind makes a graph node for parameter name, bound to its value.
func bind(g *G.ExprGraph, p *Params, name string) *G.Node {
	v := p.values[name]
	return G.NewTensor(g, p.dtype, v.Dims(), G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
}

// builder threads the first error through a chain of graph constructions,
// so layer code reads as the formula it builds. Once an error is recorded
// every method returns nil without calling gorgonia.
type builder struct {
	err   error
	stock bool     // convBlock and linear use gorgonia's ops rather than the fast ones
	work  *workers // threads for the fast ops
}

func (b *builder) do(f func() (*G.Node, error)) *G.Node {
	if b.err != nil {
		return nil
	}
	n, err := f()
	if err != nil {
		b.err = err
		return nil
	}
	return n
}

func (b *builder) relu(x *G.Node) *G.Node {
	return b.do(func() (*G.Node, error) { return G.Rectify(x) })
}

// logSoftmax is log-softmax over the last axis: gorgonia's with the
// stock ops, ops_softmax.go's otherwise.
func (b *builder) logSoftmax(x *G.Node) *G.Node {
	if b.stock {
		return b.do(func() (*G.Node, error) { return G.LogSoftMax(x) })
	}
	return b.do(func() (*G.Node, error) { return logSoftmax(x) })
}

func (b *builder) reshape(x *G.Node, s ...int) *G.Node {
	return b.do(func() (*G.Node, error) { return G.Reshape(x, s) })
}

func (b *builder) concat(axis int, xs ...*G.Node) *G.Node {
	return b.do(func() (*G.Node, error) { return G.Concat(axis, xs...) })
}

// linear is x·w + bias with bias broadcast over the batch, then ReLU if
// relu is set.
func (b *builder) linear(x, w, bias *G.Node, relu bool) *G.Node {
	if !b.stock {
		return b.do(func() (*G.Node, error) { return linear(x, w, bias, relu, b.work) })
	}
	xw := b.do(func() (*G.Node, error) { return G.Mul(x, w) })
	y := b.do(func() (*G.Node, error) { return G.BroadcastAdd(xw, bias, nil, []byte{0}) })
	if relu {
		y = b.relu(y)
	}
	return y
}

// convBlock is conv 5×5 (stride 1, no padding) + bias, max-pool 2, ReLU.
// inputGrad says whether gradients must reach x.
func (b *builder) convBlock(x, w, bias *G.Node, inputGrad bool) *G.Node {
	if !b.stock {
		c := b.do(func() (*G.Node, error) { return conv2d(x, w, bias, inputGrad, b.work) })
		return b.do(func() (*G.Node, error) { return maxPoolReLU(c, 2, b.work) })
	}
	c := b.do(func() (*G.Node, error) {
		return G.Conv2d(x, w, tensor.Shape{5, 5}, []int{0, 0}, []int{1, 1}, []int{1, 1})
	})
	c = b.do(func() (*G.Node, error) { return G.BroadcastAdd(c, bias, nil, []byte{0, 2, 3}) })
	p := b.do(func() (*G.Node, error) { return G.MaxPool2D(c, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}) })
	return b.relu(p)
}

// meanSquaredError is mean((pred - target)²) over the batch.
func (b *builder) meanSquaredError(pred, target *G.Node) *G.Node {
	d := b.do(func() (*G.Node, error) { return G.Sub(pred, target) })
	sq := b.do(func() (*G.Node, error) { return G.Square(d) })
	return b.do(func() (*G.Node, error) { return G.Mean(sq) })
}

// broadcastMSE is mean((pred_i − target_j)²) over all N² pairs i, j of
// pred [N] and target [N]: what PyTorch's F.mse_loss computes when the
// predictions have shape (N, 1) and the targets (N,) and broadcasting makes
// an N×N matrix of differences.
func (b *builder) broadcastMSE(pred, target *G.Node) *G.Node {
	n := pred.Shape()[0]
	col := b.reshape(pred, n, 1)
	row := b.reshape(target, 1, n)
	d := b.do(func() (*G.Node, error) { return G.BroadcastSub(col, row, []byte{1}, []byte{0}) })
	sq := b.do(func() (*G.Node, error) { return G.Square(d) })
	return b.do(func() (*G.Node, error) { return G.Mean(sq) })
}

// nll is the mean negative log-likelihood of one-hot targets under
// log-probabilities, both [batch, classes].
func (b *builder) nll(logProbs, oneHot *G.Node) *G.Node {
	prod := b.do(func() (*G.Node, error) { return G.HadamardProd(logProbs, oneHot) })
	picked := b.do(func() (*G.Node, error) { return G.Sum(prod, 1) })
	mean := b.do(func() (*G.Node, error) { return G.Mean(picked) })
	return b.do(func() (*G.Node, error) { return G.Neg(mean) })
}
