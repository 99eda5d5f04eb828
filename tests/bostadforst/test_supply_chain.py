"""What the app ships with: Bootstrap vendored with its licence and version,
no package the app does not use among the runtime dependencies."""

import re
import tomllib
from pathlib import Path

from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parents[2]


def test_bootstrap_is_served_from_the_vendored_files_with_licence_and_version():
    vendor = ROOT / "static" / "vendor" / "bootstrap"
    assert "MIT License" in (vendor / "LICENSE").read_text()
    version = re.search(r"Bootstrap (\d+\.\d+\.\d+)", (vendor / "VERSION").read_text())[1]
    for name in ("css/bootstrap.min.css", "js/bootstrap.bundle.min.js"):
        found = Path(finders.find(f"vendor/bootstrap/{name}"))
        assert found.parent.parent == vendor
        assert f"v{version}" in found.read_text()[:300]  # the file is the version named
    base = (ROOT / "templates" / "base.html").read_text()
    assert "vendor/bootstrap/css/bootstrap.min.css" in base
    assert "vendor/bootstrap/js/bootstrap.bundle.min.js" in base


def test_the_runtime_dependencies_hold_nothing_unused_or_test_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"]).lower()
    for unused in ("xstatic", "django-filter", "personnummer"):
        assert unused not in runtime, unused
    assert any(d.startswith("personnummer") for d in project["optional-dependencies"]["dev"])
