package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// param is one learnable tensor: its name, shape and fan-in (for
// initialisation).
type param struct {
	name  string
	shape tensor.Shape
	fanIn int
}

// Params holds the values of every learnable tensor, keyed by name, outside
// any graph. A training graph and an evaluation graph each bind their own
// copies; CopyTo moves trained values across.
type Params struct {
	dtype  tensor.Dtype
	order  []param
	values map[string]*tensor.Dense
}

// newParams initialises the given tensors the way PyTorch initialises Conv2d
// and Linear layers: weights and biases uniform in ±1/sqrt(fan_in). The draw
// order is fixed, so a seed gives the same weights everywhere.
func newParams(dt tensor.Dtype, seed int64, specs []param) (*Params, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x1417))
	p := &Params{dtype: dt, order: specs, values: make(map[string]*tensor.Dense, len(specs))}
	for _, s := range specs {
		bound := 1 / math.Sqrt(float64(s.fanIn))
		n := s.shape.TotalSize()
		var backing any
		switch dt {
		case tensor.Float32:
			v := make([]float32, n)
			for i := range v {
				v[i] = float32((2*rng.Float64() - 1) * bound)
			}
			backing = v
		case tensor.Float64:
			v := make([]float64, n)
			for i := range v {
				v[i] = (2*rng.Float64() - 1) * bound
			}
			backing = v
		default:
			return nil, fmt.Errorf("model: dtype %v: want Float32 or Float64", dt)
		}
		if _, dup := p.values[s.name]; dup {
			return nil, fmt.Errorf("model: parameter %q declared twice", s.name)
		}
		p.values[s.name] = tensor.New(tensor.WithShape(s.shape...), tensor.WithBacking(backing))
	}
	return p, nil
}

// Clone returns a deep copy.
func (p *Params) Clone() *Params {
	c := &Params{dtype: p.dtype, order: p.order, values: make(map[string]*tensor.Dense, len(p.values))}
	for k, v := range p.values {
		c.values[k] = v.Clone().(*tensor.Dense)
	}
	return c
}

// Count is the number of learnable scalars.
func (p *Params) Count() int {
	n := 0
	for _, v := range p.values {
		n += v.Shape().TotalSize()
	}
	return n
}

// Values returns every parameter's values in declaration order as float64,
// for tests and checksums.
func (p *Params) Values() []float64 {
	var out []float64
	for _, s := range p.order {
		out = append(out, floats(p.values[s.name].Data())...)
	}
	return out
}

// floats converts a float32 or float64 backing slice to float64.
func floats(data any) []float64 {
	switch d := data.(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	case float32:
		return []float64{float64(d)}
	case float64:
		return []float64{d}
	}
	panic(fmt.Sprintf("model: unexpected backing %T", data))
}
