"""cfplan: the facility-coverage planner for child-friendly cities (儿童友好城市).

The public API, in the manner of ``osmnx``::

    import cfplan
    layers = cfplan.load_layers("my_district")         # a LayerSet of GeoDataFrames
    plan = cfplan.load_plan("jingkai")                  # a built-in plan, or a TOML file
    result = cfplan.assess(layers, plan)                 # nothing written
    result.targets()                                     # the targets table
    result.gaps()                                        # failing units as polygons
    result.write("out")                                  # every file of a run
    result.map()                                         # the folium map
    result.site().sites                                  # where to build (GeoDataFrame)

Names are imported on first use, so ``import cfplan.geo`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.2.0"

# public name -> module that defines it
_EXPORTS = {
    "Assessment": "cfplan.pipeline",
    "assess": "cfplan.pipeline",
    "demo_assessment": "cfplan.pipeline",
    "run": "cfplan.pipeline",
    "run_demo": "cfplan.pipeline",
    "site_plan": "cfplan.pipeline",
    "run_routes": "cfplan.pipeline",
    "school_routes": "cfplan.pipeline",
    "SchoolRoutes": "cfplan.analysis.routes",
    "RouteRules": "cfplan.analysis.routes_config",
    "LayerSet": "cfplan.layers.load",
    "load_layers": "cfplan.layers.load",
    "facilities_from_osm_file": "cfplan.layers.osm_tags",
    "Plan": "cfplan.analysis.plan",
    "Target": "cfplan.analysis.plan",
    "load_plan": "cfplan.analysis.plan",
    "builtin_plans": "cfplan.analysis.plan",
    "Result": "cfplan.analysis.evaluate",
    "evaluate_plan": "cfplan.analysis.evaluate",
    "street_graph": "cfplan.layers.streets",
    "load_streets": "cfplan.layers.streets",
    "Streets": "cfplan.layers.streets",
    "CfplanError": "cfplan.layers.errors",
    "InputError": "cfplan.layers.errors",
    "Text": "cfplan.layers.text",
    "DEMO_DIR": "cfplan.demo",
    "run_batch": "cfplan.batch",
    "validate": "cfplan.inputs",
    "Validation": "cfplan.inputs",
    "LSCP": "cfplan.analysis.siting",
    "MCLP": "cfplan.analysis.siting",
    "PMedian": "cfplan.analysis.siting",
}

__all__ = [
    "DEMO_DIR",
    "LSCP",
    "MCLP",
    "Assessment",
    "CfplanError",
    "InputError",
    "LayerSet",
    "PMedian",
    "Plan",
    "Result",
    "RouteRules",
    "SchoolRoutes",
    "Streets",
    "Target",
    "Text",
    "Validation",
    "assess",
    "builtin_plans",
    "demo_assessment",
    "evaluate_plan",
    "facilities_from_osm_file",
    "load_layers",
    "load_plan",
    "load_streets",
    "run",
    "run_batch",
    "run_demo",
    "run_routes",
    "school_routes",
    "site_plan",
    "street_graph",
    "validate",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'cfplan' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from cfplan.analysis.evaluate import Result, evaluate_plan
    from cfplan.analysis.plan import Plan, Target, builtin_plans, load_plan
    from cfplan.analysis.routes import SchoolRoutes
    from cfplan.analysis.routes_config import RouteRules
    from cfplan.analysis.siting import LSCP, MCLP, PMedian
    from cfplan.batch import run_batch
    from cfplan.demo import DEMO_DIR
    from cfplan.inputs import Validation, validate
    from cfplan.layers.errors import CfplanError, InputError
    from cfplan.layers.load import LayerSet, load_layers
    from cfplan.layers.osm_tags import facilities_from_osm_file
    from cfplan.layers.streets import Streets, load_streets, street_graph
    from cfplan.layers.text import Text
    from cfplan.pipeline import (
        Assessment,
        assess,
        demo_assessment,
        run,
        run_demo,
        run_routes,
        school_routes,
        site_plan,
    )
