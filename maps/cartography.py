"""Map furniture for print figures: north arrow, metric scale bar, names that fit, source line."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

import geopandas as gpd
import shapely
from shapely.geometry import LineString

from cfplan.layers.text import Text

# Scale-bar lengths tried, in metres: the longest that spans at most a quarter of the map.
NICE_LENGTHS_M = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000)
HALO = "white"


def scale_length(width_m: float, *, share: float = 0.25) -> float:
    """Return a round scale-bar length (m) no longer than ``share`` of a map ``width_m`` wide."""
    fitting = [n for n in NICE_LENGTHS_M if n <= width_m * share]
    return float(fitting[-1] if fitting else NICE_LENGTHS_M[0])


def _distance_text(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:.0f} m"


def scale_bar(ax: object, *, segments: int = 4) -> float:
    """Draw a metric scale bar in the lower left of a map in a metric CRS (units: metres).

    Alternating black and white segments with the distances under their ends, on a white
    ground. Call after the axes' limits are final.

    Returns
    -------
    float
        The bar's length in metres.
    """
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()  # type: ignore[attr-defined]
    y0, y1 = ax.get_ylim()  # type: ignore[attr-defined]
    length = scale_length(x1 - x0)
    height = (y1 - y0) * 0.012
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.045
    pad = (x1 - x0) * 0.012
    ax.add_patch(Rectangle((bx - pad, by - height * 3.2), length + 2 * pad + (x1 - x0) * 0.03,  # type: ignore[attr-defined]
                           height * 6.2, facecolor="white", edgecolor="none", alpha=0.85,
                           zorder=20))
    step = length / segments
    for i in range(segments):
        ax.add_patch(Rectangle((bx + i * step, by), step, height,  # type: ignore[attr-defined]
                               facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", linewidth=0.6, zorder=21))
    for x, text in ((bx, "0"), (bx + length / 2, _distance_text(length / 2)),
                    (bx + length, _distance_text(length))):
        ax.text(x, by - height * 0.6, text, ha="center", va="top", fontsize=6,  # type: ignore[attr-defined]
                zorder=22)
    return length


def north_arrow(ax: object, *, label: str = "北") -> None:
    """Draw a north arrow in the upper right of a map (grid north of its projected CRS)."""
    from matplotlib.patches import Polygon

    x, top, half, height = 0.95, 0.9, 0.02, 0.07
    base = top - height
    kw = {"transform": ax.transAxes, "zorder": 22, "linewidth": 0.6,  # type: ignore[attr-defined]
          "edgecolor": "black"}
    ax.add_patch(Polygon([(x - half, base), (x, top), (x, base + height * 0.3)],  # type: ignore[attr-defined]
                         closed=True, facecolor="black", **kw))
    ax.add_patch(Polygon([(x + half, base), (x, top), (x, base + height * 0.3)],  # type: ignore[attr-defined]
                         closed=True, facecolor="white", **kw))
    ax.text(x, top + 0.01, label, transform=ax.transAxes, ha="center", va="bottom",  # type: ignore[attr-defined]
            fontsize=8, zorder=22)


def _points_per_metre(ax: object) -> float:
    """Return how many typographic points one map metre spans once the figure is laid out."""
    ax.apply_aspect()  # type: ignore[attr-defined]
    box = ax.get_position()  # type: ignore[attr-defined]
    fig_w = ax.figure.get_size_inches()[0]  # type: ignore[attr-defined]
    x0, x1 = ax.get_xlim()  # type: ignore[attr-defined]
    return float(box.width * fig_w * 72.0 / (x1 - x0))


def text_width_pt(text: str, size: float) -> float:
    """Return the approximate width of ``text`` at ``size`` points (CJK full width, Latin half)."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.56 for ch in text)


def _chord(geom: object, point: shapely.Point, *, vertical: bool) -> float:
    """Length (m) of the straight piece through ``point`` inside ``geom``, across or up."""
    x0, y0, x1, y1 = geom.bounds  # type: ignore[attr-defined]
    line = (LineString([(point.x, y0 - 1), (point.x, y1 + 1)]) if vertical
            else LineString([(x0 - 1, point.y), (x1 + 1, point.y)]))
    cut = shapely.intersection(geom, line)
    pieces = getattr(cut, "geoms", [cut])
    for piece in pieces:
        if piece.distance(point) < 1e-6:
            return float(piece.length)
    return 0.0


