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
    measure
        The Chinese measure word a count of this kind takes (``7 所幼儿园``, ``10 处游玩设施``).
    en_plural
        The English plural, where adding "s" to ``en`` is wrong.
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
    measure: str = "个"
    en_plural: str = ""

    def plural(self) -> str:
        """Return the English plural of the kind's name, in lower case after the first word."""
        if self.en_plural:
            return self.en_plural
        word = self.en
        if word.endswith("y") and not word.endswith(("ay", "ey", "oy")):
            return word[:-1] + "ies"
        if word.endswith(("ch", "sh", "s", "x")):
            return word + "es"
        return word + "s"

    def glyph(self, lang: str = "zh") -> str:
        """Return the map glyph: one Chinese character, or a Latin abbreviation in English."""
        return SYMBOLS_EN.get(self.key, self.key[:2].upper()) if lang == "en" else self.symbol


_GB = "GB 50180-2018 (unverified)"

FACILITY_KINDS: dict[str, FacilityKind] = {
    k.key: k
    for k in (
        FacilityKind("children_home", "儿童之家", "Children's home", ("儿童之家",), "#e6194b", "家",
                     measure="个"),
        FacilityKind(
            "protection_station", "未成年人保护工作站", "Minor protection station",
            ("未成年人保护工作站", "保护工作站", "未保站"), "#911eb4", "保", measure="所",
        ),
        FacilityKind(
            "park", "公园", "Park", ("公园", "儿童友好公园", "游园", "广场"), "#3cb44b", "园",
            geometry="polygon", radius_m=500.0,
            radius_source="GB 50180-2018 Table 4.0.4 (10-minute circle)",
        ),
        FacilityKind(
            "play_facility", "游玩设施", "Play facility", ("游玩设施", "游乐设施", "儿童游戏场地"),
            "#bfef45", "玩", radius_m=300.0, radius_source="GB 50180 B.0.3 (unverified)",
            measure="处",
        ),
        FacilityKind(
            "library", "图书馆", "Library", ("图书馆", "儿童友好图书馆", "图书馆分馆", "城市书房"),
            "#4363d8", "书", radius_m=500.0, radius_source="GB 50180 B.0.3 (unverified)",
            measure="所", en_plural="Libraries",
        ),
        FacilityKind(
            "kindergarten", "幼儿园", "Kindergarten", ("幼儿园", "儿童友好幼儿园"), "#f58231", "幼",
            radius_m=300.0, radius_source="GB 50180-2018 Table B.0.3 (unverified)", measure="所",
        ),
        FacilityKind(
            "primary_school", "小学", "Primary school", ("小学",), "#000075", "小",
            radius_m=500.0, radius_source="GB 50180-2018 B.0.2 (unverified)", measure="所",
        ),
        FacilityKind(
            "middle_school", "初中", "Middle school", ("初中", "中学"), "#469990", "中",
            radius_m=1000.0, radius_source="GB 50180-2018 B.0.2 (unverified)", measure="所",
        ),
        FacilityKind(
            "childcare", "托育机构", "Childcare centre", ("托育机构", "托育", "托儿所"), "#f032e6", "托",
            radius_m=300.0, radius_source="GB 50180-2018 Table B.0.3 (unverified)", measure="家",
        ),
        FacilityKind(
            "football_pitch", "足球场", "Football pitch", ("足球场",), "#808000", "球",
            radius_m=500.0, radius_source="GB/T 50378-2019; GB 50180 B.0.2 (unverified)",
            measure="块",
        ),
        FacilityKind(
            "parent_school", "家长学校", "Parent school",
            ("家长学校", "家庭教育指导服务站点", "家庭教育指导服务站"), "#9a6324", "教", measure="所",
        ),
        FacilityKind("hospital", "医院", "Hospital", ("医院", "儿童友好医院"), "#800000", "医",
                     measure="所"),
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
            "reading_centre", "校园阅读中心", "School reading centre", ("校园阅读中心",),
            "#000000", "阅", measure="所",
        ),
        FacilityKind(
            "farm_library", "农学书屋", "Rural reading room", ("农学书屋", "农家书屋"), "#5c3d2e",
            "屋",
        ),
        FacilityKind(
            "law_base", "少年儿童法治教育实践基地", "Children's law education base",
            ("少年儿童法治教育实践基地", "法治教育实践基地"), "#a9a9a9", "法",
        ),
        # Plain 企事业单位 and 街区 are these kinds too: only the child_friendly flag (or a kind
        # name that starts with 儿童友好, see :func:`implies_child_friendly`) makes one count.
        FacilityKind(
            "enterprise", "企事业单位", "Employer", ("儿童友好企事业单位", "企事业单位", "企业", "事业单位"),
            "#ffe119", "企", measure="家",
        ),
        FacilityKind(
            "friendly_block", "街区", "Block", ("儿童友好街区", "街区"),
            "#ff7f50", "街", geometry="polygon",
        ),
        FacilityKind(
            "friendly_community", "儿童友好社区", "Child-friendly community", ("儿童友好社区",),
            "#ff69b4", "社", geometry="polygon",
        ),
        FacilityKind(
            "public_space", "公共空间/儿童密集场所", "Public space or child-dense place",
            ("公共空间", "儿童密集场所", "公共场所", "车站", "商场", "影院", "电影院", "购物中心"),
            "#708090", "厕", measure="处", en_plural="Public spaces or child-dense places",
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

# Administrative level of a facility (the facilities' free-text ``level`` field, 级别): the
# plans ask for 本级 (district-level) centres and 办事处 stations.
LEVELS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "district": ("区级", "district level", ("区级", "区", "本级", "区本级", "县级", "市辖区级",
                                          "district")),
    "subdistrict": ("办事处/镇级", "subdistrict level", ("办事处", "办事处级", "街道", "街道级",
                                                    "镇", "镇级", "乡", "乡级", "镇（办）",
                                                    "subdistrict", "office", "town")),
    "unit": ("社区/村级", "community/village level", ("社区", "社区级", "村", "村级",
                                                     "村（社区）", "unit", "community",
                                                     "village")),
}

# The life circles of GB 50180-2018 §2.0.2–2.0.5 (distances unverified, ../shared/docs/
# standards.md): minutes → walking distance in metres. The circles are defined by these
# distances, not by a walking speed (500 m is the 10-minute circle, not 8.3 minutes at
# 60 m/min); the 15-minute circle is 800–1000 m, and cfplan takes 1000 m, the 初中 radius.
# The report's minutes and the map's walking bands both come from this table.
LIFE_CIRCLES_M: dict[int, float] = {5: 300.0, 10: 500.0, 15: 1000.0}
LIFE_CIRCLES_SOURCE = "GB 50180-2018 §2.0.2–2.0.5 (distances unverified)"


def life_circle(radius_m: float) -> int | None:
    """Return the minutes of the life circle whose distance is ``radius_m``, else ``None``."""
    for minutes, distance in LIFE_CIRCLES_M.items():
        if abs(distance - radius_m) < 0.5:
            return minutes
    return None


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
_LEVEL_INDEX = _alias_index(LEVELS)
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


def level_key(value: object) -> str | None:
    """Return ``"district"``, ``"subdistrict"`` or ``"unit"`` for a level name, or ``None``."""
    return _lookup(_LEVEL_INDEX, value)


def implies_child_friendly(kind_text: object) -> bool:
    """Return True when a kind as written in the data names a child-friendly designation.

    ``儿童友好企事业单位`` or ``儿童友好公园`` say the facility is child-friendly; ``企事业单位``
    or ``公园`` say nothing. A facility whose ``child_friendly`` flag is blank takes it from
    its kind's name.
    """
    if kind_text is None:
        return False
    text = str(kind_text).strip().lower()
    return text.startswith(("儿童友好", "child-friendly", "child friendly"))


def status_key(value: object) -> str | None:
    """Return the status key for a status name or Chinese alias, or ``None`` if unknown."""
    return _lookup(_STATUS_INDEX, value)


def measure_word(kinds: tuple[str, ...] | list[str]) -> str:
    """Return the Chinese measure word shared by ``kinds`` (``所`` for schools), else ``个``."""
    words = {FACILITY_KINDS[k].measure for k in kinds}
    return words.pop() if len(words) == 1 else "个"


SCHOOL_KINDS = ("kindergarten", "primary_school", "middle_school")
"""Kinds that are schools: they can have 校门 (gates), 学区 (catchments) and school routes."""


def kind_label(key: str, *, lang: str = "zh") -> str:
    """Return the display name of a facility kind in ``lang`` (``"zh"`` or ``"en"``)."""
    kind = FACILITY_KINDS[key]
    return kind.zh if lang == "zh" else kind.en
