"""Reference values for the evaluate package's tests.

Run with Debian's scikit-learn (apt-get install python3-sklearn, giving
sklearn 1.2.1 and numpy 1.24.2):

    /usr/bin/python3 evaluate/testdata/reference.py

It prints the values that evaluate/reference_test.go hard-codes. The Go
tests do not run it. Notes on the calls:

  - log_loss is called with eps=1e-15: sklearn 1.2 defaults to eps="auto"
    (the float64 machine epsilon, 2.2e-16); evaluate clips to
    [1e-15, 1-1e-15], sklearn's default before 1.2.
  - roc_curve is called with drop_intermediate=False: evaluate keeps one
    point per distinct score.
  - precision_score and f1_score use zero_division=0, evaluate's
    convention for 0/0.
"""
import numpy as np
from sklearn import __version__
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    median_absolute_error,
    precision_recall_curve,
    precision_recall_fscore_support,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

print("sklearn", __version__, "numpy", np.__version__)


def r(x):
    """repr of a float, or of a list of floats, for pasting into Go."""
    if np.ndim(x) == 0:
        return repr(float(x))
    return "{" + ", ".join(repr(float(v)) for v in x) + "}"


# Binary cases: labels y, probabilities p.
binary = {
    # Ties across classes (0.4 and 0.35 are each held by both classes).
    "ties": (
        [0, 0, 1, 1, 0, 1, 0, 1, 1, 0],
        [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.9, 0.35, 0.6],
    ),
    "all_equal": ([0, 1, 0, 1, 1], [0.5, 0.5, 0.5, 0.5, 0.5]),
    "perfect": ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]),
    "inverted": ([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]),
    # Probabilities of exactly 0 and 1, right and wrong: log loss clips.
    "extremes": ([1, 0, 1, 0, 1], [0.0, 1.0, 1.0, 0.0, 0.7]),
}
# 40 rows rounded to 2 decimals (so some scores tie), no value on a
# calibration bin edge.
rng = np.random.default_rng(7)
y40 = (rng.random(40) < 0.4).astype(int)
p40 = np.clip(0.25 + 0.4 * y40 + rng.normal(0, 0.2, 40), 0.01, 0.99).round(2)
p40 = np.where(np.isclose((p40 * 10) % 1, 0), p40 + 0.01, p40).round(2)
binary["random40"] = (y40.tolist(), p40.tolist())

for name, (y, p) in binary.items():
    y, p = np.array(y), np.array(p)
    pred = (p >= 0.5).astype(int)
    print(f"\n== binary {name}")
    print("y =", "{" + ", ".join(str(v) for v in y) + "}")
    print("p =", r(p))
    if len(set(y)) == 2:
        print("roc_auc_score(y, p) =", r(roc_auc_score(y, p)))
    print("average_precision_score(y, p) =", r(average_precision_score(y, p)))
    print("log_loss(y, p, eps=1e-15) =", r(log_loss(y, p, eps=1e-15, labels=[0, 1])))
    print("brier_score_loss(y, p) =", r(brier_score_loss(y, p)))
    print("at p >= 0.5:")
    print("  accuracy_score =", r(accuracy_score(y, pred)))
    print("  precision_score =", r(precision_score(y, pred, zero_division=0)))
    print("  recall_score =", r(recall_score(y, pred, zero_division=0)))
    print("  f1_score =", r(f1_score(y, pred, zero_division=0)))
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    print(f"  confusion_matrix: tn={tn} fp={fp} fn={fn} tp={tp}")

    # Threshold selection, by brute force over every candidate threshold
    # (each distinct score, plus "above every score").
    cands = sorted(set(p.tolist()), reverse=True)
    best_f1, best_t = -1, None
    for t in cands:
        f = f1_score(y, (p >= t).astype(int), zero_division=0)
        if f > best_f1:
            best_f1, best_t = f, t
    print("max F1 threshold =", r(best_t), "F1 =", r(best_f1))
    for ratio in (1.0, 0.25, 4.0):
        best_c, best_t = (y == 1).sum(), p.max() + 1  # nothing positive
        for t in cands:
            pr = p >= t
            c = ratio * ((pr) & (y == 0)).sum() + ((~pr) & (y == 1)).sum()
            if c < best_c:
                best_c, best_t = c, t
        print(f"min cost threshold (ratio {ratio}) =", r(best_t), "cost =", r(best_c / len(y)))

# Curves of the "ties" case.
y, p = map(np.array, binary["ties"])
fpr, tpr, thr = roc_curve(y, p, drop_intermediate=False)
print("\n== curves of ties")
print("roc_curve(y, p, drop_intermediate=False):")
print("  fpr =", r(fpr))
print("  tpr =", r(tpr))
print("  thresholds =", r(thr))
prec, rec, thr = precision_recall_curve(y, p)
print("precision_recall_curve(y, p), reversed to decreasing thresholds:")
print("  precision =", r(prec[::-1]))
print("  recall =", r(rec[::-1]))
print("  thresholds =", r(thr[::-1]))

