"""Test-session hygiene shared by every test module."""

import sys

import pytest


@pytest.fixture(autouse=True)
def restore_main_module():
    """Streamlit's script runner (AppTest) installs its script as ``__main__`` and leaves it there;
    process pools that spawn (Dask's workers) would then re-run that script in every child. Put
    the real ``__main__`` back after each test."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
