"""The access log (käyttöloki): every read of client data writes its rows before the data
is shown, and a denied attempt is logged too. If the rows cannot be written the request
fails (fail closed): the caller writes them before returning anything.

The web app, the API and the admin all read and act through the two helpers here:
`get_in_scope_or_404` (an object outside the user's scope is a 404, exactly as one that
does not exist, and leaves a denied row) and `perform_and_log` (the service and its
access-log row in one transaction; a role that may not act leaves a denied row, and a
`LoggedRefusal` leaves the rows and the notice it carries, once the refused work is undone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, router, transaction
from django.db.models.query import ValuesIterable
from django.http import Http404
from django_guid import get_guid

from core import memo
from core.errors import ActorNotAllowed, DomainError
from core.retry import in_one_retried_transaction

from .models import AccessLog, AccessOutcome, DisclosureLog

# Purpose codes (legal basis of the access), as the report and the API name them.
PURPOSE_CASE_MANAGEMENT = "case_management"
# Sending the handover request to the receiving team's booking system.
PURPOSE_BOOKING = "handover_booking"
# A partner organisation's answer to a referral, with the client's consent.
PURPOSE_REFERRAL = "partner_referral"
# A text message to the client about their handover (transfers.client_notice).
PURPOSE_CLIENT_NOTICE = "client_notice"
# Every purpose Silta writes (the admin's filter offers these).
PURPOSES = (PURPOSE_CASE_MANAGEMENT, PURPOSE_BOOKING, PURPOSE_REFERRAL, PURPOSE_CLIENT_NOTICE)
# The role an access-log row names for a partner's contact who reads through a signed link.
ROLE_PARTNER_CONTACT = "partner_contact"
PARTNER_LINK_USERNAME = "silta-partner-link"


def partner_team_code(organisation_id: int) -> str:
    """The team an access-log row names for a partner organisation's contact."""
    return f"partner-{organisation_id}"[:40]


Subject = tuple[int | None, int | None]  # (client id, case id)
M = TypeVar("M", bound=models.Model)
R = TypeVar("R")


# While a request's writes run under `collect_logged_subjects`, the allowed reads it logs
# are gathered here too: an idempotent replay shows the same data and logs it again.
_collected: ContextVar[list[Subject] | None] = ContextVar("silta_logged_subjects", default=None)


@contextmanager
def collect_logged_subjects() -> Iterator[list[Subject]]:
    """The (client id, case id) pairs of every allowed access-log row written inside."""
    collected: list[Subject] = []
    token = _collected.set(collected)
    try:
        yield collected
    finally:
        _collected.reset(token)


class Seat(NamedTuple):
    """One of a user's memberships: a role in a team (the cases app keeps them)."""

    team_id: int
    team_code: str
    team_kind: str
    role: str
    desk_team_id: int  # the team whose front desk books this team's handovers


def memberships_key(user_id: object) -> tuple[str, object]:
    return ("memberships", user_id)


def memberships_of(user: Any) -> list[Seat]:
    """The user's memberships, the first made first: read once per request (core.memo),
    for the scope, the role checks and every access-log row of the request."""
    if user is None or not user.is_authenticated:
        return []

    def load() -> list[Seat]:
        rows = user.memberships.order_by("id").values_list(
            "team_id", "team__code", "team__kind", "role", "team__front_desk_team_id"
        )
        return [Seat(team, code, kind, role, desk or team) for team, code, kind, role, desk in rows]

    return memo.remembered(memberships_key(user.pk), load)


def remember_memberships(user: Any, seats: Iterable[tuple[int, str, str, str, int | None]]) -> None:
    """The user's memberships read with something else (the API's token check): kept for
    the request as `memberships_of` would have read them."""
    memo.remember(
        memberships_key(user.pk),
        [Seat(team, code, kind, role, desk or team) for team, code, kind, role, desk in seats],
    )


def actor_summary(user: Any) -> tuple[str, str]:
    """The role and team an access-log row records: the actor's first membership's."""
    seats = memberships_of(user)
    if seats:
        return seats[0].role, seats[0].team_code
    return ("administrator" if user.is_superuser else ""), ""


