"""Input files (issue #17): only regular files, text as Windows saves it, data text made safe."""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from pathlib import Path

import pytest

from cfplan.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main
from cfplan.layers.errors import InputError
from cfplan.layers.files import check_input_file, decode_text
from cfplan.layers.text import clean_text, show_controls

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
sys.path.insert(0, str(DATA))
import make_bad  # noqa: E402


def _case_folder(folder: Path, case: str) -> Path:
    """Write the files of a corpus case into ``folder`` (to change them)."""
    folder.mkdir()
    made = next(c for c in make_bad.CASES if c.name == case).make()
    for name, data in made.items():
        (folder / name).write_bytes(data)  # type: ignore[arg-type]
    return folder


# --------------------------------------------------------------------------- regular files


def test_special_files_are_refused_saying_what_they_are(tmp_path):
    os.mkfifo(tmp_path / "pipe.geojson")
    (tmp_path / "folder.geojson").mkdir()
    os.symlink("loop.geojson", tmp_path / "loop.geojson")
    os.symlink("nowhere.geojson", tmp_path / "dangling.geojson")
    (tmp_path / "empty.geojson").write_bytes(b"")
    expected = {"pipe.geojson": "named pipe (FIFO)", "folder.geojson": "is a folder",
                "loop.geojson": "symbolic link loop", "dangling.geojson": "link to a missing",
                "empty.geojson": "the file is empty", "missing.geojson": "file not found"}
    for name, words in expected.items():
        start = time.perf_counter()
        with pytest.raises(InputError) as info:
            check_input_file(tmp_path / name)
        assert time.perf_counter() - start < 1, name
        assert info.value.file == str(tmp_path / name)
        assert words in info.value.message(lang="en"), name


def test_a_pipe_beside_a_file_is_refused_too(tmp_path):
    (tmp_path / "units.shp").write_bytes(b"x" * 100)
    (tmp_path / "units.shx").write_bytes(b"x" * 100)
    (tmp_path / "units.dbf").write_bytes(b"x" * 100)
    os.mkfifo(tmp_path / "units.cpg")
    with pytest.raises(InputError, match="命名管道") as info:
        check_input_file(tmp_path / "units.shp")
    assert info.value.file.endswith("units.cpg")
    (tmp_path / "units.cpg").unlink()
    assert check_input_file(tmp_path / "units.shp") == tmp_path / "units.shp"


# --------------------------------------------------------------------------- text


def test_text_is_read_as_excel_and_notepad_save_it(tmp_path):
    path = tmp_path / "t.csv"
    text = "名称,人口\n朝阳社区,6678\n"
    warned: list = []
    for data in (text.encode("utf-8"), text.encode("utf-8-sig"), text.encode("utf-16"),
                 text.encode("utf-32")):
        assert decode_text(data, path, warnings=warned) == text
    assert warned == []
    assert decode_text(text.encode("gbk"), path, warnings=warned) == text
    assert [w.en for w in warned] == ["t.csv: not UTF-8; read as GBK"]


@pytest.mark.parametrize(("data", "words"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "it looks like a PNG image"),
    (b"PK\x03\x04" + bytes(64), "a ZIP archive"),
    ("名称,人口\n".encode("utf-16-le"), "UTF-16 text without a byte-order mark"),
    (b"\xff\xfe" + "名称".encode("utf-16-le") + b"\x00\xd8", "is not in UTF-16"),
    (b"\x81\x30\x81", "neither UTF-8 nor GBK"),
])
def test_what_is_not_text_is_refused_saying_what_it_is(tmp_path, data, words):
    with pytest.raises(InputError) as info:
        decode_text(data, tmp_path / "plan.toml")
    assert words in info.value.message(lang="en")
    assert "plan.toml" in info.value.message(lang="zh")


def test_control_characters_are_removed_and_noted_and_shown_in_messages():
    assert clean_text("朝阳\x1b[31m社区\x07") == (
        "朝阳社区", clean_text("朝阳\x1b[31m社区\x07")[1])
    note = clean_text("a\x00b\x1b[0m")[1]
    assert note is not None and note.en == "removed 2 control character(s) (U+0000, ESC sequence)"
    assert clean_text("a\tb\nc") == ("a\tb\nc", None)
    assert show_controls("朝阳\x1b[31m社区") == "朝阳\\x1b[31m社区"
    err = InputError("../x/units.geojson", make_bad_text("名称「\x1b[31m」"))
    assert "\x1b" not in err.message() and "\\x1b[31m" in err.message()
    assert err.message().startswith("../x/units.geojson：")


def make_bad_text(zh: str):
    from cfplan.layers.text import Text

    return Text(zh, zh)


# --------------------------------------------------------------------------- end to end


def test_names_with_control_characters_reach_every_output(tmp_path):
    from cfplan.pipeline import assess

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = assess(BAD / "control_characters", "jingkai", access=False, routes=False)
        files = result.write(tmp_path / "out", map=False)
    assert any(p.name == "report.xlsx" for p in files)
    names = set(result.layers.facilities["name"])
    assert "朝阳儿童之家" in names and not any("\x1b" in n or "\x00" in n for n in names)
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "\x1b" not in report and "\x07" not in report


def test_cli_refuses_a_pipe_at_once_with_exit_2(capsys):
    make_bad.make_specials()
    start = time.perf_counter()
    code = main(["validate", "--layers", str(BAD / "fifo_dbf"), "--lang", "en"])
    assert code == EXIT_INPUT and time.perf_counter() - start < 30
    assert "subdistricts.dbf: is a named pipe (FIFO), not a regular file" in capsys.readouterr().err


