"""Tests for nnlib.train: the fit loop (Model and Network), history, early stopping, checkpoints."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import nnlib
from nnlib import backend as B
from nnlib import datasets as D
from nnlib import optim
from nnlib import train as T
from nnlib.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
from nnlib.model import Model
from nnlib.network import Network


@pytest.fixture(scope="module")
def moons():
    X, y = D.moons(600, noise=0.15, seed=0)
    return D.train_val_split(X, y, val=150, seed=0)


def mlp(seed=0, n_in=2, hidden=16, k=2, dropout=0.0):
    nnlib.seed(seed)
    layers = [Dense(n_in, hidden, "he"), ReLU()]
    if dropout:
        layers.append(Dropout(dropout))
    return Model([*layers, Dense(hidden, k, "xavier")])


def params_equal(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------- learning


def test_fit_model_learns_moons(moons):
    train, val = moons
    model = mlp()
    h = T.fit(model, train, val, epochs=40, optimizer="adam", lr=0.01, seed=0, progress=False)
    assert len(h) == len(h.loss) == len(h.train_acc) == len(h.val_loss) == len(h.val_acc) == len(h.lr) == 40
    assert len(h.seconds) == 40 and all(s >= 0 for s in h.seconds)
    assert h.val_acc[-1] > 0.9 and h.train_acc[-1] > 0.9
    assert h.loss[-1] < h.loss[0]
    assert T.evaluate(model, *val)["accuracy"] == pytest.approx(h.val_acc[-1])
    assert h.best_epoch == int(np.argmin(h.val_loss)) and not h.stopped_early


@pytest.mark.parametrize("optimizer, lr", [("sgd", 2.0), ("adam", 0.02)])
def test_fit_nielsen_network_learns_moons(moons, optimizer, lr):
    train, val = moons
    net = Network([2, 16, 2], cost="cross_entropy", seed=1)
    h = T.fit(net, train, val, epochs=40, batch_size=10, optimizer=optimizer, lr=lr, seed=0, progress=False)
    assert h.val_acc[-1] > 0.9
    assert T.evaluate(net, *val)["accuracy"] == pytest.approx(net.evaluate(val) / len(val[1]))
    assert T.evaluate(net, *val)["loss"] == pytest.approx(net.total_cost(val))


def test_network_sgd_step_is_nielsens_update_mini_batch(moons):
    """With plain SGD the loop applies exactly Network.update_mini_batch to each shuffled batch."""
    (X, y), _ = moons
    a = Network([2, 5, 2], seed=3)
    b = Network([2, 5, 2], seed=3)
    T.fit(a, (X, y), epochs=1, batch_size=50, lr=0.5, seed=7, progress=False)
    order = np.random.default_rng(7).permutation(len(X))  # the first draw (no subset: n <= train_eval_size)
    Y = D.one_hot(y, 2)
    for k in range(0, len(X), 50):
        idx = order[k:k + 50]
        b.update_mini_batch((X[idx], Y[idx]), eta=0.5)
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_allclose(wa, wb, rtol=1e-12, atol=1e-12)


def test_one_hot_targets_and_float32(moons):
    (X, y), (Xv, yv) = moons
    nnlib.seed(0)
    model = Model([Dense(2, 16, "he", np.float32), ReLU(), Dense(16, 2, "xavier", np.float32)])
    h = T.fit(model, (X, D.one_hot(y, 2)), (Xv, D.one_hot(yv, 2)), epochs=20, optimizer="adam", lr=0.02,
              seed=0, progress=False)
    assert model.params()[0].dtype == np.float32
    assert h.val_acc[-1] > 0.85


def test_train_metrics_on_a_subset_of_the_training_set():
    X, y = D.blobs(900, centers=3, noise=0.5, seed=0)
    model = mlp(k=3)
    h = T.fit(model, (X, y), epochs=2, optimizer="adam", lr=0.01, seed=0, progress=False, train_eval_size=100)
    # accuracy measured on 100 rows: a multiple of 1/100
    assert all(abs(a * 100 - round(a * 100)) < 1e-9 for a in h.train_acc)
    assert T.evaluate(model, X, y)["accuracy"] > 0.9


def test_same_seed_same_history_and_weights(moons):
    train, val = moons
    runs = []
    for _ in range(2):
        model = mlp(seed=5, dropout=0.2)  # dropout: the device generator must be seeded too
        h = T.fit(model, train, val, epochs=5, batch_size=16, optimizer="momentum", lr=0.05, seed=11,
                  progress=False)
        runs.append((h, model.state_dict()))
    (h1, w1), (h2, w2) = runs
    for key in ("loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert getattr(h1, key) == getattr(h2, key), key
    assert params_equal(w1, w2)
    model = mlp(seed=5, dropout=0.2)
    h3 = T.fit(model, train, val, epochs=5, batch_size=16, optimizer="momentum", lr=0.05, seed=12, progress=False)
    assert h3.loss != h1.loss and not params_equal(model.state_dict(), w1)


def test_diverging_learning_rate_raises_naming_epoch_lr_batch(moons):
    train, val = moons
    with pytest.raises(FloatingPointError, match=r"epoch 0 .*lr=100, batch_size=32"):
        T.fit(mlp(), train, val, epochs=3, lr=100, progress=False)
    net = Network([2, 8, 2], activation="softplus", cost="quadratic", seed=0)
    for w in net.weights:
        w *= 1e200  # outputs overflow to inf: a non-finite cost
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match=r"epoch 0 .*lr=0.5, batch_size=8"):
        T.fit(net, train, epochs=3, batch_size=8, lr=0.5, progress=False)


def test_schedules_set_the_learning_rate_per_epoch(moons):
    train, val = moons
    h = T.fit(mlp(), train, val, epochs=5, lr=0.1, schedule=optim.StepDecay(0.2, factor=0.5, every=2),
              progress=False)
    assert h.lr == pytest.approx([0.2, 0.2, 0.1, 0.1, 0.05])
    plateau = optim.ReduceOnPlateau(0.05, factor=0.1, patience=0, threshold=10.0)  # never "improves" enough
    h = T.fit(mlp(), train, val, epochs=3, schedule=plateau, progress=False)
    assert h.lr == pytest.approx([0.05, 0.05, 0.005])  # epoch 0 sets the best, epoch 1 fails to improve


def test_optimizer_instance_is_used(moons):
    train, _ = moons
    opt = optim.Adam(lr=0.01)
    T.fit(mlp(), train, epochs=2, batch_size=100, optimizer=opt, progress=False)
    assert opt.t == 2 * int(np.ceil(len(train[1]) / 100))


def test_bad_arguments(moons):
    train, val = moons
    with pytest.raises(ValueError, match="validation"):
        T.fit(mlp(), train, epochs=1, early_stopping=2, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        T.fit(mlp(), train, epochs=1, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="inputs but"):
        T.fit(mlp(), (train[0], train[1][:-1]), epochs=1, progress=False)
    with pytest.raises(TypeError, match="Model or Network"):
        T.fit(object(), train, epochs=1, progress=False)


def test_progress_bar_and_verbose_lines(moons, capsys):
    train, val = moons
    T.fit(mlp(), train, val, epochs=2, progress=True, verbose=False)
    err = capsys.readouterr().err
    assert "loss=" in err and "val_acc=" in err and "2/2" in err
    T.fit(mlp(), train, val, epochs=2, progress=False, verbose=True)
    out, err = capsys.readouterr()
    assert "epoch 1/2: loss" in out and "epoch 2/2" in out and "val_acc" in out and err == ""
    T.fit(mlp(), train, val, epochs=2, progress=False, verbose=False)
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------- early stopping


@pytest.mark.parametrize("patience, epochs, stopped_at, best", [(3, 20, 5, 2), (5, 8, 7, 7)])
def test_early_stopping_on_a_constructed_validation_curve(monkeypatch, tmp_path, patience, epochs, stopped_at,
                                                          best):
    curve = [1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.9, 0.5] + [0.6] * 12
    X, y = D.blobs(64, centers=2, seed=0)
    Xv, yv = D.blobs(17, centers=2, seed=1)  # 17 rows: recognisable
    model = mlp()
    snapshots = []
    real_measure = T._measure

    def scripted(adapter, X_, y_, batch_size):
        loss, acc = real_measure(adapter, X_, y_, batch_size)
        if X_.shape[0] == 17:  # the validation set: report the constructed curve
            snapshots.append(model.state_dict())
            return curve[len(snapshots) - 1], acc
        return loss, acc

    monkeypatch.setattr(T, "_measure", scripted)
    ck = tmp_path / "best.npz"
    h = T.fit(model, (X, y), (Xv, yv), epochs=epochs, lr=0.05, early_stopping=patience, checkpoint=ck, seed=0,
              progress=False)
    assert len(h) == stopped_at + 1
    assert h.val_loss == curve[:stopped_at + 1]
    assert h.best_epoch == best
    assert h.stopped_early == (stopped_at + 1 < epochs)
    assert params_equal(model.state_dict(), snapshots[best])  # best weights restored
    assert not any(params_equal(s, snapshots[best]) for i, s in enumerate(snapshots) if i != best)
    fresh = mlp(seed=99)
    meta = T.load_checkpoint(ck, fresh)  # the checkpoint holds the best epoch
    assert meta["epoch"] == best and params_equal(fresh.state_dict(), snapshots[best])
    assert meta["history"].val_loss == curve[:best + 1]


# ---------------------------------------------------------------- checkpoints and history files


def test_checkpoint_round_trip_is_bit_exact_for_model_and_network(tmp_path, moons):
    train, _ = moons
    model = mlp()
    T.fit(model, train, epochs=1, progress=False)
    h = T.History(loss=[0.5], train_acc=[0.75], lr=[0.1], seconds=[0.01], best_epoch=0)
    T.save_checkpoint(tmp_path / "m.npz", model, h, note="hello", step=3)
    other = mlp(seed=42)
    assert not params_equal(other.state_dict(), model.state_dict())
    meta = T.load_checkpoint(tmp_path / "m.npz", other)
    assert params_equal(other.state_dict(), model.state_dict())
    assert meta["note"] == "hello" and meta["step"] == 3 and meta["kind"] == "model"
    assert meta["history"] == h

    net = Network([2, 7, 3], dtype=np.float32, seed=0)
    T.save_checkpoint(tmp_path / "n.npz", net)
    net2 = Network([2, 7, 3], dtype=np.float32, seed=1)
    meta = T.load_checkpoint(tmp_path / "n.npz", net2)
    assert meta["history"] is None and meta["kind"] == "network"
    for a, b in zip(net.weights + net.biases, net2.weights + net2.biases):
        assert a.dtype == b.dtype == np.float32 and a.tobytes() == b.tobytes()


def test_loading_into_a_different_shape_names_parameter_and_shapes(tmp_path):
    T.save_checkpoint(tmp_path / "m.npz", mlp(hidden=16))
    wrong = mlp(hidden=8)
    before = wrong.state_dict()
    with pytest.raises(T.CheckpointError, match=r"'0\.W'.*\(16, 2\).*\(8, 2\)"):
        T.load_checkpoint(tmp_path / "m.npz", wrong)
    assert params_equal(wrong.state_dict(), before)  # nothing half-loaded
    T.save_checkpoint(tmp_path / "n.npz", Network([2, 16, 2]))
    with pytest.raises(T.CheckpointError, match=r"'weights\.0'.*\(16, 2\).*\(4, 2\)"):
        T.load_checkpoint(tmp_path / "n.npz", Network([2, 4, 2]))
    with pytest.raises(T.CheckpointError, match="network"):
        T.load_checkpoint(tmp_path / "n.npz", mlp())
    with pytest.raises(T.CheckpointError, match="missing"):
        T.load_checkpoint(tmp_path / "m.npz", Model([Dense(2, 16), ReLU(), Dense(16, 2), ReLU(), Dense(2, 2)]))


def test_failed_checkpoint_write_leaves_old_file_and_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    old = mlp(seed=1)
    T.save_checkpoint(path, old)
    old_bytes = path.read_bytes()

    def broken_savez(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half an archive")  # a partial write, then the crash
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        T.save_checkpoint(path, mlp(seed=2))
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ck.npz"]
    assert path.read_bytes() == old_bytes
    restored = mlp(seed=3)
    T.load_checkpoint(path, restored)
    assert params_equal(restored.state_dict(), old.state_dict())


def test_history_json_round_trip(tmp_path, moons):
    train, val = moons
    h = T.fit(mlp(), train, val, epochs=3, progress=False)
    h.save(tmp_path / "h.json")
    assert os.listdir(tmp_path) == ["h.json"]
    assert T.History.load(tmp_path / "h.json") == h
    d = json.loads((tmp_path / "h.json").read_text())
    assert set(d) >= {"loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "best_epoch"}
    assert h.to_dict()["val_acc"] == h.val_acc


def test_evaluate_in_batches_equals_one_batch(moons):
    _, (Xv, yv) = moons
    model = mlp()
    small, whole = T.evaluate(model, Xv, yv, batch_size=7), T.evaluate(model, Xv, yv, batch_size=10_000)
    assert small["loss"] == pytest.approx(whole["loss"], rel=1e-12)
    assert small["accuracy"] == whole["accuracy"] == pytest.approx(np.mean(B.to_host(model.predict(Xv)) == yv))
    assert whole["loss"] == pytest.approx(model.loss(Xv, yv), rel=1e-12)


# ---------------------------------------------------------------- device-agnostic


def test_fit_runs_on_the_strict_backend(strict, tmp_path):
    split = D.digits(split=(120, 40, 40))
    (X, y), (Xv, yv) = split.train, split.val
    nnlib.seed(0)
    model = Model([Dense(64, 16, "he"), ReLU(), Dropout(0.1), Dense(16, 10)])
    h = T.fit(model, (X, y), (Xv, yv), epochs=1, optimizer="adam", lr=0.01, seed=0, progress=False,
              early_stopping=1, checkpoint=tmp_path / "mlp.npz", train_eval_size=50)
    assert len(h) == 1 and np.isfinite(h.loss[0])
    assert isinstance(model.params()[0], B.xp.ndarray)
    T.load_checkpoint(tmp_path / "mlp.npz", model)

    cnn = Model([Conv2D(1, 4, 3, pad=1), ReLU(), MaxPool2D(2), Flatten(), Dense(4 * 4 * 4, 10)])
    images = (X.reshape(-1, 1, 8, 8), y)
    h = T.fit(cnn, images, (Xv.reshape(-1, 1, 8, 8), yv), epochs=1, batch_size=32, optimizer="sgd", lr=0.05,
              seed=0, progress=False)
    assert len(h) == 1 and 0 <= h.val_acc[0] <= 1
    assert set(T.evaluate(cnn, *images)) == {"loss", "accuracy"}

    net = Network([64, 10, 10])
    for optimizer in ("sgd", "momentum"):  # Network._step and the backprop + optimiser path
        h = T.fit(net, (B.to_device(X), B.to_device(y)), (Xv, yv), epochs=1, optimizer=optimizer, lr=0.1,
                  seed=0, progress=False)
        assert len(h) == 1 and np.isfinite(h.val_loss[0])


def test_reserved_metadata_names_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        T.save_checkpoint(tmp_path / "m.npz", mlp(), None, model="mlp")
    assert list(tmp_path.iterdir()) == []
