// Package backtest replays real history to show what a retraining policy
// would have done: `mlpipe simulate`.
//
// In: the whole dataset as an Arrow table, a config (label, features, the
// model to train, the gate), a start date and a period. Out: for each
// policy, the score of the production model on each period's rows
// (scored as serving would, with the true labels): its ROC AUC for a
// binary label, its RMSE for a regression target; where it retrained and
// why, its retrains, training time and mean score; a chart and a small
// self-contained HTML report.
//
// The simulated clock steps by the period. At the start of each period
// the policy decides whether to retrain; a retrain trains on the trailing
// window (TrainDays of training data, then ValidDays of validation data,
// ending at the period's start), and the gate promotes the candidate only
// if it beats the production model on those validation days by
// gate.min_improvement (on the backtest's metric). Then the period's rows
// are scored by whichever model is in production.
//
// Policies:
//
//	never        train once at the start
//	scheduled    retrain at every period
//	drift        retrain when the drift monitor, comparing the previous
//	             period's traffic with the production model's training
//	             data, recommends it
//	estimated    retrain when the monitor's estimated rule (the AUC
//	             estimated without labels fell, or the domain classifier
//	             fired) recommends it, on the same comparison
//	performance  retrain when the production model's labelled AUC on the
//	             previous period fell more than PerformanceDrop below its
//	             AUC on the first period it served (a regression: when
//	             its RMSE rose more than RMSERise above that period's)
//
// With MaxAge, drift and estimated also retrain once the production
// model has served that long, as the scheduler's schedule.max_age does.
//
// Beside each period's score, the production model's ROC AUC estimated
// without labels (CBPE), the share of positives its calibrated
// probabilities expect (to set beside the share realized), the estimate
// recalibrated on the previous period's labels; and the time split by
// stage.
//
// A retrain depends only on the period it starts, so the policies share
// them: each training window is fitted once and reused by every policy
// that retrains there; likewise a model's scores, estimate and
// calibration check on a period, and the monitor's baseline and
// calibrated thresholds of a training window, are computed once for
// every policy that needs them.
//
// Nor does a retrain depend on any policy's decisions, so when the
// scheduled policy runs (it retrains at every period) all the fits are
// known at the start: they are queued in period order and trained ahead,
// a few at once with the CPUs shared out among them (fits.go), while the
// policies step through the periods together, period by period. The
// results are the same, bit for bit, however the fits are scheduled: a
// model does not depend on its trainer's parallelism.
//
// No float feature matrix of a week or of a training window is held
// whole when the model is gbdt (the config's default): a fit bins its
// training and validation windows a range of 65,536 rows at a time
// (internal/stream, as the pipeline's features stage bins its splits),
// and a model's scores on a week, a validation window or the gate's rows
// are transformed and scored a range at a time. Other trainers are given
// float matrices of their windows (they read the floats); their weeks
// are scored by ranges too. The results are the same, bit for bit, as
// with whole matrices (TestStreamed).
package backtest
