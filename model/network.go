package model

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"sweep"
	"sweep/mnist"
)

// network is one graph of the two-headed model for a fixed batch size,
// with its input tensors. Training networks also carry targets and losses.
type network struct {
	g     *G.ExprGraph
	batch int
	dt    tensor.Dtype
	trunk *Trunk
	head  *SumHead

	x, addend     *G.Node // images [batch,1,28,28], one-hot addends [batch,10]
	digitLogProbs *G.Node // [batch,10]
	sumOut        *G.Node // [batch] or [batch,19]

	// Copies of the outputs, taken by read ops as soon as they are computed:
	// the tape machine may later overwrite an output's memory in place (the
	// regression loss's subtraction does), so Value() is not reliable.
	digitsRead, sumsRead G.Value

	// Training only.
	digitTarget, sumTarget *G.Node // one-hot [batch,10]; sums [batch] or one-hot [batch,19]
	digitLoss, sumLoss     *G.Node
	loss                   *G.Node // digit_weight·digitLoss + sum_weight·sumLoss

	// Input values, refilled in place for every batch.
	xT, addendT, digitT, sumT *tensor.Dense
	pixels                    []float32 // normalisation scratch for Float64 graphs
	touched                   []byte    // touch's sums, one per worker, kept so that its loads stay
}

// touch reads a byte of every cache line of the images idx and returns
// their sum: the batch's images lie scattered over the 47 MB training set,
// and these loads, independent of each other, have the memory fetch them
// all at once instead of one image after another as Normalize reads them.
func touch(set *mnist.Set, idx []int) byte {
	var s byte
	for _, i := range idx {
		img := set.Image(i)
		for j := 0; j < len(img); j += 64 {
			s += img[j]
		}
	}
	return s
}

func newNetwork(dt tensor.Dtype, s sweep.Settings, batch int, p *Params, training, stockOps bool, work *workers) (*network, error) {
	g := G.NewGraph()
	n := &network{g: g, batch: batch, dt: dt, touched: make([]byte, work.n())}
	n.xT = newDense(dt, batch, 1, mnist.Rows, mnist.Cols)
	n.addendT = newDense(dt, batch, 10)
	n.x = G.NewTensor(g, dt, 4, G.WithShape(n.xT.Shape()...), G.WithName("x"), G.WithValue(n.xT))
	n.addend = G.NewMatrix(g, dt, G.WithShape(batch, 10), G.WithName("addend"), G.WithValue(n.addendT))

	drop := 0.0
	if training {
		drop = s.Dropout
	}
	n.trunk = newTrunk(g, p, drop)
	n.trunk.stock = stockOps
	n.trunk.work = work
	n.head = newSumHead(g, p, s)
	n.head.stock = stockOps
	n.head.work = work
	var err error
	if n.digitLogProbs, err = n.trunk.Forward(n.x); err != nil {
		return nil, err
	}
	if n.sumOut, err = n.head.Forward(n.digitLogProbs, n.addend); err != nil {
		return nil, err
	}
	n.digitsRead = newDense(dt, n.digitLogProbs.Shape()...)
	n.sumsRead = newDense(dt, n.sumOut.Shape()...)
	G.Read(n.digitLogProbs, &n.digitsRead)
	G.Read(n.sumOut, &n.sumsRead)
	if !training {
		return n, nil
	}

	n.digitT = newDense(dt, batch, 10)
	n.digitTarget = G.NewMatrix(g, dt, G.WithShape(batch, 10), G.WithName("digit_target"), G.WithValue(n.digitT))
	if s.Head == sweep.HeadClassify {
		n.sumT = newDense(dt, batch, sweep.SumClasses)
		n.sumTarget = G.NewMatrix(g, dt, G.WithShape(batch, sweep.SumClasses), G.WithName("sum_target"), G.WithValue(n.sumT))
	} else {
		n.sumT = newDense(dt, batch)
		n.sumTarget = G.NewVector(g, dt, G.WithShape(batch), G.WithName("sum_target"), G.WithValue(n.sumT))
	}
	b := &builder{}
	n.digitLoss = b.nll(n.digitLogProbs, n.digitTarget)
	if b.err != nil {
		return nil, fmt.Errorf("model: digit loss: %w", b.err)
	}
	if n.sumLoss, err = n.head.Loss(n.sumOut, n.sumTarget); err != nil {
		return nil, err
	}
	dw := G.NewConstant(castScalar(dt, s.DigitWeight), G.WithName("digit_weight"))
	sw := G.NewConstant(castScalar(dt, s.SumWeight), G.WithName("sum_weight"))
	wd := b.do(func() (*G.Node, error) { return G.Mul(dw, n.digitLoss) })
	ws := b.do(func() (*G.Node, error) { return G.Mul(sw, n.sumLoss) })
	n.loss = b.do(func() (*G.Node, error) { return G.Add(wd, ws) })
	if b.err != nil {
		return nil, fmt.Errorf("model: total loss: %w", b.err)
	}
	return n, nil
}

