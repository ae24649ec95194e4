"""Differentiate code written for Python's math: Black-Scholes and its Greeks, by changing one import.

`call_price` below is ordinary scalar code, the textbook Black-Scholes price of a European
call, written with `math.log`, `math.sqrt`, `math.exp` and `math.erf`.  The only change made
to it is the import at the top of this file: ``import micrograd.math as math``.  On floats it
still returns exactly the number Python's math gives (checked bit for bit below); on Values
it records a graph, so one reverse pass gives all five first-order Greeks and a Hessian the
second-order ones.  Each is checked against its closed form (Hull, "Options, Futures, and
Other Derivatives", ch. 19): delta = N(d1), gamma = n(d1) / (S sigma sqrt T), vega = S n(d1) sqrt T,
rho = K T e^(-rT) N(d2), and so on, where N is the normal CDF and n its density.

With the standard library's math, the same code on Values raises TypeError instead of quietly
returning a float without a gradient.
"""

from __future__ import annotations

import math as stdmath
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import micrograd.math as math  # the one line that changed: was `import math`
from micrograd import Value, grad
from micrograd.demos.plotting import figure, out_path, save
from micrograd.func import grad as grad_of
from micrograd.func import hessian

# an at-the-money-ish call: spot, strike, years to expiry, risk-free rate, volatility
MARKET = {"S": 100.0, "K": 105.0, "T": 0.75, "r": 0.03, "sigma": 0.25}
NAMES = tuple(MARKET)
POINTS, QUICK_POINTS = 121, 41  # spot prices on the plot


