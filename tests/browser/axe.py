"""axe-core in the browser tests: installed at test time, never committed.

``axe_source()`` returns the text of axe-core's ``axe.min.js``, installing the
pinned version with npm into ``<repo>/.cache/axe`` (git-ignored) the first
time. Without npm the tests that need it are skipped with the reason, except
in CI (``CI=true``), where a missing tool must not pass as a green run.

The app's Content-Security-Policy allows no inline or injected script, so axe
goes in through a browser context made with ``bypass_csp=True`` (PITFALLS 18):
a test-only context; the policy the app sends is not changed.
"""

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings

# The version the outside audit used; a new minor version adds rules, so it is
# a deliberate upgrade here, not a surprise in CI.
AXE_VERSION = "4.14"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CACHE = Path(settings.BASE_DIR) / ".cache" / "axe"
PACKAGE = CACHE / "node_modules" / "axe-core"


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs axe-core: {reason}")
    print(f"axe-core unavailable: {reason}")
    pytest.skip(reason)


def _installed_version() -> str | None:
    try:
        return json.loads((PACKAGE / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@cache
def _install() -> str:
    version = _installed_version()
    if version is None or not version.startswith(f"{AXE_VERSION}."):
        npm = shutil.which("npm")
        if npm is None:
            return "npm is not installed (apt-get install npm), so axe-core cannot be fetched"
        result = subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(CACHE),
                f"axe-core@{AXE_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            return f"npm install axe-core@{AXE_VERSION} failed: {result.stderr.strip()[-500:]}"
    return ""


def axe_source() -> str:
    """axe-core's script, installed on first use (skips, or fails in CI, without npm)."""
    problem = _install()
    if problem:
        _unavailable(problem)
    return (PACKAGE / "axe.min.js").read_text()


# Runs in the page: only what a failure message needs crosses back.
_RUN = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    summary: (v.nodes[0] && v.nodes[0].failureSummary || "").slice(0, 300),
    count: v.nodes.length,
  }));
}"""


def axe_violations(page) -> list[dict]:
    """The WCAG 2.0/2.1 A and AA violations axe finds on ``page`` as it is now."""
    return page.evaluate(_RUN, AXE_TAGS)


def describe(violations: list[dict], *, url: str, who: str, width: int) -> str:
    """One readable line per rule broken, with where it was seen."""
    lines = [
        f"{v['id']} ({v['impact']}, {v['count']}×): {v['help']} — "
        f"{', '.join(v['targets'])} — {v['summary']!r}"
        for v in violations
    ]
    return f"{url} as {who} at {width} px:\n  " + "\n  ".join(lines)
