"""Bad CLI input from issue 14 (section 3): each is one clean line on stderr with exit
status 2, or the right behaviour (output folders are created, and said so)."""

from __future__ import annotations

import pytest

from autograd_cnn.cli import main


def _one_line(capsys, needle):
    err = capsys.readouterr().err
    assert needle in err, err
    assert err.count("\n") == 1 and err.startswith("autograd-cnn: error:")
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["train", "--seed", "-1"], ["demo", "--seed", "-5"],
                                  ["train", "--seed", str(2**70)], ["train", "--seed", "x"]])
def test_bad_seed_is_one_line(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    _one_line(capsys, "--seed: expected an int")


@pytest.mark.parametrize("model", ["lenet-small", "resnet18", "vgg11"])
def test_summary_with_an_absurd_input_size_is_one_line(model, capsys):
    assert main(["summary", "--model", model, "--input", "3,99999999999999999999,3"]) == 2
    _one_line(capsys, "--input: each size must be at most 2147483647")


@pytest.mark.parametrize("cmd", ["train", "summary"])
def test_building_blocks_are_named_as_such_not_unknown(cmd, capsys):
    assert main([cmd, "--model", "basicblock", "--input", "3,32,32"][: 3 if cmd == "train"
                                                                     else 5]) == 2
    err = capsys.readouterr().err
    assert "building block" in err and "unknown" not in err and err.count("\n") == 1
    listed = err.split("expected one of", 1)[1]
    assert "basicblock" not in listed and "resnet18" in listed


def test_listed_models_can_all_be_summarized(capsys):
    assert main(["summary", "--model", "nosuchnet", "--input", "3,64,64"]) == 2
    names = capsys.readouterr().err.split("expected one of", 1)[1].strip().split(", ")
    assert len(names) > 5
    for name in names:
        if name in ("lenet-small", "lenet5"):
            continue
        assert main(["summary", "--model", name, "--input", "3,64,64"]) == 0, name
        capsys.readouterr()


def test_missing_output_folders_are_created_and_announced(tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "g.dot"
    assert main(["graph", "--model", "expr", "-o", str(out)]) == 0
    assert out.exists()
    err = capsys.readouterr().err
    assert f"created folder {str(out.parent)!r} for --output" in err
    ckpt = tmp_path / "ck" / "best.npz"
    assert main(["train", "--max-steps", "1", "--epochs", "1", "--checkpoint", str(ckpt)]) == 0
    assert "created folder" in capsys.readouterr().err and ckpt.exists()


def test_output_path_under_a_file_is_one_line(tmp_path, capsys):
    f = tmp_path / "f"
    f.write_text("x")
    assert main(["graph", "--model", "expr", "-o", str(f / "g.dot")]) == 2
    _one_line(capsys, "exists and is not a folder")
