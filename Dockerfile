# One image for both processes: `handoff worker` and `handoff api`.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY sla_policies ./sla_policies
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY handoff ./handoff
RUN pip install .
RUN useradd --system --uid 10001 handoff
USER handoff
EXPOSE 8000
CMD ["handoff", "api"]
