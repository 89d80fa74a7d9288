"""Mutation testing with cosmic-ray: one mutant at a time, each run against the tests of
its module on PostgreSQL. `make mutate` runs it on a throwaway PostgreSQL and Redis
(scripts/with-postgres.sh, scripts/with-redis.sh); `make mutate MODULES=core/workdays.py`
runs one module.

For each module in mutation/targets/*.toml (a cosmic-ray config: the module and its tests):
1. the tree is copied to a temporary folder (the working tree, or `--rev` a commit), so
   mutants never touch the files people are editing;
2. `cosmic-ray init` lists the mutants; those that are not mutants of behaviour are set
   aside (see `not_a_mutant`), each with its reason;
3. the unmutated module must pass its tests (the baseline);
4. `cosmic-ray exec` runs the tests once per mutant (mutation/run_tests.py gives each run a
   fresh copy of a migrated template database, and runs only the tests that ran the
   mutated line in the baseline, recorded with coverage's per-test contexts);
5. mutation/reports/<module>.md says what was killed and what survived; a survivor listed
   in mutation/survivors.md (with why it cannot change behaviour) is equivalent and not
   counted. The run fails if a module kills less than 90% of its behaviour-changing
   mutants, or if a run could not test a mutant at all.

`--since REV` runs only the mutants on lines added or changed since commit REV (a full
run of every module takes hours on a shared machine; the others were run there): the rest
are set aside as "unchanged", and the report counts them apart. `--stop-after MINUTES`
stops a module's run after that time: the mutants not run by then are reported as such
(and `--rerun-survivors` leaves them so).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult
from coverage import CoverageData

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "mutation"
TARGET = 0.90
INFRA_FAILURE = "MUTATION-INFRA-FAILURE"  # as in run_tests.py
COVERAGE_OUT, COVERAGE_MAP = "MUTATION_COVERAGE_OUT", "MUTATION_COVERAGE_MAP"  # as there
NOT_RUN = "MUTATION-NOT-RUN"  # the output recorded for a mutant a stopped run never ran
# Not copied into the work tree (linked instead, or not needed to run the tests).
SKIP_DIRS = {".git", ".venv", ".uv", "node_modules", "var", "test-artifacts", "__pycache__"}
SKIP_DIRS |= {".mypy_cache", ".ruff_cache", ".pytest_cache", "staticfiles"}
TEMPLATE_DB = "silta_mutation"
SESSIONS = ROOT / "var" / "mutation"  # the last run's sessions (see save_session)


@dataclass(frozen=True)
class Equivalent:
    module: str
    function: str
    operator: str
    code: str
    why: str


@dataclass
class Mutant:
    job_id: str
    operator: str
    row: int
    col: int
    function: str
    code: str  # the source line, stripped
    outcome: str = "pending"  # killed | survived | equivalent | error | set aside:
    # not_a_mutant | unchanged (`--since`) | not_run (`--stop-after`)
    note: str = ""
    diff: str = ""

    @property
    def mutated(self) -> str:
        """The mutant's own line(s), as survivors.md and the reports name it."""
        lines = self.diff.splitlines()
        added = [line[1:].strip() for line in lines if line.startswith("+")]
        if added:
            return " / ".join(added)
        removed = [line[1:].strip() for line in lines if line.startswith("-") and line[1:].strip()]
        return "removed: " + " / ".join(removed)


@dataclass
class Result:
    module: str
    tests: list[str]
    mutants: list[Mutant] = field(default_factory=list)
    seconds: float = 0.0
    scope: Scope | None = None

    def count(self, outcome: str) -> int:
        return sum(m.outcome == outcome for m in self.mutants)

    @property
    def behaviour_changing(self) -> int:
        return self.count("killed") + self.count("survived")

    @property
    def ratio(self) -> float:
        return self.count("killed") / self.behaviour_changing if self.behaviour_changing else 1.0


def slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", "-")


def load_targets(modules: list[str], folder: Path) -> list[tuple[Path, dict]]:
    targets = []
    for path in sorted(folder.glob("*.toml")):
        config = tomllib.loads(path.read_text())["cosmic-ray"]
        if not modules or config["module-path"] in modules:
            targets.append((path, config))
    unknown = set(modules) - {config["module-path"] for _path, config in targets}
    if unknown:
        sys.exit(f"no target in mutation/targets/ for: {', '.join(sorted(unknown))}")
    return targets


