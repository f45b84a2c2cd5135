"""Every case of the bad-input corpus (tests/data/bad) ends the documented way (issue #5)."""

from __future__ import annotations

import csv
import re
import sys
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from cfplan.layers import checks
from cfplan.layers.accounting import rejected_frame
from cfplan.layers.errors import InputError
from cfplan.layers.load import LayerSet, load_layers
from cfplan.layers.streets import load_street_network, street_lines
from cfplan.layers.text import Text

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
sys.path.insert(0, str(DATA))
import bad_base  # noqa: E402
import make_bad  # noqa: E402


@dataclass(frozen=True)
class Fatal:
    """The InputError a case must raise: file name, field, row, feature, words of the problem."""

    file: str
    field: str | None
    problem: str
    row: int | None = None
    feature: str | None = None
    loader: str = "layers"


# (layer, file, row, field, words of the reason)
Row = tuple[str, str, int, str, str]

FATAL: dict[str, Fatal] = {
    "crs_geojson_in_metres": Fatal("units.geojson", "geometry", "不是经纬度"),
    "crs_missing_projected": Fatal("units.shp", "geometry", "没有坐标系，且坐标不是经纬度"),
    "crs_prj_wrong": Fatal("units.shp", "geometry", "坐标像经纬度"),
    "csv_no_coordinate_columns": Fatal("childcare.csv", "经度/纬度", "找不到经纬度列"),
    "empty_file": Fatal("facilities.geojson", None, "文件为空"),
    "manifest_bad_crs": Fatal("layers.toml", "crs", "EPSG:999999"),
    "manifest_not_toml": Fatal("layers.toml", None, "不是有效的 TOML"),
    "manifest_unknown_field": Fatal("layers.toml", "fields", "populaton"),
    "manifest_unknown_kind": Fatal("layers.toml", "kind", "swimming_pool"),
    "manifest_unknown_layer": Fatal("layers.toml", "roads", "[layers.roads]"),
    "missing_file": Fatal("facilities.geojson", None, "文件不存在"),
    "missing_required_column": Fatal("units.geojson", "population", "缺少必填列「population」"),
    "overlapping_units": Fatal("units.geojson", "geometry", "「U01 朝阳社区」与「U02 和平社区」重叠",
                               row=1, feature="U01"),
    "truncated_geojson": Fatal("units.geojson", None, "文件无法解析：JSON 在第 3 行"),
    "json_error_response": Fatal("units.json", None, "文件是 JSON 但不含要素（顶层：info, infocode"),
    "units_no_features": Fatal("units.geojson", None, "没有可用的社区/村要素"),
    "plan_unknown_kind": Fatal("plan.toml", None, "第 14 行：未知设施类别「swimming_pool」",
                               loader="plan"),
    "plan_unknown_field": Fatal("plan.toml", None, "第 15 行：未知设施字段「colour」", loader="plan"),
    "osm_no_walkable_ways": Fatal("streets.osm", None, "没有可步行的道路", loader="streets"),
    "osm_truncated": Fatal("streets.osm", None, "OSM XML 无法解析", loader="streets"),
    "osm_facilities_truncated": Fatal("pois.osm", None, "文件无法解析（可能不完整或格式错误）"),
    # files that are not what they say (issue #17)
    "fifo_dbf": Fatal("subdistricts.dbf", None, "是命名管道（FIFO），不是普通文件"),
    "shapefile_no_dbf": Fatal("subdistricts.shp", None, "Shapefile 缺少属性表 subdistricts.dbf"),
    "symlink_loop": Fatal("facilities.geojson", None, "符号链接循环"),
    "folder_as_file": Fatal("facilities.geojson", None, "是文件夹，不是文件"),
    "manifest_nested_tables": Fatal("layers.toml", None, "表或数组嵌套过深"),
    "manifest_margin_inf": Fatal("layers.toml", "margin_m", "margin_m 应为非负的有限数值，而不是 inf"),
    "manifest_path_up": Fatal("missing.geojson", None, "文件不存在"),
    "gpkg_two_layers": Fatal("facilities.gpkg", "layer", "文件有 2 个图层（facilities、old）"),
    "xlsx_two_sheets": Fatal("childcare.xlsx", "sheet", "工作簿有 2 个含数据的工作表（托育机构、旧表）"),
    "xls_old_format": Fatal("childcare.xls", None, "旧版 Excel（.xls）格式无法读取"),
    "plan_binary": Fatal("plan.toml", None, "不是文本文件（看起来是 PNG 图片）", loader="plan"),
    "plan_nested_keys": Fatal("plan.toml", None, "表或数组嵌套超过 16 层", loader="plan"),
    "plan_period_not_range": Fatal("plan.toml", None, "第 4 行：period 应为 [起始年, 结束年]",
                                   loader="plan"),
    "plan_target_inf": Fatal("plan.toml", None, "第 15 行：target 应为有限数字，而不是 inf",
                             loader="plan"),
    "plan_target_nan": Fatal("plan.toml", None, "第 15 行：target 应为有限数字，而不是 nan",
                             loader="plan"),
    "plan_target_negative": Fatal("plan.toml", None, "第 15 行：target 不能为负（现为 -1）",
                                  loader="plan"),
    "plan_radius_negative": Fatal("plan.toml", None, "第 15 行：radius_m 应大于 0（现为 -300）",
                                  loader="plan"),
    "indicators_empty": Fatal("indicators.csv", None, "文件为空", loader="indicators"),
    "indicators_ragged_row": Fatal("indicators.csv", None, "第 3 行有 8 个值，表头只有 7 列",
                                   loader="indicators"),
    "indicators_no_value_column": Fatal("indicators.csv", None, "缺少 value 列或 id/indicator 列",
                                        loader="indicators"),
    "osm_pbf_truncated": Fatal("streets.osm.pbf", None, "OSM PBF 无法读取", loader="streets"),
}

