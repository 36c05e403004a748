//go:build amd64 && !openblas && !purego

package model

import "testing"

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
