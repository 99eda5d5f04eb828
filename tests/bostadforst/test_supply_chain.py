"""What the app ships with: Bootstrap vendored with its licence and version,
no package the app does not use among the runtime dependencies, every
package from a hashed lock, the lock audited in CI, the base image by digest."""

import json
import os
import re
import shutil
import subprocess
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from packaging.markers import Marker
from packaging.requirements import Requirement

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


# --- The lock files (requirements/, `make lock`) -----------------------------

LOCKS = {
    "dev": ROOT / "requirements" / "dev.lock",
    "runtime": ROOT / "requirements" / "runtime.lock",
}
ENTRY_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;([^\\]*))?\\?$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_entries(path: Path) -> dict[str, dict]:
    """name -> {"version", "marker", "hashes", "via"} for each requirement of a uv lock."""
    entries: dict[str, dict] = {}
    current = None
    in_via = False
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            match = ENTRY_RE.match(line)
            assert match, f"{path.name}: not a pinned requirement: {line!r}"
            current = entries.setdefault(
                canonical(match[1]),
                {
                    "version": match[2],
                    "marker": (match[3] or "").strip(),
                    "hashes": [],
                    "via": set(),
                },
            )
            in_via = False
            continue
        text = line.strip()
        if text.startswith("--hash=sha256:"):
            assert re.fullmatch(r"--hash=sha256:[0-9a-f]{64}( \\)?", text), text
            current["hashes"].append(text)
        elif text == "# via":
            in_via = True
        elif text.startswith("# via "):
            current["via"].add(text.removeprefix("# via ").strip())
        elif in_via and text.startswith("#   "):
            current["via"].add(text.removeprefix("#   ").strip())
        else:
            raise AssertionError(f"{path.name}: unexpected line {line!r}")
    return entries


def project_requirements() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return (
        [Requirement(r) for r in project["dependencies"]],
        [Requirement(r) for r in project["optional-dependencies"]["dev"]],
    )


def test_every_locked_package_is_pinned_with_hashes():
    for path in LOCKS.values():
        entries = lock_entries(path)
        assert len(entries) > 20, path
        for name, entry in entries.items():
            assert entry["hashes"], f"{path.name}: {name} has no hash"
            assert entry["via"], f"{path.name}: {name} says nothing of why it is there"


def test_the_locks_hold_exactly_what_pyproject_asks_for():
    """Every requirement of pyproject.toml is locked at a version it allows,
    every locked package is a requirement or needed by one, and the image's
    runtime.lock pins what the tests ran with. A failure here: `make lock`."""
    runtime, dev = project_requirements()
    locks = {kind: lock_entries(path) for kind, path in LOCKS.items()}
    wanted = {"runtime": runtime, "dev": runtime + dev}
    for kind, requirements in wanted.items():
        entries = locks[kind]
        top_level = {canonical(r.name) for r in requirements}
        for requirement in requirements:
            entry = entries.get(canonical(requirement.name))
            assert entry, f"{requirement.name} is missing from {kind}.lock: run make lock"
            assert requirement.specifier.contains(entry["version"], prereleases=True), (
                f"{kind}.lock pins {requirement.name}=={entry['version']}, "
                f"pyproject asks for {requirement}: run make lock"
            )
        for name, entry in entries.items():
            from_project = any(v.startswith("bostadforst") for v in entry["via"])
            assert from_project == (name in top_level), (
                f"{kind}.lock: {name} is {'not ' if from_project else ''}listed in pyproject.toml"
                " as the lock says: run make lock"
            )
            parents = {
                canonical(v) for v in entry["via"] if not v.startswith(("bostadforst", "-c"))
            }
            assert parents <= set(entries), (
                f"{kind}.lock: {name} needed by {parents - set(entries)}"
            )
    dev_names = {canonical(r.name) for r in dev} - {canonical(r.name) for r in runtime}
    for name, entry in locks["runtime"].items():
        assert locks["dev"][name]["version"] == entry["version"], name
        assert name not in dev_names or "bostadforst (pyproject.toml)" not in entry["via"], name
    assert "pip-audit" in locks["dev"] and "pip-audit" not in locks["runtime"]


