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
# SECRET_KEY must come from the environment (production refuses the default).
# DATABASE_URL: the SQLite file in the /data volume unless a PostgreSQL URL is given.
# SEED_ON_START: `settle seed --if-empty` before serving, as `make run` seeds: into an
#   empty database the municipalities, cards and the rest of app/seed/data; at every
#   start the first platform admin when FIRST_ADMIN_EMAIL and FIRST_ADMIN_PASSWORD are
#   set. A restart never overwrites what the municipalities' staff have edited.
# FORWARDED_ALLOW_IPS: the addresses of the reverse proxies whose X-Forwarded-For and
#   X-Forwarded-Proto are believed (comma-separated, or * behind a proxy that always
#   overwrites them). Empty, the default, trusts no proxy: every client then shares
#   the proxy's address in the rate limits and the access log.
# LOG_FORMAT: json here (one object a line, for a log shipper); text reads better at a
#   terminal. The access log is on (ACCESS_LOG), query-string secrets redacted.
# WORKERS>1: set PROMETHEUS_MULTIPROC_DIR to an empty directory (e.g. /tmp/metrics)
#   for /metrics to add the workers' counts up; otherwise each scrape sees one worker.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    ENVIRONMENT=production \
    LOG_FORMAT=json \
    DATABASE_URL=sqlite+aiosqlite:////data/settle.db \
    SEED_ON_START=true \
    MIGRATIONS_DIR=/app/migrations \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin settle \
    && mkdir -p /data \
    && chown settle:settle /data
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY migrations ./migrations
# The SQLite database (and anything else written) lives here: mount a volume to keep
# it. A bind-mounted host directory must be writable by uid 10001.
VOLUME ["/data"]
USER settle
EXPOSE 8000
# Shell form, so that ${PORT} is the port the server was told to listen on.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:${PORT}/healthz', timeout=2).status == 200 else 1)"
# Migrate, seed (unless SEED_ON_START=false), then serve with the access log on.
CMD ["sh", "-c", "settle migrate && case \"${SEED_ON_START}\" in true|True|TRUE|1|yes) settle seed --if-empty ;; esac && exec settle serve"]
