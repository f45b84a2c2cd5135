"""Static report figures (matplotlib, Agg): units by 儿童之家, failing walking targets, bars.

Every figure is drawn with Noto Sans CJK SC from the ``noto-cjk-sans-otc`` package (a
dependency: no system font is needed) and saved as PNG at 300 dpi with no software or date
metadata, so the same assessment gives the same bytes on any machine.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from cfplan.analysis.evaluate import Result
from cfplan.analysis.export import unit_flags
from cfplan.analysis.indicators import target_text
from cfplan.analysis.plan import Plan, Target
from cfplan.analysis.selection import target_key
from cfplan.analysis.subdistricts import subdistrict_summary, walk_kinds, walk_label
from cfplan.geo.io import package_version, run_date
from cfplan.layers.errors import CfplanError
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text
from cfplan.maps.cartography import (
    add_source,
    equal_extent,
    label_areas_apart,
    label_where_fits,
    north_arrow,
    scale_bar,
    source_line,
)

# The packaged font: the Simplified Chinese face of the Noto Sans CJK collection, registered
# under a name of its own so that a system copy of the same family is never taken instead.
PACKAGED_FACE = "Noto Sans CJK SC"
PACKAGED_FAMILY = "cfplan Noto Sans CJK SC"
# CJK families of a system, most wanted first: used only when the package is missing.
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Serif CJK SC",
    "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "AR PL UMing CN",
)
DPI = 300
# Print size of a map: the text width of an A4 page under GB/T 9704 (210 - 28 - 26 mm).
MAP_WIDTH_IN = 6.1
MAP_HEIGHT_IN = 6.4
HOME_COLORS = {"has": "#2f9e44", "planned": "#f59f00", "none": "#e03131"}
_FIXED_META = {"Software": None}


class FontMissingError(CfplanError):
    """No CJK font is installed, so Chinese text cannot be drawn in the figures."""

    def message(self, *, lang: str = "zh") -> str:
        """Return the message in ``lang``."""
        return Text("没有找到中文字体，无法绘制报告插图。cfplan 的字体随依赖包 noto-cjk-sans-otc "
                    "安装：pip install noto-cjk-sans-otc（或重新安装 cfplan）；也可安装任一系统中文字体"
                    "（如 Noto Sans CJK SC、思源黑体、文泉驿）。",
                    "No CJK font found, so the report figures cannot be drawn. cfplan's font "
                    "comes with its dependency noto-cjk-sans-otc: pip install noto-cjk-sans-otc "
                    "(or reinstall cfplan); any system Chinese font (Noto Sans CJK SC, Source "
                    "Han Sans, WenQuanYi) also works.").get(lang)

    def __str__(self) -> str:
        return self.message(lang="zh")


@dataclass(frozen=True)
class Figure:
    """One report figure.

    Attributes
    ----------
    name
        File stem (ASCII), e.g. ``children_home`` or ``access_05_park``.
    caption
        Caption in the report language.
    png
        The PNG bytes.
    """

    name: str
    caption: str
    png: bytes


def packaged_font() -> Path | None:
    """Return the font collection of the ``noto-cjk-sans-otc`` package (None: not installed)."""
    try:
        import noto_cjk_sans_otc
    except ImportError:
        return None
    path = Path(str(noto_cjk_sans_otc.FONT_PATH))
    return path if path.is_file() else None


_REGISTERING = threading.Lock()


def _register_packaged(path: Path) -> None:
    """Add the SC face of the packaged collection to matplotlib as :data:`PACKAGED_FAMILY`."""
    import dataclasses

    from matplotlib import font_manager, ft2font

    manager = font_manager.fontManager
    with _REGISTERING:
        if any(f.name == PACKAGED_FAMILY for f in manager.ttflist):
            return
        first = ft2font.FT2Font(str(path))
        for index in range(first.num_faces):
            face = ft2font.FT2Font(str(path), face_index=index) if index else first
            if face.family_name == PACKAGED_FACE:
                entry = font_manager.ttfFontProperty(face)
                manager.ttflist.append(dataclasses.replace(entry, name=PACKAGED_FAMILY))
                return
        msg = f"{path} holds no {PACKAGED_FACE} face"
        raise FontMissingError(msg)


def cjk_font() -> str:
    """Return the family name the figures draw Chinese with.

    The packaged Noto Sans CJK SC (``noto-cjk-sans-otc``, a dependency) whenever it is
    installed, so that every machine draws the same glyphs; else an installed system
    CJK font, looked up through matplotlib's font list, then the system's font files.

    Raises
    ------
    FontMissingError
        When neither the package nor a system CJK font is there.
    """
    from matplotlib import font_manager

    path = packaged_font()
    if path is not None:
        _register_packaged(path)
        return PACKAGED_FAMILY

    def known() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = known()
    for family in CJK_FAMILIES:
        if family in names:
            return family
    hints = ("cjk", "wqy", "sourcehan", "simhei", "msyh", "pingfang", "uming")
    for system in sorted(font_manager.findSystemFonts()):
        if any(h in system.lower().replace("-", "").replace("_", "") for h in hints):
            font_manager.fontManager.addfont(system)
    names = known()
    for family in CJK_FAMILIES:
        if family in names:
            return family
    extra = sorted(n for n in names if "CJK" in n or "Hei" in n)
    if extra:
        return extra[0]
    raise FontMissingError


# pyplot and rcParams are process-global: districts assessed in threads (cfplan batch) must
# not draw at once, or one figure is laid out with another's settings.
_DRAWING = threading.RLock()


@contextmanager
def _style() -> Iterator[None]:
    """Draw under matplotlib's defaults plus cfplan's font and sizes, one figure at a time."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    defaults = {k: v for k, v in matplotlib.rcParamsDefault.items() if k != "backend"}
    with _DRAWING, plt.rc_context(cast(Any, defaults)), plt.rc_context(
            {"font.family": [cjk_font()], "axes.unicode_minus": False, "font.size": 9,
             "figure.dpi": DPI}):
        yield


