"""The demos print what their seeds print, checked against independent oracles, and the CLI runs them.

Oracles: plain-Python arithmetic for the shopping graph, a re-implementation of seed 002's
`NeuralNetwork` (forward, deltas, then updates) for w1w5, PyTorch (when installed) and
central differences for the classifier's gradient.
"""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd import cli, files, no_grad
from micrograd.demos import apple, classifier, cnn, moons, w1w5, xor
from micrograd.demos.datasets import (
    SHAPE_CLASSES,
    make_blobs_classification,
    make_moons,
    make_shapes,
    train_test_split,
)
from micrograd.demos.plotting import progress
from micrograd.demos.registry import DEMOS
from micrograd.nn import cross_entropy

REPO = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    return path.exists() and path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 10_000


# ---------------------------------------------------------------- apple (seed 000)
def test_apple_reproduces_seed_000_to_the_last_digit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apple_, apple_num, orange, orange_num, tax = 100, 2, 150, 3, 1.1
    result = apple.main(out_dir=tmp_path)
    # forward in the book's order: (apple*apple_num + orange*orange_num) * tax
    assert result["price"] == (apple_ * apple_num + orange * orange_num) * tax
    assert repr(result["price"]) == "715.0000000000001"
    # product rule: d(x*y)/dx = y, and the upstream gradient of both products is d price / d all_price = tax
    assert result["grads"] == {
        "apple": apple_num * tax, "apple_num": apple_ * tax, "orange": orange_num * tax,
        "orange_num": orange * tax, "tax": apple_ * apple_num + orange * orange_num,
    }
    out = capsys.readouterr().out
    for text in ("715.0000000000001", "110.00000000000001", "2.2", "3.3000000000000003", "165.0", "650.0"):
        assert text in out
    svg = tmp_path / "apple_graph.svg"
    assert result["files"] == [str(svg)]
    content = svg.read_text(encoding="utf-8")
    assert "<svg" in content
    for label in ("apple_num", "orange_num", "tax", "price"):
        assert label in content


# ---------------------------------------------------------------- w1w5 (seed 002)
class SeedNetwork:
    """Seed 002's `NeuralNetwork(2, 2, 2)` in plain floats: one shared, fixed bias per layer; `train` computes
    every delta first (output, then hidden with the old output weights) and only then updates the weights."""

    def __init__(self) -> None:
        self.hidden = [[0.15, 0.20], [0.25, 0.30]]  # w1 w2 | w3 w4
        self.output = [[0.40, 0.45], [0.50, 0.55]]  # w5 w6 | w7 w8
        self.b_hidden, self.b_output = 0.35, 0.60

    @staticmethod
    def _layer(weights: list[list[float]], bias: float, inputs: list[float]) -> tuple[list[float], list[float]]:
        nets, outs = [], []
        for w in weights:
            total = 0.0
            for x, wi in zip(inputs, w):
                total += x * wi
            nets.append(total + bias)
            outs.append(1 / (1 + math.exp(-nets[-1])))
        return nets, outs

    def forward(self, inputs: list[float]) -> tuple[list[float], list[float], list[float], list[float]]:
        net_h, out_h = self._layer(self.hidden, self.b_hidden, inputs)
        net_o, out_o = self._layer(self.output, self.b_output, out_h)
        return net_h, out_h, net_o, out_o

    def error(self, inputs: list[float], targets: list[float]) -> float:
        out_o = self.forward(inputs)[3]
        return sum(0.5 * (t - o) ** 2 for t, o in zip(targets, out_o))

    def deltas(self, inputs: list[float], targets: list[float]) -> tuple[list[float], list[float], list[float]]:
        _, out_h, _, out_o = self.forward(inputs)
        d_out = [-(t - o) * o * (1 - o) for t, o in zip(targets, out_o)]
        d_hid = [sum(d_out[k] * self.output[k][j] for k in range(2)) * out_h[j] * (1 - out_h[j]) for j in range(2)]
        return d_out, d_hid, out_h

    def train(self, inputs: list[float], targets: list[float], lr: float = 0.5) -> None:
        d_out, d_hid, out_h = self.deltas(inputs, targets)
        for k in range(2):
            for j in range(2):
                self.output[k][j] -= lr * d_out[k] * out_h[j]
        for j in range(2):
            for i in range(2):
                self.hidden[j][i] -= lr * d_hid[j] * inputs[i]

    def weights(self) -> list[float]:
        return [w for row in self.hidden + self.output for w in row]