# The access-log rows of one read, for each (client id, case id) pair (created_at is the
# database's clock, as its trigger requires).
_INSERT_ROWS = """
    INSERT INTO audit_accesslog (actor_id, actor_role, actor_team, action, purpose, outcome,
        request_id, client_id, case_id)
    SELECT %s, %s, %s, %s, %s, %s, %s, s.client_id, s.case_id
    FROM unnest(%s::bigint[], %s::bigint[]) AS s(client_id, case_id)
"""


def log_access(
    *,
    user: Any,
    action: str,
    subjects: Iterable[Subject],
    outcome: str = AccessOutcome.ALLOWED,
    purpose: str = PURPOSE_CASE_MANAGEMENT,
    request_id: str | None = None,
    role_and_team: tuple[str, str] | None = None,
) -> int:
    """One row per (client id, case id) read. Returns how many rows were written. The
    request id is the current request's (or the task's, carried from its request).
    `role_and_team` names a reader who has no membership (a partner's contact through
    a signed link, as `partner_link_actor()`); otherwise they are the user's own."""
    if request_id is None:
        request_id = get_guid() or ""
    role, team = role_and_team if role_and_team is not None else actor_summary(user)
    pairs = list(dict.fromkeys(subjects))
    if not pairs:
        return 0
    database = router.db_for_write(AccessLog)
    if connections[database].vendor == "postgresql":
        # One statement (no model objects, no transaction of its own): the rows are in
        # before the caller shows anything, or the statement fails and nothing is shown.
        with connections[database].cursor() as cursor:
            cursor.execute(
                _INSERT_ROWS,
                [
                    user.pk,
                    role,
                    team,
                    action,
                    purpose,
                    outcome,
                    request_id,
                    [p[0] for p in pairs],
                    [p[1] for p in pairs],
                ],
            )
    else:
        AccessLog.objects.bulk_create(
            AccessLog(
                actor=user,
                actor_role=role,
                actor_team=team,
                client_id=client_id,
                case_id=case_id,
                action=action,
                purpose=purpose,
                outcome=outcome,
                request_id=request_id,
            )
            for client_id, case_id in pairs
        )
    collected = _collected.get()
    if collected is not None and outcome == AccessOutcome.ALLOWED:
        collected.extend(pairs)
    return len(pairs)


# The rows of a list read and their access-log rows written in one statement (a
# data-modifying CTE): the rows shown are the first `shown` of the read, in its order.
_LOGGED_READ = """
    WITH silta_read ({columns}) AS MATERIALIZED ({read}),
    silta_logged AS (
        INSERT INTO audit_accesslog (actor_id, actor_role, actor_team, action, purpose,
            outcome, request_id, client_id, case_id)
        SELECT %s, %s, %s, %s, %s, %s, %s, shown.client_id, shown.case_id
        FROM (
            SELECT {client} AS client_id, {case} AS case_id FROM silta_read
            ORDER BY {order} LIMIT %s
        ) AS shown
    )
    SELECT * FROM silta_read ORDER BY {order}
"""


def _quoted(name: str) -> str:
    return '"{}"'.format(name.replace('"', '""'))


