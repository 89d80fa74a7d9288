"""The load test: Locust's people (bench/locustfile.py: caseworkers, receiving workers,
front desks and supervisors, each signed in through the sign-in page) against gunicorn as
production runs it (config/gunicorn.py, WEB_CONCURRENCY workers: 3, the default, for 2
cores; DJANGO_DEBUG off, static files collected into a temporary STATIC_ROOT and served by
WhiteNoise from the manifest, the app's limited database role) on the bench's PostgreSQL
and Redis, at 10,000 and 100,000 cases (the data of bench/pages.py, dated from today).

The number of users steps up (SILTA_LOAD_STEPS, default 5,10,20,30,45,60,90,120,180,240;
each step SILTA_LOAD_STEP_SECONDS, default 45, of which the first 10 are not counted) until
the throughput stops growing: two steps in a row not a tenth above the best before them (or
a p95 past 10 s) end the run. The saturation point is the first step that no later step
beat by a tenth. Reports, per size, each step's throughput and p50/p95/p99, and per page
the figures at the first step and at the saturation point, with the machine's load average
(2 cores shared with the database, Locust and whatever else runs) and every answer 5xx or
none, with the errors gunicorn and the app logged (the log is kept in var/ then).

Results: bench/results/load.txt, rendered from bench/results/load.json, which keeps each
size's last run, so SILTA_LOAD_SIZES=10000 re-runs one size and keeps the other's.
Usage: make bench-load (or: scripts/with-postgres.sh scripts/with-redis.sh
.venv/bin/python bench/load.py)
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, report, setup_django

SIZES = [int(n) for n in os.environ.get("SILTA_LOAD_SIZES", "10000,100000").split(",")]
STEPS = [
    int(n) for n in os.environ.get("SILTA_LOAD_STEPS", "5,10,20,30,45,60,90,120,180,240").split(",")
]
STEP_SECONDS = int(os.environ.get("SILTA_LOAD_STEP_SECONDS", "45"))
WARMUP_SECONDS = 10
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "3"))
APP_ROLE = "silta_app"
PASSWORD = "bench-only-password"  # a throwaway database's people
# Transfers accepted and sent to the front desk before the run: the desk's queue.
BOOKINGS = 60
RESULTS = ROOT / "bench" / "results" / "load.json"
KNEE_MS = 2000  # the p95 a person still waits out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(size: int) -> dict:
    """This size's data (bench/pages.py: one Immigration Unit team, Koto 2, of 50
    caseworkers and a supervisor, transfers proposed to Pohjoinen AISO), the people of
    the receiving team and its front desk, and the desk's queue made by the services; the
    plan each Locust user takes its person from."""
    setup_django(f"silta_bench_load_{size}", app_role=APP_ROLE)
    import pages
    import psycopg
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from cases.enums import CaseState, Role
    from cases.models import Case, Membership, Team
    from core import clock
    from criteria.models import Review
    from transfers.enums import TransferState
    from transfers.models import Transfer
    from transfers.services import transfer_accept, transfer_request_booking

    connection.set_autocommit(True)
    pages.TODAY = clock.today().isoformat()  # the data dated from today: gunicorn's clock
    supervisor, _worker, _client = pages.load(connection, size)
    # pages.load gives worker i the cases whose id ends in i or i+50, so each worker's
    # cases are of a few states (5 of 50 have a review open): spread each state over all.
    worker_ids = list(
        Membership.objects.filter(team__code="koto2", role=Role.CASEWORKER)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_case "
            "SET responsible_worker_id = (%s::bigint[])[1 + (id + id / 100) %% 50]",
            [worker_ids],
        )
        cursor.execute(
            "UPDATE criteria_review r SET started_by_id = c.responsible_worker_id "
            "FROM cases_case c WHERE c.id = r.case_id"
        )
        cursor.execute(
            "UPDATE transfers_transfer t SET sending_worker_id = c.responsible_worker_id "
            "FROM cases_case c WHERE c.id = t.case_id"
        )
    User = get_user_model()
    koto = Team.objects.get(code="koto2")
    adult = Team.objects.get(code="pohjoinen-aiso")
    for user in User.objects.filter(username__startswith="worker"):
        user.username = f"koto2-caseworker-{user.username.removeprefix('worker')}"
        user.save(update_fields=["username"])
    supervisor.username = "koto2-supervisor"
    supervisor.save(update_fields=["username"])
    second = User.objects.create(username="koto2-supervisor-2", first_name="S", last_name="2")
    Membership.objects.create(user=second, team=koto, role=Role.SUPERVISOR)
    receiving, desks = [], []
    for i in range(4):
        user = User.objects.create(
            username=f"pohjoinen-aiso-receiving-worker-{i}", first_name="R", last_name=str(i)
        )
        Membership.objects.create(user=user, team=adult, role=Role.RECEIVING_WORKER)
        receiving.append(user)
    for i in range(2):
        user = User.objects.create(
            username=f"pohjoinen-aiso-front-desk-{i}", first_name="D", last_name=str(i)
        )
        Membership.objects.create(user=user, team=adult, role=Role.FRONT_DESK)
        desks.append(user)
    User.objects.update(password=make_password(PASSWORD))  # one hash: the same password

    proposed = list(
        Transfer.objects.filter(state=TransferState.PROPOSED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in proposed[:BOOKINGS]:
        accepted = transfer_accept(
            actor=receiving[0],
            transfer=Transfer.objects.get(pk=pk),
            receiving_worker=receiving[pk % len(receiving)],
        )
        transfer_request_booking(transfer=accepted)
    with psycopg.connect(os.environ["DATABASE_OWNER_URL"], autocommit=True) as owner:
        owner.execute("VACUUM ANALYZE")  # pages.load's VACUUM was the app role's: skipped

    open_states = [CaseState.ACTIVE, CaseState.REVIEW_DUE, CaseState.IN_REVIEW]
    caseworkers = []
    for user in User.objects.filter(username__startswith="koto2-caseworker-").order_by("pk"):
        cases = Case.objects.filter(responsible_worker=user, state__in=open_states)
        clients = list(cases.order_by("?").values_list("client_id", "client__last_name")[:100])
        reviews = list(
            Review.objects.filter(
                case__responsible_worker=user, completed_at__isnull=True
            ).values_list("pk", flat=True)[:50]
        )
        caseworkers.append(
            {
                "username": user.username,
                "clients": [pk for pk, _name in clients],
                "reviews": reviews,
                "names": [name for _pk, name in clients[:20]],
            }
        )
    to_accept = proposed[BOOKINGS:]
    random.Random(size).shuffle(to_accept)
    return {
        "password": PASSWORD,
        "people": {
            "caseworker": caseworkers,
            "receiving": [{"username": u.username, "pk": u.pk} for u in receiving],
            "desk": [{"username": u.username} for u in desks],
            "supervisor": [{"username": u.username} for u in (supervisor, second)],
        },
        "transfers": to_accept,
        "database_url": os.environ["DATABASE_URL"],
    }


def start_gunicorn(database_url: str, static_root: str, log: Path) -> tuple:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "STATIC_ROOT": static_root,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(WORKERS),
        "LOG_LEVEL": "INFO",  # production's: the app's request line, and every error
        "LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(log.parent / "metrics"),  # removed with the log's
    }
    env.pop("DATABASE_OWNER_URL", None)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not answer /readyz in 120 s; see {log}")
        time.sleep(0.5)
    return server, url


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(url: str, username: str) -> tuple[str, float]:
    """The sign-in page, then its form posted as a browser posts it (the CSRF cookie and
    field); the session cookie, and the seconds both took."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    started = time.perf_counter()
    opener.open(f"{url}/login/", timeout=120).read()
    cookies = {c.name: c.value for c in jar}
    form = urllib.parse.urlencode(
        {
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": cookies["csrftoken"],
        }
    ).encode()
    try:
        opener.open(f"{url}/login/", data=form, timeout=120).read()
        status = 200
    except urllib.error.HTTPError as answer:
        status = answer.code
    if status != 302:
        raise RuntimeError(f"signing in as {username} answered {status}, not a redirect")
    session = {c.name: c.value for c in jar}["sessionid"]
    return session, time.perf_counter() - started


