package model

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Max-pool + ReLU in one op (see ops.go for what the fast ops share).

type poolState struct {
	n, c, h, w, p, oh, ow int
	dt                    tensor.Dtype
	// win[o] is the index within its plane of output o's winning input
	// (for p = 2: its place in the window, 0–3 in row-major order), or -1
	// when ReLU zeroed the output (or it is NaN, or no input beat the
	// lowest float).
	win     []int32
	work    *workers
	out, dx *tensor.Dense
}

func (s *poolState) inShape() tensor.Shape  { return tensor.Shape{s.n, s.c, s.h, s.w} }
func (s *poolState) outShape() tensor.Shape { return tensor.Shape{s.n, s.c, s.oh, s.ow} }

// maxPoolReLU applies relu(maxpool(x)) with p×p windows and stride p to
// x [n,c,h,w]; rows and columns past the last whole window are ignored.
// work (nil: one thread) does the work, the planes shared out among the
// workers (each plane's outputs are computed as with one thread).
func maxPoolReLU(x *G.Node, p int, work *workers) (*G.Node, error) {
	xs := x.Shape()
	if len(xs) != 4 || p < 1 || xs[2] < p || xs[3] < p {
		return nil, fmt.Errorf("model: max-pool %d of %v: bad shape", p, xs)
	}
	dt := x.Dtype()
	if err := checkDtype(dt); err != nil {
		return nil, err
	}
	s := &poolState{n: xs[0], c: xs[1], h: xs[2], w: xs[3], p: p, oh: xs[2] / p, ow: xs[3] / p, dt: dt, work: work}
	s.win = make([]int32, s.n*s.c*s.oh*s.ow)
	s.out = newDense(dt, s.outShape()...)
	return G.ApplyOp(poolOp{opBase{"MaxPoolReLU", s}, s}, x)
}

type poolOp struct {
	opBase
	s *poolState
}

func (op poolOp) Arity() int                                     { return 1 }
func (op poolOp) Type() hm.Type                                  { return hm.NewFnType(tensorType(4), tensorType(4)) }
func (op poolOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.outShape(), nil }
func (op poolOp) DiffWRT(int) []bool                             { return []bool{true} }

func (op poolOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	s := op.s
	s.dx = newDense(s.dt, s.inShape()...)
	dx, err := G.ApplyOp(poolGradOp{opBase{"MaxPoolReLUGrad", s}, s}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

func (op poolOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs("MaxPoolReLU", s.dt, vals, s.inShape())
	if err != nil {
		return nil, err
	}
	out, err := ownedDense(s.out, s.outShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		poolForward(s, in[0].Float32s(), out.Float32s())
	case tensor.Float64:
		poolForward(s, in[0].Float64s(), out.Float64s())
	}
	return out, nil
}

func poolForward[T float](s *poolState, x, y []T) {
	hw, ohw := s.h*s.w, s.oh*s.ow
	s.work.share(s.n*s.c, 1, func(_, lo, hi int) {
		poolForwardPlanes(s, hi-lo, x[lo*hw:hi*hw], y[lo*ohw:hi*ohw], s.win[lo*ohw:hi*ohw])
	})
}

// poolForwardPlanes pools planes planes of x into y, their winners into win.
func poolForwardPlanes[T float](s *poolState, planes int, x, y []T, win []int32) {
	if s.p == 2 {
		pool2Forward(s, planes, x, y, win)
		return
	}
	hw, ohw := s.h*s.w, s.oh*s.ow
	low := lowest[T]()
	for pl := 0; pl < planes; pl++ {
		xp, yp, wp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw], win[pl*ohw:(pl+1)*ohw]
		for oy := 0; oy < s.oh; oy++ {
			for ox := 0; ox < s.ow; ox++ {
				best, at := low, int32(-1)
				for dy := 0; dy < s.p; dy++ {
					row := (oy*s.p+dy)*s.w + ox*s.p
					for dx, v := range xp[row : row+s.p] {
						// v != v: a NaN wins and stays (unlike gorgonia,
						// which skips it), so a diverged run's NaN reaches
						// the loss.
						if v > best || v != v {
							best, at = v, int32(row+dx)
						}
					}
				}
				// As gorgonia's Rectify: x·(x ≥ 0), NaN for NaN.
				var keep T
				if best >= 0 {
					keep = 1
				} else {
					at = -1
				}
				yp[oy*s.ow+ox] = best * keep
				wp[oy*s.ow+ox] = at
			}
		}
	}
}

// pool2Forward is poolForward unrolled for 2×2 windows and free of
// data-dependent branches (a max-pool's comparisons are coin flips for the
// branch predictor): Go's max, which propagates NaN, and selects that
// compile to conditional moves. The winner is the first input equal to the
// maximum, as with gorgonia's strict comparisons. It differs from the
// generic loop only in the sign of the zeros ReLU produces (+0, not −0).
func pool2Forward[T float](s *poolState, planes int, x, y []T, win []int32) {
	w, oh, ow := s.w, s.oh, s.ow
	// Without leftover rows or columns the planes are one image of
	// n·c·oh output rows, for the AVX kernel where there is one.
	if s.h == 2*oh && w == 2*ow && pool2Asm(x, y, win, ow, planes*oh) {
		return
	}
	hw, ohw := s.h*w, oh*ow
	for pl := 0; pl < planes; pl++ {
		xp, yp, wp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw], win[pl*ohw:(pl+1)*ohw]
		for oy := 0; oy < oh; oy++ {
			top := 2 * oy * w
			r0, r1 := xp[top:top+2*ow], xp[top+w:top+w+2*ow]
			yr, wr := yp[oy*ow:(oy+1)*ow], wp[oy*ow:(oy+1)*ow]
			for ox := range yr {
				j := 2 * ox
				a, b, c, d := r0[j], r0[j+1], r1[j], r1[j+1]
				best := max(max(a, b), max(c, d))
				code := int32(3)
				if c == best {
					code = 2
				}
				if b == best {
					code = 1
				}
				if a == best {
					code = 0
				}
				if !(best >= 0) { // ReLU zeroed it, or NaN
					code = -1
				}
				yr[ox], wr[ox] = max(best, 0), code
			}
		}
	}
}

