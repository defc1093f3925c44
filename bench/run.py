"""nnlib vs Nielsen's per-example loop vs PyTorch CPU, side by side (issue 3).

    python bench/run.py            # the full benchmark, writes bench/RESULTS.md
    python bench/run.py --quick    # a smoke version (< 1 minute), writes bench/RESULTS-quick.md

Each thread setting (1, then 2) runs in a fresh subprocess (threadpoolctl limits NumPy's BLAS,
torch.set_num_threads limits PyTorch).  Inside it, the contenders of a row are timed interleaved
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


def worker(threads: int, quick: bool) -> dict:
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    import nnlib  # noqa: F401  (first: it loads SciPy, whose wheels bundle a second OpenBLAS)
    threadpool_limits(threads)  # limits every BLAS loaded so far, so both OpenBLAS copies
    import _data
    import floors
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
    if not TM.available():
        notes.append("torch is not installed: the PyTorch rows are skipped (pip install torch==2.13.0)")
        for r in rows.values():
            r.pop("torch", None)
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
    return {"threads": threads, "reps": reps, "loop_subset": loop_n, "cnn_batches": cnn_batches,
            "torch_nielsen_batches": torch_nielsen_batches, "gemm_gflops": gemm_gflops(), "rows": results,
            "blas": blas, "notes": notes, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def memprobe(which: str) -> dict:
    """Peak resident memory of a process that trains the CNN for 20 batches (nnlib or torch), 1 thread."""
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
    return {"cpu": cpu, "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "numpy": np.__version__, "torch": tv,
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
            "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)")}


def _sub(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _ratio(row: dict, a: str, b: str) -> float | None:
    return row[a]["median_s"] / row[b]["median_s"] if a in row and b in row else None


def report(info: dict, runs: list[dict], mem: dict, quick: bool, seconds: float) -> str:
    def f(x, fmt="{:.3f}"):
        return "—" if x is None else fmt.format(x)

    lines = [f"# nnlib benchmark results{' (QUICK smoke run — not the reference figures)' if quick else ''}", "",
             f"Command: `python bench/run.py{' --quick' if quick else ''}` — total wall time {seconds:.0f} s.", "",
             "## Machine", "",
             f"- CPU: {info['cpu']}, {info['cores']} logical cores ({info['affinity']} usable)",
             f"- Python {info['python']}, NumPy {info['numpy']}, PyTorch {info['torch']} (CPU)",
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
    targets = {"nielsen_b10": [("nnlib", "loop", "≤ 0.05 (≥ 20× faster)", 0.05), ("nnlib", "torch", "≤ 0.15", 0.15)],
               "nielsen_b100": [("nnlib", "torch", "≤ 0.35", 0.35)],
               "mlp_b64": [("nnlib", "torch", "≤ 0.5", 0.5)], "cnn_b64": [("nnlib", "torch", "≤ 1.0", 1.0)]}
    titles = {"nielsen_b10": "1a. Nielsen [784,30,10] sigmoid, quadratic, batch 10, η=3, 50,000 images",
              "nielsen_b100": "1b. Nielsen [784,30,10], batch 100, 50,000 images",
              "mlp_b64": "2. [784,100,10] ReLU, softmax CE, SGD, batch 64, 60,000 images",
              "cnn_b64": "3. CNN conv5×5×20-pool-conv5×5×40-pool-100-10, softmax CE, batch 64, 60,000 images"}
    lines += ["## Results", "", "| row | threads | nnlib (s) | loop (s) | PyTorch (s) | ratio | target | met |",
              "|---|---|---|---|---|---|---|---|"]
    for row in titles:
        for r in runs:
            res = r["rows"][row]
            for a, b, tgt, lim in targets[row]:
                q = _ratio(res, a, b)
                met = "—" if q is None else ("yes" if q <= lim else "**no**")
                lines.append(f"| {titles[row]} | {r['threads']} | {f(res['nnlib']['median_s'])} | "
                             f"{f(res.get('loop', {}).get('median_s'))} | {f(res.get('torch', {}).get('median_s'))} | "
                             f"{a}/{b} = {f(q)} | {tgt} | {met} |")
    lines += ["", "## The floor: what any NumPy implementation of these rows must spend", "",
              "`floor` (bench/floors.py) times only the shuffle and gather, the first layer's forward product "
              "x Wᵀ and weight gradient δᵀ x, and one pass updating W — per minibatch, with preallocated outputs, "
              "in the library's float32 layouts — and nothing else (no second layer, activation, cost, bias or "
              "optimiser bookkeeping). A target ratio below floor/reference cannot be met by a NumPy "
              "implementation on this machine; the gap nnlib − floor is everything else nnlib does.", "",
              "| row | threads | floor (s) | nnlib (s) | floor/PyTorch | floor/loop | target | nnlib − floor (s) |",
              "|---|---|---|---|---|---|---|---|"]
    short = {"nielsen_b10": "1a. Nielsen batch 10", "nielsen_b100": "1b. Nielsen batch 100", "mlp_b64": "2. MLP"}
    floor_targets = {"nielsen_b10": "nnlib/loop ≤ 0.05, nnlib/torch ≤ 0.15", "nielsen_b100": "nnlib/torch ≤ 0.35",
                     "mlp_b64": "nnlib/torch ≤ 0.5"}
    for row, tgt in floor_targets.items():
        for r in runs:
            res = r["rows"][row]
            if "floor" not in res:
                continue
            lines.append(f"| {short[row]} | {r['threads']} | {f(res['floor']['median_s'])} | "
                         f"{f(res['nnlib']['median_s'])} | {f(_ratio(res, 'floor', 'torch'))} | "
                         f"{f(_ratio(res, 'floor', 'loop'))} | {tgt} | "
                         f"{f(res['nnlib']['median_s'] - res['floor']['median_s'])} |")
    lines += ["", "## CNN throughput and memory", "",
              f"FLOPs counted per image: forward {CNN_FWD_FLOPS / 1e6:.2f} MFLOP (conv + dense), ×3 for "
              f"forward + backward (∂W and ∂x) = {CNN_FLOPS_PER_IMAGE / 1e6:.2f} MFLOP; "
              f"epoch = 60,000 images = {60000 * CNN_FLOPS_PER_IMAGE / 1e9:.0f} GFLOP.", "",
              "| threads | float32 GEMM 2048³ (GFLOP/s) | nnlib CNN (GFLOP/s) | PyTorch CNN (GFLOP/s) |",
              "|---|---|---|---|"]
    for r in runs:
        res = r["rows"]["cnn_b64"]
        def g(k, res=res):
            return 60000 * CNN_FLOPS_PER_IMAGE / 1e9 / res[k]["median_s"] if k in res else None
        lines.append(f"| {r['threads']} | {r['gemm_gflops']:.1f} | {f(g('nnlib'), '{:.1f}')} | "
                     f"{f(g('torch'), '{:.1f}')} |")
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
              f"and scaled ×{CNN_BATCHES_PER_EPOCH}/{runs[0]['cnn_batches']} to the epoch (938 batches).", ""]
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
    ap.add_argument("--memprobe", choices=["nnlib", "torch"], help=argparse.SUPPRESS)
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
          f"PyTorch {info['torch']}", flush=True)
    if info["torch"] == "not installed":
        print("PyTorch is not installed: the PyTorch rows are skipped. To include them: "
              "pip install torch==2.13.0", flush=True)
    runs = []
    for th in args.threads:
        print(f"running with {th} thread(s) in a fresh process ...", flush=True)
        runs.append(_sub(["--worker", str(th)] + (["--quick"] if args.quick else [])))
    mem = {"nnlib": _sub(["--memprobe", "nnlib"])}
    mem["PyTorch"] = _sub(["--memprobe", "torch"]) if info["torch"] != "not installed" else None
    text = report(info, runs, mem, args.quick, time.perf_counter() - t0)
    out = args.out or HERE / ("RESULTS-quick.md" if args.quick else "RESULTS.md")
    out.write_text(text)
    print(text.split("## CNN throughput")[0].split("## Results")[1])
    print(f"written {out}")


if __name__ == "__main__":
    main()
