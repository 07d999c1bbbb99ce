"""A real browser drives the app: start Streamlit on loopback, click Run on Compare, see results,
download the board report, and animate the team network on the Teach page.

Uses Debian's Chromium (/usr/bin/chromium; .ci/run installs it with apt when it is missing) through
Playwright's Python API, so nothing is downloaded at test time. The screenshots (and the board
report) are kept in tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_server import streamlit_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Chromium is not installed (.ci/run installs it with apt)")


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server() as url:
        yield url


def test_compare_page_runs_in_a_real_browser(app_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(app_url, wait_until="domcontentloaded")
            page.get_by_role("button", name="Run comparison").wait_for(timeout=60_000)
            assert page.get_by_text("illustrative", exact=False).first.is_visible()
            replications = page.get_by_role("spinbutton", name="Replications")
            replications.fill("2")
            replications.press("Enter")
            page.wait_for_timeout(1500)
            page.get_by_role("button", name="Run comparison").click()
            page.get_by_role("heading", name="Results").wait_for(timeout=300_000)
            table = page.locator("[data-testid='stDataFrame']").first
            table.wait_for(timeout=60_000)
            page.wait_for_timeout(2000)  # let the charts draw
            page.mouse.move(700, 900)  # Streamlit scrolls inside its main block, not the page
            page.mouse.wheel(0, 1600)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ARTIFACTS / "compare_results.png"))
            assert page.locator("[data-testid='stException']").count() == 0
            assert table.is_visible()

            # the board report downloads as one self-contained HTML file with its provenance
            with page.expect_download(timeout=120_000) as download:
                page.get_by_role("button", name="Board report (HTML)").click()
            report = ARTIFACTS / "board_report.html"
            download.value.save_as(str(report))
            text = report.read_text(encoding="utf-8")
            assert "Defaults are illustrative" in text and "Scenario hash" in text
            assert text.count("data:image/png;base64,") >= 4
            report_page = browser.new_page(viewport={"width": 1100, "height": 1600})
            report_page.goto(report.resolve().as_uri())
            report_page.screenshot(path=str(ARTIFACTS / "board_report.png"), full_page=True)
            report_page.close()

            # the Teach page animates two teams as networks
            page.goto(f"{app_url}/teach", wait_until="domcontentloaded")
            button = page.get_by_role("button", name="Animate the two teams")
            button.wait_for(timeout=60_000)
            button.scroll_into_view_if_needed()
            button.click()
            frame = page.frame_locator("iframe").first
            frame.locator("img").first.wait_for(timeout=300_000)
            page.wait_for_timeout(2000)
            page.locator("iframe").first.scroll_into_view_if_needed()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ARTIFACTS / "teach_network.png"))
            assert page.locator("[data-testid='stException']").count() == 0
            assert page.locator("iframe").count() >= 2
        finally:
            browser.close()
    assert (ARTIFACTS / "compare_results.png").stat().st_size > 10_000
    assert (ARTIFACTS / "teach_network.png").stat().st_size > 10_000
