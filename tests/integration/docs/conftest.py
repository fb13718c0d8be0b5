"""Fixtures for the docs integration tests: a real registry process and a headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.docs.browser import Chromium, find_chromium


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """A headless Chromium shared by a module's tests (each opens its own page URL).

    Skips, saying why, where the chromium package is not installed.
    """
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "chromium is not installed on this machine; these tests need Debian's chromium "
            "package (`apt-get install -y chromium`, which .ci/run does)"
        )
    browser = Chromium(executable, tmp_path_factory.mktemp("chromium-profile"))
    try:
        browser.resize(1400, 900)
        yield browser
    finally:
        browser.close()
