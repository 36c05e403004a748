//go:build (!amd64 || purego) && !openblas

package model

// gemmCutExact: gonum computes each element of a product alike whatever
// the product's shape, so the workers may cut products into blocks.
const gemmCutExact = true

// gemmBackend names the matrix-product implementation of this build.
func gemmBackend() string { return "gonum" }

func sgemmNN(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	gonumSgemmNN(m, n, k, a, ars, acs, b, ldb, c, ldc, acc)
}

func sgemmNT(m, n, k, nb int, a []float32, lda, sa int, b []float32, ldb, sb int, c []float32, ldc int, acc bool) {
	gonumSgemmNT(m, n, k, nb, a, lda, sa, b, ldb, sb, c, ldc, acc)
}

func dgemmNN(m, n, k int, a []float64, ars, acs int, b []float64, ldb int, c []float64, ldc int, acc bool) {
	gonumDgemmNN(m, n, k, a, ars, acs, b, ldb, c, ldc, acc)
}

func dgemmNT(m, n, k, nb int, a []float64, lda, sa int, b []float64, ldb, sb int, c []float64, ldc int, acc bool) {
	gonumDgemmNT(m, n, k, nb, a, lda, sa, b, ldb, sb, c, ldc, acc)
}
