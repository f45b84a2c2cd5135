"""The siting trade-off chart: coverage reached with k = 1..K new sites, the target as a line."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cfplan.layers.kinds import kind_label
from cfplan.maps.cartography import add_source
from cfplan.maps.figures import MAP_WIDTH_IN, Figure, Source, _png, _style

__all__ = ["tradeoff_figure"]


def tradeoff_figure(tradeoff: pd.DataFrame, *, lang: str = "zh",
                    source: Source | None = None) -> Figure | None:
    """Return the trade-off chart (PNG): one panel per siting run.

    Each panel shows the share of children (or residents) within the walking radius with
    ``k`` new sites (line), the marginal gain of each site (bars, right axis), the plan's
    target share as a dashed line when it has one, and the number of sites proposed as a
    dotted vertical line.

    Parameters
    ----------
    tradeoff
        :attr:`cfplan.analysis.siting.plan_sites.SitingPlan.tradeoff`.
    lang
        ``"zh"`` or ``"en"``.
    source
        The source and date line under the chart (:func:`cfplan.maps.figures.figure_source`).

    Returns
    -------
    Figure or None
        ``tradeoff`` figure; None when the table is empty.
    """
    import matplotlib.pyplot as plt

    if tradeoff is None or tradeoff.empty:
        return None
    zh = lang == "zh"
    runs = list(dict.fromkeys(tradeoff["run"]))
    cols = min(3, len(runs))
    rows = math.ceil(len(runs) / cols)
    with _style():
        fig, axes = plt.subplots(rows, cols, figsize=(MAP_WIDTH_IN, 2.3 * rows + 0.5),
                                 squeeze=False)
        for ax, run in zip(axes.flat, runs, strict=False):
            t = tradeoff[tradeoff["run"] == run]
            k = t["k"].to_numpy(int)
            share = t["share"].to_numpy(float) * 100
            twin = ax.twinx()
            twin.bar(k, t["marginal_gain"].to_numpy(float), color="#a5d8ff", width=0.6,
                     zorder=1)
            twin.tick_params(axis="y", labelsize=6, colors="#1971c2")
            ax.set_zorder(twin.get_zorder() + 1)
            ax.patch.set_visible(False)
            ax.plot(k, share, marker="o", markersize=3, color="#c92a2a", zorder=3)
            goal = float(t["target_share"].iloc[0])
            if np.isfinite(goal):
                ax.axhline(goal * 100, color="#2b8a3e", linestyle="--", linewidth=1)
                ax.annotate(("目标" if zh else "target") + f" {goal:.0%}", (k[0], goal * 100),
                            xytext=(2, -10), textcoords="offset points", fontsize=7,
                            color="#2b8a3e")
            proposed = int(t["proposed"].iloc[0])
            if proposed <= k.max():
                ax.axvline(proposed, color="#495057", linestyle=":", linewidth=1)
            kind = str(t["kind"].iloc[0])
            label = kind_label(kind, lang=lang)
            if "targets" in t.columns and str(t["targets"].iloc[0]):
                ids = str(t["targets"].iloc[0])
                label += f"（{ids}）" if zh else f" ({ids})"
            ax.set_title(f"{label} · {t['radius_m'].iloc[0]:.0f} m", fontsize=7.5)
            ax.set_xlabel("新建数量 k" if zh else "new sites k", fontsize=6.5)
            ax.set_ylabel("覆盖率 %" if zh else "covered %", fontsize=6.5)
            ax.tick_params(axis="both", labelsize=6)
            ax.set_xticks(k if len(k) <= 12 else k[:: math.ceil(len(k) / 10)])
        for ax in list(axes.flat)[len(runs):]:
            ax.set_axis_off()
        fig.suptitle("新建设施数量与步行覆盖率（柱：每处新增覆盖）" if zh
                     else "New sites and walking coverage (bars: what each site adds)",
                     fontsize=9)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        if source is not None:
            add_source(fig, source.line(lang))
        png = _png(fig)
    caption = ("新建设施数量与步行可达覆盖率的权衡" if zh
               else "Trade-off between new sites and walking coverage")
    return Figure("tradeoff", caption, png)
