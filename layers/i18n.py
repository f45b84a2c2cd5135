"""The catalogue of user-facing messages, each in Chinese (default) and English."""

from __future__ import annotations

from cfplan.layers.text import Text

MESSAGES: dict[str, Text] = {
    # loading
    "err.feature": Text("{file} 第 {row} 条要素（{feature}）字段「{field}」：{problem}。{fix}",
                        "{file}, feature {row} ({feature}), field '{field}': {problem}. {fix}"),
    "err.layer": Text("{file}：{problem}。{fix}", "{file}: {problem}. {fix}"),
    "err.input": Text("输入错误", "Input error"),
    "err.file": Text("文件错误", "File error"),
    "err.partial": Text("输出目录保持上一次运行的结果，未作改动；本次运行未完成的文件（含已读取部分的剔除与核算）在 {partial}",
                        "the output folder keeps the previous run's outputs, untouched; this "
                        "run's unfinished files (with the rejections and accounting of what "
                        "was read) are in {partial}"),
    # progress
    "progress.load": Text("读取图层", "Loading layers"),
    "progress.layer": Text(
        "  {layer:<16} {file:<28} 读取 {read:>4}  采用 {used:>4}  修复 {repaired:>3}  剔除 {rejected:>3}"
        "  {crs}（{datum}）",
        "  {layer:<16} {file:<28} read {read:>4}  used {used:>4}  repaired {repaired:>3}  "
        "rejected {rejected:>3}  {crs} ({datum})"),
    "progress.crs": Text("分析坐标系：EPSG:{epsg} {name}", "Analysis CRS: EPSG:{epsg} {name}"),
    "progress.streets": Text("读取路网 {file}", "Loading street network {file}"),
    "progress.evaluate": Text("评估规划目标：{plan}", "Evaluating plan targets: {plan}"),
    "progress.access": Text("计算步行可达性", "Computing walking accessibility"),
    "progress.routes": Text("分析上下学路径", "Analysing the routes to school"),
    "progress.map": Text("绘制交互地图", "Drawing the interactive map"),
    "progress.export": Text("导出 GeoJSON 与报告", "Exporting GeoJSON and reports"),
    "progress.done": Text("完成，输出在 {out}", "Done; output in {out}"),
    "progress.summary": Text(
        "目标 {total} 项：达成 {met}，未达成 {not_met}，未知 {unknown}，未评估 {not_assessed}",
        "{total} targets: {met} met, {not_met} not met, {unknown} unknown, {not_assessed} "
        "not assessed"),
    "progress.outputs": Text("输出文件：", "Output files:"),
    "warn": Text("警告", "Warning"),
    "warn.components": Text(
        "路网有 {n} 个与主网不连通的片段（{nodes} 个节点，{length:.0f} m），已舍弃",
        "{n} street pieces not connected to the main network were dropped "
        "({nodes} nodes, {length:.0f} m)"),
    "warn.far_points": Text(
        "{n} 个需求点距最近道路超过 200 m（仍计入，步行距离含接入段）",
        "{n} demand points are more than 200 m from any street (still counted, with the walk "
        "to the street)"),
    # batch (cfplan batch: many districts)
    "batch.start": Text("批量运行 {n} 个区县，输出在 {out}", "Running {n} districts; output in {out}"),
    "batch.done": Text("完成，现状达成 {met}/{total} 项（{seconds} s）",
                       "done, {met}/{total} targets met now ({seconds} s)"),
    "batch.skipped": Text("输入未变，跳过（现状达成 {met}/{total} 项）",
                          "inputs unchanged, skipped ({met}/{total} targets met now)"),
    "batch.failed": Text("失败：{error}", "failed: {error}"),
    "batch.summary": Text("区县成功 {ok} 个，失败 {failed} 个，其中 {skipped} 个因输入未变而跳过；"
                          "城市汇总在 {out}",
                          "{ok} districts ok, {failed} failed; {skipped} of them skipped as "
                          "unchanged; city summary in {out}"),
    # statuses
    "status.met": Text("达成", "met"),
    "status.not_met": Text("未达成", "not met"),
    "status.unknown": Text("未知", "unknown"),
    "status.not_assessed": Text("未评估", "not assessed"),
    "status.partly_met": Text("部分达成", "partly met"),
    "scenario.current": Text("现状", "as things stand"),
    "scenario.planned": Text("规划完成后", "once planned projects are done"),
}


def msg(key: str, **values: object) -> Text:
    """Return the message ``key`` in both languages, formatted with ``values``.

    Raises
    ------
    KeyError
        For an unknown key: every message must be in the catalogue, in both languages.
    """
    text = MESSAGES[key]
    if not values:
        return text
    return Text(text.zh.format(**values), text.en.format(**values))


def t(key: str, *, lang: str = "zh", **values: object) -> str:
    """Return the message ``key`` in ``lang``, formatted with ``values``."""
    return msg(key, **values).get(lang)


__all__ = ["MESSAGES", "msg", "t"]
