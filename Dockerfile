# One image for every predq service: the API, the Celery workers and the
# one-shot trainer. compose.yaml picks the role with `command:`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PREDQ_MODEL_DIR=/models

WORKDIR /app

COPY pyproject.toml README.md ./
COPY api/ api/
COPY worker/ worker/
COPY models/ models/
COPY predq/ predq/
# torch==2.14.1 and torchvision==0.29.1 are pinned in pyproject.toml.
RUN pip install --no-cache-dir .

# Unprivileged user; /models is created (and owned) here so a fresh named
# volume mounted over it inherits this ownership and `predq train` can write.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin predq \
    && mkdir -p /models \
    && chown predq:predq /models
USER predq

EXPOSE 8000
CMD ["predq", "api", "--bind", "0.0.0.0:8000"]
