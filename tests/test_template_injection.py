"""Template syntax in any text of the data is shown literally and never runs (Jinja/branca).

Every text field of every layer, the plan, the indicators file, OSM street and facility tags
and a batch job carry a payload that, if any template engine ever compiled it, would create
a folder (``os.makedirs`` reached through ``cycler``), print 49, or stop the page on an
unclosed comment. The runs must succeed, create nothing, and show every payload as text.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
from pathlib import Path

import docx
import openpyxl
import pytest

from cfplan import run_batch
from cfplan.analysis.plan import PLANS_DIR
from cfplan.cli import main
from cfplan.demo import DEMO_DIR
from cfplan.pipeline import assess


def payload(tag: str) -> str:
    """Return a text that runs ``os.makedirs('pwn-<tag>')`` if compiled as a Jinja template."""
    return (f"{{{{ cycler.__init__.__globals__.os.makedirs('pwn-{tag}') }}}}"
            "{{7*7}}{% if 1 %}IF{% endif %}{#")


# Short payloads for places that cannot hold the long one (batch folder names).
SHORT = "{{ cycler.__init__.__globals__.os.makedirs('pwn-batch') }}"
PLAN_KEYS = ("name", "name_en", "district", "document", "title", "lead", "responsible",
             "wording", "assumption", "assumption_en")


def _mutate_geojson(path: Path, tag: str, *, fields: tuple[str, ...] = ("名称",)) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    for feature in data["features"]:
        for key in fields:
            value = feature["properties"].get(key)
            feature["properties"][key] = f"{value or ''}{payload(tag)}"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _hostile_folder(root: Path) -> Path:
    """A copy of the demo with template payloads in every text field."""
    folder = root / "layers"
    shutil.copytree(DEMO_DIR, folder)
    manifest = folder / "layers.toml"
    text = manifest.read_text(encoding="utf-8")
    text = text.replace('name = "示范区（合成数据）"', f'name = "示范区{payload("district")}"')
    text = text.replace('name_en = "Demo district (synthetic)"',
                        f'name_en = "Demo {payload("district-en")}"')
    text += '\n[[facilities]]\nfile = "osm_facilities.osm"\n'
    manifest.write_text(text, encoding="utf-8")
    _mutate_geojson(folder / "units.geojson", "units")
    _mutate_geojson(folder / "district.geojson", "district-layer")
    _mutate_geojson(folder / "facilities.geojson", "facilities")
    _mutate_geojson(folder / "parks.geojson", "parks")
    _mutate_geojson(folder / "school_routes.geojson", "routes")
    _mutate_geojson(folder / "school_districts.geojson", "school-districts")
    _mutate_geojson(folder / "gates.geojson", "gates")
    # one facility whose kind is a payload: rejected, its reason quoting the value
    data = json.loads((folder / "facilities.geojson").read_text(encoding="utf-8"))
    data["features"][0]["properties"]["类别"] = payload("kind")
    (folder / "facilities.geojson").write_text(json.dumps(data, ensure_ascii=False),
                                               encoding="utf-8")
    csv_text = (folder / "childcare.csv").read_text(encoding="utf-8-sig")
    lines = csv_text.splitlines()
    lines[1:] = [re.sub(r"^([^,]*),([^,]*),", lambda m: f"{m[1]},{m[2]}{payload('childcare')},",
                        line) for line in lines[1:]]
    (folder / "childcare.csv").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    ind = (folder / "indicators.csv").read_text(encoding="utf-8-sig").splitlines()
    out = [ind[0]]
    for line in ind[1:]:
        cells = next(csv.reader([line]))
        cells[5] = f"{cells[5]}{payload('source')}"  # source
        cells[6] = f"{cells[6]}{payload('note')}"  # note
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(cells)
        out.append(buf.getvalue())
    (folder / "indicators.csv").write_text("\ufeff" + "\n".join(out) + "\n", encoding="utf-8")
    # OSM: every street name, and a playground whose name and operator are payloads
    osm = (folder / "streets.osm").read_text(encoding="utf-8")
    osm = re.sub(r'(<tag k="name" v=")([^"]*)(")',
                 lambda m: m[1] + m[2] + html.escape(payload("street")) + m[3], osm)
    (folder / "streets.osm").write_text(osm, encoding="utf-8")
    units = json.loads((DEMO_DIR / "units.geojson").read_text(encoding="utf-8"))
    ring = units["features"][0]["geometry"]["coordinates"][0]
    lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    name = html.escape(payload("osm-tag"), quote=True)
    (folder / "osm_facilities.osm").write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"
        f"<node id='-1' lat='{lat:.7f}' lon='{lon:.7f}' version='1'>"
        f"<tag k='leisure' v='playground'/><tag k='name' v=\"{name}\"/>"
        f"<tag k='operator' v=\"{name}\"/></node>\n</osm>\n", encoding="utf-8")
    return folder


def _hostile_plan(root: Path) -> Path:
    text = (PLANS_DIR / "jingkai.toml").read_text(encoding="utf-8")
    pattern = re.compile(rf'^({"|".join(PLAN_KEYS)}) = "(.*)"$', re.M)
    text = pattern.sub(lambda m: f'{m[1]} = "{m[2]}{payload("plan-" + m[1])}"', text)
    path = root / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return path


def shown(page: str) -> str:
    """Return a page's text as a reader sees it: JSON ``\\u`` escapes and HTML entities decoded."""
    return html.unescape(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), page))


