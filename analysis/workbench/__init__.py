"""The planner's workbench: edits over a district, re-evaluated incrementally, and scenario files."""

from cfplan.analysis.workbench.changes import Change, result_state
from cfplan.analysis.workbench.edits import (
    OPS,
    Edit,
    EditContext,
    EditError,
    apply_edit,
    parse_edit,
)
from cfplan.analysis.workbench.engine import Outcome, Workbench
from cfplan.analysis.workbench.scenario import (
    SUFFIX,
    Scenario,
    apply_scenario,
    check_scenario,
    compare_results,
    layers_digest,
    read_scenario,
    scenario_text,
)

__all__ = ["OPS", "SUFFIX", "Change", "Edit", "EditContext", "EditError", "Outcome", "Scenario",
           "Workbench", "apply_edit", "apply_scenario", "check_scenario", "compare_results", "layers_digest",
           "parse_edit", "read_scenario", "result_state", "scenario_text"]
