// Package gbdt trains gradient-boosted decision trees: a histogram-based
// booster in the style of LightGBM and XGBoost's "hist" method, written
// for this project.
//
// In: a train.Dataset (a features.Matrix, whose columns are Numeric, NaN
// meaning missing, or Categorical codes in [0, Card), and a class label
// or a regression target per row) to learn from, and optionally a
// validation Dataset for early stopping. Out: a *Model (train.Model, kind
// "gbdt") holding flat trees. The fitted model, its prediction (Predict,
// PredictRow), gain importance and exact TreeSHAP explanations are in
// package model/gbdt, which serving imports without this trainer; Model,
// Tree, Name and Decode here are its names for them.
// Binary tasks use the log loss (one tree per round); K-class tasks use
// softmax cross-entropy (K trees per round); a regression uses
// Params.Objective: squared_error (default), huber, absolute_error or
// quantile (one tree per round; loss.go has the formulas). A classifier
// honours the training set's ClassWeights: each row's gradient and
// hessian, its share of the starting class rates and of the validation
// loss that early stopping watches are multiplied by its class's weight.
//
// # Algorithm
//
// Each column is first mapped to at most 256 bins: numeric columns by
// quantiles of a seeded sample of up to 200,000 rows, with NaN in a bin
// of its own; categorical columns one bin per code seen in training, with
// unseen codes in an "other" bin. Training starts every row at the
// log-odds of the class rates (a regression: at the mean, median or
// quantile of the targets that the objective predicts), then each round computes every row's
// gradient and hessian of the loss and grows a tree on them. A tree grows
// leaf-wise (best-first): the leaf whose best split lowers the loss most
// is split next, until MaxLeaves, MaxDepth, MinSamplesLeaf or
// MinChildWeight stop it. The best split of a leaf comes from per-column
// histograms of gradient and hessian sums: for a numeric column, a scan
// over the bins, trying missing values on both sides; for a categorical
// column, a scan over its categories sorted by G/(H+λ). A split's gain is
// ½(G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)) and a leaf's value is
// −G/(H+λ) times the learning rate. Only the smaller child of a split has
// its histogram built from rows; the larger one's is the parent's minus
// it. A large node's histogram is summed in fixed pieces of rows, shared
// among goroutines and added in piece order, and several leaves are
// expanded at once, so the model is the same bit for bit for a given seed
// whatever the parallelism. With a
// validation set, training stops after EarlyStoppingRounds rounds without
// a lower validation loss and keeps the best round.
//
// ±Inf in a numeric column are ordinary values, below or above every
// threshold; NaN goes to the side each split learned for missing values.
// A categorical value that is not a code seen in training (including
// codes past Card, fractions and NaN) goes to the side each split chose
// for them. Fit never panics on the values of a matrix.
//
// # Parameters
//
// Every field of Params has a default, taken when the field is zero:
//
//	Rounds               25     boosting rounds, at most
//	LearningRate         0.2    shrinkage of every leaf value
//	MaxLeaves            4095   leaves per tree, at most
//	MaxDepth             20     depth of a leaf, at most (negative: none)
//	MinChildWeight       1e-3   hessian sum of a leaf, at least (negative: 0)
//	MinSamplesLeaf       20     training rows of a leaf, at least
//	Lambda               1      L2 penalty on leaf values (negative: 0)
//	Subsample            1      share of rows drawn for each round
//	ColSample            1      share of columns drawn for each tree
//	MaxBins              255    bins of a numeric column, categories of a categorical one
//	EarlyStoppingRounds  20     patience, in rounds (negative: never stop)
//	Seed                 0      seed of every random choice
//	Parallelism          GOMAXPROCS  goroutines (speed only, never the model)
//	Progress             nil    called after each round with the losses
//
// The defaults are tuned for the default task, delayed flights (2M
// training rows, 6 numeric and 2 categorical columns with ~230 airports
// each; see BenchmarkFitFlights): there, few large trees reach a given
// test ROC AUC much sooner than many small ones. 25 rounds of 4,095
// leaves score 0.759 in about 11 s on two cores, where 200 rounds of 255
// leaves at learning rate 0.1 score 0.730 in several times longer. The
// price is prediction: ~25 trees × ~16 levels is about 400 node visits a
// row, mostly cache misses; model/gbdt/predict.go compiles the trees so that those
// visits are cheap and overlap (about 1.7 µs a row on this machine). For
// a small dataset MinSamplesLeaf keeps trees small on its own;
// there, more rounds with a lower learning rate usually do better.
package gbdt
