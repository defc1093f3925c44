# ruff: noqa: E501, N802 - fixture data: whole answer cells as source strings
"""Assignment 7 — convolution and max pooling: mistakes, alternatives, delegations, cheats."""

from mistakes import E, cheats

DEPENDS: dict = {}

HEAD = ("    N, C, H, Wd = x.shape\n    F, _, kh, kw = W.shape\n"
        "    Ho, Wo = (H + 2 * pad - kh) // stride + 1, (Wd + 2 * pad - kw) // stride + 1\n"
        "    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n")


def CF(loop: str, head: str = HEAD) -> str:
    return ("def conv_forward(x, W, b, stride=1, pad=0):\n" + head + "    out = np.zeros((N, F, Ho, Wo))\n"
            "    for n in range(N):\n        for f in range(F):\n            for i in range(Ho):\n"
            "                for j in range(Wo):\n" + loop + "    return out\n")


WIN = "                    win = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]\n"
OK_F = WIN + "                    out[n, f, i, j] = np.sum(win * W[f]) + b[f]\n"

BHEAD = ("    N, C, H, Wd = x.shape\n    F, _, kh, kw = W.shape\n    _, _, Ho, Wo = dout.shape\n"
         "    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    dxp = np.zeros_like(xp)\n"
         "    dW = np.zeros_like(W)\n    db = dout.sum(axis=(0, 2, 3))\n")
RC = ("                    r = slice(i * stride, i * stride + kh)\n"
      "                    c = slice(j * stride, j * stride + kw)\n")


def CB(body: str, tail: str = "    return dxp[:, :, pad:pad + H, pad:pad + Wd], dW, db\n", head: str = BHEAD) -> str:
    return ("def conv_backward(dout, x, W, b, stride=1, pad=0):\n" + head + "    for n in range(N):\n"
            "        for f in range(F):\n            for i in range(Ho):\n                for j in range(Wo):\n"
            + body + tail)


OK_B = RC + ("                    dW[f] += dout[n, f, i, j] * xp[n, :, r, c]\n"
             "                    dxp[n, :, r, c] += dout[n, f, i, j] * W[f]\n")


def MP(pick: str, acc: str = "+=", win: str = "x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]") -> str:
    return ("def maxpool_backward(dout, x, size=2, stride=2):\n    N, C, _, _ = x.shape\n    _, _, Ho, Wo = dout.shape\n"
            "    dx = np.zeros_like(x)\n    for n in range(N):\n        for c in range(C):\n            for i in range(Ho):\n"
            f"                for j in range(Wo):\n                    w = {win}\n" + pick
            + f"                    dx[n, c, i * stride + u, j * stride + v] {acc} dout[n, c, i, j]\n    return dx\n")


ARGMAX = "                    u, v = np.unravel_index(np.argmax(w), w.shape)\n"