def test_validate_reads_the_indicators_and_checks_them_against_the_plan(tmp_path, capsys):
    folder = _case_folder(tmp_path / "d", "unknown_kind")
    manifest = folder / "layers.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + '[indicators]\nfile = "ind.csv"\n',
                        encoding="utf-8")
    (folder / "ind.csv").write_bytes(b"")
    assert main(["validate", "--layers", str(folder)]) == EXIT_INPUT
    assert "ind.csv：文件为空" in capsys.readouterr().err
    (folder / "ind.csv").write_text("plan,id,indicator,value\njingkai,2,,九十\njingkai,99z,,5\n",
                                    encoding="gbk")
    assert main(["validate", "--layers", str(folder), "--plan", "jingkai", "--lang", "en"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "ind.csv: not UTF-8; read as GBK" in out
    assert "ind.csv, line 2: item 2: the reported value cannot be read" in out
    assert "ind.csv, line 3: '99z' is not a reported value of plan jingkai" in out


@pytest.mark.parametrize(("args", "words"), [
    (["--kind", "park", "--model", "mclp", "--k", "-2"], "k must be a whole number of at least 1"),
    (["--kind", "park", "--model", "pmedian", "--k", "0"], "at least 1, not 0"),
    (["--spacing", "-5"], "candidate spacing (spacing_m) must be a finite number 0 or more"),
    (["--kind", "park", "--model", "lscp", "--radius", "nan"], "radius (radius_m) must be a finite"),
    (["--radius", "-300"], "not -300.0"),
    (["--time-limit", "inf"], "time limit (time_limit) must be a finite number above 0"),
])
def test_cfplan_site_refuses_options_no_model_can_use(tmp_path, capsys, args, words):
    start = time.perf_counter()
    assert main(["site", "--out", str(tmp_path / "o"), "--lang", "en", *args]) == EXIT_USAGE
    assert time.perf_counter() - start < 10  # refused before anything is loaded
    assert words in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_siting_api_refuses_a_nan_radius():
    from cfplan.analysis.siting.plan_sites import single_model

    with pytest.raises(ValueError, match="radius"):
        single_model(None, network=None, demand=None, kind="park",  # type: ignore[arg-type]
                     model="lscp", radius_m=math.nan)


# --------------------------------------------------------------------------- values


def test_a_result_that_is_not_a_number_is_unknown_never_compared(monkeypatch):
    from cfplan.analysis import evaluate
    from cfplan.analysis.plan import load_plan
    from cfplan.layers.load import load_layers

    plan = load_plan(BAD / "kind_without_facilities" / "plan.toml")
    layers = load_layers(BAD / "kind_without_facilities")

    def nan_count(t, ctx, **_):
        return evaluate.Result(t, ctx.scenario, "not_met", math.nan)

    monkeypatch.setitem(evaluate.EVALUATORS, "count", nan_count)
    results = evaluate.evaluate_plan(plan, layers)
    counted = [r for r in results if r.target.metric == "count"]
    assert counted and all(r.status == "unknown" and r.value is None for r in counted)
    assert all("missing data" in r.reason.en for r in counted)


def test_indicators_from_a_workbook_read_formulas_as_their_values(tmp_path):
    import openpyxl

    from cfplan.analysis.indicators import read_indicators

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "indicators"
    sheet.append(["plan", "id", "indicator", "value"])
    sheet.append(["jingkai", "13b", "hpv_vaccination_rate", "=45*2"])
    book.create_sheet("说明").append(["填写说明"])
    book.save(tmp_path / "ind.xlsx")
    warned: list = []
    table = read_indicators(tmp_path / "ind.xlsx", warnings=warned)
    assert table is not None and table["value"].tolist() == [""]
    assert len(warned) == 1 and "=45*2" in warned[0].zh and "按未填报处理" in warned[0].zh


def test_a_batch_district_whose_plan_is_an_image_says_so(tmp_path):
    from cfplan.batch import run_district
    from cfplan.layers.jobs import DistrictJob

    job = DistrictJob("a", BAD / "unknown_kind", str(BAD / "plan_binary" / "plan.toml"))
    outcome = run_district(job, tmp_path / "a", lang="en")
    assert outcome["status"] == "failed"
    assert "plan.toml: not a text file (it looks like a PNG image)" in str(outcome["error"])
    assert "UnicodeDecodeError" not in str(outcome["error"])


def test_bad_route_rules_are_refused_by_validate_naming_the_manifest(tmp_path):
    from cfplan.inputs import validate

    folder = _case_folder(tmp_path / "d", "unknown_kind")
    manifest = folder / "layers.toml"
    text = manifest.read_text(encoding="utf-8")
    for value in ("nan", "-1", "inf", '{ residential = "x" }'):
        manifest.write_text(text + f"\n[routes]\nzone_radius_m = {value}\n", encoding="utf-8")
        with pytest.raises(InputError) as info:
            validate(folder)
        assert info.value.file == str(manifest) and info.value.field == "routes", value


def test_a_built_in_plan_is_found_beside_a_folder_of_its_name(tmp_path, monkeypatch):
    from cfplan.analysis.plan import load_plan

    (tmp_path / "jingkai").mkdir()  # e.g. the district's layer folder
    monkeypatch.chdir(tmp_path)
    assert load_plan("jingkai").id == "jingkai"
    (tmp_path / "plans").mkdir()
    with pytest.raises(InputError, match="是文件夹，不是文件"):
        load_plan("plans")
