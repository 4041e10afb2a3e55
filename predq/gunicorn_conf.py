"""gunicorn settings of ``predq api`` (``-c python:predq.gunicorn_conf``).

No ``child_exit`` calling prometheus_client's ``mark_process_dead``: it only
drops the files of live gauges (livesum and the like), and the API records
none; the counters of an exited process must stay in the sum.
"""
from __future__ import annotations

import os
import shutil
from typing import Any

from predq.multiprocess import ENV


def on_exit(server: Any) -> None:
    """Remove the metrics directory ``predq api`` made (its atexit died with the exec)."""
    shutil.rmtree(os.environ[ENV], ignore_errors=True)
