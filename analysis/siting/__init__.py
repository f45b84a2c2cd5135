"""Exact siting: where new facilities should go so that the plan's targets are met.

Models (one class and module per formulation, the mathematics in its docstring, as in
spopt): :class:`LSCP` (fewest new sites for full or share coverage, then the most
covered), :class:`MCLP` (``p`` new sites covering the most), :class:`PMedian` (``p`` new sites minimising total weighted walking distance),
:class:`CapacitatedCoverage` (托育: capacity 托位, demand children 0–3) and
:class:`JurisdictionCover` (each 办事处/社区 lacking a facility gets its own, with count
targets). Built sparsely, solved by HiGHS with honest statuses (:class:`SitingResult`).
Costs come from a caller's matrix (``from_cost_matrix``), from cfplan's walking engine or,
only when asked, straight lines (``from_layers``, :func:`walking_costs`,
:func:`straight_line_costs`); candidates from :func:`candidate_sites`.
"""

from __future__ import annotations

from cfplan.analysis.siting.candidates import candidate_sites
from cfplan.analysis.siting.capacitated import CapacitatedCoverage
from cfplan.analysis.siting.costs import as_cost_matrix, straight_line_costs, walking_costs, within
from cfplan.analysis.siting.inputs import LayerCosts, layer_costs, required_groups
from cfplan.analysis.siting.jurisdiction import JurisdictionCover
from cfplan.analysis.siting.lscp import LSCP
from cfplan.analysis.siting.mclp import MCLP
from cfplan.analysis.siting.pmedian import PMedian
from cfplan.analysis.siting.result import EXISTING, UNSERVED, SitingResult, Stage

__all__ = [
    "EXISTING",
    "LSCP",
    "MCLP",
    "UNSERVED",
    "CapacitatedCoverage",
    "JurisdictionCover",
    "LayerCosts",
    "PMedian",
    "SitingResult",
    "Stage",
    "as_cost_matrix",
    "candidate_sites",
    "layer_costs",
    "required_groups",
    "straight_line_costs",
    "walking_costs",
    "within",
]