def load_equivalents() -> list[Equivalent]:
    """The rows of mutation/survivors.md's tables: | `module` | `function` | `operator` |
    `the mutant's line` | why |."""
    cell = r"\s*`([^`]+)`\s*\|"
    row = re.compile(rf"^\|{cell}{cell}{cell}\s*`(.+?)`\s*\|(.+)\|\s*$")
    found = []
    for line in (HERE / "survivors.md").read_text().splitlines():
        match = row.match(line)
        if match:
            module, function, operator, code, why = (g.strip() for g in match.groups())
            found.append(Equivalent(module, function, operator, code.replace("\\|", "|"), why))
    return found


def make_work_tree(rev: str | None) -> Path:
    """A copy of the working tree (or of commit `rev`, with today's mutation/ folder) with
    the virtualenv linked in."""
    work = Path(tempfile.mkdtemp(prefix="silta-mutation-"))
    if rev:
        archive = subprocess.run(  # noqa: S603 (our own commands)
            ["git", "-C", str(ROOT), "archive", "--format=tar", rev],  # noqa: S607
            check=True,
            capture_output=True,
        ).stdout
        with tempfile.TemporaryFile() as handle:
            handle.write(archive)
            handle.seek(0)
            with tarfile.open(fileobj=handle) as tar:
                tar.extractall(work, filter="data")
        # The mutation tool itself as it is now (its targets and test runner), on that code.
        shutil.rmtree(work / "mutation", ignore_errors=True)
        shutil.copytree(HERE, work / "mutation", ignore=lambda _d, names: {"reports"} & set(names))
    else:
        shutil.copytree(
            ROOT, work, dirs_exist_ok=True, ignore=lambda _d, names: SKIP_DIRS & set(names)
        )
    for linked in (".venv", "node_modules"):
        if (ROOT / linked).exists():
            (work / linked).symlink_to(ROOT / linked)
    return work


def database_urls() -> tuple[str, str]:
    """(the server's maintenance database, the template database) from DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL server (make mutate starts one)")
    parts = urlsplit(url)
    return (
        urlunsplit(parts._replace(path="/postgres")),
        urlunsplit(parts._replace(path=f"/{TEMPLATE_DB}")),
    )


def make_template_database(work: Path, env: dict[str, str]) -> None:
    maintenance, template = database_urls()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        for name in (f"test_{TEMPLATE_DB}", TEMPLATE_DB):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    subprocess.run(  # noqa: S603 (our own commands)
        [str(work / ".venv/bin/python"), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=work,
        env={**env, "DATABASE_URL": template},
        check=True,
    )


def _spans(tree: ast.AST) -> tuple[list[tuple], list[tuple]]:
    """(annotation spans, operator gaps): where annotations are, and the text between the
    operands of each real binary operator."""
    annotations, gaps = [], []

    def span(node: ast.AST) -> tuple:
        return (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            annotations += [span(a.annotation) for a in every if a and a.annotation]
            if node.returns:
                annotations.append(span(node.returns))
        elif isinstance(node, ast.AnnAssign):
            annotations.append(span(node.annotation))
        elif isinstance(node, ast.BinOp):
            gaps.append((span(node.left)[1], span(node.right)[0]))
        elif isinstance(node, ast.AugAssign):
            gaps.append((span(node.target)[1], span(node.value)[0]))
    return annotations, gaps


def not_a_mutant(operator: str, pos: tuple[int, int], source: str, tree: ast.AST) -> str:
    """Why cosmic-ray's mutant is not a mutant of behaviour, or "" if it is one.

    - inside a type annotation: every module starts with `from __future__ import
      annotations`, so annotations are strings that are never evaluated;
    - a "binary operator" that is not one: the keyword-only marker `*` (or `/`) of a
      signature, which cosmic-ray's parser takes for an operator (the mutant is a syntax
      error, not a change of behaviour)."""
    annotations, gaps = _spans(tree)
    if "from __future__ import annotations" in source and any(
        start <= pos < end for start, end in annotations
    ):
        return "inside a type annotation (never evaluated)"
    if operator.startswith("core/ReplaceBinaryOperator_") and not any(
        start <= pos < end for start, end in gaps
    ):
        return "the keyword-only marker of a signature, not an operator"
    return ""


@dataclass(frozen=True)
class Scope:
    """Only the mutants on these lines run (`--since`): those changed since a commit."""

    since: str
    lines: frozenset[int]


def changed_lines(module: str, since: str, rev: str | None) -> Scope:
    """The lines of `module` (at `rev`, or in the working tree) added or changed since
    commit `since`."""
    diff = subprocess.run(  # noqa: S603 (our own commands)
        ["git", "-C", str(ROOT), "diff", "-U0", since, *([rev] if rev else []), "--", module],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines: set[int] = set()
    for hunk in re.finditer(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@", diff, re.MULTILINE):
        start, length = int(hunk.group(1)), int(hunk.group(2) or 1)
        lines.update(range(start, start + length))
    return Scope(since, frozenset(lines))


def init_session(
    work: Path, config_path: Path, module: str, scope: Scope | None
) -> tuple[Path, list[Mutant]]:
    session = work / f"{slug(module)}.sqlite"
    session.unlink(missing_ok=True)
    subprocess.run(  # noqa: S603 (our own commands)
        [str(work / ".venv/bin/cosmic-ray"), "init", str(config_path), str(session)],
        cwd=work,
        check=True,
    )
    return session, load_mutants(session, (work / module).read_text(), scope, set_aside=True)


def load_mutants(
    session: Path, source: str, scope: Scope | None, *, set_aside: bool
) -> list[Mutant]:
    """The session's mutants, each with its source line; those that are not mutants of
    behaviour, and those outside `scope`, are marked (and, with `set_aside`, recorded as
    skipped so none runs)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    mutants = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in db.work_items:
            (spec,) = item.mutations
            row, col = spec.start_pos
            mutant = Mutant(
                job_id=item.job_id,
                operator=spec.operator_name,
                row=row,
                col=col,
                function=spec.definition_name or "<module>",
                code=lines[row - 1].strip(),
            )
            why = not_a_mutant(spec.operator_name, (row, col), source, tree)
            if why:
                mutant.outcome, mutant.note = "not_a_mutant", why
            elif scope and row not in scope.lines:
                why = f"on a line unchanged since {scope.since}"
                mutant.outcome, mutant.note = "unchanged", why
            if why and set_aside:
                db.set_result(
                    item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=why)
                )
            mutants.append(mutant)
    return mutants


