package search

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// objective is a synthetic problem: its space, its noise-free value at a
// point (lower is better), the standard deviation of the noise added to
// what the search observes, and the known optimum.
type objective struct {
	name    string
	space   []Param
	f       func(x []float64) float64
	noise   float64
	optimum float64
}

// bowl is a 2-D quadratic bowl with its minimum 0 at (0.3, −1.2).
var bowl = objective{
	name:  "quadratic bowl",
	space: []Param{{Name: "x", Kind: Uniform, Lo: -5, Hi: 5}, {Name: "y", Kind: Uniform, Lo: -5, Hi: 5}},
	f: func(x []float64) float64 {
		return (x[0]-0.3)*(x[0]-0.3) + (x[1]+1.2)*(x[1]+1.2)
	},
}

// branin is the Branin function on [−5, 10] × [0, 15] (minimum 0.397887
// at three points), observed with Gaussian noise of standard deviation 0.5.
var branin = objective{
	name:    "noisy Branin",
	space:   []Param{{Name: "x1", Kind: Uniform, Lo: -5, Hi: 10}, {Name: "x2", Kind: Uniform, Lo: 0, Hi: 15}},
	noise:   0.5,
	optimum: 0.397887,
	f: func(x []float64) float64 {
		a, b, c := 1.0, 5.1/(4*math.Pi*math.Pi), 5/math.Pi
		r, s, t := 6.0, 10.0, 1/(8*math.Pi)
		return a*math.Pow(x[1]-b*x[0]*x[0]+c*x[0]-r, 2) + s*(1-t)*math.Cos(x[0]) + s
	},
}

// bestAfter runs a sequential search of n trials from seed, which observes
// the objective with its noise, and returns the best noise-free value it
// found: TPE when tpe is set, random search otherwise.
func bestAfter(o objective, n int, seed uint64, tpe bool) float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	noise := rand.New(rand.NewPCG(seed, 2))
	s := TPE{Space: o.space, Minimize: true}
	var history []Trial
	best := math.Inf(1)
	for range n {
		var x []float64
		if tpe {
			var err error
			if x, err = s.Suggest(history, rng); err != nil {
				panic(err)
			}
		} else {
			x = Random(o.space, rng)
		}
		history = append(history, Trial{Values: x, Value: o.f(x) + o.noise*noise.NormFloat64()})
		best = min(best, o.f(x))
	}
	return best
}

func quartiles(xs []float64) (q1, med, q3 float64) {
	s := slices.Clone(xs)
	sort.Float64s(s)
	at := func(p float64) float64 { return s[int(math.Round(p*float64(len(s)-1)))] }
	return at(0.25), at(0.5), at(0.75)
}

// TestTPEBeatsRandom is the sampler's acceptance: on a quadratic bowl and
// a noisy Branin function, over 10 sweep seeds of 30 trials each (10 of
// them random start-up trials), TPE's median best-after-30 is better than
// random search's with the same budget, and so is its upper quartile.
func TestTPEBeatsRandom(t *testing.T) {
	for _, o := range []objective{bowl, branin} {
		var tpe, rnd []float64
		for seed := uint64(1); seed <= 10; seed++ {
			tpe = append(tpe, bestAfter(o, 30, seed, true)-o.optimum)
			rnd = append(rnd, bestAfter(o, 30, seed, false)-o.optimum)
		}
		t1, tm, t3 := quartiles(tpe)
		r1, rm, r3 := quartiles(rnd)
		t.Logf("%s, best-after-30 minus the optimum over 10 seeds: TPE median %.4f (quartiles %.4f–%.4f), random %.4f (%.4f–%.4f)",
			o.name, tm, t1, t3, rm, r1, r3)
		if !(tm < rm) || !(t3 < r3) {
			t.Errorf("%s: TPE (median %.4f, q3 %.4f) is not better than random search (median %.4f, q3 %.4f)", o.name, tm, t3, rm, r3)
		}
	}
}

// TestTPEDeterministic: the same seed and history give the same
// suggestion; another seed another one.
func TestTPEDeterministic(t *testing.T) {
	s := TPE{Space: []Param{
		{Name: "lr", Kind: LogUniform, Lo: 1e-4, Hi: 1e-1},
		{Name: "hidden", Kind: IntUniform, Lo: 0, Hi: 128},
		{Name: "opt", Kind: Choice, Choices: []string{"adam", "sgd"}},
	}, StartupTrials: 3}
	var history []Trial
	rng := rand.New(rand.NewPCG(5, 0))
	for i := range 12 {
		x, err := s.Suggest(history, rng)
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, Trial{Values: x, Value: math.Log(x[0]) + x[1]/100 + x[2]*float64(i%3)})
	}
	a, _ := s.Suggest(history, rand.New(rand.NewPCG(9, 9)))
	b, _ := s.Suggest(history, rand.New(rand.NewPCG(9, 9)))
	c, _ := s.Suggest(history, rand.New(rand.NewPCG(10, 9)))
	if !slices.Equal(a, b) {
		t.Errorf("same seed and history: %v and %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("another seed gave the same suggestion %v", a)
	}
	for _, x := range [][]float64{a, c} {
		if x[0] < 1e-4 || x[0] > 1e-1 || x[1] != math.Round(x[1]) || x[1] < 0 || x[1] > 128 || (x[2] != 0 && x[2] != 1) {
			t.Errorf("suggestion %v is outside the space", x)
		}
	}
}

// TestConstantLiar: trials still training count as the worst value, so
// they land among the bad trials whatever their (meaningless) Value.
func TestConstantLiar(t *testing.T) {
	s := TPE{Space: []Param{{Name: "x", Kind: Uniform, Lo: 0, Hi: 1}}, Minimize: true}
	var history []Trial
	for i := range 20 {
		history = append(history, Trial{Values: []float64{float64(i) / 20}, Value: float64(i)})
	}
	// A running trial whose Value field happens to be the best.
	history = append(history, Trial{Values: []float64{0.99}, Value: -100, Running: true})
	good, bad := s.split(history)
	if len(good) != 3 { // ⌈21/10⌉
		t.Fatalf("%d good trials, want 3", len(good))
	}
	for _, g := range good {
		if g.Running {
			t.Error("a running trial is among the good ones")
		}
	}
	if !bad[len(bad)-1].Running {
		t.Error("the running trial is not ranked with the worst")
	}
}

func TestParamValidate(t *testing.T) {
	for _, p := range []Param{
		{Name: "a", Kind: Uniform, Lo: 2, Hi: 1},
		{Name: "b", Kind: LogUniform, Lo: 0, Hi: 1},
		{Name: "c", Kind: Choice},
		{Name: "d", Kind: Kind(9)},
	} {
		if p.Validate() == nil {
			t.Errorf("%+v: no error", p)
		}
	}
	if _, err := (TPE{Space: []Param{{Name: "x", Kind: Uniform, Lo: 0, Hi: 1}}}).Suggest([]Trial{{Values: []float64{1, 2}}}, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("a trial with two values in a one-parameter space: no error")
	}
}
