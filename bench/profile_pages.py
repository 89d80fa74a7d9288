"""Where the time of each page of bench/pages.py goes, at one size: every statement with
its time from the client, and PostgreSQL's own time and buffers (EXPLAIN ANALYZE, which
shows what grows with the data whatever the load on the machine), the time rendering the
template, the rest (Python), and a cProfile of the views.

Usage (on a server as `make bench` starts, e.g. scripts/with-postgres.sh):
    .venv/bin/python bench/profile_pages.py 100000 [--reuse] [/supervisor/ ...]
--reuse keeps an earlier run's database (migrations applied, nothing loaded again); the
paths name the pages to profile (`api` for the API's client detail), all when none.
"""

from __future__ import annotations

import cProfile
import io
import logging
import pstats
import sys
import time

import common  # the path and settings

SIZE = int(sys.argv[1])
REUSE = "--reuse" in sys.argv
ONLY = [a for a in sys.argv[2:] if a.startswith("/") or a == "api"]
NAME = f"silta_profile_pages_{SIZE}"


def database() -> bool:
    """Point Django at the profile's database; True when it must be loaded."""
    return common.kept_or_fresh_database(NAME, reuse=REUSE)


class Recorder:
    """Each statement's client-side time, and how much of it ran inside rendering."""

    def __init__(self):
        self.statements: list[dict] = []
        self.rendering = False
        self.render = 0.0
        self.render_sql = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - start
            self.statements.append({"sql": sql, "params": params, "time": took})
            if self.rendering:
                self.render_sql += took

    def wrap(self, render):
        def timed(template, *args, **kwargs):
            self.rendering = True
            start = time.perf_counter()
            try:
                return render(template, *args, **kwargs)
            finally:
                self.render += time.perf_counter() - start
                self.rendering = False

        return timed


def explain(connection, sql, params) -> str:
    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return ""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else plan
    top = plan["Plan"]
    blocks = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    return f"[{plan['Execution Time']:6.2f} ms server, {blocks:6d} blocks]"


def profile(connection, name, browser, url) -> None:
    from django.template.backends import django as backend

    for _ in range(3):
        assert browser.get(url).status_code == 200
    runs = []
    original = backend.Template.render
    try:
        for _ in range(7):
            recorder = Recorder()
            backend.Template.render = recorder.wrap(original)
            with connection.execute_wrapper(recorder):
                start = time.perf_counter()
                browser.get(url)
                total = time.perf_counter() - start
            runs.append((total, recorder))
    finally:
        backend.Template.render = original
    runs.sort(key=lambda run: run[0])
    total, recorder = runs[len(runs) // 2]
    sql = sum(q["time"] for q in recorder.statements)
    python = total - sql - recorder.render + recorder.render_sql
    print(
        f"\n===== {name} at {SIZE:,}: {total * 1000:.1f} ms (median of 7): "
        f"{len(recorder.statements)} statements {sql * 1000:.1f} ms, "
        f"rendering {recorder.render * 1000:.1f} ms (of which SQL "
        f"{recorder.render_sql * 1000:.1f}), the rest (Python) {python * 1000:.1f} ms"
    )
    for q in sorted(recorder.statements, key=lambda q: -q["time"]):
        plan = explain(connection, q["sql"], q["params"])
        print(f"  {q['time'] * 1000:7.2f} ms {plan:33s} {' '.join(q['sql'].split())[:160]}")
    cpu = cProfile.Profile()
    cpu.enable()
    for _ in range(3):
        browser.get(url)
    cpu.disable()
    out = io.StringIO()
    ours = r"/(web|transfers|cases|criteria|audit|core)/[a-z_/]+\.py"
    pstats.Stats(cpu, stream=out).sort_stats("cumulative").print_stats(ours, 25)
    print("\n".join(out.getvalue().splitlines()[6:]))


def main() -> None:
    fresh = database()
    from common import signed_in_clients
    from django.contrib.auth import get_user_model
    from django.db import connection
    from pages import TODAY, load, settle

    logging.disable(logging.INFO)
    connection.set_autocommit(True)
    if fresh:
        supervisor, worker, client_id = load(connection, SIZE)
    else:
        supervisor = get_user_model().objects.get(username="supervisor")
        worker = get_user_model().objects.get(username="worker0")
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM cases_client ORDER BY id OFFSET %s LIMIT 1", [SIZE // 2])
            (client_id,) = cursor.fetchone()
    settle(connection)
    with signed_in_clients(TODAY, supervisor, worker) as (web, api):
        pages = {
            "/supervisor/": (web, "/supervisor/"),
            "/supervisor/figures/": (web, "/supervisor/figures/"),
            "/cases/?who=team": (web, "/cases/?who=team"),
            "api": (api, f"/api/v1/clients/{client_id}/"),
        }
        for name, (browser, url) in pages.items():
            if not ONLY or name in ONLY:
                profile(connection, name, browser, url)


if __name__ == "__main__":
    main()
