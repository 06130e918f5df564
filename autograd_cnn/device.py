"""Devices, as far as a CPU-only library has them: ``device``, ``cuda``, ``backends``.

PyTorch programs start with ``device = torch.device("cuda" if torch.cuda.is_available()
else "cpu")`` and move tensors with ``.to(device)``. Here every tensor lives on the CPU:
``device("cpu")`` is accepted everywhere a device is, ``cuda.is_available()`` is False,
and asking for any other device (``"cuda"``, ``"mps"``...) raises
:class:`~autograd_cnn.errors.DeviceUnavailableError` instead of silently computing on the
CPU. As in PyTorch, a ``device("cuda")`` object may be *created*; using it fails.

>>> import autograd_cnn as ac
>>> dev = ac.device("cuda" if ac.cuda.is_available() else "cpu")
>>> ac.zeros(2, device=dev).device
device(type='cpu')
"""

from __future__ import annotations

import types

from .errors import ArgumentTypeError, DeviceUnavailableError, InvalidArgumentError

#: Device types PyTorch knows; all but "cpu" are refused when used.
KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "mtia", "hpu")


class device:  # noqa: N801 - PyTorch's name
    """A device description: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``.

    Parameters
    ----------
    type : str or device
        One of :data:`KNOWN_TYPES`, optionally with ``":index"``.
    index : int, optional

    Only ``"cpu"`` can hold tensors; the others raise
    :class:`~autograd_cnn.errors.DeviceUnavailableError` when used.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type  # torch.device(0) means cuda:0
        if not isinstance(type, str):
            raise ArgumentTypeError(
                f"device: expected a string such as 'cpu' or 'cuda:0', got {type!r}")
        kind, sep, idx = type.partition(":")
        if sep:
            if index is not None:
                raise InvalidArgumentError(
                    f"device: index given twice ({type!r} and index={index})")
            if not idx.isdigit():
                raise InvalidArgumentError(f"device: invalid device string {type!r}")
            index = int(idx)
        if kind not in KNOWN_TYPES:
            raise InvalidArgumentError(
                f"device: expected one of {', '.join(KNOWN_TYPES)} device type, got {type!r}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise InvalidArgumentError(f"device: index must be an int >= 0, got {index!r}")
        self.type = kind
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (InvalidArgumentError, ArgumentTypeError):
                return False
        return (isinstance(other, device) and self.type == other.type
                and self.index == other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"


CPU = device("cpu")


def check_device(dev, what: str = "device") -> device:
    """Return ``device("cpu")`` for ``None``/cpu requests; raise for any other device.

    Parameters
    ----------
    dev : str, int, device or None
    what : str
        The argument name used in the error message.
    """
    if dev is None:
        return CPU
    d = dev if isinstance(dev, device) else device(dev)
    if d.type == "cpu":
        return CPU
    hint = ("CUDA is not available: autograd_cnn computes on the CPU only"
            if d.type == "cuda" else
            f"device type {d.type!r} is not available: autograd_cnn computes on the CPU only")
    raise DeviceUnavailableError(
        f"{what}: {hint} (got {str(d)!r}); use device='cpu', or pick the device with "
        "'cuda' if ac.cuda.is_available() else 'cpu'")


def parse_to_args(args, kwargs, *, allow_copy: bool = False):
    """The arguments of ``Tensor.to`` / ``Module.to`` (``to(device)``, ``to(dtype)``,
    ``to(device, dtype)``, ``to(other_tensor)``, keywords ``device=``, ``dtype=``,
    ``non_blocking=``, ``memory_format=`` and, for tensors, ``copy=``): checks the device
    (CPU only) and returns ``(dtype or None, copy)``."""
    from .tensor import Tensor

    kwargs = dict(kwargs)
    dev, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False) if allow_copy else False
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)  # a layout hint; arrays keep their layout
    if kwargs:
        raise ArgumentTypeError(f"to(): unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, device) or (isinstance(a, int) and not isinstance(a, bool)):
            dev = a
        elif isinstance(a, str) and a.partition(":")[0] in KNOWN_TYPES:
            dev = a
        elif not isinstance(a, bool):  # a bool is non_blocking passed positionally
            dtype = a
    check_device(dev, "to(device)")
    return dtype, copy


# ---- torch.cuda --------------------------------------------------------------------------


def _cuda_is_available() -> bool:
    """False: there is no CUDA here."""
    return False


def _cuda_device_count() -> int:
    """0: no CUDA devices."""
    return 0


def _cuda_manual_seed(seed) -> None:
    """Accepted and ignored, as ``torch.cuda.manual_seed`` is on a machine without CUDA."""


def _cuda_unavailable(*args, **kwargs):
    """Raise :class:`DeviceUnavailableError` (CUDA-only calls)."""
    check_device("cuda", "cuda")


cuda = types.ModuleType("autograd_cnn.cuda", "CUDA queries: nothing is available here.")
cuda.is_available = _cuda_is_available
cuda.device_count = _cuda_device_count
cuda.manual_seed = _cuda_manual_seed
cuda.manual_seed_all = _cuda_manual_seed
cuda.current_device = _cuda_unavailable
cuda.synchronize = _cuda_unavailable
cuda.get_device_name = _cuda_unavailable
cuda.is_bf16_supported = lambda *a, **k: False


# ---- torch.backends ----------------------------------------------------------------------

backends = types.ModuleType("autograd_cnn.backends", "Backend flags (cudnn, mps): inert here.")
backends.cudnn = types.ModuleType("autograd_cnn.backends.cudnn",
                                  "cuDNN flags: settable, without effect (no cuDNN here).")
backends.cudnn.enabled, backends.cudnn.benchmark, backends.cudnn.deterministic = True, False, False
backends.cudnn.is_available = lambda: False
backends.mps = types.ModuleType("autograd_cnn.backends.mps", "Apple MPS: not available.")
backends.mps.is_available = lambda: False
backends.mps.is_built = lambda: False


# ---- torch.accelerator -------------------------------------------------------------------

accelerator = types.ModuleType("autograd_cnn.accelerator",
                               "Accelerator queries (PyTorch 2.6+): none here.")
accelerator.is_available = lambda: False
accelerator.device_count = lambda: 0
accelerator.current_accelerator = lambda *a, **k: None


def register_modules(amp_module) -> None:
    """Make ``import autograd_cnn.cuda``, ``autograd_cnn.backends.cudnn``,
    ``autograd_cnn.cuda.amp``... work as module imports (``import torch.backends.cudnn as
    cudnn`` is a common first line)."""
    import sys

    cuda.amp = amp_module
    for name, mod in (("cuda", cuda), ("cuda.amp", amp_module), ("backends", backends),
                      ("backends.cudnn", backends.cudnn), ("backends.mps", backends.mps),
                      ("accelerator", accelerator)):
        sys.modules.setdefault(f"autograd_cnn.{name}", mod)