def sign_everyone_in(url: str, people: dict) -> list[float]:
    """Every person of the plan signed in, WORKERS at a time (each sign-in hashes the
    password: about a second of one core), before the steps begin."""
    everyone = [person for group in people.values() for person in group]
    with ThreadPoolExecutor(WORKERS) as pool:
        answers = list(pool.map(lambda p: sign_in(url, p["username"]), everyone))
    for person, (session, _seconds) in zip(everyone, answers, strict=True):
        person["session"] = session
    return sorted(seconds for _session, seconds in answers)


def percentile(sorted_times: list[float], q: float) -> float:
    if not sorted_times:
        return 0.0
    return sorted_times[min(len(sorted_times) - 1, int(len(sorted_times) * q))]


def figures(records: list, start: float, end: float) -> dict:
    """Per page and in all: requests, requests a second, p50/p95/p99
    (ms), answers 5xx or none, other failures."""
    pages: dict[str, list] = {}
    for at, name, ms, status in records:
        if start <= at < end:
            pages.setdefault(name, []).append((ms, status))
    out = {}
    everything = [r for rows in pages.values() for r in rows]
    for name, rows in [*sorted(pages.items()), ("all pages", everything)]:
        times = sorted(ms for ms, _status in rows)
        out[name] = {
            "requests": len(rows),
            "rate": len(rows) / (end - start),
            "p50": percentile(times, 0.50),
            "p95": percentile(times, 0.95),
            "p99": percentile(times, 0.99),
            "errors": sum(1 for _ms, status in rows if status >= 500 or status == 0),
            "failures": sum(1 for _ms, status in rows if 400 <= status < 500),
        }
    return out


