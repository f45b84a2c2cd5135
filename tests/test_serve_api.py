"""The workbench's JSON API through Starlette's test client: shapes, errors, and the guard."""

from __future__ import annotations

import json
import re

import pytest
from conftest import point_in
from fastapi.testclient import TestClient

from cfplan.serve.app import create_app
from cfplan.serve.i18n import STRINGS
from cfplan.serve.security import GuardConfig
from cfplan.serve.session import open_session

LOCAL = GuardConfig("127.0.0.1", 8765)
HOST = {"Host": "127.0.0.1:8765"}


def client(demo_run, config: GuardConfig = LOCAL, **session) -> TestClient:
    app = create_app(open_session(demo_run, layers_label="demo", **session), config)
    return TestClient(app, base_url=f"http://{config.host}:{config.port}")


@pytest.fixture
def api(demo_run):
    return client(demo_run)


def test_targets_list_has_three_columns(api, demo_run):
    rows = api.get("/api/targets").json()
    assert [r["id"] for r in rows] == [t.id for t in demo_run.plan.targets]
    by_id = {r["id"]: r for r in rows}
    for key in ("id", "status_current", "status_planned", "status_edited", "value_edited"):
        assert key in by_id["29"]
    cur = {(r.target.id, r.scenario): r for r in demo_run.results}
    assert by_id["29"]["status_current"] == cur[("29", "current")].status
    assert by_id["29"]["status_planned"] == cur[("29", "planned")].status
    assert by_id["29"]["value_edited"] == pytest.approx(cur[("29", "current")].value)


def test_an_edit_answers_what_changed_then_undo_and_redo(api, demo_run):
    lon, lat = point_in(demo_run.layers, "units", "李庄村")
    answer = api.post("/api/edits", json={"op": "add", "kind": "children_home", "lon": lon,
                                          "lat": lat, "name": "试点", "capacity": 10}).json()
    assert set(answer) >= {"edit_id", "changed", "elapsed_ms"}
    assert answer["edit_id"] == 1 and answer["elapsed_ms"] > 0
    change = next(c for c in answer["changed"] if c["id"] == "29")
    assert (change["before"]["count"], change["after"]["count"]) == (4, 3)
    assert "李庄村" in change["before"]["names"] and "李庄村" not in change["after"]["names"]
    assert change["summary"] == "29：缺儿童之家的村/社区 4 → 3"
    row = next(r for r in api.get("/api/targets").json() if r["id"] == "29")
    assert row["value_edited"] == pytest.approx(33 / 36)
    fac = api.get("/api/facilities").json()["facilities"]
    assert any(f["name"] == "试点" and f["kind"] == "children_home" for f in fac)
    back = api.post("/api/undo").json()
    assert back["edit_id"] == 0
    assert next(c for c in back["changed"] if c["id"] == "29")["after"]["count"] == 4
    assert api.post("/api/undo").json()["changed"] == []
    again = api.post("/api/redo").json()
    assert next(c for c in again["changed"] if c["id"] == "29")["after"]["count"] == 3
    scenario = api.get("/api/scenario")
    assert scenario.headers["content-disposition"] == 'attachment; filename="workbench.scenario"'
    assert scenario.text.startswith("+++\n") and '"name": "试点"' in scenario.text


@pytest.mark.parametrize(("payload", "field"), [
    ({"op": "add", "kind": "castle", "lon": 113.7, "lat": 34.7, "name": "x"}, "kind"),
    ({"op": "add", "kind": "park", "lon": 1e999, "lat": 34.7, "name": "x"}, "lon"),
    ({"op": "add", "kind": "park", "lon": 100.0, "lat": 30.0, "name": "x"}, "lon"),
    ({"op": "add", "kind": "park", "lon": 113.7, "lat": 34.7, "name": "长" * 201}, "name"),
    ({"op": "add", "kind": "park", "lon": "113.7", "lat": 34.7, "name": "x"}, "lon"),
    ({"op": "add", "kind": "park", "lon": 113.7, "lat": 34.7, "name": "x",
      "file": "../../etc/passwd"}, "file"),
    ({"op": "population", "unit": "U05", "children": float("inf")}, "children"),
    ({"op": "batch", "edits": []}, "edits"),
    (["not", "an", "object"], "op"),
])
def test_bad_requests_get_422_naming_the_field_and_change_nothing(api, payload, field):
    before = api.get("/api/targets").json()
    body = json.dumps(payload).replace("Infinity", "1e999")
    res = api.post("/api/edits", content=body, headers={"Content-Type": "application/json"})
    assert res.status_code == 422
    assert res.json()["field"] == field
    assert api.get("/api/targets").json() == before
    assert api.get("/api/scenario").text.count('"step"') == 0


def test_not_json_or_too_large_is_refused(api):
    res = api.post("/api/edits", content=b"{op: add", headers={"Content-Type": "application/json"})
    assert res.status_code == 422 and res.json()["field"] == "body"
    big = b'{"op": "add", "name": "' + b"x" * 5_000_001 + b'"}'
    assert api.post("/api/edits", content=big).status_code == 413
    assert api.post("/api/compare", content=big).status_code == 413


def test_other_origins_are_refused(api):
    res = api.post("/api/undo", headers={"Origin": "http://evil.example"})
    assert res.status_code == 403
    assert api.get("/api/targets", headers={"Origin": "http://127.0.0.1:9999"}).status_code == 403
    assert api.post("/api/undo", headers={"Origin": "http://127.0.0.1:8765"}).status_code == 200
    assert api.post("/api/undo", headers={"Origin": "http://localhost:8765"}).status_code == 200


def test_a_foreign_host_header_is_refused(api):
    # a page on another name resolving to the loopback (DNS rebinding) cannot read the API
    assert api.get("/api/targets", headers={"Host": "evil.example:8765"}).status_code == 400


