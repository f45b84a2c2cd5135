"""``from cfplan.siting import LSCP, MCLP, PMedian``: the siting API under the cfplan name.

The models live in :mod:`cfplan.analysis.siting`; this module only re-exports them.
"""

from __future__ import annotations

from cfplan.analysis.siting import *  # noqa: F403
from cfplan.analysis.siting import __all__ as __all__
