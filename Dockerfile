# syntax=docker/dockerfile:1
# The bots' image: `docker run IMAGE run telegram|slack|discord` picks the platform.

# Build stage: a virtual environment with bloombridge and its dependencies.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/bloombridge
COPY pyproject.toml README.md ./
COPY core ./core
COPY adapters ./adapters
COPY bots ./bots
RUN /opt/bloombridge/bin/pip install .

# Final stage: the same slim base, the virtual environment only, a non-root user.
FROM python:3.11-slim
ENV PATH=/opt/bloombridge/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NUMBA_CACHE_DIR=/tmp/numba-cache \
    BLOOMBRIDGE_OPS_LISTEN=0.0.0.0 \
    BLOOMBRIDGE_OPS_PORT=9102 \
    BLOOMBRIDGE_LOG_FORMAT=json
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin bloombridge
COPY --from=build /opt/bloombridge /opt/bloombridge
USER 10001
EXPOSE 9102
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9102/healthz', timeout=2)"]
ENTRYPOINT ["bloombridge"]
CMD ["run", "telegram"]
