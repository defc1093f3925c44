"""Evaluation metrics with the lecture's definitions.

Every function accepts arrays of any backend (NumPy, CuPy, strict): it copies them to the
host with ``nnlib.backend.to_host`` first and returns NumPy arrays / Python floats.

Labels may be given as int vectors (n,), one-hot rows or scores (n, k) (reduced by
``argmax``), or a single column (n, 1) of integer labels.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from nnlib import backend as B

__all__ = ["accuracy", "confusion_matrix", "precision_recall", "tpr_fpr", "roc_curve", "auc", "roc_per_class", "ROC"]


def _labels(y: Any, what: str) -> np.ndarray:
    """Host int64 label vector from labels (n,) / (n, 1) or one-hot / scores (n, k >= 2)."""
    a = B.to_host(y)
    a = np.asarray(a)
    if a.ndim == 2 and a.shape[1] >= 2:
        return np.argmax(a, axis=1).astype(np.int64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{what}: expected labels (n,) or scores (n, k), got shape {a.shape}")
    if a.dtype == bool:
        return a.astype(np.int64)
    if not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError(f"{what}: labels of shape {a.shape} are not whole numbers; pass scores (n, k) or "
                             "threshold probabilities first (e.g. p >= 0.5)")
    return a.astype(np.int64)


def _same_length(a: np.ndarray, b: np.ndarray, fn: str, names: tuple[str, str]) -> None:
    if len(a) != len(b):
        raise ValueError(f"{fn}: {names[0]} has {len(a)} samples but {names[1]} has {len(b)} "
                         f"(shapes {a.shape} and {b.shape})")


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of correct predictions, ``(1/n) sum_i [yhat_i = y_i]``.

    Either argument may be labels (n,) or one-hot / scores (n, k) (then ``argmax`` per row).
    """
    t, p = _labels(y_true, "accuracy: y_true"), _labels(y_pred, "accuracy: y_pred")
    _same_length(t, p, "accuracy", ("y_true", "y_pred"))
    if len(t) == 0:
        raise ValueError("accuracy: no samples")
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, k: int | None = None) -> np.ndarray:
    """Confusion matrix ``C`` (k, k) int64: ``C[i, j]`` = number of samples of true class ``i``
    predicted as class ``j`` (rows = truth, columns = prediction).

    Computed in one pass as ``bincount(k * y_true + y_pred)`` reshaped to (k, k).
    ``k`` defaults to ``max(labels) + 1``; labels must be in 0..k-1.
    """
    t, p = _labels(y_true, "confusion_matrix: y_true"), _labels(y_pred, "confusion_matrix: y_pred")
    _same_length(t, p, "confusion_matrix", ("y_true", "y_pred"))
    lo = min(int(t.min()), int(p.min())) if len(t) else 0
    hi = max(int(t.max()), int(p.max())) if len(t) else -1
    k = hi + 1 if k is None else int(k)
    if lo < 0 or hi >= k:
        raise ValueError(f"confusion_matrix: labels must be in 0..{k - 1}, found {lo}..{hi} "
                         "(map -1/+1 labels to 0/1 first)")
    return np.bincount(k * t + p, minlength=k * k).reshape(k, k).astype(np.int64)