def test_a_non_loopback_host_needs_the_token(demo_run):
    config = GuardConfig("192.0.2.10", 8765, token="s3cret-token")
    api = client(demo_run, config)
    assert api.get("/api/targets").status_code == 401
    assert api.get("/").status_code == 401
    assert api.get("/static/workbench.js").status_code == 401
    assert api.post("/api/undo").status_code == 401
    assert api.get("/api/targets", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = api.get("/api/targets", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200
    page = api.get("/?token=s3cret-token")
    assert page.status_code == 200
    assert "cfplan_token=s3cret-token" in page.headers["set-cookie"]
    assert "HttpOnly" in page.headers["set-cookie"] and "SameSite=Strict" in page.headers["set-cookie"]
    assert api.get("/api/targets").status_code == 200  # the cookie now carries it


def test_serve_generates_a_token_off_the_loopback(monkeypatch, demo_run):
    import cfplan.serve.run as run

    monkeypatch.setattr("cfplan.pipeline.assess", lambda *a, **k: demo_run)
    _, config = run.build(run.ServeOptions(host="0.0.0.0", port=8765))
    assert config.token and len(config.token) >= 40
    assert run.url_of(config) == f"http://0.0.0.0:8765/?token={config.token}"
    _, local = run.build(run.ServeOptions())
    assert local.token is None and run.url_of(local) == "http://127.0.0.1:8765/"


def test_read_only_serves_the_page_but_refuses_edits(demo_run):
    api = client(demo_run, GuardConfig("127.0.0.1", 8765, read_only=True), read_only=True)
    assert api.get("/").status_code == 200
    assert api.get("/api/targets").status_code == 200
    lon, lat = point_in(demo_run.layers, "units", "李庄村")
    res = api.post("/api/edits", json={"op": "add", "kind": "park", "lon": lon, "lat": lat,
                                       "name": "x"})
    assert res.status_code == 403
    assert api.post("/api/undo").status_code == 403
    assert api.get("/api/state").json()["read_only"] is True


def test_only_the_vendored_files_are_served(api):
    assert api.get("/static/leaflet.js").status_code == 200
    assert api.get("/static/workbench.js").headers["content-type"].startswith("text/javascript")
    for path in ("/static/../pyproject.toml", "/static/%2e%2e/cli.py", "/static/cfplan.js",
                 "/api/scenario/../../etc/passwd"):
        assert api.get(path).status_code == 404, path


def test_page_is_offline_and_in_one_language(demo_run):
    for lang, other in (("zh", 1), ("en", 0)):
        page = client(demo_run, lang=lang).get("/")
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
        srcs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert srcs and all(s.startswith("/static/") for s in srcs)
        config = json.loads(re.search(r'id="wb-config">(.*?)</script>', page.text).group(1))
        assert config["lang"] == lang
        theirs = {v[other] for v in STRINGS.values()} - {v[1 - other] for v in STRINGS.values()}
        assert not theirs & set(config["strings"].values())
    zh_words = [v for v in client(demo_run, lang="zh").get("/api/state").json()["vocabulary"]
                ["result_statuses"].values()]
    assert zh_words == ["达成", "未达成", "未知", "未评估"]


def test_reach_and_suggest(api, demo_run):
    reach = api.get("/api/reach?kind=kindergarten").json()
    assert {f["properties"]["minutes"] for f in reach["features"]} == {5, 10, 15}
    assert api.get("/api/reach?kind=../../x").status_code == 422
    sites = api.post("/api/suggest", json={"target": "22b"}).json()["sites"]
    assert sites and all(s["kind"] == "protection_station" for s in sites)
    assert api.post("/api/suggest", json={"target": "no such"}).status_code == 422
    first = sites[0]
    res = api.post("/api/edits", json={"op": "add", "kind": first["kind"], "lon": first["lon"],
                                       "lat": first["lat"], "name": first["name"],
                                       "level": "subdistrict"}).json()
    assert any(c["id"] == "22b" for c in res["changed"])


def test_compare_with_an_uploaded_scenario(api, demo_run):
    lon, lat = point_in(demo_run.layers, "units", "李庄村")
    api.post("/api/edits", json={"op": "add", "kind": "children_home", "lon": lon, "lat": lat,
                                 "name": "试点"})
    saved = api.get("/api/scenario").text
    api.post("/api/undo")
    rows = api.post("/api/compare", content=saved.encode()).json()
    differs = [r["id"] for r in rows if r["differs"]]
    assert differs == ["29", "重点工程4"]
    assert api.post("/api/compare", content=b"not a scenario").status_code == 422


def test_serve_command_line_usage(monkeypatch, capsys, demo_run):
    from cfplan.cli import main

    assert main(["serve", "--layers", "x"]) == 64
    assert main(["serve", "--port", "0"]) == 64
    started = {}

    def fake_run(app, **options):  # uvicorn.run: record what would be served
        started.update(options, app=app)

    monkeypatch.setattr("cfplan.pipeline.assess", lambda *a, **k: demo_run)
    monkeypatch.setattr("uvicorn.run", fake_run)
    assert main(["serve", "--host", "0.0.0.0", "--port", "8800", "--read-only",
                 "--lang", "en"]) == 0
    url = capsys.readouterr().out.strip().splitlines()[-1]
    assert url.startswith("http://0.0.0.0:8800/?token=") and len(url) > 60
    assert (started["host"], started["port"]) == ("0.0.0.0", 8800)
    api = TestClient(started["app"], base_url="http://0.0.0.0:8800")
    assert api.get("/api/targets").status_code == 401
    token = url.split("token=")[1]
    assert api.get("/", params={"token": token}).status_code == 200
    assert api.post("/api/undo").status_code == 403  # read-only
