"""Helpers for the fault drills: a Redis and a PostgreSQL of the drill's own (so a drill
can stop them), real worker, beat and gunicorn processes, the drill's data, HTTP clients
that keep proposing and accepting, the recipient's view of the e-mails, and the invariants
checked after a fault."""

from __future__ import annotations

import contextlib
import email
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
# The drills run Silta (the driver, gunicorn, the worker, beat) as the app's limited
# database role, as production does; scripts/with-postgres.sh creates it, `migrate` grants.
APP_ROLE = "silta_app"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


class Redis:
    def __init__(self, port: int):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="silta-drill-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.dir,
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what="redis to start")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Postgres:
    """A throwaway PostgreSQL cluster of the drill's own (as scripts/with-postgres.sh starts
    one), so that the drill can stop and start it under load."""

    def __init__(self):
        self.bindir = _pg_bindir()
        self.dir = tempfile.mkdtemp(prefix="silta-drill-pg-")
        self.port = free_port()
        self.as_root = os.getuid() == 0
        if self.as_root:  # initdb refuses root: the server runs as `postgres`
            if subprocess.run(["id", "postgres"], capture_output=True).returncode:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
            shutil.chown(self.dir, user="postgres")
        self._run(["initdb", "-D", self.dir, "-U", "silta", "--auth=trust", "-E", "UTF8"])

    def url(self, database: str = "silta") -> str:
        return f"postgres://silta@127.0.0.1:{self.port}/{database}"

    def _run(self, argv: list[str]) -> None:
        argv = [str(Path(self.bindir) / argv[0]), *argv[1:]]
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            ["pg_ctl", "-D", self.dir, "-w", "-l", f"{self.dir}/server.log", "start", "-o", options]
        )

    def stop(self, mode: str = "fast") -> None:
        """fast: what a service manager's restart does (sessions are terminated)."""
        self._run(["pg_ctl", "-D", self.dir, "-w", "-m", mode, "stop"])

    def cleanup(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def _pg_bindir() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        found = subprocess.run(
            ["pg_config", "--bindir"], check=True, capture_output=True, text=True
        ).stdout.strip()
        if (Path(found) / "initdb").exists():
            return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    for path in candidates:
        if (path / "initdb").exists():
            return str(path)
    initdb = shutil.which("initdb")
    if initdb:
        return str(Path(initdb).resolve().parent)
    raise SystemExit("PostgreSQL server binaries (initdb, pg_ctl) not found")


# Processes -----------------------------------------------------------------------------------


def _spawn(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    # A session of its own: a drill can kill the whole process group (the worker and its
    # pool processes at once, as when a container or machine dies).
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_worker(env: dict, *, concurrency: int = 2, log: Path) -> subprocess.Popen:
    return _spawn(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        log,
    )


def start_beat(env: dict, *, log: Path, schedule: Path) -> subprocess.Popen:
    """Celery beat with the project's own schedule (config/celery.py): its relay-outbox
    entry is the safety net every drill waits for."""
    return _spawn(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(schedule),
        ],
        env,
        log,
    )


def start_server(env: dict, *, port: int, log: Path, workers: int = 3) -> subprocess.Popen:
    """gunicorn as the Dockerfile runs it (sync workers), on loopback."""
    proc = _spawn(
        [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
        ],
        {"DJANGO_DEBUG": "0", **env},
        log,
    )

    def answers() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    wait_for(answers, timeout=60, what="gunicorn to listen")
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    """SIGTERM (a warm shutdown), then SIGKILL to the group if it does not stop."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        kill_group(proc)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # pool processes left behind, if any


stop_process = stop_worker


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL to the process and every process of its group, at once."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def finish(work: Path, failures: list[str]) -> int:
    """The drill's exit status; its working directory (logs, e-mails) is kept only when it
    failed, to be read."""
    if failures:
        print(f"(logs and e-mails kept in {work})")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def wait_for(
    predicate, *, timeout: float, what: str, interval: float = 0.2, quiet: bool = False
) -> bool:
    """Wait until `predicate()` is true; after `timeout`, raise (or return False if quiet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    if quiet:
        return False
    raise TimeoutError(f"timed out waiting for {what}")


def alive(*procs: subprocess.Popen) -> None:
    """Raise if a process the drill depends on has exited (an import error in the tree, a
    crash): a drill then fails at once with the reason, not after its timeout."""
    for proc in procs:
        if proc.poll() is not None:
            raise RuntimeError(f"{' '.join(map(str, proc.args[:4]))} exited with {proc.returncode}")


# E-mail as the recipient sees it -------------------------------------------------------------


def message_ids(mail_dir: Path) -> list[str]:
    return [message_id for _to, message_id in mails(mail_dir)]


def mails(mail_dir: Path, paths: list[Path] | None = None) -> list[tuple[str, str]]:
    """(recipient, Message-ID) of every e-mail Django's file backend wrote, one per copy."""
    found = []
    for path in sorted(mail_dir.glob("*")) if paths is None else paths:
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk)
            found.append((str(message["To"] or ""), str(message["Message-ID"] or "")))
    return found


@dataclass
class MailCount:
    expected: int
    copies: int
    seen: int
    lost: int
    duplicated: int
    resent: int

    def line(self) -> str:
        return (
            f"e-mails: {self.expected} expected, {self.copies} written, {self.seen} distinct "
            f"(recipient, Message-ID); lost {self.lost}, duplicated {self.duplicated}; "
            f"{self.resent} copies sent again with the same Message-ID"
        )


def count_mail(mail_dir: Path) -> MailCount:
    """Every e-mail outbox row against the e-mails written. A recipient sees one message per
    (recipient, Message-ID): a copy sent again after a crash, with the same Message-ID, is
    the same message to a mail store. Lost: a row with no e-mail; duplicated: an e-mail no
    row asked for, or one notice under two Message-IDs."""
    from django.contrib.auth import get_user_model

    from notifications.models import OutboxMessage

    emails = dict(get_user_model().objects.exclude(email="").values_list("pk", "email"))
    expected = set()
    for key, payload in OutboxMessage.objects.filter(channel="email").values_list("key", "payload"):
        if payload.get("recipient") in emails:
            expected.add((emails[payload["recipient"]], f"<{key.replace(':', '.')}@silta>"))
    copies = mails(mail_dir)
    seen = set(copies)
    return MailCount(
        expected=len(expected),
        copies=len(copies),
        seen=len(seen),
        lost=len(expected - seen),
        duplicated=len(seen - expected),
        resent=len(copies) - len(seen),
    )


# The drill's data ----------------------------------------------------------------------------


def issue_token(username: str) -> str:
    """An API token as an operator issues one (`manage.py issue_api_token`)."""
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("issue_api_token", username, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def with_email(user, address: str) -> None:
    from notifications.models import NotificationPreference

    user.email = address
    user.save(update_fields=["email"])
    NotificationPreference.objects.update_or_create(user=user, defaults={"email": True})


def _columns(model, overrides: dict[str, str]) -> tuple[str, str]:
    """The column list of `model` (all but the id) and the SELECT list copying them from the
    template row `t`, with SQL overrides; unique nullable columns become NULL."""
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        names.append(f'"{f.column}"')
        if f.column in overrides:
            values.append(overrides[f.column])
        elif f.unique and f.null:
            values.append("NULL")
        else:
            values.append(f't."{f.column}"')
    return ", ".join(names), ", ".join(values)


def clone_cases(template, count: int, **case_overrides: str) -> list[int]:
    """`count` copies of the case `template`, each with a copy of its client, in SQL (a
    few seconds for thousands). Overrides are SQL over the template row `t` and `c.n`, the
    copy's number from 1. Returns the new case ids in order."""
    from django.db import connection

    from cases.models import Case, Client

    with connection.cursor() as cursor:
        names, values = _columns(Client, {"last_name": "'Drill ' || g"})
        cursor.execute(
            f"INSERT INTO {Client._meta.db_table} ({names}) SELECT {values} "
            f"FROM {Client._meta.db_table} t, generate_series(1, %s) g WHERE t.id = %s "
            "RETURNING id",
            [count, template.client_id],
        )
        clients = sorted(row[0] for row in cursor.fetchall())
        names, values = _columns(Case, {"client_id": "c.id", **case_overrides})
        cursor.execute(
            f"INSERT INTO {Case._meta.db_table} ({names}) SELECT {values} "
            f"FROM {Case._meta.db_table} t, unnest(%s::bigint[]) WITH ORDINALITY c(id, n) "
            "WHERE t.id = %s RETURNING id",
            [clients, template.pk],
        )
        cases = sorted(row[0] for row in cursor.fetchall())
    return cases


def clone_ready_reviews(org, count: int) -> list[int]:
    """`count` cases in review with a review ready to propose, each of its own client:
    one built through the services (tests.factories), then copied in SQL. Returns the
    review ids."""
    from django.db import connection

    from cases.enums import CaseState
    from cases.models import Case
    from criteria.models import CriterionAssessment, Review
    from criteria.selectors import open_review_of
    from tests.factories import assess_all_met, case_in_state

    template = case_in_state(org, CaseState.IN_REVIEW, first_name="Drill")
    assess_all_met(org, template)
    review = open_review_of(template)
    cases = clone_cases(template, count)
    with connection.cursor() as cursor:
        names, values = _columns(Review, {"case_id": "c.id"})
        cursor.execute(
            f"INSERT INTO {Review._meta.db_table} ({names}) SELECT {values} "
            f"FROM {Review._meta.db_table} t, unnest(%s::bigint[]) c(id) WHERE t.id = %s "
            "RETURNING id",
            [cases, review.pk],
        )
        reviews = sorted(row[0] for row in cursor.fetchall())
        names, values = _columns(CriterionAssessment, {"review_id": "r.id"})
        cursor.execute(
            f"INSERT INTO {CriterionAssessment._meta.db_table} ({names}) SELECT {values} "
            f"FROM {CriterionAssessment._meta.db_table} t, unnest(%s::bigint[]) r(id) "
            "WHERE t.review_id = %s",
            [reviews, review.pk],
        )
    assert Case.objects.filter(pk__in=cases, state=CaseState.IN_REVIEW).count() == count
    return reviews


@dataclass
class People:
    org: object
    pairs: list[tuple[str, str, str, str]]  # (caseworker, its token, receiver, its token)
    front_desk_emails: int


def drill_people(clients: int):
    """Silta's test organisation, and for each client a caseworker of the sending team and
    a receiving worker of the receiving team with API tokens. The front desk wants its
    notices by e-mail, so every booking request is a notice and an e-mail to check."""
    from cases.enums import Role
    from tests.factories import make_org, member

    org = make_org()
    with_email(org.front_desk, "frontdesk@example.invalid")
    with_email(org.caseworker, "caseworker@example.invalid")
    pairs = []
    for i in range(clients):
        sender = member(org.koto, Role.CASEWORKER, username=f"drill-sender-{i}")
        receiver = member(org.adult, Role.RECEIVING_WORKER, username=f"drill-receiver-{i}")
        pairs.append(
            (
                sender.username,
                issue_token(sender.username),
                receiver.username,
                issue_token(receiver.username),
            )
        )
    return People(org=org, pairs=pairs, front_desk_emails=1)


# Clients that keep proposing and accepting over HTTP -----------------------------------------


@dataclass
class Attempt:
    client: int
    op: str
    started: float
    ended: float
    status: int | str  # an HTTP status, or the name of the exception (no answer)
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return isinstance(self.status, int) and 200 <= self.status < 300


@dataclass
class Load:
    """10 (or DRILL_CLIENTS) clients, each a thread with its own HTTP connection and its own
    pair of users, proposing a transfer from a ready review and accepting it, with a pause
    between cycles. Every request carries an Idempotency-Key: after a 5xx or no answer the
    client sends the same request again until it gets an answer (as a careful integration
    does), so nothing it was told succeeded is lost and nothing is done twice."""

    base_url: str
    people: People
    reviews: list[int]
    pause: float = 1.0
    give_up_after: float = 900.0
    attempts: list[Attempt] = field(default_factory=list)
    proposed: dict[int, int] = field(default_factory=dict)  # review -> transfer (answered)
    accepted: set[int] = field(default_factory=set)  # transfers answered accepted
    refused: list[tuple[str, int, int, str]] = field(default_factory=list)
    unfinished: list[tuple[str, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def warm_up(self) -> None:
        """One read per client at once, so that every server process has loaded Silta
        before the drill's clock starts."""
        import httpx

        def read(token: str) -> None:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(
                    f"{self.base_url}/api/v1/transfers/",
                    headers={"Authorization": f"Token {token}"},
                    timeout=120,
                )

        readers = [
            threading.Thread(target=read, args=(pair[1],), daemon=True)
            for pair in self.people.pairs
        ]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()

    def run(self) -> list[threading.Thread]:
        threads = []
        n = len(self.people.pairs)
        for i in range(n):
            mine = self.reviews[i::n]
            thread = threading.Thread(target=self._client, args=(i, mine), daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def _client(self, i: int, reviews: list[int]) -> None:
        import httpx

        _sender, sender_token, receiver, receiver_token = self.people.pairs[i]
        with httpx.Client(base_url=self.base_url, timeout=60) as http:
            for review in reviews:
                if self.stop.is_set():
                    return
                answer = self._op(
                    http,
                    i,
                    "propose",
                    f"/api/v1/reviews/{review}/propose-transfer/",
                    {},
                    sender_token,
                    f"propose-{review}",
                )
                if answer is None:
                    continue
                transfer = answer["id"]
                with self.lock:
                    self.proposed[review] = transfer
                if (
                    self._op(
                        http,
                        i,
                        "accept",
                        f"/api/v1/transfers/{transfer}/accept/",
                        {"receiving_worker": receiver},
                        receiver_token,
                        f"accept-{transfer}",
                    )
                    is not None
                ):
                    with self.lock:
                        self.accepted.add(transfer)
                self.stop.wait(self.pause)

    def _op(self, http, i, op, url, body, token, key):
        started_op = time.monotonic()
        while True:
            started = time.monotonic()
            try:
                response = http.post(
                    url,
                    json=body,
                    headers={"Authorization": f"Token {token}", "Idempotency-Key": key},
                )
                status: int | str = response.status_code
            except Exception as exc:  # no answer: the same request goes again
                response, status = None, type(exc).__name__
            retry_after = response.headers.get("Retry-After") if response is not None else None
            attempt = Attempt(i, op, started, time.monotonic(), status, retry_after)
            with self.lock:
                self.attempts.append(attempt)
            if attempt.ok:
                return response.json()
            if isinstance(status, int) and status < 500 and status != 429:
                with self.lock:
                    self.refused.append((op, i, status, response.text[:300]))
                return None
            if time.monotonic() - started_op > self.give_up_after:
                with self.lock:
                    self.unfinished.append((op, i))
                return None
            # Sooner than Retry-After asks: the drill measures how soon it recovers.
            wait = min(float(retry_after), 0.5) if retry_after else 0.5
            time.sleep(wait)

    def latencies(self, op: str, since: float, until: float) -> list[float]:
        return [
            a.ended - a.started
            for a in self.attempts
            if a.op == op and a.ok and since <= a.started < until
        ]


def database_role() -> str:
    """Which role Silta runs as here (the server, worker and beat inherit it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
    return f"database role {user}" + (" (a superuser)" if superuser else " (not a superuser)")


def machine_load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} on {os.cpu_count()} cores"


def ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    median = statistics.median(values)
    return f"median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (n={len(values)})"


# Invariants ----------------------------------------------------------------------------------


INVARIANTS = {
    "transfers without exactly one propose event": """
        SELECT count(*) FROM transfers_transfer t WHERE (SELECT count(*) FROM cases_event e
            WHERE e.transfer_id = t.id AND e.subject = 'transfer' AND e.action = 'propose') <> 1
    """,
    "transfers whose case has no propose_transfer event for them": """
        SELECT count(*) FROM transfers_transfer t WHERE NOT EXISTS (SELECT 1 FROM cases_event e
            WHERE e.case_id = t.case_id AND e.subject = 'case'
              AND e.action = 'propose_transfer' AND e.transfer_id = t.id)
    """,
    "transfers whose review is not completed as ready": """
        SELECT count(*) FROM transfers_transfer t JOIN criteria_review r ON r.id = t.review_id
        WHERE r.completed_at IS NULL OR r.outcome <> 'ready'
    """,
    "reviews with more than one transfer": """
        SELECT count(*) FROM (SELECT review_id FROM transfers_transfer GROUP BY review_id
            HAVING count(*) > 1) x
    """,
    "open transfers whose case is not transfer_pending": """
        SELECT count(*) FROM transfers_transfer t JOIN cases_case c ON c.id = t.case_id
        WHERE t.state IN ('proposed', 'accepted', 'booking_requested', 'booked')
          AND c.state <> 'transfer_pending'
    """,
    "cases transfer_pending without exactly one open transfer": """
        SELECT count(*) FROM cases_case c WHERE c.state = 'transfer_pending' AND (
            SELECT count(*) FROM transfers_transfer t WHERE t.case_id = c.id
              AND t.state IN ('proposed', 'accepted', 'booking_requested', 'booked')) <> 1
    """,
    "in-review cases with a completed review and no transfer": """
        SELECT count(*) FROM cases_case c WHERE c.state = 'in_review' AND NOT EXISTS (
            SELECT 1 FROM criteria_review r WHERE r.case_id = c.id AND r.completed_at IS NULL)
    """,
    "accepted transfers without exactly one accept event": """
        SELECT count(*) FROM transfers_transfer t WHERE t.accepted_at IS NOT NULL AND (
            SELECT count(*) FROM cases_event e WHERE e.transfer_id = t.id
              AND e.subject = 'transfer' AND e.action = 'accept') <> 1
    """,
    "accept events on transfers not accepted": """
        SELECT count(*) FROM cases_event e JOIN transfers_transfer t ON t.id = e.transfer_id
        WHERE e.subject = 'transfer' AND e.action = 'accept' AND t.accepted_at IS NULL
    """,
    "accepted transfers without their booking:open outbox row": """
        SELECT count(*) FROM transfers_transfer t WHERE t.accepted_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM notifications_outboxmessage o
            WHERE o.key = 'booking:open:' || t.id)
    """,
    "accepted transfers whose case does not name the receiving team": """
        SELECT count(*) FROM transfers_transfer t JOIN cases_case c ON c.id = t.case_id
        WHERE t.accepted_at IS NOT NULL AND t.state NOT IN ('cancelled', 'returned')
          AND c.receiving_team_id IS DISTINCT FROM t.receiving_team_id
    """,
    "transfers past acceptance without exactly one live booking": """
        SELECT count(*) FROM transfers_transfer t WHERE t.state IN ('booking_requested', 'booked')
          AND (SELECT count(*) FROM transfers_handoverbooking b WHERE b.transfer_id = t.id
            AND b.status IN ('requested', 'confirmed')) <> 1
    """,
    "bookings without a request_booking event": """
        SELECT count(*) FROM transfers_handoverbooking b WHERE NOT EXISTS (
            SELECT 1 FROM cases_event e WHERE e.transfer_id = b.transfer_id
              AND e.action = 'request_booking')
    """,
    "bookings without their booking:send outbox row": """
        SELECT count(*) FROM transfers_handoverbooking b WHERE NOT EXISTS (
            SELECT 1 FROM notifications_outboxmessage o WHERE o.key = 'booking:send:' || b.id)
    """,
    "notices recorded twice": """
        SELECT count(*) FROM (SELECT 1 FROM notifications_notification
            GROUP BY recipient_id, kind, on_date, subject_key HAVING count(*) > 1) x
    """,
}


def broken_invariants() -> dict[str, int]:
    """The name and count of every invariant that does not hold (empty when all hold)."""
    from django.db import connection

    broken = {}
    with connection.cursor() as cursor:
        for name, sql in INVARIANTS.items():
            cursor.execute(sql)
            count = cursor.fetchone()[0]
            if count:
                broken[name] = count
    return broken


def delivery_state() -> dict[str, int]:
    """What the outbox and the chain after acceptance look like now."""
    from django.db.models import Count

    from notifications.models import Notification, OutboxMessage
    from transfers.models import HandoverBooking, Transfer

    outbox = Counter(dict(OutboxMessage.objects.values_list("status").annotate(Count("id"))))
    transfers = Counter(dict(Transfer.objects.values_list("state").annotate(Count("id"))))
    return {
        "outbox_pending": outbox.get("pending", 0),
        "outbox_sent": outbox.get("sent", 0),
        "outbox_failed": outbox.get("failed", 0),
        "accepted_waiting": transfers.get("accepted", 0),
        "booking_requested": transfers.get("booking_requested", 0),
        "bookings": HandoverBooking.objects.count(),
        "booking_notices": Notification.objects.filter(kind="booking_requested").count(),
    }


def delivered_everything(front_desk: int) -> bool:
    state = delivery_state()
    return (
        state["outbox_pending"] == 0
        and state["accepted_waiting"] == 0
        and state["booking_notices"] == state["bookings"] * front_desk
    )


def per_key_duplicates() -> dict[str, int]:
    """Bookings per transfer and notices per booking beyond one (the database's unique
    constraints should make these 0; counted anyway)."""
    from django.db.models import Count

    from notifications.models import Notification
    from transfers.models import HandoverBooking

    bookings = defaultdict(int)
    for transfer_id, n in HandoverBooking.objects.values_list("transfer_id").annotate(Count("id")):
        bookings[transfer_id] = n
    notices = Notification.objects.values("recipient_id", "subject_key", "kind").annotate(
        n=Count("id")
    )
    return {
        "bookings beyond one per transfer": sum(n - 1 for n in bookings.values() if n > 1),
        "notices beyond one per recipient and subject": sum(
            row["n"] - 1 for row in notices if row["n"] > 1
        ),
    }
