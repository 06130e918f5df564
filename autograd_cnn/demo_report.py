"""The demo's reports: ``report.html`` (one self-contained page) and ``report.md``.

The HTML page needs no network and no other file: the figures are inlined as PNG data
URIs, the graphs as inline SVG, the style sheet in a ``<style>`` element, and it has no
scripts. It opens from disk in any browser (``autograd-cnn demo --open``).
"""

from __future__ import annotations

import base64
import html
import os
import re
import struct

# (key, title, what it shows): the order of the figures in both reports.
FIGURES = [
    ("curves", "Training curves",
     "Loss (log scale) and accuracy per epoch: the running average over the training "
     "batches, and the held-out validation images after each epoch. The dashed line and "
     "the circle mark the epoch with the lowest validation loss; its weights were kept "
     "(checkpoint.npz) and are the ones evaluated on the test set."),
    ("filters", "Learned first-layer filters",
     "The 3x3 kernels of the first convolution after training, all on one colour scale "
     "symmetric about zero (blue negative, white zero, red positive), so their strengths "
     "compare. A kernel with a red side next to a blue side responds to a change of "
     "brightness across it: an edge or stroke detector for that direction."),
    ("confusion", "Confusion matrix",
     "Every test image counted once: rows are the true digit, columns the prediction. The "
     "diagonal holds the correct predictions; the red numbers off it are the mistakes, "
     "and show which digits the network confuses."),
    ("samples", "Test predictions",
     "Test images with the predicted digit above each: the test set's mistakes first, "
     "framed in red with the true digit in brackets, then correctly classified images."),
    ("saliency", "Saliency maps",
     "For the first test image of each class: the gradient of the predicted class's score "
     "(its logit) with respect to every input pixel, from one backward pass to the input "
     "with the library's reverse mode (autograd_cnn.attribution.saliency), shown as its "
     "magnitude. Bright pixels are those whose change would move the score most."),
]
GRAPHS = [
    ("forward_graph", "Forward graph",
     "Every op the tape recorded for one batch of 4 training images, from the input and "
     "the named parameters to the loss. Ops are grouped in dashed boxes by the module that "
     "ran them, named by its place in the Sequential (0 is the first Conv2d, 1 its ReLU, "
     "...); edges carry the shapes that flow along them."),
    ("backward_graph", "Backward graph",
     "The gradient computation itself, recorded by running each op's VJP with "
     "create_graph=True: the input gradient of conv2d appears as a conv_transpose2d, "
     "that of max_pool2d as a scatter to the argmax indices; the gradients end at the "
     "parameters and at the input images (as the saliency maps do). Dashed boxes are "
     "forward values the VJPs read."),
]


def _png_size(path: str) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24])


def _data_uri(path: str) -> str:
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode("ascii")