FAC = ("facilities", "facilities.geojson")
POIS = ("facilities", "pois.osm")
CHILDCARE = ("facilities", "childcare.csv")
UNITS = ("units", "units.geojson")

REJECTED: dict[str, list[Row]] = {
    "bad_bool": [(*FAC, 4, "儿童友好", "「也许」不是 是/否")],
    "children_exceed_population": [(*UNITS, 1, "儿童人口", "儿童人口 800.0 大于总人口 500.0")],
    "crs_wrong_zone": [(*FAC, row, "geometry", "超出容差 500 m") for row in range(1, 9)],
    "csv_bad_coordinates": [(*CHILDCARE, 1, "经度/纬度", "「东经113度」不是数字"),
                            (*CHILDCARE, 2, "经度/纬度", "「纬度」为空")],
    "duplicate_across_files": [("facilities", "more.geojson", 1, "fid", "编号「CH01」与其他文件重复")],
    "duplicate_unit_code": [(*UNITS, 4, "编码", "编号「U02」与第 2 条重复")],
    "geom_collection": [(*FAC, 9, "geometry", "GeometryCollection")],
    "geom_empty": [(*FAC, 9, "geometry", "几何为空")],
    "geom_unreadable": [(*FAC, 9, "geometry", "几何无法解析")],
    "geom_wrong_type": [(*FAC, 9, "geometry", "几何类型 LineString 不符")],
    "json_bare_array_broken": [("facilities", "facilities.json", 9, "geometry", "几何无法解析")],
    "kind_conflict": [(*CHILDCARE, 2, "类别", "类别「幼儿园」与清单中的 kind = \"childcare\" 不符")],
    "missing_required_value": [(*FAC, 3, "名称", "缺少必填字段「名称」")],
    "negative_population": [(*UNITS, 2, "人口", "人口为负数 -120.0")],
    "far_away": [(*FAC, 9, "geometry", "距区界 18954387 m，超出容差 500 m"),
                 (*FAC, 10, "geometry", "距区界 9011973 m，超出容差 500 m")],
    "coords_out_of_range": [(*FAC, 9, "geometry", "坐标 (200.00000, 34.70000) 超出经纬度范围")],
    "outside_district": [(*FAC, 9, "geometry", "距区界 5033 m，超出容差 500 m")],
    "osm_unmapped_features": [
        (*POIS, 3, "isced:level", "amenity=school 没有 isced:level 或 school:level：学段不明"),
        (*POIS, 4, "isced:level", "isced:level=3 不对应任何类别"),
        (*POIS, 5, "sport", "sport=basketball 不对应任何类别")],
    "osm_clipped_areas": [
        (*POIS, 1, "geometry", "与 way/34 为同一设施（同类，同名「区图书馆」，点在面内）：已合并到该面"),
        (*POIS, 3, "geometry", "（2/8 个节点在文件中）：范围内的节点不足以构成面"),
        (*POIS, 6, "geometry", "（0/2 个成员 way 在文件中）：成员 way 都不在文件中")],
    "unknown_kind": [(*FAC, 1, "类别", "未知设施类别「游泳馆」")],
    "unknown_status": [(*FAC, 5, "状态", "未知建设状态「拆除」")],
    "unknown_unit_type": [(*UNITS, 1, "类型", "未知社区类型")],
    "wrong_type_number": [(*FAC, 2, "年份", "「去年」不是数字")],
    "csv_ragged_row": [(*CHILDCARE, 2, "-", "该行有 8 个值，表头只有 7 列")],
    "nan_coordinates": [(*FAC, 9, "geometry", "坐标含非有限数值（NaN 或无穷大）")],
    "population_out_of_range": [(*UNITS, 1, "人口", "数值 1e+308 超出范围"),
                                (*UNITS, 2, "人口", "人口 2e+08 超过 1 亿")],
    "xlsx_formulas": [("facilities", "childcare.xlsx", 2, "托位",
                       "「托位」是公式 =10+23，文件中没有计算结果")],
    "unknown_references": [
        ("entrances", "entrances.geojson", 2, "facility", "没有编号为「PK99」的设施"),
        ("gates", "gates.geojson", 2, "school", "没有编号为「P99」的学校"),
        ("gates", "gates.geojson", 3, "school", "「PK01」是公园，不是学校"),
        ("school_districts", "school_districts.geojson", 2, "school", "没有编号为「X9」的学校")],
}

