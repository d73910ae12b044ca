# syntax=docker/dockerfile:1
# askbase API image: multi-stage, slim, non-root, with a health check.
# The container needs DATABASE_URL (Supabase or any PostgreSQL with pgvector), and
# SUPABASE_JWT_SECRET or ASKBASE_SESSION_SECRET; the embedded database is for local
# development only (ENVIRONMENT=production refuses to start without DATABASE_URL).
# tests/test_container.py runs hadolint on this file and builds the same steps without
# Docker, then serves from the result.

FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/askbase
# The dependencies exactly as locked (hashes checked), then askbase itself without them.
COPY requirements.lock ./
RUN /opt/askbase/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md WIDGET_INTEGRATION.md ./
COPY askbase ./askbase
COPY app ./app
COPY schema ./schema
COPY resolvers ./resolvers
COPY database ./database
COPY widget ./widget
# The console as built and committed (console/dist): the image needs no node.
COPY console/dist ./console/dist
RUN /opt/askbase/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /home/askbase --create-home askbase
COPY --from=build /opt/askbase /opt/askbase
COPY widget /srv/askbase/widget
ENV PATH=/opt/askbase/bin:$PATH \
    ENVIRONMENT=production \
    LOG_JSON=true \
    HOST=0.0.0.0 \
    PORT=8000 \
    WIDGET_DIR=/srv/askbase/widget \
    ASKBASE_DATA_DIR=/home/askbase/data \
    PYTHONUNBUFFERED=1
USER 10001
WORKDIR /srv/askbase
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os,sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=2).status == 200 else 1)"]
STOPSIGNAL SIGTERM
CMD ["askbase", "serve"]
