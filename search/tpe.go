package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Param is one dimension of a search space.
type Param struct {
	Name string
	Kind Kind

	// Lo and Hi bound Uniform, LogUniform (both > 0) and IntUniform
	// (inclusive) parameters.
	Lo, Hi float64

	// Choices are the values of a Choice parameter; a trial's value of it is
	// the index of its choice.
	Choices []string
}

// Kind is how a parameter's values are distributed.
type Kind int

const (
	Uniform    Kind = iota // real, uniform in [Lo, Hi]
	LogUniform             // real, uniform in [log Lo, log Hi]
	IntUniform             // integer in [Lo, Hi]
	Choice                 // one of Choices, each equally likely a priori
)

// Validate says what is wrong with the parameter, if anything.
func (p Param) Validate() error {
	switch p.Kind {
	case Uniform, IntUniform:
		if !(p.Lo <= p.Hi) {
			return fmt.Errorf("search: %s: bounds [%v, %v]: want lo <= hi", p.Name, p.Lo, p.Hi)
		}
	case LogUniform:
		if !(p.Lo > 0 && p.Lo <= p.Hi) {
			return fmt.Errorf("search: %s: bounds [%v, %v]: want 0 < lo <= hi", p.Name, p.Lo, p.Hi)
		}
	case Choice:
		if len(p.Choices) == 0 {
			return fmt.Errorf("search: %s: no choices", p.Name)
		}
	default:
		return fmt.Errorf("search: %s: unknown kind %d", p.Name, p.Kind)
	}
	return nil
}

// Trial is one configuration of the search: a value per parameter (in
// the order of the space; a Choice's value is its index) and, once it has
// one, the objective's value (the mean over the configuration's seeds).
type Trial struct {
	Values  []float64
	Value   float64 // the objective; meaningless while Running
	Running bool    // still training: counts with a pessimistic value
}

// TPE is the tree-structured Parzen estimator of Bergstra et al. (2011),
// univariate, as Optuna's default TPESampler: after StartupTrials random
// configurations, it splits the trials into the best γ(n) = min(⌈n/10⌉,
// 25) ("good") and the rest, models each parameter's good and bad values
// with Parzen estimators l and g (a truncated Gaussian per value plus a
// prior over the whole range), draws Candidates values from l and keeps
// the one with the largest l/g.
//
// Trials still training enter the split as a "constant liar" with the
// worst value observed, so that workers suggesting while others train
// spread out rather than all sampling near the same good point.
//
// Zero values: StartupTrials 0 means 10, Candidates 0 means 24; Minimize
// false maximises the objective.
type TPE struct {
	Space         []Param
	StartupTrials int
	Candidates    int
	Minimize      bool
}

func (t TPE) startup() int {
	if t.StartupTrials <= 0 {
		return 10
	}
	return t.StartupTrials
}

func (t TPE) candidates() int {
	if t.Candidates <= 0 {
		return 24
	}
	return t.Candidates
}

// Suggest returns the next configuration's values, drawn with rng. It is a
// pure function of the space, the history and rng's state: the same seed
// and the same history give the same suggestion. Trials whose Value is not
// finite (diverged) count as the worst value observed.
func (t TPE) Suggest(history []Trial, rng *rand.Rand) ([]float64, error) {
	for _, p := range t.Space {
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	for i, tr := range history {
		if len(tr.Values) != len(t.Space) {
			return nil, fmt.Errorf("search: trial %d has %d values, the space %d parameters", i, len(tr.Values), len(t.Space))
		}
	}
	if len(history) < t.startup() {
		return Random(t.Space, rng), nil
	}
	good, bad := t.split(history)
	out := make([]float64, len(t.Space))
	for i, p := range t.Space {
		gv, bv := column(good, i), column(bad, i)
		if p.Kind == Choice {
			out[i] = suggestChoice(len(p.Choices), gv, bv, t.candidates(), rng)
			continue
		}
		lo, hi := p.Lo, p.Hi
		if p.Kind == IntUniform {
			lo, hi = lo-0.5, hi+0.5
		}
		tr := transform(p.Kind)
		l := newParzen(mapped(gv, tr.to), tr.to(lo), tr.to(hi))
		g := newParzen(mapped(bv, tr.to), tr.to(lo), tr.to(hi))
		best, bestScore := 0.0, math.Inf(-1)
		for range t.candidates() {
			x := l.sample(rng)
			if s := l.logPDF(x) - g.logPDF(x); s > bestScore {
				best, bestScore = x, s
			}
		}
		v := tr.from(best)
		if p.Kind == IntUniform {
			v = math.Round(v)
		}
		out[i] = min(max(v, p.Lo), p.Hi)
	}
	return out, nil
}

// split orders the trials best first (running ones and non-finite values
// last, as the worst) and returns the best γ(n) and the rest.
func (t TPE) split(history []Trial) (good, bad []Trial) {
	// The worst finite value: the largest when minimising, else the
	// smallest.
	worst := math.Inf(-1)
	if !t.Minimize {
		worst = math.Inf(1)
	}
	for _, tr := range history {
		if !tr.Running && !math.IsNaN(tr.Value) && !math.IsInf(tr.Value, 0) {
			if t.Minimize {
				worst = max(worst, tr.Value)
			} else {
				worst = min(worst, tr.Value)
			}
		}
	}
	if math.IsInf(worst, 0) {
		worst = 0
	}
	type scored struct {
		tr    Trial
		score float64 // lower is better
		order int
	}
	ss := make([]scored, len(history))
	for i, tr := range history {
		v := tr.Value
		if tr.Running || math.IsNaN(v) || math.IsInf(v, 0) {
			v = worst // the constant liar
		}
		if !t.Minimize {
			v = -v
		}
		ss[i] = scored{tr, v, i}
	}
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].score < ss[j].score })
	n := min(int(math.Ceil(0.1*float64(len(ss)))), 25)
	for i, s := range ss {
		if i < n {
			good = append(good, s.tr)
		} else {
			bad = append(bad, s.tr)
		}
	}
	return good, bad
}

