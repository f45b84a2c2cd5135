"""The workbench web app: the page, its scripts, and the JSON API over a session.

Routes (all answered in the session's language where they carry text):

``GET /``                    the page (map, targets table, headline)
``GET /static/<name>``       the page's scripts and styles (a fixed list, vendored)
``GET /api/state``           everything the page draws at load
``GET /api/targets``         ``[{id, status_current, status_planned, status_edited, value_edited, …}]``
``GET /api/facilities``      the edited scenario's facilities
``POST /api/edits``          one edit, or ``{"op": "batch", "edits": [...]}`` as one step
``POST /api/undo``, ``POST /api/redo``
``GET /api/scenario``        the scenario file's content
``POST /api/compare``        the edited scenario beside an uploaded scenario file's content
``GET /api/reach?kind=K``    the streets within 5/10/15 minutes of kind K, edited scenario
``POST /api/suggest``        ``{"target": id}``: sites the siting models propose
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.middleware import Middleware

from cfplan.analysis.workbench import EditError
from cfplan.layers.errors import CfplanError, InputError
from cfplan.layers.kinds import FACILITY_KINDS
from cfplan.layers.text import Text
from cfplan.maps.display import js_json
from cfplan.maps.plan_map import esc
from cfplan.serve.i18n import strings
from cfplan.serve.security import Guard, GuardConfig
from cfplan.serve.session import Session

__all__ = ["MAX_BODY", "create_app"]

MAX_BODY = 5_000_000
_MAP_STATIC = resources.files("cfplan.maps") / "static"
_OWN_STATIC = resources.files("cfplan.serve") / "static"
# url name -> (file, media type); nothing else is served, and no name comes from a request
STATIC: dict[str, tuple[Any, str]] = {
    "leaflet.js": (_MAP_STATIC / "leaflet.js", "text/javascript"),
    "leaflet.css": (_MAP_STATIC / "leaflet.css", "text/css"),
    "workbench.js": (_OWN_STATIC / "workbench.js", "text/javascript"),
    "workbench.css": (_OWN_STATIC / "workbench.css", "text/css"),
}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; "
       "base-uri 'none'")


def _problem(status: int, field: str, text: Text, lang: str) -> JSONResponse:
    return JSONResponse({"error": text.get(lang), "field": field,
                         "detail": [{"field": field, "message": text.get(lang)}]},
                        status_code=status)


async def _body(request: Request) -> bytes:
    """Return the request's body, refusing one larger than :data:`MAX_BODY` before reading it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _RequestError("body", Text("请求过大", "the request is too large"), 413)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise _RequestError("body", Text("请求过大", "the request is too large"), 413)
    return body


async def _json_body(request: Request, lang: str) -> Any:
    body = await _body(request)
    try:
        return json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _RequestError("body", Text("请求不是有效的 JSON", "the request is not valid JSON")
                          ) from exc


class _RequestError(Exception):
    def __init__(self, field: str, text: Text, status: int = 422) -> None:
        super().__init__(text.en)
        self.field, self.text, self.status = field, text, status


def page_html(session: Session) -> str:
    """Return the page: a shell whose text comes from the session's language, data from the API."""
    s = strings(session.lang)
    config = {"lang": session.lang, "read_only": session.read_only, "strings": s}
    title = f"{session.workbench.layers.name if session.lang == 'zh' else session.workbench.layers.name_en}"
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if session.lang == 'zh' else 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · {esc(s['app'])}</title>
<link rel="stylesheet" href="/static/leaflet.css">
<link rel="stylesheet" href="/static/workbench.css">
</head>
<body class="{'wb-readonly' if session.read_only else ''}">
<script type="application/json" id="wb-config">{js_json(config)}</script>
<div id="wb-app">
  <div id="wb-map"></div>
  <aside id="wb-side"></aside>