REPAIRED: dict[str, list[Row]] = {
    "csv_bad_coordinates": [(*CHILDCARE, 3, "经度/纬度", "」规范为 113.81")],
    "fullwidth_numbers": [(*UNITS, 1, "人口", "「６６７８」规范为 6678.0"),
                          (*UNITS, 2, "人口", "「7,172人」规范为 7172.0"),
                          (*UNITS, 3, "人口", "「0.83万」规范为 8300.0"),
                          (*UNITS, 4, "人口", "「１，２３４人」规范为 1234.0")],
    "geom_self_intersecting": [(*FAC, 9, "geometry", "无效几何已修复")],
    "osm_unmapped_features": [(*POIS, 2, "name", "按名称「红旗小学」归为小学")],
    "osm_clipped_areas": [
        (*POIS, 2, "geometry", "（5/8 个节点在文件中）：保留范围内部分"),
        (*POIS, 5, "geometry", "（1/2 个成员 way 在文件中）：保留范围内部分")],
    "lonlat_swapped_csv": [(*CHILDCARE, r, "经度/纬度", "经纬度互换") for r in (1, 2)],
    "lonlat_swapped_geojson": [(*FAC, r, "geometry", "经纬度互换") for r in (1, 2, 3)],
    "lonlat_swapped_xlsx": [("facilities", "childcare.xlsx", r, "经度/纬度", "经纬度互换")
                            for r in (1, 2, 3, 4)],
    "control_characters": [(*FAC, 1, "名称", "删去 1 个控制字符（U+0007）"),
                           (*FAC, 2, "名称", "删去 1 个控制字符（ESC 转义序列）"),
                           (*FAC, 3, "名称", "删去 1 个控制字符（U+0000）")],
}

