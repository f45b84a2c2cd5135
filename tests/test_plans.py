"""Both seed plans load whole and validate; bad plan files name their line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cfplan.analysis.plan import METRICS, UNITS_EN, load_plan, unit_text
from cfplan.cli import main
from cfplan.layers.errors import InputError
from cfplan.layers.kinds import FACILITY_KINDS

SEEDS = Path(__file__).resolve().parents[1] / "analysis" / "plans" / "sources"


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


# CJK Unified Ideographs (with extension A and the compatibility block), CJK symbols and
# punctuation (、。「」〔〕…) and full-width forms (，：；（）).
_CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    """True when ``text`` holds a Chinese character or CJK punctuation."""
    return _CJK.search(text) is not None


def test_has_cjk():
    assert has_cjk("儿童之家") and has_cjk("a，b") and has_cjk("〔2023〕") and has_cjk("、")
    assert not has_cjk("≤ 300 m (5-minute circle), “double reduction”, ‰, m², café")


PLANS = ["jingkai", "shangjie"]


@pytest.mark.parametrize("plan_name", PLANS)
def test_every_assumption_has_english(request, plan_name):
    plan = request.getfixturevalue(plan_name)
    assumed = [t for t in plan.targets if t.assumption]
    assert assumed
    for t in assumed:
        assert t.assumption_en.strip(), t.id
        assert not has_cjk(t.assumption_en), (t.id, t.assumption_en)
        assert has_cjk(t.assumption), t.id
        assert t.text("assumption", "en") == t.assumption_en
        assert t.text("assumption", "zh") == t.assumption
    assert all(not t.assumption_en for t in plan.targets if not t.assumption)


@pytest.mark.parametrize("plan_name", PLANS)
def test_standard_targets_in_both_languages(request, plan_name):
    plan = request.getfixturevalue(plan_name)
    standard = [t for t in plan.targets if t.origin == "standard"]
    assert len(standard) == 6
    for t in standard:
        assert has_cjk(t.title) and has_cjk(t.wording), t.id
        assert t.title_en and t.wording_en, t.id
        assert not has_cjk(t.title_en) and not has_cjk(t.wording_en), t.id
        assert t.text("title", "en") == t.title_en and t.text("wording", "en") == t.wording_en
        assert t.text("title", "zh") == t.title and t.text("wording") == t.wording
        if t.kinds != ("park",):  # the park target's wording gives an area, not its radius
            radius = f"{t.radius_m:g} m"
            assert radius in t.wording and radius in t.wording_en, t.id


@pytest.mark.parametrize("plan_name", PLANS)
def test_plan_wording_falls_back_to_chinese(request, plan_name):
    plan = request.getfixturevalue(plan_name)
    for t in plan.targets:
        if t.origin == "plan":
            assert not t.title_en and not t.wording_en, t.id
            assert t.text("title", "en") == t.title and t.text("wording", "en") == t.wording


@pytest.mark.parametrize("plan_name", PLANS)
def test_every_unit_has_english(request, plan_name):
    plan = request.getfixturevalue(plan_name)
    units = {t.unit for t in plan.targets if t.unit}
    assert units
    for unit in units:
        assert unit in UNITS_EN, unit
        assert not has_cjk(unit_text(unit, "en")), unit
        assert unit_text(unit, "zh") == unit
    assert f"{12:g}{unit_text('课时', 'en')}" == "12 class hours"
    assert unit_text("%", "en") == "%" and unit_text("‰", "en") == "‰"


@pytest.mark.parametrize("plan_name", PLANS)
def test_plans_still_validate(capsys, plan_name):
    assert main(["validate", "--plan", plan_name]) == 0
    assert "有效" in capsys.readouterr().out
    assert main(["validate", "--plan", plan_name, "--lang", "en"]) == 0
    assert "valid" in capsys.readouterr().out


def test_english_keys_load(tmp_path):
    body = TARGET + ('kind = "park"\nassumption = "假设"\nassumption_en = "An assumption"\n'
                     'title_en = "Test"\nwording_en = "Test wording"\n')
    t = load_plan(_write_plan(tmp_path, body)).targets[0]
    assert (t.title_en, t.wording_en, t.assumption_en) == ("Test", "Test wording", "An assumption")
    assert t.text("assumption", "en") == "An assumption" and t.text("assumption", "zh") == "假设"
    t = load_plan(_write_plan(tmp_path, TARGET + 'kind = "park"\n')).targets[0]
    assert t.text("title", "en") == "测试" and t.text("assumption", "en") == ""


def test_every_task_names_its_lead_and_responsible_units_verbatim(jingkai, shangjie):
    source = _squash((SEEDS / "001_b8979a95de264490.txt").read_text(encoding="utf-8"))
    tasks = [t for t in jingkai.targets if t.item.isdigit()]
    assert {t.item for t in tasks} == {str(i) for i in range(1, 56)}
    for t in tasks:
        assert t.lead and t.responsible, t.id
        block = f"牵头单位：{t.lead}责任单位：{t.responsible}"
        assert _squash(block) in source, (t.id, block)
        # the block follows the task's own heading, before the next task's
        start = source.index(_squash(f"{t.item}.{t.title}"))
        assert source.index(_squash(block), start) < source.find(
            _squash(f"{int(t.item) + 1}."), start + 1) or t.item == "55"
    same_task = {}
    for t in tasks:
        same_task.setdefault(t.item, set()).add((t.lead, t.responsible))
    assert all(len(v) == 1 for v in same_task.values())
    # 五（三） names no units, and the 上街区 list names none at all.
    assert not any(t.lead for t in jingkai.targets if not t.item.isdigit())
    assert not any(t.lead or t.responsible for t in shangjie.targets)


def test_sections_and_repeats(jingkai):
    sections = {t.section for t in jingkai.targets}
    assert sections == {"", "重点工程", "重大项目", "品牌活动"}
    items = {s: {t.item for t in jingkai.targets if t.section == s and t.origin == "plan"}
             for s in sections}
    assert (len(items[""]), len(items["重点工程"]), len(items["重大项目"]), len(items["品牌活动"])) \
        == (55, 7, 4, 7)
    repeats = {t.id: t.same_as for t in jingkai.targets if t.metric == "same_as"}
    assert repeats == {"重点工程2": ("34",), "重点工程3": ("30",), "重点工程4": ("29",),
                       "重点工程5": ("16a",), "重点工程6": ("33a", "33b"), "重点工程7": ("23a",),
                       "重大项目1": ("5",), "重大项目2": ("7",), "重大项目3": ("38",),
                       "重大项目4": tuple(f"12{c}" for c in "abcdefghij")}
    # 22b (a station per 办事处) and 24b (the school routes' hazards) are cfplan's readings
    assert [t.id for t in jingkai.targets if t.origin == "reading"] == ["22b", "24b"]


@pytest.mark.parametrize("body,line,words", [
    (TARGET.replace('metric = "count"', 'metric = "capacity_per_unit"') + 'kind = "childcare"\n'
     'capacity = 20\naggregate = "avg"\n', 16, "aggregate 应为 each"),
    (TARGET.replace('metric = "count"', 'metric = "capacity_per_unit"') + 'kind = "childcare"\n'
     'capacity = 20\naggregate = "mean"\n', 15, "aggregate = mean 的 target"),
    (TARGET.replace('metric = "count"', 'metric = "capacity_per_unit"') + 'kind = "childcare"\n',
     5, "aggregate = each 需要 capacity"),
    (TARGET.replace('metric = "count"', 'metric = "capacity_per_unit"').replace(
        "target = 2", "target = 1") + 'kind = "childcare"\ncapacity = 20\n'
     'unit_capacity = "max"\n', 16, "unit_capacity 应为 sum"),
    (TARGET + 'kind = "park"\ndirection = "above"\n', 15, "above 仅用于 indicator"),
    (TARGET + 'kind = "park"\nfilters = { levels = ["county"] }\n', 15, "未知级别"),
    (TARGET + 'kind = "park"\nfilters = { near_m = 50 }\n', 15, "near_m 需要 near_kind"),
    (TARGET + 'kind = "park"\norigin = "cfplan"\n', 15, "origin 应为"),
    (TARGET.replace('metric = "count"', 'metric = "same_as"').replace("target = 2\n", "")
     + 'same_as = ["9"]\n', 5, "same_as 指向不存在的目标「9」"),
])
def test_new_keys_are_validated_with_their_line(tmp_path, body, line, words):
    with pytest.raises(InputError) as err:
        load_plan(_write_plan(tmp_path, body))
    msg = err.value.message(lang="zh")
    assert f"第 {line} 行" in msg and words in msg, msg
    assert f"line {line}" in err.value.message(lang="en")


def test_mean_aggregate_loads(tmp_path):
    body = (TARGET.replace('metric = "count"', 'metric = "capacity_per_unit"')
            .replace("target = 2", "target = 20") + 'kind = "childcare"\naggregate = "mean"\n')
    t = load_plan(_write_plan(tmp_path, body)).targets[0]
    assert (t.aggregate, t.target, t.capacity, t.is_share) == ("mean", 20.0, None, False)


def test_one_key_for_one_fact(tmp_path):
    one = TARGET.replace('metric = "count"', 'metric = "indicator"') + 'indicator = "x"\n'
    two = one.replace('id = "1"', 'id = "2"')
    with pytest.raises(InputError, match="same_as"):
        load_plan(_write_plan(tmp_path, one + "\n" + two))
    repeat = (TARGET.replace('id = "1"', 'id = "2"').replace('metric = "count"',
                                                             'metric = "same_as"')
              .replace("target = 2\n", "") + 'same_as = "1"\n')
    plan = load_plan(_write_plan(tmp_path, one + "\n" + repeat))
    assert plan.target("2").same_as == ("1",)
    chain = repeat.replace('id = "2"', 'id = "3"').replace('same_as = "1"', 'same_as = "2"')
    with pytest.raises(InputError, match="本身也是 same_as"):
        load_plan(_write_plan(tmp_path, one + "\n" + repeat + "\n" + chain))


def test_misspelled_plan_section_is_fatal_with_the_right_name(tmp_path):
    """``[[target]]`` for ``[[targets]]`` would silently drop a target: it stops with a hint."""
    from cfplan.analysis.plan import PLANS_DIR

    text = (PLANS_DIR / "shangjie.toml").read_text(encoding="utf-8")
    path = tmp_path / "plan.toml"
    path.write_text(re.sub(r"^\[\[targets\]\]", "[[target]]", text, count=1, flags=re.M),
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_plan(path)
    assert "[[target]] 不是规划文件的已知节；是否指 targets？" in err.value.message(lang="zh")
    assert main(["validate", "--plan", str(path)]) == 2