def save_session(session: Path, result: Result, source: str, rev: str, scope: Scope | None) -> None:
    """Keep the session (in var/, not committed) so `--reclassify` can report it again
    after mutation/survivors.md changes, without running the mutants again."""
    SESSIONS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(session, SESSIONS / f"{slug(result.module)}.sqlite")
    meta = {"tests": result.tests, "seconds": result.seconds, "rev": rev, "source": source}
    if scope:
        meta["since"], meta["lines"] = scope.since, sorted(scope.lines)
    (SESSIONS / f"{slug(result.module)}.json").write_text(json.dumps(meta))


def mark_not_run(session: Path, why: str) -> int:
    """Records every mutant the (stopped) run has not run as not run; returns how many."""
    with use_db(str(session), WorkDB.Mode.open) as db:
        pending = [item.job_id for item in db.pending_work_items]
        for job_id in pending:
            db.set_result(
                job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=f"{NOT_RUN}: {why}")
            )
    return len(pending)


def kept_scope(meta: dict) -> Scope | None:
    return Scope(meta["since"], frozenset(meta["lines"])) if "since" in meta else None


def survivors_session(work: Path, module: str) -> tuple[Path, list[Mutant], float, Scope | None]:
    """The kept session with its survivors' results cleared, so that `cosmic-ray exec`
    runs only them again (after tests were added; the module must be unchanged, else its
    mutants are not the same ones)."""
    meta = json.loads((SESSIONS / f"{slug(module)}.json").read_text())
    if meta["source"] != (work / module).read_text():
        sys.exit(f"{module} changed since its kept session: run all its mutants again")
    session = work / f"{slug(module)}.sqlite"
    shutil.copyfile(SESSIONS / f"{slug(module)}.sqlite", session)
    with sqlite3.connect(session) as db:
        db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
    scope = kept_scope(meta)
    mutants = load_mutants(session, meta["source"], scope, set_aside=False)
    return session, mutants, meta["seconds"], scope


def reclassify(module: str, out: Path, equivalents: list[Equivalent]) -> Result | None:
    session = SESSIONS / f"{slug(module)}.sqlite"
    if not session.exists():
        print(f"!! {module}: no session kept in {SESSIONS}; run it first", flush=True)
        return None
    meta = json.loads((SESSIONS / f"{slug(module)}.json").read_text())
    result = Result(module=module, tests=meta["tests"], seconds=meta["seconds"])
    result.scope = kept_scope(meta)
    result.mutants = load_mutants(session, meta["source"], result.scope, set_aside=False)
    for problem in classify(result, session, equivalents):
        print(f"!! {problem}", flush=True)
    write_report(result, out, meta["rev"])
    return result


