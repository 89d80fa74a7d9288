"""The load test's people (Locust), started by bench/load.py against gunicorn: caseworkers,
receiving workers, front desks and supervisors, each a person of the right role and team
signed in through the sign-in page (by load.py, before the run), doing what their day is
made of. Every request is a real one; nothing is mocked.

The mix (Locust's weights): 10 caseworkers to 3 receiving workers, 1 front desk and 1
supervisor, each reading a page for 2-6 s before the next. Locust users of one role take
the plan's people in turn. The number of users steps up (the plan's steps, step_seconds
each): the run ends after the last step, after two steps in a row whose throughput is not
a tenth above the best step's (saturated), or after a step whose p95 passed 10 s.

Each request's moment, page, time and status are written to the plan's `out` file when
the run ends, with the machine's load average at each step, for load.py to report.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time

from locust import HttpUser, LoadTestShape, between, events, task

with open(os.environ["SILTA_LOAD_PLAN"], encoding="utf-8") as _plan:
    PLAN = json.load(_plan)
STEPS: list[int] = PLAN["steps"]
STEP_SECONDS: int = PLAN["step_seconds"]
WARMUP: int = PLAN["warmup_seconds"]

RECORDS: list[tuple[float, str, float, int]] = []
STEP_STARTS: list[dict] = []
TURNS = {role: itertools.cycle(people) for role, people in PLAN["people"].items()}
TRANSFERS: list[int] = list(PLAN["transfers"])  # proposed, to accept; each taken once
ACCEPTED: list[int] = []


@events.request.add_listener
def _record(name, response_time, response, exception, **_kwargs):
    status = getattr(response, "status_code", 0) or 0
    if exception is not None and not status:
        status = 0
    RECORDS.append((time.time(), name, response_time, status))


@events.quitting.add_listener
def _write(**_kwargs):
    if STEP_STARTS and "end" not in STEP_STARTS[-1]:
        STEP_STARTS[-1]["end"] = time.time()
        STEP_STARTS[-1]["load_end"] = os.getloadavg()[0]
    with open(PLAN["out"], "w", encoding="utf-8") as f:
        json.dump({"records": RECORDS, "steps": STEP_STARTS, "accepted": ACCEPTED}, f)


def step_figures(start: float, end: float) -> tuple[float, float]:
    """Throughput (requests a second) and the 95th percentile (ms) of the pages answered
    between start and end."""
    times = sorted(ms for at, _name, ms, _status in RECORDS if start <= at < end)
    if not times:
        return 0.0, 0.0
    return len(times) / (end - start), times[min(len(times) - 1, int(len(times) * 0.95))]


def saturated() -> bool:
    """Two steps in a row not a tenth above the best before them, or a p95 past 10 s."""
    done = [s for s in STEP_STARTS if "rate" in s]
    if done and done[-1]["p95"] > 10_000:
        return True
    if len(done) < 3:
        return False
    best = max(s["rate"] for s in done[:-2])
    return all(s["rate"] < best * 1.1 for s in done[-2:])


class Steps(LoadTestShape):
    """STEPS users, STEP_SECONDS each; the first WARMUP seconds of a step (users
    starting) are not counted. Stops once saturated."""

    def tick(self):
        step = int(self.get_run_time() // STEP_SECONDS)
        if step >= len(STEPS):
            return None
        if len(STEP_STARTS) <= step:
            now = time.time()
            if STEP_STARTS:
                last = STEP_STARTS[-1]
                last["end"] = now
                last["load_end"] = os.getloadavg()[0]
                last["rate"], last["p95"] = step_figures(last["start"] + WARMUP, now)
                if saturated():
                    return None
            STEP_STARTS.append(
                {"users": STEPS[step], "start": now, "load_start": os.getloadavg()[0]}
            )
        return STEPS[step], max(5, STEPS[step] // 4)


class Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(2, 6)

    def on_start(self):
        """Take the next person of this role and their session (signed in by load.py
        through the sign-in page before the run: a second Locust user of the same person
        is a second browser tab)."""
        self.person = next(TURNS[self.role])
        self.client.cookies.set("sessionid", self.person["session"])

    def page(self, url: str, name: str):
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200 or "/login/" in response.url:
                response.failure(f"{name} answered {response.status_code} ({response.url})")


class Caseworker(Person):
    """An Immigration Unit caseworker: the caseload, a client, a review in progress, a
    search by surname."""

    weight = 10
    role = "caseworker"

    @task(4)
    def caseload(self):
        self.page("/cases/", "/cases/ (caseload)")

    @task(3)
    def client(self):
        self.page(f"/clients/{random.choice(self.person['clients'])}/", "/clients/{id}/")

    @task(2)
    def review(self):
        if self.person["reviews"]:
            self.page(f"/reviews/{random.choice(self.person['reviews'])}/", "/reviews/{id}/")

    @task(1)
    def search(self):
        self.page(f"/cases/?q={random.choice(self.person['names'])}", "/cases/?q= (search)")


class ReceivingWorker(Person):
    """A receiving team's worker: the incoming transfers, now and then one opened and
    accepted, naming themselves (the web form, as a browser posts it)."""

    weight = 3
    role = "receiving"

    @task(5)
    def incoming(self):
        self.page("/transfers/", "/transfers/ (incoming)")

    @task(1)
    def accept(self):
        if not TRANSFERS:
            self.incoming()
            return
        pk = TRANSFERS.pop()
        self.page(f"/transfers/{pk}/", "/transfers/{id}/")
        with self.client.post(
            f"/transfers/{pk}/accept/",
            data={
                "accept-receiving_worker": self.person["pk"],
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            allow_redirects=False,
            name="/transfers/{id}/accept/ (POST)",
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                ACCEPTED.append(pk)
            else:
                response.failure(f"accept answered {response.status_code}")


class Desk(Person):
    """A front desk: the booking queue."""

    weight = 1
    role = "desk"

    @task
    def queue(self):
        self.page("/desk/", "/desk/ (booking queue)")


class Supervisor(Person):
    """The Immigration Unit's supervisor: the supervisor page, the figures, the team's
    caseload."""

    weight = 1
    role = "supervisor"

    @task(3)
    def supervision(self):
        self.page("/supervisor/", "/supervisor/")

    @task(1)
    def figures(self):
        self.page("/supervisor/figures/", "/supervisor/figures/")

    @task(2)
    def team(self):
        self.page("/cases/?who=team", "/cases/?who=team")