MISTAKES = [
    E("conv_forward", "channels not summed (= per channel)", CF(
        WIN + "                    for ch in range(C):\n"
        "                        out[n, f, i, j] = np.sum(win[ch] * W[f, ch]) + b[f]\n"), "does not sum over the input channels",
      pipeline=True),
    E("conv_forward", "first channel only", CF(WIN + "                    out[n, f, i, j] = np.sum(win[0] * W[f, 0]) + b[f]\n"),
      "does not sum over the input channels"),
    E("conv_forward", "stride ignored in the windows", CF(
        "                    win = xp[n, :, i:i + kh, j:j + kw]\n"
        "                    out[n, f, i, j] = np.sum(win * W[f]) + b[f]\n"), "ignores the stride", pipeline=True),
    E("conv_forward", "stride ignored in the size", CF(OK_F.replace("i * stride", "i").replace("j * stride", "j"), head=HEAD.replace(
        "// stride + 1", "+ 1")), "stride"),
    E("conv_forward", "no padding", CF(OK_F, head=HEAD.replace("np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))", "x")),
      "pad"),
    E("conv_forward", "bias forgotten", CF(WIN + "                    out[n, f, i, j] = np.sum(win * W[f])\n"), "bias"),
    E("conv_forward", "flipped kernel", CF(WIN + "                    out[n, f, i, j] = np.sum(win * W[f, :, ::-1, ::-1]) + b[f]\n"),
      "flips the kernel"),
    E("conv_forward", "matrix product instead of ⊙", CF(WIN + "                    out[n, f, i, j] = np.sum(win @ W[f]) + b[f]\n"),
      "matrix product"),
    E("conv_forward", "bias added per channel", CF(WIN + "                    out[n, f, i, j] = np.sum(win * W[f] + b[f])\n"),
      "bias"),
    E("conv_forward", "output size without // ", CF(OK_F, head=HEAD.replace("// stride + 1", "/ stride + 1")), "integer"),
    E("conv_forward", "window one too small", CF(
        "                    win = xp[n, :, i * stride:i * stride + kh - 1, j * stride:j * stride + kw - 1]\n"
        "                    out[n, f, i, j] = np.sum(win * W[f, :, :-1, :-1]) + b[f]\n"), "one row and one column too small"),
    E("conv_backward", "= instead of += in dW", CB(RC + "                    dW[f] = dout[n, f, i, j] * xp[n, :, r, c]\n"
                                                   "                    dxp[n, :, r, c] += dout[n, f, i, j] * W[f]\n"),
      "+=", pipeline=True),
    E("conv_backward", "= instead of += in dx", CB(RC + "                    dW[f] += dout[n, f, i, j] * xp[n, :, r, c]\n"
                                                   "                    dxp[n, :, r, c] = dout[n, f, i, j] * W[f]\n"),
      "+=", pipeline=True),
    E("conv_backward", "stride ignored", CB(OK_B.replace("i * stride", "i").replace("j * stride", "j")), "ignores the stride",
      pipeline=True),
    E("conv_backward", "padding not stripped", CB(OK_B, tail="    return dxp, dW, db\n"), "padded shape"),
    E("conv_backward", "db summed over the batch only", CB(OK_B, head=BHEAD.replace("axis=(0, 2, 3)", "axis=0")),
      "sums over the batch only"),
    E("conv_backward", "flipped dW", CB(RC + "                    dW[f] += dout[n, f, i, j] * xp[n, :, r, c][:, ::-1, ::-1]\n"
                                        "                    dxp[n, :, r, c] += dout[n, f, i, j] * W[f]\n"), "flipped"),
    E("conv_backward", "flipped kernel in dx", CB(RC + "                    dW[f] += dout[n, f, i, j] * xp[n, :, r, c]\n"
                                                  "                    dxp[n, :, r, c] += dout[n, f, i, j] * W[f, :, ::-1, ::-1]\n"),
      "flipped"),
    E("conv_backward", "dx and dW swapped roles", CB(RC + "                    dW[f] += dout[n, f, i, j] * W[f]\n"
                                                     "                    dxp[n, :, r, c] += dout[n, f, i, j] * xp[n, :, r, c]\n"),
      "roles are swapped"),
    E("conv_backward", "db as a mean", CB(OK_B, head=BHEAD.replace("dout.sum(axis=(0, 2, 3))", "dout.mean(axis=(0, 2, 3))")),
      "too small"),
    E("conv_backward", "returns (dW, dx, db)", CB(OK_B, tail="    return dW, dxp[:, :, pad:pad + H, pad:pad + Wd], db\n"),
      "(dx, dW, db)"),
    E("maxpool_backward", "gradient to the top-left", MP("                    u, v = 0, 0\n"), "top-left", pipeline=True),
    E("maxpool_backward", "row and column swapped", MP("                    v, u = np.unravel_index(np.argmax(w), w.shape)\n"),
      "swapped", pipeline=True),
    E("maxpool_backward", "flat argmax misread", MP("                    k = np.argmax(w)\n                    u, v = k // size, k // size\n"),
      "wrong position"),
    E("maxpool_backward", "average pooling", "def maxpool_backward(dout, x, size=2, stride=2):\n    dx = np.zeros_like(x)\n"
      "    for i in range(dout.shape[2]):\n        for j in range(dout.shape[3]):\n"
      "            dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += (\n"
      "                dout[:, :, i:i + 1, j:j + 1] / size ** 2)\n    return dx\n", "average pooling"),
    E("maxpool_backward", "= instead of +=", MP(ARGMAX, acc="="), "overwrites instead of adding"),
    E("maxpool_backward", "argmin", MP("                    u, v = np.unravel_index(np.argmin(w), w.shape)\n"), "minimum"),
    E("maxpool_backward", "stride ignored", MP(ARGMAX.replace("w.shape", "w.shape"),
                                               win="x[n, c, i:i + size, j:j + size]").replace(
        "i * stride + u, j * stride + v", "i + u, j + v"), "stride"),
    E("maxpool_backward", "mask of every maximum-equal entry over the whole window", MP(
        "                    u, v = np.unravel_index(np.argmax(w), w.shape)\n", acc="+=").replace(
        "dout[n, c, i, j]\n    return dx", "dout[n, c, i, j] * 2\n    return dx"), "factor"),
]

