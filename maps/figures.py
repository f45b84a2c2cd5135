"""Static report figures (matplotlib, Agg): units by 儿童之家, failing walking targets, bars.

Every figure is drawn with a CJK font found through ``matplotlib.font_manager`` (Debian's
``fonts-noto-cjk`` first) and saved as PNG with no software or date metadata, so the same
assessment gives the same bytes.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from cfplan.analysis.evaluate import Result
from cfplan.analysis.export import unit_flags
from cfplan.analysis.indicators import target_text
from cfplan.analysis.plan import Plan, Target
from cfplan.analysis.selection import target_key
from cfplan.analysis.subdistricts import subdistrict_summary, walk_kinds, walk_label
from cfplan.layers.errors import CfplanError
from cfplan.layers.load import LayerSet
from cfplan.layers.text import Text

# CJK families, most wanted first (Debian fonts-noto-cjk, then other common ones).
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Serif CJK SC",
    "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "AR PL UMing CN",
)
DPI = 110
HOME_COLORS = {"has": "#2f9e44", "planned": "#f59f00", "none": "#e03131"}
_FIXED_META = {"Software": None}


class FontMissingError(CfplanError):
    """No CJK font is installed, so Chinese text cannot be drawn in the figures."""

    def message(self, *, lang: str = "zh") -> str:
        """Return the message in ``lang``."""
        return Text("没有找到中文字体，无法绘制报告插图。Debian/Ubuntu：sudo apt-get install "
                    "fonts-noto-cjk（make test 会自动安装）；其他系统请安装任一中文字体（如 Noto "
                    "Sans CJK SC、思源黑体、文泉驿）。",
                    "No CJK font found, so the report figures cannot be drawn. On Debian/Ubuntu: "
                    "sudo apt-get install fonts-noto-cjk (make test installs it); elsewhere "
                    "install any Chinese font (Noto Sans CJK SC, Source Han Sans, WenQuanYi)."
                    ).get(lang)

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


def cjk_font() -> str:
    """Return the family name of an installed CJK font.

    Looks through matplotlib's font list, then through the system's font files (a font
    installed after matplotlib built its cache is added on the fly).

    Raises
    ------
    FontMissingError
        When no CJK font is installed.
    """
    from matplotlib import font_manager

    def known() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = known()
    for family in CJK_FAMILIES:
        if family in names:
            return family
    hints = ("cjk", "wqy", "sourcehan", "simhei", "msyh", "pingfang", "uming")
    for path in sorted(font_manager.findSystemFonts()):
        if any(h in path.lower().replace("-", "").replace("_", "") for h in hints):
            font_manager.fontManager.addfont(path)
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
                bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)  # type: ignore[arg-type]
    return buf.getvalue()


def _base(ax: object, layers: LayerSet) -> None:
    """Draw the subdistrict outlines and names, a 1 km scale bar, no axes."""
    sd = layers.subdistricts
    if not sd.empty:
        sd.boundary.plot(ax=ax, color="#343a40", linewidth=1.4)
        for geom, name in zip(sd.geometry, sd["name"], strict=True):
            p = geom.representative_point()
            ax.annotate(str(name), (p.x, p.y), ha="center", va="center",  # type: ignore[attr-defined]
                        fontsize=9, fontweight="bold", color="#212529",
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.7,
                              "lw": 0})
    x0, y0, x1, y1 = layers.units.total_bounds
    length = 1000.0 if (x1 - x0) > 3000 else 200.0
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.03
    ax.plot([bx, bx + length], [by, by], color="black", linewidth=3)  # type: ignore[attr-defined]
    ax.annotate(f"{length / 1000:g} km" if length >= 1000 else f"{length:.0f} m",  # type: ignore[attr-defined]
                (bx + length / 2, by), xytext=(0, 4), textcoords="offset points",
                ha="center", fontsize=8)
    ax.set_axis_off()  # type: ignore[attr-defined]
    ax.set_aspect("equal")  # type: ignore[attr-defined]


def children_home_figure(plan: Plan, layers: LayerSet, results: list[Result], *,
                         lang: str = "zh") -> Figure:
    """Return a static map of the units coloured by 儿童之家: has one, planned only, none."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    zh = lang == "zh"
    units = unit_flags(layers, results)
    state = np.where(units["has_children_home"], "has",
                     np.where(units["has_children_home_planned"], "planned", "none"))
    with _style():
        fig, ax = plt.subplots(figsize=(6.6, 6.0))
        units.plot(ax=ax, color=[HOME_COLORS[s] for s in state], edgecolor="white",
                   linewidth=0.6)
        for geom, name in zip(units.geometry, units["name"], strict=True):
            p = geom.representative_point()
            ax.annotate(str(name), (p.x, p.y), ha="center", va="center", fontsize=5.5,
                        color="white")
        _base(ax, layers)
        words = (("已有儿童之家", "仅规划", "没有儿童之家") if zh
                 else ("Children's home", "Planned only", "None"))
        counts = [int((state == k).sum()) for k in HOME_COLORS]
        ax.legend(handles=[Patch(color=c, label=f"{w}（{n}）" if zh else f"{w} ({n})")
                           for c, w, n in zip(HOME_COLORS.values(), words, counts, strict=True)],
                  loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.set_title("各社区/村儿童之家（现状）" if zh else "Children's homes by unit (now)")
        png = _png(fig)
    caption = (f"图：各社区/村儿童之家现状（{plan.district or layers.name}）" if zh
               else "Figure: children's homes by unit, as things stand")
    return Figure("children_home", caption, png)


def access_figure(t: Target, coverage: pd.DataFrame, layers: LayerSet, *, index: int,
                  lang: str = "zh", term: str | None = None) -> Figure:
    """Return a static map of the units coloured by the share of children within reach."""
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    zh = lang == "zh"
    rows = coverage[(coverage["level"] == "unit") & (coverage["kind"] == target_key(t))
                    & (coverage["scenario"] == "current")]
    share = dict(zip(rows["area"], rows["share_children"], strict=True))
    units = layers.units.assign(_share=layers.units["code"].map(share))
    cmap = colormaps["RdYlGn"]
    norm = Normalize(0.0, 1.0)
    with _style():
        fig, ax = plt.subplots(figsize=(6.6, 6.0))
        known = units[units["_share"].notna()]
        if not known.empty:
            known.plot(ax=ax, color=[cmap(norm(v)) for v in known["_share"]],
                       edgecolor="white", linewidth=0.6)
        missing = units[units["_share"].isna()]
        if not missing.empty:
            missing.plot(ax=ax, color="#ced4da", edgecolor="white", linewidth=0.6,
                         hatch="//")
        fac = layers.facilities
        built = fac[fac["kind"].isin(t.kinds) & fac["status"].isin(["existing", "renovated",
                                                                     "new"])]
        if not built.empty:
            pts = built.geometry.representative_point()
            ax.scatter(pts.x, pts.y, s=14, c="#212529", marker="o", zorder=5,
                       label="现有设施" if zh else "Facilities")
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        _base(ax, layers)
        bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6,
                           format=lambda v, _pos: f"{v * 100:.0f}%")
        bar.set_label("半径内儿童占比" if zh else "Share of children within the radius")
        ax.set_title(f"{t.text('title', lang)}\n{target_text(t, lang=lang, term=term)}",
                     fontsize=9)
        png = _png(fig)
    kinds = "+".join(t.kinds)
    caption = (f"图：{t.id} {t.text('title', lang)}：各社区/村半径内儿童占比（现状）" if zh
               else f"Figure: {t.id} {t.text('title', lang)}: share of children within reach, "
               "by unit (now)")
    return Figure(f"access_{index:02d}_{kinds.replace('+', '_')}", caption, png)


