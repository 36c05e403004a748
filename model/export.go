package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"gorgonia.org/tensor"

	"sweep"
	"sweep/mnist"
	"sweep/safetensors"
)

// The trained model as an artifact: a safetensors file whose tensor names
// and shapes are those of the notebook's PyTorch module, so that
// model.load_state_dict(safetensors.torch.load_file(path)) fills it:
//
//	conv1.weight [C1, 1, 5, 5]   conv1.bias [C1]
//	conv2.weight [C2, C1, 5, 5]  conv2.bias [C2]
//	fc1.weight   [H, 16·C2]      fc1.bias   [H]
//	fc2.weight   [10, H]         fc2.bias   [10]
//	sum_hidden.weight [S, 20]    sum_hidden.bias [S]     (sum_hidden S > 0 only)
//	sum_out.weight    [O, in]    sum_out.bias    [O]     (O = 1 regression, 19 classify;
//	                                                      in = S, or 20 without a hidden layer)
//
// Linear weights are stored [out, in] as torch.nn.Linear keeps them (the
// model multiplies x·W with W [in, out]: they are transposed on the way
// out and back). The sum head's input is the 10 digit log-probabilities
// (or probabilities, with sum_input "probs") followed by the one-hot
// addend. The metadata holds "format": "pt" and "settings": the run's
// resolved settings as JSON (sweep.Settings' field names).

// exportNames maps the model's parameter names to the PyTorch module's,
// and says whether the tensor is a linear weight to transpose.
var exportNames = map[string]struct {
	name      string
	transpose bool
}{
	"trunk.conv1.w": {"conv1.weight", false}, "trunk.conv1.b": {"conv1.bias", false},
	"trunk.conv2.w": {"conv2.weight", false}, "trunk.conv2.b": {"conv2.bias", false},
	"trunk.fc1.w": {"fc1.weight", true}, "trunk.fc1.b": {"fc1.bias", false},
	"trunk.fc2.w": {"fc2.weight", true}, "trunk.fc2.b": {"fc2.bias", false},
	"sum.hidden.w": {"sum_hidden.weight", true}, "sum.hidden.b": {"sum_hidden.bias", false},
	"sum.out.w": {"sum_out.weight", true}, "sum.out.b": {"sum_out.bias", false},
}

// ExportWeights writes the weights of a checkpoint of a run with settings
// s (Trainer.Checkpoint) as a PyTorch-named safetensors file, in float32.
func ExportWeights(w io.Writer, s sweep.Settings, checkpoint []byte) error {
	s = s.Resolved()
	ckpt, _, err := safetensors.Read(bytes.NewReader(checkpoint))
	if err != nil {
		return fmt.Errorf("model: export weights: %w", err)
	}
	var out []safetensors.Tensor
	for _, p := range append(trunkParams(s), sumHeadParams(s.Head, s.SumHidden)...) {
		t, err := safetensors.Find(ckpt, p.name)
		if err != nil {
			return fmt.Errorf("model: export weights: %w", err)
		}
		vals := t.F32
		if vals == nil {
			vals = make([]float32, len(t.F64))
			for i, v := range t.F64 {
				vals[i] = float32(v)
			}
		}
		e := exportNames[p.name]
		shape := slices.Clone(t.Shape)
		if e.transpose {
			vals, shape = transpose(vals, shape[0], shape[1]), []int{shape[1], shape[0]}
		}
		out = append(out, safetensors.Tensor{Name: e.name, Shape: shape, F32: vals})
	}
	settings, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := safetensors.Write(w, out, map[string]string{"format": "pt", "settings": string(settings)}); err != nil {
		return fmt.Errorf("model: export weights: %w", err)
	}
	return nil
}

// transpose returns the rows×cols matrix m as cols×rows.
func transpose(m []float32, rows, cols int) []float32 {
	out := make([]float32, len(m))
	for i := range rows {
		for j := range cols {
			out[j*rows+i] = m[i*cols+j]
		}
	}
	return out
}

// Prediction is the model's answer for one image and addend.
type Prediction struct {
	Digit     int     // the most likely digit
	DigitProb float64 // its probability
	Sum       float64 // regression: the output; classify: the most likely sum
	SumProb   float64 // classify: that sum's probability; NaN for regression
}

