"""Bad-input cases of OSM files, for ``make_bad.py``: streets and facilities cut off or empty.

Hand-written OSM XML around unit U01, one element per line: schools without a level, a
pitch for no kind, areas clipped by the extract's edge, a file cut off.
"""

from __future__ import annotations

from bad_base import DEMO, Files, base, base_units, centre, manifest


def _osm(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="make_bad">\n'
            + body + "</osm>\n").encode("utf-8")


def case_osm_no_walkable_ways() -> Files:
    nodes = "".join(f'  <node id="{i}" version="1" lat="34.69{i}" lon="113.80{i}"/>\n'
                    for i in range(1, 5))
    ways = ('  <way id="1" version="1"><nd ref="1"/><nd ref="2"/>'
            '<tag k="highway" v="motorway"/></way>\n'
            '  <way id="2" version="1"><nd ref="3"/><nd ref="4"/><nd ref="3"/>'
            '<tag k="building" v="yes"/></way>\n')
    return {"streets.osm": _osm(nodes + ways)}


def case_osm_truncated() -> Files:
    data = (DEMO / "streets.osm").read_bytes()
    return {"streets.osm": data[:4000]}


# OSM facility files (issue #13): hand-written XML around unit U01, one element per line.
D = 0.0005  # degrees: about 46 m east-west and 55 m north-south here


def _osm_node(nid: int, lon: float, lat: float, **tags: str) -> str:
    body = "".join(f'<tag k="{k.replace("__", ":")}" v="{v}"/>' for k, v in tags.items())
    return (f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">{body}</node>\n'
            if body else
            f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>\n')


def _osm_way(wid: int, refs: list[int], **tags: str) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    body = "".join(f'<tag k="{k.replace("__", ":")}" v="{v}"/>' for k, v in tags.items())
    return f'  <way id="{wid}" version="1">{nds}{body}</way>\n'


def _osm_relation(rid: int, ways: list[int], **tags: str) -> str:
    members = "".join(f'<member type="way" ref="{w}" role="outer"/>' for w in ways)
    body = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in
                   {"type": "multipolygon", **tags}.items())
    return f'  <relation id="{rid}" version="1">{members}{body}</relation>\n'


def _square(first: int, x: float, y: float, size: float, *, skip: tuple[int, ...] = ()
            ) -> tuple[str, list[int]]:
    """Nodes of a square ring (corners and mid-sides, 8 nodes) from ``first``; ids in ``skip``
    are left out of the file (a clipped extract), their references kept."""
    h = size / 2
    corners = [(x - h, y - h), (x, y - h), (x + h, y - h), (x + h, y), (x + h, y + h),
               (x, y + h), (x - h, y + h), (x - h, y)]
    ids = list(range(first, first + len(corners)))
    nodes = "".join(_osm_node(i, cx, cy) for i, (cx, cy) in zip(ids, corners, strict=True)
                    if i not in skip)
    return nodes, [*ids, ids[0]]


def _osm_case(body: str) -> Files:
    files = base(layers__toml=manifest(facilities=[{"file": "pois.osm"}]), pois__osm=_osm(body))
    del files["facilities.geojson"]
    return files


def case_osm_unmapped_features() -> Files:
    """OSM features of interest that match no kind: rejected with the reason, or classed by
    the school-name fallback and recorded; a cafe is of no interest and not read."""
    x, y = centre(base_units()[0])
    pitch, ring = _square(20, x, y + 2 * D, D)
    body = (_osm_node(1, x, y, amenity="kindergarten", name="阳光幼儿园")
            + _osm_node(2, x + D, y, amenity="school", name="红旗小学")
            + _osm_node(3, x + 2 * D, y, amenity="school", name="实验学校")
            + _osm_node(4, x + 3 * D, y, amenity="school", name="第一高级中学", isced__level="3")
            + _osm_node(5, x, y + D, amenity="cafe", name="咖啡馆")
            + pitch + _osm_way(30, ring, leisure="pitch", sport="basketball"))
    return _osm_case(body)


def case_osm_clipped_areas() -> Files:
    """A clipped extract: parks whose rings lose nodes or member ways, a multipolygon with
    one of its two outer ways missing, one with both missing, and a library mapped twice
    (a node inside its building, same name)."""
    x, y = centre(base_units()[0])
    park, park_ring = _square(100, x, y, 4 * D, skip=(105, 106, 107))
    tiny, tiny_ring = _square(110, x + 5 * D, y, 2 * D, skip=(112, 113, 114, 115, 116, 117))
    half, half_ring = _square(120, x, y + 5 * D, 4 * D)
    library, library_ring = _square(130, x + 5 * D, y + 5 * D, D)
    body = (_osm_node(1, x + 5 * D, y + 5 * D, amenity="library", name="区图书馆")
            + park + tiny + half + library
            + _osm_way(30, park_ring, leisure="park", name="中心公园")
            + _osm_way(31, tiny_ring, leisure="park", name="街角游园")
            + _osm_way(32, half_ring[:5])
            + _osm_way(34, library_ring, amenity="library", name="区图书馆", building="yes")
            + _osm_relation(40, [32, 33], leisure="park", name="滨河公园")
            + _osm_relation(41, [35, 36], leisure="park", name="远郊公园"))
    return _osm_case(body)


def case_osm_facilities_truncated() -> Files:
    """The clipped-areas OSM file cut off in the middle of its ways."""
    files = case_osm_clipped_areas()
    files["pois.osm"] = files["pois.osm"][:2500]
    return files



BROKEN: dict[str, str] = {
    "osm_no_walkable_ways": "OSM with only a motorway and a building",
    "osm_truncated": "OSM XML cut off after 4 kB",
    "osm_unmapped_features": "OSM schools without isced:level (one named 小学), an isced:level=3 "
                             "school, a basketball pitch",
    "osm_clipped_areas": "clipped OSM parks and multipolygons; a library as node and building",
    "osm_facilities_truncated": "an OSM facility file cut off after 2.5 kB",
}