GAP = "社区/村未铺满区界：1 处空隙"
WARNED: dict[str, list[str]] = {
    "children_exceed_population": [GAP, "2 个设施不在任何社区/村内（CH01、F01）"],
    "crs_missing_degrees": ["facilities.shp：未声明坐标系，按 WGS-84 经纬度读取"],
    "crs_wrong_zone": ["facilities.geojson（facilities）：整个图层都在区界 500 m 之外"],
    "duplicate_unit_code": [GAP, "3 个设施不在任何社区/村内（CH08、EN1、F02）"],
    "facilities_no_features": ["facilities.geojson：文件中没有要素"],
    "facility_in_no_unit": ["1 个设施不在任何社区/村内（EDGE）"],
    "gap_between_units": ["社区/村未铺满区界：1 处空隙，共 77.0 公顷（占 23.6%）",
                          "3 个设施不在任何社区/村内（CH08、EN1、F02）"],
    "gbk_csv": ["childcare.csv：不是 UTF-8，按 GBK 读取"],
    "gbk_shapefile_no_cpg": ["subdistricts.shp：没有 .cpg 且字段不是 UTF-8，按 GBK 读取"],
    "negative_population": [GAP, "1 个设施不在任何社区/村内（CH02）"],
    "unknown_unit_type": [GAP, "2 个设施不在任何社区/村内（CH01、F01）"],
    "zero_population": ["units.geojson U07 春晖社区：人口为 0"],
    "population_out_of_range": ["社区/村未铺满区界：1 处空隙，共 162.3 公顷（占 49.8%）",
                                "3 个设施不在任何社区/村内（CH01、CH02、F01）"],
    "xlsx_formulas": ["childcare.xlsx（托育机构）：1 个公式单元格按 Excel 上次保存的计算结果读取"],
}

# Cases whose warning needs the street network (checked by checks.gcj_offset_warning).
STREET_WARNED = {"gcj_labelled_wgs84": "childcare.csv：25 个点整体偏向东约 566 m",
                 "gcj_boundaries_labelled_wgs84": "units.geojson：边界整体偏向东约 564 m"}
# Cases that load cleanly: the problem is handled without loss (BOM, Chinese headers, the
# JSON that DataV and AMap boundary downloads give).
CLEAN = {"csv_bom_chinese_headers", "datav_bare_array", "amap_district_response", "manifest_bom",
         "csv_utf16", "gpkg_layer_named", "xlsx_sheet_named"}
# Plans and indicators files read with a warning (loader, words of each warning).
FILE_WARNED: dict[str, tuple[str, list[str]]] = {
    "plan_gbk": ("plan", ["plan.toml：不是 UTF-8，按 GBK 读取"]),
    "plan_year_outside_period": ("plan", ["plan.toml：第 12 行：目标年份 2035 不在规划期 2024–2025 内"]),
    "plan_control_characters": ("plan", ["targets[1].title：删去 1 个控制字符（ESC 转义序列）"]),
    "indicators_gbk": ("indicators", ["indicators.csv：不是 UTF-8，按 GBK 读取"]),
}
# Cases with a plan: the warning comes from assessing the layers against it.
ASSESS_WARNED = {"kind_without_facilities": "图层中没有任何公园：2 项目标（第 33、标准5 项）"}

LAYER_CASES = sorted(
    set(REJECTED) | set(REPAIRED) | set(WARNED) | set(STREET_WARNED) | CLEAN | set(ASSESS_WARNED)
)


@cache
def loaded(case: str) -> LayerSet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_layers(BAD / case)


def _raise(case: str, loader: str) -> InputError:
    folder = BAD / case
    make_bad.make_specials()
    assert make_bad.loader_of(folder) == loader
    with warnings.catch_warnings(), pytest.raises(InputError) as info:
        warnings.simplefilter("ignore")
        make_bad.load_case(folder)
    return info.value


