# syntax=docker/dockerfile:1
# The crmapi image: `crmapi serve` by default; `crmapi migrate` and `crmapi worker` with the same image.
#   docker build -t crmapi .
#   docker run --rm -e DATABASE_URL=... crmapi crmapi migrate        # once per release, before serving
#   docker run -p 8000:8000 -e DATABASE_URL=... -e REDIS_URL=... -e SECRET_KEY=... crmapi
# Without DATABASE_URL / REDIS_URL it starts the embedded PostgreSQL and Valkey in /data.
# compose.yaml shows a whole deployment (API, worker, PostgreSQL, Redis).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app
RUN python -m venv /opt/venv
# The pinned dependencies of pyproject.toml alone first, so this layer survives code changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir --requirement /tmp/requirements.txt
COPY README.md alembic.ini ./
COPY migrations ./migrations
COPY src ./src
# Editable: `crmapi migrate` finds alembic.ini and migrations/ beside src/, so the code stays in /app.
RUN pip install --no-cache-dir --no-deps --editable . \
    && python -m compileall -q /app/src /app/migrations

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data
RUN groupadd --system --gid 10001 crmapi \
    && useradd --system --uid 10001 --gid crmapi --create-home --home-dir /home/crmapi crmapi \
    && mkdir /data \
    && chown crmapi:crmapi /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
# Numeric, so a runtime (Kubernetes' runAsNonRoot) can tell it is not root.
USER 10001:10001
EXPOSE 8000
VOLUME ["/data"]
CMD ["crmapi", "serve"]