# Calibration of the 40-row case.
y, p = map(np.array, binary["random40"])
prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
counts = np.bincount(np.minimum((p * 10).astype(int), 9), minlength=10)
print("\n== calibration of random40")
print("calibration_curve(y, p, n_bins=10):")
print("  prob_true =", r(prob_true))
print("  prob_pred =", r(prob_pred))
print("  counts of non-empty bins =", [int(c) for c in counts if c > 0])
counts = counts[counts > 0]
print("ECE = sum(counts*|prob_true-prob_pred|)/n =",
      r(np.sum(counts * np.abs(prob_true - prob_pred)) / len(y)))

# Multiclass cases: labels y, n x K probabilities P.
multiclass = {
    "three": (
        [0, 1, 2, 2, 1, 0, 2, 1],
        [
            [0.7, 0.2, 0.1],
            [0.1, 0.6, 0.3],
            [0.2, 0.2, 0.6],
            [0.3, 0.4, 0.3],
            [0.5, 0.4, 0.1],
            [0.4, 0.4, 0.2],  # tie between classes 0 and 1: argmax is 0
            [0.0, 0.0, 1.0],
            [0.1, 0.1, 0.8],
        ],
    ),
    # Four classes, class 3 neither true nor predicted; a zero
    # probability on a true class.
    "four_absent": (
        [0, 1, 2, 0, 1, 2],
        [
            [0.9, 0.05, 0.05, 0.0],
            [0.2, 0.5, 0.2, 0.1],
            [0.6, 0.1, 0.3, 0.0],
            [0.25, 0.25, 0.25, 0.25],
            [0.0, 0.0, 1.0, 0.0],
            [0.1, 0.1, 0.7, 0.1],
        ],
    ),
}
for name, (y, P) in multiclass.items():
    y, P = np.array(y), np.array(P)
    K = P.shape[1]
    pred = P.argmax(axis=1)
    print(f"\n== multiclass {name}")
    print("accuracy_score =", r(accuracy_score(y, pred)))
    print("f1_score(average='macro') =", r(f1_score(y, pred, average="macro", zero_division=0)))
    print("f1_score(average='weighted') =", r(f1_score(y, pred, average="weighted", zero_division=0)))
    print("log_loss(eps=1e-15, labels=range(K)) =", r(log_loss(y, P, eps=1e-15, labels=list(range(K)))))
    pr, rc, f, s = precision_recall_fscore_support(y, pred, labels=list(range(K)), zero_division=0)
    print("precision_recall_fscore_support(labels=range(K)):")
    print("  precision =", r(pr))
    print("  recall =", r(rc))
    print("  f1 =", r(f))
    print("  support =", s.tolist())
    print("confusion_matrix(labels=range(K)) =", confusion_matrix(y, pred, labels=list(range(K))).tolist())

# Per-slice ROC AUC for the sliced test: the 40-row case cut into slices
# by row index mod 3 ("a", "b", "c").
y, p = map(np.array, binary["random40"])
keys = np.array(["abc"[i % 3] for i in range(len(y))])
print("\n== slices of random40 by row index mod 3")
for k in "abc":
    m = keys == k
    print(f"slice {k}: rows={m.sum()} positives={y[m].sum()} "
          f"roc_auc_score={r(roc_auc_score(y[m], p[m]))} "
          f"average_precision_score={r(average_precision_score(y[m], p[m]))}")

# Regression cases: targets y, predictions p. MAPE is printed only when no
# target is 0 (evaluate omits it otherwise).
regression = {
    # Mixed signs, an outlier (40 against 3.1), a target of 0.
    "outlier": (
        [3.0, -0.5, 2.0, 7.0, 0.0, 1.5, 4.2, 40.0],
        [2.5, 0.0, 2.0, 8.0, -0.3, 1.0, 3.9, 3.1],
    ),
    # 30 rows of a noisy line, no zero target.
    "line30": (
        [round(2 + 0.5 * i + ((i * 7) % 5 - 2) * 0.9, 2) for i in range(30)],
        [round(2.3 + 0.48 * i, 2) for i in range(30)],
    ),
    # Predictions worse than the mean of y: R2 below 0.
    "negative_r2": ([1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]),
}
for name, (y, p) in regression.items():
    y, p = np.array(y), np.array(p)
    print(f"\n== regression {name}")
    print("y =", r(y))
    print("p =", r(p))
    print("mean_squared_error(squared=False) =", r(mean_squared_error(y, p, squared=False)))
    print("mean_absolute_error =", r(mean_absolute_error(y, p)))
    print("r2_score =", r(r2_score(y, p)))
    print("median_absolute_error =", r(median_absolute_error(y, p)))
    if (y != 0).all():
        print("mean_absolute_percentage_error =", r(mean_absolute_percentage_error(y, p)))
    # The baselines: a constant prediction of the mean and the median of
    # the first half of y (standing in for the training targets).
    t = y[: len(y) // 2]
    for bname, v in (("mean", t.mean()), ("median", np.median(t))):
        c = np.full(len(y), v)
        print(f"baseline {bname} {r(v)}: rmse={r(mean_squared_error(y, c, squared=False))} "
              f"mae={r(mean_absolute_error(y, c))} r2={r(r2_score(y, c))} "
              f"median_ae={r(median_absolute_error(y, c))}")
