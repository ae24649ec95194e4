"""Checkpoints: exact round trips, atomic writes, and every kind of bad file rejected with the model unchanged."""

from __future__ import annotations

import errno
import json
import math
import os
import random
import shutil
import signal
import stat
import tempfile
from pathlib import Path

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
    with pytest.raises(OSError, match="disk on fire") as info:
        other.save(path)
    monkeypatch.undo()
    assert ".tmp" not in str(info.value)
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


# ---------------------------------------------------------------- the version-1 format, unchanged
OLD_SEQUENTIAL = """{
  "format": "micrograd-model",
  "version": 1,
  "architecture": {"type": "Sequential", "modules": [{"type": "Conv2d", "in_channels": 1, "out_channels": 1, \
"kernel_size": [2, 2], "stride": [1, 1], "padding": [0, 0], "bias": true}, {"type": "Activation", "activation": \
"leaky_relu", "negative_slope": 0.2}, {"type": "MaxPool2d", "kernel_size": [2, 2], "stride": [2, 2]}, {"type": \
"Flatten"}, {"type": "MLP", "layers": [{"type": "Layer", "nin": 1, "nout": 2, "activation": "tanh", "bias": true}, \
{"type": "Layer", "nin": 2, "nout": 1, "activation": "linear", "bias": true}]}]},
  "parameters": {
    "0.weight": [[[[0.6658933485975317, -0.9875298482908393], [-0.48063069550672305, 0.26198558500524005]]]],
    "0.bias": [0.0],
    "4.layers.0.neurons.0.w": [0.02254944273721704],
    "4.layers.0.neurons.0.b": 0.0,
    "4.layers.0.neurons.1.w": [-0.19013172509917142],
    "4.layers.0.neurons.1.b": 0.0,
    "4.layers.1.neurons.0.w": [0.5675971780695452, -0.3933745478421451],
    "4.layers.1.neurons.0.b": 0.0
  }
}
"""
OLD_LAYER = """{
  "format": "micrograd-model",
  "version": 1,
  "architecture": {"type": "Layer", "nin": 2, "nout": 2, "activation": "relu", "bias": false, "neurons": \
[{"type": "Neuron", "nin": 2, "activation": "relu", "bias": false}, {"type": "Neuron", "nin": 2, "activation": \
"sigmoid", "bias": false}]},
  "parameters": {
    "neurons.0.w": [-0.04680609169528838, 0.1667640789100624],
    "neurons.1.w": [0.8162257703906703, 0.009373711634780513]
  }
}
"""


def test_files_written_by_micrograd_0_2_load_and_are_written_byte_for_byte_the_same(tmp_path):
    """The two texts above were written by micrograd 0.2.0 (nn.py before the split) for these models."""
    rng = random.Random(0)
    seq = nn.Sequential(nn.Conv2d(1, 1, 2, rng=rng), nn.Activation("leaky_relu", 0.2), nn.MaxPool2d(2),
                        nn.Flatten(), nn.MLP(1, [2, 1], activation="tanh", rng=rng))
    layer = nn.Layer(2, 2, bias=False, rng=rng)
    layer.neurons[1].activation = "sigmoid"
    for model, text in ((seq, OLD_SEQUENTIAL), (layer, OLD_LAYER)):
        model.save(tmp_path / "new.json")
        assert (tmp_path / "new.json").read_text() == text
        (tmp_path / "old.json").write_text(text)
        before = bits(model)
        for p in model.parameters():
            p.data = 0.5
        model.load(tmp_path / "old.json")
        assert bits(model) == before


# ---------------------------------------------------------------- what save() writes over (issue 12)
@pytest.fixture
def no_hang():
    """Fail instead of hanging if something blocks (opening a FIFO with no other end blocks forever)."""
    def alarm(signum, frame):
        raise TimeoutError("blocked: a FIFO or device was opened")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def leftovers(directory) -> list[str]:
    return [name for name in os.listdir(directory) if name.endswith(".tmp")]


def test_save_writes_through_a_symlink_to_its_target(tmp_path):
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target)
    model = fresh()
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)  # the link is still the same link
    other = nn.MLP(2, [3, 1], rng=random.Random(5))
    other.load(target)
    assert bits(other) == bits(model)
    relative = tmp_path / "rel.json"
    relative.symlink_to("real.json")  # a relative link, resolved from the link's folder
    nn.MLP(2, [3, 1], rng=random.Random(6)).save(relative)
    assert relative.is_symlink()
    other.load(target)
    assert bits(other) == bits(nn.MLP(2, [3, 1], rng=random.Random(6)))
    assert leftovers(tmp_path) == []


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")
    fresh().save(link)
    assert link.is_symlink() and (tmp_path / "new.json").is_file()


def test_save_refuses_a_fifo_and_a_symlink_to_one_and_leaves_them_fifos(tmp_path, no_hang):
    fifo, link = tmp_path / "pipe", tmp_path / "link.json"
    os.mkfifo(fifo)
    link.symlink_to(fifo)
    for path in (fifo, link):
        with pytest.raises(OSError, match="not a regular file") as info:
            fresh().save(path)
        assert info.value.filename == str(path) and ".tmp" not in str(info.value)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and link.is_symlink()
    assert leftovers(tmp_path) == []