INPUTS, TARGETS = [0.05, 0.10], [0.01, 0.99]
TIGHT = {"rel": 1e-12, "abs": 1e-12}


@pytest.fixture(scope="module")
def w1w5_result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return w1w5.main(out_dir=tmp_path_factory.mktemp("w1w5"))


def test_w1w5_first_step_matches_the_seed_algorithm(w1w5_result: dict) -> None:
    oracle = SeedNetwork()
    net_h, out_h, net_o, out_o = oracle.forward(INPUTS)
    expected = {"net_h1": net_h[0], "net_h2": net_h[1], "out_h1": out_h[0], "out_h2": out_h[1],
                "net_o1": net_o[0], "net_o2": net_o[1], "out_o1": out_o[0], "out_o2": out_o[1]}
    for name, value in expected.items():
        assert w1w5_result["forward"][name] == pytest.approx(value, **TIGHT), name
    assert w1w5_result["E_total"] == pytest.approx(oracle.error(INPUTS, TARGETS), **TIGHT)
    d_out, d_hid, _ = oracle.deltas(INPUTS, TARGETS)
    assert w1w5_result["dE/dw5"] == pytest.approx(d_out[0] * out_h[0], **TIGHT)  # w5: h1 -> o1
    assert w1w5_result["dE/dw1"] == pytest.approx(d_hid[0] * INPUTS[0], **TIGHT)  # w1: i1 -> h1
    oracle.train(INPUTS, TARGETS)
    assert w1w5_result["weights_after_one"] == pytest.approx(oracle.weights(), **TIGHT)


def test_w1w5_agrees_with_the_walk_through_to_9_digits(w1w5_result: dict) -> None:
    assert round(w1w5_result["E_total"], 9) == 0.298371109
    assert round(w1w5_result["dE/dw5"], 9) == 0.082167041
    assert round(w1w5_result["dE/dw1"], 9) == 0.000438568
    assert round(w1w5_result["weights_after_one"][4], 8) == 0.35891648
    assert round(w1w5_result["weights_after_one"][0], 9) == 0.149780716


def test_w1w5_error_after_10000_updates_matches_the_seed_algorithm(w1w5_result: dict) -> None:
    oracle = SeedNetwork()
    for _ in range(10_000):
        oracle.train(INPUTS, TARGETS)
    assert w1w5_result["steps"] == 10_000
    assert w1w5_result["error_after"] == pytest.approx(oracle.error(INPUTS, TARGETS), **TIGHT)
    svg = Path(w1w5_result["files"][0]).read_text(encoding="utf-8")
    for k in range(1, 9):
        assert f">w{k}<" in svg  # every weight is a labelled node


def test_w1w5_quick_mode_keeps_the_10000_updates_and_steps_override(tmp_path: Path) -> None:
    oracle = SeedNetwork()
    for _ in range(3):
        oracle.train(INPUTS, TARGETS)
    short = w1w5.main(out_dir=tmp_path, steps=3, quick=True)
    assert short["error_after"] == pytest.approx(oracle.error(INPUTS, TARGETS), **TIGHT)
    assert w1w5.STEPS == 10_000  # quick mode does not shorten w1w5 (it takes about a second)


# ---------------------------------------------------------------- xor, moons, classifier, cnn
def test_xor_learns_all_four_patterns(tmp_path: Path) -> None:
    result = xor.main(out_dir=tmp_path, seed=0)
    assert result["accuracy"] == 1.0
    assert result["steps"] == 10_000
    assert result["error"] < 0.02
    assert _is_png(tmp_path / "xor_training.png")


