package model

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The trunk's two hot layers as custom gorgonia ops, for float32 and
// float64 alike (ops.go holds what they share):
//
//   - conv2d (ops_conv.go): a 'valid' (no padding), stride-1 convolution
//     of NCHW images with a bias per filter. Each image is unrolled
//     (im2col) straight into the [C·KH·KW × OH·OW] layout that one matrix
//     product with the [F × C·KH·KW] filters needs, and the product lands
//     in NCHW order: no transposes. The filter gradient unrolls the images
//     again, a few at a time (cheaper than keeping the whole batch
//     unrolled: it would leave the cache), under a row of ones whose
//     product with the output gradient is the bias gradient, and sums the
//     products over the batch. The input gradient is a product with the
//     transposed filters folded back (col2im); it exists only when asked
//     for (the first layer's input is the data).
//   - maxPoolReLU (ops_pool.go): max-pool P×P with stride P followed by
//     ReLU, in one pass that remembers each window's winner (or that ReLU
//     zeroed it) for the gradient, which scatters the output gradient back.
//
// They reproduce gorgonia's Conv2d + BroadcastAdd and MaxPool2D + Rectify
// up to the summation order of the products (ties in a pooling window go to
// the first maximum in row-major order, as in gorgonia; ReLU's gradient at 0
// is 1, as for gorgonia's Rectify). One deliberate difference: a NaN in a
// pooling window comes out as NaN (gorgonia's max-pool skips NaN, and its
// gradient then panics), so a diverged run's loss is NaN.
//
// Every op owns its output and scratch buffers, allocated once and reused
// for every batch (ops belong to one graph, so one network).

// float32 and float64 dtypes, for checks.
func checkDtype(dt tensor.Dtype) error {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("model: dtype %v: want Float32 or Float64", dt)
	}
	return nil
}

func lowest[T float]() T {
	var z T
	if _, ok := any(z).(float32); ok {
		return T(-math.MaxFloat32)
	}
	m := -math.MaxFloat64 // a variable: the constant overflows float32
	return T(m)
}

// scratch returns a slice of n elements of type T stored in *p, replacing it
// when it is missing or too short.
func scratch[T float](p *any, n int) []T {
	s, _ := scratchFresh[T](p, n)
	return s
}

// scratchFresh is scratch that also reports whether it allocated the
// slice (so the caller can set up what stays fixed in it).
func scratchFresh[T float](p *any, n int) ([]T, bool) {
	if s, ok := (*p).([]T); ok && len(s) >= n {
		return s[:n], false
	}
	s := make([]T, n)
	*p = s
	return s, true
}

// ownedDense returns the op-owned output d, first restoring its shape: a
// consumer such as Reshape may have reshaped it in place during the last run.
func ownedDense(d *tensor.Dense, shape tensor.Shape) (*tensor.Dense, error) {
	if !d.Shape().Eq(shape) {
		if err := d.Reshape(shape...); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// denseArgs checks that vals are dense, contiguous tensors of dtype dt
// with as many elements as the given shapes and returns them. Only the
// count is checked, not the shape: another consumer may have reshaped a
// value in place (gorgonia's Reshape can), which leaves its data as it was.
func denseArgs(name string, dt tensor.Dtype, vals []G.Value, shapes ...tensor.Shape) ([]*tensor.Dense, error) {
	if len(vals) != len(shapes) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", name, len(vals), len(shapes))
	}
	out := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("%s: input %d is %T, want *tensor.Dense", name, i, v)
		}
		if d.Dtype() != dt || d.Shape().TotalSize() != shapes[i].TotalSize() || d.IsView() {
			return nil, fmt.Errorf("%s: input %d is %v%v, want %v%v", name, i, d.Dtype(), d.Shape(), dt, shapes[i])
		}
		out[i] = d
	}
	return out, nil
}

func tensorType(dims int) *G.TensorType {
	return &G.TensorType{Dims: dims, Of: hm.TypeVariable('a')}
}

// opBase supplies the Op methods every fast op shares. Its name and state
// pointer make the hash unique to the op instance, so gorgonia never merges
// two ops that own different buffers.
type opBase struct {
	name  string
	state any
}

func (o opBase) ReturnsPtr() bool      { return false }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "sweep.%s@%p", o.name, o.state) }
func (o opBase) String() string        { return o.name }
func (o opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
