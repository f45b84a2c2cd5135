r"""Benchmark the workbench: each edit answered incrementally, against a full ``assess``.

Reproduce (from the repository root)::

    .venv/bin/python benchmarks/serve.py                  # the demo district
    .venv/bin/python benchmarks/serve.py --nodes 100000   # a synthetic 100k-node district

One process: the district is assessed once (what ``cfplan serve`` does at start), a
workbench (:meth:`cfplan.Assessment.workbench`) applies a fixed list of edits — adding
facilities of several kinds (a kindergarten among them, which re-routes the schools),
moving one, removing one, marking a planned project done, changing a unit's population —
and each edit's wall time is recorded. Then the peer: ``assess`` of the same edited layers
from scratch (the layers with the scenario's edits made,
:func:`cfplan.analysis.workbench.apply_scenario`; loading excluded on both sides), what
answering the last edit would cost without the workbench. ``agree`` compares the
workbench's targets table (both languages, every column) with the full assessment's rows
of the same scenario.

``--nodes N`` generates (once, cached like ``benchmarks/city.py``) a district of ``--units``
1 km units with ``--facilities`` facilities and a street grid of about N nodes, and assesses
it against the 经开区 plan. The last line reads
``ratio_vs_full=R agree=yes|no`` with R = full assess time / mean edit time (goal: R ≥ 20,
every edit < 300 ms on the demo and < 1.5 s at 100k nodes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cfplan.analysis.report import targets_table
from cfplan.analysis.workbench import apply_scenario
from cfplan.demo import DEMO_DIR
from cfplan.layers.load import load_layers
from cfplan.pipeline import assess


def point_in(frame, code: str) -> tuple[float, float]:  # noqa: ANN001
    """Return a point inside the polygon whose ``code`` is given (WGS-84, 7 decimals)."""
    p = frame.to_crs(4326).set_index("code").loc[code].geometry.representative_point()
    return round(p.x, 7), round(p.y, 7)


def demo_edits(layers) -> list[tuple[str, dict]]:  # noqa: ANN001
    units, subs = layers.units, layers.subdistricts
    code = dict(zip(units["name"], units["code"], strict=True))
    sub = dict(zip(subs["name"], subs["code"], strict=True))

    def at(name: str) -> tuple[float, float]:
        return point_in(units, code[name])

    b_lon, b_lat = point_in(subs, sub["白杨办事处"])
    return [
        ("add children_home", {"op": "add", "kind": "children_home", "name": "李庄村儿童之家",
                               "lon": at("李庄村")[0], "lat": at("李庄村")[1]}),
        ("move protection_station", {"op": "move", "fid": "PS3", "lon": b_lon, "lat": b_lat}),
        ("add park", {"op": "add", "kind": "park", "name": "孙河村小游园",
                      "lon": at("孙河村")[0], "lat": at("孙河村")[1]}),
        ("add childcare", {"op": "add", "kind": "childcare", "name": "明珠托育", "capacity": 30,
                           "lon": at("明珠社区")[0], "lat": at("明珠社区")[1]}),
        ("remove children_home", {"op": "remove", "fid": "CH01"}),
        ("planned done", {"op": "planned", "fid": "CH17", "outcome": "done"}),
        ("population", {"op": "population", "unit": code["阳光社区"], "population": 20000}),
        ("add kindergarten", {"op": "add", "kind": "kindergarten", "name": "张湾村幼儿园",
                              "lon": at("张湾村")[0], "lat": at("张湾村")[1]}),
    ]


def city_edits(layers) -> list[tuple[str, dict]]:  # noqa: ANN001
    units, fac = layers.units, layers.facilities
    codes = units["code"].tolist()
    pick = [codes[len(codes) // 3], codes[len(codes) // 2], codes[2 * len(codes) // 3]]

    def fid(kind: str, n: int = 0) -> str:
        return str(fac.loc[fac["kind"] == kind, "fid"].iloc[n])

    pending = fac.loc[fac["status"].isin(["planned", "under_construction"]), "fid"]
    edits = [
        ("add children_home", {"op": "add", "kind": "children_home", "name": "新儿童之家",
                               "lon": point_in(units, pick[0])[0],
                               "lat": point_in(units, pick[0])[1]}),
        ("move childcare", {"op": "move", "fid": fid("childcare"),
                            "lon": point_in(units, pick[1])[0],
                            "lat": point_in(units, pick[1])[1]}),
        ("add park", {"op": "add", "kind": "park", "name": "新游园",
                      "lon": point_in(units, pick[2])[0], "lat": point_in(units, pick[2])[1]}),
        ("remove play_facility", {"op": "remove", "fid": fid("play_facility")}),
        ("population", {"op": "population", "unit": pick[1], "population": 20000}),
        ("add kindergarten", {"op": "add", "kind": "kindergarten", "name": "新幼儿园",
                              "lon": point_in(units, pick[0])[0] + 0.001,
                              "lat": point_in(units, pick[0])[1]}),
    ]
    if len(pending):
        edits.insert(4, ("planned done", {"op": "planned", "fid": str(pending.iloc[0]),
                                          "outcome": "done"}))
    return edits


def table(plan, results) -> pd.DataFrame:  # noqa: ANN001
    return pd.concat([targets_table(plan, results, lang=lang) for lang in ("zh", "en")],
                     axis=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, help="synthetic district of about N street nodes")
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--facilities", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base", choices=("current", "planned"), default="current")
    parser.add_argument("--cache", default=os.environ.get("XDG_CACHE_HOME", str(Path.home()
                                                                                / ".cache")))
    args = parser.parse_args(argv)
    if args.nodes:
        from benchmarks.city import city_folder

        folder = city_folder(Path(args.cache) / "cfplan-bench", n_units=args.units,
                             n_facilities=args.facilities, n_nodes=args.nodes, seed=args.seed)
    else:
        folder = DEMO_DIR
    layers = load_layers(folder)
    print(f"district: {folder.name}, {len(layers.units)} units, {len(layers.facilities)} "
          "facilities", flush=True)
    start = time.perf_counter()
    base = assess(layers, "jingkai")
    t_base = time.perf_counter() - start
    network = base.access.network if base.access else None
    print(f"streets: {network.n_nodes if network else 0} nodes; full assess at start "
          f"{t_base:.2f} s", flush=True)
    start = time.perf_counter()
    wb = base.workbench(base=args.base)
    print(f"workbench ready in {time.perf_counter() - start:.2f} s", flush=True)
    edits = city_edits(layers) if args.nodes else demo_edits(layers)
    times = []
    for label, payload in edits:
        outcome = wb.edit(payload)
        times.append(outcome.elapsed_ms)
        print(f"  {label:<26s} {outcome.elapsed_ms:8.1f} ms  {len(outcome.changed):2d} targets "
              "changed", flush=True)
    undo = wb.undo()
    redo = wb.redo()
    assert undo is not None and redo is not None
    print(f"  {'undo':<26s} {undo.elapsed_ms:8.1f} ms\n  {'redo':<26s} {redo.elapsed_ms:8.1f} ms")
    edited, _ = apply_scenario(layers, [[p for _, p in edits]])
    start = time.perf_counter()
    full = assess(edited, "jingkai")
    t_full = time.perf_counter() - start
    mean_ms = statistics.fmean(times)
    agree = table(wb.plan, wb.results).equals(
        table(full.plan, [r for r in full.results if r.scenario == args.base]))
    print(f"full assess of the edited layers: {t_full:.2f} s; edits: mean {mean_ms:.1f} ms, "
          f"max {max(times):.1f} ms")
    print("reproduce: .venv/bin/python benchmarks/serve.py"
          + (f" --nodes {args.nodes} --units {args.units} --facilities {args.facilities}"
             if args.nodes else ""))
    print(f"ratio_vs_full={t_full * 1000 / mean_ms:.1f} agree={'yes' if agree else 'no'}")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