def makefile_recipe(target: str, *extra: str) -> str:
    """The commands `make` would run for ``target`` (a dry run of the real Makefile)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *extra, target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_developers_ci_and_the_image_install_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(VENV\)/\.installed: requirements/dev\.lock$", makefile, re.M)
    # When the lock changes, the venv target installs from it, with hashes, and
    # nothing else (no `pip install -e .` resolving afresh).
    recipe = makefile_recipe(".venv/.installed", "-W", "requirements/dev.lock")
    installs = [line for line in recipe.splitlines() if " install " in line]
    assert any("--require-hashes -r requirements/dev.lock" in line for line in installs)
    assert all("--require-hashes" in line or '"pip>=' in line for line in installs), installs
    # `make lock` resolves pyproject.toml into both locks with hashes.
    lock = makefile_recipe("lock")
    assert lock.count("--generate-hashes") == 2
    assert "-o requirements/dev.lock" in lock and "-o requirements/runtime.lock" in lock
    # CI installs through `make test` (the venv target) and nothing else.
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M)
    assert "pip install" not in ci
    # The image: only runtime.lock, with hashes.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY requirements/runtime.lock requirements/" in dockerfile
    pip_lines = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert any("--require-hashes -r requirements/runtime.lock" in line for line in pip_lines)
    assert all("--require-hashes" in line or '"pip>=' in line for line in pip_lines), pip_lines


def test_the_base_image_is_pinned_by_digest():
    dockerfile = (ROOT / "Dockerfile").read_text()
    images = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    assert images
    for image in images:
        assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", image), image


# --- pip-audit -----------------------------------------------------------------


def test_ci_audits_the_lock_with_pip_audit():
    ci = (ROOT / ".ci" / "run").read_text()
    audit_lines = [line.strip() for line in ci.splitlines() if re.match(r"\s*make audit\b", line)]
    assert audit_lines and "|| status=1" in audit_lines[0]
    recipe = makefile_recipe("audit", "-o", ".venv/.installed")
    command = next(line for line in recipe.splitlines() if "pip-audit" in line)
    for flag in ("--strict", "--require-hashes", "-r requirements/dev.lock"):
        assert flag in command


class FakeOSV(BaseHTTPRequestHandler):
    """OSV's query API (https://google.github.io/osv.dev/post-v1-query/) on
    loopback: one advisory against whatever version of ``vulnerable`` asked."""

    vulnerable = ""
    asked: list[str] = []

    def do_POST(self):
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = query["package"]["name"]
        type(self).asked.append(name)
        answer = {}
        if name == self.vulnerable:
            answer = {
                "vulns": [
                    {
                        "id": "GHSA-test-0000-0000",
                        "summary": "A known vulnerability, for the test",
                        "affected": [
                            {
                                "package": {"name": name, "ecosystem": "PyPI"},
                                "ranges": [
                                    {
                                        "type": "ECOSYSTEM",
                                        "events": [{"introduced": "0"}, {"fixed": "9999.0"}],
                                    }
                                ],
                            }
                        ],
                    }
                ]
            }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def osv():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOSV)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeOSV.asked = []
    yield server
    server.shutdown()
    server.server_close()


def run_audit(osv, tmp_path) -> subprocess.CompletedProcess:
    args = (
        f"--vulnerability-service osv --osv-url http://127.0.0.1:{osv.server_port}/v1/query"
        f" --cache-dir {tmp_path}"
    )
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "audit",
            f"PIP_AUDIT_ARGS={args}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
    )


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_the_audit_fails_on_a_known_vulnerability_in_the_lock(osv, tmp_path):
    """CI's audit step, run against an OSV on loopback: clean answers pass,
    one advisory against a locked package fails the run and is named."""
    FakeOSV.vulnerable = ""
    clean = run_audit(osv, tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # Every locked package this platform installs (the lock is universal).
    installed_here = {
        name
        for name, entry in lock_entries(LOCKS["dev"]).items()
        if not entry["marker"] or Marker(entry["marker"]).evaluate()
    }
    assert set(FakeOSV.asked) == installed_here

    FakeOSV.vulnerable = "django"
    found = run_audit(osv, tmp_path)
    assert found.returncode != 0
    assert "GHSA-test-0000-0000" in found.stdout
    assert "django" in found.stdout.lower()
