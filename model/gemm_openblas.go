//go:build openblas

package model

// The openblas build (go build -tags openblas; needs libopenblas-dev and
// cgo) computes every product of the fast ops with OpenBLAS's cblas_sgemm
// and cblas_dgemm. OpenBLAS runs single-threaded unless
// OPENBLAS_NUM_THREADS says otherwise: a sweep runs its jobs in parallel
// processes, and these products are too small to split.

/*
#cgo LDFLAGS: -lopenblas
#include <stdlib.h>
#include <cblas-openblas.h>

static void sweep_openblas_init(void) {
	if (getenv("OPENBLAS_NUM_THREADS") == NULL) {
		openblas_set_num_threads(1);
	}
}
*/
import "C"

import "gonum.org/v1/gonum/blas"

func init() { C.sweep_openblas_init() }

// gemmCutExact is false: OpenBLAS picks its kernels and blocking by a
// product's shape, so a block of rows or columns computed alone may round
// differently from the same block inside the whole product. The workers
// then leave products whole (see convWeightGrad, linearState.rows).
const gemmCutExact = false

// gemmBackend names the matrix-product implementation of this build.
func gemmBackend() string { return "openblas" }

func cblasTrans(t blas.Transpose) C.enum_CBLAS_TRANSPOSE {
	if t == blas.Trans {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

func sgemmNN(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	tA, lda := blasNN(m, k, ars, acs)
	beta := C.float(0)
	if acc {
		beta = 1
	}
	C.cblas_sgemm(C.CblasRowMajor, cblasTrans(tA), C.CblasNoTrans, C.blasint(m), C.blasint(n), C.blasint(k),
		1, (*C.float)(&a[0]), C.blasint(lda), (*C.float)(&b[0]), C.blasint(ldb), beta, (*C.float)(&c[0]), C.blasint(ldc))
}

func sgemmNT(m, n, k, nb int, a []float32, lda, sa int, b []float32, ldb, sb int, c []float32, ldc int, acc bool) {
	for s := 0; s < nb; s++ {
		beta := C.float(1)
		if s == 0 && !acc {
			beta = 0
		}
		C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasTrans, C.blasint(m), C.blasint(n), C.blasint(k),
			1, (*C.float)(&a[s*sa]), C.blasint(lda), (*C.float)(&b[s*sb]), C.blasint(ldb), beta, (*C.float)(&c[0]), C.blasint(ldc))
	}
}

func dgemmNN(m, n, k int, a []float64, ars, acs int, b []float64, ldb int, c []float64, ldc int, acc bool) {
	tA, lda := blasNN(m, k, ars, acs)
	beta := C.double(0)
	if acc {
		beta = 1
	}
	C.cblas_dgemm(C.CblasRowMajor, cblasTrans(tA), C.CblasNoTrans, C.blasint(m), C.blasint(n), C.blasint(k),
		1, (*C.double)(&a[0]), C.blasint(lda), (*C.double)(&b[0]), C.blasint(ldb), beta, (*C.double)(&c[0]), C.blasint(ldc))
}

func dgemmNT(m, n, k, nb int, a []float64, lda, sa int, b []float64, ldb, sb int, c []float64, ldc int, acc bool) {
	for s := 0; s < nb; s++ {
		beta := C.double(1)
		if s == 0 && !acc {
			beta = 0
		}
		C.cblas_dgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasTrans, C.blasint(m), C.blasint(n), C.blasint(k),
			1, (*C.double)(&a[s*sa]), C.blasint(lda), (*C.double)(&b[s*sb]), C.blasint(ldb), beta, (*C.double)(&c[0]), C.blasint(ldc))
	}
}
