"""Column widths of the report's Word tables: fitted to their content, never beyond the page."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfplan.analysis.docx_format import column_widths, display_width

TEXT = st.text(alphabet=st.sampled_from("ab1 儿童之家达成未"), max_size=80)


@given(st.lists(st.lists(TEXT, min_size=1, max_size=6), min_size=1, max_size=25),
       st.floats(min_value=60, max_value=260))
def test_widths_are_positive_and_fill_the_width(columns, total):
    widths = column_widths(columns, total)
    assert len(widths) == len(columns)
    assert all(w > 0 for w in widths)
    assert sum(widths) == pytest.approx(total)


def test_short_columns_keep_one_line_and_long_text_gets_the_room():
    ids = ["编号", "8a", "24b", "12c"]
    status = ["现状", "未达成", "达成", "未知"]
    text = ["规划原文", "到 2025 年，每个社区均建有不少于 20 个托位的托育服务机构" * 3, "短", "中等长度的说明"]
    widths = column_widths([ids, status, text], 150.0)
    half_mm = 10.5 / 2 * 25.4 / 72
    assert widths[1] >= display_width("未达成") * half_mm  # one line
    assert widths[2] > widths[1] > widths[0] * 0.9
    assert widths[2] == pytest.approx(150.0 - widths[0] - widths[1])