def test_save_refuses_a_device_node_and_a_symlink_to_one(tmp_path):
    """A copy of /dev/null's node (char device 1, 3) inside tmp_path: the real /dev/null is never at risk."""
    dev = tmp_path / "null"
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        pytest.skip("creating a device node needs root (CAP_MKNOD)")
    link = tmp_path / "link.json"
    link.symlink_to(dev)
    for path in (dev, link):
        with pytest.raises(OSError, match="not a regular file") as info:
            fresh().save(path)
        assert info.value.filename == str(path)
    assert stat.S_ISCHR(os.stat(dev).st_mode) and os.stat(dev).st_rdev == os.makedev(1, 3)
    assert leftovers(tmp_path) == []


def test_save_refuses_a_directory_and_a_missing_directory_naming_the_path(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        fresh().save(folder)
    assert info.value.filename == str(folder) and folder.is_dir()
    missing = tmp_path / "no" / "such" / "m.json"
    with pytest.raises(FileNotFoundError) as info:
        fresh().save(missing)
    assert info.value.filename == str(missing) and ".tmp" not in str(info.value)
    assert leftovers(tmp_path) == [] and sorted(os.listdir(tmp_path)) == ["folder"]


def as_nobody(action) -> str:
    """Run `action()` in a child process as user nobody (65534) when we are root, else as we are;
    return what it returned or the repr of what it raised, as text."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            try:
                result = f"ok {action()}"
            except BaseException as e:
                result = f"{type(e).__name__} {e.filename if isinstance(e, OSError) else ''} {e}"
            os.write(write, result.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        out = f.read()
    os.waitpid(pid, 0)
    return out


@pytest.fixture
def shared_dir():
    """A folder anyone may write in (pytest's tmp_path is private to root)."""
    d = tempfile.mkdtemp()
    os.chmod(d, 0o777)
    yield Path(d)
    shutil.rmtree(d)


def test_save_refuses_a_read_only_file_as_open_would(shared_dir):
    path = shared_dir / "ro.json"
    fresh().save(path)
    text = path.read_text()
    os.chmod(path, 0o444)
    model = nn.MLP(2, [3, 1], rng=random.Random(4))
    result = as_nobody(lambda: model.save(path))  # the folder is writable: only the file's mode says no
    assert result.startswith(f"PermissionError {path}") and ".tmp" not in result
    assert path.read_text() == text and stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert leftovers(shared_dir) == []


def test_save_into_a_folder_we_may_not_write_names_the_path_not_the_temporary_file(shared_dir):
    locked = shared_dir / "locked"
    locked.mkdir()
    os.chmod(locked, 0o555)
    path = locked / "m.json"
    result = as_nobody(lambda: fresh().save(path))
    assert result.startswith(f"PermissionError {path}") and ".tmp" not in result
    assert os.listdir(locked) == []


def test_save_through_a_symlink_loop_names_the_path(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OSError) as info:
        fresh().save(a)
    assert info.value.filename == str(a) and a.is_symlink() and b.is_symlink()


def test_a_failed_write_names_the_path_not_the_temporary_file(saved, monkeypatch):
    _, path, text = saved

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left") as info:
        fresh().save(path)
    monkeypatch.undo()
    assert info.value.filename == str(path) and ".tmp" not in str(info.value)
    assert path.read_text() == text and leftovers(path.parent) == []


# ---------------------------------------------------------------- what load() reads (issue 12)
def test_load_refuses_a_fifo_without_blocking(tmp_path, no_hang):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link.json"
    link.symlink_to(fifo)
    for path in (fifo, link):
        target = fresh()
        before = bits(target)
        with pytest.raises(nn.CheckpointError, match="a FIFO, not a regular file") as info:
            target.load(path)
        assert str(path) in str(info.value) and bits(target) == before


def test_load_refuses_a_symlink_to_dev_zero_and_a_directory(tmp_path, no_hang):
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")  # read-only use of /dev/zero: reading it would never end
    with pytest.raises(nn.CheckpointError, match="character device, not a regular file"):
        fresh().load(link)
    with pytest.raises(nn.CheckpointError, match="a directory, not a regular file"):
        fresh().load(tmp_path)


def test_load_refuses_a_file_over_the_limit_before_reading_it(tmp_path, no_hang):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:
        try:
            f.truncate(2 ** 36)  # 64 GiB, sparse: reading it would take minutes and all the memory
        except OSError:
            pytest.skip("this file system has no sparse files that large")
    with pytest.raises(nn.CheckpointError, match=f"{2 ** 36} bytes, more than the limit of {nn.DEFAULT_MAX_BYTES}"):
        fresh().load(huge)
    assert nn.DEFAULT_MAX_BYTES == 8 * 1024 * 1024  # documented in Module.load and checkpoint.py


def test_the_size_limit_is_exact_and_overridable(saved):
    model, path, text = saved
    padded = text + " " * 100
    path.write_text(padded)
    size = len(padded.encode())
    with pytest.raises(nn.CheckpointError, match=f"more than the limit of {size - 1}"):
        fresh().load(path, max_bytes=size - 1)
    for limit in (size, None):
        target = fresh()
        target.load(path, max_bytes=limit)
        assert bits(target) == bits(model)
    for bad in (-1, 1.5, True, "10"):
        with pytest.raises(ValueError, match="max_bytes"):
            fresh().load(path, max_bytes=bad)