def inline_svg(text: str, prefix: str) -> str:
    """An SVG file's markup ready to inline in HTML: without the XML declaration, DOCTYPE
    and comments, element ids prefixed (two graphs on one page share none), scaled to its
    container."""
    text = re.sub(r"<\?xml.*?\?>", "", text, flags=re.S)
    text = re.sub(r"<!DOCTYPE.*?>", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r'\bid="([^"]*)"', lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = re.sub(r'href="#([^"]*)"', lambda m: f'href="#{prefix}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]*)\)", lambda m: f"url(#{prefix}-{m.group(1)})", text)
    return text.strip()


_CSS = """
:root { --ink: #1d2433; --muted: #5b6475; --line: #dde1e8; --accent: #1f77b4;
        --bad: #d62728; --good: #2ca02c; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Helvetica, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); }
p.lead { color: var(--muted); margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0; }
.card { background: white; border: 1px solid var(--line); border-radius: 8px;
        padding: 10px 16px; min-width: 150px; }
.card .v { font-size: 24px; font-weight: 600; }
.card .k { color: var(--muted); font-size: 13px; }
.card.main .v { color: var(--accent); }
table { border-collapse: collapse; background: white; font-size: 14px; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: right; }
th { background: #eef1f5; font-weight: 600; }
td.l, th.l { text-align: left; }
tr.best td { background: #fff7d6; font-weight: 600; }
figure { background: white; border: 1px solid var(--line); border-radius: 8px;
         margin: 14px 0; padding: 14px; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); margin-top: 8px; font-size: 14px; }
figcaption b { color: var(--ink); }
.graph { max-height: 900px; overflow: auto; border: 1px solid var(--line); }
.graph svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
pre { background: white; border: 1px solid var(--line); padding: 10px; overflow: auto;
      font-size: 12.5px; }
.note { background: #fff7d6; border: 1px solid #f0d98a; border-radius: 6px; padding: 8px 12px; }
.bad { color: var(--bad); font-weight: 600; }
code { background: #eef1f5; padding: 0 4px; border-radius: 3px; }
ul.files { columns: 3; max-width: 720px; }
nav { font-size: 14px; color: var(--muted); }
a { color: var(--accent); }
footer { color: var(--muted); font-size: 13px; margin-top: 40px; }
"""


def _table(head, rows, left=1, row_class=None) -> str:
    th = "".join(f'<th class="l">{html.escape(h)}</th>' if i < left else
                 f"<th>{html.escape(h)}</th>" for i, h in enumerate(head))
    body = []
    for k, r in enumerate(rows):
        cls = f' class="{row_class(k)}"' if row_class and row_class(k) else ""
        tds = "".join(f'<td class="l">{html.escape(str(v))}</td>' if i < left else
                      f"<td>{html.escape(str(v))}</td>" for i, v in enumerate(r))
        body.append(f"<tr{cls}>{tds}</tr>")
    thead = f"<thead><tr>{th}</tr></thead>" if any(head) else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def _epoch_rows(m: dict):
    for r in m["history"]:
        yield (r["epoch"], f"{r['train_loss']:.4f}", f"{100 * r['train_acc']:.2f}%",
               "-" if r["val_loss"] is None else f"{r['val_loss']:.4f}",
               "-" if r["val_acc"] is None else f"{100 * r['val_acc']:.2f}%",
               f"{r['lr']:.2e}" if r.get("lr") is not None else "-", f"{r['time_s']:.2f}")


def _model_table(summary) -> str:
    if summary is None:
        return "<p>(no summary)</p>"
    rows = [(r.name, r.type, "x".join(map(str, r.output_shape[1:])), f"{r.params:,}",
             f"{r.macs:,}", "global" if r.receptive_field is None else
             "x".join(str(int(v)) for v in r.receptive_field))
            for r in summary.visible_rows()]
    rows.append(("total", "", "", f"{summary.total_params:,}", f"{summary.total_macs:,}", ""))
    return _table(["layer", "type", "output (C x H x W)", "parameters", "MACs",
                   "receptive field"], rows, left=2)


def _figure(key, title, text, files) -> str:
    png = files.get(key)
    if not png or not os.path.exists(png):
        return ""
    w, h = _png_size(png)
    # The PNGs are drawn at 110 dpi; shown at 96 CSS pixels per inch they keep their
    # intended physical size on screen.
    w_css, h_css = round(w * 96 / 110), round(h * 96 / 110)
    svg = files.get(key + "_svg")
    link = f' <a href="{html.escape(os.path.basename(svg))}">SVG</a>' if svg else ""
    return (f'<figure id="fig-{key}"><img src="{_data_uri(png)}" width="{w_css}" '
            f'height="{h_css}" alt="{html.escape(title)}"><figcaption><b>{html.escape(title)}.'
            f"</b> {html.escape(text)}{link}</figcaption></figure>")


def _graph(key, title, text, files) -> str:
    svg, dot = files.get(key), files.get(key + "_dot")
    if svg and os.path.exists(svg):
        with open(svg, encoding="utf-8") as f:
            body = f'<div class="graph">{inline_svg(f.read(), key)}</div>'
    elif dot and os.path.exists(dot):
        with open(dot, encoding="utf-8") as f:
            source = f.read()
        body = (f'<p class="note">Graphviz <code>dot</code> was not found, so this graph was '
                f"not laid out. Install it (<code>apt-get install graphviz</code>) and run the "
                f"demo again, or render the source: <code>dot -Tsvg "
                f"{html.escape(os.path.basename(dot))} -o {key}.svg</code>.</p>"
                f"<details><summary>DOT source ({len(source):,} characters)</summary>"
                f"<pre>{html.escape(source)}</pre></details>")
    else:
        return ""
    links = " ".join(f'<a href="{html.escape(os.path.basename(p))}">{ext}</a>'
                     for ext, p in (("SVG", svg), ("PNG", files.get(key + "_png")),
                                    ("DOT", dot)) if p)
    return (f'<figure id="fig-{key}">{body}<figcaption><b>{html.escape(title)}.</b> '
            f"{html.escape(text)} {links}</figcaption></figure>")


def html_report(m: dict, summary) -> str:
    """The self-contained HTML page of a demo run.

    Parameters
    ----------
    m : dict
        The run's metrics (``metrics.json``), whose ``files`` name the figures (PNG, SVG)
        and graphs (SVG, DOT) to inline.
    summary : Summary or None
        ``autograd_cnn.summary(model, (1, 1, 8, 8))`` for the model table.

    Returns
    -------
    str
        The page (UTF-8 text).
    """
    files, acc = m["files"], 100 * m["test_accuracy"]
    fast = ('<p class="note"><b>Fast mode</b> (a few optimizer steps, for CI): the accuracy '
            "is not meaningful.</p>") if m["fast"] else ""
    cards = [("test accuracy", f"{acc:.2f}%", "main"),
             ("test loss", f"{m['test_loss']:.4f}", ""),
             ("best epoch", f"{m['best_epoch']} of {m['epochs_run']}", ""),
             ("parameters", f"{m['params']:,}", ""),
             ("training time", f"{m['train_seconds']:.1f} s", ""),
             ("mistakes", f"{len(m.get('mistakes', []))} of {m['test_n']}", "")]
    cards_html = "".join(f'<div class="card {c}"><div class="v">{html.escape(v)}</div>'
                         f'<div class="k">{html.escape(k)}</div></div>' for k, v, c in cards)
    target = "" if m["fast"] else (" (target 97%: met)" if m["test_accuracy"] >= 0.97
                                   else ' <span class="bad">(target 97%: NOT met)</span>')
    summary_rows = [
        ("data", f"embedded 8x8 digits (UCI optdigits): {m['train_n']} train / {m['val_n']} "
                 f"validation / {m['test_n']} test images, 10 classes"),
        ("model", f"LeNet-style CNN from autograd_cnn.nn, {m['params']:,} parameters"),
        ("training", f"{m['optimizer']} (lr {m['lr']}, cosine-annealed to 1/100), "
                     f"cross-entropy, batch {m['batch_size']}, {m['epochs_run']} epoch(s), "
                     f"{m['steps']} steps, seed {m['seed']}"),
        ("test accuracy", f"{acc:.2f}% (loss {m['test_loss']:.4f})"),
        ("checkpoint reloaded", f"{100 * m['reloaded_checkpoint_accuracy']:.2f}% in a fresh "
                                "model"),
        ("best validation loss", f"{m['best_val_loss']:.4f} at epoch {m['best_epoch']}"),
        ("time", f"training {m['train_seconds']:.1f} s, whole run {m['total_seconds']:.1f} s"),
        ("machine", f"{m['machine']}, {m['numba_threads']} Numba thread(s)"),
    ]
    best = m["best_epoch"]
    hist = m["history"]
    training = _table(["epoch", "train loss", "train acc", "val loss", "val acc", "lr",
                       "seconds"], list(_epoch_rows(m)),
                      row_class=lambda k: "best" if hist[k]["epoch"] == best else "")
    pc = m.get("per_class_accuracy")
    per_class = ("<p>Test accuracy per digit:</p>" + _table(
        ["digit"] + [str(i) for i in range(len(pc))],
        [["accuracy"] + [f"{100 * v:.0f}%" for v in pc]])) if pc else ""
    figures = "".join(_figure(k, t, x, files) for k, t, x in FIGURES)
    graphs = "".join(_graph(k, t, x, files) for k, t, x in GRAPHS)
    names = sorted({os.path.basename(p) for p in files.values()})
    listing = "".join(f'<li><a href="{html.escape(n)}"><code>{html.escape(n)}</code></a></li>'
                      for n in names)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>autograd_cnn demo report</title>
<link rel="icon" href="data:,">
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>autograd_cnn demo: a CNN on handwritten digits</h1>
<p class="lead">A LeNet-style network built, trained and inspected with autograd_cnn alone:
reverse-mode autodiff, Numba convolution kernels, and the library's own graph drawings.</p>
<nav><a href="#summary">Summary</a> · <a href="#figures">Figures</a> ·
<a href="#training">Training</a> · <a href="#model">Model</a> · <a href="#graphs">Graphs</a> ·
<a href="#files">Files</a></nav>
{fast}
<div class="cards">{cards_html}</div>

<h2 id="summary">Summary</h2>
{_table(["", ""], summary_rows, left=2)}
{per_class}
<p>Test accuracy <b>{acc:.2f}%</b>{target} on images the training never saw; the
checkpoint, reloaded into a fresh model, gives {100 * m['reloaded_checkpoint_accuracy']:.2f}%.</p>

<h2 id="figures">Figures</h2>
<p>Each figure is also in this folder as PNG and SVG.</p>
{figures}

<h2 id="training">Training</h2>
<p>One row per epoch; the highlighted one has the lowest validation loss (its weights were
kept).</p>
{training}

<h2 id="model">Model</h2>
<p>From <code>autograd_cnn.summary</code>, by shape inference: output shape, parameters,
multiply-accumulates and receptive field of every layer, for one 1x8x8 image.</p>
{_model_table(summary)}

<h2 id="graphs">Graphs</h2>
{graphs or '<p>Graphs were not drawn (--no-graphs).</p>'}

<h2 id="files">Files</h2>
<p>Everything in this folder (PNG and SVG figures, graphs, <code>checkpoint.npz</code>
loadable with <code>model.load_state_dict(autograd_cnn.load(path))</code>, every number in
<code>metrics.json</code>):</p>
<ul class="files">{listing}</ul>
<footer>Written by <code>autograd-cnn demo</code>. This page is self-contained: the images
are inline and nothing is fetched from the network.</footer>
</main>
</body>
</html>
"""


def markdown_report(m: dict, summary: str) -> str:
    """``report.md``: the same account for a terminal or a Markdown viewer.

    Parameters
    ----------
    m : dict
        The run's metrics.
    summary : str
        The model's summary table as text.
    """
    acc = 100 * m["test_accuracy"]
    target = "" if m["fast"] else (
        f" (target 97%: {'met' if m['test_accuracy'] >= 0.97 else 'NOT met'})")
    rows = "\n".join(
        f"| {r['epoch']} | {r['train_loss']:.4f} | {100 * r['train_acc']:.2f}% | "
        f"{'-' if r['val_loss'] is None else format(r['val_loss'], '.4f')} | "
        f"{'-' if r['val_acc'] is None else format(100 * r['val_acc'], '.2f') + '%'} | "
        f"{r['time_s']:.1f} |" for r in m["history"])
    files = m["files"]
    figs = "\n".join(f"### {title}\n\n![{title}]({key}.png)\n\n{text}\n"
                     for key, title, text in FIGURES if key in files)
    graph_lines = []
    for key, title, _ in GRAPHS:
        if key in files:
            graph_lines.append(f"- `{key}.svg` (and `.png`, `.dot`): {title.lower()}")
        elif key + "_dot" in files:
            graph_lines.append(f"- `{key}.dot`: {title.lower()} as DOT text (install "
                               "Graphviz for the SVG: `apt-get install graphviz`)")
    graphs = "\n".join(graph_lines) or "- graphs: not drawn (--no-graphs)"
    fast = ("**Fast mode** (a few steps, for CI): the accuracy below is not meaningful.\n"
            if m["fast"] else "")
    return f"""# autograd_cnn demo report

{fast}
Open `report.html` in a browser for the same report with every figure and graph inline.

## What was done
- Data: the 8x8 handwritten digits embedded in the library (UCI optdigits as shipped by
  scikit-learn, 1,797 images). A fixed stratified split (seed {m["seed"]}): 25% test;
  10% of the rest for validation; images standardized with the training mean and std.
- Model: a LeNet-style CNN built from `autograd_cnn.nn` (`Conv2d`, `ReLU`, `MaxPool2d`,
  `Flatten`, `Linear`), {m["params"]:,} parameters.
- Training: {m["optimizer"]} (lr {m["lr"]}, cosine-annealed to 1/100 of it), cross-entropy,
  batch {m["batch_size"]}, {m["epochs_run"]} epoch(s), {m["steps"]} steps, in
  {m["train_seconds"]:.1f} s; the weights of the epoch with the lowest validation loss
  ({m["best_epoch"]}) were kept.

## Result
- **Test accuracy: {acc:.2f}%**{target} on the {m["test_n"]} held-out test images, loss
  {m["test_loss"]:.4f}; {len(m.get("mistakes", []))} mistakes.
- The checkpoint reloaded into a fresh model gives {100 * m["reloaded_checkpoint_accuracy"]:.2f}%.
- Total wall time {m["total_seconds"]:.1f} s on {m["machine"]} ({m["numba_threads"]} Numba
  thread(s)).

| epoch | train loss | train acc | val loss | val acc | seconds |
|---|---|---|---|---|---|
{rows}

## Model
```
{summary}
```

## Figures (PNG and SVG)

{figs}
## Graphs
{graphs}

## Other files
- `checkpoint.npz`: best weights (`model.load_state_dict(autograd_cnn.load(path))`)
- `metrics.json`: all numbers above, machine readable
- `report.html`: this report as one self-contained page
"""
