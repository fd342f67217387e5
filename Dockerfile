# syntax=docker/dockerfile:1
# Build stage: a virtual environment with the app and its dependencies.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install .

# Runtime stage: only the venv and the migrations, run as an unprivileged user.
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    ENVIRONMENT=production \
    MIGRATIONS_DIR=/app/migrations \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin settle
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY migrations ./migrations
USER settle
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
# Migrate, then serve. SECRET_KEY and DATABASE_URL must come from the environment.
CMD ["sh", "-c", "settle migrate && exec settle serve --no-access-log"]