</div>
<script src="/static/leaflet.js"></script>
<script src="/static/workbench.js"></script>
</body>
</html>
"""


def create_app(session: Session, config: GuardConfig) -> FastAPI:
    """Return the ASGI app over ``session``, guarded by ``config``.

    Returns
    -------
    fastapi.FastAPI
        Serve it with uvicorn (``cfplan serve``) or drive it with a test client.
    """
    lang = session.lang
    app = FastAPI(title="cfplan workbench", docs_url=None, redoc_url=None, openapi_url=None,
                  middleware=[Middleware(Guard, config=config)])

    @app.exception_handler(_RequestError)
    async def bad_request(_: Request, exc: _RequestError) -> JSONResponse:
        return _problem(exc.status, exc.field, exc.text, lang)

    def headers() -> dict[str, str]:
        return {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer"}

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(page_html(session), headers={
            **headers(), "Content-Security-Policy": CSP, "X-Frame-Options": "DENY"})

    def static(name: str) -> Response:
        file, media = STATIC[name]
        return Response(file.read_bytes(), media_type=media, headers={
            "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    for name in STATIC:
        app.add_api_route(f"/static/{name}", lambda name=name: static(name), methods=["GET"],
                          include_in_schema=False)

    @app.get("/api/state")
    def state() -> JSONResponse:
        with session.lock:
            wb = session.workbench
            body = {"name": wb.layers.name if lang == "zh" else wb.layers.name_en,
                    "synthetic": bool(wb.layers.synthetic), "plan": wb.plan.name if lang == "zh"
                    else wb.plan.name_en, "base": wb.base, "read_only": session.read_only,
                    "district": session.district(), "facilities": session.facilities(),
                    "kinds": session.kinds(), "vocabulary": session.vocabulary(),
                    "targets": session.targets(), "headline": wb.headline(),
                    "edits": session.edits(), "can_undo": wb.can_undo,
                    "can_redo": wb.can_redo, "streets": wb.network is not None,
                    "default_year": int(wb.plan.period[1])}
        return JSONResponse(body, headers=headers())

    @app.get("/api/targets")
    def targets() -> JSONResponse:
        with session.lock:
            return JSONResponse(session.targets(), headers=headers())

    @app.get("/api/facilities")
    def facilities() -> JSONResponse:
        with session.lock:
            return JSONResponse({"facilities": session.facilities(), "edits": session.edits()},
                                headers=headers())

    @app.post("/api/edits")
    async def edits(request: Request) -> JSONResponse:
        payload = await _json_body(request, lang)
        items = payload
        if isinstance(payload, dict) and payload.get("op") == "batch":
            items = payload.get("edits")
            if not isinstance(items, list) or not items or len(items) > 100:
                raise _RequestError("edits", Text("应为 1 到 100 项编辑的列表",
                                                "must be a list of 1 to 100 edits"))
        elif not isinstance(payload, dict):
            raise _RequestError("op", Text("请求应为 JSON 对象", "the request must be a JSON object"))
        with session.lock:
            try:
                outcome = session.workbench.edit(items)
            except EditError as exc:
                raise _RequestError(exc.field, exc.text) from exc
            return JSONResponse(session.outcome(outcome), headers=headers())

    @app.post("/api/undo")
    def undo() -> JSONResponse:
        with session.lock:
            return JSONResponse(session.outcome(session.workbench.undo()), headers=headers())

    @app.post("/api/redo")
    def redo() -> JSONResponse:
        with session.lock:
            return JSONResponse(session.outcome(session.workbench.redo()), headers=headers())

    @app.get("/api/scenario")
    def scenario() -> Response:
        with session.lock:
            text = session.scenario_text()
        return Response(text, media_type="text/plain; charset=utf-8", headers={
            **headers(), "Content-Disposition": 'attachment; filename="workbench.scenario"'})

    @app.post("/api/compare")
    async def compare(request: Request) -> JSONResponse:
        body = await _body(request)
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _RequestError("body", Text("文件不是 UTF-8 文本", "the file is not UTF-8 text")
                              ) from exc
        with session.lock:
            try:
                rows = session.compare(text)
            except InputError as exc:
                raise _RequestError(exc.field or "body", exc.problem) from exc
        return JSONResponse(rows, headers=headers())

    @app.get("/api/reach")
    def reach(kind: str = "") -> JSONResponse:
        if kind not in FACILITY_KINDS:
            raise _RequestError("kind", Text("未知设施类别", "unknown facility kind"))
        with session.lock:
            return JSONResponse(session.reach(kind), headers=headers())

    @app.post("/api/suggest")
    async def suggest(request: Request) -> JSONResponse:
        payload = await _json_body(request, lang)
        target = payload.get("target") if isinstance(payload, dict) else None
        ids = {t.id for t in session.plan.targets}
        if not isinstance(target, str) or target not in ids:
            raise _RequestError("target", Text("没有这个目标", "no such target"))
        with session.lock:
            try:
                return JSONResponse(session.suggest(target), headers=headers())
            except CfplanError as exc:
                raise _RequestError("target", Text(exc.message(lang="zh"), exc.message(lang="en"))
                                  ) from exc

    return app


def static_files() -> list[Path]:
    """Return the files the page loads (for checks that nothing else is needed)."""
    return [Path(str(f)) for f, _ in STATIC.values()]
