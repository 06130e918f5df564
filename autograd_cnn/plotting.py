"""Small pictures without matplotlib: a zlib PNG writer, a raster canvas with a 5x7 bitmap
font, training curves and filter/image grids.

Everything here is NumPy + the standard library (``zlib``), so the demo's pictures need
no extra dependency. The canvas draws axis-aligned text and thick polylines; that is all
loss/accuracy curves need.

Functions
---------
- :func:`write_png` / :func:`read_png`: 8-bit gray, RGB or RGBA PNG files.
- :func:`plot_curves`: loss and accuracy per epoch from ``fit``'s history records.
- :func:`filters_image`: conv weights ``(C_out, C_in, kh, kw)`` as a grid of tiles.
- :func:`image_grid`: a batch of images ``(N, C, H, W)`` or ``(N, H, W)`` as a grid.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from .errors import CorruptDataError, InvalidArgumentError, ShapeError

# ---- PNG -------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bytes(image) -> bytes:
    """Encode an image as PNG bytes.

    Parameters
    ----------
    image : array_like
        ``(H, W)`` gray, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA; uint8, or floats in
        [0, 1] (clipped, scaled to 0..255).
    """
    a = np.asarray(image)
    if a.dtype.kind == "f":
        a = np.round(np.clip(np.nan_to_num(a), 0.0, 1.0) * 255.0)
    a = a.astype(np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or a.shape[0] < 1 or a.shape[1] < 1:
        raise ShapeError(f"image: expected (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    h, w, c = a.shape
    color_type = {1: 0, 3: 2, 4: 6}[c]
    # Filter type 0 (none) on every row: a leading zero byte per scanline.
    raw = np.concatenate([np.zeros((h, 1), np.uint8), a.reshape(h, w * c)], axis=1)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + _chunk(b"IEND", b""))


def write_png(path, image) -> str:
    """Write ``image`` (see :func:`png_bytes`) to ``path``; returns the path."""
    path = os.fspath(path)
    with open(path, "wb") as f:
        f.write(png_bytes(image))
    return path


def _unfilter(raw: np.ndarray, h: int, stride: int, bpp: int) -> np.ndarray:
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        ftype, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if ftype == 0:
            cur = line
        elif ftype == 2:
            cur = (line + prev) & 0xFF
        elif ftype in (1, 3, 4):
            cur = np.zeros(stride, np.int32)
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                if ftype == 1:
                    pred = a
                elif ftype == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + pred) & 0xFF
        else:
            raise CorruptDataError(f"png: unknown filter type {ftype} on row {y}")
        out[y] = cur
        prev = cur
    return out


def read_png(path) -> np.ndarray:
    """Read an 8-bit non-interlaced gray/RGB/RGBA PNG (what :func:`write_png` writes, and
    most simple PNGs). Returns ``(H, W)`` or ``(H, W, C)`` uint8."""
    with open(os.fspath(path), "rb") as f:
        buf = f.read()
    if buf[:8] != b"\x89PNG\r\n\x1a\n":
        raise CorruptDataError(f"{path}: not a PNG file (bad signature)")
    pos, idat, hdr = 8, [], None
    while pos + 8 <= len(buf):
        n, kind = struct.unpack(">I4s", buf[pos:pos + 8])
        data = buf[pos + 8:pos + 8 + n]
        if len(data) != n:
            raise CorruptDataError(f"{path}: truncated {kind!r} chunk")
        crc = struct.unpack(">I", buf[pos + 8 + n:pos + 12 + n])[0]
        if crc != zlib.crc32(kind + data) & 0xFFFFFFFF:
            raise CorruptDataError(f"{path}: CRC mismatch in {kind!r} chunk")
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat.append(data)
        elif kind == b"IEND":
            break
        pos += 12 + n
    if hdr is None:
        raise CorruptDataError(f"{path}: no IHDR chunk")
    w, h, depth, ctype, _, _, interlace = hdr
    channels = {0: 1, 2: 3, 6: 4, 4: 2}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise CorruptDataError(
            f"{path}: only 8-bit non-interlaced gray/RGB/RGBA is supported, got depth "
            f"{depth}, color type {ctype}, interlace {interlace}")
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8)
    stride = w * channels
    if raw.size != h * (stride + 1):
        raise CorruptDataError(f"{path}: image data has {raw.size} bytes, expected "
                               f"{h * (stride + 1)}")
    img = _unfilter(raw.reshape(h, stride + 1), h, stride, channels)
    img = img.reshape(h, w, channels)
    return img[:, :, 0] if channels == 1 else img


# ---- a 5x7 bitmap font -----------------------------------------------------------------

_FONT_ROWS = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    ",": "00000 00000 00000 00000 01100 00100 01000",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    "+": "00000 00100 00100 11111 00100 00100 00000",
    "=": "00000 00000 11111 00000 11111 00000 00000",
    "%": "11000 11001 00010 00100 01000 10011 00011",
    "/": "00000 00001 00010 00100 01000 10000 00000",
    "(": "00010 00100 01000 01000 01000 00100 00010",
    ")": "01000 00100 00010 00010 00010 00100 01000",
    "_": "00000 00000 00000 00000 00000 00000 11111",
    "x": "00000 00000 10001 01010 00100 01010 10001",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}
_FONT = {ch: np.array([[c == "1" for c in row] for row in rows.split()], bool)
         for ch, rows in _FONT_ROWS.items()}


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """Boolean mask ``(7*scale, 6*len(text)*scale)`` of ``text`` in the 5x7 font
    (lowercase letters are drawn as capitals, except a small ``x`` after a digit, as in
    3x3; unknown characters as empty boxes)."""
    glyphs = []
    for k, ch in enumerate(text):
        # A small "x" only as a times sign between digits (3x3); other letters as capitals.
        small_x = ch == "x" and 0 < k and text[k - 1].isdigit()
        g = _FONT["x"] if small_x else _FONT.get(ch.upper(), _FONT.get(ch))
        if g is None:
            g = np.ones((7, 5), bool)
            g[1:-1, 1:-1] = False
        glyphs.append(np.pad(g, ((0, 0), (0, 1))))
    m = np.concatenate(glyphs, axis=1) if glyphs else np.zeros((7, 0), bool)
    return np.kron(m, np.ones((scale, scale), bool)).astype(bool)


# ---- a raster canvas ---------------------------------------------------------------------


class Canvas:
    """An RGB raster ``(height, width, 3)`` of floats in [0, 1] with simple drawing."""

    def __init__(self, width: int, height: int, background=(1.0, 1.0, 1.0)):
        self.pixels = np.empty((height, width, 3), np.float64)
        self.pixels[:] = background
        self.height, self.width = height, width

    def rect(self, x0, y0, x1, y1, color, fill=True):
        x0, x1 = sorted((int(round(x0)), int(round(x1))))
        y0, y1 = sorted((int(round(y0)), int(round(y1))))
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.width - 1), min(y1, self.height - 1)
        if x0 > x1 or y0 > y1:
            return
        if fill:
            self.pixels[y0:y1 + 1, x0:x1 + 1] = color
        else:
            self.pixels[y0:y1 + 1, [x0, x1]] = color
            self.pixels[[y0, y1], x0:x1 + 1] = color

    def line(self, xs, ys, color, width: float = 2.0):
        """A polyline through points ``(xs[i], ys[i])`` (pixel coordinates), drawn with
        coverage-based anti-aliasing: each pixel's alpha falls off with its distance to
        the nearest segment."""
        xs, ys = np.asarray(xs, float), np.asarray(ys, float)
        keep = np.isfinite(xs) & np.isfinite(ys)
        xs, ys = xs[keep], ys[keep]
        if xs.size == 0:
            return
        if xs.size == 1:
            xs, ys = np.repeat(xs, 2), np.repeat(ys, 2)
        r = width / 2.0
        color = np.asarray(color, float)
        for k in range(xs.size - 1):
            ax, ay, bx, by = xs[k], ys[k], xs[k + 1], ys[k + 1]
            lo_x = max(int(np.floor(min(ax, bx) - r - 1)), 0)
            hi_x = min(int(np.ceil(max(ax, bx) + r + 1)), self.width - 1)
            lo_y = max(int(np.floor(min(ay, by) - r - 1)), 0)
            hi_y = min(int(np.ceil(max(ay, by) + r + 1)), self.height - 1)
            if lo_x > hi_x or lo_y > hi_y:
                continue
            py, px = np.mgrid[lo_y:hi_y + 1, lo_x:hi_x + 1].astype(float)
            dx, dy = bx - ax, by - ay
            L2 = dx * dx + dy * dy
            t = np.zeros_like(px) if L2 == 0 else np.clip(
                ((px - ax) * dx + (py - ay) * dy) / L2, 0.0, 1.0)
            d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
            alpha = np.clip(r + 0.5 - d, 0.0, 1.0)[..., None]
            region = self.pixels[lo_y:hi_y + 1, lo_x:hi_x + 1]
            region[:] = region * (1 - alpha) + color * alpha

    def text(self, x, y, text: str, color=(0, 0, 0), scale: int = 1, anchor: str = "lt"):
        """Draw ``text`` with its anchor at ``(x, y)``: anchor letters l/c/r (horizontal)
        and t/m/b (vertical)."""
        m = text_mask(text, scale)
        h, w = m.shape
        x = x - (w // 2 if "c" in anchor else (w if "r" in anchor else 0))
        y = y - (h // 2 if "m" in anchor else (h if "b" in anchor else 0))
        x, y = int(round(x)), int(round(y))
        ys, xs = np.nonzero(m)
        ys, xs = ys + y, xs + x
        ok = (ys >= 0) & (ys < self.height) & (xs >= 0) & (xs < self.width)
        self.pixels[ys[ok], xs[ok]] = color

    def vtext(self, x, y, text: str, color=(0, 0, 0), scale: int = 1):
        """Text rotated 90 degrees counter-clockwise, centred at ``(x, y)``."""
        m = np.rot90(text_mask(text, scale))
        h, w = m.shape
        ys, xs = np.nonzero(m)
        ys, xs = ys + int(y - h // 2), xs + int(x - w // 2)
        ok = (ys >= 0) & (ys < self.height) & (xs >= 0) & (xs < self.width)
        self.pixels[ys[ok], xs[ok]] = color

    def blit(self, x, y, image):
        """Paste an RGB float image ``(h, w, 3)`` with its top-left corner at ``(x, y)``."""
        h, w = image.shape[:2]
        self.pixels[y:y + h, x:x + w] = image[: self.height - y, : self.width - x]

    def save(self, path) -> str:
        return write_png(path, self.pixels)


# ---- curves ------------------------------------------------------------------------------

PALETTE = [(0.12, 0.47, 0.71), (1.0, 0.5, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16),
           (0.58, 0.4, 0.74), (0.55, 0.34, 0.29)]


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """Round tick values (1, 2, 5 x 10^k steps) covering ``[lo, hi]``."""
    if not np.isfinite(lo) or not np.isfinite(hi):
        return np.array([0.0, 1.0])
    if hi <= lo:
        hi = lo + (abs(lo) if lo else 1.0)
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** np.floor(np.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    return np.arange(np.floor(lo / step) * step, hi + step * 0.999, step)


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000 or abs(v) < 0.01:
        return f"{v:.0e}".replace("e-0", "e-").replace("e+0", "e")
    return f"{v:.3g}"


def _panel(cv: Canvas, box, series: Mapping[str, tuple], title: str, xlabel: str,
           ylabel: str, ylim=None, legend: str = "tr"):
    x0, y0, x1, y1 = box
    left, bottom, top, right = x0 + 52, y1 - 34, y0 + 24, x1 - 10
    cv.text((x0 + x1) / 2, y0 + 6, title, scale=2, anchor="ct")
    allx = np.concatenate([np.asarray(v[0], float) for v in series.values()] or [[0, 1]])
    ally = np.concatenate([np.asarray(v[1], float) for v in series.values()] or [[0, 1]])
    ally = ally[np.isfinite(ally)]
    xlo, xhi = (float(allx.min()), float(allx.max())) if allx.size else (0.0, 1.0)
    if xhi == xlo:
        xhi = xlo + 1
    if ylim is None:
        ylo, yhi = (float(ally.min()), float(ally.max())) if ally.size else (0.0, 1.0)
        pad = 0.05 * (yhi - ylo or 1.0)
        ylo, yhi = ylo - pad, yhi + pad
    else:
        ylo, yhi = ylim
    if ylim is None and ally.size and ally.min() >= 0:
        ylo = max(ylo, 0.0)                  # losses and accuracies never go below 0
    yt = nice_ticks(ylo, yhi)
    yt = yt[(yt >= ylo - 1e-9) & (yt <= yhi + 1e-9)]
    xt = nice_ticks(xlo, xhi)
    if np.all(allx == np.round(allx)):       # integer x (epochs): integer ticks only
        step = max(1.0, float(np.ceil(xt[1] - xt[0])) if xt.size > 1 else 1.0)
        xt = np.arange(np.ceil(xlo / step) * step, xhi + 0.5, step)
    xt = xt[(xt >= xlo) & (xt <= xhi)]

    def px(v):
        return left + (np.asarray(v, float) - xlo) / (xhi - xlo) * (right - left)

    def py(v):
        return bottom - (np.asarray(v, float) - ylo) / (yhi - ylo) * (bottom - top)

    grid = (0.9, 0.9, 0.9)
    for t in yt:
        cv.rect(left, py(t), right, py(t), grid)
        cv.text(left - 4, py(t), _fmt(t), anchor="rm")
    for t in xt:
        cv.rect(px(t), top, px(t), bottom, grid)
        cv.text(px(t), bottom + 4, _fmt(t), anchor="ct")
    cv.rect(left, top, right, bottom, (0.3, 0.3, 0.3), fill=False)
    cv.text((left + right) / 2, y1 - 4, xlabel, anchor="cb")
    cv.vtext(x0 + 8, (top + bottom) / 2, ylabel)
    for k, (xs, ys) in enumerate(series.values()):
        cv.line(px(xs), py(ys), PALETTE[k % len(PALETTE)], width=2.0)
        if len(xs) <= 40:                    # markers, so single epochs are visible too
            for a, b in zip(px(xs), py(ys), strict=True):
                cv.line([a], [b], PALETTE[k % len(PALETTE)], width=5.0)
    # The legend in a white box, in the corner named by ``legend`` (t/b + r).
    ly0 = top + 4 if legend.startswith("t") else bottom - 4 - 12 * len(series)
    cv.rect(right - 98, ly0, right - 4, ly0 + 12 * len(series), (1, 1, 1))
    cv.rect(right - 98, ly0, right - 4, ly0 + 12 * len(series), (0.6, 0.6, 0.6), fill=False)
    for k, name in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        ly = ly0 + 6 + 12 * k
        cv.rect(right - 92, ly - 1, right - 78, ly + 1, color)
        cv.text(right - 74, ly, name, anchor="lm")


def plot_curves(history: Sequence[Mapping], path, title: str = "training") -> str:
    """Loss and accuracy curves from history records, as a PNG (two panels side by side).

    Parameters
    ----------
    history : sequence of dict
        One record per epoch, as returned by :func:`autograd_cnn.train.fit`: an
        ``"epoch"`` key and any of ``train_loss``, ``val_loss``, ``train_acc``,
        ``val_acc`` (missing or None values are skipped).
    path : str or PathLike
        Where to write the PNG (800 x 320 pixels).
    """
    if not history:
        raise InvalidArgumentError("history: expected at least one epoch record, got none")
    epochs = [r.get("epoch", i + 1) for i, r in enumerate(history)]

    def series(keys):
        out = {}
        for key in keys:
            pts = [(e, r[key]) for e, r in zip(epochs, history, strict=True)
                   if r.get(key) is not None]
            if pts:
                out[key.replace("_", " ")] = tuple(zip(*pts, strict=True))
        return out

    cv = Canvas(800, 320)
    _panel(cv, (0, 0, 400, 320), series(["train_loss", "val_loss"]), f"{title}: loss",
           "epoch", "loss")
    acc = series(["train_acc", "val_acc"])
    acc = {k: (x, [100 * v for v in y]) for k, (x, y) in acc.items()}
    lows = [min(y) for _, y in acc.values()]
    lo = max(0.0, 10 * np.floor(min(lows) / 10) - 5) if lows else 0.0
    _panel(cv, (400, 0, 800, 320), acc, f"{title}: accuracy", "epoch", "accuracy %",
           ylim=(lo, 101.0), legend="br")
    return cv.save(path)


# ---- image grids -------------------------------------------------------------------------


def _diverging(v: np.ndarray) -> np.ndarray:
    """Map values in [-1, 1] to blue (negative) - white (0) - red (positive)."""
    v = np.clip(v, -1.0, 1.0)[..., None]
    blue, red, white = np.array([0.13, 0.4, 0.67]), np.array([0.7, 0.09, 0.17]), np.ones(3)
    return np.where(v < 0, white + (blue - white) * (-v), white + (red - white) * v)


def image_grid(images, path=None, scale: int = 8, ncols: int | None = None, gap: int = 2,
               cmap: str = "gray", normalize: str = "each", labels: Sequence[str] | None = None
               ) -> np.ndarray:
    """Arrange images in a grid and optionally write it as a PNG.

    Parameters
    ----------
    images : array_like or Tensor
        ``(N, H, W)``, ``(N, 1, H, W)`` (gray) or ``(N, 3, H, W)`` (RGB).
    scale : int
        Each pixel becomes a ``scale x scale`` block (nearest neighbour).
    cmap : {"gray", "diverging"}
        Gray maps [min, max] to black..white; diverging maps [-a, a] to
        blue..white..red (for signed filters), ``a`` the largest magnitude.
    normalize : {"each", "all", "none"}
        Scale per image, over the whole batch, or not at all (values already in [0, 1]).
    labels : sequence of str, optional
        A caption under each tile.

    Returns
    -------
    ndarray
        The RGB grid ``(H', W', 3)``, floats in [0, 1].
    """
    a = np.asarray(getattr(images, "data", images) if not isinstance(images, np.ndarray)
                   else images, dtype=np.float64)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if not (a.ndim == 3 or (a.ndim == 4 and a.shape[1] == 3)):
        raise ShapeError(f"images: expected (N, H, W), (N, 1, H, W) or (N, 3, H, W), got "
                         f"{a.shape}")
    if cmap not in ("gray", "diverging"):
        raise InvalidArgumentError(f"cmap: expected 'gray' or 'diverging', got {cmap!r}")
    if normalize not in ("each", "all", "none"):
        raise InvalidArgumentError(
            f"normalize: expected 'each', 'all' or 'none', got {normalize!r}")
    n = a.shape[0]
    if n == 0:
        raise ShapeError("images: expected at least one image, got an empty batch")
    axes = tuple(range(1, a.ndim))
    if cmap == "diverging":
        m = (np.abs(a).max(axis=axes, keepdims=True) if normalize == "each"
             else np.abs(a).max(keepdims=True) if normalize == "all" else np.ones((1,) * a.ndim))
        tiles = a / np.where(m == 0, 1, m)
    else:
        if normalize == "none":
            tiles = np.clip(a, 0, 1)
        else:
            lo = a.min(axis=axes, keepdims=True) if normalize == "each" else a.min()
            hi = a.max(axis=axes, keepdims=True) if normalize == "each" else a.max()
            tiles = (a - lo) / np.where(hi - lo == 0, 1, hi - lo)
    if a.ndim == 4:
        rgb = np.transpose(tiles, (0, 2, 3, 1))
    elif cmap == "diverging":
        rgb = _diverging(tiles)
    else:
        rgb = np.repeat(tiles[..., None], 3, axis=-1)
    rgb = rgb.repeat(scale, axis=1).repeat(scale, axis=2)
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    th, tw = rgb.shape[1:3]
    cap = 10 if labels is not None else 0
    cv = Canvas(ncols * (tw + gap) + gap, nrows * (th + gap + cap) + gap,
                background=(0.75, 0.75, 0.75))
    for k in range(n):
        r, c = divmod(k, ncols)
        x, y = gap + c * (tw + gap), gap + r * (th + gap + cap)
        cv.blit(x, y, rgb[k])
        if labels is not None and k < len(labels):
            cv.text(x + tw // 2, y + th + 2, str(labels[k]), anchor="ct")
    if path is not None:
        cv.save(path)
    return cv.pixels


def filters_image(weight, path=None, scale: int | None = None, gap: int = 2) -> np.ndarray:
    """Draw conv filters ``(C_out, C_in, kh, kw)`` as a grid: one row per output channel,
    one tile per input channel (or one RGB tile when ``C_in == 3``), in a diverging
    colour map (blue negative, white zero, red positive), each filter scaled by its own
    largest magnitude; single-channel filters are laid out 8 per row. ``scale`` (pixels
    per weight) defaults to tiles about 40 pixels wide. Returns the RGB array and writes
    a PNG when ``path`` is given."""
    w = np.asarray(getattr(weight, "data", weight) if not isinstance(weight, np.ndarray)
                   else weight, dtype=np.float64)
    if w.ndim != 4:
        raise ShapeError(f"weight: expected (C_out, C_in, kh, kw), got shape {w.shape}")
    c_out, c_in = w.shape[:2]
    if scale is None:                        # tiles about 40 pixels wide
        scale = max(2, 40 // max(w.shape[2:]))
    if c_in == 3:
        m = np.abs(w).max(axis=(1, 2, 3), keepdims=True)
        tiles = 0.5 + 0.5 * w / np.where(m == 0, 1, m)
        return image_grid(tiles, path, scale=scale, gap=gap, normalize="none",
                          ncols=min(c_out, 16))
    m = np.abs(w).max(axis=(1, 2, 3), keepdims=True)
    tiles = (w / np.where(m == 0, 1, m)).reshape(c_out * c_in, *w.shape[2:])
    return image_grid(tiles, path, scale=scale, gap=gap, cmap="diverging", normalize="none",
                      ncols=c_in if c_in > 1 else min(c_out, 8))