def logged_errors(log: Path) -> list[str]:
    """The errors gunicorn and the app logged (JSON lines at ERROR or above), each once."""
    seen: dict[str, str] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if "Traceback" in line or "Error" in line:
                seen.setdefault(line[:200], line)
            continue
        if entry.get("level", entry.get("levelname", "")) in ("ERROR", "CRITICAL"):
            key = str(entry.get("message", ""))[:200]
            seen.setdefault(key, json.dumps(entry)[:4000])
    return list(seen.values())


def one(size: int, static_root: str) -> dict:
    started = time.monotonic()
    plan = prepare(size)
    prepared_in = time.monotonic() - started
    work = Path(tempfile.mkdtemp(prefix=f"silta-load-{size}-"))
    log = work / "gunicorn.log"
    plan_file = work / "plan.json"
    out = work / "records.json"
    server, url = start_gunicorn(plan["database_url"], static_root, log)
    try:
        sign_ins = sign_everyone_in(url, plan["people"])
        plan_file.write_text(
            json.dumps(
                {
                    **plan,
                    "steps": STEPS,
                    "step_seconds": STEP_SECONDS,
                    "warmup_seconds": WARMUP_SECONDS,
                    "out": str(out),
                }
            ),
            encoding="utf-8",
        )
        locust = subprocess.run(
            [
                str(ROOT / ".venv/bin/locust"),
                "-f",
                str(ROOT / "bench/locustfile.py"),
                "--headless",
                "--host",
                url,
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, "SILTA_LOAD_PLAN": str(plan_file)},
            check=False,
            capture_output=True,
            text=True,
            timeout=len(STEPS) * STEP_SECONDS + 180,
        )
    finally:
        server.terminate()
        server.wait(timeout=60)
    if not out.exists():
        raise RuntimeError(
            f"Locust wrote no records ({locust.returncode}): {locust.stderr[-3000:]}"
        )
    result = json.loads(out.read_text(encoding="utf-8"))
    steps = []
    for step in result["steps"]:
        steps.append(
            {
                "users": step["users"],
                "load": [round(step["load_start"], 1), round(step.get("load_end", 0.0), 1)],
                "pages": figures(result["records"], step["start"] + WARMUP_SECONDS, step["end"]),
            }
        )
    # Light load: every step whose p95 stayed under KNEE_MS, pooled (a page a few people
    # open, such as the figures, has too few requests in one step).
    light = [
        (raw, step)
        for raw, step in zip(result["steps"], steps, strict=True)
        if step["pages"]["all pages"]["p95"] < KNEE_MS
    ]
    if light:
        light_pages = figures(
            result["records"], light[0][0]["start"] + WARMUP_SECONDS, light[-1][0]["end"]
        )
        light_users = f"{light[0][1]['users']}-{light[-1][1]['users']}"
    whole = figures(result["records"], 0, float("inf"))
    errors = logged_errors(log)
    kept = ROOT / "var" / f"load-gunicorn-{size}.log"
    if errors or whole["all pages"]["errors"]:
        kept.parent.mkdir(exist_ok=True)
        shutil.copy(log, kept)
    shutil.rmtree(work, ignore_errors=True)
    return {
        "size": size,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "prepared_seconds": round(prepared_in),
        "workers": WORKERS,
        "steps": steps,
        "light": {"users": light_users, "pages": light_pages} if light else None,
        "sign_ins": {
            "count": len(sign_ins),
            "p50": percentile(sign_ins, 0.5) * 1000,
            "max": sign_ins[-1] * 1000,
        },
        "accepted": len(result["accepted"]),
        "errors_by_page": {
            name: f["errors"] for name, f in whole.items() if f["errors"] and name != "all pages"
        },
        "logged_errors": errors[:5],
        "log": str(kept) if kept.exists() else "",
    }


