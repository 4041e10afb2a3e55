"""The predq client: submit jobs, read and long-poll them, classify folders of images."""
from __future__ import annotations

import math
import mimetypes
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from client.errors import ApiError, WaitTimeout
from client.transport import Transport
from client.types import BatchProgress, ClassResult, ErrorDetail, ImageResult, Job

MAX_WAIT = 30.0  # the longest long-poll the server grants, in seconds


class Client:
    """A predq server at ``base_url``, called with ``api_key`` (if it requires keys).

    ``timeout`` bounds each HTTP request (a long-poll gets its wait on top);
    429 and 503 answers and lost connections are retried ``max_retries`` times,
    waiting the server's ``Retry-After`` or a backoff, at most ``max_backoff`` s.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        max_backoff: float = 30.0,
    ) -> None:
        self._transport = Transport(base_url, api_key, timeout, max_retries, max_backoff)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the client's connections."""
        self._transport.close()

    def submit(
        self,
        model: str,
        instances: Sequence[Sequence[float]] | None = None,
        images: Sequence[Path | str | bytes] | None = None,
        version: str | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Submit rows (``instances``) to a tabular model or ``images`` (paths or
        PNG/JPEG bytes) to an image model; the queued job.

        Every submit carries an ``Idempotency-Key`` (a fresh one unless given),
        so retrying it after a 503 or a lost connection never makes a second job.
        """
        if (instances is None) == (images is None):
            raise ValueError("give either instances or images")
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        request: dict[str, Any]
        if instances is not None:
            body: dict[str, Any] = {"instances": [list(row) for row in instances]}
            request = {"json": body | ({"version": version} if version else {})}
        else:
            files = [("image", _upload(image, i)) for i, image in enumerate(images or [])]
            request = {"files": files, "data": {"version": version} if version else {}}
        path = f"/v1/models/{quote(model, safe='')}/jobs"
        return Job.from_document(self._transport.request("POST", path, headers=headers, **request))

    def train(
        self,
        model: str,
        rows: Sequence[Sequence[float]] | None = None,
        targets: Sequence[float | int | str] | None = None,
        csv: Path | str | None = None,
        target: str = "target",
        idempotency_key: str | None = None,
        **options: Any,
    ) -> Job:
        """Queue the fit of a new version of ``model`` on ``rows`` and ``targets``,
        or on a ``csv`` file whose ``target`` column holds the targets; the queued job.

        ``options``: ``estimator`` (required for a new model), ``version``,
        ``holdout``. The finished job's result is one :class:`TrainingResult`.
        Like :meth:`submit`, it carries an ``Idempotency-Key`` so a retry
        never queues a second fit.
        """
        if (csv is None) == (rows is None or targets is None):
            raise ValueError("give either rows and targets, or csv")
        path = f"/v1/models/{quote(model, safe='')}/train"
        request: dict[str, Any]
        if csv is None:
            body = {"rows": [list(row) for row in rows or []], "targets": list(targets or [])}
            request = {"json": body | options}
        else:
            upload = ("file", (Path(csv).name, Path(csv).read_bytes(), "text/csv"))
            request = {"files": [upload], "data": {"target": target, **options}}
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        return Job.from_document(self._transport.request("POST", path, headers=headers, **request))

    def get(self, job_id: str) -> Job:
        """The job as it is now."""
        return self._fetch(job_id, wait=0)

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job; :class:`Conflict` if it already finished."""
        return Job.from_document(self._transport.request("DELETE", _job_path(job_id)))

    def wait(
        self,
        job_id: str,
        timeout: float | None = None,
        poll: float = MAX_WAIT,
        on_update: Callable[[Job], None] | None = None,
    ) -> Job:
        """Long-poll the job until it is terminal; :class:`WaitTimeout` after
        ``timeout`` seconds (None: no limit).

        Each long-poll lasts at most ``poll`` seconds (and never more than the
        server's 30); ``on_update`` sees the job after each one.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = math.inf if deadline is None else deadline - time.monotonic()
            job = self._fetch(job_id, wait=min(poll, MAX_WAIT, left))
            if on_update is not None:
                on_update(job)
            if job.status.terminal:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(job, timeout or 0.0)

    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        timeout: float | None = None,
    ) -> Job:
        """Submit rows and wait for the finished job."""
        job = self.submit(model, instances=instances, version=version)
        return self.wait(job.id, timeout=timeout)

    def classify_images(
        self,
        paths: Sequence[Path | str],
        model: str = "digits-cnn",
        chunk_size: int = 64,
        version: str | None = None,
        timeout: float | None = None,
        progress: Callable[[BatchProgress], None] | None = None,
    ) -> list[ImageResult]:
        """Classify image files: one job per ``chunk_size`` images, all uploaded
        first (the server works while later chunks upload), then waited for.

        Returns one result per path, in the order of ``paths``; an image that
        could not be classified carries its error, whether the server refused
        it on upload or failed it in the worker. ``timeout`` bounds the wait
        for each chunk's job; ``progress`` is called as images upload and finish.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        files = [Path(p) for p in paths]
        total = len(files)
        report = progress or (lambda _: None)
        chunks: list[tuple[list[Path], Job | ErrorDetail]] = []
        for start in range(0, total, chunk_size):
            chunk = files[start : start + chunk_size]
            chunks += self._submit_images(model, chunk, version)
            report(BatchProgress(start + len(chunk), 0, total))
        results: list[ImageResult] = []
        for chunk, job in chunks:
            if isinstance(job, ErrorDetail):
                results += [ImageResult(path, None, job) for path in chunk]
                continue
            before = len(results)
            finished = self.wait(
                job.id,
                timeout=timeout,
                # Short polls only to move the progress bar as the job's chunks finish.
                poll=1.0 if progress else MAX_WAIT,
                on_update=lambda j: report(BatchProgress(total, before + j.progress.done, total)),
            )
            results += _image_results(chunk, finished)
        return results

    def _submit_images(
        self, model: str, images: list[Path], version: str | None
    ) -> list[tuple[list[Path], Job | ErrorDetail]]:
        """One job for ``images``; when the server refuses one of them (not a
        PNG or JPEG, too large), halves until each refused image is alone with
        its error and the others are in jobs."""
        try:
            return [(images, self.submit(model, images=images, version=version))]
        except ApiError as exc:
            if exc.status != 413 and exc.code not in ("invalid_image", "image_too_large"):
                raise
            if len(images) == 1:
                return [(images, ErrorDetail(exc.code, exc.message))]
            half = len(images) // 2
            return self._submit_images(model, images[:half], version) + self._submit_images(
                model, images[half:], version
            )

    def _fetch(self, job_id: str, wait: float) -> Job:
        if wait <= 0:
            return Job.from_document(self._transport.request("GET", _job_path(job_id)))
        document = self._transport.request(
            "GET", _job_path(job_id), params={"wait": f"{wait:.3f}"}, timeout=self._transport.timeout + wait
        )
        return Job.from_document(document)


def _job_path(job_id: str) -> str:
    return f"/v1/jobs/{quote(job_id, safe='')}"


def _upload(image: Path | str | bytes, index: int) -> tuple[str, bytes, str]:
    """A multipart file tuple; read now so that a retry can send it again."""
    if isinstance(image, bytes):
        return f"image-{index}", image, "application/octet-stream"
    path = Path(image)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.name, path.read_bytes(), content_type


def _image_results(paths: list[Path], job: Job) -> list[ImageResult]:
    """Pair a chunk's paths with its job's items; an item without an answer gets
    the job's error (a job failed or cancelled before reaching it)."""
    fallback = job.error or ErrorDetail(job.status.value, f"job {job.id} ended {job.status.value}")
    results = []
    for i, path in enumerate(paths):
        item = job.result[i] if i < len(job.result) else None
        if isinstance(item, ClassResult):
            results.append(ImageResult(path, item))
        elif isinstance(item, ErrorDetail):
            results.append(ImageResult(path, None, item))
        else:
            results.append(ImageResult(path, None, fallback))
    return results