def classify(result: Result, session: Path, equivalents: list[Equivalent]) -> list[str]:
    """Set each mutant's outcome from the session; returns the problems found."""
    problems = []
    by_id = {m.job_id: m for m in result.mutants}
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, outcome in db.completed_work_items:
            mutant = by_id[item.job_id]
            if mutant.outcome in ("not_a_mutant", "unchanged"):
                continue
            output = outcome.output or ""
            mutant.diff = "\n".join(
                line
                for line in (outcome.diff or "").splitlines()
                if line[:1] in "+-" and not line.startswith(("+++", "---"))
            )
            if INFRA_FAILURE in output:
                mutant.outcome, mutant.note = "error", output.strip().splitlines()[-1]
            elif outcome.test_outcome == TestOutcome.KILLED:
                mutant.outcome = "killed"
                mutant.note = "timeout" if output == "timeout" else ""
            elif outcome.test_outcome == TestOutcome.SURVIVED:
                mutant.outcome = "survived"
            elif NOT_RUN in output:
                mutant.outcome, mutant.note = "not_run", output
            else:
                mutant.outcome, mutant.note = "error", f"{outcome.worker_outcome}: {output[-300:]}"
    for mutant in result.mutants:
        if mutant.outcome == "pending":
            mutant.outcome, mutant.note = "error", "not run"
        if mutant.outcome == "error":
            problems.append(f"{result.module}:{mutant.row} {mutant.operator}: {mutant.note}")
    listed = [e for e in equivalents if e.module == result.module]
    for entry in listed:
        matching = [
            m
            for m in result.mutants
            if (m.function, m.operator.removeprefix("core/"), m.mutated)
            == (entry.function, entry.operator, entry.code)
        ]
        partial = result.count("unchanged") or result.count("not_run")  # diffs unknown
        if not matching and not partial:
            problems.append(f"survivors.md lists a mutant that no longer exists: {entry}")
        for mutant in matching:
            if mutant.outcome == "survived":
                mutant.outcome, mutant.note = "equivalent", entry.why
            elif mutant.outcome == "killed":
                problems.append(f"survivors.md lists a mutant the tests kill: {entry}")
    return problems


def coverage_map(work: Path, module: str, coverage_file: Path) -> Path:
    """Which tests ran which line of `module` in the baseline (mutation/run_tests.py runs
    only those against a mutant of the line), written beside the unmutated source."""
    data = CoverageData(basename=str(coverage_file))
    data.read()
    target = (work / module).resolve()
    files = [f for f in data.measured_files() if Path(f).resolve() == target]
    lines: dict[str, list[str]] = {}
    for measured in files:
        for line, contexts in (data.contexts_by_lineno(measured) or {}).items():
            lines[str(line)] = sorted({c.split("|", 1)[0] for c in contexts})
    if not lines:
        print(f"!! {module}: no per-test coverage recorded; every test runs per mutant")
    mapping = work / "mutation" / f"coverage-{slug(module)}.json"
    source = (work / module).read_text()
    mapping.write_text(json.dumps({"module": module, "source": source, "lines": lines}))
    return mapping


