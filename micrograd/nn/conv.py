"""2-D convolution and pooling on one image given as nested lists [C][H][W], as PyTorch computes them.

Start at `Conv2d.__call__`: each output pixel is one `dot` node over its window, so a
convolution is the same neuron node as an MLP's, slid over the image.  `MaxPool2d` returns the
arg-max input itself (no node), `AvgPool2d` one sum node divided by the window size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from ..engine import Scalar, Value, as_value, vsum
from ..fused import dot_nodes, neuron_rule
from .checkpoint import Nested
from .init import RandomSource, check_init, draw, resolve_rng
from .module import Module, positive_int

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d"]

Image = list[list[list[Value]]]


def _pair(name: str, v: int | Sequence[int], minimum: int) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, int) else tuple(v)
    if len(pair) != 2 or any(isinstance(p, bool) or not isinstance(p, int) or p < minimum for p in pair):
        raise ValueError(f"{name} must be an integer >= {minimum} or a pair of them, got {v!r}")
    return pair[0], pair[1]


def _image(x: Any, channels: int | None, who: str) -> Image:
    """Validate a [C][H][W] nested list and turn plain numbers into constants (once)."""
    if isinstance(x, (Value, int, float)) or not x or isinstance(x[0], (Value, int, float)):
        raise ValueError(f"{who}: expected a nested list [C][H][W]")
    if not x[0] or isinstance(x[0][0], (Value, int, float)) or not x[0][0]:
        raise ValueError(f"{who}: expected a nested list [C][H][W] with H, W >= 1")
    if channels is not None and len(x) != channels:
        raise ValueError(f"{who}: expected {channels} input channel(s), got {len(x)}")
    h, w = len(x[0]), len(x[0][0])
    out = []
    for c, plane in enumerate(x):
        if len(plane) != h or any(len(row) != w for row in plane):
            raise ValueError(f"{who}: channel {c} is not {h}x{w} (every channel must have the same H and W)")
        out.append([[as_value(v) for v in row] for row in plane])
    return out


def _out_size(who: str, size: int, pad: int, k: int, s: int) -> int:
    if size + 2 * pad < k:
        raise ValueError(f"{who}: input size {size} (padding {pad}) is smaller than the kernel ({k})")
    return (size + 2 * pad - k) // s + 1


class Conv2d(Module):
    """2-D cross-correlation (PyTorch's Conv2d) of one image given as nested lists [C][H][W].

    Output: [out_channels][H_out][W_out] with H_out = (H + 2 * padding - kernel) // stride + 1.
    Each output pixel is one `dot` node over the in-bounds part of its window (zero padding
    contributes nothing, so it is left out of the graph); one `dot_nodes` call makes a pixel's
    nodes for every output channel, sharing the window's inputs.  `weight` is [out][in][kh][kw]
    like PyTorch; `parameters()` lists the weights in that order, then the biases.  Default init
    is He (fan_in = in_channels * kh * kw), bias 0.  ValueError for a wrong number of channels,
    ragged planes, or an input smaller than the kernel.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0, *, bias: bool = True,
                 init: str = "he", rng: RandomSource | None = None) -> None:
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels = positive_int("out_channels", out_channels)
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        check_init(init)
        r = resolve_rng(rng)
        kh, kw = self.kernel_size
        fan_in, fan_out = in_channels * kh * kw, out_channels * kh * kw
        self.weight = [[[[Value(draw(init, r, fan_in, fan_out)) for _ in range(kw)] for _ in range(kh)]
                        for _ in range(in_channels)] for _ in range(out_channels)]
        self.bias: list[Value] | None = [Value(0.0) for _ in range(out_channels)] if bias else None

    def __call__(self, x: Sequence[Sequence[Sequence[Scalar]]]) -> Image:
        img = _image(x, self.in_channels, "Conv2d")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        h, w = len(img[0]), len(img[0][0])
        ho, wo = _out_size("Conv2d", h, ph, kh, sh), _out_size("Conv2d", w, pw, kw, sw)
        cin, weight, rule = range(self.in_channels), self.weight, neuron_rule(None)
        biases: list[Any] = self.bias if self.bias is not None else [0.0] * self.out_channels
        # Padding is zeros, and w * 0 is 0 for every finite w, so a window is clipped to the image and the
        # padding left out of the graph.  With an inf or nan weight, w * 0 is nan (IEEE, and PyTorch), so
        # then the padding goes in as constant zeros and the nan reaches every output it reaches in PyTorch.
        clip = ph == pw == 0 or all(math.isfinite(as_value(v).data) for w_o in weight for wc in w_o
                                    for row in wc for v in row)
        zero = as_value(0.0)
        out: Image = [[[] for _ in range(ho)] for _ in range(self.out_channels)]
        # per clipped window, one row (bias, *flattened weights) per output channel: one dot_nodes() per pixel
        kernels: dict[tuple[int, int, int, int], list[tuple[Value, ...]]] = {}
        for oy in range(ho):
            top = oy * sh - ph
            i0, i1 = (max(0, -top), min(kh, h - top)) if clip else (0, kh)
            for ox in range(wo):
                left = ox * sw - pw
                j0, j1 = (max(0, -left), min(kw, w - left)) if clip else (0, kw)
                key = (i0, i1, j0, j1)
                rows = kernels.get(key)
                if rows is None:
                    rows = kernels[key] = [
                        tuple(map(as_value, [b, *(wc[i][j] for wc in w_o for i in range(i0, i1)
                                                  for j in range(j0, j1))]))
                        for w_o, b in zip(weight, biases)]
                if clip:
                    patch = [img[c][top + i][left + j] for c in cin for i in range(i0, i1) for j in range(j0, j1)]
                else:
                    patch = [img[c][top + i][left + j] if 0 <= top + i < h and 0 <= left + j < w else zero
                             for c in cin for i in range(i0, i1) for j in range(j0, j1)]
                for o, node in enumerate(dot_nodes(rows, patch, rule)):
                    out[o][oy].append(node)
        return out

    def parameters(self) -> list[Value]:
        ps = [v for w_o in self.weight for wc in w_o for row in wc for v in row]
        return ps + self.bias if self.bias is not None else ps

    def named_tensors(self) -> list[tuple[str, Nested]]:
        named: list[tuple[str, Nested]] = [("weight", self.weight)]
        return named + [("bias", list(self.bias))] if self.bias is not None else named

    def architecture(self) -> dict[str, Any]:
        return {"type": "Conv2d", "in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding), "bias": self.bias is not None}

    def __repr__(self) -> str:
        extra = "" if self.bias is not None else ", bias=False"
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}{extra})")