def call_price(S: Any, K: Any, T: Any, r: Any, sigma: Any) -> Any:
    """Black-Scholes price of a European call (Black and Scholes 1973), as found in any textbook's code."""
    d1 = (math.log(S / K) + (r + sigma ** 2 / 2) * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    return S * normal_cdf(d1) - K * math.exp(-r * T) * normal_cdf(d2)


def normal_cdf(x: Any) -> Any:
    """N(x), the standard normal distribution function, through the error function."""
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def with_python_math(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The same code object, run with the standard library's math in place of micrograd.math."""
    return types.FunctionType(fn.__code__, {**fn.__globals__, "math": stdmath}, fn.__name__)


def closed_form(S: float, K: float, T: float, r: float, sigma: float) -> dict[str, float]:
    """The Greeks by their formulas (Hull ch. 19), with Python's math only."""
    sqrt_t = stdmath.sqrt(T)
    d1 = (stdmath.log(S / K) + (r + sigma ** 2 / 2) * T) / (sigma * sqrt_t)
    d2 = d1 - sigma * sqrt_t
    cdf = lambda x: 0.5 * stdmath.erfc(-x / stdmath.sqrt(2))  # noqa: E731
    pdf = lambda x: stdmath.exp(-x * x / 2) / stdmath.sqrt(2 * stdmath.pi)  # noqa: E731
    discount = stdmath.exp(-r * T)
    return {
        "delta  dC/dS": cdf(d1),
        "dC/dK": -discount * cdf(d2),
        "-theta dC/dT": S * pdf(d1) * sigma / (2 * sqrt_t) + r * K * discount * cdf(d2),
        "rho    dC/dr": K * T * discount * cdf(d2),
        "vega   dC/dsigma": S * pdf(d1) * sqrt_t,
        "gamma  d2C/dS2": pdf(d1) / (S * sigma * sqrt_t),
        "vanna  d2C/dS dsigma": -pdf(d1) * d2 / sigma,
        "volga  d2C/dsigma2": S * pdf(d1) * sqrt_t * d1 * d2 / sigma,
    }


def main(out_dir: str | Path | None = None, steps: int | None = None, seed: int = 0,
         quick: bool = False) -> dict[str, Any]:
    """Price the call, take its Greeks with micrograd, compare them with the closed forms, plot delta and gamma.

    `steps` is the number of spot prices on the plot (default 121, 41 with `quick`); `seed` is
    accepted for a uniform demo signature (nothing here is random).
    """
    points = steps if steps is not None else QUICK_POINTS if quick else POINTS
    args = [MARKET[name] for name in NAMES]
    price = call_price(*args)
    reference = with_python_math(call_price)(*args)
    print(f"call price with micrograd.math on floats: {price!r}")
    print(f"call price with Python's math:            {reference!r}   identical: {price == reference}")

    leaves = [Value(x, label=name) for name, x in zip(NAMES, args)]
    d_s, d_k, d_t, d_r, d_sigma = (g.data for g in grad(call_price(*leaves), leaves))  # one reverse pass
    second = hessian(call_price, (0, 4))(*args)  # d2/dS2, d2/dS dsigma, d2/dsigma2 (reverse over reverse)
    ours = {"delta  dC/dS": d_s, "dC/dK": d_k, "-theta dC/dT": d_t, "rho    dC/dr": d_r, "vega   dC/dsigma": d_sigma,
            "gamma  d2C/dS2": second[0][0], "vanna  d2C/dS dsigma": second[0][1], "volga  d2C/dsigma2": second[1][1]}
    formulas = closed_form(*args)
    errors = {name: abs(ours[name] - formulas[name]) / abs(formulas[name]) for name in ours}
    print(f"{'Greek':<22}{'micrograd':>22}{'closed form':>22}{'relative error':>16}")
    for name in ours:
        print(f"{name:<22}{ours[name]:>22.15g}{formulas[name]:>22.15g}{errors[name]:>16.1e}")
    worst = max(errors.values())
    print(f"largest relative error: {worst:.1e}")

    try:
        with_python_math(call_price)(*leaves)
        refused = ""
    except TypeError as exc:
        refused = str(exc)
    print(f"the same code with Python's math on Values: TypeError: {refused}")

    spots = [60.0 + 80.0 * k / (points - 1) for k in range(points)]
    rest = args[1:]
    delta = grad_of(call_price)  # d price / d S as a function of the same five numbers
    gamma = grad_of(delta)
    curves = {"delta": [delta(s, *rest) for s in spots], "gamma": [gamma(s, *rest) for s in spots]}
    exact = [closed_form(s, *rest) for s in spots]
    curve_error = max(abs(curves[k][i] - exact[i][key]) / abs(exact[i][key])
                      for k, key in (("delta", "delta  dC/dS"), ("gamma", "gamma  d2C/dS2")) for i in range(points))
    print(f"delta and gamma at {points} spot prices: largest relative error {curve_error:.1e}")

    png = out_path(out_dir, "mathdrop_greeks.png")
    fig, (ax_delta, ax_gamma) = figure(ncols=2, width=11.0, height=4.2)
    for ax, key, name in ((ax_delta, "delta", "delta  dC/dS"), (ax_gamma, "gamma", "gamma  d2C/dS2")):
        ax.plot(spots, [e[name] for e in exact], color="lightgray", linewidth=5, label="closed form")
        ax.plot(spots, curves[key], color="tab:blue", linewidth=1.4, label="micrograd.func.grad")
        ax.axvline(MARKET["K"], color="gray", linewidth=0.8, linestyle=":")
        ax.set(xlabel="spot price S", ylabel=name.split()[0], title=f"{name.split()[0]} = {name.split()[1]}")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    fig.suptitle(f"Black-Scholes call (K = {MARKET['K']:g}, T = {MARKET['T']:g}, r = {MARKET['r']:g}, "
                 f"sigma = {MARKET['sigma']:g}) written for Python's math, differentiated by micrograd.math")
    save(fig, png)
    return {"price": price, "identical_to_python_math": price == reference, "greeks": ours,
            "closed_form": formulas, "max_relative_error": worst, "curve_max_relative_error": curve_error,
            "points": points, "python_math_on_values": refused, "files": [str(png)]}


if __name__ == "__main__":
    from micrograd.demos.options import run_as_script

    run_as_script(main)
