"""Job states and the job document clients see, shaped from a Redis record."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from collections.abc import Mapping
from enum import Enum
from typing import Any


class JobStatus(str, Enum):
    """The life of a job: queued -> running -> one of the terminal states."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """True once the job will not change any more."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


def iso_time(moment: datetime) -> str:
    """An aware time as an ISO 8601 UTC timestamp with milliseconds."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    """The current time as an ISO 8601 UTC timestamp."""
    return iso_time(datetime.now(timezone.utc))


def error_json(code: str, message: str) -> str:
    """The ``error`` field of a job, serialised."""
    return json.dumps({"code": code, "message": message})


def document(
    record: dict[str, str],
    results: Mapping[Any, bytes | str],
    deliveries: list[bytes] | None = None,
) -> dict[str, Any]:
    """The job document of a job record, its per-item results (index -> JSON) and its
    webhook deliveries."""
    total = int(record["total"])
    items: list[Any] | None = None
    if results:
        items = [None] * total
        for index, value in results.items():
            items[int(index)] = json.loads(value)
    return {
        "id": record["id"],
        "model": record["model"],
        "status": record["status"],
        "created_at": record["created_at"],
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "progress": {"done": int(record["done"]), "total": total},
        "attempts": int(record.get("attempts", 0)),
        "result": items,
        "error": json.loads(record["error"]) if "error" in record else None,
        "cached": record.get("cached") == "1",
        "webhook": _webhook(record, deliveries or []),
    }


def _webhook(record: dict[str, str], deliveries: list[bytes]) -> dict[str, Any] | None:
    """The job's webhook: ``state`` is null until the job ends with one of its events."""
    if "webhook_url" not in record:
        return None
    return {
        "url": record["webhook_url"],
        "events": record["webhook_events"].split(","),
        "state": record.get("webhook_state"),
        "deliveries": [json.loads(entry) for entry in deliveries],
    }


def lost_document(job_id: str, issued: float) -> dict[str, Any]:
    """The document of a job this service issued but whose record Redis lost."""
    created = datetime.fromtimestamp(issued, timezone.utc)
    return document(
        {
            "id": job_id,
            "model": "",
            "status": JobStatus.FAILED.value,
            "created_at": iso_time(created),
            "total": "0",
            "done": "0",
            "error": error_json(
                "lost",
                "Redis lost this job's record before it finished (a restart "
                "without persistence?); submit it again",
            ),
        },
        {},
    )
