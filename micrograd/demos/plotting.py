"""Pictures and progress bars for the demos: headless, deterministic, no global state.

Figures are built on `matplotlib.figure.Figure` with an explicit Agg canvas instead of
`pyplot`, so nothing here switches the caller's backend, opens a window, or leaves
figures alive in pyplot's registry.  Graph drawings go through `micrograd.draw`.  Every
picture is written whole or not at all (`micrograd.files.write_atomic`).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from micrograd.files import write_atomic

from .options import DEFAULT_OUT

if TYPE_CHECKING:
    from matplotlib.figure import Figure

T = TypeVar("T")


def out_path(out_dir: str | Path | None, name: str) -> Path:
    """`out_dir/name`, creating the folder; None means the CLI's default `./micrograd-out`."""
    folder = Path(DEFAULT_OUT if out_dir is None else out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def blank_figure(width: float, height: float) -> Figure:
    """A figure on an Agg canvas with no axes yet (for `Figure.subfigures` layouts).

    matplotlib is imported here, not at the top, so that a demo run as a script has taken Ctrl-C
    over (`micrograd.demos.options.run_as_script`) before the second or so that importing it takes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure(ncols: int = 1, nrows: int = 1, width: float = 6.0, height: float = 4.5) -> tuple[Figure, Any]:
    """A figure on an Agg canvas and its axes (one Axes, or an array of them)."""
    fig = blank_figure(width, height)
    axes = fig.subplots(nrows, ncols, squeeze=True)
    return fig, axes


def save(fig: Figure, path: Path) -> Path:
    """Write `fig` (format by extension: PNG, SVG, PDF) with a fixed DPI and no timestamps, so reruns give
    identical bytes; atomically, so a failure leaves no partial picture (`OSError` naming `path`)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".").lower() or "png", dpi=110, metadata={"Software": None})
    write_atomic(path, buffer.getvalue())
    return path


def plot_curve(ax: Any, ys: Sequence[float], *, label: str, xlabel: str, ylabel: str, title: str,
               log: bool = False, color: str | None = None) -> None:
    """One training curve with labelled axes and a light grid."""
    ax.plot(range(1, len(ys) + 1), ys, label=label, color=color, linewidth=1.6)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)


def save_graph(root: Any, path: Path, **options: Any) -> Path:
    """Draw the computation graph behind `root` to `path` (format by extension) with Graphviz.

    If the Graphviz `dot` program is missing, `micrograd.draw.render` saves the DOT source
    instead; say so on stderr and go on: a demo's numbers matter more than its picture.
    """
    from micrograd.draw import GraphvizNotFoundError, render

    try:
        return render(root, path, **options)
    except GraphvizNotFoundError as exc:
        print(f"note: {exc}", file=sys.stderr)
        return exc.dot_path


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
    """A tqdm bar on stderr while training; silent when stderr is not a terminal (CI, pipes, tests)."""
    from tqdm import tqdm

    yield from tqdm(iterable, total=total, desc=desc, file=sys.stderr, disable=None, leave=False,
                    dynamic_ncols=True, mininterval=0.2)


def say(text: str) -> None:
    """Print a line to stdout during training without tearing a progress bar that is on screen."""
    from tqdm import tqdm

    tqdm.write(text, file=sys.stdout)
