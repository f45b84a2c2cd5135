"""The base of the bad-input corpus: the demo's files cut to four units, and their writers.

Every case of ``make_bad.py`` and ``bad_cases_files.py`` starts from :func:`base` (district,
four units, eight facilities) and breaks one thing.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import mapping, shape

from cfplan.geo.io import write_xlsx

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "cfplan" / "demo_data"
OUT = Path(__file__).resolve().parent / "bad"
UNIT_CODES = ("U01", "U02", "U07", "U08")  # the 2 x 2 cells in the south-west corner
N_FACILITIES = 8



@dataclass(frozen=True)
class Special:
    """A path of a case that is not a regular file: ``fifo``, ``folder`` or ``loop`` (a link
    to itself). Git stores none of them: :func:`make_specials` makes them where they are
    missing (``tests/data/.gitignore`` keeps them out of the repository)."""

    kind: str


FIFO, FOLDER, LOOP = Special("fifo"), Special("folder"), Special("loop")
Files = dict[str, bytes | Special]


def make_special(path: Path, special: Special) -> None:
    """Make ``path`` the special file ``special`` unless it already is."""
    if special.kind == "loop":
        if not path.is_symlink():
            os.symlink(path.name, path)
    elif special.kind == "folder":
        path.mkdir(exist_ok=True)
    elif not path.exists():
        os.mkfifo(path)

# --------------------------------------------------------------------------- base data


def demo_features(name: str) -> list[dict]:
    return json.loads((DEMO / name).read_text(encoding="utf-8"))["features"]


def base_units() -> list[dict]:
    """The four demo units U01, U02, U07, U08 as GeoJSON features (Chinese field names)."""
    return [copy.deepcopy(f) for f in demo_features("units.geojson")
            if f["properties"]["编码"] in UNIT_CODES]


def base_district() -> dict:
    """The union of the four base units as one district feature."""
    union = shapely.union_all([shape(f["geometry"]) for f in base_units()])
    union = shapely.set_precision(union, 1e-7)
    return {"type": "Feature", "properties": {"名称": "坏数据示例区", "编码": "BAD"},
            "geometry": mapping(union)}


def base_facilities() -> list[dict]:
    """The first few demo point facilities inside the base units, by id."""
    area = shapely.union_all([shape(f["geometry"]) for f in base_units()])
    inside = [copy.deepcopy(f) for f in demo_features("facilities.geojson")
              if area.contains(shape(f["geometry"]))]
    return sorted(inside, key=lambda f: f["properties"]["编号"])[:N_FACILITIES]


def base_childcare() -> list[dict[str, str]]:
    """Demo childcare rows (GCJ-02 经度/纬度) that fall in the base units."""
    text = (DEMO / "childcare.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    return [r for r in rows if r["编号"] in {"TY01", "TY02", "TY07", "TY08"}]


def geojson(features: list[dict], name: str = "layer") -> bytes:
    """Return a FeatureCollection, one feature per line, UTF-8, no ASCII escapes."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    text = ('{"type":"FeatureCollection","name":' + json.dumps(name) + ',"features":[\n'
            + ",\n".join(lines) + "\n]}\n")
    return text.encode("utf-8")


