"""The worked examples of the reference tutorials: plain scripts, each with a ``main()``.

Start with `micrograd.demos.apple` (backprop by hand on seed 000's shopping graph).  The demos
are listed, in the tour's order, in `micrograd.demos.registry`; `micrograd.demos.options` holds
the options they share with ``micrograd demo``; `micrograd.demos.plotting` and
`micrograd.demos.datasets` are their pictures and data.  Each demo runs three ways:

    micrograd demo apple
    python -m micrograd.demos.apple
    python micrograd/demos/apple.py
"""
