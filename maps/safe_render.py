"""Render Folium pages so that no text from the data ever becomes Jinja template source.

branca renders each element's macros and then wraps the *output* (which holds the data:
names, popups, GeoJSON) in a new ``Element``, whose constructor compiles it as a Jinja
template; the page render then runs it. A 社区 named ``{{ cycler.__init__.__globals__.os
.system('…') }}`` thus runs Python, and ``{#`` stops the page. Escaping HTML does not help:
such a payload needs no quote or angle bracket.

Here every element cfplan makes renders its own text as a value (:class:`RawHtml`,
:class:`ScriptElement`), and the page itself (:class:`SafeFigure`) renders with branca's
output wrappers made literal (:func:`literal_elements`), so folium's own elements (popups,
tooltips, markers of the batch overview) are safe too. Folium's templates still run, with
the data passed to them as values only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import branca.element
import folium
from branca.element import Element, Figure, MacroElement

_LOCK = threading.RLock()


class LiteralTemplate:
    """A stand-in for ``jinja2.Template`` whose output is its source text, never evaluated."""

    def __init__(self, source: str = "", *_args: object, **_kwargs: object) -> None:
        self.source = str(source)

    def render(self, *_args: object, **_kwargs: object) -> str:
        """Return the source text unchanged."""
        return self.source


@contextmanager
def literal_elements() -> Iterator[None]:
    """Make every ``branca.element.Element(text)`` built inside the block hold ``text`` literally.

    While a page renders, branca and folium build ``Element`` objects only to carry
    rendered output (already data-filled); inside this block they are never compiled or run
    as templates. Renders are serialised by a lock, so threads never see the swap half-done.
    """
    with _LOCK:
        saved = branca.element.Template
        branca.element.Template = LiteralTemplate  # type: ignore[misc,assignment]
        try:
            yield
        finally:
            branca.element.Template = saved  # type: ignore[misc]


class SafeFigure(Figure):
    """A branca ``Figure`` that renders under :func:`literal_elements` (saving and Jupyter alike)."""

    def render(self, **kwargs: Any) -> str:
        """Return the page's HTML; data text in it is never run as a template."""
        with literal_elements():
            return str(super().render(**kwargs))


def safe_map(**options: Any) -> folium.Map:
    """Return a ``folium.Map`` whose page is a :class:`SafeFigure`.

    Parameters
    ----------
    **options
        Passed to ``folium.Map``.

    Returns
    -------
    folium.Map
        The map; ``save``, ``_repr_html_`` (Jupyter) and :func:`cfplan.maps.plan_map.offline_html`
        render it safely.
    """
    m = folium.Map(**options)
    SafeFigure().add_child(m)
    return m


class RawHtml(Element):
    """HTML inserted as it is: never read as a Jinja template (inlined scripts contain ``{{``).

    The caller escapes any data text in it (:func:`cfplan.maps.plan_map.esc`).
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: object) -> str:
        """Return the HTML unchanged."""
        return self.text


class ScriptElement(MacroElement):
    """A page element made of one script, put on the page as a value (no Jinja at all).

    Subclasses implement :meth:`script`; its text is added to the page's scripts under the
    element's name, before its children's (as branca's macros are).
    """

    def script(self) -> str:
        """Return the element's JavaScript."""
        raise NotImplementedError

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement
        """Add :meth:`script` to the page's scripts, literally, then render the children."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError(f"{self.get_name()} must be on a map before it renders")
        figure.script.add_child(RawHtml(self.script()), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


__all__ = ["LiteralTemplate", "RawHtml", "SafeFigure", "ScriptElement", "literal_elements",
           "safe_map"]
