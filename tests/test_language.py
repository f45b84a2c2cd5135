"""English output has no Chinese but names from the data and the plans' own wording."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cfplan.cli import main
from cfplan.demo import DEMO_DIR

CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
TEXT_SUFFIXES = (".md", ".csv", ".geojson", ".html")


def _allowed(layers, plan) -> set[str]:
    """Chinese that may appear in English output: data values and the plan's verbatim text."""
    allowed = set()
    for gdf in (layers.units, layers.subdistricts, layers.facilities, layers.district,
                layers.entrances, layers.school_routes, layers.school_districts,
                layers.gates):
        for col in gdf.columns:
            if gdf[col].dtype == object or pd.api.types.is_string_dtype(gdf[col]):
                allowed.update(str(v) for v in gdf[col].dropna())
    for t in plan.targets:
        allowed.update([t.wording, t.title, t.item, t.id, t.lead, t.responsible])
    allowed.update([plan.name, plan.document])
    from cfplan.layers.streets import load_streets

    allowed.update(str(v) for v in load_streets(layers).lines["name"].dropna())  # OSM names
    from cfplan.analysis.indicators import read_indicators

    reported = read_indicators(layers.indicators)  # the bureau's own values (是/否 …)
    allowed.update(str(v) for v in reported["value"] if v)
    return allowed


@pytest.fixture(scope="module")
def english_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("en")
    assert main(["demo", "--lang", "en", "--out", str(out)]) == 0
    return out


def test_english_output_has_only_quoted_chinese(english_demo, demo_layers, jingkai, capsys):
    allowed = _allowed(demo_layers, jingkai)
    found: dict[str, set[str]] = {}
    for path in sorted(english_demo.rglob("*")):
        if path.suffix not in TEXT_SUFFIXES:
            continue
        for run in CJK.findall(path.read_text(encoding="utf-8-sig")):
            # a glyph or word of our own would be a substring of no name or wording at all,
            # and single characters are checked as glyphs below
            if not any(run in a for a in allowed):
                found.setdefault(str(path.relative_to(english_demo)), set()).add(run)
    assert found == {}


def test_english_map_glyphs_and_terminal_are_english(english_demo, capsys):
    html = (english_demo / "map.html").read_text(encoding="utf-8")
    glyphs = re.findall(r'"symbol": ?"([^"]*)"', html)  # the glyphs the page draws
    assert glyphs and not any(CJK.search(g) for g in glyphs)
    assert main(["validate", "--lang", "en", "--layers", str(DEMO_DIR)]) == 0
    out = capsys.readouterr()
    assert not CJK.search(out.err)
    lines = [line for line in out.out.splitlines() if CJK.search(line)]
    assert lines == [], lines


def test_every_catalogue_message_exists_in_both_languages():
    from cfplan.layers.i18n import MESSAGES

    for key, text in MESSAGES.items():
        assert text.zh and text.en, key
        assert CJK.search(text.zh), key
        assert not CJK.search(text.en.replace("{", "").replace("}", "")), key
