//go:build amd64 && !openblas && !purego

package model

// gemmCutExact: the kernels (and gonum) compute each element of a product
// alike whatever the product's shape (blocks of 4 columns for sgemmNT at
// least), so the workers may cut products into blocks.
const gemmCutExact = true

// gemmBackend names the matrix-product implementation in use.
func gemmBackend() string {
	switch {
	case hasAVX512:
		return "avx512"
	case hasAVX2FMA:
		return "avx2"
	}
	return "gonum"
}

//go:noescape
func sgemmNN4x16(k, nt int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, acc int)

//go:noescape
func sgemmNN6x16(k, nt int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, acc int)

//go:noescape
func sgemmNN4x32(k, nt int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, acc int)

//go:noescape
func sgemmNN6x32(k, nt int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, acc int)

//go:noescape
func sgemmNT2x4(k8, kr, nb, nt int, a *float32, lda, sa int, b *float32, ldb, sb int, c *float32, ldc int, acc int, mask *int32)

//go:noescape
func sgemmNT4x4z(k16, kr, nb, nt int, a *float32, lda, sa int, b *float32, ldb, sb int, c *float32, ldc int, acc int, mask int, mq int)

//go:noescape
func sgemmNT2x4z(k16, kr, nb, nt int, a *float32, lda, sa int, b *float32, ldb, sb int, c *float32, ldc int, acc int, mask int, mp int)

// sgemmNN tiles C into blocks of 6 or 4 rows by 32 (AVX-512) or 16
// columns for the kernels: an even m ≥ 4 is a sum of sixes and fours
// exactly. All four kernels compute every element alike, so how C is
// tiled (and how the workers share it out) changes no result. An odd last
// row, or a last partial block of columns, is recomputed as an overlapping
// full block when C is overwritten (the overlap gets the same values
// again); when accumulating, the odd row runs alone (the kernel's four rows
// all alias it) and tail columns in plain Go.
func sgemmNN(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	if !hasAVX2FMA || m < 4 || n < 16 {
		gonumSgemmNN(m, n, k, a, ars, acs, b, ldb, c, ldc, acc)
		return
	}
	fa := b2i(acc)
	even := m &^ 1
	fours := (3 - even/2%3) % 3 // even = 6·sixes + 4·fours with fours ≤ 2
	sixes := (even - 4*fours) / 6
	type kernel = func(k, nt int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, acc int)
	// rows runs nt tiles of columns from j with the kernels k6 and k4.
	rows := func(j, nt int, k6, k4 kernel) {
		i := 0
		for ; i < 6*sixes; i += 6 {
			k6(k, nt, &a[i*ars], ars, acs, &b[j], ldb, &c[i*ldc+j], ldc, fa)
		}
		for ; i < even; i += 4 {
			k4(k, nt, &a[i*ars], ars, acs, &b[j], ldb, &c[i*ldc+j], ldc, fa)
		}
		if m == even {
			return
		}
		if i = m - 1; !acc {
			i = m - 4
			k4(k, nt, &a[i*ars], ars, acs, &b[j], ldb, &c[i*ldc+j], ldc, 0)
			return
		}
		k4(k, nt, &a[i*ars], 0, acs, &b[j], ldb, &c[i*ldc+j], 0, 1)
	}
	nt := n / 16
	if hasAVX512 && nt >= 2 {
		rows(0, nt/2, sgemmNN6x32, sgemmNN4x32)
		if nt%2 != 0 {
			rows(32*(nt/2), 1, sgemmNN6x16, sgemmNN4x16)
		}
	} else {
		rows(0, nt, sgemmNN6x16, sgemmNN4x16)
	}
	if n%16 == 0 {
		return
	}
	if !acc {
		rows(n-16, 1, sgemmNN6x16, sgemmNN4x16)
		return
	}
	for i := 0; i < m; i++ {
		for j := nt * 16; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*ars+p*acs] * b[p*ldb+j]
			}
			c[i*ldc+j] += s
		}
	}
}

// ntCache is the number of float32s (512 KiB) that sgemmNT keeps in the
// L2 cache while the kernel sweeps them repeatedly.
const ntCache = 128 << 10

