"""Checkpoints: exact round trips, atomic writes, and every kind of bad file rejected with the model unchanged."""

from __future__ import annotations

import json
import math
import os
import random
import stat

import pytest

from micrograd import nn
from micrograd.engine import Value
from micrograd.optim import SGD

W = "layers.0.neurons.0.w"
B = "layers.0.neurons.0.b"


def bits(model: nn.Module) -> list[str]:
    return [p.data.hex() for p in model.parameters()]  # hex distinguishes -0.0 and every last bit


@pytest.fixture
def saved(tmp_path):
    """A saved MLP(2, [3, 1]) and its JSON text."""
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    path = tmp_path / "model.json"
    model.save(path)
    return model, path, path.read_text()


def fresh() -> nn.MLP:
    return nn.MLP(2, [3, 1], rng=random.Random(99))


# ---------------------------------------------------------------- round trips
def test_round_trip_is_bit_exact_including_awkward_floats(tmp_path):
    model = nn.MLP(3, [4, 2], activation="tanh", rng=random.Random(1))
    awkward = [0.1, 1 / 3, -0.0, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308, 1e-300, 123456789.0]
    for p, v in zip(model.parameters(), awkward):
        p.data = v
    path = tmp_path / "m.json"
    model.save(path)
    other = nn.MLP(3, [4, 2], activation="tanh", rng=random.Random(2))
    other.load(path)
    assert bits(other) == bits(model)
    x = [0.5, -0.25, 2.0]
    assert [v.data for v in other(x)] == [v.data for v in model(x)]


def test_load_fills_the_same_value_objects_so_an_optimizer_keeps_working(saved):
    model, path, _ = saved
    target = fresh()
    params = target.parameters()
    opt = SGD(params, lr=0.1)
    target.load(path)
    assert all(a is b for a, b in zip(params, target.parameters()))
    assert bits(target) == bits(model)
    loaded = [p.data for p in params]
    target([1.0, 2.0]).backward()
    opt.step()  # updates the loaded parameters
    assert [p.data for p in target.parameters()] == [v - 0.1 * p.grad for v, p in zip(loaded, params)]


def test_file_is_human_readable_json_with_format_version_and_architecture(saved):
    model, path, text = saved
    doc = json.loads(text)
    assert doc["format"] == "micrograd-model" and doc["version"] == 1
    assert doc["architecture"]["type"] == "MLP"
    assert [layer["nout"] for layer in doc["architecture"]["layers"]] == [3, 1]
    assert doc["parameters"][W] == [w.data for w in model.layers[0].neurons[0].w]
    assert doc["parameters"][B] == 0.0
    assert text.count("\n") >= len(doc["parameters"])  # one tensor per line, not one giant line


def test_state_dict_round_trip_and_independence():
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    state = model.state_dict()
    json.dumps(state)  # JSON-able
    state["parameters"][W][0] = 42.0  # mutating the snapshot does not touch the model
    assert model.layers[0].neurons[0].w[0].data != 42.0
    target = fresh()
    target.load_state_dict(state)
    assert target.layers[0].neurons[0].w[0].data == 42.0
    assert bits(target)[1:] == bits(model)[1:]


def test_conv_sequential_round_trip(tmp_path):
    def make(seed):
        rng = random.Random(seed)
        return nn.Sequential(nn.Conv2d(1, 2, 2, padding=1, rng=rng), nn.Activation("relu"), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Layer(8, 2, bias=False, rng=rng))
    model, other = make(0), make(1)
    model.save(tmp_path / "cnn.json")
    other.load(tmp_path / "cnn.json")
    assert bits(other) == bits(model)
    doc = json.loads((tmp_path / "cnn.json").read_text())
    assert list(doc["parameters"]) == ["0.weight", "0.bias", "4.neurons.0.w", "4.neurons.1.w"]
    assert [len(doc["parameters"]["0.weight"]), len(doc["parameters"]["0.weight"][0])] == [2, 1]


def test_micrograd_style_subclass_round_trip(tmp_path):
    class Affine(nn.Module):  # defines only parameters(), like user code written for micrograd
        def __init__(self, a: float, b: float) -> None:
            self.a, self.b = Value(a), Value(b)

        def parameters(self):
            return [self.a, self.b]

    Affine(2.5, -1.0).save(tmp_path / "a.json")
    other = Affine(0.0, 0.0)
    other.load(tmp_path / "a.json")
    assert (other.a.data, other.b.data) == (2.5, -1.0)


