"""Facility kinds, unit types and statuses: the domain vocabulary with its Chinese terms."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FacilityKind:
    """One kind of facility that a plan counts or a resident walks to.

    Attributes
    ----------
    key
        English identifier used in code, plan files and exports.
    zh, en
        Display names.
    aliases
        Other Chinese or English names that mean this kind in input data.
    color
        Map colour (CSS hex).
    symbol
        Short glyph drawn in the map marker (works offline, no icon font).
    geometry
        ``"point"`` or ``"polygon"``: the usual geometry of the kind.
    radius_m
        Default walking radius in metres along the street network, or ``None``
        where no walking standard applies.
    radius_source
        Where the radius comes from.
    """

    key: str
    zh: str
    en: str
    aliases: tuple[str, ...]
    color: str
    symbol: str
    geometry: str = "point"
    radius_m: float | None = None
    radius_source: str = ""

    def glyph(self, lang: str = "zh") -> str:
        """Return the map glyph: one Chinese character, or a Latin abbreviation in English."""
        return SYMBOLS_EN.get(self.key, self.key[:2].upper()) if lang == "en" else self.symbol


_GB = "GB 50180-2018 (unverified)"

FACILITY_KINDS: dict[str, FacilityKind] = {
    k.key: k
    for k in (
        FacilityKind("children_home", "儿童之家", "Children's home", ("儿童之家",), "#e6194b", "家"),
        FacilityKind(
            "protection_station", "未成年人保护工作站", "Minor protection station",
            ("未成年人保护工作站", "保护工作站", "未保站"), "#911eb4", "保",
        ),
        FacilityKind(
            "park", "公园", "Park", ("公园", "儿童友好公园", "游园", "广场"), "#3cb44b", "园",
            geometry="polygon", radius_m=500.0,
            radius_source="GB 50180-2018 Table 4.0.4 (10-minute circle)",
        ),
        FacilityKind(
            "play_facility", "游玩设施", "Play facility", ("游玩设施", "游乐设施", "儿童游戏场地"),
            "#bfef45", "玩", radius_m=300.0, radius_source="GB 50180 B.0.3 (unverified)",
        ),
        FacilityKind(
            "library", "图书馆", "Library", ("图书馆", "儿童友好图书馆", "图书馆分馆", "城市书房"),
            "#4363d8", "书", radius_m=500.0, radius_source="GB 50180 B.0.3 (unverified)",
        ),
        FacilityKind(
            "kindergarten", "幼儿园", "Kindergarten", ("幼儿园", "儿童友好幼儿园"), "#f58231", "幼",
            radius_m=300.0, radius_source="GB 50180-2018 Table B.0.3 (unverified)",
        ),
        FacilityKind(
            "primary_school", "小学", "Primary school", ("小学",), "#000075", "小",
            radius_m=500.0, radius_source="GB 50180-2018 B.0.2 (unverified)",
        ),
        FacilityKind(
            "middle_school", "初中", "Middle school", ("初中", "中学"), "#469990", "中",
            radius_m=1000.0, radius_source="GB 50180-2018 B.0.2 (unverified)",
        ),
        FacilityKind(
            "childcare", "托育机构", "Childcare centre", ("托育机构", "托育", "托儿所"), "#f032e6", "托",
            radius_m=300.0, radius_source="GB 50180-2018 Table B.0.3 (unverified)",
        ),
        FacilityKind(
            "football_pitch", "足球场", "Football pitch", ("足球场",), "#808000", "球",
            radius_m=500.0, radius_source="GB/T 50378-2019; GB 50180 B.0.2 (unverified)",
        ),
        FacilityKind(
            "parent_school", "家长学校", "Parent school",
            ("家长学校", "家庭教育指导服务站点", "家庭教育指导服务站"), "#9a6324", "教",
        ),
        FacilityKind("hospital", "医院", "Hospital", ("医院", "儿童友好医院"), "#800000", "医"),
        FacilityKind(
            "science_lab", "小小科学家科技创新操作室", "Young scientists' lab",
            ("小小科学家科技创新操作室", "科技创新操作室"), "#42d4f4", "科",
        ),
        FacilityKind(
            "activity_centre", "儿童活动中心", "Children's activity centre", ("儿童活动中心",),
            "#dcbeff", "活",
        ),
        FacilityKind(
            "practice_base", "校外教育实践基地", "Out-of-school practice base",
            ("校外教育实践基地", "儿童友好校外教育实践基地"), "#aaffc3", "践",
        ),
        FacilityKind(
            "nature_base", "自然生态教育基地", "Nature education base",
            ("自然生态教育基地", "儿童友好自然生态教育基地"), "#2f8f2f", "然",
        ),
        FacilityKind(
            "sports_park", "体育公园", "Sports park", ("体育公园", "儿童友好体育公园"), "#ffd8b1",
            "体", geometry="polygon",
        ),
        FacilityKind(
            "family_base", "家教家风示范基地", "Family-values demonstration base",
            ("家教家风示范基地", "家风家教示范基地"), "#fabed4", "风",
        ),
        FacilityKind(
            "reading_centre", "校园阅读中心", "School reading centre", ("校园阅读中心", "农学书屋"),
            "#000000", "阅",
        ),
        FacilityKind(
            "law_base", "少年儿童法治教育实践基地", "Children's law education base",
            ("少年儿童法治教育实践基地", "法治教育实践基地"), "#a9a9a9", "法",
        ),
        FacilityKind(
            "enterprise", "儿童友好企事业单位", "Child-friendly employer",
            ("儿童友好企事业单位", "企事业单位"), "#ffe119", "企",
        ),
        FacilityKind(
            "friendly_block", "儿童友好街区", "Child-friendly block", ("儿童友好街区", "街区"),
            "#ff7f50", "街", geometry="polygon",
        ),
        FacilityKind(
            "friendly_community", "儿童友好社区", "Child-friendly community", ("儿童友好社区",),
            "#ff69b4", "社", geometry="polygon",
        ),
        FacilityKind(
            "public_space", "公共空间/儿童密集场所", "Public space or child-dense place",
            ("公共空间", "儿童密集场所", "公共场所"), "#708090", "厕",
        ),
        FacilityKind(
            "mother_baby_room", "母婴室", "Mother-and-baby room", ("母婴室",), "#c71585", "婴",
        ),
    )
}

# Map glyphs in English (the Chinese glyph is FacilityKind.symbol).
SYMBOLS_EN: dict[str, str] = {
    "children_home": "CH", "protection_station": "PS", "park": "Pk", "play_facility": "Pl",
    "library": "Lb", "kindergarten": "KG", "primary_school": "PS1", "middle_school": "MS",
    "childcare": "CC", "football_pitch": "FP", "parent_school": "PaS", "hospital": "H",
    "science_lab": "SL", "activity_centre": "AC", "practice_base": "PB", "nature_base": "NB",
    "sports_park": "SP", "family_base": "FB", "reading_centre": "RC", "law_base": "LB",
    "enterprise": "En", "friendly_block": "Bk", "friendly_community": "Cm",
    "public_space": "WC", "mother_baby_room": "MB",
}

# Unit types (社区/村) and subdistrict types (办事处/镇).
UNIT_TYPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "community": ("社区", "Urban community", ("社区", "城市社区", "居委会", "community")),
    "village": ("村", "Village", ("村", "行政村", "村委会", "village")),
}
SUBDISTRICT_TYPES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "office": ("办事处", "Subdistrict office", ("办事处", "街道", "街道办事处", "office")),
    "town": ("镇", "Town", ("镇", "乡", "town")),
}

# Facility statuses. ``built`` statuses count "as things stand"; all count "once planned is done".
STATUSES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "existing": ("现状", "Existing", ("现状", "现有", "已有", "existing")),
    "renovated": ("改建", "Renovated", ("改建", "改造", "已改建", "renovated")),
    "new": ("新建", "New", ("新建", "已建成", "建成", "new")),
    "under_construction": ("在建", "Under construction", ("在建", "施工中", "under_construction")),
    "planned": ("规划", "Planned", ("规划", "计划", "拟建", "planned")),
}
BUILT_STATUSES: frozenset[str] = frozenset({"existing", "renovated", "new"})


def _alias_index(table: dict[str, tuple[str, str, tuple[str, ...]]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for key, (zh, en, aliases) in table.items():
        for name in (key, zh, en, *aliases):
            index[name.strip().lower()] = key
    return index


_KIND_INDEX: dict[str, str] = {}
for _k in FACILITY_KINDS.values():
    for _name in (_k.key, _k.zh, _k.en, *_k.aliases):
        _KIND_INDEX.setdefault(_name.strip().lower(), _k.key)
_UNIT_INDEX = _alias_index(UNIT_TYPES)
_SUBDISTRICT_INDEX = _alias_index(SUBDISTRICT_TYPES)
_STATUS_INDEX = _alias_index(STATUSES)


def _lookup(index: dict[str, str], value: object) -> str | None:
    if value is None:
        return None
    return index.get(str(value).strip().lower())


def facility_kind_key(value: object) -> str | None:
    """Return the kind key for a kind name or Chinese alias, or ``None`` if unknown."""
    return _lookup(_KIND_INDEX, value)


def unit_type_key(value: object) -> str | None:
    """Return ``"community"`` or ``"village"`` for a unit-type name, or ``None`` if unknown."""
    return _lookup(_UNIT_INDEX, value)


def subdistrict_type_key(value: object) -> str | None:
    """Return ``"office"`` or ``"town"`` for a subdistrict-type name, or ``None`` if unknown."""
    return _lookup(_SUBDISTRICT_INDEX, value)


def status_key(value: object) -> str | None:
    """Return the status key for a status name or Chinese alias, or ``None`` if unknown."""
    return _lookup(_STATUS_INDEX, value)


def kind_label(key: str, *, lang: str = "zh") -> str:
    """Return the display name of a facility kind in ``lang`` (``"zh"`` or ``"en"``)."""
    kind = FACILITY_KINDS[key]
    return kind.zh if lang == "zh" else kind.en
