"""The ``predq`` command: train, models, worker, api, redis, keys and run; and submit,
status and classify, which call a running server."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from models.store import ModelStore
from predq.client_commands import add_client_commands
from predq.multiprocess import no_multiprocess, use_private_dir
from worker.settings import QUEUES, WEBHOOK_QUEUE, WORKER_QUEUES, Settings


def _store(settings: Settings) -> ModelStore:
    return ModelStore(settings.model_dir)


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    """Train the default models, or the CNN on a chosen data set."""
    store = _store(settings)
    if args.if_empty and not store.is_empty():
        print(f"model store {store.root} already has models; not training")
        return 0
    if args.what == "cnn":
        from models.cnn_training import train_cnn

        name = args.name or ("digits-cnn" if args.dataset == "digits" else f"{args.dataset}-cnn")
        published = [train_cnn(store, name, args.dataset, args.data_dir, args.epochs)]
    else:
        from models.training import train_defaults

        published = train_defaults(store, args.models or None)
    for manifest in published:
        print(f"trained {manifest.ref}: {json.dumps(manifest.metrics)}")
    return 0


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    """List the models in the store."""
    manifests = _store(settings).list()
    if args.json:
        print(json.dumps([m.to_dict() for m in manifests], indent=2))
        return 0
    if not manifests:
        print(f"no models in {settings.model_dir}; run 'predq train'")
    for m in manifests:
        scores = ", ".join(f"{k}={v:.3f}" for k, v in m.metrics.items() if k.startswith("test_"))
        print(f"{m.ref:24} {m.family.value:10} {m.task.value:15} {scores}")
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Run a Celery worker consuming the given queues."""
    queues = [q for q in args.queues.split(",") if q]
    unknown = set(queues) - set(WORKER_QUEUES)
    if unknown:
        raise SystemExit(f"unknown queue(s) {sorted(unknown)}; choose from {WORKER_QUEUES}")
    webhooks = queues == [WEBHOOK_QUEUE]
    # A slow receiver must never hold a process that could be predicting.
    if WEBHOOK_QUEUE in queues and not webhooks:
        raise SystemExit(f"run the {WEBHOOK_QUEUE} queue in a worker of its own")
    port = settings.metrics_port if args.metrics_port is None else args.metrics_port
    # Before anything imports prometheus_client: it picks its mode on import.
    metrics_dir = use_private_dir("worker") if port else None
    if not port:
        no_multiprocess()
    from worker.celery_app import create_celery_app
    from worker.hooks import install_hooks
    from worker.runtime import preload_libraries

    serving = dataclasses.replace(settings.serving, device=args.device)
    app = create_celery_app(
        dataclasses.replace(settings, serving=serving, metrics_port=port or None)
    )
    install_hooks(app, queues, metrics_dir)
    # One process per image worker by default: torch uses the cores itself.
    # Deliveries mostly wait on the network: threads, many of them.
    default = 16 if webhooks else 1 if queues == ["vision"] else os.cpu_count() or 1
    argv = [
        "worker",
        f"--queues={','.join(queues)}",
        f"--concurrency={args.concurrency or default}",
        f"--pool={args.pool or ('threads' if webhooks else 'prefork')}",
        f"--hostname={args.hostname or '-'.join(queues) + '@%h'}",
        f"--loglevel={args.loglevel}",
    ]
    preload_libraries(queues)
    app.worker_main(argv)
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the API with gunicorn (threads, so long-polls do not block others)."""
    use_private_dir("api")  # gunicorn's processes sum their metrics through it
    argv = [
        sys.executable, "-m", "gunicorn",
        "--config", "python:predq.gunicorn_conf",
        "--bind", args.bind,
        "--workers", str(args.workers),
        "--worker-class", "gthread",
        "--threads", str(args.threads),
        "--access-logfile", "-",
        "api:create_app()",
    ]  # fmt: skip
    os.execv(sys.executable, argv)
    return 0  # pragma: no cover - execv does not return


def cmd_redis(args: argparse.Namespace, settings: Settings) -> int:
    """Run the embedded redis-server in the foreground."""
    from predq.embedded_redis import EmbeddedRedis

    server = EmbeddedRedis(args.data_dir, port=args.port).start()
    print(f"redis ready at {server.url} (data in {args.data_dir}); Ctrl-C stops it")
    try:
        server.process.wait()  # type: ignore[union-attr]
    except KeyboardInterrupt:
        server.stop()
    return 0


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    """Create an API key: print it once, and the entry for PREDQ_API_KEYS."""
    from api.auth import hash_key, new_key

    key = new_key()
    print(f"API key for {args.name} (shown once; give it to the client):\n  {key}")
    print(f"Add to PREDQ_API_KEYS (comma-separated):\n  {args.name}:{hash_key(key)}")
    return 0


def cmd_webhook_secret(args: argparse.Namespace, settings: Settings) -> int:
    """Print the secret an owner's receivers verify webhooks with."""
    from worker.webhooks import owner_secret

    if not settings.webhooks.enabled:
        raise SystemExit("set PREDQ_WEBHOOK_SECRET first (whsec_ + base64 of 32 random bytes)")
    print(owner_secret(settings.webhooks.secret, args.name))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the whole stack: Redis (embedded if none is set), workers, API."""
    from predq.stack import run_stack

    return run_stack(args, settings, os.environ)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="predq", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train models into the store")
    train.add_argument("what", nargs="?", choices=["default", "cnn"], default="default")
    train.add_argument("--models", nargs="*", help="default models to train (all if omitted)")
    train.add_argument("--dataset", choices=["digits", "cifar10"], default="digits")
    train.add_argument("--data-dir", type=Path, help="folder holding cifar-10-batches-py")
    train.add_argument("--epochs", type=int)
    train.add_argument("--name", help="model name (default: <dataset>-cnn)")
    train.add_argument("--if-empty", action="store_true", help="only if the store is empty")
    train.set_defaults(func=cmd_train)

    models = sub.add_parser("models", help="list the models in the store")
    models.add_argument("--json", action="store_true")
    models.set_defaults(func=cmd_models)

    worker = sub.add_parser("worker", help="run a Celery worker")
    worker.add_argument(
        "--queues",
        default=",".join(QUEUES),
        help=f"queues among {','.join(WORKER_QUEUES[:-1])}, or {WEBHOOK_QUEUE} alone",
    )
    worker.add_argument("--device", default=None, help="auto, cpu or cuda[:N]")
    worker.add_argument("--concurrency", type=int, default=0)
    worker.add_argument(
        "--pool", choices=["prefork", "solo", "threads"], help="default: threads for webhooks, else prefork"
    )
    worker.add_argument("--loglevel", default="INFO")
    worker.add_argument("--hostname", help="Celery node name (default: <queues>@<host>)")
    worker.add_argument(
        "--metrics-port", type=int,
        help="serve Prometheus metrics on this port (default: PREDQ_METRICS_PORT; 0: off)",
    )  # fmt: skip
    worker.set_defaults(func=cmd_worker)

    api = sub.add_parser("api", help="serve the HTTP API with gunicorn")
    api.add_argument("--bind", default="0.0.0.0:8000")
    api.add_argument("--workers", type=int, default=2)
    api.add_argument("--threads", type=int, default=32)
    api.set_defaults(func=cmd_api)

    server = sub.add_parser("redis", help="run the embedded redis-server")
    server.add_argument("--port", type=int, default=6399)
    server.add_argument("--data-dir", type=Path, default=Path("var/redis"))
    server.set_defaults(func=cmd_redis)

    keys = sub.add_parser("keys", help="create an API key")
    keys.add_argument("name", help="the key's owner name (letters, digits, . _ -)")
    keys.set_defaults(func=cmd_keys)

    secret = sub.add_parser("webhook-secret", help="print an owner's webhook signing secret")
    secret.add_argument("name", help="the owner: the API key's name ('local' with PREDQ_AUTH=none)")
    secret.set_defaults(func=cmd_webhook_secret)

    run = sub.add_parser("run", help="run Redis, one worker per queue and the API")
    run.add_argument("--bind", default="127.0.0.1:8000", help="default: this machine only")
    run.add_argument("--data-dir", type=Path, default=Path("var"))
    run.set_defaults(func=cmd_run)

    add_client_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``predq`` console script."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    if getattr(args, "device", "") is None:
        args.device = settings.serving.device
    return args.func(args, settings)
