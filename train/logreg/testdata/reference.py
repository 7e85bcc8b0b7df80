"""Reference fits for train/logreg's tests, by scikit-learn 1.2.1.

Writes reference.csv (a small seeded dataset) beside this file and prints
scikit-learn's coefficients, which reference_test.go hard-codes. Run with
Debian's packages (python3-sklearn 1.2.1+dfsg-1, numpy 1.24.2, scipy 1.10.1):

    cd train/logreg/testdata && /usr/bin/python3 reference.py

Columns of reference.csv:
    x1   numeric, standard normal
    x2   numeric, standard normal, NaN in about 1 row in 10 (the model
         reads NaN as 0, so scikit-learn is given 0 there)
    cat  categorical code in 0..3, unevenly frequent (one-hot encoded for
         scikit-learn, one column per code, as the model reads it)
    y2   binary label drawn from a logistic model of the columns
    y3   3-class label drawn from a softmax model of the columns
"""
import os

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

C = 0.5
ROWS = 300

rng = np.random.default_rng(20240611)
x1 = rng.normal(size=ROWS)
x2 = rng.normal(size=ROWS)
cat = rng.choice(4, size=ROWS, p=[0.1, 0.4, 0.3, 0.2])
x2_missing = rng.random(ROWS) < 0.1
onehot = np.eye(4)[cat]

score2 = -0.5 + 1.2 * x1 - 0.8 * x2 + np.array([0.3, -0.6, 0.2, 1.0])[cat]
y2 = (rng.random(ROWS) < 1 / (1 + np.exp(-score2))).astype(int)
w3 = np.array([[0.5, -1.0, 0.0], [-0.7, 0.4, 0.9], [0.2, 0.1, -0.3]])  # rows: x1, x2, bias per class
score3 = np.outer(x1, w3[0]) + np.outer(x2, w3[1]) + w3[2] + onehot @ np.array(
    [[0.0, 0.5, -0.5], [0.8, -0.2, 0.0], [-0.4, 0.0, 0.6], [0.0, 0.9, -0.1]])
p3 = np.exp(score3 - score3.max(axis=1, keepdims=True))
p3 /= p3.sum(axis=1, keepdims=True)
y3 = np.array([rng.choice(3, p=p) for p in p3])

x2_csv = np.where(x2_missing, np.nan, x2)
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "reference.csv"), "w") as f:
    f.write("x1,x2,cat,y2,y3\n")
    for i in range(ROWS):
        x2s = "NaN" if x2_missing[i] else repr(float(x2[i]))
        f.write(f"{float(x1[i])!r},{x2s},{cat[i]},{y2[i]},{y3[i]}\n")

X = np.column_stack([x1, np.where(x2_missing, 0.0, x2), onehot])
print("scikit-learn", sklearn.__version__)
binary = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(X, y2)
print("binary intercept", repr(binary.intercept_[0]))
print("binary coef", [repr(v) for v in binary.coef_[0]])
multi = LogisticRegression(C=C, tol=1e-12, max_iter=10000, multi_class="multinomial").fit(X, y3)
print("multinomial intercept", [repr(v) for v in multi.intercept_])
for k in range(3):
    print("multinomial coef class", k, [repr(v) for v in multi.coef_[k]])
print("class counts y2", np.bincount(y2), "y3", np.bincount(y3))

# Class weights (train/logreg's Dataset.ClassWeights): balanced for the
# binary label, explicit for the 3-class one.
wbinary = LogisticRegression(C=C, tol=1e-12, max_iter=10000, class_weight="balanced").fit(X, y2)
print("balanced class weights", [repr(v) for v in len(y2) / (2 * np.bincount(y2))])
print("balanced binary intercept", repr(wbinary.intercept_[0]))
print("balanced binary coef", [repr(v) for v in wbinary.coef_[0]])
CW3 = {0: 2.0, 1: 1.0, 2: 0.5}
wmulti = LogisticRegression(C=C, tol=1e-12, max_iter=10000, multi_class="multinomial",
                            class_weight=CW3).fit(X, y3)
print("weighted multinomial intercept", [repr(v) for v in wmulti.intercept_])
for k in range(3):
    print("weighted multinomial coef class", k, [repr(v) for v in wmulti.coef_[k]])

# scikit-learn stops this one further from the minimum (max |gradient|
# 1.7e-3 of the summed objective, weights 2e-4 away), so the test compares
# with the minimum itself: scipy's L-BFGS-B on the same weighted objective,
# started at scikit-learn's weights and run to gtol=1e-12.
from scipy.optimize import minimize

w3 = np.array([CW3[k] for k in y3])


def weighted_multinomial(theta):
    W = theta[:3 * X.shape[1]].reshape(3, X.shape[1])
    Z = X @ W.T + theta[3 * X.shape[1]:]
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    R = (P - np.eye(3)[y3]) * w3[:, None]
    loss = -(w3 * np.log(P[np.arange(ROWS), y3])).sum() + (W ** 2).sum() / (2 * C)
    return loss, np.concatenate([(R.T @ X + W / C).ravel(), R.sum(axis=0)])


res = minimize(weighted_multinomial, np.concatenate([wmulti.coef_.ravel(), wmulti.intercept_]),
               jac=True, method="L-BFGS-B", options=dict(gtol=1e-12, ftol=1e-15, maxiter=10000))
W = res.x[:3 * X.shape[1]].reshape(3, X.shape[1])
b = res.x[3 * X.shape[1]:]
print("refined weighted multinomial max |gradient|", np.abs(res.jac).max())
print("refined weighted multinomial intercept (centred)", [repr(v) for v in b - b.mean()])
for k in range(3):
    print("refined weighted multinomial coef class", k, [repr(v) for v in W[k]])

# How far from the minimum scikit-learn stops: the largest component of
# the gradient of the summed objective at its weights. scipy's L-BFGS-B
# also stops on its default ftol (relative decrease of the objective),
# before tol=1e-12 is reached, so these are about 1e-3 and the weights
# are some 1e-5 from the minimum.
r2 = binary.predict_proba(X)[:, 1] - y2
g2 = np.append(X.T @ r2 + binary.coef_[0] / C, r2.sum())
r3 = multi.predict_proba(X) - np.eye(3)[y3]
g3 = np.append(r3.T @ X + multi.coef_ / C, r3.sum(axis=0))
print("binary max |gradient|", np.abs(g2).max(), "n_iter", binary.n_iter_[0])
print("multinomial max |gradient|", np.abs(g3).max(), "n_iter", multi.n_iter_[0])