def test_xor_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    a = xor.main(out_dir=tmp_path / "a", seed=1, steps=1000)
    b = xor.main(out_dir=tmp_path / "b", seed=1, steps=1000)
    c = xor.main(out_dir=tmp_path / "c", seed=2, steps=1000)
    assert a["outputs"] == b["outputs"] and a["history"] == b["history"]
    assert a["outputs"] != c["outputs"]
    assert (tmp_path / "a" / "xor_training.png").read_bytes() == (tmp_path / "b" / "xor_training.png").read_bytes()


def test_moons_full_run_separates_the_moons(tmp_path: Path) -> None:
    result = moons.main(out_dir=tmp_path, seed=0)
    assert result["steps"] == 100
    assert result["accuracy"] >= 0.98
    assert result["losses"][-1] < result["losses"][0] / 10
    assert _is_png(tmp_path / "moons.png")


def test_moons_quick(tmp_path: Path) -> None:
    result = moons.main(out_dir=tmp_path, seed=3, quick=True)
    assert result["steps"] == moons.QUICK_STEPS
    assert result["accuracy"] >= 0.9


def _classifier_loss(model: object, xs: list[list[float]], ys: list[int]) -> float:
    with no_grad():
        return cross_entropy([model(x) for x in xs], ys).data  # type: ignore[operator]


def test_classifier_gradient_matches_central_differences(tmp_path: Path) -> None:
    result = classifier.main(out_dir=tmp_path, seed=4, quick=True)
    xs, ys = make_blobs_classification(result["samples"], 20, 3, seed=4)
    model = classifier.build(4)
    w = model.modules[0].neurons  # type: ignore[attr-defined]
    for row, col in ((0, 0), (5, 7), (12, 19)):
        p, h = w[row].w[col], 1e-5
        p.data += h
        up = _classifier_loss(model, xs, ys)
        p.data -= 2 * h
        down = _classifier_loss(model, xs, ys)
        p.data += h
        assert result["grad"][row][col] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-9)
    assert _is_png(tmp_path / "classifier_gradient.png")


def test_classifier_gradient_matches_pytorch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    result = classifier.main(out_dir=tmp_path, seed=0)
    assert result["samples"] == 500
    xs, ys = make_blobs_classification(500, 20, 3, scale=100.0, seed=0)
    (w1, w2, w3), b3 = result["weights"], result["bias"]
    t = {name: torch.tensor(v, dtype=torch.float64) for name, v in (("w2", w2), ("w3", w3), ("b3", b3), ("x", xs))}
    tw1 = torch.tensor(w1, dtype=torch.float64, requires_grad=True)
    hidden = torch.sigmoid(torch.relu(t["x"] @ tw1.T) @ t["w2"].T)
    loss = torch.nn.CrossEntropyLoss()(hidden @ t["w3"].T + t["b3"], torch.tensor(ys))
    loss.backward()
    assert len(result["grad"]) == 13 and all(len(row) == 20 for row in result["grad"])
    assert result["loss"] == pytest.approx(loss.item(), rel=1e-12)
    expected = tw1.grad.tolist()
    for ours, theirs in zip(result["grad"], expected):
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-15)
    assert result["torch"]["max_abs_diff"] < 1e-12  # the demo's own comparison says the same
    assert "max |difference|" in capsys.readouterr().out


def test_classifier_runs_without_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    result = classifier.main(out_dir=tmp_path, quick=True)
    assert result["torch"] is None
    assert "PyTorch is not installed" in capsys.readouterr().out
    assert _is_png(tmp_path / "classifier_gradient.png")


def test_cnn_quick_beats_chance_on_held_out_images(tmp_path: Path) -> None:
    result = cnn.main(out_dir=tmp_path, seed=0, quick=True)
    chance = 1 / len(SHAPE_CLASSES)
    assert result["test_accuracy"] >= chance + 0.35
    assert result["train_accuracy"] >= chance + 0.35
    assert _is_png(tmp_path / "cnn.png")


def test_cnn_full_run(tmp_path: Path) -> None:
    result = cnn.main(out_dir=tmp_path, seed=0)
    assert result["samples"] == cnn.SAMPLES and result["epochs"] == cnn.EPOCHS
    assert result["test_accuracy"] >= 0.85


