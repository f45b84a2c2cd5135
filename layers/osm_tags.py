"""OSM tag mappings per facility kind, and every feature of interest of an OSM file classed by them.

A facility file in OSM format (``.osm``, ``.osm.xml``, ``.osm.pbf``) is read through
:func:`cfplan.geo.osm_elements.read_osm_elements`. Every element that carries a *tag of
interest* (the first tag of a mapping condition: ``amenity=school``, ``leisure=park``,
``leisure=pitch`` …; see :func:`interest_tags`) is a feature read from the file, and ends one
way: used with its kind, used after a recorded repair (a school classed by its name, a clipped
park kept as its part inside the extract), or rejected with its reason (a school of unknown
level, a pitch not for football, a park with too little inside the extract, a node merged into
the area that maps the same facility). So ``read = used + rejected`` holds for OSM files too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from cfplan.geo.crs import WGS84, choose_metric_crs
from cfplan.geo.osm_elements import read_osm_elements
from cfplan.layers.hidden import READ_NOTES, READ_PROBLEM
from cfplan.layers.kinds import FACILITY_KINDS
from cfplan.layers.text import Text

Condition = dict[str, str | bool]
Mapping = dict[str, list[Condition]]

# kind -> list of tag conditions; a feature matches a kind if all tags of one condition match.
# A value of True means "any value"; a value matches any item of a ";"-separated tag value
# (isced:level=1;2, sport=soccer;basketball). Order matters: the first kind that matches wins.
# The first tag of each condition is its tag of interest (see interest_tags).
OSM_TAGS: Mapping = {
    "kindergarten": [{"amenity": "kindergarten"}],
    "childcare": [{"amenity": "childcare"}],
    "primary_school": [{"amenity": "school", "isced:level": "1"},
                       {"amenity": "school", "school:level": "primary"}],
    "middle_school": [{"amenity": "school", "isced:level": "2"},
                      {"amenity": "school", "school:level": "middle"}],
    "library": [{"amenity": "library"}],
    "park": [{"leisure": "park"}, {"leisure": "garden", "access": "yes"}],
    "play_facility": [{"leisure": "playground"}],
    "football_pitch": [{"leisure": "pitch", "sport": "soccer"}],
    "hospital": [{"amenity": "hospital"}],
    "activity_centre": [{"amenity": "community_centre", "community_centre": "youth_centre"}],
    "mother_baby_room": [{"amenity": "baby_hatch"}, {"changing_table": "yes", "amenity": True}],
}

# Why a feature with a tag of interest matches no kind (appended to the generic reason).
UNMATCHED_WHY: dict[tuple[str, str], Text] = {
    ("amenity", "school"): Text("学段不明", "level unknown"),
    ("leisure", "pitch"): Text("不能确认是足球场", "not known to be a football pitch"),
    ("leisure", "garden"): Text("不能确认对公众开放", "not known to be open to the public"),
    ("amenity", "community_centre"): Text("不是青少年活动中心", "not a youth centre"),
    ("changing_table", "yes"): Text("不在公共设施中", "not in a public amenity"),
}

# A node and an area of the same kind and name this close (m) map one facility: merged;
# with the same wikidata id, up to WIKIDATA_MERGE_M.
MERGE_M = 10.0
WIKIDATA_MERGE_M = 100.0
# A clipped area whose part inside the extract is smaller than this (m²) is a sliver: rejected.
MIN_PART_M2 = 100.0

# The school-name fallback (amenity=school without isced:level / school:level).
_PRIMARY_WORDS = ("小学", "附小")
_MIDDLE_WORDS = ("初级中学", "初中", "中学", "附中")
_BOTH_WORDS = ("九年一贯", "十二年一贯", "中小学")
_SENIOR_WORDS = ("职业高级中学", "高级中学", "职业中学", "职业高中", "高中", "中等专业", "中专",
                 "职业")
_GEOD = pyproj.Geod(ellps="WGS84")


def _anchor(condition: Condition) -> tuple[str, str]:
    key, value = next(iter(condition.items()))
    return key, str(value)


def interest_tags(mapping: Mapping = OSM_TAGS) -> list[tuple[str, str]]:
    """Return the tags of interest: the first ``(key, value)`` of every mapping condition.

    An OSM element that carries one of them is a feature of the facility file: it is
    counted as read, then used or rejected.

    Returns
    -------
    list of tuple
        ``(key, value)`` pairs in mapping order, without repeats.
    """
    return list(dict.fromkeys(_anchor(c) for conds in mapping.values() for c in conds))


def _values(value: object) -> list[str]:
    return [v.strip() for v in str(value).split(";") if v.strip()]


def _matches(split: dict[str, list[str]], condition: Condition) -> bool:
    for key, want in condition.items():
        if key not in split:
            return False
        if want is not True and str(want) not in split[key]:
            return False
    return True


def match_kind(tags: dict[str, str], *, mapping: Mapping = OSM_TAGS) -> str | None:
    """Return the first kind whose conditions ``tags`` meet, or ``None``."""
    split = {k: _values(v) for k, v in tags.items()}
    for kind, conditions in mapping.items():
        if any(_matches(split, c) for c in conditions):
            return kind
    return None


def school_kind_by_name(name: str) -> tuple[str | None, bool]:
    """Class a school by the level its Chinese name says (the fallback for untagged levels).

    The level word nearest the end decides (``XX中学附属小学`` is a primary school);
    ``高级中学``, ``高中``, ``职业``, ``中专`` are no middle school; ``九年一贯制`` and
    ``中小学`` teach both levels and are classed as primary schools.

    Returns
    -------
    tuple
        ``(kind or None, teaches both levels)``.
    """
    if any(w in name for w in _BOTH_WORDS):
        return "primary_school", True
    masked = name
    for word in sorted(_SENIOR_WORDS, key=len, reverse=True):
        masked = masked.replace(word, "□" * len(word))
    primary = max(masked.rfind(w) for w in _PRIMARY_WORDS)
    middle = max(masked.rfind(w) for w in _MIDDLE_WORDS)
    if primary < 0 and middle < 0:
        return None, False
    return ("primary_school" if primary > middle else "middle_school"), False


def _levels(tags: dict[str, str]) -> set[str]:
    isced = set(_values(tags.get("isced:level", "")))
    named = set(_values(tags.get("school:level", "")))
    return ({"1"} if "1" in isced or "primary" in named else set()) | (
        {"2"} if "2" in isced or "middle" in named else set())


@dataclass(frozen=True)
class Classified:
    """What the mapping makes of one OSM element's tags.

    Attributes
    ----------
    kind
        The facility kind, or ``None`` when the element matches no kind.
    field
        The tag at fault (rejections) or repaired (repairs).
    note
        A repair: the documented fallback that classed it.
    problem
        Why it is rejected.
    """

    kind: str | None
    field: str = ""
    note: Text | None = None
    problem: Text | None = None


def _display_name(tags: dict[str, str]) -> str | None:
    for key in ("name:zh", "name"):
        value = str(tags.get(key, "")).strip()
        if value:
            return value
    return None


def _unmatched(tags: dict[str, str], mapping: Mapping) -> Classified:
    """Return why a feature with a tag of interest matches no kind."""
    anchor = next(a for cs in mapping.values() for a in map(_anchor, cs)
                  if a[0] in tags and a[1] in _values(tags[a[0]]))
    key, value = anchor
    conds = [c for cs in mapping.values() for c in cs if _anchor(c) == anchor]
    others = list(dict.fromkeys(k for c in conds for k in c if k != key))
    why = UNMATCHED_WHY.get(anchor, Text("不属于任何类别", "matches no kind"))
    if not others:
        return Classified(None, key, problem=Text(f"{key}={value}：{why.zh}",
                                                  f"{key}={value}: {why.en}"))
    have = [k for k in others if k in tags]
    if not have:
        problem = Text(f"{key}={value} 没有 {' 或 '.join(others)}：{why.zh}",
                       f"{key}={value} without {' or '.join(others)}: {why.en}")
        field = others[0]
    else:
        wanted = {k: list(dict.fromkeys("*" if c[k] is True else str(c[k])
                                        for c in conds if k in c)) for k in others}
        shown = ", ".join(f"{k}={tags[k]}" for k in have)
        listed = "; ".join(f"{k}={'/'.join(v)}" for k, v in wanted.items())
        if anchor == ("amenity", "school"):
            why = Text("该学段既非小学也非初中", "a level that is neither primary nor middle")
        problem = Text(f"{key}={value} 的 {shown} 不对应任何类别（映射：{listed}）：{why.zh}",
                       f"{key}={value} with {shown} matches no kind (mapped: {listed}): "
                       f"{why.en}")
        field = have[0]
    if anchor == ("amenity", "school") and not have:
        problem += Text("；名称也未写明小学、初中或中学",
                        "; its name does not say primary or middle school either")
    return Classified(None, field, problem=problem)


def classify_tags(tags: dict[str, str], *, mapping: Mapping = OSM_TAGS) -> Classified:
    """Class one OSM element by its tags: a kind, a kind by a recorded fallback, or a reason.

    Schools (``amenity=school``) whose tags give no level are classed by their name
    (:func:`school_kind_by_name`) and the fallback is recorded; a school that teaches
    both primary and middle levels (``isced:level=1;2``, ``九年一贯制``) counts as a
    primary school, recorded too.

    Returns
    -------
    Classified
        The kind with any repair note, or ``kind=None`` with the reason.
    """
    kind = match_kind(tags, mapping=mapping)
    school = "school" in _values(tags.get("amenity", ""))
    if kind is not None:
        if school and kind == "primary_school" and _levels(tags) == {"1", "2"}:
            return Classified(kind, "isced:level", note=Text(
                "同时有小学与初中学段，只按小学计；初中部分请在设施表中另列",
                "teaches primary and middle levels: counted as a primary school only; list "
                "its middle school in a facility table to count it"))
        return Classified(kind)
    name = _display_name(tags)
    if school and name and "isced:level" not in tags and "school:level" not in tags:
        by_name, both = school_kind_by_name(name)
        if by_name is not None and by_name in mapping:
            label = FACILITY_KINDS[by_name].zh
            label_en = FACILITY_KINDS[by_name].en.lower()
            note = Text(f"amenity=school 没有 isced:level，按名称「{name}」归为{label}",
                        f"amenity=school without isced:level: classed as a {label_en} by its "
                        f"name {name!r}")
            if both:
                note += Text("（同时有初中学段，只按小学计）",
                             " (it also teaches the middle level, not counted)")
            return Classified(by_name, "name", note=note)
    return _unmatched(tags, mapping)


def _area_m2(geom: object) -> float:
    return abs(_GEOD.geometry_area_perimeter(geom)[0])


def _geometry_outcome(row: dict[str, Any], geom: Any, *, min_part_m2: float
                      ) -> tuple[Any, tuple[str, Text] | None, tuple[str, Text] | None]:
    """Return (geometry, problem, note) for one classified element from its assembly."""
    how = row["assembly"]
    ref = f"{row['element']}/{row['osm_id']}"
    if how == "clipped":
        if row["element"] == "relation":
            held = Text(f"{row['members_in']}/{row['members_all']} 个成员 way 在文件中",
                        f"{row['members_in']} of {row['members_all']} member ways in the file")
        else:
            held = Text(f"{row['nodes_in']}/{row['nodes_all']} 个节点在文件中",
                        f"{row['nodes_in']} of {row['nodes_all']} nodes in the file")
        cut = Text("被数据范围截断（", "clipped by the extract (") + held + Text("）", ")")
        if geom is None and row["element"] == "relation" and not row["members_in"]:
            return None, ("geometry", cut + Text("：成员 way 都不在文件中",
                                                 ": none of its member ways is in the file")), None
        if geom is None:
            return None, ("geometry", cut + Text("：范围内的节点不足以构成面",
                                                 ": too few nodes inside to form an area")), None
        area = _area_m2(geom)
        if area < min_part_m2:
            return None, ("geometry", cut + Text(
                f"：范围内部分仅 {area:.1f} m²，小于 {min_part_m2:.0f} m²，不是可用的面",
                f": the part inside is only {area:.1f} m², under {min_part_m2:.0f} m²: a "
                "sliver, not a usable area")), None
        gaps = int(row["gaps"])
        return geom, None, ("geometry", cut + Text(
            f"：保留范围内部分（{area:.0f} m²），{gaps} 处缺口以直线闭合",
            f": kept the part inside ({area:.0f} m²), its {gaps} gap(s) closed by straight "
            "lines"))
    if how == "line":
        if geom is None:
            return None, None, None
        return geom.representative_point(), None, ("geometry", Text(
            f"{ref} 不是闭合的面，取线上一点作为位置",
            f"{ref} is an open way, not an area: a point on it is used"))
    if how == "invalid" and row["element"] == "relation":
        return None, ("geometry", Text(
            f"多边形关系的环无法组装（{row['members_all']} 个成员 way 都在文件中）：请在 OSM 中修正",
            f"the multipolygon's rings cannot be assembled although all "
            f"{row['members_all']} member ways are in the file: fix it in OSM")), None
    if how == "not_area":
        kind = row["tags"].get("type", "-")
        return None, ("geometry", Text(
            f"关系 type={kind} 不是面（只读取 multipolygon/boundary 关系）",
            f"relation type={kind} is not an area (only multipolygon and boundary relations "
            "are read)")), None
    return geom, None, None


def _names(tags: dict[str, str]) -> set[str]:
    return {str(tags[k]).strip() for k in ("name", "name:zh") if str(tags.get(k, "")).strip()}


def _same(node: dict[str, str], area: dict[str, str], d: float, *, merge_m: float,
          wikidata_m: float) -> Text | None:
    """Why a node and an area of one kind map the same facility, or ``None``."""
    where = Text("点在面内", "the node lies inside it") if d == 0 else Text(
        f"相距 {d:.1f} m", f"{d:.1f} m away")
    wikidata = str(node.get("wikidata", "")).strip()
    if wikidata and wikidata == str(area.get("wikidata", "")).strip() and d <= wikidata_m:
        return Text(f"wikidata 同为 {wikidata}，{where.zh}", f"same wikidata {wikidata}, {where.en}")
    shared = sorted(_names(node) & _names(area))
    if shared and d <= merge_m:
        return Text(f"同名「{shared[0]}」，{where.zh}", f"same name {shared[0]!r}, {where.en}")
    return None


def merge_node_duplicates(frame: gpd.GeoDataFrame, *, merge_m: float = MERGE_M,
                          wikidata_m: float = WIKIDATA_MERGE_M) -> gpd.GeoDataFrame:
    """Mark nodes that map the same facility as an area as merged into it.

    A node and an area (way or relation) of the same kind map one facility when they
    share a name (``name`` or ``name:zh``) and the node lies inside the area or within
    ``merge_m`` metres of it, or when they carry the same ``wikidata`` id and lie within
    ``wikidata_m`` metres (an entity's address node beside its building). The node then
    gets the rejection "merged into area way/…" (the nearest such area) and the facility
    is used once, as the area.

    Parameters
    ----------
    frame
        Classified elements (:func:`facilities_from_osm_file` before merging) in WGS-84 with
        ``element``, ``osm_id``, ``kind``, ``tags`` and the hidden ``_read_problem`` column.
    merge_m, wikidata_m
        Largest node–area distances (m) that still count as the same facility.

    Returns
    -------
    geopandas.GeoDataFrame
        ``frame`` with ``_read_problem`` set on the merged nodes.
    """
    usable = (frame["kind"].notna() & frame[READ_PROBLEM].isna()
              & frame.geometry.notna()).to_numpy()
    polygonal = frame.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    nodes = np.flatnonzero(usable & (frame["element"] == "node").to_numpy())
    areas = np.flatnonzero(usable & polygonal & (frame["element"] != "node").to_numpy())
    if not len(nodes) or not len(areas):
        return frame
    lon, lat = frame.geometry.iloc[nodes].x.mean(), frame.geometry.iloc[nodes].y.mean()
    metric = np.asarray(frame.geometry.to_crs(choose_metric_crs(float(lon), float(lat))).values)
    kinds, tags = frame["kind"].to_numpy(), frame["tags"].to_numpy()
    pairs = shapely.STRtree(metric[areas]).query(metric[nodes], predicate="dwithin",
                                                 distance=max(merge_m, wikidata_m))
    near: dict[int, list[int]] = {}
    for a, b in zip(*pairs, strict=True):
        near.setdefault(int(nodes[a]), []).append(int(areas[b]))
    problems = frame[READ_PROBLEM].copy()
    for i, candidates in sorted(near.items()):
        best: tuple[float, int, Text] | None = None
        for j in sorted(candidates):
            if kinds[j] != kinds[i]:
                continue
            d = float(shapely.distance(metric[i], metric[j]))
            why = _same(tags[i], tags[j], d, merge_m=merge_m, wikidata_m=wikidata_m)
            if why is not None and (best is None or d < best[0]):
                best = (d, j, why)
        if best is None:
            continue
        _, j, why = best
        ref = f"{frame['element'].iloc[j]}/{frame['osm_id'].iloc[j]}"
        problems.iloc[i] = ("geometry", Text(f"与 {ref} 为同一设施（同类，{why.zh}）：已合并到该面",
                                             f"the same facility as {ref} (same kind, {why.en}): "
                                             f"merged into area {ref}"))
    out = frame.copy()
    out[READ_PROBLEM] = problems
    return out


def facilities_from_osm_file(
    path: str | Path, *, mapping: Mapping = OSM_TAGS, merge_m: float = MERGE_M,
    min_part_m2: float = MIN_PART_M2,
) -> gpd.GeoDataFrame:
    """Read every feature of interest of an OSM file (XML or PBF) and class it by the mapping.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.xml`` or ``.osm.pbf``.
    mapping
        Kind -> tag conditions (default :data:`OSM_TAGS`).
    merge_m
        Node–area distance (m) under which a same-name, same-kind node is merged into the
        area (:func:`merge_node_duplicates`).
    min_part_m2
        Smallest part of a clipped area kept (m², geodesic).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per element carrying a tag of interest (nodes, then ways, then relations,
        each by id; a row's number in ``rejected.csv`` is its position here), in WGS-84:
        ``fid`` (``osm-<element>-<id>``), ``name`` (``name:zh``, ``name`` or the kind's
        Chinese name), ``kind`` (NA when rejected), ``status`` (``existing``), geometry,
        ``element``, ``osm_id``, ``tags``, ``assembly`` (see
        :data:`cfplan.geo.osm_elements.ASSEMBLY`), and the hidden columns the validator
        reads: ``_read_problem`` (``(field, reason)`` of a rejected feature) and
        ``_read_notes`` (``(field, what)`` repairs).
    """
    raw = read_osm_elements(path, tags=interest_tags(mapping))
    kinds: list[str | None] = []
    names: list[str | None] = []
    geoms: list[Any] = []
    problems: list[tuple[str, Text] | None] = []
    notes: list[tuple[tuple[str, Text], ...]] = []
    records = pd.DataFrame(raw.drop(columns=raw.geometry.name)).to_dict("records")
    for row, raw_geom in zip(records, raw.geometry.to_numpy(), strict=True):
        got = classify_tags(row["tags"], mapping=mapping)
        kinds.append(got.kind)
        display = _display_name(row["tags"])
        names.append(display or (FACILITY_KINDS[got.kind].zh if got.kind else None))
        row_notes = [(got.field, got.note)] if got.note is not None else []
        if got.kind is None:
            geoms.append(raw_geom)
            problems.append((got.field, got.problem) if got.problem is not None else None)
            notes.append(())
            continue
        geom, problem, note = _geometry_outcome(row, raw_geom, min_part_m2=min_part_m2)
        geoms.append(geom if problem is None else raw_geom)
        problems.append(problem)
        notes.append(tuple(row_notes + ([note] if note else [])))
    fids = [f"osm-{e}-{i}" for e, i in zip(raw["element"], raw["osm_id"], strict=True)]
    frame = gpd.GeoDataFrame(
        {"fid": fids, "name": names, "kind": pd.Series(kinds, dtype=object),
         "status": "existing", "element": raw["element"].to_numpy(),
         "osm_id": raw["osm_id"].to_numpy(), "tags": raw["tags"].to_numpy(),
         "assembly": raw["assembly"].to_numpy(),
         READ_PROBLEM: pd.Series(problems, dtype=object),
         READ_NOTES: pd.Series(notes, dtype=object)},
        geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)
    return merge_node_duplicates(frame, merge_m=merge_m) if len(frame) else frame


__all__ = [
    "MERGE_M",
    "MIN_PART_M2",
    "OSM_TAGS",
    "WIKIDATA_MERGE_M",
    "Classified",
    "classify_tags",
    "facilities_from_osm_file",
    "interest_tags",
    "match_kind",
    "merge_node_duplicates",
    "school_kind_by_name",
]