// sgemmNT tiles C into 2×4 blocks of dot products, each over k (a masked
// last step of 1–7, or with AVX-512 and k ≥ 16 steps of 16 and a last of
// 1–15) and a run of samples. An odd last row runs with both
// kernel rows aliasing it. A last partial block of columns runs as a full
// block overlapping the one before into a scratch block, whose new
// columns go to C.
//
// Loop order keeps the data in cache: when A (all samples) fits, the
// column blocks are the outer loop, so each block of B is read once and A
// stays cached; otherwise the samples go in runs whose A (twice over)
// fits, summing into C run by run.
func sgemmNT(m, n, k, nb int, a []float32, lda, sa int, b []float32, ldb, sb int, c []float32, ldc int, acc bool) {
	if !hasAVX2FMA || n < 4 {
		gonumSgemmNT(m, n, k, nb, a, lda, sa, b, ldb, sb, c, ldc, acc)
		return
	}
	var mask [8]int32
	for p := range k % 8 {
		mask[p] = -1
	}
	k8, kr := k/8, k%8
	// The AVX-512 kernel: 16 lanes, the tail's lanes in a bit mask.
	wide := hasAVX512 && k >= 16
	k16, kr16, mask16 := k/16, k%16, 1<<(k%16)-1
	// rows runs the kernel for samples s0..s0+ns-1 and the nt column blocks
	// from j0 on, into C' (row stride ldc2) at c2: the pairs of rows (on
	// AVX-512 the quads in one call, then a last pair), then an odd last
	// row with both of the kernel's rows aliasing it.
	rows := func(s0, ns, j0, nt int, c2 []float32, ldc2, fa int) {
		bj := &b[s0*sb+j0*ldb]
		if wide && m >= 4 {
			sgemmNT4x4z(k16, kr16, ns, nt, &a[s0*sa], lda, sa, bj, ldb, sb, &c2[0], ldc2, fa, mask16, m/4)
		}
		if i := m / 4 * 4; wide && m%4 >= 2 {
			sgemmNT2x4z(k16, kr16, ns, nt, &a[s0*sa+i*lda], lda, sa, bj, ldb, sb, &c2[i*ldc2], ldc2, fa, mask16, 1)
		}
		for i := 0; i+2 <= m && !wide; i += 2 {
			sgemmNT2x4(k8, kr, ns, nt, &a[s0*sa+i*lda], lda, sa, bj, ldb, sb, &c2[i*ldc2], ldc2, fa, &mask[0])
		}
		if m%2 == 0 {
			return
		}
		i := m - 1
		if wide {
			sgemmNT2x4z(k16, kr16, ns, nt, &a[s0*sa+i*lda], 0, sa, bj, ldb, sb, &c2[i*ldc2], 0, fa, mask16, 1)
			return
		}
		sgemmNT2x4(k8, kr, ns, nt, &a[s0*sa+i*lda], 0, sa, bj, ldb, sb, &c2[i*ldc2], 0, fa, &mask[0])
	}
	nt := n / 4
	var tmp []float32
	if n%4 != 0 {
		var buf [256]float32
		if 4*m <= len(buf) {
			tmp = buf[:4*m]
		} else {
			tmp = make([]float32, 4*m)
		}
	}
	// tail adds (or, first, copies) the partial block's new columns from tmp.
	tail := func(first bool) {
		for i := 0; i < m; i++ {
			for j := 4*nt - (n - 4); j < 4; j++ {
				if first {
					c[i*ldc+n-4+j] = tmp[4*i+j]
				} else {
					c[i*ldc+n-4+j] += tmp[4*i+j]
				}
			}
		}
	}
	if m*k*nb <= ntCache {
		for t := 0; t < nt; t++ {
			rows(0, nb, 4*t, 1, c[4*t:], ldc, b2i(acc))
		}
		if tmp != nil {
			rows(0, nb, n-4, 1, tmp, 4, 0)
			tail(!acc)
		}
		return
	}
	// The run does not depend on n, so a block of columns is summed in the
	// same order however the columns are shared out (see workers).
	run := max(1, ntCache/(2*m*k))
	for s0 := 0; s0 < nb; s0 += run {
		ns := min(run, nb-s0)
		rows(s0, ns, 0, nt, c, ldc, b2i(acc || s0 > 0))
		if tmp != nil {
			rows(s0, ns, n-4, 1, tmp, 4, 0)
			tail(!acc && s0 == 0)
		}
	}
}

func dgemmNN(m, n, k int, a []float64, ars, acs int, b []float64, ldb int, c []float64, ldc int, acc bool) {
	gonumDgemmNN(m, n, k, a, ars, acs, b, ldb, c, ldc, acc)
}

func dgemmNT(m, n, k, nb int, a []float64, lda, sa int, b []float64, ldb, sb int, c []float64, ldc int, acc bool) {
	gonumDgemmNT(m, n, k, nb, a, lda, sa, b, ldb, sb, c, ldc, acc)
}
