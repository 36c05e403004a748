package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice[T float](rng *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(2*rng.Float64() - 1)
	}
	return s
}

// TestGemm checks both products of every build against a float64 reference
// on shapes that exercise full kernel blocks, every kind of partial block,
// transposed A, accumulation and batches.
func TestGemm(t *testing.T) {
	forEachKernelPath(t, func(t *testing.T) {
		t.Logf("gemm backend: %s", gemmBackend())
		rng := rand.New(rand.NewPCG(1, 2))
		// Batched products big enough to be split into runs of samples.
		for _, sh := range [][4]int{{10, 25, 576, 30}, {7, 30, 601, 40}, {20, 250, 64, 64}} {
			for _, acc := range []bool{false, true} {
				testGemmNT[float32](t, rng, sh[0], sh[1], sh[2], sh[3], acc, 1e-5)
			}
		}
		shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {4, 16, 1}, {4, 16, 8}, {10, 576, 25}, {20, 64, 250},
			{250, 64, 20}, {8, 16, 5}, {12, 48, 3}, {14, 31, 6}, {5, 17, 9}, {7, 33, 16}, {64, 50, 320}, {320, 50, 64}, {6, 35, 3}, {9, 4, 17},
			{6, 32, 4}, {4, 96, 7}, {11, 80, 13}, {13, 63, 5}, {10, 47, 9}}
		for _, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			for _, trans := range []bool{false, true} {
				for _, acc := range []bool{false, true} {
					testGemmNN[float32](t, rng, m, n, k, trans, acc, 1e-5)
					testGemmNN[float64](t, rng, m, n, k, trans, acc, 1e-12)
				}
			}
			for _, nb := range []int{1, 3} {
				for _, acc := range []bool{false, true} {
					testGemmNT[float32](t, rng, m, n, k, nb, acc, 1e-5)
					testGemmNT[float64](t, rng, m, n, k, nb, acc, 1e-12)
				}
			}
		}
	})
}

func testGemmNN[T float](t *testing.T, rng *rand.Rand, m, n, k int, trans, acc bool, tol float64) {
	t.Helper()
	ars, acs := k+2, 1
	if trans {
		ars, acs = 1, m+3
	}
	a := randSlice[T](rng, (m-1)*ars+(k-1)*acs+1)
	ldb, ldc := n+1, n+2
	b := randSlice[T](rng, (k-1)*ldb+n)
	c := randSlice[T](rng, (m-1)*ldc+n+5)
	want := make([]float64, len(c))
	for i := range c {
		want[i] = float64(c[i])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				s += float64(a[i*ars+p*acs]) * float64(b[p*ldb+j])
			}
			if acc {
				want[i*ldc+j] += s
			} else {
				want[i*ldc+j] = s
			}
		}
	}
	gemmNN(m, n, k, a, ars, acs, b, ldb, c, ldc, acc)
	compareGemm(t, "NN", m, n, k, 1, trans, acc, c, want, tol)
}

func testGemmNT[T float](t *testing.T, rng *rand.Rand, m, n, k, nb int, acc bool, tol float64) {
	t.Helper()
	lda, ldb, ldc := k+1, k+3, n+2
	sa, sb := m*lda+2, n*ldb+1
	a := randSlice[T](rng, (nb-1)*sa+(m-1)*lda+k)
	b := randSlice[T](rng, (nb-1)*sb+(n-1)*ldb+k)
	c := randSlice[T](rng, (m-1)*ldc+n+5)
	want := make([]float64, len(c))
	for i := range c {
		want[i] = float64(c[i])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for x := 0; x < nb; x++ {
				for p := 0; p < k; p++ {
					s += float64(a[x*sa+i*lda+p]) * float64(b[x*sb+j*ldb+p])
				}
			}
			if acc {
				want[i*ldc+j] += s
			} else {
				want[i*ldc+j] = s
			}
		}
	}
	gemmNT(m, n, k, nb, a, lda, sa, b, ldb, sb, c, ldc, acc)
	compareGemm(t, "NT", m, n, k, nb, false, acc, c, want, tol)
}

func compareGemm[T float](t *testing.T, kind string, m, n, k, nb int, trans, acc bool, got []T, want []float64, tol float64) {
	t.Helper()
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*math.Max(1, math.Abs(want[i]))*math.Sqrt(float64(k*nb)) {
			t.Errorf("gemm%s %T m=%d n=%d k=%d nb=%d trans=%v acc=%v: c[%d] = %v, want %v",
				kind, got[0], m, n, k, nb, trans, acc, i, got[i], want[i])
			return
		}
	}
}
