"""save_graph / load_graph: a fresh process replays a saved graph bitwise without the
model's source; truncated, garbled, pickled or hostile files give named errors."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import autograd_cnn as ac
import autograd_cnn.functional as F
from autograd_cnn.errors import DataFileNotFoundError, GraphFormatError


def _lenet_grad_graph():
    m = ac.models.LeNet5(input_size=28, activation="relu", pool="max")

    def grads(x, t):
        return ac.gradients(F.cross_entropy(m(x), t), list(m.parameters()))

    spec = (ac.ShapeSpec((None, 1, 28, 28)), ac.ShapeSpec((None,), "int64"))
    return ac.trace(grads, *spec, params=m).simplify()


def test_round_trip_in_a_fresh_process_is_bitwise(tmp_path):
    g = _lenet_grad_graph()
    path = tmp_path / "lenet_grads.npz"
    ac.save_graph(g, path)
    x, t = ac.randn(5, 1, 28, 28, seed=3), ac.tensor(np.array([0, 1, 2, 3, 9]))
    np.savez(tmp_path / "io.npz", x=x.numpy(), t=t.numpy(),
             **{f"o{i}": o.numpy() for i, o in enumerate(g(x, t))})
    code = (
        "import numpy as np, autograd_cnn as ac\n"
        f"g = ac.load_graph({str(path)!r})\n"
        f"d = np.load({str(tmp_path / 'io.npz')!r})\n"
        "out = g(ac.Tensor(d['x']), ac.Tensor(d['t']))\n"
        "print(all(np.array_equal(o.numpy(), d[f'o{i}']) for i, o in enumerate(out)))\n"
    )
    root = str(Path(__file__).resolve().parents[1])  # this checkout's package, not another
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env=env)
    assert run.stdout.strip() == "True", run.stderr


def test_loaded_graph_keeps_structure_symbols_and_backward_marks(tmp_path):
    g = _lenet_grad_graph()
    ac.save_graph(g, tmp_path / "g.npz")
    h = ac.load_graph(tmp_path / "g.npz")
    assert str(h) == str(g)
    assert h.symbols == ["N"] and len(h.backward_nodes()) == len(g.backward_nodes())
    y = h(ac.randn(2, 1, 28, 28), ac.tensor(np.array([1, 2])))
    assert y[0].shape == (6, 1, 5, 5)


def test_loaded_parameters_are_trainable(tmp_path):
    m = ac.nn.Linear(3, 1)
    ac.save_graph(ac.trace(m, ac.ShapeSpec((None, 3))), tmp_path / "lin.npz")
    h = ac.load_graph(tmp_path / "lin.npz")
    (h(ac.ones(4, 3)) ** 2).sum().backward()
    assert h.bindings["weight"].grad.shape == (1, 3)


def _rewrite(src, dst, fn):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            data = fn(item.filename, data)
            if data is not None:
                zout.writestr(item, data)


def _manifest_edit(edit):
    def fn(name, data):
        if name != "__manifest__.npy":
            return data
        header_end = data.index(b"\n") + 1
        m = json.loads(data[header_end:].decode())
        edit(m)
        body = json.dumps(m).encode()
        arr = np.frombuffer(body, dtype=np.uint8)
        import io

        buf = io.BytesIO()
        np.save(buf, arr)
        return buf.getvalue()

    return fn


@pytest.fixture
def saved(tmp_path):
    g = ac.trace(lambda x: ac.relu(x) * 2, ac.ShapeSpec((None, 3)))
    path = tmp_path / "g.npz"
    ac.save_graph(g, path)
    return path


def test_truncated_and_garbled_files(saved, tmp_path):
    data = saved.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(GraphFormatError):
        ac.load_graph(tmp_path / "cut.npz")
    (tmp_path / "junk.npz").write_bytes(b"\x00garbage" * 50)
    with pytest.raises(GraphFormatError, match="not an .npz"):
        ac.load_graph(tmp_path / "junk.npz")
    with pytest.raises(DataFileNotFoundError):
        ac.load_graph(tmp_path / "missing.npz")


def test_pickled_members_are_refused(saved, tmp_path):
    import io

    def add_pickle(name, data):
        return data

    _rewrite(saved, tmp_path / "p.npz", add_pickle)
    with zipfile.ZipFile(tmp_path / "p.npz", "a") as z:
        buf = io.BytesIO()
        np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
        z.writestr("c9.npy", buf.getvalue())
    with pytest.raises(GraphFormatError, match="pickle|Python objects"):
        ac.load_graph(tmp_path / "p.npz")


@pytest.mark.parametrize("edit, match", [
    (lambda m: m["nodes"][0].update(op="os.system"), "not a registered primitive"),
    (lambda m: m["nodes"][0].update(inputs=[["node", 5, 0]]), "points to no earlier"),
    (lambda m: m["inputs"][0].update(dtype="object"), "unsupported dtype"),
    (lambda m: m["inputs"][0].update(shape=[-1, 3]), "invalid shape"),
    (lambda m: m.update(format="something else"), "format"),
    (lambda m: m["nodes"][0].update(params={"__reduce__": "x"}), "unrecognized|params"),
    (lambda m: m.update(outputs=[["const", 99]]), "points to no earlier"),
])
def test_hostile_manifests_are_refused(saved, tmp_path, edit, match):
    _rewrite(saved, tmp_path / "h.npz", _manifest_edit(edit))
    with pytest.raises(GraphFormatError, match=match):
        ac.load_graph(tmp_path / "h.npz")


def test_unsavable_params_are_named():
    rng = np.random.default_rng(0)
    g = ac.trace(lambda x: F.dropout(x, 0.5, generator=rng), ac.ShapeSpec((None, 3)))
    with pytest.raises(GraphFormatError, match="dropout_mask.*Generator"):
        ac.save_graph(g, "/dev/null")
