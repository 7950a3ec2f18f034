"""The browser test's Node side: pinned, installed from the project's files, no registry URLs."""

from __future__ import annotations

import json

from tests.browser import tools


def test_lockfile_pins_playwright_core_without_registry_urls() -> None:
    lock = json.loads((tools.HERE / "package-lock.json").read_text())
    packages = lock["packages"]
    assert packages["node_modules/playwright-core"]["version"] == tools.pinned_playwright()
    assert [name for name, p in packages.items() if "resolved" in p] == []
    assert "://" not in (tools.HERE / "package-lock.json").read_text()
    npmrc = (tools.HERE / ".npmrc").read_text().splitlines()
    assert "omit-lockfile-registry-resolved=true" in npmrc


def test_pinned_playwright_core_is_installed() -> None:
    tools.ensure_playwright()  # `npm ci` when node_modules lacks the pinned version
    assert tools.installed_playwright() == tools.pinned_playwright()
