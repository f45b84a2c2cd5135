"""The map's one palette: every meaning has its own colour, and no colour has two meanings."""

from __future__ import annotations

# Status of a unit for a target (fills): met, not met, unknown, not counted by the target.
MET = "#1a9850"
NOT_MET = "#d73027"
UNKNOWN = "#fee08b"
NOT_COUNTED = "#bdbdbd"
UNIT_COLORS = {"M": MET, "N": NOT_MET, "U": UNKNOWN, "-": NOT_COUNTED}
# Status dots of the targets panel (the same meanings, the same colours).
STATUS_COLOR = {"met": MET, "not_met": NOT_MET, "unknown": UNKNOWN, "not_assessed": NOT_COUNTED}

# Share of a unit's children within reach of a walking-access target, below the target's
# share: lowest first (at or above the target the unit is met: MET).
SHARE_BELOW = ("#67000d", "#a50f15", "#ef3b2c", "#fc9272")

# Number of plan targets a unit fails: 0, 1, 2, 3, 4 or more.
FAILS = ("#f7f4f9", "#d4b9da", "#df65b0", "#ae017e", "#67001f")

# Walking bands (5, 10, 15 minutes).
BANDS = {5: "#08519c", 10: "#4292c6", 15: "#9ecae1"}

# School routes: risk classes of the shortest routes (none, < 2, < 5, ≥ 5 points), the safe
# routes, the school gates, the hotspots.
RISK = ("#01665e", "#dfc27d", "#bf812d", "#543005")
SAFE_ROUTE = "#2166ac"
GATE = "#252525"
ZONE = "#6a51a3"
HOTSPOT = "#ff7f00"
INPUT_ROUTE = "#3f007d"

# Proposed sites and their service areas (the glyph says the kind).
SITE = "#e7298a"

# Boundaries and streets.
DISTRICT = "#000000"
SUBDISTRICT = "#1c3d5a"
WATER = "#74c0fc"
WATER_LINE = "#1c7ed6"
STREETS = {"primary": ("#7f7f7f", 4.0), "secondary": ("#8c8c8c", 3.0),
           "tertiary": ("#999999", 2.5), "residential": ("#b3b3b3", 1.5),
           "footway": ("#c8c8c8", 1.0)}
STREET_OTHER = ("#cccccc", 1.0)


def legend_colours() -> dict[str, str]:
    """Return every legend meaning → colour (a test checks that no two share a colour)."""
    out = {f"unit:{k}": v for k, v in UNIT_COLORS.items()}
    out |= {f"share:{i}": c for i, c in enumerate(SHARE_BELOW)}
    out |= {f"fails:{i}": c for i, c in enumerate(FAILS)}
    out |= {f"band:{m}": c for m, c in BANDS.items()}
    out |= {f"risk:{i}": c for i, c in enumerate(RISK)}
    out |= {"safe_route": SAFE_ROUTE, "gate": GATE, "zone": ZONE, "hotspot": HOTSPOT,
            "input_route": INPUT_ROUTE, "site": SITE, "district": DISTRICT,
            "subdistrict": SUBDISTRICT, "water": WATER}
    return out


__all__ = ["BANDS", "FAILS", "MET", "NOT_MET", "RISK", "SHARE_BELOW", "SITE", "STATUS_COLOR",
           "UNIT_COLORS", "UNKNOWN", "legend_colours"]