def read_and_log(
    using: str,
    read: str,
    params: Iterable[Any],
    *,
    columns: list[str],
    order: list[str],
    user: Any,
    action: str,
    shown: int,
    client: str,
    case: str | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of `read` (a SELECT on PostgreSQL, its output named `columns`, in
    `order`: terms over those names that name one row by position, ending with the id)
    and the access-log rows of the first `shown` of them, in one statement (a
    data-modifying CTE): no row comes back without its log row. `client` and `case` name
    the columns holding each row's client id and case id."""
    role, team = actor_summary(user)
    sql = _LOGGED_READ.format(
        columns=", ".join(_quoted(n) for n in columns),
        read=read,
        client=_quoted(client),
        case=_quoted(case) if case else "NULL::bigint",
        order=", ".join(order),
    )
    with connections[using].cursor() as cursor:
        cursor.execute(
            sql,
            [
                *params,
                user.pk,
                role,
                team,
                action,
                PURPOSE_CASE_MANAGEMENT,
                AccessOutcome.ALLOWED,
                get_guid() or "",
                shown,
            ],
        )
        rows = cursor.fetchall()
    collected = _collected.get()
    if collected is not None:
        client_at = columns.index(client)
        case_at = columns.index(case) if case else None
        collected.extend(
            dict.fromkeys(
                (row[client_at], None if case_at is None else row[case_at]) for row in rows[:shown]
            )
        )
    return rows


class _LoggedValuesIterable(ValuesIterable):
    """A values queryset's rows, each shown row access-logged as it is read (see
    `rows_logged_when_read`)."""

    user: Any = None
    action = ""
    shown = 0
    client_column = ""
    case_column: str | None = None

    def __iter__(self):
        queryset = self.queryset
        query = queryset.query
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        order = self._order(query, names)
        if order is None or self.client_column not in names:
            # An order that does not name one row by its columns: read, then log.
            rows = list(super().__iter__())
            self._log_after(rows)
            return iter(rows)
        compiler = query.get_compiler(queryset.db)
        try:
            read, params = compiler.as_sql()
        except EmptyResultSet:
            return iter([])
        rows = read_and_log(
            queryset.db,
            read,
            params,
            columns=names,
            order=order,
            user=self.user,
            action=self.action,
            shown=self.shown,
            client=self.client_column,
            case=self.case_column,
        )
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(fields)
        if converters:
            rows = list(compiler.apply_converters(rows, converters))
        return (dict(zip(names, row, strict=True)) for row in rows)

    @staticmethod
    def _order(query: Any, names: list[str]) -> list[str] | None:
        """The read's order as its output columns, when it orders by plain columns of the
        read ending with `id` (one row per position: the rows shown are the same in the
        read and in the log's copy of it); otherwise None."""
        terms = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
        if query.extra_order_by or not terms or not all(isinstance(t, str) for t in terms):
            return None
        columns = [(t[1:], "DESC") if t.startswith("-") else (t, "ASC") for t in terms]
        if columns[-1][0] not in ("id", "pk") or not all(
            name in names or name == "pk" for name, _ in columns
        ):
            return None
        return [f"{_quoted('id' if n == 'pk' else n)} {way}" for n, way in columns]

    def _log_after(self, rows: list[dict[str, Any]]) -> None:
        log_access(
            user=self.user,
            action=self.action,
            subjects=[
                (row[self.client_column], row[self.case_column] if self.case_column else None)
                for row in rows[: self.shown]
            ],
        )


class _FallbackLoggedIterable(_LoggedValuesIterable):
    """Elsewhere than PostgreSQL: the rows read, then their log rows written."""

    def __iter__(self):
        rows = list(ValuesIterable.__iter__(self))
        self._log_after(rows)
        return iter(rows)


def rows_logged_when_read(
    rows: models.QuerySet[Any, Any],
    *,
    user: Any,
    action: str,
    shown: int,
    client: str,
    case: str | None = None,
) -> models.QuerySet[Any, Any]:
    """`rows` (a values queryset naming its client id as the column `client` and its
    case id as `case`), read together with the access-log rows of the first `shown` of
    them, in the order the read gives them (as a paginator shows them): on PostgreSQL in
    one statement, a data-modifying CTE, so that the rows cannot be returned without
    their log rows. Slices, filters and orderings of the result keep this. A case id
    must name one row (the log gets one row per row shown)."""
    if rows._iterable_class is not ValuesIterable:
        raise TypeError("rows_logged_when_read reads a values() queryset")
    postgresql = connections[rows.db].vendor == "postgresql"
    logged = rows._chain()  # type: ignore[attr-defined]
    logged._iterable_class = type(
        "LoggedRows",
        (_LoggedValuesIterable if postgresql else _FallbackLoggedIterable,),
        {
            "user": user,
            "action": action,
            "shown": shown,
            "client_column": client,
            "case_column": case,
        },
    )
    return logged


def find_outside_scope(model: type[M], pk: object) -> M | None:
    """The object with this primary key whatever the scope, or None (also for a key that
    cannot be one: a NUL character or letters must answer 404, not 500)."""
    text = str(pk)
    if not (text.isascii() and text.isdigit()):
        return None
    return model._default_manager.filter(pk=int(text)).first()


def log_denied(
    *, user: Any, model: type[M], pk: object, action: str, subject_of: Callable[[M], Subject]
) -> None:
    """A denied row for an attempt on an object outside the user's scope, if it exists."""
    outside = find_outside_scope(model, pk)
    if outside is not None:
        log_access(
            user=user, action=action, outcome=AccessOutcome.DENIED, subjects=[subject_of(outside)]
        )


def get_in_scope_or_404(
    scoped: models.QuerySet[M],
    pk: object,
    *,
    user: Any,
    action: str,
    subject_of: Callable[[M], Subject],
) -> M:
    """The object if it is in `scoped` (the user's scope); otherwise Http404, and a denied
    row when the object exists outside the scope. The caller logs the allowed read when it
    shows the object."""
    text = str(pk)
    found = scoped.filter(pk=int(text)).first() if text.isascii() and text.isdigit() else None
    if found is not None:
        return found
    log_denied(user=user, model=scoped.model, pk=pk, action=action, subject_of=subject_of)
    raise Http404


class LoggedRefusal(DomainError):
    """A service's refusal that must leave a trace although everything the service did is
    rolled back: access-log rows for `subjects` (denied, or allowed when the refusal shows
    the user something in their own scope) and `aftermath`, run after the rollback (e.g. a
    notice to the supervisors). `record_refusal` writes them; `perform_and_log` calls it,
    so every surface that acts through it leaves the trace."""

    http_status = 409

    def __init__(
        self,
        detail: str,
        *,
        subjects: Iterable[Subject],
        outcome: str = AccessOutcome.DENIED,
        aftermath: Callable[[], object] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(detail, **extra)
        self.subjects = list(subjects)
        self.outcome = outcome
        self.aftermath = aftermath


def record_refusal(*, user: Any, action: str, refusal: LoggedRefusal) -> None:
    """The refusal's access-log rows and aftermath, in one transaction of their own. Call
    it where the refused work has already been rolled back: inside a transaction that
    goes on to roll back they would be lost with it."""
    with transaction.atomic():
        log_access(user=user, action=action, outcome=refusal.outcome, subjects=refusal.subjects)
        if refusal.aftermath is not None:
            refusal.aftermath()


def perform_and_log(
    service: Callable[..., R],
    *,
    user: Any,
    action: str,
    subjects: Iterable[Subject] | None = None,
    subjects_of: Callable[[R], Iterable[Subject]] | None = None,
    **kwargs: Any,
) -> R:
    """Run one service as `user` with its access-log row in the same transaction: for
    `subjects`, or, for a write that creates its subject, for `subjects_of(result)`. A
    role that may not act (ActorNotAllowed) leaves a denied row (with no subject when the
    subject was still to be created), a LoggedRefusal leaves what it carries, and the
    error goes on up. A caller that wraps this in a transaction of its own must let those
    rows commit (as api.idempotency does), not roll them back with the error."""
    given = list(subjects) if subjects is not None else None

    def run() -> R:
        result = service(actor=user, **kwargs)
        done = given if given is not None else list(subjects_of(result)) if subjects_of else []
        log_access(user=user, action=action, subjects=done)
        return result

    try:
        # One transaction, retried whole after a deadlock: the service joins it.
        return in_one_retried_transaction(run, name=getattr(service, "__qualname__", None))
    except ActorNotAllowed:
        log_access(
            user=user,
            action=action,
            outcome=AccessOutcome.DENIED,
            subjects=given if given is not None else [(None, None)],
        )
        raise
    except LoggedRefusal as refusal:
        record_refusal(user=user, action=action, refusal=refusal)
        raise


def partner_link_actor() -> Any:
    """The account that stands for a partner's contact in the logs: they have no account
    of their own and sign in nowhere, so every row of theirs names this one (inactive,
    without a password: it can never sign in), with their organisation as the team."""
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(
        username=PARTNER_LINK_USERNAME, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def log_disclosure(
    *,
    user: Any,
    client_id: int,
    case_id: int | None,
    recipient: str,
    disclosed: Iterable[str],
    basis: str,
    purpose: str,
    reference: str = "",
) -> DisclosureLog:
    """One disclosure-log row (luovutusloki): what went outside Silta, to whom, on what
    basis and why. Written in the transaction of the disclosure itself."""
    return DisclosureLog.objects.create(
        actor=user,
        client_id=client_id,
        case_id=case_id,
        recipient=recipient[:300],
        disclosed=",".join(disclosed)[:300],
        basis=basis,
        purpose=purpose,
        reference=reference,
        request_id=get_guid() or "",
    )
