"""What the tests that drive a real browser share: Debian's Chromium through Playwright,
skipped where either is missing, launched headless and closed after; and the console lines
in which it says the page's Content-Security-Policy refused something."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CHROMIUM", "HEADLESS", "chromium", "playwright_api", "refused_by_policy"]

CHROMIUM = Path("/usr/bin/chromium")
HEADLESS = ("--headless", "--no-sandbox", "--disable-gpu")


def playwright_api() -> Any:
    """playwright.sync_api; the calling test is skipped where Chromium is not at
    /usr/bin/chromium or Playwright is not installed."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@contextmanager
def chromium(sync_api: Any, args: Sequence[str] = HEADLESS) -> Iterator[Any]:
    """A Chromium browser launched through sync_api (from playwright_api) with args, closed
    (and Playwright stopped) when the block ends."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(args))
        try:
            yield browser
        finally:
            browser.close()


def refused_by_policy(page: Any) -> list[str]:
    """The console lines in which the browser says the page's Content-Security-Policy
    refused something, as they come (across reloads): the page must need nothing it forbids."""
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return refused
