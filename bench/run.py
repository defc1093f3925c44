"""nnlib vs Nielsen's per-example loop vs PyTorch CPU vs JAX CPU, side by side (issues 3 and 12).

    python bench/run.py            # the full benchmark, writes bench/RESULTS.md
    python bench/run.py --quick    # a smoke version (< 1 minute), writes bench/RESULTS-quick.md

Each thread setting (1, then 2) runs in a fresh subprocess (threadpoolctl limits NumPy's BLAS,
torch.set_num_threads limits PyTorch; a setting below the machine's core count also pins the whole process
to that many cores before anything is imported, the one limit JAX's CPU runtime obeys).  Inside it, the
contenders of a row are timed interleaved
(A B C A B C ...), and the median of the repetitions is reported with the ratios.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

CNN_BATCHES_PER_EPOCH = -(-60000 // 64)  # 938
# multiply-adds per image, forward: conv1 20·24·24·25, conv2 40·8·8·500, dense 640·100 + 100·10
CNN_FWD_FLOPS = 2 * (20 * 24 * 24 * 25 + 40 * 8 * 8 * 500 + 640 * 100 + 100 * 10)
CNN_FLOPS_PER_IMAGE = 3 * CNN_FWD_FLOPS  # backward: ∂W and ∂x, each as many as the forward


# ------------------------------------------------------------------ contenders (run in the worker)

def _nnlib_models():
    import numpy as np

    from nnlib import layers as L
    from nnlib.model import Model
    f = np.float32

    def mlp():
        return Model([L.Dense(784, 100, "he", dtype=f), L.ReLU(), L.Dense(100, 10, dtype=f)],
                     cost="softmax_cross_entropy")

    def cnn():
        return Model([L.Conv2D(1, 20, 5, dtype=f), L.ReLU(), L.MaxPool2D(2), L.Conv2D(20, 40, 5, dtype=f), L.ReLU(),
                      L.MaxPool2D(2), L.Flatten(), L.Dense(640, 100, "he", dtype=f), L.ReLU(),
                      L.Dense(100, 10, dtype=f)], cost="softmax_cross_entropy")
    return mlp, cnn


def _train_model(model, X, y, batch, lr, max_batches=None, seed=0):
    """One epoch of ``model.train_step`` over minibatches in a fresh random order (as Nielsen's SGD and the
    PyTorch contenders): a new permutation per call, rows gathered a chunk of ~1,000 at a time."""
    import numpy as np

    from nnlib import optim
    opt = optim.SGD(lr)
    perm = np.random.default_rng(seed).permutation(X.shape[0])
    n = X.shape[0] if max_batches is None else min(X.shape[0], max_batches * batch)
    chunk = batch * max(1, 1024 // batch)
    for c in range(0, n, chunk):
        idx = perm[c:min(c + chunk, n)]
        Xc, yc = X[idx], y[idx]
        for k in range(0, Xc.shape[0], batch):
            model.train_step(Xc[k:k + batch], yc[k:k + batch], opt)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def gemm_gflops(reps: int = 3, n: int = 2048) -> float:
    import numpy as np
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    a @ a
    return max(2 * n ** 3 / _timed(lambda: a @ a) for _ in range(reps)) / 1e9


def pin_to_cores(threads: int) -> list[int]:
    """Restrict this process (and every thread it starts later) to ``threads`` of its cores.

    JAX sizes its CPU thread pool from the affinity mask and ignores XLA_FLAGS' thread options, so this is the
    way to give it one core; for NumPy and PyTorch, already limited to ``threads`` threads, it changes nothing
    but where their threads run."""
    cores = sorted(os.sched_getaffinity(0))
    if threads < len(cores):
        os.sched_setaffinity(0, cores[:threads])
    return sorted(os.sched_getaffinity(0))


def worker(threads: int, quick: bool) -> dict:
    cores = pin_to_cores(threads)  # first: before any library starts a thread
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    import nnlib  # noqa: F401  (first: it loads SciPy, whose wheels bundle a second OpenBLAS)
    threadpool_limits(threads)  # limits every BLAS loaded so far, so both OpenBLAS copies
    import _data
    import floors
    import jax_models as JM
    import nielsen_loop
    import torch_models as TM

    from nnlib.network import Network
    if TM.available():
        import torch
        torch.set_num_threads(threads)
    reps = 3 if quick else 5
    d = _data.mnist()
    X, y = d["train"]
    X50, Y50 = X[:50000], np.eye(10, dtype=np.float32)[y[:50000]]
    X50_64, Y50_64 = X50.astype(np.float64), Y50.astype(np.float64)
    Xc = X.reshape(-1, 1, 28, 28)
    loop_n = 1000 if quick else 5000
    torch_nielsen_batches = {10: 500 if quick else None, 100: 100 if quick else None}
    cnn_batches = 10 if quick else 60
    mlp_fn, cnn_fn = _nnlib_models()
    notes = []

    def nnlib_nielsen(batch):
        net = Network([784, 30, 10], dtype=np.float32, seed=0)
        return net.SGD((X50, Y50), 1, batch, 3.0, seed=0, verbose=False)["seconds"][0]

    def loop_nielsen(batch):
        net = nielsen_loop.Network([784, 30, 10])
        return _timed(lambda: net.SGD_epoch(X50_64[:loop_n], Y50_64[:loop_n], batch, 3.0)) * 50000 / loop_n

    def torch_nielsen(batch):
        m = TM.nielsen_net()
        nb = torch_nielsen_batches[batch]
        t = _timed(lambda: TM.train_quadratic(m, X50, Y50, batch, 3.0, max_batches=nb))
        return t * 50000 / (nb * batch) if nb else t

    def nnlib_mlp():
        m = mlp_fn()
        nb = 200 if quick else None
        t = _timed(lambda: _train_model(m, X, y, 64, 0.1, nb))
        return t * 60000 / (nb * 64) if nb else t

    def torch_mlp():
        m = TM.mlp()
        nb = 200 if quick else None
        t = _timed(lambda: TM.train_cross_entropy(m, X, y, 64, 0.1, nb))
        return t * 60000 / (nb * 64) if nb else t

    def nnlib_cnn():
        m = cnn_fn()
        _train_model(m, Xc[:128], y[:128], 64, 0.01)  # warm-up: allocations, BLAS threads
        return _timed(lambda: _train_model(m, Xc, y, 64, 0.01, cnn_batches)) * CNN_BATCHES_PER_EPOCH / cnn_batches

    def torch_cnn():
        m = TM.cnn()
        TM.train_cross_entropy(m, Xc[:128], y[:128], 64, 0.01)
        t = _timed(lambda: TM.train_cross_entropy(m, Xc, y, 64, 0.01, cnn_batches))
        return t * CNN_BATCHES_PER_EPOCH / cnn_batches

    # JAX: one compiled step per minibatch ("jit") and the epoch as one lax.scan ("scan"); compiled before the
    # repetitions (compile seconds reported), parameters drawn outside the timed epoch as for the others.
    jax_trainers, compile_s = {}, {}
    jax_cnn_scan_batches = 4 if quick else 8  # a convolution inside XLA's CPU loop is ~10× slower per step

    def jax_epoch(model, data, batch, lr, variant, n_batches=None, scale=1.0):
        key = (model, batch)
        if key not in jax_trainers:
            jax_trainers[key] = JM.Trainer(model, *data(), batch, lr)
        tr, init = jax_trainers[key], JM.MODELS[model][0]
        if (key, variant, n_batches) not in compile_s:
            compile_s[(key, variant, n_batches)] = _timed(lambda: tr.warm_up(init, variant, n_batches))
        params = init(0)
        perm = np.random.default_rng(0).permutation(tr.n)
        return _timed(lambda: tr.epoch(params, perm, variant, n_batches)) * scale

    def jax_nielsen(batch, variant):
        return jax_epoch("nielsen", lambda: (X50, Y50), batch, 3.0, variant)

    def jax_mlp(variant):
        nb = 200 if quick else None
        return jax_epoch("mlp", lambda: (X, y.astype(np.int32)), 64, 0.1, variant, nb,
                         60000 / (nb * 64) if nb else 1.0)

    def jax_cnn(variant):
        nb = cnn_batches if variant == "jit" else jax_cnn_scan_batches
        return jax_epoch("cnn", lambda: (X, y.astype(np.int32)), 64, 0.01, variant, nb, CNN_BATCHES_PER_EPOCH / nb)

    def floor(n_hidden, batch, column_major, Xs):
        return _timed(lambda: floors.floor_dense(Xs, n_hidden, batch, column_major_w=column_major))

    rows = {
        "nielsen_b10": {"nnlib": lambda: nnlib_nielsen(10), "loop": lambda: loop_nielsen(10),
                        "torch": lambda: torch_nielsen(10), "floor": lambda: floor(30, 10, False, X50)},
        "nielsen_b100": {"nnlib": lambda: nnlib_nielsen(100), "torch": lambda: torch_nielsen(100),
                         "floor": lambda: floor(30, 100, False, X50)},
        "mlp_b64": {"nnlib": nnlib_mlp, "torch": torch_mlp, "floor": lambda: floor(100, 64, True, X)},
        "cnn_b64": {"nnlib": nnlib_cnn, "torch": torch_cnn},
    }
    jax_rows = {"nielsen_b10": lambda v: jax_nielsen(10, v), "nielsen_b100": lambda v: jax_nielsen(100, v),
                "mlp_b64": jax_mlp, "cnn_b64": jax_cnn}
    for row, fn in jax_rows.items():
        for v in ("jit", "scan"):
            rows[row][f"jax_{v}"] = (lambda fn=fn, v=v: fn(v))
    if not TM.available():
        notes.append("torch is not installed: the PyTorch rows are skipped (pip install torch==2.13.0)")
        for r in rows.values():
            r.pop("torch", None)
    if not JM.available():
        notes.append("jax is not installed: the JAX columns are skipped (pip install jax)")
        for r in rows.values():
            r.pop("jax_jit", None), r.pop("jax_scan", None)
    results = {}
    for row, contenders in rows.items():
        times = {k: [] for k in contenders}
        for _ in range(reps):  # interleaved: A B C A B C ...
            for k, fn in contenders.items():
                times[k].append(fn())
        results[row] = {k: {"median_s": statistics.median(v), "all_s": v} for k, v in times.items()}
        print(f"  [{threads} thread(s)] {row}: " + ", ".join(f"{k} {statistics.median(v):.3f} s" for k, v in
                                                         times.items()), file=sys.stderr, flush=True)
    blas = [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "threading_layer")}
            for i in threadpool_info()]
    return {"threads": threads, "cores": cores, "reps": reps, "loop_subset": loop_n, "cnn_batches": cnn_batches,
            "jax_cnn_scan_batches": jax_cnn_scan_batches,
            "jax_compile_s": {f"{m}/b{b} {v}": t for ((m, b), v, _), t in compile_s.items()},
            "torch_nielsen_batches": torch_nielsen_batches, "gemm_gflops": gemm_gflops(), "rows": results,
            "blas": blas, "notes": notes, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def memprobe(which: str) -> dict:
    """Peak resident memory of a process that trains the CNN for 20 batches (nnlib, torch or JAX), 1 core."""
    pin_to_cores(1)
    import numpy as np
    from threadpoolctl import threadpool_limits

    import nnlib  # noqa: F401  (before the limit, as in worker)
    threadpool_limits(1)
    import _data
    d = _data.mnist()
    X, y = d["train"]
    Xc = np.ascontiguousarray(X[:1280].reshape(-1, 1, 28, 28))
    yy = y[:1280]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if which == "nnlib":
        _train_model(_nnlib_models()[1](), Xc, yy, 64, 0.01)
    elif which == "jax":
        import jax_models as JM
        tr = JM.Trainer("cnn", Xc.reshape(-1, 784), yy.astype(np.int32), 64, 0.01)
        tr.epoch(JM.cnn_init(0), np.arange(tr.n), "jit")
    else:
        import torch
        import torch_models as TM
        torch.set_num_threads(1)
        TM.train_cross_entropy(TM.cnn(), Xc, yy, 64, 0.01)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"peak_mb": peak, "before_training_mb": base}


# ------------------------------------------------------------------ driver

def machine() -> dict:
    import numpy as np
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch
        tv = torch.__version__
    except ImportError:
        tv = "not installed"
    try:
        import jax
        jv = jax.__version__
    except ImportError:
        jv = "not installed"
    return {"cpu": cpu, "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "numpy": np.__version__, "torch": tv, "jax": jv,
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
            "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)")}


def _sub(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ratio(row: dict, a: str, b: str) -> float | None:
    return row[a]["median_s"] / row[b]["median_s"] if a in row and b in row else None


def _best_jax_ratio(row: dict, who: str = "nnlib") -> float | None:
    jax = [row[k]["median_s"] for k in ("jax_jit", "jax_scan") if k in row]
    return row[who]["median_s"] / min(jax) if jax and who in row else None


# (row, what, against: "loop" / "torch" / "jax" (the best JAX variant), {threads: limit}, note).  A target of
# issue 3 that issue 12 retired is still reported, with its note in place of "met".
TARGETS = [
    ("nielsen_b10", "nnlib ≥ 20× the per-example loop", "loop", {1: 0.05, 2: 0.05},
     "reported, not a target (floor analysis: ANALYSIS.md)"),
    ("nielsen_b10", "nnlib vs PyTorch (issue 3)", "torch", {1: 0.15, 2: 0.15}, None),
    ("nielsen_b10", "nnlib vs the best JAX (issue 12)", "jax", {1: 1.0}, None),
    ("nielsen_b100", "nnlib vs PyTorch (issue 3)", "torch", {1: 0.35, 2: 0.35}, None),
    ("nielsen_b100", "nnlib vs the best JAX (issue 12)", "jax", {1: 1.0}, None),
    ("mlp_b64", "nnlib vs PyTorch (issue 3)", "torch", {1: 0.5, 2: 0.5}, None),
    ("mlp_b64", "nnlib vs the best JAX (issue 12)", "jax", {1: 1.0}, None),
    ("cnn_b64", "nnlib vs PyTorch (issue 12)", "torch", {1: 0.85, 2: 1.0}, None),
]


def report(info: dict, runs: list[dict], mem: dict, quick: bool, seconds: float) -> str:
    def f(x, fmt="{:.3f}"):
        return "—" if x is None else fmt.format(x)

    lines = [f"# nnlib benchmark results{' (QUICK smoke run — not the reference figures)' if quick else ''}", "",
             f"Command: `python bench/run.py{' --quick' if quick else ''}` — total wall time {seconds:.0f} s.", "",
             "## Machine", "",
             f"- CPU: {info['cpu']}, {info['cores']} logical cores ({info['affinity']} usable)",
             f"- Python {info['python']}, NumPy {info['numpy']}, PyTorch {info['torch']} (CPU), "
             f"JAX {info['jax']} (CPU)",
             "- Cores per thread setting (the worker's CPU affinity): "
             + "; ".join(f"{r['threads']} thread(s) → cores {r['cores']}" for r in runs),
             "- BLAS (threadpoolctl): " + "; ".join(
                 f"{b['internal_api']} {b['version']} ({b['architecture']}, threading {b.get('threading_layer')})"
                 for b in runs[0]["blas"]),
             f"- OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}, OPENBLAS_L2_SIZE={info['OPENBLAS_L2_SIZE']} "
             "(left as found)",
             f"- Date: {info['date']}", "",
             "Times are seconds per training epoch, median of "
             f"{runs[0]['reps']} interleaved repetitions in one process per thread setting.", "",
             "What these figures mean, which targets are out of reach and why, and how they moved between "
             "rounds: [ANALYSIS.md](ANALYSIS.md) (written by hand; this file is generated).", ""]
    titles = {"nielsen_b10": "1a. Nielsen [784,30,10] sigmoid, quadratic, batch 10, η=3, 50,000 images",
              "nielsen_b100": "1b. Nielsen [784,30,10], batch 100, 50,000 images",
              "mlp_b64": "2. [784,100,10] ReLU, softmax CE, SGD, batch 64, 60,000 images",
              "cnn_b64": "3. CNN conv5×5×20-pool-conv5×5×40-pool-100-10, softmax CE, batch 64, 60,000 images"}
    lines += ["## Results", "", "Seconds per epoch; `best JAX` is the faster of the two JAX variants in the same "
              "run.", "",
              "| row | threads | nnlib | loop | PyTorch | JAX jit | JAX scan | nnlib/PyTorch | nnlib/best JAX |",
              "|---|---|---|---|---|---|---|---|---|"]
    for row, title in titles.items():
        for r in runs:
            res = r["rows"][row]
            med = {k: v["median_s"] for k, v in res.items()}
            lines.append(f"| {title} | {r['threads']} | {f(med['nnlib'])} | {f(med.get('loop'))} | "
                         f"{f(med.get('torch'))} | {f(med.get('jax_jit'))} | {f(med.get('jax_scan'))} | "
                         f"{f(_ratio(res, 'nnlib', 'torch'))} | {f(_best_jax_ratio(res))} |")
    lines += ["", "### Targets", "",
              "| row | target | 1 thread | 2 threads | met |", "|---|---|---|---|---|"]
    for row, label, kind, lims, note in TARGETS:
        vals = []
        for r in runs:
            res = r["rows"][row]
            vals.append(_best_jax_ratio(res) if kind == "jax" else _ratio(res, "nnlib", kind))
        by_threads = dict(zip([r["threads"] for r in runs], vals))
        checks = [(by_threads.get(th), lim) for th, lim in lims.items() if th in by_threads]
        if note:
            met = note
        elif any(v is None for v, _ in checks) or not checks:
            met = "—"
        else:
            met = "yes" if all(v <= lim for v, lim in checks) else "**no**"
        lines.append(f"| {titles[row].split('.')[0]}. {label} | "
                     + ", ".join(f"≤ {lim} at {th} thread{'s' if th > 1 else ''}" for th, lim in lims.items())
                     + f" | {f(by_threads.get(1))} | {f(by_threads.get(2))} | {met} |")
    lines += ["", "## The floor: what any NumPy implementation of these rows must spend", "",
              "`floor` (bench/floors.py) times only the shuffle and gather, the first layer's forward product "
              "x Wᵀ and weight gradient δᵀ x, and one pass updating W — per minibatch, with preallocated outputs, "
              "in the library's float32 layouts — and nothing else (no second layer, activation, cost, bias or "
              "optimiser bookkeeping). A target ratio below floor/reference cannot be met by a NumPy "
              "implementation on this machine; the gap nnlib − floor is everything else nnlib does.", "",
              "`floor/best JAX` is the same bound for the nnlib/JAX targets: XLA fuses the gather into the products "
              "and the update into the gradient, which NumPy cannot express.", "",
              "| row | threads | floor (s) | nnlib (s) | floor/PyTorch | floor/best JAX | floor/loop | target | "
              "nnlib − floor (s) |",
              "|---|---|---|---|---|---|---|---|---|"]
    short = {"nielsen_b10": "1a. Nielsen batch 10", "nielsen_b100": "1b. Nielsen batch 100", "mlp_b64": "2. MLP"}
    floor_targets = {"nielsen_b10": "nnlib/torch ≤ 0.15, nnlib/JAX ≤ 1.0",
                     "nielsen_b100": "nnlib/torch ≤ 0.35, nnlib/JAX ≤ 1.0",
                     "mlp_b64": "nnlib/torch ≤ 0.5, nnlib/JAX ≤ 1.0"}
    for row, tgt in floor_targets.items():
        for r in runs:
            res = r["rows"][row]
            if "floor" not in res:
                continue
            lines.append(f"| {short[row]} | {r['threads']} | {f(res['floor']['median_s'])} | "
                         f"{f(res['nnlib']['median_s'])} | {f(_ratio(res, 'floor', 'torch'))} | "
                         f"{f(_best_jax_ratio(res, 'floor'))} | {f(_ratio(res, 'floor', 'loop'))} | {tgt} | "
                         f"{f(res['nnlib']['median_s'] - res['floor']['median_s'])} |")
    lines += ["", "## CNN throughput and memory", "",
              f"FLOPs counted per image: forward {CNN_FWD_FLOPS / 1e6:.2f} MFLOP (conv + dense), ×3 for "
              f"forward + backward (∂W and ∂x) = {CNN_FLOPS_PER_IMAGE / 1e6:.2f} MFLOP; "
              f"epoch = 60,000 images = {60000 * CNN_FLOPS_PER_IMAGE / 1e9:.0f} GFLOP.", "",
              "| threads | float32 GEMM 2048³ (GFLOP/s) | nnlib CNN (GFLOP/s) | PyTorch CNN (GFLOP/s) | "
              "JAX jit CNN (GFLOP/s) |",
              "|---|---|---|---|---|"]
    for r in runs:
        res = r["rows"]["cnn_b64"]
        def g(k, res=res):
            return 60000 * CNN_FLOPS_PER_IMAGE / 1e9 / res[k]["median_s"] if k in res else None
        lines.append(f"| {r['threads']} | {r['gemm_gflops']:.1f} | {f(g('nnlib'), '{:.1f}')} | "
                     f"{f(g('torch'), '{:.1f}')} | {f(g('jax_jit'), '{:.1f}')} |")
    lines += ["", "Peak resident memory (ru_maxrss) of a fresh process training the CNN for 20 batches of 64 "
              "(1 thread), including the interpreter, NumPy and the loaded MNIST arrays:", ""]
    for k, v in mem.items():
        lines.append(f"- {k}: peak {v['peak_mb']:.0f} MB (before training {v['before_training_mb']:.0f} MB)"
                     if v else f"- {k}: skipped")
    lines += ["", "## How each figure was measured", "",
              "- nnlib Nielsen rows: `Network([784,30,10], dtype=np.float32).SGD(..., epochs=1)`, the epoch time "
              "it records (shuffle + all minibatch steps; not the input checks or the end-of-epoch cost).",
              f"- loop: `bench/nielsen_loop.py` (Nielsen's per-example backprop, float64 as in the lecture) "
              f"timed on the first {runs[0]['loop_subset']} images and scaled ×{50000 // runs[0]['loop_subset']} "
              "to 50,000 (linear: the work per example is constant).",
              "- PyTorch: `bench/torch_models.py`, same architecture, float32, torch.optim.SGD, loss "
              "0.5·Σ(a−y)²/m (Nielsen's ½ convention). Every contender of rows 1–3 (nnlib, the loop, PyTorch) "
              "trains on minibatches of a fresh random permutation each epoch, gathered a chunk of ~1,000 "
              "rows at a time inside the timed epoch (PyTorch: torch.randperm with a seeded generator and "
              "index_select; the loop: Nielsen's list of shuffled columns)."
              + (f" Quick mode times {runs[0]['torch_nielsen_batches']} batches and scales." if quick else ""),
              "- MLP: nnlib `Model([Dense, ReLU, Dense], 'softmax_cross_entropy')` + `optim.SGD(0.1)` via "
              "`train_step`, vs nn.Sequential + CrossEntropyLoss + SGD(0.1)."
              + (" Quick mode: 200 batches, scaled." if quick else " Full epoch of 938 batches."),
              f"- CNN: after 2 warm-up batches, {runs[0]['cnn_batches']} batches of 64 are timed per repetition "
              f"and scaled ×{CNN_BATCHES_PER_EPOCH}/{runs[0]['cnn_batches']} to the epoch (938 batches).",
              "- JAX: `bench/jax_models.py`, the same models, cost, float32 and plain SGD, written as an expert "
              "JAX user would: `jit` is one `jax.jit` step per minibatch (data on the device once, the step "
              "gathers its rows from the epoch's permutation inside the compiled function, parameters "
              "donated); `scan` is the whole epoch as one `lax.scan` (the ragged last batch through the jitted "
              "step). The CNN in NHWC/HWIO (XLA's CPU convolution layout), transposed once before timing. "
              "Every shape a timed epoch uses is compiled before the repetitions by one untimed warm-up epoch "
              "(its seconds, compilation included, are `jax_compile_s` in the raw timings). The CNN's `scan` "
              "variant times "
              f"{runs[0].get('jax_cnn_scan_batches')} batches per repetition, scaled: a convolution inside "
              "XLA's CPU while-loop runs ~10× slower per step than the same step jitted alone (jax-ml/jax "
              "issue #12868), so a longer timing would only spend minutes confirming it.",
              "- Threads: the 1-thread worker is pinned to one core (CPU affinity) before any import: JAX's CPU "
              "runtime sizes its thread pool from the affinity and ignores XLA_FLAGS' thread options. NumPy "
              "(threadpoolctl) and PyTorch (set_num_threads) are limited to the same number of threads.", ""]
    for r in runs:
        for n in r["notes"]:
            lines.append(f"- Note ({r['threads']} thread(s)): {n}")
    lines += ["", "<details><summary>raw timings (s)</summary>", "", "```json",
              json.dumps([{k: v for k, v in r.items() if k != "blas"} for r in runs], indent=1),
              "```", "</details>", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short smoke version (< 1 minute)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--memprobe", choices=["nnlib", "torch", "jax"], help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help="where to write the report (default bench/RESULTS.md, "
                                              "bench/RESULTS-quick.md with --quick)")
    args = ap.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.quick)))
        return
    if args.memprobe:
        print(json.dumps(memprobe(args.memprobe)))
        return
    t0 = time.perf_counter()
    info = machine()
    print(f"nnlib benchmark on {info['cpu']} ({info['cores']} cores), NumPy {info['numpy']}, "
          f"PyTorch {info['torch']}, JAX {info['jax']}", flush=True)
    if info["torch"] == "not installed":
        print("PyTorch is not installed: the PyTorch rows are skipped. To include them: "
              "pip install torch==2.13.0", flush=True)
    if info["jax"] == "not installed":
        print("JAX is not installed: the JAX columns are skipped. To include them: pip install jax", flush=True)
    runs = []
    for th in args.threads:
        print(f"running with {th} thread(s) in a fresh process ...", flush=True)
        runs.append(_sub(["--worker", str(th)] + (["--quick"] if args.quick else [])))
    mem = {"nnlib": _sub(["--memprobe", "nnlib"])}
    mem["PyTorch"] = _sub(["--memprobe", "torch"]) if info["torch"] != "not installed" else None
    mem["JAX (per-step jit)"] = _sub(["--memprobe", "jax"]) if info["jax"] != "not installed" else None
    text = report(info, runs, mem, args.quick, time.perf_counter() - t0)
    out = args.out or HERE / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    out.write_text(text)
    print(text.split("## CNN throughput")[0].split("## Results")[1])
    print(f"written {out}")


if __name__ == "__main__":
    main()
