"""The app's entry script (``streamlit run``): a sidebar to pick a view, then the view.

Served by ``rst app``; the lake comes from ``$RST_LAKE`` (``rst app --lake`` sets it).
"""

from __future__ import annotations

import streamlit as st

from rst.app import browser, definitions, health, parents, series, updates
from rst.app.common import lake_root, run_view

# sidebar label -> the view's render function (one module per view); no bare docstring here: Streamlit's
# "magic" would print it in the page
VIEWS = {
    "Data updates": updates.render,
    "Symbol browser": browser.render,
    "Definitions": definitions.render,
    "Parent metadata": parents.render,
    "Continuous series": series.render,
    "Lake health": health.render,
}


def main() -> None:
    """Render the sidebar and the chosen view."""
    st.set_page_config(page_title="rst", layout="wide")
    with st.sidebar:
        st.title("rst")
        st.caption(f"lake: {lake_root()}")
        choice = st.radio("View", list(VIEWS), key="nav_view")
    st.header(choice)
    run_view(VIEWS[choice])
    slug = choice.lower().replace(" ", "-")
    st.html(f'<span id="rst-ready-{slug}"></span>')  # the view rendered to the end (browser tests wait on it)


main()
