"""Fuzz the input path: the demo's files broken at random load, validate and evaluate cleanly.

Hypothesis takes a small layer folder cut from the demo (its district, four units, eight
facilities, the AMap 托育 table, the GBK 办事处 Shapefile, 校门, 学区 and park entrances, a
plan with a target of every metric and an indicators file) and breaks one file: bytes
flipped, inserted or deleted, the file cut off, re-encoded, a field or a geometry replaced
by junk, a TOML line replaced, dropped or repeated. Whatever it does, :func:`cfplan.validate`
and the evaluation either succeed, with ``read = used + rejected`` for every file, or stop
with a :class:`cfplan.CfplanError`; no other exception. A second test does the same to the
street network (OSM XML and PBF) and an OSM facility file.

Every example is written to its own folder; the found cases are kept as ``@example``.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cfplan.analysis.evaluate import evaluate_plan
from cfplan.inputs import validate
from cfplan.layers.errors import CfplanError
from cfplan.layers.load import load_layers
from cfplan.layers.streets import load_street_network

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))
import bad_base  # noqa: E402
import make_bad  # noqa: E402

# More examples for a longer search: CFPLAN_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz_inputs.py
EXAMPLES = int(os.environ.get("CFPLAN_FUZZ_EXAMPLES", "320"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
FUZZ_STREETS = settings(max_examples=max(40, EXAMPLES // 8), deadline=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ------------------------------------------------------------------------------ the folder

PLAN = DATA / "fuzz_plan.toml"  # a target of every metric

INDICATORS = ("plan,id,indicator,value,year,source,note\n"
              "fuzz,1,work_mechanism,是,2024,合成数据,\n"
              "fuzz,2,vaccination_rate,91%,2024,合成数据,\n"
              "fuzz,24b,route_safety,否,2024,合成数据,\n")

SUBDISTRICTS = ("subdistricts.shp", "subdistricts.shx", "subdistricts.dbf", "subdistricts.prj")


def _manifest(extra: dict[str, dict[str, object]]) -> bytes:
    layers = {"district": {"file": "district.geojson"}, "units": {"file": "units.geojson"},
              **extra}
    facilities = [{"file": "facilities.geojson"},
                  {"file": "childcare.csv", "kind": "childcare", "datum": "gcj02"}]
    return bad_base.manifest(layers=layers, facilities=facilities, margin_m=6000,
                             extra='[indicators]\nfile = "indicators.csv"\n')


def variants_names(variant: str) -> list[str]:
    """The file names of one folder to break."""
    return sorted(variants()[variant])


@cache
def variants() -> dict[str, dict[str, bytes]]:
    """The folders to break: the core files, and the core with each optional layer."""
    core = {**bad_base.base(), "childcare.csv": bad_base.csv_bytes(bad_base.base_childcare()),
            "plan.toml": PLAN.read_bytes(), "indicators.csv": INDICATORS.encode("utf-8-sig")}
    core["layers.toml"] = _manifest({})
    refs = make_bad.bad_cases_files.case_unknown_references()
    references = {**core, "facilities.geojson": refs["facilities.geojson"]}
    for name, key, good in (("gates.geojson", "学校编号", "P01"),
                            ("school_districts.geojson", "学校编号", "P01"),
                            ("entrances.geojson", "设施编号", "PK01")):
        layer = json.loads(refs[name])  # the case's references to unknown facilities left out
        layer["features"] = [f for f in layer["features"] if f["properties"][key] == good]
        references[name] = json.dumps(layer, ensure_ascii=False).encode("utf-8")
    references["layers.toml"] = _manifest({"gates": {"file": "gates.geojson"},
                                           "school_districts": {"file": "school_districts.geojson"},
                                           "entrances": {"file": "entrances.geojson"}})
    shp = {**core, **{n: (bad_base.DEMO / n).read_bytes() for n in SUBDISTRICTS}}
    shp["layers.toml"] = _manifest({"subdistricts": {"file": "subdistricts.shp",
                                                     "encoding": "GBK"}})
    xlsx = dict(core)
    xlsx["childcare.xlsx"] = bad_base.xlsx_bytes(
        [{**r, "托位": int(r["托位"])} for r in bad_base.base_childcare()])
    del xlsx["childcare.csv"]
    xlsx["layers.toml"] = core["layers.toml"].replace(b"childcare.csv", b"childcare.xlsx")
    out = {"core": core, "references": references, "shapefile": shp, "xlsx": xlsx}
    for files in out.values():
        assert all(isinstance(v, bytes) for v in files.values())
    return out  # type: ignore[return-value]


# ------------------------------------------------------------------------------ junk

JUNK_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["NaN", "nan", "inf", "-inf", "1e308", "-1", "0", "１２３", "0.8万", "是", "否",
                     "幼儿园", "小学", "公园", "托育机构", "现状", "规划", "社区", "村", "U01", "CH01",
                     "P01", "PK01", "S1", "\x1b[31m红\x1b[0m", "a\x00b", "\x07", "\ud800x", "=1+1",
                     "{{7*7}}", "../x", "", " ", "2025", "x" * 300, "1,2", '"', "\n"]),
)
JUNK_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True), JUNK_TEXT,
    st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                              max_size=2),
)
COORD = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
    [113.81, 34.69, 0.0, 1e308, -200.0]), st.floats(113.79, 113.83), st.floats(34.68, 34.71))
JUNK_GEOMETRY = st.one_of(
    st.none(), JUNK_VALUE,
    st.builds(lambda t, c: {"type": t, "coordinates": c},
              st.sampled_from(["Point", "LineString", "Polygon", "MultiPolygon", "MultiPoint",
                               "GeometryCollection", "Pointy"]),
              st.recursive(COORD, lambda inner: st.lists(inner, max_size=5), max_leaves=12)),
)
TOML_JUNK = st.sampled_from([
    "inf", "nan", "-inf", "-1", "0", "1e308", "99999999999999999999", '""', '"x"', "[]",
    '[1, "a"]', "{}", "{ a = 1 }", "true", "1979-05-27", '"\\u001b[31m"', '"\\u0000"',
    '"../../x"', '"layers.toml"', '"units.geojson"', '"plan.toml"', "[[1]]", '"GBK"',
    '"EPSG:4547"', '"gcj02"', '"facilities"', '"park"', '"same_as"', '"at_most"', "[2025]",
    "[2026, 2023]", "0.5", "2035", "1.5", '["29", "29"]', '["x"]',
])


# ------------------------------------------------------------------------------ mutations


class Junk:
    """The junk one example puts into a file: a value, a geometry, a TOML literal, a cell."""

    def __init__(self, value: object, geometry: object, toml: str, text: str) -> None:
        self.value, self.geometry, self.toml, self.text = value, geometry, toml, text


def _bytes_ops(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not buf:
            break
        pos, value = rng.randrange(len(buf)), rng.randrange(256)
        op = rng.choice(["flip", "insert", "delete", "set"])
        if op == "flip":
            buf[pos] ^= 1 << (value % 8)
        elif op == "insert":
            buf.insert(pos, value)
        elif op == "delete":
            del buf[pos]
        else:
            buf[pos] = value
    return bytes(buf)


def _reencode(data: bytes, rng: random.Random) -> bytes:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _bytes_ops(data, rng)
    codec = rng.choice(["gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
                        "utf-8-sig", "big5", "latin-1", "shift_jis"])
    return text.encode(codec, errors="replace")


def _json_edit(data: bytes, rng: random.Random, junk: Junk) -> bytes:
    doc = json.loads(data.decode("utf-8"))
    features = doc.get("features") or []
    if not features:
        return _bytes_ops(data, rng)
    index = rng.randrange(len(features))
    feature = features[index]
    props = feature.setdefault("properties", {})
    what = rng.choice(["property", "property", "delete", "geometry", "geometry", "feature",
                       "rename"])
    if what == "property" or (what in ("delete", "rename") and not props):
        props[rng.choice([*props, "extra", "名称", "编号", "人口", "类别"])] = junk.value
    elif what == "delete":
        props.pop(rng.choice(sorted(props)))
    elif what == "rename":
        props[junk.text] = props.pop(rng.choice(sorted(props)))
    elif what == "geometry":
        feature["geometry"] = junk.geometry
    else:
        features[index] = junk.value
    return json.dumps(doc, ensure_ascii=rng.random() < 0.5, allow_nan=True).encode(
        "utf-8", errors="surrogatepass")


def _csv_edit(data: bytes, rng: random.Random, junk: Junk) -> bytes:
    lines = data.decode("utf-8-sig").split("\n")
    row = rng.randrange(len(lines))
    cells = lines[row].split(",")
    col = rng.randrange(len(cells))
    what = rng.choice(["cell", "cell", "extra", "drop", "line"])
    if what == "cell":
        cells[col] = junk.text
    elif what == "extra":
        cells.insert(col, junk.text)
    elif what == "drop":
        del cells[col]
    if what == "line":
        lines.insert(row, junk.text)
    else:
        lines[row] = ",".join(cells)
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


def _toml_edit(data: bytes, rng: random.Random, junk: Junk) -> bytes:
    lines = data.decode("utf-8").split("\n")
    row = rng.randrange(len(lines))
    what = rng.choice(["value", "value", "value", "drop", "repeat", "insert"])
    line = lines[row]
    if what == "value" and "=" in line:
        lines[row] = line.split("=", 1)[0] + "= " + junk.toml
    elif what == "drop":
        del lines[row]
    elif what == "repeat":
        lines.insert(row, line)
    else:
        key = rng.choice(["junk", "file", "kind", "layer", "sheet", "target", "radius_m",
                          "period", "year", "encoding", "[layers.gates]", "[[targets]]",
                          "[routes]", "margin_m", "datum", "crs", "[[facilities]]",
                          ".".join(["x"] * 2000)])
        lines.insert(row, key if key.startswith("[") else f"{key} = {junk.toml}")
    return "\n".join(lines).encode("utf-8")


def _xlsx_edit(data: bytes, rng: random.Random, junk: Junk) -> bytes:
    rows = [{**r, "托位": int(r["托位"])} for r in bad_base.base_childcare()]
    row = rows[rng.randrange(len(rows))]
    value = junk.value
    if (isinstance(value, float) and not math.isfinite(value)) or isinstance(value, list | dict):
        value = str(value)
    if isinstance(value, str):  # what a workbook cannot hold, Excel never writes
        value = ILLEGAL_CHARACTERS_RE.sub("", value.encode("utf-8", "replace").decode("utf-8"))
    row[rng.choice([*row, "extra"])] = value
    return bad_base.xlsx_bytes(rows)


EDITORS: dict[str, Callable[[bytes, random.Random, Junk], bytes]] = {
    ".geojson": _json_edit, ".csv": _csv_edit, ".toml": _toml_edit, ".xlsx": _xlsx_edit}
HOW = ("edit", "edit", "edit", "bytes", "truncate", "encoding", "delete")


def mutate(files: dict[str, bytes], name: str, how: str, seed: int, junk: Junk
           ) -> dict[str, bytes]:
    """Break the file ``name`` of ``files`` (or delete it) the way ``how`` says."""
    files, rng = dict(files), random.Random(seed)
    data = files[name]
    editor = EDITORS.get(Path(name).suffix)
    if how == "edit" and editor is not None:
        files[name] = editor(data, rng, junk)
    elif how in ("edit", "bytes"):
        files[name] = _bytes_ops(data, rng)
    elif how == "truncate":
        files[name] = data[: rng.randrange(max(len(data), 1))]
    elif how == "encoding":
        files[name] = _reencode(data, rng)
    else:
        del files[name]
    return files


# ------------------------------------------------------------------------------ the check


def check_inputs(folder: Path) -> None:
    """Validate and evaluate ``folder``: success with every file accounted for, or a CfplanError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            checked = validate(folder, folder / "plan.toml")
        except CfplanError as exc:
            assert exc.message(lang="zh") and exc.message(lang="en")
            return
        layers = checked.layers
        assert layers is not None and checked.plan is not None
        acc = layers.accounting
        assert (acc["read"] == acc["used"] + acc["rejected"]).all(), acc
        assert (acc["repaired"] <= acc["used"]).all(), acc
        results = evaluate_plan(checked.plan, layers, indicators=checked.indicators)
        assert len(results) == 2 * len(checked.plan.targets)
        for r in results:
            assert r.status in ("met", "not_met", "unknown", "not_assessed"), r
            if isinstance(r.value, float) and r.status in ("met", "not_met"):
                assert math.isfinite(r.value), r


