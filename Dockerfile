# One image for web, worker and beat (docker-compose.yml picks the command). Its start-up
# is scripts/entrypoint.sh; tests/config/test_production_start.py runs the same commands
# outside a container (README, "The image").
# The Helsinki Design System's CSS comes from npm, pinned by package-lock.json.
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH \
    DJANGO_READ_DOT_ENV=0 LOG_FORMAT=json
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .
COPY --from=frontend /app/node_modules ./node_modules
# Static files are collected at build time, as root; the app never writes them.
RUN DJANGO_SECRET_KEY=build-only ./scripts/entrypoint.sh collectstatic \
    && useradd --system --uid 10001 --no-create-home silta \
    && mkdir -p /app/var && chown silta /app/var
# Never root at run time: migrate, gunicorn, the worker and the beat all run as silta.
USER 10001
EXPOSE 8000
# Readiness of the web app (the worker and the beat have their own in docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
ENTRYPOINT ["./scripts/entrypoint.sh"]
CMD ["web"]
