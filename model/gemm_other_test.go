//go:build !amd64 || openblas || purego

package model

import "testing"

// forEachKernelPath runs f on this build's one path.
func forEachKernelPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	t.Run(gemmBackend(), f)
}
