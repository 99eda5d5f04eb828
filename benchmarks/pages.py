"""Benchmark of every role's main pages and of logging a visit, served by
gunicorn on loopback, at two caseload sizes on PostgreSQL.

Run on demand (not a test; needs PostgreSQL on 127.0.0.1:5432 as postgres,
and Debian's wrk):

    .venv/bin/python benchmarks/pages.py                     # N = 100 and 10,000
    .venv/bin/python benchmarks/pages.py --sizes 100 --duration 5

For each size it keeps a database ``bf_pages_<N>`` between runs (made once
with ``seed_demo --participants N --seed 1``), collects the static files and
starts gunicorn on 127.0.0.1 with production settings (no debug, hashed static
files served by whitenoise, two-factor login and the HTTPS redirect off, as
behind a TLS proxy on a trusted network). Then:

* SQL queries per page, counted in-process with the test client
  (``CaptureQueriesContext``), for the demo user of each role;
* median and 95th-percentile latency of each page with wrk (a Lua script
  carries the session cookie), next to the floor: the login-protected
  ``session-ping`` view, which reads only the session and the user;
* logging visits: wrk POSTs the quick-log form as fast as it is answered, each
  request with a fresh one-time submit token and every tenth a replay of the
  previous one (a double submit); then the database must hold exactly one
  visit per new token and none for the replays. The same with one connection
  gives the latency of a single request, and the ping's requests/s in the
  same run the throughput floor of the machine as loaded at that moment;
* at the larger size, the dashboard and the report PDF in-process.

It prints the table and writes it into README.md between the
``benchmark:pages`` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PASSWORD = "bench-password-123"
PORT = 8765
SEED = 1
README_START = "<!-- benchmark:pages:start -->"
README_END = "<!-- benchmark:pages:end -->"

# (role, username, page name, URL name, argument key from the child's ids)
PAGES = [
    ("social worker", "socialsekreterare", "start page", "home", None),
    ("social worker", "socialsekreterare", "my referrals", "participants:my-referrals", None),
    ("social worker", "socialsekreterare", "new referral", "participants:referral-create", None),
    ("social worker", "socialsekreterare", "referral", "participants:referral-detail", "referral"),
    ("support staff", "boendestodjare", "start page", "home", None),
    ("support staff", "boendestodjare", "my participants", "support:my-participants", None),
    ("support staff", "boendestodjare", "log visit (form)", "support:visit-quick-log", None),
    ("support staff", "boendestodjare", "participant", "participants:participant-detail",
     "participant"),
    ("support staff", "boendestodjare", "referral queue", "participants:referral-queue", None),
    ("support staff", "boendestodjare", "participants", "participants:participant-list", None),
    ("support staff", "boendestodjare", "plan reviews", "support:plan-review-list", None),
    ("support staff", "boendestodjare", "crisis places", "support:crisis-place-list", None),
    ("support staff", "boendestodjare", "meeting place", "support:activity-list", None),
    ("support staff", "boendestodjare", "apartments", "housing:apartment-list", None),
    ("support staff", "boendestodjare", "eviction risk", "housing:eviction-risk-list", None),
    ("unit manager", "enhetschef", "start page", "home", None),
    ("unit manager", "enhetschef", "retention dashboard", "reports:dashboard", None),
    ("unit manager", "enhetschef", "reports", "reports:report-list", None),
    ("unit manager", "enhetschef", "access log", "bostadforst:access-log", None),
    ("administrator", "admin", "administration", "admin:index", None),
]  # fmt: skip
PING = ("any role", "boendestodjare", "ping (floor)", "session-ping", None)
USERS = sorted({p[1] for p in PAGES})


def app_env(size: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/bf_pages_{size}",
            "DJANGO_SETTINGS_MODULE": "bostadforst.settings",
            "DJANGO_READ_DOT_ENV": "false",
            "SECRET_KEY": "benchmark-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            "DJANGO_DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_HSTS_SECONDS": "0",
            "OTP_REQUIRED_FOR_PRIVILEGED": "false",
            "STATIC_MANIFEST": "true",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "60",
        }
    )
    env.pop("REDIS_URL", None)
    return env


def run(cmd: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, **kwargs)


# --- The databases -----------------------------------------------------------------


def ensure_database(size: int) -> None:
    """Create, migrate and seed ``bf_pages_<size>`` unless it holds the caseload."""
    env = app_env(size)
    name = f"bf_pages_{size}"
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc",
         f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if exists:
        count = child(size, "count")
        if count == size:
            analyze(name)
            return
        run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", name], env)
    run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], env)
    run([PYTHON, "manage.py", "migrate", "-v0"], env)
    print(f"Seeding {size:,} people into {name} …", file=sys.stderr)
    run(
        [PYTHON, "manage.py", "seed_demo", "--participants", str(size), "--seed", str(SEED),
         "--password", PASSWORD],
        env,
    )  # fmt: skip
    analyze(name)


def analyze(name: str) -> None:
    """Refresh the planner's statistics: the seed writes a million rows in a
    few bulk statements and the run starts before autovacuum has analysed
    them. With no statistics PostgreSQL took a table of 10,000 people for 4
    rows and chose nested loops over it (the support worker's start page:
    0.28 s of SQL instead of 0.014 s)."""
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "ANALYZE", name],
                   check=True)  # fmt: skip


def child(size: int, mode: str):
    """Run this script in a child process against one size's database (Django
    can be set up once per process) and return what it prints as JSON."""
    out = run([PYTHON, __file__, "--child", mode, "--size", str(size)], app_env(size),
              capture_output=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


# --- In-process measures (the child) -----------------------------------------------


def child_main(mode: str, size: int) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from participants.models import Participant

    if mode == "count":
        print(json.dumps(Participant.objects.count()))
        return
    if mode == "queries":
        print(json.dumps(measure_queries()))
        return
    if mode == "reports":
        print(json.dumps(measure_reports()))
        return
    if mode == "verify":
        print(json.dumps(verify_visits(os.environ["BENCH_RUN"])))
        return
    raise SystemExit(f"unknown mode {mode}")


def sample_ids() -> dict:
    from bostadforst.models import User
    from participants.models import Participant, Referral

    worker = User.objects.get(username="boendestodjare")
    mine = list(
        Participant.objects.filter(support_worker=worker, status="housed")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    referral = (
        Referral.objects.filter(referred_by__username="socialsekreterare").order_by("pk").first()
    )
    return {
        "participant": mine[0],
        "caseload": mine,
        "referral": referral.pk,
        "worker": worker.pk,
    }


def url_for(name: str, key: str | None, ids: dict) -> str:
    from django.urls import reverse

    return reverse(name, kwargs={"pk": ids[key]} if key else None)


def measure_queries() -> dict:
    """SQL queries of one GET of each page by its role's demo user."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bostadforst.models import User

    ids = sample_ids()
    clients = {}
    counts = {}
    for role, username, page, name, key in [*PAGES, PING]:
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        client = clients[username]
        url = url_for(name, key, ids)
        client.get(url)  # warm: the first request of a session sets it up
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} as {username}: {response.status_code}")
        counts[f"{role}|{page}"] = len(queries)
    return {"queries": counts, "ids": ids, "urls": {
        f"{role}|{page}": url_for(name, key, ids) for role, _u, page, name, key in [*PAGES, PING]
    }}  # fmt: skip


