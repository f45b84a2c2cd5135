"""Vendored Leaflet and plugin assets, inlined into the map page so that it draws offline."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).parent / "static"
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


@dataclass(frozen=True)
class Asset:
    """One vendored library: its scripts and style sheets, relative to ``maps/static``."""

    name: str
    js: tuple[str, ...] = ()
    css: tuple[str, ...] = ()


LEAFLET = Asset("leaflet", js=("leaflet.js",), css=("leaflet.css",))
MARKERCLUSTER = Asset(
    "markercluster", js=("markercluster/leaflet.markercluster.js",),
    css=("markercluster/MarkerCluster.css", "markercluster/MarkerCluster.Default.css"))
SUBGROUP = Asset("subgroup", js=("subgroup/leaflet.featuregroup.subgroup.js",))
SEARCH = Asset("search", js=("search/dist/leaflet-search.min.js",),
               css=("search/dist/leaflet-search.min.css",))
FULLSCREEN = Asset("fullscreen", js=("fullscreen/Control.FullScreen.js",),
                   css=("fullscreen/Control.FullScreen.css",))

# cfplan's own map code (layers, grouped layer control, target selector, panels).
CFPLAN = Asset("cfplan", js=("cfplan/cfplan-map.js",), css=("cfplan/cfplan-map.css",))


def measure(lang: str) -> Asset:
    """Return leaflet-measure in the build for ``lang`` (its texts are compiled in)."""
    build = "cn" if lang == "zh" else "en"
    return Asset("measure", js=(f"measure/leaflet-measure.{build}.js",),
                 css=("measure/leaflet-measure.css",))


def _data_uri(path: Path) -> str:
    return f"data:{_MIME[path.suffix]};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def inline_css(relpath: str) -> str:
    """Return a vendored style sheet with every ``url(...)`` it references inlined.

    Images found beside the sheet become data URIs; a reference to a file the package
    does not ship (leaflet-search's loader animation) becomes ``none``, so the page
    never asks for a file.

    Returns
    -------
    str
        The CSS text.
    """
    path = STATIC / relpath
    css = path.read_text(encoding="utf-8")

    def repl(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith("data:"):
            return match.group(0)
        target = (path.parent / ref).resolve()
        if target.is_file() and target.suffix in _MIME:
            return f"url({_data_uri(target)})"
        return "none"

    return re.sub(r"url\(([^)]*)\)", repl, css)


def inline_tags(assets: list[Asset]) -> tuple[str, str]:
    """Return ``(styles, scripts)``: ``<style>`` and ``<script>`` elements for ``assets``.

    Scripts close no ``</script>`` early: a literal ``</`` inside them is escaped.

    Returns
    -------
    tuple of str
        HTML for the page's head, styles first.
    """
    styles, scripts, seen = [], [], set()
    for asset in assets:
        if asset.name in seen:
            continue
        seen.add(asset.name)
        styles += [f"<style>{inline_css(c)}</style>" for c in asset.css]
        for js in asset.js:
            text = (STATIC / js).read_text(encoding="utf-8").replace("</script", "<\\/script")
            scripts.append(f"<script>{text}</script>")
    return "\n".join(styles), "\n".join(scripts)


__all__ = ["CFPLAN", "FULLSCREEN", "LEAFLET", "MARKERCLUSTER", "SEARCH", "STATIC", "SUBGROUP", "Asset",
           "inline_css", "inline_tags", "measure"]