# --------------------------------------------------------------------------- the corpus


def test_every_case_has_a_test_and_there_are_at_least_30():
    on_disk = {p.name for p in BAD.iterdir() if p.is_dir()}
    covered = set(FATAL) | set(LAYER_CASES) | set(FILE_WARNED)
    assert on_disk == covered == {c.name for c in make_bad.CASES}
    assert len(on_disk) >= 30
    assert not set(FATAL) & set(LAYER_CASES)


def test_doc_table_matches_the_real_outcomes():
    doc = make_bad.DOC.read_text(encoding="utf-8")
    assert make_bad.doc_table() in doc, "run python tests/data/make_bad.py --doc"


def test_corpus_is_reproducible_and_small(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make_bad.main([str(tmp_path)])
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    stored = {p.relative_to(BAD): p.read_bytes() for p in BAD.rglob("*") if p.is_file()}
    assert fresh.keys() == stored.keys()
    stale = [str(k) for k in fresh if fresh[k] != stored[k]]
    assert not stale, f"run python tests/data/make_bad.py; stale: {stale}"
    assert sum(len(b) for b in stored.values()) < 1_000_000


# --------------------------------------------------------------------------- fatal cases


@pytest.mark.parametrize("case", sorted(FATAL))
def test_fatal_case_names_file_field_row_and_fix(case):
    want = FATAL[case]
    err = _raise(case, want.loader)
    assert Path(err.file).name == want.file
    assert Path(err.file).parent.name == case
    assert err.field == want.field
    assert err.row == want.row
    assert err.feature == want.feature
    assert want.problem in err.problem.zh
    for lang in ("zh", "en"):
        text = err.message(lang=lang)
        assert want.file in text
        if want.field:
            assert want.field in text
    assert_bilingual(err.problem)
    if want.loader != "plan":  # plan messages are analysis/plan.py's
        assert err.fix, "errors say how to fix them"
        assert_bilingual(err.fix)


def test_a_path_through_dotdot_is_named_as_written():
    err = _raise("manifest_path_up", "layers")
    for lang in ("zh", "en"):
        assert "manifest_path_up/../manifest_path_up/missing.geojson" in err.message(lang=lang)


def test_a_named_pipe_is_refused_at_once_not_read():
    import time

    start = time.perf_counter()
    err = _raise("fifo_dbf", "layers")
    assert time.perf_counter() - start < 5
    assert "named pipe (FIFO)" in err.message(lang="en")


@pytest.mark.parametrize("case", sorted(FILE_WARNED))
def test_plan_and_indicators_cases_are_read_with_their_warnings(case):
    loader, words = FILE_WARNED[case]
    assert make_bad.loader_of(BAD / case) == loader
    read, warned = make_bad.load_case(BAD / case)
    assert read is not None
    assert len(warned) == len(words), warned
    for w, text in zip(warned, words, strict=True):
        assert text in w.zh, (text, w)
        assert_bilingual(w)


def test_fatal_message_languages_are_split():
    err = _raise("missing_required_column", "layers")
    zh, en = err.message(lang="zh"), err.message(lang="en")
    assert "缺少必填列" in zh and "required column" not in zh
    assert "required column 'population' is missing" in en and "缺少必填列" not in en


def assert_bilingual(text: Text) -> None:
    """A message exists in both languages: Chinese with Chinese in it, English with letters."""
    assert isinstance(text, Text), text
    assert re.search("[\u4e00-\u9fff]", text.zh), text
    assert re.search("[A-Za-z]{3}", text.en), text
    assert text.zh != text.en


# --------------------------------------------------------------------------- recoverable cases


def _assert_records(got: list[Row], want: list[Row]) -> None:
    """Same (layer, file, row, field) records; each text holds the wanted words and English."""
    got, want = sorted(got), sorted(want)
    assert [g[:4] for g in got] == [w[:4] for w in want], got
    for g, w in zip(got, want, strict=True):
        assert w[4] in g[4].zh, (g, w)
        assert_bilingual(g[4])


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_rejected_case_records_exactly_the_bad_features(case):
    layers = loaded(case)
    _assert_records([(r.layer, r.file, r.row, r.field, r.reason) for r in layers.rejected],
                    REJECTED[case])


@pytest.mark.parametrize("case", sorted(REPAIRED))
def test_repaired_case_records_each_repair_and_keeps_the_feature(case):
    layers = loaded(case)
    want = REPAIRED[case]
    _assert_records([(r.layer, r.file, r.row, r.field, r.what) for r in layers.repairs], want)
    acc = layers.accounting.set_index(["layer", "file"])
    for layer, file, *_ in want:
        assert acc.loc[(layer, file), "repaired"] == len({w[2] for w in want if w[1] == file})


@pytest.mark.parametrize("case", sorted(WARNED))
def test_warned_case_warns(case):
    layers = loaded(case)
    assert len(layers.warnings) == len(WARNED[case]), layers.warnings
    for words in WARNED[case]:
        assert any(words in w.zh for w in layers.warnings), (words, layers.warnings)
    for w in layers.warnings:
        assert_bilingual(w)


@pytest.mark.parametrize("case", sorted(set(LAYER_CASES) - set(WARNED) - set(STREET_WARNED)))
def test_cases_without_a_warning_do_not_warn(case):
    assert loaded(case).warnings == []


@pytest.mark.parametrize("case", sorted(set(LAYER_CASES) - set(REJECTED)))
def test_cases_without_a_rejection_reject_nothing(case):
    assert loaded(case).rejected == []


def test_accounting_identity_over_the_whole_corpus():
    for case in LAYER_CASES:
        layers = loaded(case)
        acc = layers.accounting
        assert list(acc.columns) == ["layer", "file", "crs", "datum", "read", "used", "repaired",
                                     "rejected"]
        assert (acc["read"] == acc["used"] + acc["rejected"]).all(), case
        assert (acc["repaired"] <= acc["used"]).all(), case
        frames = {"units": layers.units, "facilities": layers.facilities,
                  "district": layers.district, "subdistricts": layers.subdistricts,
                  "entrances": layers.entrances, "gates": layers.gates,
                  "school_districts": layers.school_districts}
        for row in acc.itertuples():
            rejections = [r for r in layers.rejected if (r.layer, r.file) == (row.layer, row.file)]
            assert row.rejected == len(rejections), (case, row)
            used = frames[row.layer]
            assert row.used == int((used["_file"] == row.file).sum()), (case, row)


def test_features_read_are_counted_from_the_files():
    acc = loaded("far_away").accounting.set_index("file")
    assert acc.loc["facilities.geojson"].tolist() == ["facilities", "EPSG:4326 WGS 84", "wgs84",
                                                      10, 8, 0, 2]
    assert acc.loc["units.geojson", "read"] == 4


def test_gbk_shapefile_without_cpg_reads_chinese_names():
    names = set(loaded("gbk_shapefile_no_cpg").subdistricts["name"])
    assert {"河滨办事处", "青松办事处"} <= names


def test_gbk_csv_reads_chinese_names():
    assert "朝阳社区托育中心" in set(loaded("gbk_csv").facilities["name"])


def test_csv_with_bom_and_chinese_headers_loads_every_row():
    layers = loaded("csv_bom_chinese_headers")
    cc = layers.facilities[layers.facilities["_file"] == "childcare.csv"]
    assert sorted(cc["fid"]) == ["TY01", "TY02", "TY07", "TY08"]
    assert set(cc["kind"]) == {"childcare"}
    assert cc["capacity"].notna().all()


def test_swapped_coordinates_land_where_the_unswapped_ones_do():
    good = loaded("csv_bom_chinese_headers").facilities.set_index("fid").geometry
    fixed = loaded("lonlat_swapped_csv").facilities.set_index("fid").geometry
    for fid in ("TY01", "TY02", "TY07", "TY08"):
        assert fixed[fid].distance(good[fid]) < 0.01


def test_fullwidth_populations_are_parsed():
    units = loaded("fullwidth_numbers").units.set_index("code")["population"]
    assert units.to_dict() == {"U01": 6678.0, "U02": 7172.0, "U07": 8300.0, "U08": 1234.0}


def test_facility_in_no_unit_is_kept_for_district_totals():
    fac = loaded("facility_in_no_unit").facilities.set_index("fid")
    assert not fac.loc["EDGE", "in_unit"]
    assert fac["unit"].isna().sum() == 1


def test_make_valid_repair_keeps_a_polygon():
    fac = loaded("geom_self_intersecting").facilities.set_index("fid")
    geom = fac.loc["PKX", "geometry"]
    assert geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon") and geom.area > 0


def test_rejected_frame_holds_every_rejection_with_its_reason():
    layers = loaded("far_away")
    frame = rejected_frame(layers.rejected)
    assert frame[["file", "row", "feature", "field"]].values.tolist() == [
        ["facilities.geojson", 9, "ZERO", "geometry"], ["facilities.geojson", 10, "SYD", "geometry"]]
    assert frame.geometry.notna().all()


# --------------------------------------------------------------------------- GCJ-02 check


def _street_lines_for(layers: LayerSet):
    return street_lines(load_street_network(layers.streets, crs=layers.crs)).geometry


def test_gcj02_labelled_as_wgs84_is_warned():
    layers = loaded("gcj_labelled_wgs84")
    text = checks.gcj_offset_warning(layers.facilities, _street_lines_for(layers),
                                     layer="childcare.csv")
    assert text is not None and STREET_WARNED["gcj_labelled_wgs84"] in text.zh
    assert 'datum = "gcj02"' in text.zh and 'datum = "gcj02"' in text.en


def test_gcj02_check_is_quiet_on_correct_data():
    demo = load_layers(Path(bad_base.DEMO))
    lines = _street_lines_for(demo)
    for file, group in demo.facilities.groupby("_file"):
        assert checks.gcj_offset_warning(group, lines, layer=str(file)) is None, file


# --------------------------------------------------------------------------- end to end


def test_cli_fatal_case_exits_non_zero_naming_the_file(tmp_path, capsys):
    from cfplan.cli import main

    code = main(["report", "--layers", str(BAD / "overlapping_units"), "--plan", "jingkai",
                 "--out", str(tmp_path / "o"), "--no-access"])
    assert code != 0
    err = capsys.readouterr().err
    assert "overlapping_units/units.geojson" in err and "U01" in err and "geometry" in err


def test_cli_rejected_case_writes_accounting_and_rejections(tmp_path):
    from cfplan.cli import main

    out = tmp_path / "o"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["report", "--layers", str(BAD / "unknown_kind"), "--plan", "jingkai",
                     "--out", str(out), "--no-access"])
    assert code == 0
    with open(out / "accounting.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file"] for r in rows] == ["district.geojson", "units.geojson", "facilities.geojson"]
    for r in rows:
        assert int(r["read"]) == int(r["used"]) + int(r["rejected"])
    with open(out / "rejected.csv", encoding="utf-8-sig") as fh:
        rejected = list(csv.DictReader(fh))
    assert [(r["file"], r["row"], r["field"]) for r in rejected] == [
        ("facilities.geojson", "1", "类别")]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "facilities.geojson" in report and "游泳馆" in report


