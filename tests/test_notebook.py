"""A bare Value at the end of a notebook cell shows its graph: a real notebook, executed by nbclient in a kernel.

Expected numbers are closed forms (d(x² + x)/dx = 2x + 1 = 5 at x = 2).  Without nbclient, nbformat
or ipykernel the test skips, except in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import re

import pytest

CELLS = [
    # 1: a small graph, drawn whole
    "import micrograd\nfrom micrograd import Value\n"
    "x = Value(2.0, label='x')\ny = x * x + x\ny.label = 'y'\ny.backward()\ny",
    # 2: a big graph: the part nearest the output, and a note saying what was left out
    "z = x\nfor _ in range(200):\n    z = (z * 0.5).tanh()\nz",
    # 3: not the last expression of the cell: nothing is shown
    "y\nNone",
    # 4: no Graphviz: the text repr
    "import os\nos.environ['PATH'] = ''\ny",
]


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the notebook test needs {', '.join(missing)} (pip install nbclient nbformat ipykernel)")
        pytest.skip(f"needs {', '.join(missing)}")


def test_a_bare_value_shows_its_graph_in_a_notebook() -> None:
    _require("nbclient", "nbformat", "ipykernel")
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    NotebookClient(nb, kernel_name="python3", timeout=180).execute()
    outputs = [cell.outputs for cell in nb.cells]

    (small,) = outputs[0]
    svg, text = small["data"]["image/svg+xml"], small["data"]["text/plain"]
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "</svg>" in svg
    assert ">grad 5.0000<" in svg  # x.grad = 2x + 1 at x = 2
    assert ">data 6.0000<" in svg and ">y<" in svg
    assert text == "Value(data=6.0, grad=1.0, label='y')"

    (big,) = outputs[1]
    big_svg = big["data"]["image/svg+xml"]
    drawn = len(re.findall(r"<title>v\d+</title>", big_svg))
    assert drawn == 20  # micrograd.notebook.NOTEBOOK_MAX_NODES
    assert "381 more nodes not drawn" in big_svg  # 401 values: x, and z*0.5 and its tanh per level

    assert outputs[2] == []

    (plain,) = outputs[3]
    assert set(plain["data"]) == {"text/plain"}
    assert plain["data"]["text/plain"] == "Value(data=6.0, grad=1.0, label='y')"
