"""What the benchmark sends to each system: inputs, sizes and the runs in order."""
from __future__ import annotations

import dataclasses
import io

import numpy as np
from PIL import Image
from sklearn import datasets

from bench.load import Workload
from bench.systems import PREDQ_AUTHORIZATION

IRIS_PATH = "/v1/models/iris-tree/jobs"
DIGITS_PATH = "/v1/models/digits-cnn/jobs"
# Scenario names: the keys of results.json's runs, the same in smoke and full runs.
IRIS = "iris 1 row"
IRIS_CACHED = "iris 1 row, cached"
SINGLE_IMAGES = "single-image jobs"
BATCH_JOB = "one batch job"
SCENARIOS = (IRIS, IRIS_CACHED, SINGLE_IMAGES, BATCH_JOB)

# predq as its clients use it, minus the result cache (only its own scenario
# measures that): every job runs the model.
_PREDQ = {"Cache-Control": "no-store", **PREDQ_AUTHORIZATION}
_WAIT = {"Prefer": "wait=30", **_PREDQ}
# Each client label: the system it drives, its headers, how it follows a 202.
CLIENTS: dict[str, tuple[str, dict[str, str], str]] = {
    "sync-flask": ("sync-flask", {}, "long-poll"),  # its answer is always final
    "flask-celery": ("flask-celery", {}, "poll"),
    "predq-poll": ("predq", _PREDQ, "poll"),
    "predq-longpoll": ("predq", _PREDQ, "long-poll"),
    "predq-wait": ("predq", _WAIT, "long-poll"),
    "predq-nobatch-wait": ("predq-nobatch", _WAIT, "long-poll"),
}
BASELINES = ("sync-flask", "flask-celery")


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How big and long each scenario is."""

    iris_clients: tuple[int, ...]
    target_clients: int  # the client count issue #3's throughput targets name
    iris_seconds: float
    warmup_seconds: float
    image_jobs: int
    image_clients: int
    batch_images: int
    ceiling_seconds: float
    image_cap_seconds: float  # a slow system stops short of image_jobs rather than overrun
    row_batches: tuple[int, ...] = (1, 16, 64, 256, 1024, 4096)
    image_batches: tuple[int, ...] = (1, 16, 64, 256, 1024)
    cnn_epochs: int | None = None  # None: the model's usual training


FULL = Sizes((1, 16, 64), 16, 8.0, 2.0, 5000, 16, 5000, 1.0, 150.0)
# Smoke: every scenario, none of the sizes; a CNN trained for one epoch is
# served the same way as a good one.
SMOKE = Sizes((1, 4), 4, 0.4, 0.3, 24, 4, 24, 0.02, 60.0, (1, 16), (1, 16), cnn_epochs=1)


@dataclasses.dataclass(frozen=True)
class Step:
    """One measured (or warm-up) run of the load generator."""

    scenario: str
    client: str
    workload: Workload
    clients: int
    duration: float | None = None
    jobs: int | None = None
    warmup: bool = False


def iris_rows(n: int) -> list[list[list[float]]]:
    """``n`` one-row requests with random but plausible iris measurements."""
    rng = np.random.default_rng(0)
    low, high = np.array([4.3, 2.0, 1.0, 0.1]), np.array([7.9, 4.4, 6.9, 2.5])
    return [[list(map(float, rng.uniform(low, high).round(2)))] for _ in range(n)]


def digit_pngs(n: int) -> list[bytes]:
    """``n`` distinct 32x32 RGB digit PNGs (the model's input size), as clients
    would upload them: sklearn's 1,797 digits, shifted a pixel per repeat."""
    from models import cnn_training, images

    digits = datasets.load_digits().images
    pngs = []
    for i in range(n):
        image = cnn_training.digits_image(digits[i % len(digits)])
        array = np.roll(images.to_array(image, cnn_training.IMAGE_SCHEMA), i // len(digits), axis=1)
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
    return pngs


def _workload(client: str, path: str, **inputs: object) -> Workload:
    _, headers, follow = CLIENTS[client]
    return Workload(path, headers=headers, follow=follow, **inputs)  # type: ignore[arg-type]


def plan(system: str, sizes: Sizes, rows: list[list[list[float]]], pngs: list[bytes]) -> list[Step]:
    """The runs for one started system, warm-ups first (each process loads
    its models on first use)."""
    labels = [label for label, (name, *_) in CLIENTS.items() if name == system]
    steps: list[Step] = []
    if system != "predq-nobatch":  # that one differs from predq in image batching only
        for i, label in enumerate(labels):
            iris = _workload(label, IRIS_PATH, rows=rows)
            if i == 0:
                steps.append(Step(IRIS, label, iris, max(sizes.iris_clients),
                                  sizes.warmup_seconds, warmup=True))  # fmt: skip
            steps += [Step(IRIS, label, iris, n, sizes.iris_seconds) for n in sizes.iris_clients]
        if system == "predq":
            # The same row again and again, cache on: answered from the result cache.
            cached = Workload(IRIS_PATH, rows=rows[:1],
                              headers={"Prefer": "wait=30", **PREDQ_AUTHORIZATION})
            steps.append(Step(IRIS_CACHED, "predq-wait", cached, sizes.target_clients,
                              sizes.iris_seconds))
    label = labels[-1]  # predq: Prefer: wait, its fastest single-call path
    single = _workload(label, DIGITS_PATH, images=pngs)
    steps += [
        Step(SINGLE_IMAGES, label, single, sizes.image_clients, sizes.warmup_seconds, warmup=True),
        Step(SINGLE_IMAGES, label, single, sizes.image_clients, sizes.image_cap_seconds,
             jobs=sizes.image_jobs),
    ]
    if system != "predq-nobatch":
        batch = _workload(label, DIGITS_PATH, images=pngs, images_per_job=sizes.batch_images)
        steps.append(Step(BATCH_JOB, label, batch, 1, jobs=1))
    return steps