def test_parameterless_modules_round_trip(tmp_path):
    nn.MaxPool2d(2).save(tmp_path / "p.json")
    nn.MaxPool2d(2).load(tmp_path / "p.json")
    with pytest.raises(nn.CheckpointError, match="architecture"):
        nn.MaxPool2d(3).load(tmp_path / "p.json")


# ---------------------------------------------------------------- atomic writes
@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_a_failed_save_leaves_the_old_file_and_no_temporary(saved, monkeypatch, fail_at):
    _, path, text = saved
    other = fresh()

    def boom(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, fail_at, boom)
    with pytest.raises(OSError, match="disk on fire"):
        other.save(path)
    monkeypatch.undo()
    assert path.read_text() == text
    assert sorted(os.listdir(path.parent)) == ["model.json"]


def test_saving_non_finite_parameters_is_refused_and_the_file_untouched(saved):
    _, path, text = saved
    other = fresh()
    other.layers[1].neurons[0].w[2].data = math.nan
    with pytest.raises(nn.CheckpointError, match=r"model\.json.*layers\.1\.neurons\.0\.w.*nan"):
        other.save(path)
    assert path.read_text() == text


def test_overwriting_keeps_permissions(saved):
    _, path, _ = saved
    os.chmod(path, 0o600)
    fresh().save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# ---------------------------------------------------------------- corrupted and mismatched files
def edit(text: str, change) -> str:
    doc = json.loads(text)
    change(doc)
    return json.dumps(doc, indent=1)


def put(key, value):
    return lambda doc: doc["parameters"].__setitem__(key, value)


def with_literal(text: str, literal: str) -> str:
    """Replace the second weight with a raw JSON token (NaN, Infinity, 1e999 ...)."""
    return edit(text, lambda d: d["parameters"][W].__setitem__(1, "@@")).replace('"@@"', literal)


