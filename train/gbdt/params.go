package gbdt

import (
	"fmt"
	"math"
	"runtime"

	"github.com/mlpipe/mlpipe/train"
)

// Params are the training settings. The zero value of every field means
// its default; the defaults were chosen across a suite of six datasets
// (doc.go says how): many small trees, stopped early on the validation
// set. Large data such as the flights task does better, for the same
// time, with fewer and larger trees (configs/flights.yaml sets them). Fields where zero is itself a useful setting (Lambda,
// MinChildWeight, MaxDepth, EarlyStoppingRounds) take a negative value to
// mean "none".
type Params struct {
	// Rounds is the most boosting rounds to run. Default 1000 (early
	// stopping usually ends training sooner). A K-class
	// model (K > 2) grows K trees per round, a binary one grows one.
	Rounds int `json:"rounds,omitempty"`
	// LearningRate (shrinkage) scales every leaf value. Default 0.2.
	LearningRate float64 `json:"learning_rate,omitempty"`
	// MaxLeaves is the most leaves per tree. Trees grow best-first: the
	// leaf whose split gains most is split next. Default 15, at most
	// 65536. Training keeps a histogram per open leaf, about
	// 24 bytes × (total bins of all columns) each: 26 kB for the flights
	// columns, so up to ~100 MB at 4095 leaves.
	MaxLeaves int `json:"max_leaves,omitempty"`
	// MaxDepth is the deepest a leaf may be (the root is depth 0).
	// Default 20; negative means no limit (MaxLeaves alone bounds a tree).
	// Prediction takes about MaxDepth steps per tree.
	MaxDepth int `json:"max_depth,omitempty"`
	// MinChildWeight is the least hessian sum a child may hold. Default
	// 1e-3; negative means 0.
	MinChildWeight float64 `json:"min_child_weight,omitempty"`
	// MinSamplesLeaf is the fewest training rows a leaf may hold. Default 20.
	MinSamplesLeaf int `json:"min_samples_leaf,omitempty"`
	// Lambda is the L2 penalty on leaf values: a leaf's value is
	// -G/(H+Lambda). Default 1; negative means 0.
	Lambda float64 `json:"lambda,omitempty"`
	// CatSmooth is added to the hessian sum of each category when a
	// node orders the categories of a column by G/(H+Lambda+CatSmooth)
	// to split them (split.go): it moves categories with few rows
	// towards the middle of the order. Default 0, at least 0.
	// LightGBM's cat_smooth (its default is 10).
	CatSmooth float64 `json:"cat_smooth,omitempty"`
	// CatL2 is added to Lambda in the gain of a split on a categorical
	// column, so such a split must gain more to be chosen; leaf values
	// keep Lambda. Default 0, at least 0. LightGBM's cat_l2 (its default
	// is 10).
	CatL2 float64 `json:"cat_l2,omitempty"`
	// Subsample is the share of training rows each round's trees are
	// grown on: each row is drawn with this probability (seeded). Default
	// 1 (every row), range (0, 1].
	Subsample float64 `json:"subsample,omitempty"`
	// GOSS, when above 0, is the share of the training rows each round's
	// trees are grown on, chosen by gradient-based one-side sampling
	// (goss.go): two thirds of it the rows with the largest gradients,
	// one third drawn from the rest. Default 0 (off), range [0, 1). It
	// cannot be combined with Subsample.
	GOSS float64 `json:"goss,omitempty"`
	// ColSample is the share of feature columns each tree may split on
	// (at least one, seeded). Default 1 (every column), range (0, 1].
	ColSample float64 `json:"col_sample,omitempty"`
	// MaxBins is the most value bins of a numeric column and the most
	// distinct categories of a categorical one (the rest share the
	// "other" bin). Default 255, range [2, 255].
	MaxBins int `json:"max_bins,omitempty"`
	// EarlyStoppingRounds stops training when the validation loss has not
	// improved for this many rounds; the model keeps the best round.
	// Default 50; negative means never stop early. Without a validation
	// set, every round runs.
	EarlyStoppingRounds int `json:"early_stopping_rounds,omitempty"`
	// Seed seeds every random choice (binning sample, row and column
	// subsampling). The same seed and data give a bit-identical model.
	// Default 0.
	Seed uint64 `json:"seed,omitempty"`
	// Parallelism is the most goroutines Fit uses. Default
	// runtime.GOMAXPROCS(0). It changes speed only, never the model.
	Parallelism int `json:"parallelism,omitempty"`
	// Objective is the loss boosting minimises: log_loss for a class
	// label (the only choice), and for a regression squared_error (the
	// default), huber (squared near the target and linear beyond Delta:
	// for heavy tails such as delay minutes), absolute_error (predicts
	// the median) or quantile (predicts the Alpha-quantile). See loss.go.
	Objective string `json:"objective,omitempty"`
	// Delta is where huber's loss turns linear, in the target's units.
	// Default: the 0.9-quantile of |y - median(y)| over the training
	// targets (scikit-learn's GradientBoostingRegressor takes the same
	// quantile of its current residuals at every stage).
	Delta float64 `json:"delta,omitempty"`
	// Alpha is the quantile that the quantile objective predicts, in
	// (0, 1). Default 0.5.
	Alpha float64 `json:"alpha,omitempty"`
	// Progress, if not nil, is called after every round with the 0-based
	// round, the training loss and the validation loss (NaN without a
	// validation set). The training loss is that of a fixed seeded sample
	// of at most 65,536 training rows (all of them in a smaller set), which
	// costs next to nothing; the validation loss is computed every round
	// anyway, for early stopping.
	Progress func(round int, trainLoss, validLoss float64) `json:"-"`
}

