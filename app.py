"""Streamlit entry point: ``streamlit run app.py`` (or ``make app``).

The app is a thin layer over int_sim's public API; its pages live in int_sim/app/.
"""

import streamlit as st

from int_sim.app.main import main

st.set_page_config(page_title="int-sim: Integrated Neighbourhood Teams", page_icon=":material/groups:", layout="wide")
main()
