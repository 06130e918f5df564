"""Make docs/figures/demo_report.png: a screenshot of the demo's report.html.

    python docs/make_report_screenshot.py                 # runs the full demo first
    python docs/make_report_screenshot.py --report demo_output/report.html

Runs ``autograd-cnn demo`` into a temporary folder (unless ``--report`` names an existing
report), opens the page in headless Chromium (``/usr/bin/chromium``, Debian package
``chromium``) at a desktop window size, and keeps the top of the page (the headline
numbers, the summary and the first figures) at 5/8 size, in 256 colours, so the PNG
stays small enough to commit.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "figures" / "demo_report.png"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage",
         "--hide-scrollbars"]


def screenshot(page: Path, png: Path, window=(1280, 2300)) -> Path:
    """Screenshot ``page`` (an HTML file) with headless Chromium into ``png``."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("make_report_screenshot: chromium not found (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}",
                        f"--window-size={window[0]},{window[1]}", f"--screenshot={png}",
                        page.resolve().as_uri()], check=True, capture_output=True, timeout=120)
    return png


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", type=Path, help="an existing report.html (default: run "
                    "the demo into a temporary folder)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--width", type=int, default=800, help="width of the kept picture")
    args = ap.parse_args(argv)
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        page = args.report
        if page is None:
            subprocess.run([sys.executable, "-m", "autograd_cnn", "demo", "--out", tmp],
                           check=True)
            page = Path(tmp) / "report.html"
        raw = screenshot(page, Path(tmp) / "shot.png")
        img = Image.open(raw).convert("RGB")
        h = round(img.height * args.width / img.width)
        img = img.resize((args.width, h), Image.LANCZOS)
        img = img.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        img.save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.width} x {h}, {args.out.stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