def measure_reports() -> dict:
    """The dashboard page and the report PDF (figures and rendering), best of 3."""
    from django.test import Client
    from django.utils import timezone

    from bostadforst.models import User
    from reports.models import Report
    from reports.pdf import render_report_pdf
    from reports.presentation import report_context
    from reports.services import report_figures

    client = Client()
    client.force_login(User.objects.get(username="enhetschef"))
    today = timezone.localdate()

    def best(fn):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return min(times)

    def dashboard():
        assert client.get("/reports/").status_code == 200

    def pdf():
        figures = report_figures(as_of=today, months=0, filters={})
        render_report_pdf(context=report_context(report=Report(as_of=today), figures=figures))

    return {"dashboard": best(dashboard), "pdf": best(pdf)}


def verify_visits(run_id: str) -> dict:
    from support.models import SupportVisit

    notes = list(
        SupportVisit.objects.filter(note__startswith=f"bench {run_id} ").values_list(
            "note", flat=True
        )
    )
    return {"stored": len(notes), "distinct": len(set(notes))}


# --- Serving and loading -----------------------------------------------------------


def collectstatic(env: dict) -> None:
    run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env)


def start_gunicorn(env: dict, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [GUNICORN, "bostadforst.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", str(workers), "--log-level", "warning"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer")


def login(username: str) -> dict[str, str]:
    """Log in through the login form; the session and CSRF cookies."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"http://127.0.0.1:{PORT}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(f"http://127.0.0.1:{PORT}/login/", data=data)
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise SystemExit(f"login as {username} failed")
    return cookies


def check_page(url: str, cookies: dict) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{url}",
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
    )
    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(request) as response:
        if response.status != 200:
            raise SystemExit(f"{url}: {response.status}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


GET_LUA = """
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
function done(summary, latency, requests)
  io.stderr:write(string.format("RESULT %d %d %d %d %d\\n",
    latency:percentile(50), latency:percentile(95), summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout, summary.duration))
end
"""

POST_LUA = """
local run_id = os.getenv("BENCH_RUN")
local csrf = os.getenv("BENCH_CSRF")
local started_at = os.getenv("BENCH_STARTED_AT")
local staff = os.getenv("BENCH_STAFF")
local people = {}
for id in string.gmatch(os.getenv("BENCH_PEOPLE"), "%d+") do people[#people + 1] = id end
wrk.method = "POST"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local threads = {}
local counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  sent, replays, accepted, other, last = 0, 0, 0, 0, nil
end
function request()
  local token
  if last ~= nil and (sent + replays) % 10 == 9 then
    token = last
    replays = replays + 1
  else
    sent = sent + 1
    token = string.format("%08x-%04x-4000-8000-%012x", tonumber(run_id), tid, sent)
    last = token
  end
  local body = "csrfmiddlewaretoken=" .. csrf .. "&submit_token=" .. token
    .. "&participant=" .. people[(sent % #people) + 1]
    .. "&kind=home_visit&started_at=" .. started_at .. "&duration_minutes=30"
    .. "&staff=" .. staff .. "&sign=on&note=bench+" .. run_id .. "+" .. token
  return wrk.format(nil, nil, nil, body)
end
function response(status, headers, body)
  if status == 302 then accepted = accepted + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local s, r, a, o = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent"); r = r + t:get("replays")
    a = a + t:get("accepted"); o = o + t:get("other")
  end
  io.stderr:write(string.format("RESULT %d %d %d %d %d\\n",
    latency:percentile(50), latency:percentile(95), summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout + o, summary.duration))
  io.stderr:write(string.format("POSTS %d %d %d %d\\n", s, r, a, o))
end
"""


def wrk(url: str, script: str, env: dict, *, duration: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        result = subprocess.run(
            ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s",
             "--timeout", "10s",
             "-s", file.name, f"http://127.0.0.1:{PORT}{url}"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        os.unlink(file.name)
    line = next(x for x in result.stderr.splitlines() if x.startswith("RESULT"))
    p50, p95, requests, errors, duration_us = map(int, line.split()[1:])
    out = {
        "median_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "requests": requests,
        "errors": errors,
        "rps": requests / (duration_us / 1e6),
    }
    posts = [x for x in result.stderr.splitlines() if x.startswith("POSTS")]
    if posts:
        out["sent"], out["replays"], out["accepted"], out["other"] = map(int, posts[0].split()[1:])
    return out


def measure_size(size: int, args) -> dict:
    ensure_database(size)
    env = app_env(size)
    collectstatic(env)
    measured = child(size, "queries")
    ids, urls = measured["ids"], measured["urls"]
    server = start_gunicorn(env, args.workers)
    try:
        cookies = {username: login(username) for username in USERS}
        latencies = {}
        for role, username, page, _name, _key in [PING, *([] if args.visits_only else PAGES)]:
            key = f"{role}|{page}"
            jar = cookies[username]
            check_page(urls[key], jar)
            wrk_env = dict(os.environ, BENCH_COOKIE="; ".join(f"{k}={v}" for k, v in jar.items()))
            latencies[key] = wrk(
                urls[key], GET_LUA, wrk_env, duration=args.duration, connections=args.connections
            )
            print(f"  {size:>6} {key:<45} {latencies[key]['median_ms']:8.1f} ms", file=sys.stderr)
        # Logging visits, as the support worker, for their own caseload.
        jar = cookies["boendestodjare"]
        run_id = str(int(time.time()) % 0xFFFFFFFF)
        started = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() - 3600))
        post_env = dict(
            os.environ,
            BENCH_COOKIE="; ".join(f"{k}={v}" for k, v in jar.items()),
            BENCH_CSRF=jar["csrftoken"],
            BENCH_RUN=run_id,
            BENCH_STARTED_AT=urllib.parse.quote(started),
            BENCH_STAFF=str(ids["worker"]),
            BENCH_PEOPLE=",".join(map(str, ids["caseload"])),
        )
        visits = wrk(
            urls["support staff|log visit (form)"],
            POST_LUA,
            post_env,
            duration=args.duration,
            connections=args.connections,
        )
        # One request at a time: the latency of a POST without queueing.
        single = wrk(
            urls["support staff|log visit (form)"],
            POST_LUA,
            dict(post_env, BENCH_RUN=str(int(run_id) + 1)),
            duration=args.duration,
            connections=1,
        )
        visits["single_median_ms"] = single["median_ms"]
        visits["ping_rps"] = latencies[f"{PING[0]}|{PING[2]}"]["rps"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = json.loads(
        run([PYTHON, __file__, "--child", "verify", "--size", str(size)],
            dict(env, BENCH_RUN=run_id), capture_output=True).stdout.strip().splitlines()[-1]
    )  # fmt: skip
    visits.update(stored)
    result = {"queries": measured["queries"], "latency": latencies, "visits": visits}
    if size == max(args.sizes):
        result["reports"] = child(size, "reports")
    return result


# --- The table ---------------------------------------------------------------------


def table(results: dict[int, dict], args) -> str:
    small, large = min(results), max(results)
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on this {os.cpu_count()}-core machine "
        f"(load average {os.getloadavg()[0]:.1f} at the end), PostgreSQL, "
        f"gunicorn with {args.workers} "
        f"sync workers on 127.0.0.1, wrk with {args.connections} connections for "
        f"{args.duration} s per page; latency in ms; queries of one request.",
        "",
        f"| role | page | queries N={small:,} | queries N={large:,} "
        f"| median N={small:,} | p95 N={small:,} | median N={large:,} | p95 N={large:,} "
        f"| × ping N={large:,} |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ping = {n: results[n]["latency"][f"{PING[0]}|{PING[2]}"]["median_ms"] for n in results}
    for role, _u, page, _n, _k in [PING, *PAGES]:
        key = f"{role}|{page}"
        q = [results[n]["queries"][key] for n in (small, large)]
        lat = [results[n]["latency"][key] for n in (small, large)]
        same = "" if q[0] == q[1] else " ⚠"
        cells = []
        for measured in lat:
            if measured["requests"]:
                cells += [f"{measured['median_ms']:.1f}", f"{measured['p95_ms']:.1f}"]
            else:  # wrk counts only answers within its run
                cells += [f"none in {args.duration} s ⚠", "–"]
        if lat[1]["requests"]:
            ratio = lat[1]["median_ms"] / ping[large]
            flag = "" if ratio <= 2 or page.startswith("ping") else " ⚠"
            times = f"{ratio:.1f}{flag}"
        else:
            times = f"> {args.duration * 1000 / ping[large]:.0f} ⚠"
        lines.append(f"| {role} | {page} | {q[0]} | {q[1]}{same} | {' | '.join(cells)} | {times} |")
    lines += [
        "",
        "| logging visits (POST) | N | requests/s | ping requests/s (same run) | × ping "
        "| median | p95 | median, 1 connection | errors "
        "| answered 302 | new tokens sent | replays sent | visits stored | stored twice "
        "| each accepted visit once |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in (small, large):
        v = results[n]["visits"]
        lines.append(
            f"| quick log | {n:,} | {v['rps']:.0f} | {v['ping_rps']:.0f} "
            f"| {v['rps'] / v['ping_rps']:.2f} | {v['median_ms']:.1f} | {v['p95_ms']:.1f} "
            f"| {v['single_median_ms']:.1f} "
            f"| {v['errors']} | {v['accepted']} | {v['sent']} | {v['replays']} | {v['stored']} "
            f"| {v['stored'] - v['distinct']} | {'yes' if once(v) else 'NO'} |"
        )
    reports = results[large].get("reports")
    if reports:
        lines += [
            "",
            f"At N = {large:,}, in-process (best of 3): dashboard page "
            f"{reports['dashboard']:.2f} s, report PDF (figures and rendering) "
            f"{reports['pdf']:.2f} s; target < 1 s.",
        ]
    return "\n".join(lines)


def once(v: dict) -> bool:
    """Every token stored at most once, and every new token answered 302 is
    stored (a request still in flight when wrk stopped may or may not be)."""
    return v["stored"] == v["distinct"] and v["accepted"] - v["replays"] <= v["stored"] <= v["sent"]


def write_readme(text: str) -> None:
    path = ROOT / "README.md"
    readme = path.read_text()
    block = f"{README_START}\n{text}\n{README_END}"
    if README_START in readme:
        readme = re.sub(
            re.escape(README_START) + ".*?" + re.escape(README_END),
            lambda _m: block,
            readme,
            flags=re.S,
        )
    else:
        readme = readme.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(readme)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--duration", type=int, default=10, help="seconds per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--visits-only",
        action="store_true",
        help="only the ping and the visit POSTs (prints them; README untouched)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.size)
        return
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    results = {size: measure_size(size, args) for size in sorted(args.sizes)}
    Path(tempfile.gettempdir(), "bf_pages_latest.json").write_text(json.dumps(results, indent=1))
    if args.visits_only:
        print(json.dumps({n: r["visits"] for n, r in results.items()}, indent=1))
        return
    text = table(results, args)
    print(text)
    if not args.no_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