class _Pool2d(Module):
    """Shared by the two pools: windows of `kernel_size` every `stride` (default: the kernel size), no padding."""

    def __init__(self, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None) -> None:
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair("stride", stride, 1)

    def _windows(self, x: Any) -> Iterator[tuple[int, int, int, list[Value]]]:
        who = type(self).__name__
        img = _image(x, None, who)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        h, w = len(img[0]), len(img[0][0])
        ho, wo = _out_size(who, h, 0, kh, sh), _out_size(who, w, 0, kw, sw)
        for c, plane in enumerate(img):
            for oy in range(ho):
                rows = plane[oy * sh: oy * sh + kh]
                for ox in range(wo):
                    yield c, oy, ox, [v for row in rows for v in row[ox * sw: ox * sw + kw]]

    def _pool(self, window: list[Value]) -> Value:
        raise NotImplementedError

    def __call__(self, x: Sequence[Sequence[Sequence[Scalar]]]) -> Image:
        out: Image = []
        for c, oy, ox, window in self._windows(x):
            if oy == 0 and ox == 0:
                out.append([])
            if ox == 0:
                out[c].append([])
            out[c][oy].append(self._pool(window))
        return out

    def architecture(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "kernel_size": list(self.kernel_size), "stride": list(self.stride)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2d(_Pool2d):
    """Max over each window, [C][H][W] -> [C][H_out][W_out] with H_out = (H - kernel) // stride + 1.

    The output *is* the arg-max input Value, so the gradient flows to it alone, with no extra
    node.  As in PyTorch's kernel (``val > max || isnan(val)``, scanning row-major): ties go to
    the first, and a NaN wins (the last NaN if there are several), so NaN propagates.
    """

    def _pool(self, window: list[Value]) -> Value:
        best = window[0]
        m = best.data
        for v in window:
            d = v.data
            if d > m or d != d:
                best, m = v, d
        return best


class AvgPool2d(_Pool2d):
    """Mean over each window: one sum node divided by the window size, so each input gets grad / size.

    The sum follows IEEE (inf + -inf is nan, overflow is inf), as PyTorch's."""

    def _pool(self, window: list[Value]) -> Value:
        return vsum(window) / len(window)
