"""PyTorch's own OpInfo samples (torch's ``op_db``, float64, forward and gradients) for
every op autograd_cnn maps (``tests/opinfo_map.py``; creation ops once they take
``device=``): zero mismatches, at most 2% of the samples unsupported. The counts are
printed (``pytest -s``) and kept in pytest's cache under ``opinfo/counts``."""

import json

import pytest

torch = pytest.importorskip("torch")
M = pytest.importorskip("opinfo_map", reason="torch's internal OpInfo database is missing")

import autograd_cnn as ac  # noqa: E402

pytestmark = pytest.mark.torch

NAMES = sorted(M.MAP)
_REPORTS: dict = {}


def _report(name):
    if name not in _REPORTS:
        _REPORTS[name] = M.run_op(name, M.opinfos()[name])
    return _REPORTS[name]


def _listing(rep, kind):
    return "\n".join(f"  {why} | {sample}" for k, why, sample in rep.notes if k == kind)


def test_every_mapped_name_is_in_op_db():
    missing = sorted(set(M.MAP) - set(M.opinfos()))
    assert missing == [], f"mapped names that torch's op_db does not have: {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_opinfo_samples_match_torch(name):
    rep = _report(name)
    assert sum(rep.counts.values()) > 0, f"{name}: torch gave no usable sample"
    assert rep.counts["mismatched"] == 0, (
        f"{name}: {rep.counts}\n{_listing(rep, 'mismatched')}")


def test_opinfo_totals(request):
    totals = {"matched": 0, "mismatched": 0, "unsupported": 0}
    for name in NAMES:
        for k, v in _report(name).counts.items():
            totals[k] += v
    n = sum(totals.values())
    per_op = {name: _report(name).counts for name in NAMES
              if _report(name).counts["unsupported"]}
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    if cache is not None:
        cache.set("opinfo/counts", {"totals": totals, "unsupported_by_op": per_op})
    print(f"\nOpInfo samples over {len(NAMES)} ops: {json.dumps(totals)} of {n}")
    if not M.CREATION_MAPPED:
        print(f"  creation ops {sorted(M.CREATION)} not mapped: no device= keyword yet")
    for name, counts in per_op.items():
        print(f"  {name}: {counts['unsupported']} unsupported")
        print(_listing(_report(name), "unsupported"))
    assert totals["mismatched"] == 0
    assert totals["unsupported"] <= 0.02 * n, f"{totals['unsupported']} of {n} unsupported"
    assert n > 4000  # the harness really ran torch's samples


# ---- the harness itself can fail -------------------------------------------------------


def test_harness_detects_a_wrong_forward(monkeypatch):
    monkeypatch.setitem(M.MAP, "exp", lambda x: ac.exp(x) * 1.001)
    rep = M.run_op("exp", M.opinfos()["exp"])
    assert rep.counts["mismatched"] > 0
    assert all("output 0: values differ" in why for _, why, _ in rep.notes)


def test_harness_detects_a_wrong_gradient(monkeypatch):
    # forward -x, but gradient +1 instead of -1
    monkeypatch.setitem(M.MAP, "neg", lambda x: x - 2.0 * x.detach())
    rep = M.run_op("neg", M.opinfos()["neg"])
    assert rep.counts["mismatched"] > 0
    assert all("gradient" in why for k, why, _ in rep.notes if k == "mismatched")


def test_harness_counts_a_refusal_as_unsupported(monkeypatch):
    def refuse(x, *a, **k):
        raise ac.errors.InvalidArgumentError("not here")

    monkeypatch.setitem(M.MAP, "abs", refuse)
    rep = M.run_op("abs", M.opinfos()["abs"])
    assert rep.counts["unsupported"] > 0 and rep.counts["matched"] == 0


def test_harness_counts_a_crash_as_mismatch(monkeypatch):
    def crash(x, *a, **k):
        raise IndexError("internal")

    monkeypatch.setitem(M.MAP, "abs", crash)
    rep = M.run_op("abs", M.opinfos()["abs"])
    assert rep.counts["mismatched"] > 0
