"""Load a layer folder: read every file its manifest names, validate, and assemble one LayerSet."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from cfplan.geo.crs import choose_metric_crs, crs_label, in_china
from cfplan.layers import checks, outline
from cfplan.layers.accounting import (
    ReadCount,
    Rejection,
    Repair,
    accounting_table,
    dedupe_across_files,
    reject_rows,
)
from cfplan.layers.coords import centre_of, out_of_range, swapped_hint, to_wgs84_frame
from cfplan.layers.errors import InputError
from cfplan.layers.kinds import SCHOOL_KINDS
from cfplan.layers.manifest import MANIFEST_NAME, LayerSpec, Manifest, read_manifest
from cfplan.layers.readers import read_layer_file
from cfplan.layers.references import reject_unknown_references
from cfplan.layers.schema import SCHEMAS
from cfplan.layers.text import Text
from cfplan.layers.validate import validate_features


@dataclass
class LayerSet:
    """All layers of a district, normalised, in one metric CRS.

    Every GeoDataFrame is in :attr:`crs` (metres). Facilities of every kind share one
    frame with a ``kind`` column. ``accounting`` holds one row per input file with
    read = used + rejected. ``school_districts`` (学区 polygons) and ``gates`` (校门 points),
    each with the ``school`` they belong to, are optional (empty when not given);
    ``route_rules`` is the manifest's ``[routes]`` table.
    """

    name: str
    name_en: str
    crs: pyproj.CRS
    district: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    entrances: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    school_routes: gpd.GeoDataFrame
    streets: Path | None
    indicators: Path | None
    synthetic: bool
    accounting: pd.DataFrame
    rejected: list[Rejection]
    repairs: list[Repair]
    warnings: list[Text]
    in_china: bool = True
    datums: dict[str, str] = field(default_factory=dict)
    candidates: gpd.GeoDataFrame = field(default_factory=gpd.GeoDataFrame)
    """Candidate sites of ``[layers.candidates]`` (候选地块/候选点) with ``fid``, ``name``,
    ``kind`` (None: any kind), ``capacity``, ``unit`` (code of the unit holding it, or None);
    empty when the manifest names none (siting then generates candidates)."""
    school_districts: gpd.GeoDataFrame | None = None
    gates: gpd.GeoDataFrame | None = None
    route_rules: dict[str, object] = field(default_factory=dict)
    folder: Path | None = None
    """The layer folder the set was loaded from (``None`` when built in memory)."""

    @property
    def manifest_file(self) -> Path:
        """The manifest the set was loaded from (``layers.toml`` when built in memory)."""
        return self.folder / MANIFEST_NAME if self.folder is not None else Path(MANIFEST_NAME)

    @property
    def crs_label(self) -> str:
        """The analysis CRS as ``EPSG:4547 CGCS2000 / 3-degree Gauss-Kruger CM 114E``."""
        return crs_label(self.crs)


@dataclass(frozen=True)
class LoadEvidence:
    """What a load got through before a fatal error: written beside the error message."""

    accounting: pd.DataFrame
    rejected: list[Rejection]


def _empty(layer: str, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    schema = SCHEMAS[layer]
    cols = [f.name for f in schema.fields] + ["_file", "_row"]
    return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _reject_out_of_range(gdf: gpd.GeoDataFrame, layer: str,
                         rejected: list[Rejection]) -> gpd.GeoDataFrame:
    if gdf.empty:
        return gdf
    mask, reasons = out_of_range(gdf)
    return reject_rows(gdf, mask, layer, "geometry", reasons, rejected)


def _read_all(manifest: Manifest, state: _State) -> list[tuple[LayerSpec, gpd.GeoDataFrame]]:
    """Read, convert to WGS-84 and validate every file of the manifest."""
    out = []
    for spec in manifest.specs:
        frame = read_layer_file(spec, warnings=state.warnings)
        state.counts.append(ReadCount(spec.layer, spec.path.name, len(frame),
                                      crs=crs_label(frame.crs) or "lon/lat",
                                      datum=spec.datum_key))
        if len(frame) == 0:
            state.warnings.append(Text(f"{spec.path.name}：文件中没有要素",
                                       f"{spec.path.name}: the file has no features"))
        state.datums[spec.path.name] = spec.datum_key
        wgs = to_wgs84_frame(frame, spec, warnings=state.warnings, repairs=state.repairs)
        gdf = validate_features(wgs, spec, SCHEMAS[spec.layer], rejected=state.rejected,
                                repairs=state.repairs)
        out.append((spec, _reject_out_of_range(gdf, spec.layer, state.rejected)))
        state.passed.append(out[-1])
    if manifest.boundary is not None:  # [district] boundary = "cnmaps": the official outline
        spec, gdf = outline.district_from_outline(manifest)
        state.counts.append(ReadCount(spec.layer, spec.path.name, len(gdf),
                                      crs=crs_label(gdf.crs), datum="wgs84"))
        state.datums[spec.path.name] = "wgs84"
        out.append((spec, gdf))
    return out


@dataclass
class _State:
    """Everything a load accumulates, kept so that a fatal error can still report it."""

    counts: list[ReadCount] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    warnings: list[Text] = field(default_factory=list)
    datums: dict[str, str] = field(default_factory=dict)
    used: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    passed: list[tuple[LayerSpec, gpd.GeoDataFrame]] = field(default_factory=list)

    def evidence(self, error: InputError) -> LoadEvidence:
        """Return what the load got through before ``error``, read = used + rejected per file.

        Features that passed validation count as used; the features of a file the error
        stopped before validating are rejected with the error as their reason.
        """
        used = self.used or {layer: pd.concat([g for s, g in self.passed if s.layer == layer])
                             for layer in dict.fromkeys(s.layer for s, _ in self.passed)}
        rejected = list(self.rejected)
        for count in self.counts:
            frame = used.get(count.layer)
            done = set() if frame is None or frame.empty else set(
                frame.loc[frame["_file"] == count.file, "_row"].astype(int))
            done |= {r.row for r in rejected if r.layer == count.layer and r.file == count.file}
            rejected += [Rejection(count.layer, count.file, row, "-", error.field or "-",
                                   Text("整个文件未能使用：", "the whole file was refused: ")
                                   + error.problem)
                         for row in range(1, count.read + 1) if row not in done]
        return LoadEvidence(accounting_table(self.counts, used, rejected, self.repairs),
                            rejected)


def load_layers(folder: str | Path) -> LayerSet:
    """Load, convert and validate every layer named in ``folder/layers.toml``.

    Parameters
    ----------
    folder
        A layer folder with a manifest.

    Returns
    -------
    LayerSet
        All layers in one metric CRS chosen from the data (CGCS2000 3-degree Gauss-Krüger
        in China, UTM elsewhere), with the accounting table, rejections, repairs and
        warnings (each in Chinese and English).

    Raises
    ------
    InputError
        On a fatal problem: see docs/bad-input.md. A bad manifest; a missing, empty,
        truncated or unreadable file; a missing required column; a CRS that the
        coordinates contradict; no usable units; overlapping units. Its ``evidence``
        holds the rejections and accounting of what was read before it.
    """
    manifest = read_manifest(folder)
    state = _State(warnings=list(manifest.warnings))
    try:
        return _load(manifest, state)
    except InputError as exc:
        exc.evidence = state.evidence(exc)
        raise


def _load(manifest: Manifest, state: _State) -> LayerSet:
    validated = _read_all(manifest, state)
    rejected, warnings = state.rejected, state.warnings
    unit_files = [str(s.path) for s in manifest.specs if s.layer == "units"]
    units_wgs = pd.concat([g for s, g in validated if s.layer == "units"])
    state.used = {layer: pd.concat([g for s, g in validated if s.layer == layer])
                  for layer in dict.fromkeys(s.layer for s, _ in validated)}  # evidence
    if units_wgs.empty:
        raise InputError(
            ", ".join(unit_files), Text("没有可用的社区/村要素", "no usable units"),
            Text("查看 rejected.csv 中的原因", "see the reasons in rejected.csv"),
        )
    lon, lat = centre_of(units_wgs)
    crs = choose_metric_crs(lon, lat)
    china = bool(in_china(lon, lat))

    by_layer: dict[str, list[gpd.GeoDataFrame]] = {}
    for spec, gdf in validated:
        by_layer.setdefault(spec.layer, []).append(gdf.to_crs(crs))

    def combined(layer: str) -> gpd.GeoDataFrame:
        frames = by_layer.get(layer)
        if not frames:
            return _empty(layer, crs)
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                                crs=crs)

    units = dedupe_across_files(combined("units"), "units", "code", rejected)
    district = combined("district")
    district_given = not district.empty
    if not district_given:
        district = gpd.GeoDataFrame(
            {"name": [manifest.name], "code": [None], "_file": ["(units)"], "_row": [0]},
            geometry=[shapely.union_all(np.asarray(units.geometry.values))], crs=crs,
        )
        warnings.append(Text("未提供区界，以社区/村的并集代替",
                             "no district layer; using the union of the units"))
    boundary = shapely.union_all(np.asarray(district.geometry.values))

    def clip_margin(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
        if gdf.empty:
            return gdf
        dist = gdf.geometry.distance(boundary).to_numpy()
        mask = dist > manifest.margin_m
        hint = swapped_hint(gdf.geometry[mask].representative_point(), boundary,
                            manifest.margin_m)
        reasons = []
        for d, swapped in zip(dist[mask], hint, strict=True):
            reason = Text(f"距区界 {d:.0f} m，超出容差 {manifest.margin_m:.0f} m",
                          f"{d:.0f} m outside the district, beyond the "
                          f"{manifest.margin_m:.0f} m margin")
            if swapped:
                reason += Text("；经纬度互换后在区内，请检查经度/纬度列",
                               "; with lon and lat swapped it would lie inside: check the "
                               "lon/lat columns")
            reasons.append(reason)
        out = reject_rows(gdf, mask, layer, "geometry", reasons, rejected)
        for file in sorted(set(gdf["_file"])):
            if mask[(gdf["_file"] == file).to_numpy()].all():
                warnings.append(checks.outside_layer_warning(layer, file,
                                                             margin_m=manifest.margin_m))
        return out

    units = clip_margin(units, "units")
    state.used["units"] = units
    if units.empty:
        raise InputError(
            ", ".join(unit_files), Text("所有社区/村都在区界之外",
                                        "every unit lies outside the district"),
            Text("检查社区/村图层与区界图层的坐标系", "check the CRS of the units and the district"),
            field="geometry",
        )
    subdistricts = clip_margin(dedupe_across_files(combined("subdistricts"), "subdistricts",
                                                   "code", rejected), "subdistricts")
    if not subdistricts.empty:
        subdistricts["subdistrict_type"] = subdistricts["subdistrict_type"].fillna("office")
    units = _assign_subdistricts(units, subdistricts, rejected, warnings)
    state.used.update(units=units, subdistricts=subdistricts)
    _check_overlaps(units, {s.path.name: s.path for s in manifest.specs})
    warnings.extend(checks.zero_population_warnings(units))
    if district_given:
        gap = checks.unit_gap_warning(units, district)
        if gap:
            warnings.append(gap)

    facilities = clip_margin(combined("facilities"), "facilities")
    facilities = _finish_facilities(facilities, units, rejected, warnings)
    entrances = reject_unknown_references(clip_margin(combined("entrances"), "entrances"),
                                          "entrances", "facility", facilities, rejected)
    candidates = _finish_candidates(clip_margin(combined("candidates"), "candidates"), units)
    official = outline.official_outline(manifest) if china else None
    if official is not None:
        warnings.extend(outline.outline_warnings(
            {"district": district if district_given else district.iloc[:0],
             "subdistricts": subdistricts, "units": units}, official, crs=crs,
            datums=state.datums))
    used = {"units": units, "subdistricts": subdistricts, "facilities": facilities,
            "entrances": entrances, "district": district, "buildings": combined("buildings"),
            "school_routes": combined("school_routes"), "candidates": candidates,
            "school_districts": reject_unknown_references(
                combined("school_districts"), "school_districts", "school", facilities, rejected,
                kinds=SCHOOL_KINDS),
            "gates": reject_unknown_references(clip_margin(combined("gates"), "gates"), "gates",
                                               "school", facilities, rejected,
                                               kinds=SCHOOL_KINDS)}
    state.used = used
    return LayerSet(
        name=manifest.name, name_en=manifest.name_en, crs=crs, district=district,
        subdistricts=subdistricts.sort_values("code", ignore_index=True),
        units=units.sort_values("code", ignore_index=True), facilities=facilities,
        entrances=entrances, buildings=used["buildings"], school_routes=used["school_routes"],
        streets=manifest.streets, indicators=manifest.indicators, synthetic=manifest.synthetic,
        accounting=accounting_table(state.counts, used, rejected, state.repairs),
        rejected=rejected, repairs=state.repairs, warnings=warnings, in_china=china,
        datums=state.datums, candidates=candidates, school_districts=used["school_districts"],
        gates=used["gates"], route_rules=dict(manifest.route_rules), folder=manifest.folder,
    )


def _assign_subdistricts(
    units: gpd.GeoDataFrame, subdistricts: gpd.GeoDataFrame, rejected: list[Rejection],
    warnings: list[Text],
) -> gpd.GeoDataFrame:
    """Check each unit's subdistrict code, or find the subdistrict polygon that holds it."""
    units = units.copy()
    if subdistricts.empty:
        if units["subdistrict"].isna().any():
            warnings.append(Text("没有办事处/镇图层，部分社区/村未归属办事处/镇",
                                 "no subdistrict layer, and some units name no subdistrict"))
        return units
    codes = set(subdistricts["code"])
    known = units["subdistrict"].isna() | units["subdistrict"].isin(codes)
    bad = ~known.to_numpy()
    reasons = [Text(f"所属办事处「{v}」不在办事处图层中",
                    f"subdistrict code {v!r} is not in the subdistrict layer")
               for v in units.loc[bad, "subdistrict"]]
    units = reject_rows(units, bad, "units", "subdistrict", reasons, rejected)
    missing = units["subdistrict"].isna().to_numpy()
    if missing.any():
        pts = gpd.GeoDataFrame(geometry=units.geometry[missing].representative_point(),
                               crs=units.crs)
        joined = gpd.sjoin(pts, subdistricts[["code", "geometry"]], predicate="within", how="left")
        joined = joined[~joined.index.duplicated(keep="first")]
        units.loc[missing, "subdistrict"] = joined["code"].to_numpy()
        lost = units["subdistrict"].isna()
        for _, row in units.loc[lost].iterrows():
            warnings.append(Text(f"{row['code']} {row['name']}：不在任何办事处/镇内",
                                 f"{row['code']} {row['name']}: in no subdistrict"))
    return units


