"""The GPU check, for the day a GPU is available (under five minutes):

    python bench/gpu.py               # on a machine with an NVIDIA GPU and CuPy (pip install -e ".[gpu]")

1. runs the tests marked ``gpu`` (tests/test_gpu.py) on CuPy: float64 gradient checks of every layer, CNN
   training steps equal to the CPU's within tolerance, lecture 9 (course/09_mnist_gpu.ipynb) executed on the GPU
   with NNLIB_BACKEND=cupy (NNLIB_QUICK=1, a short run);
2. times rows 2 (MLP) and 3 (CNN) of bench/run.py — the same models, float32, SGD, minibatches of 64 of a fresh
   permutation each epoch — on CuPy, against PyTorch CUDA when torch with CUDA is installed, with nnlib on the
   CPU (NumPy) for scale;

and prints one table (also written to bench/RESULTS-gpu.md; ``--out`` elsewhere).  On a machine without a
working GPU it says so and exits 0.  ``--dry-run`` runs the whole script on the CPU — the tests on the strict
backend, the timing on NumPy with a few batches, PyTorch on the CPU — to check the script itself; it writes no
results file unless ``--out`` is given.  The exit status is 1 when a test failed.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the strict backend of --dry-run is the tests' CuPy double

import numpy as np  # noqa: E402

import nnlib  # noqa: E402
from nnlib import backend as B  # noqa: E402

EPOCH_BATCHES = -(-60000 // 64)  # 938 minibatches of 64 in an epoch of 60,000 images
NO_GPU = "No working GPU here"


def _sync() -> None:
    """Wait for the GPU to finish (kernels are asynchronous), so a timer measures the work."""
    if B.name() == "cupy":
        import cupy

        cupy.cuda.Device().synchronize()


def _data(quick: bool) -> tuple[np.ndarray, np.ndarray, str]:
    """MNIST's 60,000 training images (float32 rows) when bench/_data.py finds them, else random ones of the same
    shape: the time of a training step does not depend on the pixel values."""
    try:
        import _data

        X, y = _data.mnist()["train"]
        return X, y, "MNIST"
    except (FileNotFoundError, OSError, ValueError):
        rng = np.random.default_rng(0)
        n = 6400 if quick else 60000
        return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n), "random images (MNIST not found)"


def _time_nnlib(backend: str, make, X: np.ndarray, y: np.ndarray, batches: int, reps: int) -> float:
    """Seconds per epoch (938 minibatches of 64, scaled from ``batches``) of ``model.train_step`` + SGD on
    ``backend``, data already on the device, minibatches gathered from a fresh permutation a chunk at a time."""
    from nnlib import optim

    nnlib.use(backend)
    nnlib.seed(0)
    model = make()
    Xd, yd = B.to_device(X), B.to_device(y)
    n = min(X.shape[0], batches * 64)

    def epoch(n_rows: int, seed: int) -> None:
        opt = optim.SGD(0.1 if len(model.layers) == 3 else 0.01)
        perm = B.to_device(np.random.default_rng(seed).permutation(X.shape[0])[:n_rows])
        for c in range(0, n_rows, 1024):
            idx = perm[c:c + 1024]
            Xc, yc = Xd[idx], yd[idx]
            for k in range(0, Xc.shape[0], 64):
                model.train_step(Xc[k:k + 64], yc[k:k + 64], opt)
        _sync()

    epoch(min(n, 20 * 64), 99)  # warm-up: CuPy compiles its kernels on first use, allocations, BLAS threads
    times = []
    for r in range(reps):
        t0 = time.perf_counter()
        epoch(n, r)
        times.append((time.perf_counter() - t0) * EPOCH_BATCHES * 64 / n)
    nnlib.use("numpy")
    return statistics.median(times)


def _time_torch(device: str, make, X: np.ndarray, y: np.ndarray, batches: int, reps: int, lr: float) -> float:
    """The same for PyTorch on ``device``: bench/torch_models.py's models and loop, with the tensors on the device."""
    import torch
    import torch_models as TM

    dev = torch.device(device)
    model = make().to(dev)
    Xt = torch.from_numpy(X).to(dev)
    if model[0].__class__.__name__ == "Conv2d":
        Xt = Xt.reshape(-1, 1, 28, 28)
    yt = torch.from_numpy(y.astype(np.int64)).to(dev)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = min(X.shape[0], batches * 64)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def epoch(n_rows: int, seed: int) -> None:
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        perm = torch.randperm(Xt.shape[0], generator=torch.Generator().manual_seed(seed))[:n_rows].to(dev)
        for c in range(0, n_rows, TM.SHUFFLE_CHUNK):
            idx = perm[c:c + TM.SHUFFLE_CHUNK]
            Xc, yc = Xt.index_select(0, idx), yt.index_select(0, idx)
            for k in range(0, Xc.shape[0], 64):
                opt.zero_grad(set_to_none=True)
                loss_fn(model(Xc[k:k + 64]), yc[k:k + 64]).backward()
                opt.step()
        sync()

    epoch(min(n, 20 * 64), 99)
    times = []
    for r in range(reps):
        t0 = time.perf_counter()
        epoch(n, r)
        times.append((time.perf_counter() - t0) * EPOCH_BATCHES * 64 / n)
    return statistics.median(times)


