# One image for web, worker and beat (docker-compose.yml picks the command).
# The Helsinki Design System's CSS comes from npm, pinned by package-lock.json.
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .
COPY --from=frontend /app/node_modules ./node_modules
RUN DJANGO_SECRET_KEY=build-only DJANGO_READ_DOT_ENV=0 python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 silta && mkdir -p /app/var && chown silta /app/var
USER silta
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
