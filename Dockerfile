# Thirdspace: one image for the app replicas and the one-shot migration of docker-compose.yml.
# tests/test_deploy.py runs this file's install (RUN pip install) and start (CMD) commands in a scratch
# venv, and checks docker-compose.yml against the compose schema, so neither can rot unseen.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    THIRDSPACE_DATA_DIR=/data

WORKDIR /app
# `thirdspace migrate` reads alembic.ini and migrations/ from the checkout: install it in place.
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install -e .

RUN useradd --system --home-dir /app thirdspace && mkdir -p /data && chown thirdspace /data
USER thirdspace

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# Behind the proxy of docker-compose.yml: trust its X-Forwarded-* headers (the app port is not published).
CMD ["thirdspace", "serve", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--forwarded-allow-ips", "*"]