def saturation(steps: list[dict]) -> tuple[dict, dict | None]:
    """The saturation point: the first step that no later step beat by a tenth in
    throughput, and the step after it (None when it is the last step: not reached)."""
    rates = [step["pages"]["all pages"]["rate"] for step in steps]
    for i, rate in enumerate(rates):
        if all(later < rate * 1.1 for later in rates[i + 1 :]):
            return steps[i], steps[i + 1] if i + 1 < len(steps) else None
    raise AssertionError("unreachable: the last step qualifies")


def ms(value: float) -> str:
    return f"{value:,.0f}"


def render(results: dict) -> list[str]:
    lines = [
        "Locust (bench/locustfile.py) against gunicorn (config/gunicorn.py, sync workers, "
        "DEBUG off, collected static files, the app's limited role) on the bench's PostgreSQL "
        "and Redis, all on this machine's 2 cores with Locust itself.",
        "People: 10 caseworkers : 3 receiving workers : 1 front desk : 1 supervisor "
        "(Locust's weights), each a person of the right role and team (50 caseworkers and 2 "
        "supervisors of Koto 2, 4 receiving workers and 2 front desks of Pohjoinen AISO), "
        "signed in through the sign-in page before the steps, reading each page "
        "2-6 s. Caseworker: caseload 4, client 3, review 2, search 1; receiving worker: "
        "incoming 5, open one and accept it (POST) 1; desk: booking queue; supervisor: "
        "/supervisor/ 3, team caseload 2, figures 1.",
        f"Each step {STEP_SECONDS} s, the first {WARMUP_SECONDS} s not counted; the run ends "
        "after two steps in a row not a tenth above the best throughput (or a p95 past 10 s). "
        "Times in ms; load = the 1-minute load average at the step's start and end.",
    ]
    for size in sorted(results, key=int):
        r = results[size]
        steps = r["steps"]
        best, after = saturation(steps)
        lines += [
            "",
            f"## {int(size):,} cases ({r['date']}, gunicorn {r['workers']} workers, "
            f"data ready in {r['prepared_seconds']} s)",
            "",
            "| users | req/s | p50 | p95 | p99 | 5xx or none | 4xx | load |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for step in steps:
            a = step["pages"]["all pages"]
            lines.append(
                f"| {step['users']} | {a['rate']:.1f} | {ms(a['p50'])} | {ms(a['p95'])} | "
                f"{ms(a['p99'])} | {a['errors']} | {a['failures']} | "
                f"{step['load'][0]}-{step['load'][1]} |"
            )
        b = best["pages"]["all pages"]
        if after is not None:
            n = after["pages"]["all pages"]
            lines += [
                "",
                f"saturation (throughput stops growing): {best['users']} users, "
                f"{b['rate']:.1f} req/s (p95 {ms(b['p95'])} ms); at {after['users']} users "
                f"{n['rate']:.1f} req/s, p95 {ms(n['p95'])} ms",
            ]
        else:
            lines += [
                "",
                f"saturation: not reached; {best['users']} users gave {b['rate']:.1f} req/s "
                f"(p95 {ms(b['p95'])} ms)",
            ]
        knee = [s for s in steps if s["pages"]["all pages"]["p95"] < KNEE_MS]
        if knee:
            k = knee[-1]["pages"]["all pages"]
            lines.append(
                f"p95 under {KNEE_MS:,} ms up to {knee[-1]['users']} users ({k['rate']:.1f} "
                f"req/s, p95 {ms(k['p95'])} ms)"
            )
        light = r.get("light")
        lines += [
            "",
            "Per page: at light load ("
            + (
                f"the steps of {light['users']} users, pooled: p95 under {KNEE_MS:,} ms"
                if light
                else "the first step with at least 5 of its requests"
            )
            + ") and at the saturation point.",
            "",
            f"| page | users | req/s | p50 | p95 | p99 | req/s at {best['users']} users | p50 "
            "| p95 | p99 |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        names = [n for n in best["pages"] if n != "all pages"]
        for name in [*names, "all pages"]:
            if light:
                users, f0 = light["users"], light["pages"].get(name)
            else:
                step = next(
                    (s for s in steps if s["pages"].get(name, {}).get("requests", 0) >= 5), None
                )
                users, f0 = (step["users"], step["pages"][name]) if step else ("-", None)
            f1 = best["pages"][name]
            left = "- | - | - | - | -"
            if f0 is not None:
                left = (
                    f"{users} | {f0['rate']:.2f} | {ms(f0['p50'])} | {ms(f0['p95'])} "
                    f"| {ms(f0['p99'])}"
                )
            lines.append(
                f"| {name} | {left} | {f1['rate']:.2f} | {ms(f1['p50'])} | {ms(f1['p95'])} | "
                f"{ms(f1['p99'])} |"
            )
        sign = r["sign_ins"]
        lines += [
            "",
            f"sign-ins before the steps (page and form, {r['workers']} at a time): "
            f"{sign['count']}, p50 {ms(sign['p50'])} ms, slowest {ms(sign['max'])} ms; "
            f"transfers accepted (web form) during the run: {r['accepted']}",
        ]
        if r["errors_by_page"] or r["logged_errors"]:
            lines.append(f"5xx or no answer by page: {r['errors_by_page'] or 'none'}")
            lines += [f"logged: {e[:600]}" for e in r["logged_errors"]]
        else:
            lines.append("5xx or no answer: none; gunicorn and the app logged no error")
    return lines


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(int(sys.argv[2]), sys.argv[3])))
        return
    if sys.argv[1:2] == ["--render"]:  # load.txt again from load.json, nothing run
        report("load", render(json.loads(RESULTS.read_text(encoding="utf-8"))))
        return
    static_root = tempfile.mkdtemp(prefix="silta-load-static-")
    try:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env={**os.environ, "STATIC_ROOT": static_root, "DJANGO_DEBUG": "0"},
            check=True,
        )
        results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        for size in SIZES:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(size), static_root],
                check=True,
                stdout=subprocess.PIPE,
                text=True,
                env=os.environ.copy(),
            ).stdout
            results[str(size)] = json.loads(out.strip().splitlines()[-1])
            RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
    report("load", render(results))
    if any(r["errors_by_page"] for r in results.values() if str(r["size"]) in map(str, SIZES)):
        sys.exit("answers 5xx or none during the load test: see bench/results/load.txt")


if __name__ == "__main__":
    main()
