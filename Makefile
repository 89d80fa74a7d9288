# The two commands a newcomer needs: `make run` and `make test`. See README.md.
.PHONY: run test lint format migrations messages compose-check clean

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
		--ignore ".venv/*" --ignore ".uv/*" --ignore "tests/*"
	for po in locale/*/LC_MESSAGES/django.po; do \
		msgattrib --clear-fuzzy --empty --no-obsolete -o "$$po" "$$po"; done

compose-check:  ## Validates docker-compose.yml (needs docker compose or docker-compose)
	docker compose config -q 2>/dev/null || docker-compose config -q

clean:
	rm -rf .venv .uv var