def csv_bytes(rows: list[dict[str, object]], *, encoding: str = "utf-8-sig") -> bytes:
    """Return rows as CSV text with a header (BOM by default, as Excel writes)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def _toml_value(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def manifest(
    *,
    layers: dict[str, dict[str, object]] | None = None,
    facilities: list[dict[str, object]] | None = None,
    margin_m: float = 500,
    extra: str = "",
) -> bytes:
    """Return a layers.toml: the base district and units unless ``layers`` says otherwise."""
    layers = ({"district": {"file": "district.geojson"}, "units": {"file": "units.geojson"}}
              if layers is None else layers)
    facilities = [{"file": "facilities.geojson"}] if facilities is None else facilities
    out = ["# Bad-input case written by tests/data/make_bad.py (synthetic data).",
           "[district]", 'name = "坏数据示例区"', 'name_en = "Bad-input example"',
           "synthetic = true", f"margin_m = {margin_m}", ""]
    for layer, table in layers.items():
        out.append(f"[layers.{layer}]")
        out += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        out.append("")
    for table in facilities:
        out.append("[[facilities]]")
        out += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        out.append("")
    return ("\n".join(out) + extra).encode("utf-8")


def base(**changes: bytes) -> Files:
    """The base folder (district, four units, eight facilities) with files replaced."""
    files: Files = {
        "layers.toml": manifest(),
        "district.geojson": geojson([base_district()], "district"),
        "units.geojson": geojson(base_units(), "units"),
        "facilities.geojson": geojson(base_facilities(), "facilities"),
    }
    files.update({k.replace("__", "."): v for k, v in changes.items()})
    return files


def with_units(edit: Callable[[list[dict]], None]) -> Files:
    """The base folder with the units edited in place by ``edit``."""
    units = base_units()
    edit(units)
    return base(units__geojson=geojson(units, "units"))


def with_facilities(edit: Callable[[list[dict]], None]) -> Files:
    """The base folder with the facilities edited in place by ``edit``."""
    facilities = base_facilities()
    edit(facilities)
    return base(facilities__geojson=geojson(facilities, "facilities"))


def point(lon: float, lat: float) -> dict:
    """A GeoJSON point geometry."""
    return {"type": "Point", "coordinates": [lon, lat]}


def facility(fid: str, kind: str, geometry: dict | None, **props: object) -> dict:
    """A facility feature with Chinese field names."""
    properties = {"编号": fid, "名称": f"测试{fid}", "类别": kind, "状态": "现状", "年份": 2022}
    properties.update(props)
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def shift(geometry: dict, dlon: float, dlat: float) -> dict:
    moved = shapely.affinity.translate(shape(geometry), dlon, dlat)
    return mapping(shapely.set_precision(moved, 1e-7))


def centre(feature: dict) -> tuple[float, float]:
    p = shape(feature["geometry"]).representative_point()
    return round(p.x, 7), round(p.y, 7)


def set_props(index: int, **props: object) -> Callable[[list[dict]], None]:
    def edit(features: list[dict]) -> None:
        features[index]["properties"].update(props)

    return edit


def append_features(*features: dict) -> Callable[[list[dict]], None]:
    def edit(existing: list[dict]) -> None:
        existing.extend(features)

    return edit


# --------------------------------------------------------------------------- shapefiles & xlsx


def _fix_dbf_date(data: bytes) -> bytes:
    """Set a dBASE header's last-update date to 2024-01-01 so the bytes are reproducible."""
    return data[:1] + bytes([124, 1, 1]) + data[4:]


def shapefile(gdf: gpd.GeoDataFrame, stem: str, *, encoding: str, keep: tuple[str, ...]) -> Files:
    """Write ``gdf`` as a Shapefile and return the parts named in ``keep`` (by suffix)."""
    tmp = OUT.parent / ".tmp_shp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        pyogrio.write_dataframe(gdf, tmp / f"{stem}.shp", encoding=encoding)
        files = {}
        for suffix in keep:
            data = (tmp / f"{stem}{suffix}").read_bytes()
            files[f"{stem}{suffix}"] = _fix_dbf_date(data) if suffix == ".dbf" else data
        return files
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# The corpus's workbooks carry a fixed date, so that make_bad.py gives the same bytes any day.
XLSX_DATE = datetime(2000, 1, 1, tzinfo=UTC)


def xlsx_bytes(rows: list[dict[str, object]]) -> bytes:
    """Return a one-sheet workbook (fixed metadata, so the bytes are reproducible)."""
    tmp = OUT.parent / ".tmp_xlsx"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        return write_xlsx({"托育机构": pd.DataFrame(rows)}, tmp / "t.xlsx",
                          when=XLSX_DATE).read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


SHP_FIELDS = {"编码": "CODE", "名称": "NAME", "类型": "TYPE", "人口": "POP", "编号": "ID",
              "类别": "KIND", "状态": "STATUS", "年份": "YEAR"}


def shp_frame(features: list[dict], crs: str | None) -> gpd.GeoDataFrame:
    """Features as a frame with short ASCII field names (a DBF name holds 10 bytes)."""
    records = [{SHP_FIELDS[k]: v for k, v in f["properties"].items() if k in SHP_FIELDS}
               for f in features]
    return gpd.GeoDataFrame(records, geometry=[shape(f["geometry"]) for f in features],
                            crs=crs)


def units_frame(crs: str) -> gpd.GeoDataFrame:
    return shp_frame(base_units(), "EPSG:4326").to_crs(crs)


def plan_case(target: str) -> Files:
    head = ('[plan]\nid = "bad"\nname = "坏规划"\nperiod = [2024, 2025]\n\n'
            "[[targets]]\n"
            'id = "T1"\ndomain = "公共服务友好"\nitem = "1"\ntitle = "测试"\n'
            'wording = "测试目标"\nyear = 2025\n')
    return {"plan.toml": (head + target).encode("utf-8")}