def _check_overlaps(
    units: gpd.GeoDataFrame, paths: dict[str, Path], *, tolerance: float = 0.01
) -> None:
    """Raise on units that overlap by more than ``tolerance`` of the smaller one's area."""
    geoms = np.asarray(units.geometry.values)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    for i, j in zip(left[keep], right[keep], strict=True):
        inter = shapely.intersection(geoms[i], geoms[j]).area
        small = min(geoms[i].area, geoms[j].area)
        if small > 0 and inter / small > tolerance:
            a, b = units.iloc[i], units.iloc[j]
            raise InputError(
                str(paths.get(str(a["_file"]), a["_file"])),
                Text(f"社区/村「{a['code']} {a['name']}」与「{b['code']} {b['name']}」重叠 "
                     f"{inter:.0f} m²（占较小者 {inter / small:.0%}）",
                     f"units {a['code']} {a['name']} and {b['code']} {b['name']} overlap by "
                     f"{inter:.0f} m² ({inter / small:.0%} of the smaller)"),
                Text("修正边界，使社区/村互不重叠", "fix the boundaries so that units do not overlap"),
                row=int(a["_row"]), feature=str(a["code"]), field="geometry",
            )


def _finish_facilities(
    facilities: gpd.GeoDataFrame, units: gpd.GeoDataFrame, rejected: list[Rejection],
    warnings: list[Text],
) -> gpd.GeoDataFrame:
    """Fill defaults, generate ids, and assign each facility to a unit.

    A facility inside the district margin but in no unit is kept (it counts for
    district totals and walking access) with ``in_unit`` False, and warned about.
    """
    fac = facilities.copy()
    if fac.empty:
        fac["unit"] = pd.Series(dtype=object)
        fac["in_unit"] = pd.Series(dtype=bool)
        return fac
    fac["works"] = fac["works"].fillna("new")
    stems = fac["_file"].map(lambda f: Path(str(f)).stem)
    generated = stems + "-" + fac["_row"].astype(int).astype(str).str.zfill(4)
    fac["fid"] = fac["fid"].where(fac["fid"].notna(), generated)
    fac = dedupe_across_files(fac, "facilities", "fid", rejected)
    codes = set(units["code"])
    bad = (fac["unit_code"].notna() & ~fac["unit_code"].isin(codes)).to_numpy()
    reasons = [Text(f"社区编码「{v}」不存在", f"unit code {v!r} does not exist")
               for v in fac.loc[bad, "unit_code"]]
    fac = reject_rows(fac, bad, "facilities", "unit_code", reasons, rejected)
    fac["unit"] = fac["unit_code"]
    need = fac["unit"].isna().to_numpy()
    if need.any():
        pts = gpd.GeoDataFrame(geometry=fac.geometry[need].representative_point(), crs=fac.crs)
        ordered = units[["code", "geometry"]].sort_values("code")
        # Within 1 cm of a boundary counts as on it: a border facility goes to the
        # smaller unit code, whatever rounding the coordinates went through.
        joined = gpd.sjoin(pts, ordered, predicate="dwithin", distance=0.01, how="left")
        joined = joined.sort_values("code").groupby(level=0)["code"].first()
        fac.loc[need, "unit"] = joined.reindex(fac.index[need]).to_numpy()
    fac["in_unit"] = fac["unit"].notna()
    loose = fac.loc[~fac["in_unit"]]
    for file, group in loose.groupby("_file", sort=True):
        warnings.append(checks.loose_facility_warning(str(file), sorted(map(str, group["fid"]))))
    fac["year"] = fac["year"].astype("Int64")
    fac["capacity"] = fac["capacity"].astype(float)
    return fac.sort_values("fid", ignore_index=True)


