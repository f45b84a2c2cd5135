"""User-facing text in Chinese (default) and English."""

from __future__ import annotations

LANGS = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # loading
    "err.read": ("无法读取文件 {file}：{problem}。{fix}", "cannot read {file}: {problem}. {fix}"),
    "err.feature": (
        "{file} 第 {row} 条要素（{feature}）字段「{field}」：{problem}。{fix}",
        "{file}, feature {row} ({feature}), field '{field}': {problem}. {fix}",
    ),
    "err.layer": ("{file}：{problem}。{fix}", "{file}: {problem}. {fix}"),
    "err.manifest": ("图层清单 {file}：{problem}。{fix}", "layer manifest {file}: {problem}. {fix}"),
    "err.plan": ("规划文件 {file} 第 {line} 行：{problem}", "plan file {file}, line {line}: {problem}"),
    # progress
    "progress.load": ("读取图层", "Loading layers"),
    "progress.layer": (
        "  {layer:<14} {file:<28} 读取 {read:>4}  采用 {used:>4}  修复 {repaired:>3}  剔除 {rejected:>3}",
        "  {layer:<14} {file:<28} read {read:>4}  used {used:>4}  repaired {repaired:>3}  rejected {rejected:>3}",
    ),
    "progress.streets": ("读取路网 {file}", "Loading street network {file}"),
    "progress.evaluate": ("评估规划目标：{plan}", "Evaluating plan targets: {plan}"),
    "progress.access": ("计算步行可达性", "Computing walking accessibility"),
    "progress.map": ("绘制交互地图", "Drawing the interactive map"),
    "progress.export": ("导出 GeoJSON 与报告", "Exporting GeoJSON and reports"),
    "progress.done": ("完成，输出在 {out}", "Done; output in {out}"),
    "progress.summary": (
        "目标 {total} 项：达成 {met}，未达成 {not_met}，未知 {unknown}，未评估 {not_assessed}",
        "{total} targets: {met} met, {not_met} not met, {unknown} unknown, {not_assessed} not assessed",
    ),
    "warn": ("警告", "Warning"),
    "warn.components": (
        "路网有 {n} 个与主网不连通的片段（{nodes} 个节点，{length:.0f} m），已舍弃",
        "{n} street pieces not connected to the main network were dropped "
        "({nodes} nodes, {length:.0f} m)",
    ),
    "warn.far_points": (
        "{n} 个需求点距最近道路超过 200 m（仍计入，步行距离含接入段）",
        "{n} demand points are more than 200 m from any street (still counted, with the walk "
        "to the street)",
    ),
    # statuses
    "status.met": ("达成", "met"),
    "status.not_met": ("未达成", "not met"),
    "status.unknown": ("未知", "unknown"),
    "status.not_assessed": ("未评估", "not assessed"),
    "scenario.current": ("现状", "as things stand"),
    "scenario.planned": ("规划完成后", "once planned projects are done"),
}


def t(key: str, *, lang: str = "zh", **values: object) -> str:
    """Return the message ``key`` in ``lang``, formatted with ``values``.

    Unknown keys return the key itself, so a missing translation is visible, not fatal.
    """
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[0] if lang != "en" else pair[1]
    return text.format(**values) if values else text
