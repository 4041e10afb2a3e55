"""Peak resident memory and CPU time of process trees, read from /proc (Linux)."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


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


def _cpu_seconds(pid: int) -> float:
    # utime and stime: fields 14 and 15, counted after the ')' closing the name.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _tree(pid: int, read: Callable[[int], float]) -> dict[str, float]:
    values: dict[str, float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            values[str(current)] = read(current)
            pending += _children(current)
        except (FileNotFoundError, ProcessLookupError):
            continue  # it exited while we looked
    return values


def peak_rss_tree(pid: int) -> dict[str, float]:
    """Peak RSS (MiB) of ``pid`` and every descendant: a Celery main process and its pool."""
    return _tree(pid, _peak_rss_mib)


def cpu_seconds_tree(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its live descendants."""
    return round(sum(_tree(pid, _cpu_seconds).values()), 2)
