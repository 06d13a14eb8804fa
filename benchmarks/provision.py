#!/usr/bin/env python
"""Measure how fast environments become ready, and what they cost.

Run from the repository root with the image already built (scripts/smoke
builds it)::

    .venv/bin/python benchmarks/provision.py [--sizes 1,4,8] [--repeats 3]

Progress goes to stderr; the result is one JSON object on stdout: for each
number of environments started at once, per-environment milestones (create,
port mapping, SSH, VNC and CDP ready, total) and the time until all were
ready, each as median and p95 over the repeats; teardown time per
environment; idle memory per environment from the engine's stats;
`ensure_image` time with the image present; and the image size.

Environments are created under their own prefix and all of them are removed
at the end, also when the run fails or is interrupted.
"""

import argparse
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auto_tester.settings")

import django

django.setup()

from django.conf import settings
from docker import DockerClient
from docker.errors import DockerException

from environments.config import load_config
from environments.exceptions import EnvironmentsError
from environments.interrupts import Received, termination_as_interrupt
from environments.services import (
    close_docker_client,
    ensure_image,
    get_docker_client,
    image_exists,
    list_containers,
    provision_environment,
    provision_environments,
    remove_container,
    teardown_environment,
)
from environments.types import ContainerInfo

# Per run, so that two benchmarks on one engine never remove each other's.
BENCH_PREFIX = f"auto-tester-bench{os.getpid()}"
MILESTONES = ("created", "started", "ports", "ssh", "vnc", "playwright", "ready")
MEMORY_IDLE_SECONDS = 20


def main() -> int:
    options = _parse_arguments()
    settings.ENV_CONTAINER_PREFIX = BENCH_PREFIX
    received = Received()
    try:
        client = get_docker_client()
        with termination_as_interrupt() as received:
            report = _measure_all(client, options)
    except KeyboardInterrupt:
        _progress("interrupted; every environment it made was removed")
        return 128 + (received.number or signal.SIGINT)
    except (EnvironmentsError, DockerException) as error:
        _progress(f"error: {str(error).splitlines()[0]}")
        return 1
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _measure_all(client: DockerClient, options: argparse.Namespace) -> dict[str, Any]:
    try:
        if not image_exists(client):
            _progress("the image is missing: building it first (not measured)")
        ensure_image(client)
        report = {
            "machine": {"cpus": os.cpu_count()},
            "ensure_image_s": _summary(_time_ensure_image(client, options.repeats * 5)),
            "image_size_mb": _image_size_mb(client),
            "parallel": {
                str(size): _measure_parallel(client, size, options.repeats)
                for size in options.sizes
            },
            "idle_memory_mib": _measure_idle_memory(client, options.memory_samples),
        }
    finally:
        _remove_everything(client)
        close_docker_client(client)
    return report


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 4, 8],
        help="numbers of environments started at once (default: 1,4,8)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per size")
    parser.add_argument(
        "--memory-samples", type=int, default=2, help="environments to measure idle"
    )
    return parser.parse_args()


def _time_ensure_image(client: DockerClient, count: int) -> list[float]:
    durations = []
    for _ in range(count):
        started = time.monotonic()
        ensure_image(client)
        durations.append(time.monotonic() - started)
    return durations


def _image_size_mb(client: DockerClient) -> float:
    image = client.images.get(load_config().image_ref)
    return round(int(image.attrs["Size"]) / 1e6, 1)


def _measure_parallel(client: DockerClient, size: int, repeats: int) -> dict[str, Any]:
    per_environment: dict[str, list[float]] = {name: [] for name in MILESTONES}
    all_ready: list[float] = []
    teardown: list[float] = []
    failures: list[str] = []
    for run in range(repeats):
        suffixes = [f"n{size}-r{run}-{index}" for index in range(size)]
        timings: dict[str, dict[str, float]] = {}
        called = time.monotonic()
        try:
            infos = _provision(client, suffixes, timings)
        except EnvironmentsError as error:
            failures.append(str(error).splitlines()[0])
            _progress(f"{size} at once, run {run + 1}: FAILED: {failures[-1]}")
            continue
        all_ready.append(time.monotonic() - called)
        for stamps in timings.values():
            for name in MILESTONES:
                per_environment[name].append(stamps[name] - stamps["start"])
        for info in infos:
            started = time.monotonic()
            teardown_environment(client, info.container_id)
            teardown.append(time.monotonic() - started)
        _progress(f"{size} at once, run {run + 1}: all ready in {all_ready[-1]:.2f}s")

    return {
        "all_ready_s": _summary(all_ready),
        "per_environment_s": {name: _summary(v) for name, v in per_environment.items()},
        "teardown_per_environment_s": _summary(teardown),
        "failed_runs": len(failures),
        "failures": failures,
    }


def _provision(
    client: DockerClient, suffixes: list[str], timings: dict[str, dict[str, float]]
) -> list[ContainerInfo]:
    if len(suffixes) == 1:
        timings[suffixes[0]] = {}
        stamps = timings[suffixes[0]]
        return [provision_environment(client, suffixes[0], timings=stamps)]
    return provision_environments(
        client, suffixes, max_parallel=len(suffixes), timings=timings
    )


def _measure_idle_memory(client: DockerClient, count: int) -> dict[str, Any]:
    infos = provision_environments(client, [f"mem-{n}" for n in range(count)])
    _progress(f"letting {count} environments idle for {MEMORY_IDLE_SECONDS}s")
    time.sleep(MEMORY_IDLE_SECONDS)
    samples = []
    for info in infos:
        stats = client.api.stats(info.container_id, stream=False)
        samples.append(_memory_in_use(stats["memory_stats"]) / 2**20)
        teardown_environment(client, info.container_id)
    return _summary(samples)


def _memory_in_use(memory: dict[str, Any]) -> float:
    # What `docker stats` shows: usage without the page cache that can be
    # dropped (cgroup v1 "total_inactive_file", v2 "inactive_file").
    detail = memory.get("stats", {})
    reclaimable = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    return float(memory["usage"] - reclaimable)


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), 3),
        "p95": round(p95, 3),
        "min": round(ordered[0], 3),
        "max": round(ordered[-1], 3),
        "n": len(ordered),
    }


def _remove_everything(client: DockerClient) -> None:
    # Every one is tried, even when removing another failed.
    failures = []
    for info in list_containers(client):
        try:
            remove_container(client, info.container_id)
        except EnvironmentsError as error:
            failures.append(f"{info.name}: {error}")
    if failures:
        _progress("could not remove: " + "; ".join(failures))


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