def _divide(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    """``num / den`` elementwise, ``zero_division`` where ``den == 0`` (no warnings)."""
    out = np.full(np.shape(num), float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def precision_recall(cm: Any, zero_division: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision and recall from a confusion matrix (rows = truth, columns = prediction).

    ``precision_j = C[j, j] / sum_i C[i, j]`` (of the samples predicted ``j``, the fraction that are ``j``),
    ``recall_j    = C[j, j] / sum_i C[j, i]`` (of the samples of class ``j``, the fraction found).

    A class never predicted has no precision and a class never present no recall: those entries
    are ``zero_division`` (0.0, as scikit-learn's default; pass ``np.nan`` to mark them), without
    a warning.
    """
    C = np.asarray(B.to_host(cm))
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(f"precision_recall: expected a square confusion matrix, got shape {C.shape}")
    tp = np.diag(C).astype(np.float64)
    return _divide(tp, C.sum(axis=0), zero_division), _divide(tp, C.sum(axis=1), zero_division)


def _binary(y: Any, fn: str) -> np.ndarray:
    """Boolean "is positive" vector from 0/1, -1/+1 or bool labels."""
    a = np.asarray(B.to_host(y)).ravel()
    values = set(np.unique(a).tolist())
    if not (values <= {0, 1} or values <= {-1, 1}):
        raise ValueError(f"{fn}: y_true must be binary (0/1, -1/+1 or bool), found values {sorted(values)[:6]}")
    return a == 1


def _scores(s: Any, n: int, fn: str) -> np.ndarray:
    a = np.asarray(B.to_host(s), dtype=np.float64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.shape != (n,):
        raise ValueError(f"{fn}: scores must have shape ({n},) to match y_true, got {a.shape}")
    return a


def tpr_fpr(y_true_binary: Any, scores: Any, thresholds: Any) -> tuple[np.ndarray, np.ndarray]:
    """True- and false-positive rates when predicting "positive" for ``score >= t``, for each ``t``.

    ``TPR(t) = #{positives with s >= t} / #positives``, ``FPR(t) = #{negatives with s >= t} / #negatives``
    (nan, without a warning, when there are no positives / negatives).  Vectorised with
    ``searchsorted`` on the sorted scores.
    """
    pos = _binary(y_true_binary, "tpr_fpr")
    s = _scores(scores, len(pos), "tpr_fpr")
    t = np.asarray(B.to_host(thresholds), dtype=np.float64)

    def rate(group: np.ndarray) -> np.ndarray:
        srt = np.sort(s[group])
        hits = len(srt) - np.searchsorted(srt, t, side="left")
        return _divide(hits.astype(np.float64), np.full(t.shape, len(srt)), np.nan)

    return rate(pos), rate(~pos)


def roc_curve(y_true_binary: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve: ``(fpr, tpr, thresholds)`` at every distinct score, thresholds decreasing.

    The first point is ``(0, 0)`` at threshold ``+inf``; the last is ``(1, 1)`` at the smallest
    score.  Each point predicts positive for ``score >= threshold`` (see ``tpr_fpr``).  Rates are
    nan (no warning) when a class is absent.  Same points as
    ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``.
    """
    pos = _binary(y_true_binary, "roc_curve")
    s = _scores(scores, len(pos), "roc_curve")
    order = np.argsort(-s, kind="stable")
    s, pos = s[order], pos[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1] if len(s) else np.array([], dtype=np.int64)
    tp = np.r_[0, np.cumsum(pos)[last]].astype(np.float64)
    fp = np.r_[0, (last + 1) - tp[1:]]
    thresholds = np.r_[np.inf, s[last]]
    n_pos, n_neg = tp[-1], fp[-1]
    return (_divide(fp, np.full(fp.shape, n_neg), np.nan), _divide(tp, np.full(tp.shape, n_pos), np.nan),
            thresholds)


def auc(fpr: Any, tpr: Any) -> float:
    """Area under a curve by the trapezoid rule, ``sum_i (x_{i+1} - x_i) (y_i + y_{i+1}) / 2``.

    ``fpr`` must be monotonic (increasing or decreasing); the area is returned as a positive number.
    """
    x = np.asarray(B.to_host(fpr), dtype=np.float64)
    y = np.asarray(B.to_host(tpr), dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError(f"auc: need two 1-D arrays of equal length >= 2, got shapes {x.shape} and {y.shape}")
    dx = np.diff(x)
    if not (np.all(dx >= 0) or np.all(dx <= 0)):
        raise ValueError("auc: x (fpr) is not monotonic; sort the points first")
    return float(abs(np.sum(dx * (y[1:] + y[:-1]) / 2)))


class ROC(NamedTuple):
    """One ROC curve and its area."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float


def roc_per_class(y_true: Any, probs: Any) -> dict[int, ROC]:
    """One-vs-rest ROC curves: for each class ``j``, positives are ``y == j`` scored by ``probs[:, j]``.

    ``y_true``: labels (n,) or one-hot (n, k); ``probs``: scores (n, k).  Returns
    ``{j: ROC(fpr, tpr, thresholds, auc)}``; the AUC is nan for a class absent from ``y_true``
    (or present in every sample).
    """
    P = np.asarray(B.to_host(probs), dtype=np.float64)
    if P.ndim != 2:
        raise ValueError(f"roc_per_class: probs must have shape (n, k), got {P.shape}")
    y = _labels(y_true, "roc_per_class: y_true")
    _same_length(y, P, "roc_per_class", ("y_true", "probs"))
    out = {}
    for j in range(P.shape[1]):
        fpr, tpr, thr = roc_curve(y == j, P[:, j])
        area = auc(fpr, tpr) if np.all(np.isfinite(fpr)) and np.all(np.isfinite(tpr)) else float("nan")
        out[j] = ROC(fpr, tpr, thr, area)
    return out
