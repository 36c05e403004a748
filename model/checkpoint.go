package model

import (
	"bytes"
	"fmt"
	"strconv"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"sweep"
	"sweep/safetensors"
)

// A checkpoint is a run's state at the end of an epoch, enough to go on
// from there bit-identically to a run that never stopped: the weights and
// the optimiser's state (Adam's moments and step count, SGD's velocity).
// Nothing else is needed: an epoch's shuffling, dropout masks and shuffled
// pairing are drawn from the run's seed and the epoch number alone, and
// the addends from the seed.
//
// The format is safetensors (package safetensors), so any safetensors
// reader can open one: a tensor per parameter under its model name
// (trunk.conv1.w, …, as Params names them), "adam.m/NAME" and
// "adam.v/NAME" or "momentum.v/NAME" for the optimiser, and metadata
//
//	format    "sweep-checkpoint"
//	version   "1"
//	epoch     the last epoch trained
//	optimizer "adam" or "sgd"
//	step      Adam's step count
//	config    sweep.ConfigKey of the settings, and seed the seed: a
//	          checkpoint restores only into a run with the same ones
const (
	checkpointFormat  = "sweep-checkpoint"
	checkpointVersion = "1"
)

// Checkpoint returns the trainer's state after epoch, in the checkpoint
// format. The solvers of the stock ops (tests only) cannot be saved.
func (t *Trainer) Checkpoint(epoch int) ([]byte, error) {
	s := t.cfg.Settings
	meta := map[string]string{
		"format": checkpointFormat, "version": checkpointVersion,
		"epoch": strconv.Itoa(epoch), "optimizer": string(s.Optimizer),
		"config": sweep.ConfigKey(s), "seed": strconv.FormatInt(s.Seed, 10),
	}
	var tensors []safetensors.Tensor
	for _, n := range t.learn {
		tensors = append(tensors, denseTensor(n.Name(), n.Value().(*tensor.Dense)))
	}
	slots, err := t.solverSlots()
	if err != nil {
		return nil, err
	}
	for _, sl := range slots {
		if sl.step != nil {
			meta["step"] = strconv.Itoa(*sl.step)
		}
		for i, v := range *sl.values {
			if v == nil {
				continue // before the first step
			}
			name := sl.prefix + t.learn[i].Name()
			shape := []int(t.learn[i].Shape())
			switch x := v.(type) {
			case []float32:
				tensors = append(tensors, safetensors.Tensor{Name: name, Shape: shape, F32: x})
			case []float64:
				tensors = append(tensors, safetensors.Tensor{Name: name, Shape: shape, F64: x})
			}
		}
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, tensors, meta); err != nil {
		return nil, fmt.Errorf("model: checkpoint: %w", err)
	}
	return buf.Bytes(), nil
}

// Restore loads a checkpoint made by Checkpoint for the same settings and
// seed and returns the epoch it was taken after.
func (t *Trainer) Restore(blob []byte) (epoch int, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("model: restore checkpoint: %w", err)
		}
	}()
	tensors, meta, err := safetensors.Read(bytes.NewReader(blob))
	if err != nil {
		return 0, err
	}
	s := t.cfg.Settings
	switch {
	case meta["format"] != checkpointFormat || meta["version"] != checkpointVersion:
		return 0, fmt.Errorf("format %q version %q: want %q version %q", meta["format"], meta["version"], checkpointFormat, checkpointVersion)
	case meta["config"] != sweep.ConfigKey(s) || meta["seed"] != strconv.FormatInt(s.Seed, 10):
		return 0, fmt.Errorf("made for configuration %s seed %s, not this run's %s seed %d", meta["config"], meta["seed"], sweep.ConfigKey(s), s.Seed)
	}
	if epoch, err = strconv.Atoi(meta["epoch"]); err != nil || epoch < 1 {
		return 0, fmt.Errorf("epoch %q", meta["epoch"])
	}
	for _, n := range t.learn {
		if err := loadInto(tensors, n.Name(), n.Value().(*tensor.Dense)); err != nil {
			return 0, err
		}
	}
	slots, err := t.solverSlots()
	if err != nil {
		return 0, err
	}
	for _, sl := range slots {
		if sl.step != nil {
			if *sl.step, err = strconv.Atoi(meta["step"]); err != nil {
				return 0, fmt.Errorf("step %q", meta["step"])
			}
		}
		*sl.values = make([]any, len(t.learn))
		for i, n := range t.learn {
			st, err := safetensors.Find(tensors, sl.prefix+n.Name())
			if err != nil {
				continue // no step taken yet
			}
			if st.F32 != nil {
				(*sl.values)[i] = st.F32
			} else {
				(*sl.values)[i] = st.F64
			}
		}
	}
	return epoch, nil
}

// slot is one kind of per-parameter optimiser state, and the step count
// where the optimiser has one.
type slot struct {
	prefix string
	values *[]any
	step   *int
}

func (t *Trainer) solverSlots() ([]slot, error) {
	solver := t.solver
	if d, ok := solver.(*weightDecay); ok {
		solver = d.inner
	}
	switch s := solver.(type) {
	case *adamSolver:
		if s.m == nil {
			s.m, s.v = make([]any, len(t.learn)), make([]any, len(t.learn))
		}
		return []slot{{"adam.m/", &s.m, &s.iter}, {"adam.v/", &s.v, nil}}, nil
	case *momentumSolver:
		if s.v == nil {
			s.v = make([]any, len(t.learn))
		}
		return []slot{{"momentum.v/", &s.v, nil}}, nil
	}
	return nil, fmt.Errorf("solver %T has no checkpoint", t.solver)
}

func denseTensor(name string, d *tensor.Dense) safetensors.Tensor {
	st := safetensors.Tensor{Name: name, Shape: []int(d.Shape())}
	switch d.Dtype() {
	case tensor.Float64:
		st.F64 = d.Float64s()
	default:
		st.F32 = d.Float32s()
	}
	return st
}

// loadInto copies the named tensor's values into d, which must have its
// shape and dtype.
func loadInto(tensors []safetensors.Tensor, name string, d *tensor.Dense) error {
	st, err := safetensors.Find(tensors, name)
	if err != nil {
		return err
	}
	if !tensor.Shape(st.Shape).Eq(d.Shape()) {
		return fmt.Errorf("%s: shape %v, the model's %v", name, st.Shape, d.Shape())
	}
	switch {
	case d.Dtype() == tensor.Float32 && st.F32 != nil:
		copy(d.Float32s(), st.F32)
	case d.Dtype() == tensor.Float64 && st.F64 != nil:
		copy(d.Float64s(), st.F64)
	default:
		return fmt.Errorf("%s: dtype does not match the model's %v", name, d.Dtype())
	}
	return nil
}

var _ G.Solver = (*momentumSolver)(nil)