// Predictor answers for images with trained weights.
type Predictor struct {
	Settings sweep.Settings
	t        *Trainer
}

// LoadPredictor reads weights written by ExportWeights.
func LoadPredictor(r io.Reader) (*Predictor, error) {
	tensors, meta, err := safetensors.Read(r)
	if err != nil {
		return nil, fmt.Errorf("model: load weights: %w", err)
	}
	var s sweep.Settings
	if err := json.Unmarshal([]byte(meta["settings"]), &s); err != nil {
		return nil, fmt.Errorf("model: load weights: metadata \"settings\": %w", err)
	}
	t, err := NewTrainer(Config{Settings: s})
	if err != nil {
		return nil, fmt.Errorf("model: load weights: %w", err)
	}
	for _, n := range t.learn {
		e := exportNames[n.Name()]
		st, err := safetensors.Find(tensors, e.name)
		if err != nil {
			return nil, fmt.Errorf("model: load weights: %w", err)
		}
		if st.F32 == nil {
			return nil, fmt.Errorf("model: load weights: %s is not float32", e.name)
		}
		vals, shape := st.F32, st.Shape
		if e.transpose && len(shape) == 2 {
			vals, shape = transpose(vals, shape[0], shape[1]), []int{shape[1], shape[0]}
		}
		d := n.Value().(*tensor.Dense)
		if !tensor.Shape(shape).Eq(d.Shape()) {
			return nil, fmt.Errorf("model: load weights: %s has shape %v, the settings' model %v", e.name, st.Shape, d.Shape())
		}
		copy(d.Float32s(), vals)
	}
	return &Predictor{Settings: t.cfg.Settings, t: t}, nil
}

// Predict answers for each image (MNIST's 28×28 bytes, mnist.FromImage)
// with its addend.
func (p *Predictor) Predict(images [][]byte, addends []byte) ([]Prediction, error) {
	if len(images) != len(addends) {
		return nil, fmt.Errorf("model: predict: %d images, %d addends", len(images), len(addends))
	}
	set := &mnist.Set{Images: make([]byte, 0, len(images)*mnist.Pixels), Labels: make([]byte, len(images))}
	for i, img := range images {
		if len(img) != mnist.Pixels {
			return nil, fmt.Errorf("model: predict: image %d has %d pixels, want %d", i, len(img), mnist.Pixels)
		}
		set.Images = append(set.Images, img...)
	}
	return p.t.Predict(Split{Set: set, Addends: addends})
}

// Predict runs the current weights on every example of split.
func (t *Trainer) Predict(split Split) ([]Prediction, error) {
	if err := t.syncEval(); err != nil {
		return nil, err
	}
	net := t.eval
	out := make([]Prediction, 0, split.Len())
	idx := make([]int, 0, net.batch)
	for start := 0; start < split.Len(); start += net.batch {
		idx = idx[:0]
		for i := start; i < start+net.batch && i < split.Len(); i++ {
			idx = append(idx, i)
		}
		net.fill(split, idx)
		err := t.evalVM.RunAll()
		t.evalVM.Reset()
		if err != nil {
			return nil, fmt.Errorf("model: predict: %w", err)
		}
		digits, sums := floats(net.digitsRead.Data()), floats(net.sumsRead.Data())
		width := len(sums) / net.batch
		for k := range idx {
			d := digits[k*10 : (k+1)*10]
			best := argmax(d)
			p := Prediction{Digit: best, DigitProb: math.Exp(d[best]), SumProb: math.NaN()}
			s := sums[k*width : (k+1)*width]
			if width == 1 {
				p.Sum = s[0]
			} else {
				c := argmax(s)
				p.Sum, p.SumProb = float64(c), math.Exp(s[c])
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// ExportNames lists the exported tensors' names for settings s, in file
// order.
func ExportNames(s sweep.Settings) []string {
	var names []string
	for _, p := range append(trunkParams(s.Resolved()), sumHeadParams(s.Head, s.SumHidden)...) {
		names = append(names, exportNames[p.name].name)
	}
	return names
}
