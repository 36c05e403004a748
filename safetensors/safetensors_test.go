package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

func sample() []Tensor {
	return []Tensor{
		{Name: "conv1.weight", Shape: []int{2, 1, 2, 2}, F32: []float32{1, -2, 3.5, 0, 1e-8, -0, float32(math.Inf(1)), 7}},
		{Name: "conv1.bias", Shape: []int{2}, F32: []float32{0.25, -0.5}},
		{Name: "scale", Shape: []int{}, F64: []float64{math.Pi}},
	}
}

// TestWriteParsesIndependently reads a written file with nothing but
// encoding/binary and encoding/json: the header's length, its alignment,
// each tensor's dtype, shape and offsets, that they cover the data
// exactly, and the values' bytes.
func TestWriteParsesIndependently(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sample(), map[string]string{"format": "pt", "head": "classify"}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b[:8])
	if (8+n)%8 != 0 {
		t.Errorf("data starts at %d: not 8-byte aligned", 8+n)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		t.Fatalf("header is not JSON: %v\n%s", err, b[8:8+n])
	}
	var meta map[string]string
	if err := json.Unmarshal(header["__metadata__"], &meta); err != nil || meta["head"] != "classify" || meta["format"] != "pt" {
		t.Errorf("metadata %v (%v)", meta, err)
	}
	data := b[8+n:]
	want := map[string]struct {
		dtype  string
		shape  []int
		offset [2]int
	}{
		"conv1.weight": {"F32", []int{2, 1, 2, 2}, [2]int{0, 32}},
		"conv1.bias":   {"F32", []int{2}, [2]int{32, 40}},
		"scale":        {"F64", []int{}, [2]int{40, 48}},
	}
	if len(data) != 48 || len(header) != 4 {
		t.Fatalf("%d bytes of data, %d header entries; want 48 and 4", len(data), len(header))
	}
	for name, w := range want {
		var e struct {
			Dtype       string `json:"dtype"`
			Shape       []int  `json:"shape"`
			DataOffsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(header[name], &e); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.Dtype != w.dtype || !slices.Equal(e.Shape, w.shape) || e.DataOffsets != w.offset {
			t.Errorf("%s: %+v, want %+v", name, e, w)
		}
	}
	if got := math.Float32frombits(binary.LittleEndian.Uint32(data[8:])); got != 3.5 {
		t.Errorf("conv1.weight[2] = %v, want 3.5", got)
	}
	if got := math.Float64frombits(binary.LittleEndian.Uint64(data[40:])); got != math.Pi {
		t.Errorf("scale = %v, want π", got)
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	in := sample()
	if err := Write(&buf, in, nil); err != nil {
		t.Fatal(err)
	}
	out, meta, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if meta != nil || len(out) != len(in) {
		t.Fatalf("meta %v, %d tensors", meta, len(out))
	}
	for i := range in {
		a, b := in[i], out[i]
		if a.Name != b.Name || !slices.Equal(a.Shape, b.Shape) || !slices.Equal(a.F64, b.F64) ||
			len(a.F32) != len(b.F32) {
			t.Errorf("tensor %d: %+v, read back %+v", i, a, b)
		}
		for k := range a.F32 {
			if math.Float32bits(a.F32[k]) != math.Float32bits(b.F32[k]) {
				t.Errorf("%s[%d]: %v read back as %v", a.Name, k, a.F32[k], b.F32[k])
			}
		}
	}
	if _, err := Find(out, "conv1.bias"); err != nil {
		t.Error(err)
	}
	if _, err := Find(out, "nope"); err == nil {
		t.Error("Find of a missing tensor: no error")
	}
}

// TestReadRejects: files that break a rule of the format.
func TestReadRejects(t *testing.T) {
	file := func(header string, data int) []byte {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
		return append(append(n[:], header...), make([]byte, data)...)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, 12), "without gaps"},
		{"short", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4), "offsets [0, 4] for 2 values"},
		{"past the end", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), "past the 4 bytes"},
		{"trailing data", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8), "cover 4"},
		{"dtype", file(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, 8), `dtype "I64"`},
		{"not json", file(`{"a":`, 0), "header"},
		{"truncated", []byte{1, 0}, "header length"},
		{"huge header", file("", 0)[:0], "header length"},
	} {
		_, _, err := Read(bytes.NewReader(tc.b))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
}
