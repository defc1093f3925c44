"""Tests for nnlib.metrics: hand-computed examples and agreement with scikit-learn on random data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from nnlib import backend as B
from nnlib import metrics as M


def _random(seed: int, n: int = 300, k: int = 4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]  # better than chance, not perfect
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, probs


# --------------------------------------------------------------------------- accuracy and confusion matrix


def test_accuracy_hand_example():
    assert M.accuracy([0, 1, 2, 2], [0, 2, 2, 2]) == 0.75
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert M.accuracy(np.array([0, 1, 1]), scores) == pytest.approx(2 / 3)
    assert M.accuracy(np.eye(3), np.eye(3)) == 1.0  # one-hot on both sides
    assert M.accuracy(np.array([[1], [0]]), np.array([1.0, 0.0])) == 1.0  # a label column, float labels


def test_accuracy_errors_name_shapes():
    with pytest.raises(ValueError, match=r"y_true has 3 samples but y_pred has 2"):
        M.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="not whole numbers"):
        M.accuracy([0, 1], np.array([0.2, 0.9]))


def test_confusion_matrix_hand_example():
    cm = M.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])  # rows: truth, columns: prediction
    assert cm.dtype == np.int64
    assert M.confusion_matrix([0, 1], [1, 1], k=4).shape == (4, 4)
    with pytest.raises(ValueError, match="0..1"):
        M.confusion_matrix([0, 2], [0, 1], k=2)
    with pytest.raises(ValueError, match="-1/\\+1"):
        M.confusion_matrix([-1, 1], [1, 1])


@pytest.mark.parametrize("seed", range(3))
def test_confusion_matrix_matches_sklearn(seed):
    y, probs = _random(seed, k=5)
    pred = probs.argmax(axis=1)
    np.testing.assert_array_equal(M.confusion_matrix(y, probs, k=5),
                                  skm.confusion_matrix(y, pred, labels=range(5)))
    assert M.accuracy(y, probs) == pytest.approx(skm.accuracy_score(y, pred))


# --------------------------------------------------------------------------- precision and recall


def test_precision_recall_hand_example():
    cm = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    p, r = M.precision_recall(cm)
    np.testing.assert_allclose(p, [1 / 2, 1 / 2, 1])
    np.testing.assert_allclose(r, [1 / 2, 1, 2 / 3])


@pytest.mark.parametrize("seed", range(3))
def test_precision_recall_match_sklearn(seed):
    y, probs = _random(seed, k=4)
    pred = probs.argmax(axis=1)
    p, r = M.precision_recall(M.confusion_matrix(y, pred, k=4))
    np.testing.assert_allclose(p, skm.precision_score(y, pred, average=None, labels=range(4)))
    np.testing.assert_allclose(r, skm.recall_score(y, pred, average=None, labels=range(4)))


def test_precision_recall_absent_class_is_warning_free():
    y_true = np.array([0, 0, 1, 1])
    y_pred = np.array([0, 1, 1, 1])  # class 2: never true, never predicted
    cm = M.confusion_matrix(y_true, y_pred, k=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, r = M.precision_recall(cm)
        pn, rn = M.precision_recall(cm, zero_division=np.nan)
    np.testing.assert_allclose(p, [1, 2 / 3, 0])
    np.testing.assert_allclose(r, [1 / 2, 1, 0])
    assert np.isnan(pn[2]) and np.isnan(rn[2]) and pn[0] == 1
    sk = skm.precision_score(y_true, y_pred, average=None, labels=range(3), zero_division=0)
    np.testing.assert_allclose(p, sk)
    with pytest.raises(ValueError, match="square"):
        M.precision_recall(np.zeros((2, 3)))


# --------------------------------------------------------------------------- ROC


def test_tpr_fpr_hand_example():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    tpr, fpr = M.tpr_fpr(y, s, [0.0, 0.35, 0.5, 0.9])
    np.testing.assert_allclose(tpr, [1, 1, 0.5, 0])
    np.testing.assert_allclose(fpr, [1, 0.5, 0, 0])
    tpr, fpr = M.tpr_fpr(np.array([-1, -1, 1, 1]), s, np.array([0.35]))  # -1/+1 labels
    np.testing.assert_allclose([tpr[0], fpr[0]], [1, 0.5])


def test_roc_curve_and_auc_hand_example():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    fpr, tpr, thr = M.roc_curve(y, s)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thr, [np.inf, 0.8, 0.4, 0.35, 0.1])
    assert M.auc(fpr, tpr) == pytest.approx(0.75)
    assert M.auc(fpr[::-1], tpr[::-1]) == pytest.approx(0.75)
    assert M.auc([0, 1], [0, 1]) == 0.5
    with pytest.raises(ValueError, match="monotonic"):
        M.auc([0, 1, 0.5], [0, 1, 1])


def test_roc_curve_ties():
    y = np.array([1, 0, 1, 0])
    s = np.array([0.5, 0.5, 0.9, 0.1])
    fpr, tpr, thr = M.roc_curve(y, s)
    np.testing.assert_allclose(thr, [np.inf, 0.9, 0.5, 0.1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])


@pytest.mark.parametrize("seed", range(4))
def test_roc_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.normal(size=200) + y, 1)  # rounding makes ties
    fpr, tpr, thr = M.roc_curve(y, s)
    sf, st, sthr = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sf)
    np.testing.assert_allclose(tpr, st)
    np.testing.assert_allclose(thr[1:], sthr[1:])
    assert M.auc(fpr, tpr) == pytest.approx(skm.roc_auc_score(y, s))
    tp, fp = M.tpr_fpr(y, s, thr)
    np.testing.assert_allclose(tp, tpr)
    np.testing.assert_allclose(fp, fpr)


def test_roc_per_class_matches_sklearn_one_vs_rest():
    y, probs = _random(7, n=400, k=3)
    rocs = M.roc_per_class(y, probs)
    assert set(rocs) == {0, 1, 2}
    for j, roc in rocs.items():
        assert roc.auc == pytest.approx(skm.roc_auc_score(y == j, probs[:, j]))
        assert roc.fpr[0] == 0 and roc.tpr[-1] == 1 and roc.thresholds[0] == np.inf
    np.testing.assert_allclose([rocs[j].auc for j in range(3)],
                               skm.roc_auc_score(y, probs, multi_class="ovr", average=None))
    one_hot = np.eye(3)[y]
    assert M.roc_per_class(one_hot, probs)[1].auc == rocs[1].auc


def test_roc_absent_class_is_nan_without_warning():
    y = np.array([0, 0, 1, 1])
    probs = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rocs = M.roc_per_class(y, probs)
        fpr, tpr, _ = M.roc_curve(np.zeros(3), [0.1, 0.2, 0.3])
    assert np.isnan(rocs[2].auc) and rocs[0].auc == 1.0 and rocs[1].auc == 1.0
    assert np.all(np.isnan(tpr)) and fpr[-1] == 1
    with pytest.raises(ValueError, match="binary"):
        M.roc_curve([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        M.roc_curve([0, 1, 1], [0.1, 0.2])


# --------------------------------------------------------------------------- device arrays


def test_metrics_accept_device_arrays(strict):
    y, probs = _random(1, n=50, k=3)
    yd, pd = B.to_device(y), B.to_device(probs)
    assert M.accuracy(yd, pd) == pytest.approx(skm.accuracy_score(y, probs.argmax(axis=1)))
    cm = M.confusion_matrix(yd, pd, k=3)
    assert isinstance(cm, np.ndarray) and cm.sum() == 50
    p, r = M.precision_recall(B.to_device(cm))
    assert p.shape == (3,) and r.shape == (3,)
    fpr, tpr, thr = M.roc_curve(B.to_device(y == 0), B.to_device(probs[:, 0]))
    assert M.auc(B.to_device(fpr), B.to_device(tpr)) == pytest.approx(skm.roc_auc_score(y == 0, probs[:, 0]))
    tp, fp = M.tpr_fpr(B.to_device((y == 0).astype(int)), pd[:, 0], B.to_device(np.array([0.5])))
    assert tp.shape == (1,) and fp.shape == (1,)
    assert M.roc_per_class(yd, pd)[2].auc == pytest.approx(skm.roc_auc_score(y == 2, probs[:, 2]))