# ---------------------------------------------------------------- data sets
def test_make_moons_is_seeded_balanced_and_shaped() -> None:
    xs, ys = make_moons(100, noise=0.1, seed=7)
    assert (xs, ys) == make_moons(100, noise=0.1, seed=7)
    assert xs != make_moons(100, noise=0.1, seed=8)[0]
    assert len(xs) == 100 and all(len(p) == 2 for p in xs) and sorted(set(ys)) == [0, 1] and sum(ys) == 50
    clean, labels = make_moons(101, noise=0.0, seed=0)
    for (x, y), label in zip(clean, labels):  # on the unit circle centred at (0, 0) or at (1, 0.5)
        cx, cy = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert math.hypot(x - cx, y - cy) == pytest.approx(1.0)


def test_make_shapes_is_seeded_balanced_and_shaped() -> None:
    images, labels = make_shapes(40, size=8, noise=0.0, seed=3)
    assert (images, labels) == make_shapes(40, size=8, noise=0.0, seed=3)
    assert all(len(img) == 1 and len(img[0]) == 8 and all(len(r) == 8 for r in img[0]) for img in images)
    assert [labels.count(c) for c in range(len(SHAPE_CLASSES))] == [10] * 4
    for img, label in zip(images, labels):  # without noise, the lit pixels form one stroke of the right kind
        lit = [(r, c) for r, row in enumerate(img[0]) for c, v in enumerate(row) if v > 0]
        rows, cols = {r for r, _ in lit}, {c for _, c in lit}
        assert len(lit) >= 5
        if label == 0:
            assert len(rows) == 1
        elif label == 1:
            assert len(cols) == 1
        else:
            diffs = {r - c for r, c in lit} if label == 2 else {r + c for r, c in lit}
            assert len(diffs) == 1 and len(rows) == len(cols) == len(lit)
    train, y_train, test, y_test = train_test_split(images, labels, test_fraction=0.25)
    assert len(train) == 30 and len(test) == 10 and train + test == images and y_train + y_test == labels


# ---------------------------------------------------------------- command line
def test_cli_quick_tour_writes_every_picture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "nested" / "out"
    assert cli.main(["demo", "--quick", "--out", str(out)]) == 0
    expected = ["apple_graph.svg", "w1w5_graph.svg", "xor_training.png", "moons.png", "mathdrop_greeks.png",
                "classifier_gradient.png", "cnn.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    stdout = capsys.readouterr().out
    for name in DEMOS:
        assert f"== {name}:" in stdout
    assert "accuracy 4/4 = 100%" in stdout  # xor still learns in quick mode
    assert "E_total after 10,000 updates = 3.51018778298e-05" in stdout  # w1w5 keeps its 10,000 updates
    assert f"wrote {len(expected)} files to {out.resolve()}" in stdout


def test_cli_steps_and_seed_reach_the_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "xor", "--steps", "40", "--seed", "3", "--out", str(tmp_path)]) == 0
    stdout = capsys.readouterr().out
    assert "40 updates" in stdout and "(seed 3)" in stdout


