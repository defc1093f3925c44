"""nnlib.notebook: the helpers the lectures share (no copies pasted into notebooks)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nnlib import notebook  # noqa: E402


def test_missing_mnist_prints_the_loaders_own_message_and_falls_back(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path))
    split, source, shape = notebook.load_mnist_or_digits(download=False)
    out = capsys.readouterr().out
    assert source == "digits (8×8)" and shape == (8, 8) and split.train[0].shape[1] == 64
    # the loader's message: where to put which files (not just the exception's class name)
    assert str(tmp_path / "mnist") in out and "train-images-idx3-ubyte.gz" in out and "sha256" in out
    assert "NNLIB_DATA" in out


def test_load_history_missing_names_the_command(tmp_path, capsys):
    assert notebook.load_history("nothing", folder=tmp_path) is None
    assert "bench/accuracy.py" in capsys.readouterr().out


def test_figure_problems_and_empty_figures():
    plt.close("all")
    fig, axes = plt.subplots(2, 2)
    axes[0, 0].plot([0, 1], [1, 0])
    axes[0, 1].bar([1, 2], [3, 4])
    axes[1, 0].imshow([[0, 1], [1, 0]])
    axes[1, 1].set_title("empty")
    assert notebook.figure_problems(fig) == ["axes 3 'empty': no data drawn"]
    assert notebook.empty_figures() == [f"figure {fig.number}, axes 3 'empty': no data drawn"]
    axes[1, 1].axis("off")
    assert notebook.figure_problems(fig) == []
    plt.close(fig)