// poolGradOp scatters dY to the winning inputs. Inputs: the pool's output
// (for ordering) and dY.
type poolGradOp struct {
	opBase
	s *poolState
}

func (op poolGradOp) Arity() int { return 2 }
func (op poolGradOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(4))
}
func (op poolGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.s.inShape(), nil }

func (op poolGradOp) Do(vals ...G.Value) (G.Value, error) {
	s := op.s
	in, err := denseArgs("MaxPoolReLUGrad", s.dt, vals, s.outShape(), s.outShape())
	if err != nil {
		return nil, err
	}
	dx, err := ownedDense(s.dx, s.inShape())
	if err != nil {
		return nil, err
	}
	switch s.dt {
	case tensor.Float32:
		poolBackward(s, in[1].Float32s(), dx.Float32s())
	case tensor.Float64:
		poolBackward(s, in[1].Float64s(), dx.Float64s())
	}
	return dx, nil
}

func poolBackward[T float](s *poolState, dy, dx []T) {
	hw, ohw := s.h*s.w, s.oh*s.ow
	s.work.share(s.n*s.c, 1, func(_, lo, hi int) {
		poolBackwardPlanes(s, hi-lo, dy[lo*ohw:hi*ohw], dx[lo*hw:hi*hw], s.win[lo*ohw:hi*ohw])
	})
}

// poolBackwardPlanes scatters planes planes of dy into dx.
func poolBackwardPlanes[T float](s *poolState, planes int, dy, dx []T, win []int32) {
	if s.p == 2 {
		pool2Backward(s, planes, dy, dx, win)
		return
	}
	clear(dx)
	hw, ohw := s.h*s.w, s.oh*s.ow
	for pl := 0; pl < planes; pl++ {
		dxp := dx[pl*hw : (pl+1)*hw]
		for o, at := range win[pl*ohw : (pl+1)*ohw] {
			if at >= 0 {
				dxp[at] += dy[pl*ohw+o]
			}
		}
	}
}

// pool2Backward is poolBackward for 2×2 windows with no data-dependent
// branch: each window adds dY times 1 (0 when ReLU zeroed the output) at
// the winner's place (the window's first when there is none).
func pool2Backward[T float](s *poolState, planes int, dy, dx []T, win []int32) {
	w, oh, ow := s.w, s.oh, s.ow
	// Without leftover rows or columns: the AVX kernel, which writes every
	// input's gradient at once (no clearing first).
	if s.h == 2*oh && w == 2*ow && pool2BackAsm(dy, dx, win, ow, planes*oh) {
		return
	}
	clear(dx)
	hw, ohw := s.h*w, oh*ow
	place := [8]int{0, 0, 1, w, w + 1} // by code+1
	scale := [8]T{0, 1, 1, 1, 1}
	for pl := 0; pl < planes; pl++ {
		dxp, dyp, wp := dx[pl*hw:(pl+1)*hw], dy[pl*ohw:(pl+1)*ohw], win[pl*ohw:(pl+1)*ohw]
		for oy := 0; oy < oh; oy++ {
			top := 2 * oy * w
			window := dxp[top : top+w+2*ow]
			dyr, wr := dyp[oy*ow:(oy+1)*ow], wp[oy*ow:(oy+1)*ow]
			for ox, g := range dyr {
				k := (wr[ox] + 1) & 7
				window[2*ox+place[k]] += g * scale[k]
			}
		}
	}
}
