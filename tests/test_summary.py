"""Architecture accounting: the seeds' published figures, from shape inference only."""

import time

import numpy as np
import pytest

import autograd_cnn as ac
from autograd_cnn import models, nn
from autograd_cnn.summary import conv_macs


def _meta(factory, *args, **kw):
    with nn.meta_init():
        return factory(*args, **kw)


def test_lenet5_61706_parameters_and_shapes():
    s = ac.summary(models.LeNet5(), (1, 1, 32, 32))
    assert s.total_params == 61_706 == ac.count_parameters(models.LeNet5())
    assert s["features.0"].output_shape == (1, 6, 28, 28)  # C1: 4704 units
    assert s["features.2"].output_shape == (1, 6, 14, 14)
    assert s["features.3"].output_shape == (1, 16, 10, 10)
    assert s["features.5"].output_shape == (1, 16, 5, 5)
    assert s.output_shape == (1, 10)
    # C1 has 6 * 28 * 28 = 4704 units, S4 16 * 5 * 5 = 400 (seeds)
    assert np.prod(s["features.0"].output_shape) == 4704
    assert ac.summary(models.LeNet5(input_size=28), (1, 1, 28, 28)).total_params == 61_706
    # MACs: 28*28*6*25 + 10*10*16*150 + 400*120 + 120*84 + 84*10
    assert s.total_macs == 117_600 + 240_000 + 48_000 + 10_080 + 840


@pytest.mark.parametrize("config, millions, exact", [
    ("A", 133, 132_863_336), ("A-LRN", 133, 132_863_336), ("B", 133, 133_047_848),
    ("C", 134, 133_638_952), ("D", 138, 138_357_544), ("E", 144, 143_667_240)])
def test_vgg_parameter_counts_table2(config, millions, exact):
    m = _meta(models.VGG, config)
    assert ac.count_parameters(m) == exact
    assert round(exact / 1e6) == millions


def test_vgg16_summary_fast_and_known_figures():
    m = _meta(models.vgg16)
    t0 = time.perf_counter()
    s = ac.summary(m, (1, 3, 224, 224))
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0, elapsed
    assert s.total_params == 138_357_544
    assert s.total_macs == 15_470_264_320  # the usual "15.5 GMACs" of VGG-16
    assert s["features.30"].output_shape == (1, 512, 7, 7)
    # receptive field of VGG-16's last pooling layer: 212 pixels, jump 32
    assert s["features.30"].receptive_field == (212, 212)
    assert s["features.30"].jump == (32, 32)
    # two stacked 3x3 convs see 5x5, three see 7x7 (the VGG argument)
    assert s["features.2"].receptive_field == (5, 5)
    assert "Total params: 138,357,544" in str(s)


def test_googlenet_table_rows():
    m = _meta(models.GoogLeNet)
    t0 = time.perf_counter()
    s = ac.summary(m, (1, 3, 224, 224))
    assert time.perf_counter() - t0 < 1.0
    # the paper's table: output size, params (weights, K = 1024), ops (M = 1e6 MACs)
    table = {
        "inception3a": ((256, 28), 159, 128), "inception3b": ((480, 28), 380, 304),
        "inception4a": ((512, 14), 364, 73), "inception4b": ((512, 14), 437, 88),
        "inception4c": ((512, 14), 463, 100), "inception4d": ((528, 14), 580, 119),
        "inception4e": ((832, 14), 840, 170), "inception5a": ((832, 7), 1072, 54),
        "inception5b": ((1024, 7), 1388, 71),
    }
    # rows where the paper's own numbers are inconsistent with its architecture
    # (docs/models.md): 4c params, 5a params and ops
    loose = {("inception4c", "params"), ("inception5a", "params"), ("inception5a", "ops")}
    for name, ((c, hw), k_params, m_ops) in table.items():
        r = s[name]
        assert r.output_shape == (1, c, hw, hw), name
        tol_p = 0.08 if (name, "params") in loose else 0.02
        tol_o = 0.06 if (name, "ops") in loose else 0.02
        assert abs(r.weight_params / 1024 - k_params) <= tol_p * k_params, (name, r)
        assert abs(r.macs / 1e6 - m_ops) <= tol_o * m_ops, (name, r)
    # stem: the 1x1 + 3x3 "convolution" row is 112K params and 360M ops
    stem = s["conv2"].weight_params + s["conv3"].weight_params
    assert round(stem / 1024) == 112
    assert abs((s["conv2"].macs + s["conv3"].macs) / 1e6 - 360) < 2
    assert s["conv1"].output_shape == (1, 64, 112, 112)
    assert s["maxpool2"].output_shape == (1, 192, 28, 28)
    assert s["avgpool"].output_shape == (1, 1024, 1, 1)
    assert s["fc"].params == 1_025_000  # the "1000K" linear row