func (n *network) learnables() G.Nodes {
	return append(n.trunk.Learnables(), n.head.Learnables()...)
}

// fill loads the examples idx of split into the input tensors. Rows past
// len(idx) (the tail of a last, partial evaluation batch) are zeroed and
// their outputs ignored.
func (n *network) fill(split Split, idx []int) {
	switch x := n.xT.Data().(type) {
	case []float32:
		// The run's workers share the images out (each is loaded alone).
		n.trunk.work.share(len(idx), 8, func(w, lo, hi int) {
			n.touched[w] += touch(split.Set, idx[lo:hi])
			mnist.Normalize(x[lo*mnist.Pixels:hi*mnist.Pixels], split.Set, idx[lo:hi])
		})
		clear(x[len(idx)*mnist.Pixels:])
	case []float64:
		if len(n.pixels) != len(x) {
			n.pixels = make([]float32, len(x))
		}
		mnist.Normalize(n.pixels, split.Set, idx)
		clear(n.pixels[len(idx)*mnist.Pixels:])
		for i, v := range n.pixels {
			x[i] = float64(v)
		}
	}
	oneHot(n.addendT, 10, idx, func(i int) int { return int(split.Addend(i)) })
	if n.digitT == nil {
		return
	}
	oneHot(n.digitT, 10, idx, func(i int) int { return int(split.Labels[i]) })
	if n.head.Form == sweep.HeadClassify {
		oneHot(n.sumT, sweep.SumClasses, idx, func(i int) int { return int(split.Sum(i)) })
		return
	}
	switch t := n.sumT.Data().(type) {
	case []float32:
		for k, i := range idx {
			t[k] = float32(split.Sum(i))
		}
	case []float64:
		for k, i := range idx {
			t[k] = float64(split.Sum(i))
		}
	}
}

// accumulate adds the outputs of the first count rows of the last run to acc.
func (n *network) accumulate(acc *Accumulator, split Split, idx []int, count int) {
	digits := floats(n.digitsRead.Data())
	sums := floats(n.sumsRead.Data())
	width := len(sums) / n.batch
	for k := 0; k < count; k++ {
		i := idx[k]
		acc.Add(digits[k*10:(k+1)*10], split.Labels[i], sums[k*width:(k+1)*width], split.Sum(i))
	}
}

// oneHot writes rows of width classes with a 1 at class(idx[k]) and zeroes
// any rows past len(idx).
func oneHot(t *tensor.Dense, width int, idx []int, class func(int) int) {
	switch d := t.Data().(type) {
	case []float32:
		clear(d)
		for k, i := range idx {
			d[k*width+class(i)] = 1
		}
	case []float64:
		clear(d)
		for k, i := range idx {
			d[k*width+class(i)] = 1
		}
	}
}

func newDense(dt tensor.Dtype, shape ...int) *tensor.Dense {
	return tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
}

func castScalar(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float64 {
		return v
	}
	return float32(v)
}
