"""``autograd_cnn.utils.data`` and torchvision-style transforms/grids: PyTorch's module
paths, DataLoader options, dict samples, samplers, ToTensor/Resize/CenterCrop/flip,
make_grid/save_image."""

import importlib
import warnings

import numpy as np
import pytest

import autograd_cnn as ac
from autograd_cnn.data import transforms as T
from autograd_cnn.errors import OptionalDependencyError, ShapeError


def test_pytorch_module_paths_import():
    for path in ("autograd_cnn.nn.functional", "autograd_cnn.utils.data",
                 "autograd_cnn.optim.lr_scheduler", "autograd_cnn.nn.utils"):
        importlib.import_module(path)
    import autograd_cnn.functional as G
    import autograd_cnn.nn.functional as F
    from autograd_cnn.optim.lr_scheduler import OneCycleLR, StepLR  # noqa: F401
    from autograd_cnn.utils.data import (  # noqa: F401
        ConcatDataset,
        DataLoader,
        Dataset,
        RandomSampler,
        Subset,
        TensorDataset,
        random_split,
    )

    public = {n for n in dir(G) if not n.startswith("_")}
    assert public <= set(dir(F))
    assert all(getattr(F, n) is getattr(G, n) for n in public)
    assert ac.nn.functional is F and ac.utils.data.DataLoader is ac.data.DataLoader


def test_dataloader_accepts_num_workers_and_pin_memory():
    ds = ac.utils.data.TensorDataset(np.arange(10.0)[:, None], np.arange(10))
    with pytest.warns(UserWarning, match="main process"):
        dl = ac.utils.data.DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True,
                                      persistent_workers=True)
    assert [x.shape[0] for x, _ in dl] == [4, 4, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ac.utils.data.DataLoader(ds, num_workers=0, pin_memory=True)


class _DictDataset(ac.utils.data.Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"image": np.full((1, 2, 2), i, np.float32), "label": i, "name": f"s{i}"}


def test_dict_samples_collate_into_a_dict_of_batches():
    batches = list(ac.utils.data.DataLoader(_DictDataset(), batch_size=2))
    b = batches[0]
    assert sorted(b) == ["image", "label", "name"]
    assert b["image"].shape == (2, 1, 2, 2) and b["label"].tolist() == [0, 1]
    assert b["label"].dtype == np.int64 and b["name"] == ["s0", "s1"]


def test_samplers_and_concat_dataset():
    from autograd_cnn.utils.data import (
        BatchSampler,
        ConcatDataset,
        DataLoader,
        RandomSampler,
        SequentialSampler,
        SubsetRandomSampler,
        TensorDataset,
    )

    ds = TensorDataset(np.arange(6.0), np.arange(6))
    cat = ConcatDataset([ds, ds])
    assert len(cat) == 12 and int(cat[7][1]) == 1
    order = [int(y) for _, y in DataLoader(ds, sampler=RandomSampler(ds, seed=0))]
    assert sorted(order) == list(range(6)) and order != list(range(6))
    sub = [int(y) for _, y in DataLoader(ds, sampler=SubsetRandomSampler([1, 3], seed=0))]
    assert sorted(sub) == [1, 3]
    bs = BatchSampler(SequentialSampler(ds), 4, drop_last=False)
    assert [len(b) for b in DataLoader(ds, batch_sampler=bs)] == [2, 2]
    assert [y.tolist() for _, y in DataLoader(ds, batch_sampler=bs)] == [[0, 1, 2, 3], [4, 5]]
    g = ac.Generator().manual_seed(42)
    a, b = ac.utils.data.random_split(ds, [0.5, 0.5], generator=g)
    assert len(a) == len(b) == 3


def test_image_transforms_match_torchvision_semantics():
    img = (np.random.default_rng(0).random((6, 8, 3)) * 255).astype(np.uint8)
    t = T.ToTensor()(img)
    assert isinstance(t, ac.Tensor) and t.shape == (3, 6, 8) and t.dtype == np.float32
    np.testing.assert_allclose(t.numpy()[:, 2, 3], img[2, 3] / 255.0, rtol=1e-6)
    assert T.Resize(3)(t).shape == (3, 3, 4) and T.Resize((4, 5))(t).shape == (3, 4, 5)
    c = T.CenterCrop(4)(t)
    np.testing.assert_array_equal(c.numpy(), t.numpy()[:, 1:5, 2:6])
    assert T.CenterCrop(10)(t).shape == (3, 10, 10)
    f = T.RandomHorizontalFlip(p=1.0)(t)
    np.testing.assert_array_equal(f.numpy(), t.numpy()[:, :, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(t) is t
    batch = np.stack([t.numpy()] * 8)
    fb = T.RandomHorizontalFlip(0.5, seed=0)(batch)
    flipped = [bool((fb[k] != batch[k]).any()) for k in range(8)]
    assert 0 < sum(flipped) < 8  # each image draws its own coin
    pipe = T.Compose([T.ToTensor(), T.Resize(4), T.Normalize((0.5,) * 3, (0.5,) * 3)])
    out = pipe(img)
    assert isinstance(out, ac.Tensor) and out.shape == (3, 4, 5)
    with pytest.raises(ShapeError):
        T.ToTensor()(np.zeros((2, 2, 2, 2)))


def test_resize_enlarging_matches_torch_bilinear():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).random((2, 4, 5))
    ours = T.Resize((8, 10))(ac.tensor(x)).numpy()
    ref = torch.nn.functional.interpolate(torch.tensor(x)[None], size=(8, 10),
                                          mode="bilinear", align_corners=False)[0].numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_make_grid_layout_matches_torchvision_rules():
    x = np.arange(5 * 1 * 2 * 3, dtype=np.float32).reshape(5, 1, 2, 3)
    g = ac.utils.make_grid(ac.tensor(x), nrow=2, padding=1, pad_value=-1)
    assert g.shape == (3, 3 * 3 + 1, 2 * 4 + 1)
    np.testing.assert_array_equal(g.numpy()[0, 1:3, 1:4], x[0, 0])
    np.testing.assert_array_equal(g.numpy()[1, 4:6, 5:8], x[3, 0])
    assert g.numpy()[0, 0, 0] == -1
    n = ac.utils.make_grid(x, normalize=True).numpy()
    assert n.min() == 0.0 and n.max() == 1.0


def test_save_image_writes_a_png(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    path = tmp_path / "grid.png"
    ac.utils.save_image(ac.rand(4, 3, 5, 5, seed=0), path, nrow=2)
    assert Image.open(path).size == (2 * 7 + 2, 2 * 7 + 2)


def test_save_image_without_pillow_or_matplotlib_is_a_named_error(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.split(".")[0] in ("PIL", "matplotlib"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(OptionalDependencyError, match="Pillow or matplotlib"):
        ac.utils.save_image(ac.rand(1, 3, 2, 2), tmp_path / "x.png")