def run_module(
    work: Path,
    config_path: Path,
    config: dict,
    env: dict,
    equivalents: list[Equivalent],
    rev: str,
    rerun_survivors: bool = False,
    since: str | None = None,
    at: str | None = None,
    stop_after: float | None = None,
) -> Result | None:
    module = config["module-path"]
    tests = config["test-command"].split("run_tests.py", 1)[1].split()
    result = Result(module=module, tests=tests)
    local_config = work / "mutation" / "targets" / config_path.name
    if rerun_survivors:
        session, result.mutants, result.seconds, result.scope = survivors_session(work, module)
    else:
        result.scope = changed_lines(module, since, at) if since else None
        session, result.mutants = init_session(work, local_config, module, result.scope)
    print(f"==> {module}: {len(result.mutants)} mutants, tests: {' '.join(tests)}", flush=True)
    coverage_file = work / f".coverage-{slug(module)}"
    baseline = subprocess.run(  # noqa: S603 (our own commands)
        config["test-command"].split(),
        cwd=work,
        env={**env, COVERAGE_OUT: str(coverage_file), "MUTATION_MODULE": module},
        capture_output=True,
        text=True,
    )
    if baseline.returncode != 0:
        print(baseline.stdout[-3000:], baseline.stderr[-3000:])
        print(f"!! {module}: the tests fail without any mutant; fix them first", flush=True)
        return None
    source = (work / module).read_text()  # cosmic-ray mutates it in place while it runs
    mapping = coverage_map(work, module, coverage_file)
    started = time.monotonic()
    execute = subprocess.Popen(  # noqa: S603 (our own commands)
        [str(work / ".venv/bin/cosmic-ray"), "exec", str(local_config), str(session)],
        cwd=work,
        env={**env, COVERAGE_MAP: str(mapping)},
        start_new_session=True,  # its own process group: stopped with its test runs
    )
    try:
        code = execute.wait(timeout=stop_after * 60 if stop_after else None)
    except subprocess.TimeoutExpired:
        os.killpg(execute.pid, signal.SIGTERM)
        execute.wait()
        (work / module).write_text(source)  # stopped in the middle of a mutant, maybe
        skipped = mark_not_run(session, f"the run was stopped after {stop_after:g} min")
        print(f"!! {module}: stopped after {stop_after:g} min, {skipped} not run", flush=True)
    else:
        if code != 0:
            sys.exit(f"{module}: cosmic-ray exec exited {code}")
    result.seconds += time.monotonic() - started
    save_session(session, result, source, rev, result.scope)
    problems = classify(result, session, equivalents)
    for problem in problems:
        print(f"!! {problem}", flush=True)
    if any("could not" in p or "not run" in p or INFRA_FAILURE in p for p in problems):
        sys.exit(f"{module}: some mutants could not be tested")
    return result


def write_report(result: Result, out: Path, rev: str) -> None:
    counted = result.behaviour_changing
    timeouts = sum(m.note == "timeout" for m in result.mutants)
    run = len(result.mutants) - sum(map(result.count, ("not_a_mutant", "unchanged", "not_run")))
    lines = [
        f"# Mutation testing: `{result.module}`",
        "",
        f"cosmic-ray, one mutant at a time; made by `make mutate MODULES={result.module}`"
        + (
            f", only on the lines changed since {result.scope.since} (`--since`)"
            if result.scope
            else ""
        )
        + f" ({time.strftime('%Y-%m-%d')}, {rev}).",
        "",
        "| | |",
        "| --- | --- |",
        f"| mutants cosmic-ray made | {len(result.mutants)} |",
        f"| not mutants of behaviour (annotations, signature markers) "
        f"| {result.count('not_a_mutant')} |",
        *(
            [
                f"| not run: on lines unchanged since {result.scope.since} (`--since`; "
                f"run in that commit's report) | {result.count('unchanged')} |"
            ]
            if result.scope
            else []
        ),
        *(
            [f"| not run: the run was stopped (`--stop-after`) | {result.count('not_run')} |"]
            if result.count("not_run")
            else []
        ),
        f"| equivalent survivors (mutation/survivors.md) | {result.count('equivalent')} |",
        f"| **behaviour-changing mutants** | **{counted}** |",
        f"| killed (of which by timeout) | {result.count('killed')} ({timeouts}) |",
        f"| survived | {result.count('survived')} |",
        f"| **killed / behaviour-changing** | **{result.ratio:.1%}** (target {TARGET:.0%}) |",
        f"| run time | {result.seconds / 60:.1f} min for {run} runs "
        f"({result.seconds / max(run, 1):.1f} s each) |",
        f"| tests per mutant | of {' '.join(f'`{t}`' for t in result.tests)}, those that "
        "ran the mutated line in the baseline (coverage's per-test contexts) |",
        "",
    ]
    survivors = [m for m in result.mutants if m.outcome == "survived"]
    if survivors:
        lines += [
            "## Behaviour-changing survivors (a test should kill each)",
            "",
            "| line | function | operator | mutant |",
            "| --- | --- | --- | --- |",
        ]
        for m in sorted(survivors, key=lambda m: m.row):
            code = m.mutated.replace("|", "\\|")
            lines.append(
                f"| {m.row} | `{m.function}` | `{m.operator.removeprefix('core/')}` | `{code}` |"
            )
        lines.append("")
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{slug(result.module)}.md").write_text("\n".join(lines))
    (out / f"{slug(result.module)}.json").write_text(
        json.dumps(
            {
                "module": result.module,
                "rev": rev,
                "date": time.strftime("%Y-%m-%d"),
                "mutants": len(result.mutants),
                "not_a_mutant": result.count("not_a_mutant"),
                "unchanged_since": result.scope.since if result.scope else None,
                "unchanged": result.count("unchanged"),
                "not_run": result.count("not_run"),
                "equivalent": result.count("equivalent"),
                "behaviour_changing": counted,
                "killed": result.count("killed"),
                "survived": result.count("survived"),
                "ratio": round(result.ratio, 4),
                "seconds": round(result.seconds),
            },
            indent=2,
        )
        + "\n"
    )