# --------------------------------------------------------------------------- OSM facility files


def test_osm_features_of_interest_are_all_counted():
    acc = loaded("osm_unmapped_features").accounting.set_index("file")
    # 5 elements carry a tag of interest (the cafe does not): 2 used, 3 rejected
    assert acc.loc["pois.osm"].tolist() == ["facilities", "EPSG:4326 WGS 84", "wgs84", 5, 2, 1, 3]
    fac = loaded("osm_unmapped_features").facilities.set_index("fid")
    assert fac["kind"].to_dict() == {"osm-node-1": "kindergarten", "osm-node-2": "primary_school"}
    reason = next(r for r in loaded("osm_unmapped_features").rejected if r.row == 3).reason
    assert reason.en.startswith(
        "amenity=school without isced:level or school:level: level unknown")
    assert not re.search("[\u4e00-\u9fff]", reason.en)


def _xml_coords(path: Path) -> dict[int, tuple[float, float]]:
    import xml.etree.ElementTree as ET

    return {int(n.get("id")): (float(n.get("lon")), float(n.get("lat")))
            for n in ET.parse(path).getroot().iter("node")}


def test_osm_clipped_areas_keep_the_part_inside():
    import geopandas as gpd
    import shapely

    layers = loaded("osm_clipped_areas")
    assert layers.accounting.set_index("file").loc["pois.osm"].drop(["crs", "datum"]).tolist() == [
        "facilities", 6, 3, 2, 3]
    fac = layers.facilities.set_index("fid")
    assert sorted(fac.index) == ["osm-relation-40", "osm-way-30", "osm-way-34"]
    coords = _xml_coords(BAD / "osm_clipped_areas" / "pois.osm")
    # way 30 lost nodes 105-107: the ring through 100-104, closed 104 -> 100
    # relation 40 lost member way 33: the chain 120-124 of way 32, closed 124 -> 120
    for fid, ids in (("osm-way-30", range(100, 105)), ("osm-relation-40", range(120, 125))):
        expected = gpd.GeoSeries([shapely.Polygon([coords[i] for i in ids])],
                                 crs="EPSG:4326").to_crs(layers.crs).iloc[0]
        got = fac.loc[fid, "geometry"]
        assert got.symmetric_difference(expected).area < 1e-6 * expected.area, fid
    # the library node inside its building counts once, as the building
    assert (fac["kind"] == "library").sum() == 1


