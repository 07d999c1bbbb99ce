"""The Streamlit app: a thin layer over the public API of :mod:`int_sim`.

- :mod:`int_sim.app.core`: everything the pages need that does not touch Streamlit (presets,
  run sizes, lever specifications from the schema, result tables, the checklist questionnaire,
  lessons). Testable without a browser.
- :mod:`int_sim.app.ui`: shared Streamlit widgets (run settings, levers, cached runs).
- :mod:`int_sim.app.pages`: one module per page, each with a ``render()`` function.
- :mod:`int_sim.app.main`: navigation, called by ``app.py`` at the project root.

Nothing in the model imports this package, and ``import int_sim`` does not import Streamlit.
"""
