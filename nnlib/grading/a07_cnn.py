"""Assignment 7 — convolution forward and backward, max-pool backward.

NumPy only: nnlib's ``layers`` module is the reference and is not available to the answers.  The classic
mistakes are computed by :func:`conv_loops` / :func:`conv_backward_loops` with switches (channels not summed,
stride ignored, ``=`` instead of ``+=``) and by max-pool variants (gradient sent to the wrong position).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from nnlib import gradcheck as G
from nnlib import layers as L
from nnlib.grading._core import close, fail, fname, host, invoke, judge, ok
from nnlib.grading.families import through_cases

ALLOWED: list = []
ALLOWED_TEXT = "NumPy (plain loops are fine)"
# the first case has N ≠ F ≠ C and H ≠ W, so no two suspects (e.g. db summed over n or over f) give the same numbers
CONV_CASES = [((2, 3, 6, 5), (4, 3, 3, 2), 1, 1, 1), ((2, 1, 5, 5), (2, 1, 3, 3), 1, 0, 0),
              ((1, 2, 7, 7), (3, 2, 3, 3), 2, 1, 2)]
# (x shape, size, stride, seed[, relu]): relu=True feeds x through ReLU first, so windows tie at 0
POOL_CASES = [((2, 2, 4, 4), 2, 2, 0), ((1, 3, 6, 4), 2, 2, 1), ((2, 1, 5, 5), 3, 1, 2), ((2, 2, 4, 6), 2, 2, 3, True)]
TIES = ("on ties, only the first maximum in reading order (row by row, what np.argmax of the window returns) "
        "receives the gradient")


def _data(xs: tuple, ws: tuple, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])


def _pad(x: np.ndarray, p: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def out_size(H: int, k: int, s: int, p: int) -> int:
    return (H + 2 * p - k) // s + 1


def conv_loops(x: np.ndarray, W: np.ndarray, b: np.ndarray, s: int, p: int, *, window_step: int | None = None,
               channels: str = "sum") -> np.ndarray:
    """Reference loops; ``window_step`` ≠ s: windows start at i·window_step (stride ignored);
    ``channels``: "sum" (correct), "last"/"first" (one input channel only)."""
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    Ho, Wo = out_size(H, kh, s, p), out_size(Wd, kw, s, p)
    xp = _pad(x, p)
    st = s if window_step is None else window_step
    out = np.zeros((N, F, Ho, Wo))
    cs = {"sum": slice(None), "last": slice(C - 1, C), "first": slice(0, 1)}[channels]
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, cs, i * st:i * st + kh, j * st:j * st + kw]
            if win.shape[2:] != (kh, kw):
                return None
            out[:, :, i, j] = np.tensordot(win, W[:, cs], axes=([1, 2, 3], [1, 2, 3]))
    return out + b[None, :, None, None]


def conv_backward_loops(dout: np.ndarray, x: np.ndarray, W: np.ndarray, s: int, p: int, *, overwrite: bool = False,
                        window_step: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dW, db) by loops; ``overwrite``: ``=`` instead of ``+=`` when scattering into dx / dW."""
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    Ho, Wo = dout.shape[2:]
    xp = _pad(x, p)
    st = s if window_step is None else window_step
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * st:i * st + kh, j * st:j * st + kw]
            contrib_x = np.tensordot(dout[:, :, i, j], W, axes=(1, 0))  # (N, C, kh, kw)
            contrib_w = np.tensordot(dout[:, :, i, j], win, axes=(0, 0))  # (F, C, kh, kw)
            if overwrite:
                dxp[:, :, i * st:i * st + kh, j * st:j * st + kw] = contrib_x
                dW = contrib_w
            else:
                dxp[:, :, i * st:i * st + kh, j * st:j * st + kw] += contrib_x
                dW = dW + contrib_w
    dx = dxp[:, :, p:p + H, p:p + Wd]
    return dx, dW, dout.sum(axis=(0, 2, 3))


def _overwrite_loops(dout: np.ndarray, x: np.ndarray, W: np.ndarray, s: int, p: int) -> tuple:
    """(dx, dW) of a learner's n, f, i, j loops that write with ``=`` instead of ``+=``."""
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    xp = _pad(x, p)
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    r, c = slice(i * s, i * s + kh), slice(j * s, j * s + kw)
                    dW[f] = dout[n, f, i, j] * xp[n, :, r, c]
                    dxp[n, :, r, c] = dout[n, f, i, j] * W[f]
    return dxp[:, :, p:p + H, p:p + Wd], dW


