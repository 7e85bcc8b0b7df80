// Package golearn fits golearn (github.com/sjwhitworth/golearn) models
// as labelled baselines behind train.Model. It is the only package of
// mlpipe that imports golearn, and none of golearn's types leave it.
//
// In: a train.Dataset (a features.Matrix, column-major, Numeric columns
// with NaN for missing and Categorical columns of integer codes, and a
// class per row). Out: a *Model, a plain struct holding the fitted trees,
// which implements train.Model, saves as JSON through train.Save and
// loads through train.Load with Decoders (or Decode(kind)). Note gives a
// one-line description for a leaderboard; Importance each column's
// information gain (train.Importancer), from the class counts of the
// nodes. The fitted form, Model, and its prediction are in package
// model/golearn, which serving imports without golearn.
//
// golearn is used for fitting only. The fitted trees are copied out of
// golearn's exported node fields (trees.DecisionTreeNode: SplitRule,
// Children, ClassDist) into Tree and Node, and the Model predicts with
// this package's code: predictions are fast, deterministic and need no
// golearn at run time, and golearn's own serialisation is not used.
//
// # Models
//
// golearn-id3 (NewID3, ID3Params) is golearn's ID3 decision tree
// (trees.InferID3Tree with its information-gain rule), unpruned. A
// numeric split is a threshold; golearn uses each attribute at most once
// on a path, so a tree is at most as deep as the matrix has columns.
//
// golearn-rf (NewRF, RFParams) is golearn's RandomForest: Trees (10) ID3
// trees, each on a bootstrap sample of the rows and a random subset of
// Features (ceil(sqrt(columns))) columns drawn per tree, as
// ensemble.RandomForest does. The adapter draws the samples and subsets
// itself and calls InferID3Tree per tree (see Repeatability).
//
// Scores: golearn's Predict gives class labels only. A Model scores a row
// with the class shares of the training rows at the node it reaches
// (ClassDist), averaged over a forest's trees: a binary model outputs the
// share of class 1, a K-class model K shares summing to 1.
//
// # Limits, measured
//
// The flights task (configs/flights.yaml; the test split's 502,228 rows;
// columns hour, day_of_week, distance numeric, origin and destination
// categorical, the stand-in encoder of flights_test.go), on this 2-core
// machine shared with other work, so times vary by about 1.5x between
// runs (BenchmarkFitFlights, -benchtime=1x):
//
//	trainer      training rows         fit       nodes   test ROC AUC
//	golearn-id3  200,000               3-7 s        47   0.624
//	golearn-id3  all 1,978,941         54-67 s      48   0.624
//	golearn-rf   200,000               14-19 s     131   0.627
//	golearn-rf   1,000,000             65-100 s    141   0.631
//	  with NativeCategorical:
//	golearn-id3  200,000               2-3 s     16,478  0.590
//	golearn-rf   200,000               12-17 s   25,413  0.599
//
// For scale, the project's reference figures on the same split: XGBoost
// 0.719, scikit-learn's one-hot logistic regression 0.660.
//
// MaxRows (default 50,000 for both) caps the rows golearn sees with a
// seeded sample without replacement. golearn's time grows faster than
// linearly in the rows: every node's split search sorts its rows, and
// every child is an InstancesView that maps each row through a Go map.
// Without the cap (MaxRows: -1) ID3 takes about a minute on the full
// training split for the same AUC, a forest several minutes, and golearn
// allocates several GB doing it (4.8 GB in total for ID3 on 1,978,941
// rows; the benchmark process peaked at 0.86 GB resident).
//
// The default was 200,000 until the default run (`make run`, which fits
// both baselines beside gbdt and logreg) had to leave gbdt more of its
// minute: there the baselines took 20 of 51 s. A baseline's AUC hardly
// moves with its rows, so the default is now 50,000. Two alternating runs
// of BenchmarkFitFlights (-count 2) on a machine at load 20-30, where
// every time is several times its quiet value, compare them in the same
// process:
//
//	trainer      training rows   fit (two runs)     test ROC AUC
//	golearn-id3  200,000         87 s, 232 s        0.6240
//	golearn-id3  50,000          46 s, 37 s         0.6202
//	golearn-rf   200,000         391 s, 352 s       0.6273
//	golearn-rf   50,000          50 s, 106 s        0.6314
//
// A fit cannot be interrupted inside golearn: Fit checks ctx before and
// after golearn's work, and golearn-rf between trees, so a cancellation
// waits for the trees in flight. MaxRows bounds that wait.
//
// # Conversion
//
// Data are converted at the boundary, column by column, into one
// base.DenseInstances per tree (not through golearn's CSV reader, which
// adds each category with a linear scan and is quadratic in a column's
// cardinality; there is no zero-copy path from Arrow or from a Matrix).
//
//   - A numeric column becomes a FloatAttribute. NaN is written as -Inf,
//     because golearn sorts with < (NaN breaks the sort); -Inf is never
//     above a threshold, so missing values go to the "not greater" side,
//     in training and in Model alike.
//   - A categorical column becomes a FloatAttribute holding the code, so
//     golearn splits it by a threshold on the code, once per path. With
//     NativeCategorical it becomes a CategoricalAttribute instead, which
//     golearn splits one branch per category seen at the node. On the
//     flights task that fragments the rows into tens of thousands of tiny
//     leaves and scores worse at the default row cap (table above; with
//     all rows both reach about 0.625), and it cannot be made repeatable
//     (see below), so it is off by default. A code a category split did
//     not see stops a row at that node.
//   - A constant "pad" attribute is added. golearn's InferID3Tree stops a
//     branch when two attributes are left, counting the class ("if cols
//     == 2"), so the last unused column of a branch was never split on,
//     and a one-column dataset gave a single leaf. golearn never splits on
//     the pad (its gain is -Inf); it only moves that stop rule by one.
//
// # Repeatability
//
// golearn draws from the global math/rand source (its RandomForest,
// RandomTree, bagging, Shuffle, SampleWithReplacement and the train/test
// split of ID3 pruning). Since Go 1.24 rand.Seed is a no-op unless the
// program runs with GODEBUG=randseednop=0, so that source cannot be
// seeded from a library, and a package-level lock around it would not
// make it repeatable either. So no golearn code that draws random numbers
// is called: the row sample, the bootstrap samples and the column subsets
// come from PCG generators seeded with Params.Seed, one stream per tree,
// so a forest does not depend on which goroutine fits which tree or on
// Parallelism. Nor does this package touch golearn's global logger, or
// any other global state, so concurrent fits need no lock.
//
// Even with the same rows, golearn's ID3 was not repeatable: it takes the
// candidate attributes from a map, so ties between attributes (which
// every perfect split of a small node is) went to a random one, and it
// numbers the classes in the order it meets the rows, which below the
// root come out of a map, so the rounding of the entropies, and with it
// the choice between tied thresholds, varied. The adapter's rule
// generator hands golearn's own InformationGainRuleGenerator the
// candidates in column order and the rows class by class. With that, and
// with categories passed as numbers, a fit is repeatable for a fixed
// seed: the same seed and data give the same saved bytes (TestRepeatable;
// refits on the 10k fixture and on 200,000 flights rows were identical).
//
// With NativeCategorical it is not: golearn sums a category split's
// entropy over Go maps, and when it ties with another split up to
// rounding either may win. Refits on the flights fixture differed in a
// few of about 20,000 nodes (the test AUC agreed to 3 decimals); Note
// says so.
//
// # Errors
//
// golearn panics on bad data. Fit validates the datasets first (labels,
// categorical codes, a validation set of the same shape) and returns an
// error wrapping train.ErrOneClass when the training rows, or the sample
// MaxRows draws from them, hold a single class. Every call into golearn
// runs under recover: a panic becomes a *PanicError, wrapping ErrGolearn
// and naming the model and the operation ("golearn-rf: fit: tree 3:
// InferID3Tree: golearn panicked: ..."). A panic in a goroutine golearn
// starts could not be recovered and would end the process; that is
// another reason this package fits forest trees on its own goroutines
// instead of calling ensemble.RandomForest (meta.BaggedModel fits each
// tree on a goroutine of its own).
//
// # Left out
//
//   - liblinear models (linear_models.LogisticRegression, LinearSVC):
//     they panic under cgo pointer checks (golearn issues #158, #271,
//     #296) and used about 10 GB on 1M flights rows.
//   - kNN (knn.KNNClassifier): about 1.3 s per prediction at 1M training
//     rows; a test split of 500,000 rows would take a week.
//   - Naive Bayes: golearn has only BernoulliNB, which accepts
//     BinaryAttributes only (on a 3-class task with numeric features
//     Fit returns "FloatAttribute(x): Should be BinaryAttribute"), keeps
//     its fitted probabilities in unexported fields, and predicts labels,
//     so it would need a binarising filter and still give no scores.
//   - CART (trees.CARTDecisionTreeClassifier): its nodes keep a label per
//     side and no class counts, so scores would be 0 or 1.
//   - ID3 pruning (NewID3DecisionTree's prune ratio): it splits the rows
//     with the global math/rand, and judges branches with golearn's
//     Predict, which sends an unseen category to a child picked in map
//     order.
//   - golearn's Save and Load: the Model's JSON replaces them.
//   - linear_models.LinearRegression, as a regression baseline: it does
//     not fit at the sizes mlpipe works at. Its Fit solves least squares
//     by a dense QR factorisation and then forms Q in full, an n×n matrix
//     for n rows (linear_regression.go: qr.QTo), and copies its transpose,
//     so memory grows as 16·n² bytes and time faster still. Measured with
//     a scratch program calling Fit on n rows of 6 normal float
//     attributes (golearn v0.0.0-20221228163002-74ae077eafb2, this
//     machine, load average about 20 on 2 CPUs): 1,000 rows 0.05 s and
//     16.7 MB allocated, 2,000 rows 0.8 s and 65.5 MB, 4,000 rows 2.6 s
//     and 259 MB, 8,000 rows 17.0 s and 1,028 MB (peak RSS 1.0 GB). At the
//     200,000 rows the tree baselines sample that is 640 GB, at the
//     flights training split's 1,978,941 rows 63 TB. It also reads float
//     attributes only (a categorical column would be dropped, or its
//     codes read as numbers) and has no penalty. mlpipe's regression
//     baselines are instead the training mean and median beside every
//     regression's metrics (package evaluate) and ridge regression
//     (train/ridge), which fits the flights split in seconds.
package golearn
