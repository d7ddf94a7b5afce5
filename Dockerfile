# beacon_gql: the API server (and, unless --no-worker, a worker) on PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system beacon && useradd --system --gid beacon --home /app beacon

WORKDIR /app
COPY pyproject.toml README.md alembic.ini schema.graphql ./
COPY beacon_gql ./beacon_gql
COPY migrations ./migrations
# Editable, so `beacon-gql migrate` finds migrations/ beside the package.
RUN pip install -e . && chown -R beacon:beacon /app

USER beacon
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"

ENTRYPOINT ["beacon-gql"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
