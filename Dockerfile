# One image for both processes: `handoff worker` and `handoff api` (docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY sla_policies ./sla_policies
COPY workflows ./workflows
COPY activities ./activities
COPY readmodel ./readmodel
COPY infra ./infra
COPY api ./api
COPY handoff ./handoff
# The Worker Versioning build id (default: the package version); e.g. the git commit.
ARG HANDOFF_BUILD_ID=""
ENV HANDOFF_BUILD_ID=${HANDOFF_BUILD_ID}
RUN pip install . && useradd --system --uid 10001 --home-dir /app handoff
USER handoff
# In a container the API listens on every interface; state (tokens in dev) stays writable.
ENV HANDOFF_API_HOST=0.0.0.0 HANDOFF_API_PORT=8000 HANDOFF_STATE_DIR=/tmp/handoff
# 8000: the API; 9464: a worker's Temporal SDK metrics (HANDOFF_WORKER_METRICS_ADDRESS).
EXPOSE 8000 9464
CMD ["handoff", "api"]
