"""report.html in a real browser: headless Chromium loads the page, and the test checks
that it rendered: no console messages or errors, every image decoded with a non-zero
size, the graphs laid out, nothing fetched from the network, a screenshot that is not
blank. Skipped where Chromium is missing (Debian package ``chromium``; CI installs it).

Two browser runs, each with a fresh profile:
- ``--dump-dom`` on a copy of the page with a probe script added (the report itself has
  no scripts): the probe records load errors (capture-phase ``error`` events catch failed
  images as well as script errors), ``naturalWidth`` and displayed size of every image,
  its decoded pixels (drawn on a canvas: a truncated PNG leaves transparent rows), the
  size of every inline SVG and the resources fetched, into a ``<pre>`` that
  ``--dump-dom`` prints; a deliberately broken canary image proves the error capture
  works;
- ``--screenshot`` of the report itself, with the console logged to stderr
  (``--enable-logging=stderr --v=0``), which must show no console message.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
WINDOW = (1280, 2400)


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(chromium() is None, reason="headless Chromium not installed")]

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var t = e.target;
  window.__errors.push(t && t !== window && t.tagName
      ? "failed to load " + t.tagName + " " + (t.id || (t.src || "").slice(0, 40))
      : "script error: " + e.message);
}, true);
window.addEventListener("load", function () {
  var rect = function (el) { var r = el.getBoundingClientRect(); return [r.width, r.height]; };
  var pixels = function (img) {   // opaque fraction and luminance spread of the decoded image
    if (!img.naturalWidth) return [0, 0];
    var c = document.createElement("canvas");
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    var ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    var d = ctx.getImageData(0, 0, c.width, c.height).data, n = d.length / 4;
    var opaque = 0, sum = 0, sum2 = 0;
    for (var k = 0; k < d.length; k += 4) {
      if (d[k + 3] > 250) opaque++;
      var y = 0.299 * d[k] + 0.587 * d[k + 1] + 0.114 * d[k + 2];
      sum += y; sum2 += y * y;
    }
    var mean = sum / n;
    return [opaque / n, Math.sqrt(Math.max(0, sum2 / n - mean * mean))];
  };
  var out = {
    images: Array.prototype.map.call(document.images, function (i) {
      return {id: i.id, natural: [i.naturalWidth, i.naturalHeight], shown: rect(i),
              complete: i.complete, pixels: pixels(i)}; }),
    svgs: Array.prototype.map.call(document.querySelectorAll("svg"), rect),
    errors: window.__errors,
    resources: performance.getEntriesByType("resource").map(function (r) { return r.name; }),
    title: document.title,
    height: document.documentElement.scrollHeight
  };
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
  console.log("probe-done");
});
</script>"""
CANARY = '<img id="canary" src="data:image/png;base64,AAAA" alt="" style="display:none">'


def run_chromium(args, tmp_path: Path, name: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{name}"          # a fresh user-data-dir per run
    return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def console_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from autograd_cnn.demo import run_demo

    out = tmp_path_factory.mktemp("report")
    m = run_demo(str(out), fast=True, log=lambda *_: None, progress=False)
    return Path(m["files"]["report_html"]), m


@pytest.fixture(scope="module")
def probe(report, tmp_path_factory):
    page, _ = report
    tmp = tmp_path_factory.mktemp("probe")
    text = page.read_text()
    probed = tmp / "probed.html"
    probed.write_text(text.replace("<head>", "<head>" + PROBE, 1)
                      .replace("</main>", CANARY + "</main>", 1))
    r = run_chromium(["--virtual-time-budget=10000", "--dump-dom", probed.as_uri()], tmp,
                     "dom")
    assert r.returncode == 0, r.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
    assert found, "the probe did not run: " + r.stdout[-500:] + r.stderr[-1500:]
    return json.loads(html.unescape(found.group(1))), r.stderr


def test_no_errors_and_no_console_messages(probe):
    data, stderr = probe
    # The canary proves that failed loads are caught; nothing else may fail.
    assert data["errors"] == ["failed to load IMG canary"]
    assert [ln for ln in console_lines(stderr) if "probe-done" not in ln] == []
    assert any("probe-done" in ln for ln in console_lines(stderr)), \
        "console logging to stderr does not work, so its silence proves nothing"


def test_every_image_decoded_and_shown(probe, report):
    data, _ = probe
    _, m = report
    images = [i for i in data["images"] if i["id"] != "canary"]
    assert len(images) == 5                            # curves, filters, confusion, ...
    for img in images:
        assert img["complete"] and min(img["natural"]) > 100, img
        assert min(img["shown"]) > 100, img            # laid out at a readable size
        opaque, spread = img["pixels"]                 # decoded in full, not blank
        assert opaque > 0.999 and spread > 10, img
    from autograd_cnn import viz
    if viz.dot_available():
        assert len(data["svgs"]) == 2
        assert all(w > 300 and h > 300 for w, h in data["svgs"]), data["svgs"]
    assert data["title"] == "autograd_cnn demo report"
    assert data["height"] > 3000                       # the whole report, not a stub


def test_nothing_is_fetched_from_the_network(probe):
    data, _ = probe
    assert [u for u in data["resources"] if not u.startswith(("data:", "file:"))] == []


def test_screenshot_is_not_blank_and_console_is_silent(report, tmp_path):
    page, _ = report
    shot = tmp_path / "report.png"
    r = run_chromium([f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}",
                      page.as_uri()], tmp_path, "shot")
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    assert console_lines(r.stderr) == []
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float64)
    assert img.shape == (WINDOW[1], WINDOW[0], 3)
    background = np.median(img.reshape(-1, 3), axis=0)
    differs = np.abs(img - background).sum(axis=2) > 30
    assert differs.mean() > 0.05, "the screenshot is nearly uniform"
    # Colour from the figures: the blue curve / blue accent and red-ish filter weights.
    r_, b_ = img[..., 0], img[..., 2]
    assert ((b_ - r_) > 60).mean() > 0.001 and ((r_ - b_) > 60).mean() > 0.001
    # Text: many sharp dark pixels.
    assert (img.sum(axis=2) < 200).mean() > 0.002