def _write(files: dict[str, bytes], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


# Which files of which folder to break: every file of the core folder, and the optional
# layers of the others (their core files are broken in the core folder).
TARGETS = sorted(
    [("core", name) for name in variants_names("core")]
    + [("references", n) for n in ("gates.geojson", "school_districts.geojson",
                                   "entrances.geojson")]
    + [("shapefile", n) for n in SUBDISTRICTS] + [("xlsx", "childcare.xlsx")])


@FUZZ
# a mutated DBF whose field names GDAL reads as two blanks: repeated column names
@example(target=("shapefile", "subdistricts.dbf"), how="bytes", seed=15, value=None,
         geometry=None, toml="1", text="")
@given(target=st.sampled_from(TARGETS), how=st.sampled_from(HOW), seed=st.integers(0, 2**32),
       value=JUNK_VALUE, geometry=JUNK_GEOMETRY, toml=TOML_JUNK, text=JUNK_TEXT)
def test_broken_inputs_load_or_stop_with_a_cfplan_error(target, how, seed, value, geometry, toml,
                                                        text):
    variant, name = target
    files = mutate(variants()[variant], name, how, seed, Junk(value, geometry, toml, text))
    with tempfile.TemporaryDirectory() as tmp:
        check_inputs(_write(files, Path(tmp) / "district"))


def test_the_unbroken_folders_load_and_evaluate(tmp_path):
    for name, files in variants().items():
        folder = _write(files, tmp_path / name)
        checked = validate(folder, folder / "plan.toml")
        assert checked.layers is not None and not checked.layers.rejected, name
        # the small folder has no kindergarten, school or park: the plan's targets say so
        assert all(w.zh.startswith("图层中没有任何") for w in checked.warnings), checked.warnings
        check_inputs(folder)


# ------------------------------------------------------------------------------ OSM files


@cache
def _osm_files() -> dict[str, bytes]:
    import osmium

    pbf = Path(tempfile.mkdtemp()) / "streets.osm.pbf"
    try:
        with osmium.SimpleWriter(str(pbf)) as writer:
            for obj in osmium.FileProcessor(str(bad_base.DEMO / "streets.osm")):
                writer.add(obj)
        data = pbf.read_bytes()
    finally:
        shutil.rmtree(pbf.parent)
    return {"streets.osm": (bad_base.DEMO / "streets.osm").read_bytes(),
            "streets.osm.pbf": data, "pois.osm": _clipped_areas()["pois.osm"]}


def _osm_edit(data: bytes, rng: random.Random, junk: str) -> bytes:
    """Replace the value of one attribute (lat, lon, ref, k, v, id) with junk."""
    text = data.decode("utf-8")
    spots = [i for i in range(len(text)) if text.startswith(('lat="', 'lon="', 'ref="', 'v="',
                                                             'id="'), i)]
    start = text.index('"', spots[rng.randrange(len(spots))]) + 1
    end = text.index('"', start)
    return (text[:start] + junk + text[end:]).encode("utf-8")


def _clipped_areas() -> dict[str, bytes]:
    case = next(c for c in make_bad.CASES if c.name == "osm_clipped_areas")
    return case.make()  # type: ignore[return-value]


@FUZZ_STREETS
@example(name="streets.osm", how="attribute", seed=1, junk="nan")  # libosmium's error, once raw
@given(name=st.sampled_from(["streets.osm", "streets.osm.pbf", "pois.osm"]),
       how=st.sampled_from(["attribute", "attribute", "bytes", "truncate"]),
       seed=st.integers(0, 2**32),
       junk=st.sampled_from(["nan", "inf", "1e308", "", "abc", "-0", "999999999999999999999",
                             "&amp;", "&#7;", "<", "91", "-181", "footway", "motorway", "yes",
                             "1"]))
def test_broken_osm_files_read_or_stop_with_a_cfplan_error(name, how, seed, junk):
    raw, rng = _osm_files()[name], random.Random(seed)
    if how == "attribute" and name.endswith(".osm"):
        broken = _osm_edit(raw, rng, junk)
    elif how == "truncate":
        broken = raw[: rng.randrange(len(raw))]
    else:
        broken = _bytes_ops(raw, rng)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = Path(tmp)
        (folder / name).write_bytes(broken)
        try:
            if name == "pois.osm":
                _write({k: v for k, v in _clipped_areas().items() if k != "pois.osm"}, folder)
                layers = load_layers(folder)
                acc = layers.accounting
                assert (acc["read"] == acc["used"] + acc["rejected"]).all(), acc
            else:
                network = load_street_network(folder / name, crs="EPSG:4547")
                assert len(network.edge_u) > 0 and (network.edge_length >= 0).all()
        except CfplanError as exc:
            assert exc.message(lang="en")
