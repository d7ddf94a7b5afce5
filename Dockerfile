# beacon_gql: the API server (and, unless --no-worker, a worker); PostgreSQL in production,
# SQLite (in the /app/.beacon volume) when BEACON_DATABASE_URL is not set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system beacon && useradd --system --gid beacon --home /app beacon

# Dependencies first, in a layer of their own: rebuilt only when pyproject.toml changes.
WORKDIR /src
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install -r requirements.txt

# Then the package, installed as a wheel would be (not editable): the migrations ship
# inside it, so nothing of the source tree is needed at run time.
COPY setup.py README.md ./
COPY migrations ./migrations
COPY beacon_gql ./beacon_gql
RUN pip install --no-deps . && rm -rf /src

WORKDIR /app
RUN mkdir -p /app/.beacon && chown -R beacon:beacon /app
USER beacon
# The SQLite default (.beacon/beacon.db, relative to /app) outlives the container.
VOLUME ["/app/.beacon"]

# `serve` listens on $BEACON_PORT; the health check asks the same port.
ENV BEACON_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"BEACON_PORT\"]}/health', timeout=2).status != 200)"

ENTRYPOINT ["beacon-gql"]
CMD ["serve", "--host", "0.0.0.0"]