def write_summary(out: Path) -> None:
    rows = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    lines = [
        "# Mutation testing: summary",
        "",
        "One row per module, from its latest `make mutate` run (see each module's report).",
        "",
        "| module | behaviour-changing | killed | survived | equivalent | ratio | run time |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| [`{r['module']}`]({slug(r['module'])}.md)"
            + (f" (lines changed since {r['unchanged_since']})" if r.get("unchanged_since") else "")
            + (f" (stopped: {r['not_run']} not run)" if r.get("not_run") else "")
            + f" | {r['behaviour_changing']} "
            f"| {r['killed']} | {r['survived']} | {r['equivalent']} | {r['ratio']:.1%} "
            f"| {r['seconds'] / 60:.0f} min |"
        )
    (out / "summary.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="module paths (default: every target)")
    parser.add_argument("--rev", help="test this commit instead of the working tree")
    parser.add_argument("--out", type=Path, default=HERE / "reports")
    parser.add_argument(
        "--targets",
        type=Path,
        default=HERE / "targets",
        help="another folder of target configs (e.g. an earlier selection of tests)",
    )
    parser.add_argument(
        "--reclassify",
        action="store_true",
        help="report the kept sessions again with today's survivors.md; run no mutant",
    )
    parser.add_argument(
        "--rerun-survivors",
        action="store_true",
        help="run again only the survivors of the kept sessions (after adding tests)",
    )
    parser.add_argument(
        "--since",
        metavar="REV",
        help="run only the mutants on lines added or changed since commit REV",
    )
    parser.add_argument(
        "--stop-after",
        type=float,
        metavar="MINUTES",
        help="stop each module's run after this time; report the mutants not run as such",
    )
    args = parser.parse_args()
    if args.out != HERE / "reports":  # a run reported elsewhere keeps its sessions there too
        global SESSIONS
        SESSIONS = args.out / "sessions"
    targets = load_targets(args.modules, args.targets)
    equivalents = load_equivalents()
    if args.reclassify:
        results = [
            reclassify(config["module-path"], args.out, equivalents) for _p, config in targets
        ]
        write_summary(args.out)
        for result in filter(None, results):
            print(f"==> {result.module}: {result.ratio:.1%} of {result.behaviour_changing}")
        return 0 if all(r is not None and r.ratio >= TARGET for r in results) else 1
    head = subprocess.run(  # noqa: S603 (our own commands)
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.rev or "HEAD"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    rev = f"commit {head}" if args.rev else f"working tree at {head}"
    if args.rerun_survivors:
        rev += "; the earlier run's survivors run again there"
    work = make_work_tree(args.rev)
    for config_path, _config in targets:  # the configs given, whichever folder they are in
        shutil.copyfile(config_path, work / "mutation" / "targets" / config_path.name)
    env = {**os.environ, "DATABASE_URL": database_urls()[1]}
    env.setdefault("DJANGO_SECRET_KEY", "mutation-only")
    env.setdefault("DJANGO_READ_DOT_ENV", "0")
    env.setdefault("LOG_LEVEL", "WARNING")
    failed = []
    try:
        make_template_database(work, env)
        for config_path, config in targets:
            result = run_module(
                work,
                config_path,
                config,
                env,
                equivalents,
                rev,
                args.rerun_survivors,
                since=args.since,
                at=args.rev,
                stop_after=args.stop_after,
            )
            if result is None:
                failed.append(config["module-path"])
                continue
            write_report(result, args.out, rev)
            write_summary(args.out)
            print(
                f"==> {result.module}: killed {result.count('killed')} of "
                f"{result.behaviour_changing} behaviour-changing mutants ({result.ratio:.1%}), "
                f"{result.count('equivalent')} equivalent, {result.seconds / 60:.1f} min",
                flush=True,
            )
            if result.ratio < TARGET:
                failed.append(result.module)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        print(f"below {TARGET:.0%}: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