def _torch_device(dry_run: bool) -> tuple[str | None, str]:
    try:
        import torch
    except ImportError:
        return None, "PyTorch is not installed: no PyTorch column (pip install torch, a CUDA build)"
    if torch.cuda.is_available():
        return "cuda", f"PyTorch {torch.__version__} on {torch.cuda.get_device_name(0)}"
    if dry_run:
        return "cpu", f"PyTorch {torch.__version__} on the CPU (dry run)"
    return None, f"PyTorch {torch.__version__} has no CUDA here (a CPU-only build?): no PyTorch column"


def run_tests(dry_run: bool, notebook: bool) -> tuple[int, str, float]:
    """pytest -m gpu tests/test_gpu.py in a fresh process; (exit status, its summary line, seconds)."""
    env = dict(os.environ, NNLIB_QUICK=os.environ.get("NNLIB_QUICK", "1"))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    if dry_run:
        env["NNLIB_GPU_TESTS_ON"] = "strict"
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider", "tests/test_gpu.py"]
    if not notebook:
        cmd += ["-k", "not lecture_9"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - t0
    lines = [ln for ln in p.stdout.strip().splitlines() if ln.strip()]
    summary = re.sub(r"=+", "", lines[-1]).strip() if lines else "(no output)"
    if p.returncode != 0:
        print(p.stdout[-6000:])
    return p.returncode, summary, seconds


def device_info(dry_run: bool) -> str:
    if dry_run:
        return f"dry run on the CPU ({platform.processor() or platform.machine()}): no GPU involved"
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return (f"{name}, {props['totalGlobalMem'] / 2**30:.0f} GiB; CuPy {cupy.__version__}, CUDA runtime "
            f"{cupy.cuda.runtime.runtimeGetVersion()}, driver {cupy.cuda.runtime.driverGetVersion()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="run everything on the CPU, to check this script")
    ap.add_argument("--no-notebook", action="store_true", help="skip executing lecture 9")
    ap.add_argument("--no-tests", action="store_true", help="timing only")
    ap.add_argument("--out", type=Path, help="where to write the table (default bench/RESULTS-gpu.md on a GPU)")
    args = ap.parse_args(argv)
    err = None if args.dry_run else B._gpu_error()
    if err is not None:
        print(f"{NO_GPU} ({err}).\nNothing to run: bench/gpu.py needs an NVIDIA GPU with CuPy "
              "(pip install -e \".[gpu]\"). The CPU benchmark is bench/run.py; the GPU-readiness checks that need "
              "no GPU run in the test suite (tests/test_cupy_surface.py, the strict backend).")
        return 0
    t_start = time.perf_counter()
    info = device_info(args.dry_run)
    print(f"GPU check: {info}", flush=True)
    status, summary, t_tests = 0, "not run (--no-tests)", 0.0
    if not args.no_tests:
        print("running the tests marked gpu (tests/test_gpu.py) ...", flush=True)
        status, summary, t_tests = run_tests(args.dry_run, not args.no_notebook)
        print(f"  {summary} ({t_tests:.0f} s)", flush=True)

    from run import _nnlib_models  # bench/run.py's models for rows 2 and 3

    X, y, source = _data(args.dry_run)
    device = "strict" if args.dry_run else "cupy"
    torch_dev, torch_note = _torch_device(args.dry_run)
    reps = 2 if args.dry_run else 3
    sizes = {"mlp": 10 if args.dry_run else 300, "cnn": 3 if args.dry_run else 100}  # timed batches per rep
    cpu_batches = {"mlp": 10 if args.dry_run else 100, "cnn": 3 if args.dry_run else 10}
    mlp_fn, cnn_fn = _nnlib_models()
    import torch_models as TM

    rows = []
    for key, title, make, tmake, lr, Xr in [
            ("mlp", "2. MLP [784,100,10] ReLU, softmax CE, SGD, batch 64", mlp_fn, TM.mlp, 0.1, X),
            ("cnn", "3. CNN conv5×5×20-pool-conv5×5×40-pool-100-10, batch 64", cnn_fn, TM.cnn, 0.01,
             X.reshape(-1, 1, 28, 28))]:
        print(f"timing {key} ...", flush=True)
        gpu = _time_nnlib(device, make, Xr, y, sizes[key], reps)
        tor = _time_torch(torch_dev, tmake, X, y, sizes[key], reps, lr) if torch_dev else None
        cpu = _time_nnlib("numpy", make, Xr, y, cpu_batches[key], 1 if args.dry_run else 2)
        rows.append((title, gpu, tor, cpu))

    gpu_col = "nnlib strict (dry run)" if args.dry_run else "nnlib CuPy"
    tor_col = f"PyTorch {torch_dev.upper() if torch_dev else 'CUDA'}"
    f = lambda v, fmt="{:.3f}": "—" if v is None else fmt.format(v)  # noqa: E731
    lines = [f"# nnlib on the GPU{' (DRY RUN on the CPU — not GPU figures)' if args.dry_run else ''}", "",
             f"Command: `python bench/gpu.py{' --dry-run' if args.dry_run else ''}`. Device: {info}. "
             f"{torch_note}. Data: {source}.", "",
             f"Tests marked gpu (tests/test_gpu.py): **{summary}** ({t_tests:.0f} s).", "",
             "Seconds per training epoch (60,000 images, 938 minibatches of 64, float32; median of "
             f"{reps} repetitions of {sizes['mlp']} (MLP) and {sizes['cnn']} (CNN) timed minibatches, scaled), "
             "after a warm-up; data on the device, a fresh permutation per epoch. nnlib synchronises once per "
             "step (the loss's float()); PyTorch only at the end of the epoch.", "",
             f"| row | {gpu_col} (s) | {tor_col} (s) | nnlib/PyTorch | nnlib NumPy, CPU (s) | CPU/GPU |",
             "|---|---|---|---|---|---|"]
    for title, gpu, tor, cpu in rows:
        lines.append(f"| {title} | {f(gpu)} | {f(tor)} | {f(tor and gpu / tor)} | {f(cpu)} | "
                     f"{f(cpu / gpu, '{:.1f}×')} |")
    lines += ["", f"Total wall time {time.perf_counter() - t_start:.0f} s.", ""]
    text = "\n".join(lines)
    print("\n" + text)
    out = args.out or (None if args.dry_run else HERE / "RESULTS-gpu.md")
    if out is not None:
        out.write_text(text)
        print(f"written {out}")
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
