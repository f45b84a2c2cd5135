"""Figures drawn in threads (cfplan batch's thread workers) equal figures drawn alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def test_figures_in_parallel_threads_are_the_same_bytes(demo_run):
    alone = [f.png for f in demo_run.figures(lang="zh")]
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(lambda lang: demo_run.figures(lang=lang), ["zh", "en", "zh"]))
    assert [f.png for f in runs[0]] == alone
    assert [f.png for f in runs[2]] == alone
    assert [f.png for f in runs[1]] == [f.png for f in demo_run.figures(lang="en")]
