"""Hypothesis profiles: ``ci`` (derandomized, no deadline), ``dev`` (default, fewer
examples), ``thorough`` (many examples). Choose with HYPOTHESIS_PROFILE."""

import os

from hypothesis import HealthCheck, settings

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])
settings.register_profile("ci", derandomize=True, max_examples=50, print_blob=True, **_common)
settings.register_profile("dev", max_examples=30, **_common)
settings.register_profile("thorough", max_examples=500, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
