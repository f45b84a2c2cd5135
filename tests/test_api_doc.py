"""docs/api.md runs: every code block, in order, as one notebook session."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_the_api_page_runs_as_one_session(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 8
    session: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), session)
    out = capsys.readouterr().out
    assert "EPSG:4547" in out and "36 units" in out
    assert "4 without a Children's home" in out
    assert "plan file not found" in out
    result = session["result"]
    assert session["plan"].id == "jingkai"
    assert result.headline("current")["total"] == len(result.plan.targets) == 109
    assert {"29", "22b"} <= set(session["gaps"]["target_id"])
    assert "folium" in type(session["m"]).__module__
    assert any(p.name == "report.md" for p in session["files"])
    siting = session["siting"]
    assert sorted(siting.sites["subdistrict_name"][siting.sites["kind"] == "protection_station"]
                  ) == ["望湖办事处"]  # 白杨办事处's station is planned (PS4)
    applied = session["applied"].targets()
    assert set(applied.loc[applied["scenario"] == "planned"].set_index("target_id").loc[
        ["22a", "22b", "29"], "status"]) == {"met"}
    assert len(session["layers_after"].facilities) == len(result.layers.facilities) + 4
    assert session["best"].objective == 8.0


def test_the_public_names_are_documented():
    import cfplan

    text = DOC.read_text(encoding="utf-8")
    for name in ("load_layers", "load_plan", "assess", "run", "InputError", "builtin_plans",
                 "site_plan", "apply_sites"):
        assert f"cfplan.{name}" in text, name
    assert set(cfplan.__all__) <= set(dir(cfplan))
