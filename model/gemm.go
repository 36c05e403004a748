package model

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The fast ops need two matrix products, both row-major:
//
//	gemmNN: C = A·B, where A's element (i,p) is a[i*ars+p*acs] (so A can be
//	        read transposed: ars == 1) and B is k×n with row stride ldb;
//	gemmNT: C = Σ_s A_s·B_sᵀ over nb samples, A_s = a[s*sa:] (m×k, lda),
//	        B_s = b[s*sb:] (n×k, ldb): a convolution's weight gradient summed
//	        over the batch in one call.
//
// With acc they add to C instead of overwriting it. Every build has them:
//
//   - default on amd64: gemm_amd64.go, AVX-512F kernels
//     (gemm_avx512_amd64.s) where the CPU has AVX-512F, else AVX2+FMA ones
//     (gemm_amd64.s), else gonum's pure-Go BLAS; chosen at run time, and
//     $SWEEP_KERNELS=avx2 (no AVX-512) or go (no assembly) caps the choice;
//   - tag purego, or another architecture: gemm_other.go, gonum only;
//   - tag openblas (cgo, libopenblas-dev): gemm_openblas.go, OpenBLAS.
//
// float64 (used by the finite-difference tests) goes through gonum, or
// OpenBLAS in that build.

// float is the element type of the fast ops.
type float interface{ ~float32 | ~float64 }

func gemmNN[T float](m, n, k int, a []T, ars, acs int, b []T, ldb int, c []T, ldc int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	checkNN(m, n, k, len(a), ars, acs, len(b), ldb, len(c), ldc)
	if k == 0 {
		if !acc {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	switch a := any(a).(type) {
	case []float32:
		sgemmNN(m, n, k, a, ars, acs, any(b).([]float32), ldb, any(c).([]float32), ldc, acc)
	case []float64:
		dgemmNN(m, n, k, a, ars, acs, any(b).([]float64), ldb, any(c).([]float64), ldc, acc)
	}
}

func gemmNT[T float](m, n, k, nb int, a []T, lda, sa int, b []T, ldb, sb int, c []T, ldc int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	checkNT(m, n, k, nb, len(a), lda, sa, len(b), ldb, sb, len(c), ldc)
	if k == 0 || nb == 0 {
		if !acc {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	switch a := any(a).(type) {
	case []float32:
		sgemmNT(m, n, k, nb, a, lda, sa, any(b).([]float32), ldb, sb, any(c).([]float32), ldc, acc)
	case []float64:
		dgemmNT(m, n, k, nb, a, lda, sa, any(b).([]float64), ldb, sb, any(c).([]float64), ldc, acc)
	}
}

// checkNN panics unless every element the product touches is inside its
// slice: the kernels do no bounds checks of their own.
func checkNN(m, n, k, la, ars, acs, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 || ars < 0 || acs < 0 || ldb < n || ldc < n ||
		(k > 0 && (m-1)*ars+(k-1)*acs >= la) || (k > 0 && (k-1)*ldb+n > lb) || (m-1)*ldc+n > lc ||
		(ars != 1 && acs != 1) || (ars == 1 && acs < m) || (acs == 1 && ars < k) {
		panic(fmt.Sprintf("model: gemmNN bad arguments m=%d n=%d k=%d len(a)=%d ars=%d acs=%d len(b)=%d ldb=%d len(c)=%d ldc=%d",
			m, n, k, la, ars, acs, lb, ldb, lc, ldc))
	}
}

func checkNT(m, n, k, nb, la, lda, sa, lb, ldb, sb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 || nb < 0 || lda < k || ldb < k || ldc < n || sa < 0 || sb < 0 ||
		(k > 0 && nb > 0 && ((nb-1)*sa+(m-1)*lda+k > la || (nb-1)*sb+(n-1)*ldb+k > lb)) || (m-1)*ldc+n > lc {
		panic(fmt.Sprintf("model: gemmNT bad arguments m=%d n=%d k=%d nb=%d len(a)=%d lda=%d sa=%d len(b)=%d ldb=%d sb=%d len(c)=%d ldc=%d",
			m, n, k, nb, la, lda, sa, lb, ldb, sb, lc, ldc))
	}
}

// blasNN maps gemmNN's strided A onto a BLAS transpose flag.
func blasNN(m, k, ars, acs int) (blas.Transpose, int) {
	if acs == 1 && (ars != 1 || k == 1 || m == 1) {
		return blas.NoTrans, max(ars, k)
	}
	return blas.Trans, max(acs, m)
}

func gonumSgemmNN(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	tA, lda := blasNN(m, k, ars, acs)
	beta := float32(0)
	if acc {
		beta = 1
	}
	gonum.Implementation{}.Sgemm(tA, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

func gonumSgemmNT(m, n, k, nb int, a []float32, lda, sa int, b []float32, ldb, sb int, c []float32, ldc int, acc bool) {
	for s := 0; s < nb; s++ {
		beta := float32(1)
		if s == 0 && !acc {
			beta = 0
		}
		gonum.Implementation{}.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a[s*sa:], lda, b[s*sb:], ldb, beta, c, ldc)
	}
}

func gonumDgemmNN(m, n, k int, a []float64, ars, acs int, b []float64, ldb int, c []float64, ldc int, acc bool) {
	tA, lda := blasNN(m, k, ars, acs)
	beta := 0.0
	if acc {
		beta = 1
	}
	gonum.Implementation{}.Dgemm(tA, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

func gonumDgemmNT(m, n, k, nb int, a []float64, lda, sa int, b []float64, ldb, sb int, c []float64, ldc int, acc bool) {
	for s := 0; s < nb; s++ {
		beta := 1.0
		if s == 0 && !acc {
			beta = 0
		}
		gonum.Implementation{}.Dgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a[s*sa:], lda, b[s*sb:], ldb, beta, c, ldc)
	}
}

func copyRowsGo[T float](dst []T, ds int, src []T, ss, rows, width int) {
	for i := 0; i < rows; i++ {
		copy(dst[i*ds:i*ds+width], src[i*ss:i*ss+width])
	}
}

func addRowsGo[T float](dst []T, ds int, src []T, ss, rows, width int) {
	for i := 0; i < rows; i++ {
		d, s := dst[i*ds:i*ds+width], src[i*ss:i*ss+width]
		for j := range s {
			d[j] += s[j]
		}
	}
}
