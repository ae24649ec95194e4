"""State: grad mode (re-entrant, per thread), concurrent backward() passes, copies and pickles."""

from __future__ import annotations

import copy
import math
import pickle
import threading

import pytest

from micrograd import Value, dot, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled, vsum


def small_graph() -> tuple[list[Value], Value]:
    xs = [Value(0.1 * i - 1.0) for i in range(30)]
    terms = [(x * x).tanh() * (i + 1) + x.exp() * 0.01 for i, x in enumerate(xs)]
    shared = vsum(terms)
    return xs, (shared * shared).sqrt() + dot(xs[:5], xs[5:10], xs[10], activation="tanh")


def test_no_grad_instance_can_be_nested_and_reused() -> None:
    ng = no_grad()
    with ng:
        with ng:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert (Value(1.0) * 2).requires_grad


def test_grad_mode_nesting_restores_each_level() -> None:
    with no_grad():
        with enable_grad():
            assert is_grad_enabled() and (Value(1.0) * 2).requires_grad
            with set_grad_enabled(False):
                assert not (Value(1.0) * 2).requires_grad
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(KeyError), no_grad():
        raise KeyError("x")
    assert is_grad_enabled()


def test_one_no_grad_instance_shared_by_threads() -> None:
    ng = no_grad()
    errors: list[BaseException] = []
    seen: list[bool] = []

    def work() -> None:
        try:
            for _ in range(200):
                with ng:
                    seen.append(is_grad_enabled())
                seen.append(not is_grad_enabled())
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and not any(seen)  # inside: off; after: on, in every thread
    assert is_grad_enabled()


def test_concurrent_backward_adds_exactly_k_passes() -> None:
    xs, root = small_graph()
    k_per_thread, n_threads = 25, 4

    def work() -> None:
        for _ in range(k_per_thread):
            root.backward()

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the same k passes, one after another in this thread
    ys, again = small_graph()
    for _ in range(k_per_thread * n_threads):
        again.backward()
    assert [x.grad for x in xs] == [y.grad for y in ys]
    (g0,) = grad(again, ys[0])
    assert xs[0].grad == pytest.approx(100 * g0.data, rel=1e-12)


def test_pickle_and_deepcopy_of_interior_nodes() -> None:
    xs, root = small_graph()
    root.backward()
    for clone in (pickle.loads(pickle.dumps(root)), copy.deepcopy(root)):
        assert clone.data == root.data and clone._op == root._op and clone is not root
        clone.backward()  # the clone's graph is whole: it differentiates like the original
    (g,) = grad(root, xs[3])
    clone = copy.deepcopy([root, xs[3]])  # shared leaves stay shared within one copy
    (h,) = grad(clone[0], clone[1])
    assert h.data == g.data


def test_pickle_and_deepcopy_of_a_long_chain_do_not_recurse() -> None:
    x = Value(1.0)
    y = x
    for i in range(100_000):
        y = y * 1.0 + (i % 3)
    for clone in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):
        assert clone.data == y.data
        clone.backward()
        assert math.isfinite(clone.data)


def test_pickle_keeps_special_numbers_and_labels() -> None:
    v = Value(math.nan, label="n") * math.inf
    w = pickle.loads(pickle.dumps(v))
    assert math.isnan(w.data) and w._op == "*inf" and w._prev[0].label == "n"


def test_create_graph_records_even_under_no_grad() -> None:
    x = Value(2.0)
    y = x**4
    with no_grad():
        (d1,) = grad(y, x, create_graph=True)  # as torch.autograd.grad: create_graph records
        assert not is_grad_enabled()
    assert d1.requires_grad and grad(d1, x)[0].data == 48.0
