"""``from cfplan.siting import LSCP, MCLP, PMedian``: the siting API under the cfplan name.

The models live in :mod:`analysis.siting`; this module only re-exports them.
"""

from __future__ import annotations

from analysis.siting import *  # noqa: F403
from analysis.siting import __all__ as __all__