def label_where_fits(ax: object, areas: gpd.GeoDataFrame, names: Iterable[object], *,
                     sizes: tuple[float, ...] = (6.5, 5.0), color: str = "#212529",
                     halo: str | None = HALO) -> list[shapely.Polygon]:
    """Write each area's name at its representative point, in the largest size that fits.

    A name fits when its width fits the area's horizontal chord through the point (with a
    margin) and its height the vertical chord; names that fit in no size are left out.
    Call after the axes' limits are final.

    Returns
    -------
    list of shapely.Polygon
        The box (map coordinates) of each name written.
    """
    from matplotlib import patheffects

    scale = _points_per_metre(ax)
    effects = [patheffects.withStroke(linewidth=1.6, foreground=halo)] if halo else None
    written: list[shapely.Polygon] = []
    for geom, name in zip(areas.geometry, names, strict=True):
        text = str(name)
        if geom is None or geom.is_empty or not text:
            continue
        p = geom.representative_point()
        across = _chord(geom, p, vertical=False) * scale
        up = _chord(geom, p, vertical=True) * scale
        for size in sizes:
            if text_width_pt(text, size) * 1.15 <= across and size * 1.4 <= up:
                ax.annotate(text, (p.x, p.y), ha="center", va="center", fontsize=size,  # type: ignore[attr-defined]
                            color=color, path_effects=effects, zorder=15)
                half_w, half_h = text_width_pt(text, size) / scale / 2, size / scale / 2
                written.append(shapely.box(p.x - half_w, p.y - half_h, p.x + half_w,
                                           p.y + half_h))
                break
    return written


def label_areas_apart(ax: object, areas: gpd.GeoDataFrame, names: Iterable[object], *,
                      avoid: list[shapely.Polygon], size: float = 8.5,
                      color: str = "#212529", steps: int = 24) -> None:
    """Write each area's name inside it where it covers the fewest other labels (``avoid``).

    Candidate positions are a grid over the area; the name goes where its box lies inside
    the area and overlaps the boxes in ``avoid`` least, nearest the area's centre on a tie.
    """
    from matplotlib import patheffects

    scale = _points_per_metre(ax)
    taken = shapely.union_all(avoid) if avoid else shapely.Polygon()
    effects = [patheffects.withStroke(linewidth=2.2, foreground=HALO)]
    for geom, name in zip(areas.geometry, names, strict=True):
        text = str(name)
        if geom is None or geom.is_empty or not text:
            continue
        half_w, half_h = text_width_pt(text, size) / scale / 2, size * 0.7 / scale
        x0, y0, x1, y1 = geom.bounds
        centre = geom.representative_point()
        best: tuple[float, float, float, float] | None = None
        for i in range(steps + 1):
            for j in range(steps + 1):
                x = x0 + (x1 - x0) * i / steps
                y = y0 + (y1 - y0) * j / steps
                box = shapely.box(x - half_w, y - half_h, x + half_w, y + half_h)
                if not geom.contains(box):
                    continue
                score = (box.intersection(taken).area, math.hypot(x - centre.x, y - centre.y))
                if best is None or score < best[:2]:
                    best = (*score, x, y)
        x, y = (best[2], best[3]) if best else (centre.x, centre.y)
        ax.annotate(text, (x, y), ha="center", va="center", fontsize=size,  # type: ignore[attr-defined]
                    color=color, path_effects=effects, zorder=17)


def source_line(*, district: str, plan: str, crs: str, when: datetime, version: str,
                lang: str = "zh", synthetic: bool = False) -> str:
    """Return a figure's source and date line: data, plan, CRS, maker and date.

    Returns
    -------
    str
        E.g. ``数据来源：示范区图层；规划：…；坐标系：CGCS2000 / 3-degree Gauss-Kruger CM 114E
        （EPSG:4547）；制图：cfplan 0.2.0，2026年1月5日``.
    """
    day = (f"{when.year}年{when.month}月{when.day}日" if lang == "zh"
           else when.strftime("%Y-%m-%d"))
    note = Text("（合成数据）", " (synthetic data)").get(lang) if synthetic and not any(
        w in district for w in ("合成", "synthetic")) else ""
    return Text(f"数据来源：{district}图层{note}；规划：{plan}；坐标系：{crs}；制图：cfplan {version}，{day}",
                f"Source: {district} layers{note}; plan: {plan}; CRS: {crs}; made with cfplan "
                f"{version}, {day}").get(lang)


def add_source(fig: object, text: str) -> None:
    """Write the source line under a figure, left-aligned, in small grey type."""
    fig.text(0.01, 0.005, text, ha="left", va="bottom", fontsize=5.5,  # type: ignore[attr-defined]
             color="#495057", wrap=True)


def equal_extent(ax: object, bounds: Iterable[float], *, margin: float = 0.04) -> None:
    """Set a map's limits to ``bounds`` plus a margin, equal aspect, no axes."""
    x0, y0, x1, y1 = bounds
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    pad = max(dx, dy, 1.0)
    ax.set_xlim(x0 - pad, x1 + pad)  # type: ignore[attr-defined]
    ax.set_ylim(y0 - pad * 2.5, y1 + pad)  # type: ignore[attr-defined]  # room for the scale bar
    ax.set_aspect("equal")  # type: ignore[attr-defined]
    ax.set_axis_off()  # type: ignore[attr-defined]
    if not math.isfinite(pad):
        msg = "map bounds are not finite"
        raise ValueError(msg)


__all__ = ["add_source", "equal_extent", "label_areas_apart", "label_where_fits", "north_arrow", "scale_bar",
           "scale_length", "source_line", "text_width_pt"]