# --------------------------------------------------------------------------- a kind with no facility


def test_kind_without_facilities_says_so_and_writes_no_inf(tmp_path):
    from cfplan.pipeline import assess

    folder = BAD / "kind_without_facilities"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = assess(folder, folder / "plan.toml")
    found = [w for w in result.warnings if ASSESS_WARNED["kind_without_facilities"] in w.zh]
    assert len(found) == 1
    assert_bilingual(found[0])
    assert "the layers hold no park at all: 2 target(s) (items 33, 标准5)" in found[0].en
    by_id = {(r.target.id, r.scenario): r for r in result.results}
    for tid in ("T1", "T2"):
        for scenario in ("current", "planned"):
            r = by_id[(tid, scenario)]
            assert r.status == "not_met" and "图层中没有任何公园" in r.reason.zh, r
            assert "the layers hold no park at all" in r.reason.en
    assert by_id[("T3", "current")].reason.zh == ""
    assert by_id[("T2", "current")].value == 0.0
    result.write(tmp_path / "out", lang="en", map=False)
    with open(tmp_path / "out" / "results" / "access_units.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    parks = [r for r in rows if r["kind"] == "park"]
    assert len(parks) == 4
    assert all(r["mean_walk_m"] == "" and r["max_walk_m"] == "" and float(r["reached_share"]) == 0
               for r in parks)
    pitches = [r for r in rows if r["kind"] == "football_pitch"]
    assert pitches and all(float(r["mean_walk_m"]) > 0 and float(r["reached_share"]) == 1
                           for r in pitches)
    for path in (tmp_path / "out").rglob("*.csv"):
        assert not re.search(r"(?<![a-z])-?inf(inity)?(?![a-z])", path.read_text(
            encoding="utf-8-sig"), re.IGNORECASE), path
    targets = (tmp_path / "out" / "targets.csv").read_text(encoding="utf-8-sig")
    assert "the layers hold no park at all" in targets