// Defaults of Params, applied by resolve.
const (
	defaultRounds         = 1000
	defaultLearningRate   = 0.2
	defaultMaxLeaves      = 15
	defaultMaxDepth       = 20
	defaultMinChildWeight = 1e-3
	defaultMinSamplesLeaf = 20
	defaultLambda         = 1.0
	defaultMaxBins        = 255
	defaultEarlyStopping  = 50
	maxMaxLeaves          = 1 << 16
)

// resolve returns p with every default filled in, or an error naming the
// first bad field. Negative "none" values stay as they are, so that the
// copy a model keeps (Model.Params) can be passed to New again; the
// methods below read them.
func (p Params) resolve() (Params, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.Rounds, defaultRounds)
	deff(&p.LearningRate, defaultLearningRate)
	def(&p.MaxLeaves, defaultMaxLeaves)
	def(&p.MaxDepth, defaultMaxDepth)
	deff(&p.MinChildWeight, defaultMinChildWeight)
	def(&p.MinSamplesLeaf, defaultMinSamplesLeaf)
	deff(&p.Lambda, defaultLambda)
	deff(&p.Subsample, 1)
	deff(&p.ColSample, 1)
	def(&p.MaxBins, defaultMaxBins)
	def(&p.EarlyStoppingRounds, defaultEarlyStopping)
	def(&p.Parallelism, runtime.GOMAXPROCS(0))

	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case p.Rounds < 0:
		return p, fmt.Errorf("rounds %d < 0", p.Rounds)
	case !finite(p.LearningRate) || p.LearningRate < 0:
		return p, fmt.Errorf("learning rate %g is not a positive number", p.LearningRate)
	case p.MaxLeaves < 2 || p.MaxLeaves > maxMaxLeaves:
		return p, fmt.Errorf("max leaves %d is not in [2, %d]", p.MaxLeaves, maxMaxLeaves)
	case !finite(p.MinChildWeight):
		return p, fmt.Errorf("min child weight %g is not finite", p.MinChildWeight)
	case p.MinSamplesLeaf < 0:
		return p, fmt.Errorf("min samples per leaf %d < 0", p.MinSamplesLeaf)
	case !finite(p.Lambda):
		return p, fmt.Errorf("lambda %g is not finite", p.Lambda)
	case !finite(p.CatSmooth) || p.CatSmooth < 0:
		return p, fmt.Errorf("cat smooth %g is not a number ≥ 0", p.CatSmooth)
	case !finite(p.CatL2) || p.CatL2 < 0:
		return p, fmt.Errorf("cat l2 %g is not a number ≥ 0", p.CatL2)
	case !(p.Subsample > 0 && p.Subsample <= 1):
		return p, fmt.Errorf("subsample %g is not in (0, 1]", p.Subsample)
	case !(p.GOSS >= 0 && p.GOSS < 1):
		return p, fmt.Errorf("goss %g is not in [0, 1)", p.GOSS)
	case p.GOSS > 0 && p.Subsample < 1:
		return p, fmt.Errorf("goss %g and subsample %g: use one of them", p.GOSS, p.Subsample)
	case !(p.ColSample > 0 && p.ColSample <= 1):
		return p, fmt.Errorf("column sample %g is not in (0, 1]", p.ColSample)
	case p.MaxBins < 2 || p.MaxBins > 255:
		return p, fmt.Errorf("max bins %d is not in [2, 255]", p.MaxBins)
	case p.Parallelism < 0:
		return p, fmt.Errorf("parallelism %d < 0", p.Parallelism)
	case !finite(p.Delta) || p.Delta < 0:
		return p, fmt.Errorf("delta %g is not a positive number", p.Delta)
	case p.Alpha != 0 && !(p.Alpha > 0 && p.Alpha < 1):
		return p, fmt.Errorf("alpha %g is not in (0, 1)", p.Alpha)
	}
	switch p.Objective {
	case "", LogLoss, SquaredError, Huber, AbsoluteError, Quantile:
	default:
		return p, fmt.Errorf("unknown objective %q (want %s for a class label; %s, %s, %s or %s for a regression)",
			p.Objective, LogLoss, SquaredError, Huber, AbsoluteError, Quantile)
	}
	if p.Objective == Quantile && p.Alpha == 0 {
		p.Alpha = 0.5
	}
	return p, nil
}

