# The two commands a newcomer needs: `make run` and `make test`. See README.md.
.PHONY: run test lint format migrations messages compose-check bench bench-access-log bench-load drills fuzz mutate clean

run:  ## Quick start on embedded SQLite (or DATABASE_URL), with demo data
	./scripts/run.sh

test:  ## The whole suite on a throwaway PostgreSQL started and stopped here
	./scripts/test.sh

lint:
	./scripts/bootstrap.sh && .venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	./scripts/bootstrap.sh && .venv/bin/ruff check --fix . && .venv/bin/ruff format .

migrations:
	DJANGO_DEBUG=1 .venv/bin/python manage.py makemigrations

messages:  ## Update the .po files (guesses are emptied, not kept fuzzy), then translate
	DJANGO_DEBUG=1 .venv/bin/python manage.py makemessages -l fi -l sv --no-location \
		--ignore ".venv/*" --ignore ".uv/*" --ignore "node_modules/*" --ignore "tests/*"
	for po in locale/*/LC_MESSAGES/django.po; do \
		msgattrib --clear-fuzzy --empty --no-obsolete -o "$$po" "$$po"; done

BENCH_ENV = DJANGO_SECRET_KEY=bench-only DJANGO_READ_DOT_ENV=0 LOG_LEVEL=WARNING
# Access-log rows the bench generates (about a minute per 10 million on 2 cores, a bulk load).
ACCESS_LOG_ROWS ?= 10000000

bench:  ## Benchmarks on a throwaway PostgreSQL and Redis; ratios go to bench/results/
	./scripts/bootstrap.sh
	$(BENCH_ENV) ./scripts/with-postgres.sh ./scripts/with-redis.sh \
		.venv/bin/python bench/due_sweep.py
	$(BENCH_ENV) ./scripts/with-postgres.sh ./scripts/with-redis.sh \
		.venv/bin/python bench/reminder_fanout.py
	$(BENCH_ENV) ./scripts/with-postgres.sh ./scripts/with-redis.sh \
		.venv/bin/python bench/api.py
	$(BENCH_ENV) ./scripts/with-postgres.sh .venv/bin/python bench/access_log.py $(ACCESS_LOG_ROWS)
	$(BENCH_ENV) ./scripts/with-postgres.sh .venv/bin/python bench/pages.py
	$(BENCH_ENV) ./scripts/with-postgres.sh .venv/bin/python bench/client_scope.py
	$(BENCH_ENV) ./scripts/with-postgres.sh ./scripts/with-redis.sh \
		.venv/bin/python bench/search.py
	$(BENCH_ENV) ./scripts/with-postgres.sh .venv/bin/python bench/export.py
	$(MAKE) bench-load

bench-access-log:  ## The access log alone, at ACCESS_LOG_ROWS (100 million: about 10 minutes, 25 GB)
	$(BENCH_ENV) ./scripts/with-postgres.sh .venv/bin/python bench/access_log.py $(ACCESS_LOG_ROWS)

# Settings (environment): SILTA_LOAD_SIZES (10000,100000), SILTA_LOAD_STEPS (users per
# step, 5,10,20,30,45,60,90,120,180,240), SILTA_LOAD_STEP_SECONDS (45), WEB_CONCURRENCY (3).
bench-load:  ## Load test: Locust's people against gunicorn, 10,000 and 100,000 cases (~25 min)
	./scripts/bootstrap.sh
	$(BENCH_ENV) ./scripts/with-postgres.sh ./scripts/with-redis.sh \
		.venv/bin/python bench/load.py

# Settings (environment): DRILL_REDIS_DOWN_SECONDS (600), DRILL_REMINDERS (1000),
# DRILL_COMMIT_KILLS (1000), DRILL_CLIENTS (10), DRILL_PG_RESTARTS (3), DRILL_BACKUP_CASES
# (200), DRILL_BACKUP_EVENTS and DRILL_BACKUP_ACCESS_ROWS (50000); see bench/drill_*.py.
drills:  ## Fault drills, about 45 minutes; each exits non-zero on loss or duplication
	./scripts/bootstrap.sh
	$(BENCH_ENV) ./scripts/with-postgres.sh ./scripts/with-redis.sh \
		.venv/bin/python bench/drill_sigkill_reminders.py
	$(BENCH_ENV) ./scripts/with-postgres.sh .venv/bin/python bench/drill_sigkill.py
	$(BENCH_ENV) ./scripts/with-postgres.sh ./scripts/with-redis.sh \
		.venv/bin/python bench/drill_commit_kill.py
	$(BENCH_ENV) ./scripts/with-postgres.sh .venv/bin/python bench/drill_redis_down.py
	$(BENCH_ENV) ./scripts/with-postgres.sh .venv/bin/python bench/drill_broker_down_latency.py
	$(BENCH_ENV) ./scripts/with-redis.sh .venv/bin/python bench/drill_pg_restart.py
	$(BENCH_ENV) ./scripts/with-postgres.sh .venv/bin/python bench/drill_backup_restore.py

mutate:  ## Mutation testing (cosmic-ray), one mutant at a time; MODULES=core/workdays.py for one
	./scripts/bootstrap.sh
	DJANGO_SECRET_KEY=mutation-only DJANGO_READ_DOT_ENV=0 LOG_LEVEL=WARNING nice -n 15 \
		./scripts/with-postgres.sh ./scripts/with-redis.sh .venv/bin/python mutation/run.py $(MODULES)

fuzz:  ## The long property run: every API operation and web form, SILTA_FUZZ_EXAMPLES (300) each
	SILTA_FUZZ_EXAMPLES=$${SILTA_FUZZ_EXAMPLES:-300} ./scripts/test.sh \
		tests/api/test_schemathesis.py tests/web/test_property_forms.py

compose-check:  ## Validates docker-compose.yml (needs docker compose or docker-compose)
	docker compose config -q 2>/dev/null || docker-compose config -q

clean:
	rm -rf .venv .uv var