ALTERNATIVES = [
    E("conv_forward", "tensordot over channels", "def conv_forward(x, W, b, stride=1, pad=0):\n" + HEAD +
      "    out = np.zeros((N, F, Ho, Wo))\n    for i in range(Ho):\n        for j in range(Wo):\n"
      "            win = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]\n"
      "            out[:, :, i, j] = np.tensordot(win, W, axes=([1, 2, 3], [1, 2, 3])) + b\n    return out\n"),
    E("conv_forward", "returns (out, cache)", CF(OK_F).replace("    return out\n", "    return out, (x, W, b, stride, pad)\n")),
    E("conv_backward", "einsum per position", "def conv_backward(dout, x, W, b, stride=1, pad=0):\n" + BHEAD +
      "    for i in range(Ho):\n        for j in range(Wo):\n" + RC.replace("                    ", "            ") +
      "            dW += np.einsum('nf,nchw->fchw', dout[:, :, i, j], xp[:, :, r, c])\n"
      "            dxp[:, :, r, c] += np.einsum('nf,fchw->nchw', dout[:, :, i, j], W)\n"
      "    return dxp[:, :, pad:pad + H, pad:pad + Wd], dW, db\n"),
    E("maxpool_backward", "mask with argmax", MP("                    u, v = divmod(int(np.argmax(w)), w.shape[1])\n")),
]

DELEGATIONS = [
    E("conv_forward", "from nnlib.layers import conv_forward", "from nnlib.layers import conv_forward as _cf\n\n\n"
      "def conv_forward(x, W, b, stride=1, pad=0):\n    return _cf(x, W, b, stride, pad)[0]\n"),
    E("conv_forward", "layers.conv_forward from the setup", "def conv_forward(x, W, b, stride=1, pad=0):\n"
      "    return layers.conv_forward(x, W, b, stride, pad)[0]\n"),
    E("conv_backward", "nnlib.layers.conv_backward", "def conv_backward(dout, x, W, b, stride=1, pad=0):\n"
      "    import nnlib.layers as L\n    out, cache = L.conv_forward(x, W, b, stride, pad)\n    return L.conv_backward(dout, cache)\n"),
    E("maxpool_backward", "nnlib.layers.maxpool_backward", "def maxpool_backward(dout, x, size=2, stride=2):\n"
      "    _, cache = layers.maxpool_forward(x, size, stride)\n    return layers.maxpool_backward(dout, cache)\n"),
    E("conv_backward", "torch autograd", "def conv_backward(dout, x, W, b, stride=1, pad=0):\n    import torch\n"
      "    t = [torch.tensor(a, requires_grad=True) for a in (x, W, b)]\n"
      "    out = torch.nn.functional.conv2d(t[0], t[1], t[2], stride=stride, padding=pad)\n"
      "    out.backward(torch.tensor(dout))\n    return tuple(a.grad.numpy() for a in t)\n"),
]

CHEATS = (cheats("conv_forward", "check_conv_forward",
                 "def conv_forward(x, W, b, stride=1, pad=0):\n    return np.zeros((x.shape[0], W.shape[0], 1, 1))\n",
                 full=True, delegation=DELEGATIONS[0].source)
          + cheats("conv_backward", "check_conv_backward",
                   "def conv_backward(dout, x, W, b, stride=1, pad=0):\n    return x * 0, W * 0, b * 0\n")
          + cheats("maxpool_backward", "check_maxpool_backward",
                   "def maxpool_backward(dout, x, size=2, stride=2):\n    return x * 0\n"))

# ---------------------------------------------------------------- by family (issue 18)
MISTAKES += [
    E("conv_forward", "family dtype: an integer output array",
      CF(OK_F).replace("out = np.zeros((N, F, Ho, Wo))", "out = np.zeros((N, F, Ho, Wo), dtype=int)"),
      "holds integers"),
    E("conv_backward", "family axis: db summed over the wrong axes (one entry per example)",
      CB(OK_B, head=BHEAD.replace("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(1, 2, 3))")), "wrong axis"),
    E("conv_backward", "family scale: dW averaged over the batch",
      CB(OK_B, tail="    return dxp[:, :, pad:pad + H, pad:pad + Wd], dW / N, db\n"), "divided by the batch size"),
    E("maxpool_backward", "family ties: every tied maximum gets the gradient",
      MP("                    u, v = np.unravel_index(np.argmax(w), w.shape)\n").replace(
          "dx[n, c, i * stride + u, j * stride + v] += dout[n, c, i, j]",
          "dx[n, c, i * stride:i * stride + size, j * stride:j * stride + size] += (w == w.max()) * dout[n, c, i, j]"),
      "every input that ties", pipeline=True),
]