def _finish_candidates(candidates: gpd.GeoDataFrame, units: gpd.GeoDataFrame
                       ) -> gpd.GeoDataFrame:
    """Give candidates an id (file stem and row where none) and the unit holding each.

    A candidate on a unit boundary goes to the smaller unit code, as facilities do.
    """
    cand = candidates.copy()
    if cand.empty:
        cand["unit"] = pd.Series(dtype=object)
        return cand
    stems = cand["_file"].map(lambda f: Path(str(f)).stem)
    generated = stems + "-" + cand["_row"].astype(int).astype(str).str.zfill(4)
    cand["fid"] = cand["fid"].where(cand["fid"].notna(), generated)
    pts = gpd.GeoDataFrame(geometry=cand.geometry.representative_point(), crs=cand.crs)
    ordered = units[["code", "geometry"]].sort_values("code")
    joined = gpd.sjoin(pts, ordered, predicate="dwithin", distance=0.01, how="left")
    joined = joined.sort_values("code").groupby(level=0)["code"].first()
    cand["unit"] = joined.reindex(cand.index).to_numpy()
    cand["capacity"] = cand["capacity"].astype(float)
    return cand.reset_index(drop=True)


def subdistrict_label(code: str, subdistricts: gpd.GeoDataFrame) -> str:
    """Return the subdistrict's name for ``code`` (or the code if unknown)."""
    match = subdistricts.loc[subdistricts["code"] == code, "name"]
    return str(match.iloc[0]) if len(match) else str(code)


__all__ = ["LayerSet", "LoadEvidence", "load_layers", "subdistrict_label"]