def _call(fn: Callable, name: str, *args: object, advice: Callable | None = None) -> object:
    return invoke(fn, name, *args, allowed=ALLOWED, allowed_text=ALLOWED_TEXT, advice=advice)


def _windows(x: np.ndarray, W: np.ndarray, b: np.ndarray, s: int, p: int, op: Callable) -> np.ndarray | None:
    """out[n, f, i, j] = op(window, W[f]) + b[f] by loops (a learner's variant of the convolution)."""
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    Ho, Wo = out_size(H, kh, s, p), out_size(Wd, kw, s, p)
    xp = _pad(x, p)
    out = np.zeros((N, F, Ho, Wo))
    try:
        with np.errstate(all="ignore"):
            for n in range(N):
                for f in range(F):
                    for i in range(Ho):
                        for j in range(Wo):
                            out[n, f, i, j] = op(xp[n, :, i * s:i * s + kh, j * s:j * s + kw], W[f]) + b[f]
    except (ValueError, IndexError):
        return None
    return out


def _roles_swapped(dout: np.ndarray, x: np.ndarray, W: np.ndarray, s: int, p: int) -> tuple:
    """(dx, dW) of a learner who multiplies dout by W for dW and by the input window for dx."""
    N, C, H, Wd = x.shape
    F, _, kh, kw = W.shape
    xp = _pad(x, p)
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = xp[:, :, i * s:i * s + kh, j * s:j * s + kw]
            dW += dout[:, :, i, j].sum(axis=0)[:, None, None, None] * W
            dxp[:, :, i * s:i * s + kh, j * s:j * s + kw] += dout[:, :, i, j].sum(axis=1)[:, None, None, None] * win
    return dxp[:, :, p:p + H, p:p + Wd], dW