def coverage_bars_figure(layers: LayerSet, coverage: pd.DataFrame, *, lang: str = "zh",
                         term: str = "办事处") -> Figure | None:
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
        fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 0.35 * len(summary) * rows
                                                      + 1.2 * rows), squeeze=False)
        names = [str(n) for n in summary["name"]]
        for ax, kind in zip(axes.flat, kinds, strict=False):
            values = summary[f"walk_{kind}"].to_numpy(dtype=float)
            shown = np.nan_to_num(values, nan=0.0)
            ax.barh(range(len(names)), shown * 100, color="#1c7ed6")
            for y, v in enumerate(values):
                ax.text(min(v * 100 if v == v else 0, 100) + 1, y,
                        "—" if v != v else f"{v * 100:.0f}%", va="center", fontsize=7)
            ax.set_yticks(range(len(names)), names, fontsize=7)
            ax.invert_yaxis()
            ax.set_xlim(0, 115)
            ax.axvline(100, color="#868e96", linewidth=0.8, linestyle="--")
            ax.set_title(walk_label(kind, lang=lang), fontsize=9)
            ax.tick_params(axis="x", labelsize=7)
        for ax in list(axes.flat)[len(kinds):]:
            ax.set_axis_off()
        fig.suptitle(f"各{term}步行可达的儿童占比（现状，%）" if zh
                     else "Share of children within walking reach, by subdistrict (now, %)")
        fig.tight_layout()
        png = _png(fig)
    caption = (f"图：各{term}步行可达的儿童占比（现状）" if zh
               else "Figure: share of children within walking reach, by subdistrict (now)")
    return Figure("coverage_by_subdistrict", caption, png)


def report_figures(plan: Plan, layers: LayerSet, results: list[Result], *,
                   coverage: pd.DataFrame | None = None, lang: str = "zh") -> list[Figure]:
    """Return the report's figures.

    The units coloured by 儿童之家 status; for every accessibility target not met as
    things stand, the units coloured by the share of children within reach; and bar
    charts of coverage by 办事处. Without a coverage table only the first.

    Raises
    ------
    FontMissingError
        When no CJK font is installed.
    """
    figures = [children_home_figure(plan, layers, results, lang=lang)]
    if coverage is None or coverage.empty:
        return figures
    failing = [r.target for r in results if r.scenario == "current"
               and r.target.metric == "accessibility" and r.status in ("not_met", "unknown")]
    for i, t in enumerate(failing, start=1):
        figures.append(access_figure(t, coverage, layers, index=i, lang=lang,
                                     term=plan.subdistrict_term))
    bars = coverage_bars_figure(layers, coverage, lang=lang, term=plan.subdistrict_term)
    if bars is not None:
        figures.append(bars)
    return figures


__all__ = ["Figure", "FontMissingError", "cjk_font", "report_figures"]