// Check reports whether every parameter is in range, without training
// (for config validation, through the catalog).
func (p Params) Check() error {
	_, err := p.resolve()
	return err
}

// Resolved returns p with every default filled in (for the config
// reference's test, through the catalog).
func (p Params) Resolved() (any, error) { return p.resolve() }

// CheckTask reports whether the objective fits task (for config
// validation, through the catalog): log_loss fits a class label, the
// others a regression.
func (p Params) CheckTask(task train.Task) error {
	p, err := p.resolve()
	if err != nil {
		return err
	}
	_, err = p.objectiveFor(task)
	return err
}

// objectiveFor returns the objective of p for task, "" taking the task's
// default (log_loss or squared_error).
func (p *Params) objectiveFor(task train.Task) (string, error) {
	o := p.Objective
	if task == train.Regression {
		switch o {
		case "":
			return SquaredError, nil
		case LogLoss:
			return "", fmt.Errorf("objective %s is for a class label; a regression takes %s (default), %s, %s or %s", o, SquaredError, Huber, AbsoluteError, Quantile)
		}
		return o, nil
	}
	if o != "" && o != LogLoss {
		return "", fmt.Errorf("objective %s is for a regression; a %s label takes %s", o, task, LogLoss)
	}
	return o, nil
}

// objective is the loss of a resolved p.
func (p *Params) objective() objective {
	return objective{name: p.Objective, delta: p.Delta, alpha: p.Alpha}
}

// maxDepth is MaxDepth, with "no limit" as the largest int.
func (p *Params) maxDepth() int {
	if p.MaxDepth < 0 {
		return math.MaxInt
	}
	return p.MaxDepth
}

func (p *Params) lambda() float64 { return max(p.Lambda, 0) }

// splitRules are the rules of split finding of a resolved p.
func (p *Params) splitRules() splitRules {
	return splitRules{
		lambda:         p.lambda(),
		minChildWeight: p.minChildWeight(),
		minSamplesLeaf: p.MinSamplesLeaf,
		catSmooth:      p.CatSmooth,
		catL2:          p.CatL2,
	}
}
func (p *Params) minChildWeight() float64 { return max(p.MinChildWeight, 0) }

// patience is EarlyStoppingRounds, 0 meaning never stop early.
func (p *Params) patience() int { return max(p.EarlyStoppingRounds, 0) }
