//go:build amd64 && !openblas && !purego

package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// forEachKernelPath runs f once for every kernel path this machine can
// execute, whatever $SWEEP_KERNELS says: AVX-512F, AVX2+FMA, and no
// assembly (gonum and plain Go).
func forEachKernelPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	save512, save2 := hasAVX512, hasAVX2FMA
	defer func() { hasAVX512, hasAVX2FMA = save512, save2 }()
	paths := []struct {
		name       string
		can        bool
		avx512, v2 bool
	}{
		{"avx512", detectAVX2FMA() && detectAVX512(), true, true},
		{"avx2", detectAVX2FMA(), false, true},
		{"go", true, false, false},
	}
	for _, p := range paths {
		if !p.can {
			t.Logf("%s: this CPU cannot run it", p.name)
			continue
		}
		hasAVX512, hasAVX2FMA = p.avx512, p.v2
		t.Run(p.name, f)
	}
}

// TestKernelsMatchGo runs the pooling gradient, im2col, col2im and Adam
// with and without their AVX kernels and compares the bits (signed zeros
// and NaN included; Adam on normal values: its kernel flushes subnormals).
func TestKernelsMatchGo(t *testing.T) {
	if !detectAVX2FMA() {
		t.Skip("this CPU cannot run the AVX kernels")
	}
	save := hasAVX2FMA
	defer func() { hasAVX2FMA = save }()
	rng := rand.New(rand.NewPCG(3, 4))
	run := func(f func() []float32) (asm, plain []float32) {
		hasAVX2FMA = true
		asm = f()
		hasAVX2FMA = false
		return asm, f()
	}
	same := func(what string, a, b []float32) {
		t.Helper()
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
				t.Fatalf("%s: element %d is %v with the kernel, %v without", what, i, a[i], b[i])
			}
		}
	}
	// Pooling gradient, 3 planes of 8×8, every winner code, −0 and NaN.
	ps := &poolState{n: 1, c: 3, h: 8, w: 8, p: 2, oh: 4, ow: 4}
	dy := randSlice[float32](rng, 3*16)
	dy[0], dy[1], dy[2], dy[3] = float32(math.Copysign(0, -1)), float32(math.NaN()), -1, float32(math.Copysign(0, -1))
	win := make([]int32, len(dy))
	for i := range win {
		win[i] = int32(i%5) - 1
	}
	a, b := run(func() []float32 {
		dx := randSlice[float32](rng, 3*64)
		pool2Backward(ps, 3, dy, dx, win)
		return dx
	})
	same("pool gradient", a, b)
	// im2col and col2im, 5×5 filters: rows of 8 and 24 (the model's, each
	// with a loop of its own) and 16 (the general loop).
	for _, side := range []int{12, 28, 20} {
		g := convGeom{n: 1, c: 2, h: side, w: side, f: 1, kh: 5, kw: 5, oh: side - 4, ow: side - 4}
		g.unrollOffsets()
		img := randSlice[float32](rng, 2*side*side)
		a, b = run(func() []float32 {
			col := make([]float32, g.ckk()*g.ohw())
			im2col(g, img, col, g.ohw())
			return col
		})
		same("im2col", a, b)
		col := randSlice[float32](rng, g.ckk()*g.ohw())
		a, b = run(func() []float32 {
			dx := randSlice[float32](rng, 2*side*side)
			col2im(g, col, dx)
			return dx
		})
		same("col2im", a, b)
	}
	// Adam on 37 elements (a tail of 5).
	w0, g0, m0, v0 := randSlice[float32](rng, 37), randSlice[float32](rng, 37), randSlice[float32](rng, 37), randSlice[float32](rng, 37)
	for i := range v0 {
		v0[i] = v0[i] * v0[i]
	}
	p := adamParams[float32]{0.9, 0.999, 0.1, 0.001, 1 / 0.19, 1 / 0.002, 1e-8, -0.001}
	a, b = run(func() []float32 {
		w, g, m, v := slices.Clone(w0), slices.Clone(g0), slices.Clone(m0), slices.Clone(v0)
		adamUpdate(w, g, m, v, &p)
		return slices.Concat(w, g, m, v)
	})
	same("adam", a, b)
}
