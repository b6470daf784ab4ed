# PACS Academy: one image for the site (gunicorn), the sandbox service and the command-line tools.
# compose.yaml runs it; `docker build -t pacs-academy .` builds it on its own.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ACADEMY_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY academy ./academy
COPY sandbox ./sandbox
COPY migrations ./migrations
COPY curricula ./curricula
COPY question_banks ./question_banks
COPY app.py ./
# editable: migrations/, curricula/ and question_banks/ are found next to the package (academy/database.py)
RUN pip install --upgrade pip && pip install -e ".[scale]" \
    && useradd --system --uid 10001 --home-dir /app academy \
    && mkdir -p /data && chown academy:academy /data

USER academy
VOLUME ["/data"]
EXPOSE 8000 11112 2575
# the site; the sandbox service and the one-off jobs override the command (compose.yaml)
CMD ["gunicorn", "-w", "4", "-k", "gthread", "--threads", "4", "-b", "0.0.0.0:8000", "app:create_app()"]
