"""Both seed plans load whole and validate; bad plan files name their line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cfplan.analysis.plan import METRICS, load_plan
from cfplan.layers.errors import InputError
from cfplan.layers.kinds import FACILITY_KINDS

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_jingkai_has_every_task(jingkai):
    items = {t.item for t in jingkai.targets}
    assert {str(i) for i in range(1, 56)} <= items
    assert "重点工程1" in items
    assert {t.metric for t in jingkai.targets} <= set(METRICS)


def test_shangjie_has_every_item(shangjie):
    counts = {"社会政策": 7, "公共服务": 10, "权利保障": 3, "成长空间": 7, "发展环境": 18}
    items = {t.item for t in shangjie.targets}
    for domain, n in counts.items():
        assert {f"{domain}{i}" for i in range(1, n + 1)} <= items


@pytest.mark.parametrize("plan_name,seed", [("jingkai", "001_b8979a95de264490.txt"),
                                            ("shangjie", "000_aa5de8147274d7a6.txt")])
def test_wording_is_verbatim(request, plan_name, seed):
    plan = request.getfixturevalue(plan_name)
    source = _squash((SEEDS / seed).read_text(encoding="utf-8"))
    for t in plan.targets:
        if t.origin == "standard":  # quotes standards.md, not the plan
            assert t.metric == "accessibility" and t.radius_m is not None
            continue
        assert _squash(t.wording) in source, (t.id, t.wording)
        assert all(k in FACILITY_KINDS for k in t.kinds)


def test_key_targets_encoded(jingkai, shangjie):
    jk = {t.id: t for t in jingkai.targets}
    assert jk["29"].metric == "presence_per_unit" and jk["29"].kinds == ("children_home",)
    assert jk["29"].target == 1.0
    assert jk["22a"].metric == "count" and jk["22a"].target == 5.0
    assert jk["22b"].unit_level == "subdistrict"
    assert jk["8b"].per == 1000 and jk["8b"].capacity_field == "capacity"
    assert jk["35"].target == (0.8, 1.0) and jk["35"].per == 10000
    assert jk["37a"].unit_types == ("community",) and jk["37a"].target == 0.95
    assert jk["37b"].unit_types == ("village",) and jk["37b"].target == 0.85
    sj = {t.id: t for t in shangjie.targets}
    parks = [t for t in shangjie.targets if t.item == "成长空间6"]
    assert {t.target for t in parks} == {(2.0, 3.0), (10.0, 15.0)}
    stations = [t for t in shangjie.targets if t.item == "权利保障3" and t.metric == "count"]
    assert stations[0].target == 6.0
    assert any(t.assumption for t in sj.values() if t.item == "发展环境2")


def _write_plan(tmp_path: Path, body: str) -> Path:
    head = '[plan]\nid = "t"\nname = "测试"\n\n'
    path = tmp_path / "plan.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


TARGET = """[[targets]]
id = "1"
domain = "成长空间友好"
item = "1"
title = "测试"
wording = "测试"
metric = "count"
year = 2025
target = 2
"""


def test_unknown_kind_names_its_line(tmp_path):
    path = _write_plan(tmp_path, TARGET + 'kind = "swimming_pool"\n')
    with pytest.raises(InputError) as err:
        load_plan(path)
    msg = err.value.message(lang="zh")
    assert "第 14 行" in msg and "swimming_pool" in msg and str(path) in msg


def test_unknown_field_and_key(tmp_path):
    path = _write_plan(tmp_path, TARGET + 'kind = "park"\nfilters = { colour = "red" }\n')
    with pytest.raises(InputError, match="第 15 行"):
        load_plan(path)
    path = _write_plan(tmp_path, TARGET + 'kind = "park"\ncapacity_field = "seats"\n')
    with pytest.raises(InputError, match="第 15 行"):
        load_plan(path)


def test_duplicate_id_and_toml_syntax(tmp_path):
    path = _write_plan(tmp_path, TARGET + 'kind = "park"\n\n' + TARGET + 'kind = "park"\n')
    with pytest.raises(InputError, match="重复"):
        load_plan(path)
    path = _write_plan(tmp_path, TARGET + 'kind = "park\n')
    with pytest.raises(InputError, match="TOML"):
        load_plan(path)


def test_share_targets_must_be_fractions(tmp_path):
    body = TARGET.replace('metric = "count"', 'metric = "presence_per_unit"').replace(
        "target = 2", "target = 95")
    with pytest.raises(InputError, match="0–1"):
        load_plan(_write_plan(tmp_path, body + 'kind = "park"\n'))


def test_errors_in_english_keep_the_line(tmp_path):
    path = _write_plan(tmp_path, TARGET + 'kind = "swimming_pool"\n')
    with pytest.raises(InputError) as err:
        load_plan(path)
    assert "line 14: unknown facility kind 'swimming_pool'" in err.value.message(lang="en")


def test_non_numeric_values_name_their_line(tmp_path):
    path = _write_plan(tmp_path, TARGET.replace("year = 2025", 'year = "abc"') + 'kind = "park"\n')
    with pytest.raises(InputError, match="第 12 行：year 应为整数"):
        load_plan(path)
    body = TARGET.replace('metric = "count"', 'metric = "per_capita"') + 'kind = "park"\nper = "千"\n'
    with pytest.raises(InputError, match="第 15 行：per 应为数字"):
        load_plan(_write_plan(tmp_path, body))


def test_duplicate_toml_key_names_its_line(tmp_path):
    path = _write_plan(tmp_path, TARGET + 'kind = "park"\nkind = "park"\n')
    with pytest.raises(InputError, match="第 15 行"):
        load_plan(path)
