"""``cfplan serve``: assess the district once, then serve the workbench on a local port."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfplan.layers import log
from cfplan.layers.text import Text
from cfplan.serve.security import GuardConfig, is_loopback, new_token

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ServeOptions", "build", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@dataclass(frozen=True)
class ServeOptions:
    """How ``cfplan serve`` runs.

    Attributes
    ----------
    layers, plan
        The layer folder and plan (default: the demo district and the 经开区 plan).
    host, port
        Where to listen (default the loopback, 8765).
    token
        Required on every request; generated when ``host`` is not the loopback.
    read_only
        Serve the page with edits disabled.
    lang
        The page's language.
    base
        The scenario edits apply to.
    scenario_file
        A saved scenario to start from.
    graph_cache
        A street cache, as for ``cfplan run``.
    """

    layers: str | None = None
    plan: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    read_only: bool = False
    lang: str = "zh"
    base: str = "current"
    scenario_file: str | None = None
    graph_cache: str | None = None


def build(options: ServeOptions) -> tuple[Any, GuardConfig]:
    """Assess the district and return the app and its guard (nothing listens yet).

    Returns
    -------
    tuple
        The FastAPI app and its :class:`GuardConfig` (with the token in force).
    """
    from cfplan.analysis.workbench import check_scenario, layers_digest, read_scenario
    from cfplan.demo import DEMO_DIR
    from cfplan.pipeline import assess
    from cfplan.serve.app import create_app
    from cfplan.serve.session import open_session

    folder = Path(options.layers) if options.layers else DEMO_DIR
    label = str(options.layers) if options.layers else "demo"
    base, steps = options.base, list[list[dict[str, Any]]]()
    digest = layers_digest(folder)
    assessment = assess(folder, options.plan or "jingkai", graph_cache=options.graph_cache)
    if options.scenario_file:
        header, steps = read_scenario(options.scenario_file)
        check_scenario(header, plan_id=assessment.plan.id, digest=digest,
                       source=options.scenario_file)
        base = header.base
    session = open_session(assessment, base=base, lang=options.lang, layers_label=label,
                           layers_digest=digest, read_only=options.read_only,
                           steps=steps)
    token = options.token
    if token is None and not is_loopback(options.host):
        token = new_token()
    config = GuardConfig(options.host, options.port, token=token, read_only=options.read_only)
    return create_app(session, config), config


def url_of(config: GuardConfig) -> str:
    """Return the page's URL (with the token when one is required)."""
    host = f"[{config.host}]" if ":" in config.host else config.host
    url = f"http://{host}:{config.port}/"
    return url + (f"?token={config.token}" if config.token else "")


def serve(options: ServeOptions) -> None:
    """Assess, print the URL, and serve until interrupted (uvicorn)."""
    import uvicorn

    app, config = build(options)
    url = url_of(config)
    log.info(Text(f"工作台已就绪：{url}", f"workbench ready: {url}"))
    print(url, flush=True)
    if config.token and not is_loopback(options.host):
        print(Text("访问令牌已包含在上面的网址中；没有令牌的请求一律拒绝（401）",
                   "the token is in the URL above; requests without it are refused (401)")
              .get(options.lang), file=sys.stderr, flush=True)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning",
                server_header=False, date_header=False)
