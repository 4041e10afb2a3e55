"""A private directory for prometheus_client's multiprocess mode, per process tree.

gunicorn's API processes and a Celery worker's pool children each write
their metric values to files in ``PROMETHEUS_MULTIPROC_DIR``, and whichever
process serves a scrape sums them. The directory must be empty when the
tree starts (stale files of an earlier run would be summed in) and must not
be shared by two trees (``predq run`` starts three, and each would clear
the others'), so every ``predq api`` and ``predq worker`` makes its own,
under the system's temporary directory (``TMPDIR``).

This module must not import prometheus_client: the library picks its
multiprocess mode from the environment when it is first imported.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_private_dir(role: str) -> str:
    """Make a fresh, empty directory for this process tree's metrics and point
    ``PROMETHEUS_MULTIPROC_DIR`` at it (children inherit it). It is removed
    when this process exits normally; an exec'd program removes it itself."""
    path = tempfile.mkdtemp(prefix=f"predq-{role}-metrics-")
    os.environ[ENV] = path
    owner = os.getpid()
    # Forked children inherit atexit handlers; only the creator removes it.
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(path, ignore_errors=True))
    return path


def no_multiprocess() -> None:
    """Keep this process tree out of any inherited directory (its metrics are off)."""
    os.environ.pop(ENV, None)
