"""Peak resident memory of worker processes, read from /proc (Linux)."""
from __future__ import annotations

from pathlib import Path


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text().split()
        children += [int(child) for child in text]
    return children


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def peak_rss_tree(pid: int) -> dict[str, float]:
    """Peak RSS (MiB) of ``pid`` and every descendant: a Celery main process and its pool."""
    peaks: dict[str, float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            peaks[str(current)] = _peak_rss_mib(current)
            pending += _children(current)
        except (FileNotFoundError, ProcessLookupError):
            continue  # it exited while we looked
    return peaks