CORRUPTIONS = {
    "empty file": (lambda t: "", "empty"),
    "truncated in the middle": (lambda t: t[: len(t) // 2], "not valid JSON"),
    "last byte missing": (lambda t: t.rstrip()[:-1], "not valid JSON"),
    "garbage": (lambda t: "this is not json", "not valid JSON"),
    "trailing garbage": (lambda t: t + "}", "not valid JSON"),
    "absurdly deep nesting": (lambda t: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "top level is a list": (lambda t: "[1, 2, 3]", "JSON object"),
    "missing format": (lambda t: edit(t, lambda d: d.pop("format")), "missing key.*'format'"),
    "missing version": (lambda t: edit(t, lambda d: d.pop("version")), "missing key.*'version'"),
    "missing architecture": (lambda t: edit(t, lambda d: d.pop("architecture")), "missing key.*'architecture'"),
    "missing parameters": (lambda t: edit(t, lambda d: d.pop("parameters")), "missing key.*'parameters'"),
    "unknown top-level key": (lambda t: edit(t, lambda d: d.__setitem__("extra", 1)), "unexpected key.*'extra'"),
    "wrong format marker": (lambda t: edit(t, lambda d: d.__setitem__("format", "pickle")), "not a micrograd"),
    "unknown version": (lambda t: edit(t, lambda d: d.__setitem__("version", 2)), "unsupported format version 2"),
    "version as string": (lambda t: edit(t, lambda d: d.__setitem__("version", "1")), "unsupported format version"),
    "version as bool": (lambda t: edit(t, lambda d: d.__setitem__("version", True)), "unsupported format version"),
    "parameters not an object": (lambda t: edit(t, lambda d: d.__setitem__("parameters", [1.0])), "must be an object"),
    "missing parameter": (lambda t: edit(t, lambda d: d["parameters"].pop(B)), f"missing parameter.*{B}"),
    "unexpected parameter": (lambda t: edit(t, put("layers.9.neurons.0.w", [1.0])), "unexpected parameter"),
    "too few weights": (lambda t: edit(t, put(W, [0.5])), "has 1 entries, the model expects 2"),
    "too many weights": (lambda t: edit(t, put(W, [0.5, 0.5, 0.5])), "has 3 entries, the model expects 2"),
    "scalar where a list belongs": (lambda t: edit(t, put(W, 0.5)), "expected a list of 2"),
    "list where a scalar belongs": (lambda t: edit(t, put(B, [0.0])), "expected a number"),
    "nested too deep": (lambda t: edit(t, put(W, [[0.5], [0.5]])), r"\[0\]: expected a number"),
    "string number": (lambda t: edit(t, lambda d: d["parameters"][W].__setitem__(1, "0.5")), "expected a number"),
    "null number": (lambda t: edit(t, put(B, None)), "expected a number, got null"),
    "bool number": (lambda t: edit(t, put(B, True)), "expected a number, got true"),
    "NaN": (lambda t: with_literal(t, "NaN"), "NaN is not allowed"),
    "Infinity": (lambda t: with_literal(t, "Infinity"), "Infinity is not allowed"),
    "-Infinity": (lambda t: with_literal(t, "-Infinity"), "-Infinity is not allowed"),
    "overflowing literal": (lambda t: with_literal(t, "1e999"), "finite number"),
    "huge integer": (lambda t: with_literal(t, "1" + "0" * 400), "finite number"),
    "duplicate key": (lambda t: t.replace('"format"', '"version": 1, "format"', 1), "duplicate key 'version'"),
    "architecture of a wider net": (
        lambda t: edit(t, lambda d: d["architecture"]["layers"][0].__setitem__("nout", 4)), "architecture mismatch"),
    "architecture with another activation": (
        lambda t: edit(t, lambda d: d["architecture"]["layers"][0].__setitem__("activation", "tanh")),
        "architecture mismatch"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_bad_file_raises_checkpoint_error_and_model_is_unchanged(saved, name):
    _, path, text = saved
    corrupt, match = CORRUPTIONS[name]
    bad = path.with_name("bad.json")
    bad.write_text(corrupt(text))
    target = fresh()
    before = bits(target)
    with pytest.raises(nn.CheckpointError, match=match) as info:
        target.load(bad)
    assert isinstance(info.value, ValueError)
    assert str(bad) in str(info.value)  # the message names the file
    assert bits(target) == before


def test_non_utf8_file(saved):
    _, path, _ = saved
    path.write_bytes(b"\xff\xfe\x00garbage")
    target = fresh()
    before = bits(target)
    with pytest.raises(nn.CheckpointError, match="UTF-8"):
        target.load(path)
    assert bits(target) == before


@pytest.mark.parametrize("other", [
    lambda: nn.MLP(2, [4, 1], rng=random.Random(0)),           # different width: shapes differ
    lambda: nn.MLP(3, [3, 1], rng=random.Random(0)),           # different input size
    lambda: nn.MLP(2, [3, 1], bias=False, rng=random.Random(0)),  # no biases
    lambda: nn.MLP(2, [3, 1], activation="tanh", rng=random.Random(0)),  # same shapes, other activation
    lambda: nn.MLP(1, [4, 1], rng=random.Random(0)),           # same parameter count (13): shape decides
])
def test_mismatched_architecture_is_detected(saved, other):
    _, path, _ = saved
    target = other()
    before = bits(target)
    with pytest.raises(nn.CheckpointError, match="architecture mismatch"):
        target.load(path)
    assert bits(target) == before


def test_same_count_different_shape_is_caught_by_shape_even_without_the_architecture_check(saved):
    """Forge a file whose architecture matches MLP(1, [4, 1]) but whose tensors come from MLP(2, [3, 1])."""
    _, path, text = saved
    target = nn.MLP(1, [4, 1], rng=random.Random(0))
    assert len(target.parameters()) == len(fresh().parameters())
    forged = edit(text, lambda d: d.__setitem__("architecture", target.architecture()))
    path.write_text(forged)
    before = bits(target)
    with pytest.raises(nn.CheckpointError, match="parameter"):
        target.load(path)
    assert bits(target) == before


def test_load_state_dict_validates_too():
    model = nn.MLP(2, [3, 1], rng=random.Random(0))
    state = model.state_dict()
    state["parameters"][W][0] = math.inf
    target = fresh()
    before = bits(target)
    with pytest.raises(nn.CheckpointError, match="state_dict.*finite"):
        target.load_state_dict(state)
    assert bits(target) == before


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        fresh().load(tmp_path / "nope.json")
