"""Navigation: the pages, in the order of issue 5, with the illustrative note on every page.

``app.py`` calls :func:`main`. Tests call ``main(page=...)`` through ``AppTest.from_function``
to draw a single page without navigation.
"""

from __future__ import annotations

import streamlit as st

from . import ui
from .pages import about, assess, compare, explorer, teach

PAGES = {
    "compare": (compare.render, "Compare", ":material/compare_arrows:"),
    "assess": (assess.render, "Assess my INT", ":material/checklist:"),
    "teach": (teach.render, "Teach", ":material/school:"),
    "explorer": (explorer.render, "Size and reach", ":material/grid_on:"),
    "about": (about.render, "About the model", ":material/info:"),
}


def _page(key: str):
    render, title, icon = PAGES[key]

    def draw() -> None:
        ui.illustrative_note()
        render()

    draw.__name__ = key  # st.Page derives the URL path from the function's name
    return st.Page(draw, title=title, icon=icon, url_path=key, default=key == "compare")


def main(page: str | None = None) -> None:
    """Draw the app; with ``page``, draw only that page (used by the tests)."""
    ui.keep_widget_state()
    if page is not None:
        ui.illustrative_note()
        PAGES[page][0]()
        return
    st.navigation([_page(key) for key in PAGES]).run()