def check_conv_forward(conv_forward: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``conv_forward(x, W, b, stride, pad)`` → out (N, F, Ho, Wo): out[n, f, i, j] = b[f] + Σ W[f] ⊙ window.

    ``cases``: list of (x shape, W shape, stride, pad, seed).
    """
    name = fname(conv_forward, "conv_forward")
    show = show_values
    def run(item: tuple) -> None:
        xs, ws, stride, pad, seed = item
        xs, ws = tuple(xs), tuple(ws)
        x, W, b = _data(xs, ws, int(seed))
        case = f"{name}(x, W, b, stride={stride}, pad={pad}) with x of shape {xs} and W of shape {ws}"
        def advice(exc: object, _pad: int = pad) -> str | None:
            if _pad and (exc.type_name == "IndexError" or "could not be broadcast" in exc.message):
                return (f"with pad = {_pad} the windows at the border reach outside x: pad x with zeros first, "
                        f"x_pad = np.pad(x, ((0, 0), (0, 0), ({_pad}, {_pad}), ({_pad}, {_pad}))), and take the "
                        "windows from x_pad")
            return None

        got = _call(conv_forward, name, x.copy(), W.copy(), b.copy(), stride, pad, advice=advice)
        if isinstance(got, tuple) and len(got) == 2 and np.ndim(got[0]) == 4:
            got = got[0]  # (out, cache) is fine too
        ref, _ = L.conv_forward(x, W, b, stride, pad)
        Ho, Wo = ref.shape[2:]
        try:
            gs = tuple(np.shape(got))
        except Exception:  # noqa: BLE001
            gs = None
        if gs is not None and len(gs) == 4 and gs != tuple(ref.shape):
            s1 = (xs[0], ws[0], out_size(xs[2], ws[2], 1, pad), out_size(xs[3], ws[3], 1, pad))
            p0 = (xs[0], ws[0], out_size(xs[2], ws[2], stride, 0), out_size(xs[3], ws[3], stride, 0))
            why = ""
            if stride > 1 and gs == s1:
                why = " — that is the size for stride 1: the stride is ignored"
            elif pad and gs == p0:
                why = " — that is the size without padding: pad x with zeros first"
            fail(f"the output of {name} has shape {gs}, expected {tuple(ref.shape)}: Ho = (H + 2·pad − kh) // "
                 f"stride + 1 = {Ho}, Wo = (W + 2·pad − kw) // stride + 1 = {Wo}{why}", case)
        first = {
            "flips the kernel: a convolutional layer computes the cross-correlation Σ W[f, c, u, v] "
            "x[n, c, i·s + u, j·s + v], without flipping W": L.conv_forward(x, W[:, :, ::-1, ::-1].copy(), b,
                                                                            stride, pad)[0],
            "leaves out the bias b[f]": ref - b[None, :, None, None],
            "ignores the stride when placing the windows: window (i, j) starts at row i·stride, column j·stride":
                conv_loops(x, W, b, stride, pad, window_step=1) if stride > 1 else None,
            "uses a matrix product (@) of the window and the kernel: a convolution multiplies them elementwise "
            "(*) and adds up the products, out[n, f, i, j] = Σ window ⊙ W[f] + b[f]":
                _windows(x, W, b, stride, pad, lambda win, k: np.sum(win @ k)) if ws[2] == ws[3] else None,
            f"adds the bias b[f] to every product of the window (np.sum(window * W[f] + b[f]) adds it "
            f"{ws[1] * ws[2] * ws[3]} times): add it once, np.sum(window * W[f]) + b[f]":
                ref + (ws[1] * ws[2] * ws[3] - 1) * b[None, :, None, None],
            "uses windows one row and one column too small: a window is kh × kw, x_pad[n, :, i·s : i·s + kh, "
            "j·s : j·s + kw] (a slice stops before its end index)":
                _windows(x, W, b, stride, pad, lambda win, k: np.sum(win[:, :-1, :-1] * k[:, :-1, :-1]))
                if min(ws[2], ws[3]) > 1 else None,
        }
        if xs[1] > 1:
            first["does not sum over the input channels: out[n, f, i, j] adds W[f, c] ⊙ window over every "
                  "channel c (it uses only the last one — was the sum overwritten with = instead of +=?)"] = \
                conv_loops(x, W, b, stride, pad, channels="last")
            first["does not sum over the input channels: out[n, f, i, j] adds W[f, c] ⊙ window over every "
                  "channel c (it uses only the first one)"] = conv_loops(x, W, b, stride, pad, channels="first")
        judge(got, ref, f"the output of {name}", case, show, first=first, gradient=False)

    through_cases(run, CONV_CASES if cases is None else cases)
    ok(f"{name} looks correct")


UNPAD_ADVICE = "dx = dx_padded[:, :, pad:pad + H, pad:pad + W] with H, W = x.shape[2:] (also right for pad = 0)"


def check_conv_backward(conv_backward: Callable, cases: Sequence | None = None, show_values: bool = True) -> None:
    """``conv_backward(dout, x, W, b, stride, pad)`` → (dx, dW, db), checked against nnlib and central differences.

    ``cases``: list of (x shape, W shape, stride, pad, seed).
    """
    name = fname(conv_backward, "conv_backward")
    show = show_values
    for k, (xs, ws, stride, pad, seed) in enumerate(CONV_CASES if cases is None else cases):
        xs, ws = tuple(xs), tuple(ws)
        x, W, b = _data(xs, ws, int(seed))
        out, cache = L.conv_forward(x, W, b, stride, pad)
        dout = np.random.default_rng(int(seed) + 7).standard_normal(out.shape)
        case = (f"{name}(dout, x, W, b, stride={stride}, pad={pad}) with x of shape {xs}, W of shape {ws}, "
                f"dout of shape {out.shape}")
        got = _call(conv_backward, name, dout.copy(), x.copy(), W.copy(), b.copy(), stride, pad)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            fail(f"{name} should return the triple (dx, dW, db)", case)
        dx, dW, db = L.conv_backward(dout, cache)
        if k == 0:  # the reference against central differences, once
            num = G.numerical_gradient_array(lambda v, W=W, b=b, s=stride, p=pad: L.conv_forward(v, W, b, s, p)[0],
                                             x.copy(), dout)
            if G.rel_error(num, dx) >= 1e-7:  # pragma: no cover - the reference is tested
                raise RuntimeError("check_conv_backward: the reference disagrees with central differences")
        if np.shape(got[0]) == W.shape and np.shape(got[1]) == x.shape and W.shape != x.shape:
            fail(f"{name} returns (dW, dx, db): the order is (dx, dW, db), the input's gradient first", case)
        padded = _pad(x, pad).shape
        if pad and np.shape(got[0]) == padded:
            fail(f"dx from {name} has the padded shape {padded}: drop the border of width pad, "
                 f"{UNPAD_ADVICE}", case)
        ow = conv_backward_loops(dout, x, W, stride, pad, overwrite=True)
        ow_loops = _overwrite_loops(dout, x, W, stride, pad)
        ign = conv_backward_loops(dout, x, W, stride, pad, window_step=1) if stride > 1 else (None, None, None)
        consts = {f"N = {xs[0]}, the number of examples (the gradients add up over the batch)": xs[0],
                  f"F = {ws[0]}, the number of filters": ws[0]}
        judge(got[2], db, f"db from {name}", case, show, batch_size=xs[0], custom={
            "is not summed over the output positions: db[f] = Σ over n, i, j of dout[n, f, i, j]":
                dout.sum(axis=(2, 3)).mean(axis=0)}, first={
            "sums over the batch only: db[f] adds dout[n, f, i, j] over the examples n AND the positions i, j":
                None if dout.shape[2] * dout.shape[3] == 1 else dout.sum(axis=0),
            f"is too small: it is the mean of dout[n, f, i, j] over n, i, j; db[f] is their sum (each of the "
            f"{xs[0] * out.shape[2] * out.shape[3]} positions adds b[f] to the output once)":
                db / (xs[0] * out.shape[2] * out.shape[3])}, constants=consts)
        sw_dx, sw_dW = _roles_swapped(dout, x, W, stride, pad)
        judge(got[1], dW, f"dW from {name}", case, show, batch_size=xs[0], first={
            "multiplies dout by the kernel W: dW[f] adds dout[n, f, i, j] times the input window x_pad[n, :, "
            "i·s : i·s + kh, j·s : j·s + kw] (and dx adds dout times W[f]: the roles are swapped)": sw_dW,
            "keeps only the last window's contribution: dW must add up (+=) the contributions of every output "
            "position, not overwrite them (=)": ow[1],
            "keeps only the last contribution (dW[f] = ... instead of dW[f] += ...): dW must add up the "
            "contributions of every example and output position": ow_loops[1],
            "ignores the stride: the window for output (i, j) starts at row i·stride, column j·stride": ign[1],
        }, custom={
            "is flipped (rotated by 180°): dW[f, c, u, v] = Σ dout[n, f, i, j] x_pad[n, c, i·s + u, j·s + v]":
                dW[:, :, ::-1, ::-1]}, constants=consts)
        judge(got[0], dx, f"dx from {name}", case, show, first={
            "multiplies dout by the input window: dx_pad[n, :, window] adds dout[n, f, i, j] times the kernel W[f] "
            "(and dW adds dout times the input window: the roles are swapped)": sw_dx,
            "overwrites where windows overlap: dx must add up (+=) the contributions of every window that "
            "covers an input, not overwrite them (=)": ow[0],
            "overwrites where windows overlap (dx_pad[...] = ... instead of +=): dx must add up the "
            "contributions of every filter and every window that covers an input": ow_loops[0],
            "ignores the stride: the window for output (i, j) starts at row i·stride, column j·stride": ign[0],
        }, custom={
            "uses the flipped kernel the wrong way round: dx_pad[n, c, i·s + u, j·s + v] += W[f, c, u, v] "
            "dout[n, f, i, j]": L.conv_backward(dout, (x.shape, cache[1], W[:, :, ::-1, ::-1].copy(),
                                                       stride, pad))[0]})
    ok(f"{name} looks correct (dx, dW and db match nnlib and central differences)")


def _windows_to(dout: np.ndarray, x: np.ndarray, size: int, stride: int, pick: Callable, add: bool) -> np.ndarray:
    dx = np.zeros_like(x)
    N, C = x.shape[:2]
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
                    u, v = pick(win)
                    if add:
                        dx[n, c, i * stride + u, j * stride + v] += dout[n, c, i, j]
                    else:
                        dx[n, c, i * stride + u, j * stride + v] = dout[n, c, i, j]
    return dx


def _one_per_window(got: object, dout: np.ndarray, size: int, stride: int) -> bool:
    """Each (non-overlapping) window of the learner's dx holds exactly dout[n, c, i, j], in one place."""
    try:
        g = host(got)
    except (TypeError, ValueError):
        return False
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = g[:, :, i * stride:i * stride + size, j * stride:j * stride + size].reshape(*g.shape[:2], -1)
            if not np.allclose(win.sum(axis=2), dout[:, :, i, j]) or np.any((win != 0).sum(axis=2) > 1):
                return False
    return True


def _windows_all(dout: np.ndarray, x: np.ndarray, size: int, stride: int) -> tuple | None:
    """dx that sends each window's gradient to every tied maximum, and one that splits it among them (None: no tie)."""
    every, split = np.zeros_like(x), np.zeros_like(x)
    tied = False
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
            mask = (win == win.max(axis=(2, 3), keepdims=True)).astype(float)
            count = mask.sum(axis=(2, 3), keepdims=True)
            tied = tied or bool(np.any(count > 1))
            g = dout[:, :, i:i + 1, j:j + 1]
            every[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += mask * g
            split[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += mask * g / count
    return (every, split) if tied else None


def _avg(dout: np.ndarray, x_shape: tuple, size: int, stride: int) -> np.ndarray:
    dx = np.zeros(x_shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += dout[:, :, i:i + 1, j:j + 1]
    return dx


def check_maxpool_backward(maxpool_backward: Callable, cases: Sequence | None = None,
                           show_values: bool = True) -> None:
    """``maxpool_backward(dout, x, size, stride)`` → dx: each window's gradient goes to its maximum only.

    ``cases``: list of (x shape, size, stride, seed).
    """
    name = fname(maxpool_backward, "maxpool_backward")
    show = show_values
    for xs, size, stride, seed, *relu in (POOL_CASES if cases is None else cases):
        xs = tuple(xs)
        rng = np.random.default_rng(int(seed))
        x = rng.standard_normal(xs)
        if relu and relu[0]:
            x = np.maximum(x - 1.0, 0.0)  # after a ReLU (with a bias of −1): about half the windows are all 0
        out, cache = L.maxpool_forward(x, size, stride)
        dout = rng.standard_normal(out.shape)
        case = f"{name}(dout, x, size={size}, stride={stride}) with x of shape {xs}" + (
            " after a ReLU (windows of zeros: ties)" if relu and relu[0] else "")
        got = _call(maxpool_backward, name, dout.copy(), x.copy(), size, stride)
        ref = L.maxpool_backward(dout, cache)

        def argmax(w: np.ndarray) -> tuple:
            return np.unravel_index(np.argmax(w), w.shape)

        first = {
            "spreads each window's gradient over the whole window: that is average pooling; max pooling sends "
            "it only to the input that was the maximum": _avg(dout, xs, size, stride),
            "spreads each window's gradient over the whole window, divided by its size: that is average "
            "pooling; max pooling sends it only to the input that was the maximum": _avg(dout, xs, size, stride)
            / size ** 2,
            "sends each window's gradient to its top-left input: it belongs to the input that was the maximum "
            "(np.argmax of the window, then np.unravel_index)": _windows_to(dout, x, size, stride,
                                                                             lambda w: (0, 0), True),
            "sends each window's gradient to its minimum: it belongs to the maximum": _windows_to(
                dout, x, size, stride, lambda w: np.unravel_index(np.argmin(w), w.shape), True),
            "sends each window's gradient to the wrong position (row and column of the maximum swapped)":
                _windows_to(dout, x, size, stride, lambda w: argmax(w)[::-1], True) if size > 1 else None,
        }
        ties = _windows_all(dout, x, size, stride)
        if ties is not None:
            first[f"sends each window's gradient to every input that ties for its maximum: {TIES}"] = ties[0]
            first[f"splits each window's gradient among the inputs that tie for its maximum: {TIES}"] = ties[1]
            first[f"sends each window's gradient to the last of the tied maxima: {TIES}"] = _windows_to(
                dout, x, size, stride, lambda w: np.unravel_index(w.size - 1 - np.argmax(w.reshape(-1)[::-1]),
                                                                   w.shape), True)
        if stride < size:
            first["overwrites instead of adding: with overlapping windows (stride < size) one input can be the "
                  "maximum of several windows — add (+=) their gradients"] = _windows_to(dout, x, size, stride,
                                                                                         argmax, False)
        if stride >= size and not close(got, ref) and not any(v is not None and close(got, v) for v in first.values()) \
                and _one_per_window(got, dout, size, stride):
            fail(f"dx from {name} sends each window's gradient to one input of the window, but not always to "
                 "the maximum — the wrong position: take the window's argmax and turn it into a row and a column "
                 "with np.unravel_index(np.argmax(window), window.shape)", case)
        judge(got, ref, f"dx from {name}", case, show, first=first)
    ok(f"{name} looks correct")


def check_layer_backward(fn: Callable, layer: str, **kwargs: object) -> None:
    """Dispatch: ``layer`` is "conv" (``conv_backward``) or "maxpool" (``maxpool_backward``)."""
    checks = {"conv": check_conv_backward, "maxpool": check_maxpool_backward}
    if layer not in checks:
        raise ValueError(f"check_layer_backward: layer must be one of {sorted(checks)}, got {layer!r}")
    checks[layer](fn, **kwargs)