def _png(fig: object) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata=_FIXED_META,  # type: ignore[attr-defined]
                bbox_inches="tight", pad_inches=0.08)
    plt.close(fig)  # type: ignore[arg-type]
    return buf.getvalue()


@dataclass(frozen=True)
class Source:
    """What a figure's source line says (:func:`cfplan.maps.cartography.source_line`)."""

    district: str
    plan: str
    crs: str
    when: datetime
    synthetic: bool = False

    def line(self, lang: str) -> str:
        """Return the line in ``lang``."""
        return source_line(district=self.district, plan=self.plan, crs=self.crs,
                           when=self.when, version=package_version(), lang=lang,
                           synthetic=self.synthetic)


def figure_source(plan: Plan, layers: LayerSet, *, lang: str = "zh",
                  when: datetime | None = None) -> Source:
    """Return the source of a district's figures: its layers, the plan, the CRS, the run's date."""
    zh = lang == "zh"
    return Source(layers.name if zh else layers.name_en, plan.name if zh else plan.name_en,
                  layers.crs_label, when or run_date(), layers.synthetic)


def _map_axes(layers: LayerSet) -> tuple[Any, Any]:
    """Return a print-width figure and its map axes, framed on the units."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(MAP_WIDTH_IN, MAP_HEIGHT_IN))
    ax = fig.add_axes((0.02, 0.17, 0.96, 0.76))
    equal_extent(ax, layers.units.total_bounds)
    return fig, ax


def _furniture(fig: object, ax: object, layers: LayerSet, source: Source, lang: str, *,
               labels: list[object]) -> None:
    """Draw the subdistrict outlines and names (clear of ``labels``), north arrow, scale bar, source."""
    sd = layers.subdistricts
    if not sd.empty:
        sd.boundary.plot(ax=ax, color="#343a40", linewidth=1.2)
        label_areas_apart(ax, sd, sd["name"], avoid=labels)
    north_arrow(ax, label="北" if lang == "zh" else "N")
    scale_bar(ax)
    add_source(fig, source.line(lang))


def _legend_below(ax: object, handles: list[object], title: str | None = None) -> None:
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),  # type: ignore[attr-defined]
              ncol=min(3, len(handles)), frameon=False, fontsize=7, title=title,
              title_fontsize=7)


def children_home_figure(plan: Plan, layers: LayerSet, results: list[Result], *,
                         lang: str = "zh", source: Source | None = None) -> Figure:
    """Return a print map of the units coloured by 儿童之家: has one, planned only, none.

    A4 text width, 300 dpi: unit names where they fit, subdistricts, legend with counts,
    north arrow, metric scale bar and the source and date line.
    """
    from matplotlib.patches import Patch

    zh = lang == "zh"
    source = source or figure_source(plan, layers, lang=lang)
    units = unit_flags(layers, results)
    state = np.where(units["has_children_home"], "has",
                     np.where(units["has_children_home_planned"], "planned", "none"))
    with _style():
        fig, ax = _map_axes(layers)
        units.plot(ax=ax, color=[HOME_COLORS[s] for s in state], edgecolor="white",
                   linewidth=0.6)
        names = label_where_fits(ax, units, units["name"], color="white", halo="#343a40")
        _furniture(fig, ax, layers, source, lang, labels=list(names))
        words = (("已有儿童之家", "仅规划", "没有儿童之家") if zh
                 else ("Children's home", "Planned only", "None"))
        counts = [int((state == k).sum()) for k in HOME_COLORS]
        _legend_below(ax, [Patch(color=c, label=f"{w}（{n}）" if zh else f"{w} ({n})")
                           for c, w, n in zip(HOME_COLORS.values(), words, counts, strict=True)])
        ax.set_title("各社区/村儿童之家（现状）" if zh else "Children's homes by unit (now)",
                     fontsize=10)
        png = _png(fig)
    caption = (f"各社区/村儿童之家现状（{layers.name}）" if zh
               else "Children's homes by unit, as things stand")
    return Figure("children_home", caption, png)


def access_figure(t: Target, coverage: pd.DataFrame, layers: LayerSet, *, index: int,
                  source: Source, lang: str = "zh", term: str | None = None) -> Figure:
    """Return a print map of the units coloured by the share of children within reach."""
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    zh = lang == "zh"
    rows = coverage[(coverage["level"] == "unit") & (coverage["kind"] == target_key(t))
                    & (coverage["scenario"] == "current")]
    share = dict(zip(rows["area"], rows["share_children"], strict=True))
    units = layers.units.assign(_share=layers.units["code"].map(share))
    cmap = colormaps["RdYlGn"]
    norm = Normalize(0.0, 1.0)
    with _style():
        fig, ax = _map_axes(layers)
        known = units[units["_share"].notna()]
        if not known.empty:
            known.plot(ax=ax, color=[cmap(norm(v)) for v in known["_share"]],
                       edgecolor="white", linewidth=0.6)
        missing = units[units["_share"].isna()]
        handles: list[object] = []
        if not missing.empty:
            missing.plot(ax=ax, color="#ced4da", edgecolor="white", linewidth=0.6,
                         hatch="//")
            handles.append(Patch(facecolor="#ced4da", hatch="//",
                                 label="无数据" if zh else "No data"))
        fac = layers.facilities
        built = fac[fac["kind"].isin(t.kinds) & fac["status"].isin(["existing", "renovated",
                                                                     "new"])]
        if not built.empty:
            pts = built.geometry.representative_point()
            ax.scatter(pts.x, pts.y, s=12, c="#212529", marker="o", zorder=16,
                       edgecolors="white", linewidths=0.4)
            handles.append(Line2D([], [], marker="o", linestyle="", color="#212529",
                                  markersize=4, label="现有设施" if zh else "Facilities"))
        names = label_where_fits(ax, units, units["name"])
        _furniture(fig, ax, layers, source, lang, labels=list(names))
        bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap),
                           cax=ax.inset_axes((0.55, -0.05, 0.4, 0.022)),
                           orientation="horizontal", format=lambda v, _pos: f"{v * 100:.0f}%")
        bar.ax.tick_params(labelsize=6)
        bar.set_label("半径内儿童占比（现状）" if zh else "Share of children within the radius (now)",
                      fontsize=7)
        if handles:
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.065),
                      frameon=False, fontsize=7, ncol=len(handles))
        ax.set_title(f"{t.text('title', lang)}\n{target_text(t, lang=lang, term=term)}",
                     fontsize=9)
        png = _png(fig)
    kinds = "+".join(t.kinds)
    caption = (f"{t.id} {t.text('title', lang)}：各社区/村半径内儿童占比（现状）" if zh
               else f"{t.id} {t.text('title', lang)}: share of children within reach, "
               "by unit (now)")
    return Figure(f"access_{index:02d}_{kinds.replace('+', '_')}", caption, png)


def coverage_bars_figure(layers: LayerSet, coverage: pd.DataFrame, *, lang: str = "zh",
                         term: str = "办事处", source: Source | None = None) -> Figure | None:
    """Return bar charts of the share of children within reach, by 办事处, one per kind."""
    import matplotlib.pyplot as plt

    zh = lang == "zh"
    kinds = walk_kinds(coverage)
    summary = subdistrict_summary(layers, coverage)
    if not kinds or summary.empty:
        return None
    cols = min(3, len(kinds))
    rows = math.ceil(len(kinds) / cols)
    with _style():
        fig, axes = plt.subplots(rows, cols, figsize=(MAP_WIDTH_IN, 0.22 * len(summary) * rows
                                                      + 1.0 * rows + 0.4), squeeze=False)
        names = [str(n) for n in summary["name"]]
        for ax, kind in zip(axes.flat, kinds, strict=False):
            values = summary[f"walk_{kind}"].to_numpy(dtype=float)
            shown = np.nan_to_num(values, nan=0.0)
            ax.barh(range(len(names)), shown * 100, color="#1c7ed6")
            for y, v in enumerate(values):
                ax.text(min(v * 100 if v == v else 0, 100) + 1, y,
                        "—" if v != v else f"{v * 100:.0f}%", va="center", fontsize=6)
            ax.set_yticks(range(len(names)), names, fontsize=6.5)
            ax.invert_yaxis()
            ax.set_xlim(0, 118)
            ax.axvline(100, color="#868e96", linewidth=0.8, linestyle="--")
            ax.set_title(walk_label(kind, lang=lang), fontsize=7.5)
            ax.tick_params(axis="x", labelsize=6)
        for ax in list(axes.flat)[len(kinds):]:
            ax.set_axis_off()
        fig.suptitle(f"各{term}步行可达的儿童占比（现状，%）" if zh
                     else "Share of children within walking reach, by subdistrict (now, %)",
                     fontsize=9)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        if source is not None:
            add_source(fig, source.line(lang))
        png = _png(fig)
    caption = (f"各{term}步行可达的儿童占比（现状）" if zh
               else "Share of children within walking reach, by subdistrict (now)")
    return Figure("coverage_by_subdistrict", caption, png)


FigureBuilder = Callable[[], "Figure | None"]


def figure_builders(plan: Plan, layers: LayerSet, results: list[Result], *,
                    coverage: pd.DataFrame | None = None, lang: str = "zh",
                    source: Source | None = None) -> list[tuple[str, FigureBuilder]]:
    """Return the report's figures as (what, draw) pairs, nothing drawn yet.

    The units coloured by 儿童之家 status; for every accessibility target not met as
    things stand, the units coloured by the share of children within reach; and bar
    charts of coverage by 办事处. Without a coverage table only the first.
    """
    source = source or figure_source(plan, layers, lang=lang)
    zh = lang == "zh"
    builders: list[tuple[str, FigureBuilder]] = [
        ("各社区/村儿童之家" if zh else "children's homes by unit",
         partial(children_home_figure, plan, layers, results, lang=lang, source=source))]
    if coverage is None or coverage.empty:
        return builders
    failing = [r.target for r in results if r.scenario == "current"
               and r.target.metric == "accessibility" and r.status in ("not_met", "unknown")]
    for i, t in enumerate(failing, start=1):
        builders.append((f"{t.id} {t.text('title', lang)}",
                         partial(access_figure, t, coverage, layers, index=i, lang=lang,
                                 term=plan.subdistrict_term, source=source)))
    builders.append((f"各{plan.subdistrict_term}步行可达" if zh else "coverage by subdistrict",
                     partial(coverage_bars_figure, layers, coverage, lang=lang,
                             term=plan.subdistrict_term, source=source)))
    return builders


def draw_figures(builders: Sequence[tuple[str, FigureBuilder]], *, lang: str = "zh"
                 ) -> tuple[list[Figure], list[Text]]:
    """Draw each figure; one that cannot be drawn becomes a warning, the others go on.

    Returns
    -------
    tuple
        The figures drawn, and one warning (zh and en) per figure that failed, naming it
        and why.
    """
    figures: list[Figure] = []
    warnings: list[Text] = []
    for what, build in builders:
        try:
            figure = build()
        except Exception as exc:  # a figure never stops the other outputs
            reason = exc.message(lang=lang) if isinstance(exc, CfplanError) else (
                f"{type(exc).__name__}: {exc}")
            warnings.append(Text(f"插图「{what}」无法绘制，已略去：{reason}",
                                 f"figure '{what}' could not be drawn and was left out: "
                                 f"{reason}"))
            continue
        if figure is not None:
            figures.append(figure)
    return figures, warnings


def report_figures(plan: Plan, layers: LayerSet, results: list[Result], *,
                   coverage: pd.DataFrame | None = None, lang: str = "zh") -> list[Figure]:
    """Return the report's figures (:func:`figure_builders`), raising on the first failure.

    Raises
    ------
    FontMissingError
        When no CJK font is installed.
    """
    return [f for _, build in figure_builders(plan, layers, results, coverage=coverage,
                                              lang=lang) if (f := build()) is not None]


__all__ = ["Figure", "FontMissingError", "Source", "cjk_font", "draw_figures", "figure_builders",
           "figure_source", "report_figures"]
