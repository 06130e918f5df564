"""Testing tools shipped with the library, for its own ops and for yours.

- :func:`gradcheck`, :func:`gradgradcheck`: VJPs against float64 central differences.
- Hypothesis strategies: :func:`tensors`, :func:`shapes`, :func:`broadcastable_shapes`.
- :data:`CASES`: a drawn-argument strategy per registered primitive;
  :func:`register_case` adds one for your own primitive.

Requires the ``test`` extra (hypothesis).
"""

from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from .strategies import broadcastable_shapes, floats, shapes, tensors  # noqa: F401
from .cases import CASES, Case, cases_for, register_case  # noqa: F401,E402
from . import cases_conv  # noqa: F401,E402  (convolution family cases)
from . import properties  # noqa: F401,E402  (check_linearity, check_adjointness, ...)
from . import cases_pool  # noqa: F401,E402  (pooling cases)
from . import cases_loss  # noqa: F401,E402  (loss primitives)
from . import cases_more  # noqa: F401,E402  (clamp bounds, rounding, resampling, unpool)
from . import cases_logic  # noqa: F401,E402  (non-differentiable and index primitives)
from . import cases_compat  # noqa: F401,E402  (PyTorch-compatibility primitives)
