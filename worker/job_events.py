"""Waking the threads that wait on jobs, over one Redis pub/sub connection per process.

A job's scripts ``PUBLISH`` to its channel when it changes. Subscribing per
wait costs a new connection each time (redis-py closes a pub/sub connection
when it is released) and three extra commands; here one listener thread per
process pattern-subscribes to every job's channel and wakes the waiters
registered for it.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

log = logging.getLogger(__name__)

# A waiter re-reads its job this often even without a message: the safety
# net for messages published while the listener was reconnecting.
RECHECK_S = 2.0
_RECONNECT_S = 0.5


class JobEvents:
    """Registry of waiters per job channel, fed by one listener thread."""

    def __init__(self, client: redis.Redis, pattern: str) -> None:
        """``pattern``: the glob matching every job's event channel."""
        self.client = client
        self.pattern = pattern
        self._lock = threading.Lock()
        self._waiters: dict[str, set[threading.Event]] = {}
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    @contextmanager
    def watching(self, channel: str) -> Iterator[threading.Event]:
        """An event set whenever ``channel`` gets a message, while the block runs.

        Registered before the caller reads the job, so a change in between is
        not missed once the listener is subscribed (waited for briefly here).
        """
        self._start()
        event = threading.Event()
        with self._lock:
            self._waiters.setdefault(channel, set()).add(event)
        try:
            self._subscribed.wait(RECHECK_S)
            yield event
        finally:
            with self._lock:
                waiters = self._waiters.get(channel, set())
                waiters.discard(event)
                if not waiters:
                    self._waiters.pop(channel, None)

    def _start(self) -> None:
        with self._lock:
            # A forked child (gunicorn) inherits the object but not the thread.
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._subscribed.clear()
            self._thread = threading.Thread(target=self._listen, name="predq-job-events", daemon=True)
            self._thread.start()

    def _listen(self) -> None:
        # Lives as long as its process (a daemon thread).
        healthy = True
        while True:
            pubsub = self.client.pubsub()
            try:
                pubsub.psubscribe(self.pattern)
                for message in pubsub.listen():
                    if message["type"] == "psubscribe":
                        self._subscribed.set()
                        healthy = True
                    elif message["type"] == "pmessage":
                        self._wake(message["channel"].decode())
            except (redis.RedisError, OSError) as exc:
                self._subscribed.clear()
                if healthy:  # once per outage, not once per retry
                    log.warning("job events listener lost Redis (%s); reconnecting", exc)
                healthy = False
                time.sleep(_RECONNECT_S)
            finally:
                pubsub.close()

    def _wake(self, channel: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(channel, ()))
        for event in waiters:
            event.set()
