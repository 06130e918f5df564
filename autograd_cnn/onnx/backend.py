"""``autograd_cnn.onnx.backend``: an :class:`onnx.backend.base.Backend`, so ONNX's own
conformance suite runs against the importer::

    import onnx.backend.test
    import autograd_cnn.onnx.backend as backend
    globals().update(onnx.backend.test.BackendTest(backend, __name__).test_cases)

``prepare(model)`` imports the model (:func:`autograd_cnn.onnx.load`); ``run(inputs)``
calls it on NumPy arrays and returns NumPy arrays. Nodes of the training domain
(``Gradient``) are computed with the library's reverse-mode autodiff.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep, Device, DeviceType

from ..errors import OnnxImportError
from .loader import OnnxModule, check_supported
from .safety import read_model


class AutogradCNNRep(BackendRep):
    """A prepared model: an :class:`OnnxModule` in eval mode."""

    def __init__(self, module: OnnxModule):
        self.module = module

    def run(self, inputs, **kwargs):
        """Run on ``inputs`` (a list in graph-input order, a dict, or one array)."""
        from ..tape import no_grad

        if isinstance(inputs, dict):
            args, kw = (), inputs
        else:
            if isinstance(inputs, np.ndarray) or not isinstance(inputs, (list, tuple)):
                inputs = [inputs]
            args, kw = tuple(inputs), {}
        if self.module._grad_xs:
            out = self.module(*args, **kw)
        else:
            with no_grad():
                out = self.module(*args, **kw)
        outs = out if isinstance(out, tuple) else (out,)
        return tuple(np.asarray(o.data if hasattr(o, "data") else o) for o in outs)


class AutogradCNNBackend(Backend):
    """ONNX backend interface over :func:`autograd_cnn.onnx.load` (CPU only)."""

    @classmethod
    def is_compatible(cls, model, device: str = "CPU", **kwargs) -> bool:
        try:
            OnnxModule(model)
        except OnnxImportError:
            return False
        return device.upper().startswith("CPU")

    @classmethod
    def prepare(cls, model, device: str = "CPU", **kwargs) -> AutogradCNNRep:
        super().prepare(model, device, **kwargs)
        return AutogradCNNRep(OnnxModule(read_model(model, before_checker=check_supported)))

    @classmethod
    def run_model(cls, model, inputs, device: str = "CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node, inputs, device: str = "CPU", outputs_info=None, **kwargs):
        """Run one node by wrapping it in a model (input types from ``inputs``)."""
        names = [n for n in node.input if n]
        vi = [onnx.helper.make_tensor_value_info(
            n, onnx.helper.np_dtype_to_tensor_dtype(np.asarray(a).dtype), np.shape(a))
            for n, a in zip(names, inputs)]
        outs = [onnx.helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None)
                for o in node.output]
        graph = onnx.helper.make_graph([node], "node", vi, outs)
        model = onnx.helper.make_model(graph)
        return AutogradCNNRep(OnnxModule(model)).run(list(inputs))

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return Device(device).type == DeviceType.CPU


is_compatible = AutogradCNNBackend.is_compatible
prepare = AutogradCNNBackend.prepare
run_model = AutogradCNNBackend.run_model
run_node = AutogradCNNBackend.run_node
supports_device = AutogradCNNBackend.supports_device