// Random draws a configuration from the prior: each parameter uniformly
// (LogUniform uniformly in its logarithm).
func Random(space []Param, rng *rand.Rand) []float64 {
	out := make([]float64, len(space))
	for i, p := range space {
		u := rng.Float64()
		switch p.Kind {
		case Uniform:
			out[i] = p.Lo + u*(p.Hi-p.Lo)
		case LogUniform:
			out[i] = math.Exp(math.Log(p.Lo) + u*(math.Log(p.Hi)-math.Log(p.Lo)))
		case IntUniform:
			out[i] = p.Lo + math.Floor(u*(p.Hi-p.Lo+1))
		case Choice:
			out[i] = math.Floor(u * float64(len(p.Choices)))
		}
		if p.Kind != Choice {
			out[i] = min(max(out[i], p.Lo), p.Hi)
		}
	}
	return out
}

func column(trials []Trial, i int) []float64 {
	out := make([]float64, len(trials))
	for k, tr := range trials {
		out[k] = tr.Values[i]
	}
	return out
}

func mapped(xs []float64, f func(float64) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

type transformPair struct{ to, from func(float64) float64 }

func transform(k Kind) transformPair {
	if k == LogUniform {
		return transformPair{math.Log, math.Exp}
	}
	id := func(x float64) float64 { return x }
	return transformPair{id, id}
}

// parzen is a mixture of Gaussians truncated to [lo, hi]: one per
// observation, with the bandwidth of Optuna's estimator (the larger gap to
// a neighbour, clipped to [range/min(100, n+1), range]), plus a prior
// centred on the range with the range as its width, all equally weighted.
type parzen struct {
	lo, hi      float64
	mus, sigmas []float64
}

func newParzen(obs []float64, lo, hi float64) parzen {
	span := hi - lo
	if span <= 0 {
		return parzen{lo: lo, hi: hi, mus: []float64{lo}, sigmas: []float64{1}}
	}
	mus := append(slices.Clone(obs), (lo+hi)/2)
	sort.Float64s(mus)
	prior := sort.SearchFloat64s(mus, (lo+hi)/2)
	sigmas := make([]float64, len(mus))
	minSigma := span / math.Min(100, float64(len(mus)))
	for i, m := range mus {
		left, right := m-lo, hi-m
		if i > 0 {
			left = m - mus[i-1]
		}
		if i+1 < len(mus) {
			right = mus[i+1] - m
		}
		sigmas[i] = min(max(left, right, minSigma), span)
	}
	sigmas[prior] = span
	return parzen{lo: lo, hi: hi, mus: mus, sigmas: sigmas}
}

// sample draws from the mixture: a component uniformly, then its
// truncated Gaussian by rejection (bounded: after 100 tries, a uniform
// value in range).
func (p parzen) sample(rng *rand.Rand) float64 {
	k := rng.IntN(len(p.mus))
	for range 100 {
		x := p.mus[k] + p.sigmas[k]*rng.NormFloat64()
		if x >= p.lo && x <= p.hi {
			return x
		}
	}
	return p.lo + rng.Float64()*(p.hi-p.lo)
}

// logPDF is the log density of the mixture at x.
func (p parzen) logPDF(x float64) float64 {
	sum := 0.0
	for i, m := range p.mus {
		s := p.sigmas[i]
		mass := normCDF((p.hi-m)/s) - normCDF((p.lo-m)/s)
		if mass <= 0 {
			continue
		}
		z := (x - m) / s
		sum += math.Exp(-z*z/2) / (s * math.Sqrt(2*math.Pi) * mass)
	}
	return math.Log(sum/float64(len(p.mus)) + 1e-300)
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// suggestChoice picks among k choices the one with the largest l/g over
// candidates drawn from l, where l and g are the choices' frequencies
// among the good and the bad trials, each smoothed by a prior of total
// weight 1 spread evenly over the choices.
func suggestChoice(k int, good, bad []float64, candidates int, rng *rand.Rand) float64 {
	weights := func(obs []float64) []float64 {
		w := make([]float64, k)
		for i := range w {
			w[i] = 1.0 / float64(k) // the prior, weight 1 spread over the choices
		}
		for _, v := range obs {
			w[int(v)]++
		}
		total := 0.0
		for _, x := range w {
			total += x
		}
		for i := range w {
			w[i] /= total
		}
		return w
	}
	l, g := weights(good), weights(bad)
	best, bestScore := 0, math.Inf(-1)
	for range candidates {
		u, c := rng.Float64(), 0
		for acc := l[0]; u > acc && c < k-1; {
			c++
			acc += l[c]
		}
		if s := math.Log(l[c]) - math.Log(g[c]); s > bestScore {
			best, bestScore = c, s
		}
	}
	return float64(best)
}