def _created(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("pwn-*")) + sorted(
        str(p) for p in Path.cwd().glob("pwn-*"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("template")
    folder = _hostile_folder(root)
    plan = _hostile_plan(root)
    out = root / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        code = main(["run", "--layers", str(folder), "--plan", str(plan), "--out", str(out)])
    return root, folder, plan, out, code


def test_the_run_succeeds_and_creates_nothing(hostile):
    root, _, _, out, code = hostile
    assert code == 0
    assert _created(root) == []
    assert (out / "map.html").is_file() and (out / "report.docx").is_file()


@pytest.mark.parametrize("tag", ["units", "facilities", "parks", "street", "routes", "district", "childcare", "plan-title",
                                 "plan-name", "osm-tag"])
def test_the_map_shows_each_payload_literally(hostile, tag):
    page = shown((hostile[3] / "map.html").read_text(encoding="utf-8"))
    assert payload(tag) in page
    assert "IF" + "{#" not in page  # an evaluated {% if %} would leave IF before the comment


def test_the_reports_hold_the_payload_as_text(hostile):
    out = hostile[3]
    unit = payload("units")
    md = re.sub(r"\\(.)", r"\1", (out / "report.md").read_text(encoding="utf-8"))
    assert unit in md and payload("plan-wording") in md and payload("plan-lead") in md
    assert payload("street") in md and payload("kind") in md
    document = docx.Document(str(out / "report.docx"))
    texts = [p.text for p in document.paragraphs] + [
        c.text for t in document.tables for r in t.rows for c in r.cells]
    assert any(unit in t for t in texts)
    assert any(payload("plan-lead") in t for t in texts)
    workbook = openpyxl.load_workbook(out / "report.xlsx")
    cells = [str(c.value) for ws in workbook.worksheets for r in ws.iter_rows() for c in r
             if c.value is not None]
    assert any(unit in c for c in cells) and any(payload("plan-lead") in c for c in cells)
    units_csv = (out / "units.csv").read_text(encoding="utf-8-sig")
    assert unit in units_csv
    rejected = (out / "rejected.csv").read_text(encoding="utf-8-sig")
    assert payload("kind") in rejected
    layer = json.loads((out / "layers" / "units.geojson").read_text(encoding="utf-8"))
    assert all(f["properties"]["name"].endswith(unit) for f in layer["features"])
    gates = json.loads((out / "layers" / "gates.geojson").read_text(encoding="utf-8"))
    assert any(payload("gates") in str(f["properties"]) for f in gates["features"])
    used = json.loads((out / "layers" / "school_districts.geojson").read_text(encoding="utf-8"))
    assert any(payload("school-districts") in str(f["properties"]) for f in used["features"])


def test_jupyter_view_runs_nothing(hostile):
    root, folder, plan, _, _ = hostile
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        result = assess(folder, plan, access=False, routes=False)
        frame = result.map()._repr_html_()
    assert _created(root) == []
    srcdoc = html.unescape(frame)
    assert payload("units") in srcdoc and "49IF" not in srcdoc


def test_batch_overview_shows_names_and_errors_literally(hostile, tmp_path):
    _, folder, plan, _, _ = hostile
    (tmp_path / "jobs.toml").write_text(
        f'[[districts]]\nname = "东区{SHORT}"\nlayers = "{folder.as_posix()}"\n'
        f'plan = "{plan.as_posix()}"\n\n'
        f'[[districts]]\nname = "西区"\nlayers = "missing{SHORT}"\nplan = "jingkai"\n',
        encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        summary = run_batch(tmp_path / "jobs.toml", tmp_path / "city", workers=1,
                            processes=False, access=False, routes=False, progress=False)
    assert list(summary["status"]) == ["ok", "failed"]
    assert _created(tmp_path) == []
    assert (tmp_path / "city" / f"东区{SHORT}" / "map.html").is_file()
    page = shown((tmp_path / "city" / "overview.html").read_text(encoding="utf-8"))
    assert f"东区{SHORT}" in page and f"missing{SHORT}" in page


def test_site_writes_facility_names_literally(hostile):
    root, folder, plan, _, _ = hostile
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        result = assess(folder, plan, routes=False)
        result.site(kinds=["children_home"])
        files = result.write(root / "site", lang="zh")
    assert _created(root) == []
    assert any(p.name == "sites.geojson" for p in files)
    page = (root / "site" / "map.html").read_text(encoding="utf-8")
    assert payload("units") in page and payload("facilities") in page


def test_folium_elements_on_a_safe_page_keep_template_text(tmp_path):
    """folium's own popups, tooltips, GeoJSON and DivIcons: data in them is never compiled."""
    import folium

    from cfplan.maps.plan_map import offline_html
    from cfplan.maps.safe_render import safe_map

    text = payload("folium")
    m = safe_map(location=[34.7, 113.8], zoom_start=12, tiles=None)
    folium.Marker([34.7, 113.8], popup=folium.Popup(text), tooltip=text,
                  icon=folium.DivIcon(html=html.escape(text))).add_to(m)
    folium.GeoJson({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": text},
        "geometry": {"type": "Point", "coordinates": [113.8, 34.7]}}]},
        tooltip=folium.GeoJsonTooltip(fields=["name"]),
        popup=folium.GeoJsonPopup(fields=["name"])).add_to(m)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        pages = [offline_html(m), m._repr_html_(), m.get_root().render()]
    assert _created(tmp_path) == []
    for page in pages:
        assert text in shown(shown(page))
    # plain branca would have compiled the same page (the guard is what stops it)
    plain = folium.Map(location=[34.7, 113.8], zoom_start=12, tiles=None)
    folium.Marker([34.7, 113.8], tooltip="{{7*7}}").add_to(plain)
    assert "{{7*7}}" not in plain.get_root().render()
    assert "{{7*7}}" in shown(m.get_root().render())
