"""The ``predq`` commands that call a predq server: submit, status and classify.

They use the Python client only; the server's URL and API key come from
``--url``/``--api-key`` or, failing those, ``PREDQ_URL``/``PREDQ_API_KEY``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from client import BatchProgress, Client, ImageResult, Job, PredqError, WaitTimeout

DEFAULT_URL = "http://127.0.0.1:8000"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
CSV_COLUMNS = ["path", "label", "class_name", "confidence", "error"]


def add_client_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register submit, status and classify on the ``predq`` parser."""
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument("--url", help=f"the predq server (default: $PREDQ_URL or {DEFAULT_URL})")
    server.add_argument("--api-key", help="API key (default: $PREDQ_API_KEY)")

    submit = sub.add_parser("submit", parents=[server], help="submit a job and print it")
    submit.add_argument("model", help="model name, e.g. iris-svm")
    body = submit.add_mutually_exclusive_group(required=True)
    body.add_argument("--json", dest="body", type=_json_text, help='{"instances": [[...], ...]}')
    body.add_argument("--file", dest="body", type=_json_file, help="a JSON file with instances")
    submit.add_argument("--version", help="model version (default: the latest)")
    submit.set_defaults(func=_client_command(cmd_submit))

    status = sub.add_parser("status", parents=[server], help="print a job")
    status.add_argument("job_id")
    status.add_argument("--wait", type=float, default=0, metavar="N",
                        help="wait up to N seconds for the job to finish")  # fmt: skip
    status.set_defaults(func=_client_command(cmd_status))

    classify = sub.add_parser(
        "classify", parents=[server], help="classify a folder of images into a CSV"
    )
    classify.add_argument("dir", type=Path, help="folder of PNG and JPEG images")
    classify.add_argument("--out", type=Path, required=True, help="CSV file to write")
    classify.add_argument("--model", default="digits-cnn")
    classify.add_argument("--chunk-size", type=int, default=64, help="images per job")
    classify.set_defaults(func=_client_command(cmd_classify))


def cmd_submit(args: argparse.Namespace, client: Client) -> int:
    """Submit rows to a tabular model and print the queued job."""
    instances = args.body.get("instances") if isinstance(args.body, dict) else None
    if instances is None:
        raise SystemExit('predq submit: the JSON must be an object with "instances"')
    version = args.version or args.body.get("version")
    _print_job(client.submit(args.model, instances=instances, version=version))
    return 0


def cmd_status(args: argparse.Namespace, client: Client) -> int:
    """Print a job, after waiting up to ``--wait`` seconds for it to finish."""
    try:
        job = client.wait(args.job_id, timeout=args.wait) if args.wait > 0 else client.get(args.job_id)
    except WaitTimeout as timeout:
        job = timeout.job
    _print_job(job)
    return 0


def cmd_classify(args: argparse.Namespace, client: Client) -> int:
    """Classify every image in a folder, with progress bars, into a CSV."""
    if not args.dir.is_dir():
        raise SystemExit(f"predq classify: {args.dir} is not a folder")
    paths = sorted(p for p in args.dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise SystemExit(f"predq classify: no PNG or JPEG images in {args.dir}")
    with Progress(
        TextColumn("{task.description:10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as bars:  # fmt: skip
        upload = bars.add_task("uploaded", total=len(paths))
        done = bars.add_task("classified", total=len(paths))

        def show(progress: BatchProgress) -> None:
            bars.update(upload, completed=progress.uploaded)
            bars.update(done, completed=progress.classified)

        results = client.classify_images(
            paths, model=args.model, chunk_size=args.chunk_size, progress=show
        )
    _write_csv(args.out, results)
    failed = sum(1 for r in results if r.error)
    classified = f"{len(results) - failed} of {len(results)} images classified"
    print(f"{classified}; results in {args.out}", file=sys.stderr)
    return 0


def _client_command(command: Callable[[argparse.Namespace, Client], int]) -> Callable[..., int]:
    """Adapt a client command to cli.py's ``func(args, settings)``: build the
    client from the flags or the environment, and report the client's errors."""

    def run(args: argparse.Namespace, settings: Any) -> int:
        url = args.url or os.environ.get("PREDQ_URL") or DEFAULT_URL
        key = args.api_key or os.environ.get("PREDQ_API_KEY")
        try:
            with Client(url, api_key=key) as client:
                return command(args, client)
        except PredqError as exc:
            print(f"predq {args.command}: {exc}", file=sys.stderr)
            return 1

    return run


def _json_text(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None


def _json_file(path: str) -> Any:
    try:
        return _json_text(Path(path).read_text())
    except OSError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _print_job(job: Job) -> None:
    print(json.dumps(job.document, indent=2))


def _write_csv(path: Path, results: list[ImageResult]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            error = f"{r.error.code}: {r.error.message}" if r.error else ""
            confidence = "" if r.confidence is None else f"{r.confidence:.4f}"
            label = "" if r.label is None else r.label
            writer.writerow([r.path, label, r.class_name or "", confidence, error])