@pytest.mark.parametrize("argv, needle", [
    (["demo", "nope"], "unknown demo 'nope'; valid names: apple, w1w5, xor, moons, mathdrop, classifier, cnn"),
    (["demo", "apple", "--steps", "0"], "--steps"),
])
def test_cli_user_errors_are_one_line_and_exit_2(argv: list[str], needle: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*argv, "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and needle in captured.err
    assert list(tmp_path.iterdir()) == []  # nothing ran


def test_cli_unwritable_out_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert cli.main(["demo", "apple", "--out", str(blocker / "sub")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "cannot write to output folder" in captured.err


def test_python_dash_m_runs_one_demo(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "micrograd", "demo", "apple", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "715.0000000000001" in run.stdout
    assert (tmp_path / "apple_graph.svg").exists()
    assert "Traceback" not in run.stderr


def test_demo_file_runs_as_a_script(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(REPO / "micrograd" / "demos" / "apple.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert f"wrote {tmp_path / 'apple_graph.svg'}" in run.stdout


def test_demo_module_runs_with_python_dash_m(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "micrograd.demos.apple", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "715.0000000000001" in run.stdout
    assert f"wrote {tmp_path / 'apple_graph.svg'}" in run.stdout


def test_progress_bar_shows_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        assert list(progress(range(3), total=3, desc="training")) == [0, 1, 2]
        assert ("training" in stream.getvalue()) is shown


# ---------------------------------------------------------------- outputs the system refuses: one line, exit 2
def test_cli_out_with_a_nul_byte_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", "apple", "--out", "pics\0x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("micrograd: error: cannot write to output folder 'pics\\x00x'")
    assert list(tmp_path.iterdir()) == []


def _full(fd: int) -> None:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("name, picture", [("apple", "apple_graph.svg"), ("xor", "xor_training.png")])
def test_cli_full_disk_is_one_line_exit_2_and_leaves_no_picture(name: str, picture: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(files.os, "fsync", _full)  # every picture goes through files.write_atomic
    assert cli.main(["demo", name, "--steps", "50", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"micrograd: error: cannot write {str(tmp_path / picture)!r}: No space left on device\n"
    assert list(tmp_path.iterdir()) == []  # no 0-byte or partial picture, no temporary file


def test_script_full_disk_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from micrograd.demos.options import run_script

    monkeypatch.setattr(files.os, "fsync", _full)
    assert run_script(apple.main, ["--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_an_out_folder_an_ascii_terminal_cannot_show_is_one_line_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "PYTHONIOENCODING": "ascii"}
    run = subprocess.run([sys.executable, "-m", "micrograd", "demo", "apple", "--out", "bilder-\u00e9t\u00e9"],
                         cwd=tmp_path, env=env, capture_output=True, timeout=120)
    assert run.returncode == 2 and run.stdout == b""
    (line,) = run.stderr.decode("ascii").splitlines()
    assert line.startswith("micrograd: error: cannot print '\\xe9' (in the output folder)")
    assert list(tmp_path.iterdir()) == []  # checked before the folder is made or a demo runs


def test_the_tour_time_in_the_help_is_the_measured_one(capsys: pytest.CaptureFixture[str]) -> None:
    from micrograd.cli.demo import TOUR_SECONDS

    assert cli.main(["demo", "--help"]) == 0
    assert f"the whole tour (about {TOUR_SECONDS} s)" in capsys.readouterr().out


def test_a_regular_install_ships_every_subpackage_and_the_script(tmp_path: Path) -> None:
    """No package-dir remap: ``pip install .`` (not editable) must carry micrograd.demos and the rest."""
    import shutil
    import zipfile

    source = tmp_path / "src"
    shutil.copytree(REPO / "micrograd", source / "micrograd", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    # with build isolation, as `pip install .` builds: pyproject's build requirements, not the venv's setuptools
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "dist").glob("micrograd-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        scripts = next(z.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    packages = {n.rsplit("/", 1)[0].replace("/", ".") for n in names if n.endswith("/__init__.py")}
    assert {"micrograd", "micrograd.cli", "micrograd.demos", "micrograd.nn", "micrograd.testing"} <= packages
    assert {f"micrograd/demos/{name}.py" for name in DEMOS} <= names and "micrograd/py.typed" in names
    assert "micrograd = micrograd.cli:entry_point" in scripts


# ---------------------------------------------------------------- mathdrop (issue 14's drop-in)
def test_mathdrop_greeks_match_their_closed_forms(tmp_path: Path) -> None:
    from micrograd.demos import mathdrop

    result = mathdrop.main(out_dir=tmp_path, quick=True)
    assert result["identical_to_python_math"]  # floats in: exactly Python's math
    assert result["max_relative_error"] < 1e-12 and result["curve_max_relative_error"] < 1e-12
    assert set(result["greeks"]) == set(result["closed_form"]) and len(result["greeks"]) == 8
    assert result["python_math_on_values"]  # the standard library refuses Values instead of dropping gradients
    assert (tmp_path / "mathdrop_greeks.png").stat().st_size > 0