def test_inception_cost_of_1x1_reduction():
    # seeds: 32x32x200 input, 92 5x5 filters: ~470 M multiplications directly ...
    direct = nn.Conv2d(200, 92, 5, padding=2, bias=False)
    macs_direct = ac.count_macs(direct, (1, 200, 32, 32))
    assert macs_direct == 5 * 5 * 200 * 32 * 32 * 92 == 471_040_000
    # ... and ~40 M with a 16-channel 1x1 reduction first
    reduced = nn.Sequential(nn.Conv2d(200, 16, 1, bias=False),
                            nn.Conv2d(16, 92, 5, padding=2, bias=False))
    macs_reduced = ac.count_macs(reduced, (1, 200, 32, 32))
    assert macs_reduced == 200 * 32 * 32 * 16 + 5 * 5 * 16 * 32 * 32 * 92 == 40_960_000
    assert round(macs_direct / 1e7) * 10 == 470 and round(macs_reduced / 1e6, -1) == 40
    assert 0.08 < macs_reduced / macs_direct < 0.1


def test_depthwise_separable_cost():
    # seeds: 12x12x3 input, 5x5 kernels, 256 outputs on 8x8 locations
    standard = nn.Conv2d(3, 256, 5, bias=False)
    assert ac.count_macs(standard, (1, 3, 12, 12)) == 1_228_800
    sep = models.SeparableConv2d(3, 256, 5, bias=False)
    s = ac.summary(sep, (1, 3, 12, 12))
    assert s["depthwise"].macs == 4_800
    assert s["pointwise"].macs == 49_152
    assert s.total_macs == 4_800 + 49_152
    assert conv_macs(3, 256, (5, 5), (8, 8)) == 1_228_800
    assert conv_macs(3, 3, (5, 5), (8, 8), groups=3) == 4_800


def test_resnet_counts_and_receptive_field_through_residuals():
    for factory, n in [(models.resnet18, 11_689_512), (models.resnet34, 21_797_672),
                       (models.resnet50, 25_557_032)]:
        assert ac.count_parameters(_meta(factory)) == n
    s = ac.summary(_meta(models.resnet18), (1, 3, 224, 224))
    assert s["layer4"].output_shape == (1, 512, 7, 7)
    assert s["layer4"].jump == (32, 32)
    # the residual block's receptive field is that of its longer (conv) branch
    assert s["layer1.0"].receptive_field == (
        s["maxpool"].receptive_field[0] + 2 * 2 * 4,) * 2
    assert abs(s.total_macs / 1e9 - 1.81) < 0.02  # ResNet-18: 1.8 GMACs


def test_unet_valid_padding_572_to_388_and_transposed_conv_macs():
    m = _meta(models.UNet, 1, 2, depth=4, base_channels=64, padding=0)
    s = ac.summary(m, (1, 1, 572, 572))
    assert s.output_shape == (1, 2, 388, 388)
    up = s["up.0"]
    assert up.output_shape == (1, 512, 56, 56)
    # transposed conv: C_out/groups * k*k MACs per input element
    assert up.macs == 1024 * 28 * 28 * 512 * 4


def test_records_and_dict_for_programs():
    s = ac.summary(models.LeNet5(), (2, 1, 32, 32))
    recs = s.to_records()
    assert recs[0]["name"] == "features.0" and recs[0]["output_shape"] == (2, 6, 28, 28)
    assert recs[0]["activation_bytes"] == 2 * 6 * 28 * 28 * 4
    d = s.to_dict()
    assert d["total_params"] == 61_706 and d["output_shape"] == (2, 10)
    assert s.total_macs == 2 * 416_520  # batch of 2


def test_summary_restores_training_mode_and_does_not_allocate_params():
    m = models.LeNet5()
    m.train()
    ac.summary(m, (1, 1, 32, 32))
    assert all(x.training for x in m.modules())
    with pytest.raises(ac.errors.ArgumentTypeError, match="input_shape"):
        ac.summary(m, (1, 1, -3, 32))


def test_summary_wrong_channels_names_layer():
    with pytest.raises(ac.errors.LayerInputError, match=r"'features\.0' \(Conv2d\).*3 channels"):
        ac.summary(_meta(models.vgg11), (1, 1, 224, 224))


def test_table_depth_shows_composites_with_subtree_totals():
    m = _meta(models.GoogLeNet)
    s = ac.summary(m, (1, 3, 224, 224), depth=1)
    text = str(s)
    assert "inception3a (InceptionModule)" in text
    assert "branch1" not in text  # deeper rows hidden at depth 1
    leaves = s.table(depth=None)
    assert "inception3a.branch2.1.0 (Conv2d)" in leaves
    r = s["inception3a"]
    assert not r.is_leaf
    assert r.macs == sum(x.macs for x in s.rows if x.is_leaf and
                         x.name.startswith("inception3a."))
    assert s.total_macs == sum(x.macs for x in s.rows if x.is_leaf)
