// Package safetensors reads and writes the safetensors format
// (huggingface/safetensors), the tensor file PyTorch users load with
// safetensors.torch.load_file:
//
//	8 bytes     N, the header's length, unsigned little-endian
//	N bytes     the header: a JSON object with one entry per tensor,
//	            {"dtype": "F32", "shape": [10, 1, 5, 5], "data_offsets": [begin, end]},
//	            and an optional "__metadata__" object of string values;
//	            padded with spaces so that the data starts 8-byte aligned
//	the rest    the data: each tensor's values, row-major, little-endian,
//	            at [begin, end) of this buffer; the tensors cover it exactly,
//	            without gaps or overlaps
//
// Only the float dtypes F32 and F64 are supported, which is all a sweep
// model has. Write lays tensors out in the order given; Read checks every
// rule above and returns them in file order.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// Tensor is one named tensor. Exactly one of F32 and F64 holds its values,
// as many as the product of Shape.
type Tensor struct {
	Name  string
	Shape []int
	F32   []float32
	F64   []float64
}

func (t Tensor) dtype() string {
	if t.F64 != nil {
		return "F64"
	}
	return "F32"
}

func (t Tensor) count() int {
	if t.F64 != nil {
		return len(t.F64)
	}
	return len(t.F32)
}

// entry is one tensor's header entry.
type entry struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// maxHeader bounds the header a reader accepts (100 MB, as the reference
// implementation does).
const maxHeader = 100 << 20

// Write writes tensors and metadata in the safetensors format.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: write: bad tensor name %q", t.Name)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("safetensors: write: tensor %q twice", t.Name)
		}
		if (t.F32 == nil) == (t.F64 == nil) {
			return fmt.Errorf("safetensors: write %s: want exactly one of F32 and F64", t.Name)
		}
		n := 1
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("safetensors: write %s: negative dimension in %v", t.Name, t.Shape)
			}
			n *= d
		}
		if n != t.count() {
			return fmt.Errorf("safetensors: write %s: shape %v holds %d values, got %d", t.Name, t.Shape, n, t.count())
		}
		size := int64(n) * 4
		if t.F64 != nil {
			size = int64(n) * 8
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = entry{Dtype: t.dtype(), Shape: shape, DataOffsets: [2]int64{offset, offset + size}}
		offset += size
	}
	hj, err := json.Marshal(header) // sorted keys: the same tensors give the same bytes
	if err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	if pad := (8 - len(hj)%8) % 8; pad > 0 {
		hj = append(hj, bytes.Repeat([]byte{' '}, pad)...)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(hj)))
	bw := &errWriter{w: w}
	bw.write(n[:])
	bw.write(hj)
	buf := make([]byte, 0, 64<<10)
	for _, t := range tensors {
		for _, v := range t.F32 {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			buf = bw.flushIfFull(buf)
		}
		for _, v := range t.F64 {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			buf = bw.flushIfFull(buf)
		}
	}
	bw.write(buf)
	if bw.err != nil {
		return fmt.Errorf("safetensors: write: %w", bw.err)
	}
	return nil
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *errWriter) flushIfFull(buf []byte) []byte {
	if len(buf) < cap(buf)-8 {
		return buf
	}
	e.write(buf)
	return buf[:0]
}

// Read parses a safetensors file, checking the header's length, its JSON,
// every tensor's dtype, shape and offsets, and that the tensors cover the
// data exactly. Tensors come back in the order of their data.
func Read(r io.Reader) ([]Tensor, map[string]string, error) {
	var n [8]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, nil, fmt.Errorf("safetensors: read header length: %w", err)
	}
	size := binary.LittleEndian.Uint64(n[:])
	if size > maxHeader {
		return nil, nil, fmt.Errorf("safetensors: header of %d bytes: more than %d", size, maxHeader)
	}
	hj := make([]byte, size)
	if _, err := io.ReadFull(r, hj); err != nil {
		return nil, nil, fmt.Errorf("safetensors: read header: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hj, &raw); err != nil {
		return nil, nil, fmt.Errorf("safetensors: header: %w", err)
	}
	var metadata map[string]string
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &metadata); err != nil {
			return nil, nil, fmt.Errorf("safetensors: __metadata__: want string values: %w", err)
		}
		delete(raw, "__metadata__")
	}
	type named struct {
		name string
		e    entry
	}
	var entries []named
	for name, msg := range raw {
		var e entry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		entries = append(entries, named{name, e})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].e.DataOffsets[0] < entries[j].e.DataOffsets[0] })
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: read data: %w", err)
	}
	var tensors []Tensor
	var at int64
	for _, ne := range entries {
		e := ne.e
		width := int64(4)
		switch e.Dtype {
		case "F32":
		case "F64":
			width = 8
		default:
			return nil, nil, fmt.Errorf("safetensors: tensor %q: dtype %q not supported (F32, F64)", ne.name, e.Dtype)
		}
		count := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("safetensors: tensor %q: shape %v", ne.name, e.Shape)
			}
			count *= int64(d)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		switch {
		case begin != at:
			return nil, nil, fmt.Errorf("safetensors: tensor %q starts at %d, want %d: the tensors must cover the data without gaps or overlaps", ne.name, begin, at)
		case end-begin != count*width:
			return nil, nil, fmt.Errorf("safetensors: tensor %q: offsets [%d, %d] for %d values of %s", ne.name, begin, end, count, e.Dtype)
		case end > int64(len(data)):
			return nil, nil, fmt.Errorf("safetensors: tensor %q ends at %d, past the %d bytes of data", ne.name, end, len(data))
		}
		t := Tensor{Name: ne.name, Shape: e.Shape}
		b := data[begin:end]
		if width == 4 {
			t.F32 = make([]float32, count)
			for i := range t.F32 {
				t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		} else {
			t.F64 = make([]float64, count)
			for i := range t.F64 {
				t.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
		}
		tensors = append(tensors, t)
		at = end
	}
	if at != int64(len(data)) {
		return nil, nil, fmt.Errorf("safetensors: %d bytes of data, the tensors cover %d", len(data), at)
	}
	return tensors, metadata, nil
}

// ErrNotFound is returned by Find for a missing tensor.
var ErrNotFound = errors.New("safetensors: no such tensor")

// Find returns the tensor with the given name.
func Find(tensors []Tensor, name string) (Tensor, error) {
	for _, t := range tensors {
		if t.Name == name {
			return t, nil
		}
	}
	return Tensor{}, fmt.Errorf("%w: %q", ErrNotFound, name)
}
