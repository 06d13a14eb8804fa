"""The environment image: whether it exists, building it, and making sure of it.

The image is built from `environments/docker/`. It carries a label with a
digest of that folder, so `ensure_image` rebuilds when the files changed
instead of running an outdated image.
"""

import hashlib
import logging
from collections import deque
from pathlib import Path

from docker import DockerClient
from docker.errors import ImageNotFound, NotFound

from environments.config import load_config
from environments.exceptions import BaseImageMissingError, ImageBuildError
from environments.services._docker import (
    LABEL_CONTEXT_DIGEST,
    docker_errors,
    find_or_pull_image,
)

logger = logging.getLogger(__name__)

DOCKER_CONTEXT = Path(__file__).resolve().parent.parent / "docker"
BUILD_LOG_TAIL_LINES = 25


def image_exists(client: DockerClient) -> bool:
    """Whether the configured environment image is present on the engine.

    Raises:
        InvalidValueError, DockerEngineUnavailableError, DockerOperationError.
    """
    config = load_config()
    with docker_errors("Looking up the image", config.docker_host):
        try:
            client.images.get(config.image_ref)
        except (ImageNotFound, NotFound):
            return False
    return True


def build_image(
    client: DockerClient,
    *,
    context_dir: Path | None = None,
    no_cache: bool = False,
) -> str:
    """Build the environment image and return its id.

    Raises:
        BaseImageMissingError: the base image is absent and cannot be pulled.
        ImageBuildError: the build failed; the error holds the build log's end.
        DockerEngineUnavailableError: the engine does not answer.
    """
    config = load_config()
    context = context_dir or DOCKER_CONTEXT
    if not (context / "Dockerfile").is_file():
        raise ImageBuildError(config.image_ref, f"no Dockerfile in {context}", "")
    _require_base_image(client, config.base_image, config.docker_host)

    logger.info("building image %s from %s", config.image_ref, context)
    output: deque[str] = deque(maxlen=BUILD_LOG_TAIL_LINES)
    image_id = ""
    with docker_errors("Building the image", config.docker_host):
        stream = client.api.build(
            path=str(context),
            tag=config.image_ref,
            buildargs={"BASE_IMAGE": config.base_image},
            labels={LABEL_CONTEXT_DIGEST: context_digest(context)},
            rm=True,
            forcerm=True,
            pull=False,
            nocache=no_cache,
            decode=True,
        )
        for chunk in stream:
            if "error" in chunk:
                raise ImageBuildError(
                    config.image_ref, str(chunk["error"]).strip(), "\n".join(output)
                )
            for line in str(chunk.get("stream", "")).splitlines():
                if line.strip():
                    output.append(line.rstrip())
                    logger.debug("build: %s", line.rstrip())
            image_id = chunk.get("aux", {}).get("ID", image_id)

    if not image_id:
        raise ImageBuildError(
            config.image_ref, "the engine reported no image id", "\n".join(output)
        )
    logger.info("built image %s (%s)", config.image_ref, image_id)
    return str(image_id)


def ensure_image(client: DockerClient, rebuild: bool = False) -> str:
    """Make sure the environment image exists and matches the build files.

    Builds it when it is missing, when `environments/docker/` changed since it
    was built, or when `rebuild` is true. Returns the image reference.

    Raises:
        BaseImageMissingError, ImageBuildError, DockerEngineUnavailableError.
    """
    config = load_config()
    if not rebuild:
        with docker_errors("Looking up the image", config.docker_host):
            try:
                image = client.images.get(config.image_ref)
            except (ImageNotFound, NotFound):
                image = None
        labels = (image.labels or {}) if image is not None else {}
        if image is not None and labels.get(LABEL_CONTEXT_DIGEST) == context_digest(
            DOCKER_CONTEXT
        ):
            return config.image_ref
        if image is not None:
            logger.info("image %s is out of date; rebuilding", config.image_ref)

    build_image(client)
    return config.image_ref


def context_digest(context: Path) -> str:
    """Digest of every file's path, mode and content under `context`."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context).as_posix()
        if "__pycache__" in relative:
            continue
        digest.update(relative.encode())
        digest.update(oct(path.stat().st_mode & 0o777).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _require_base_image(
    client: DockerClient, base_image: str, docker_host: str
) -> None:
    with docker_errors("Looking up the base image", docker_host):
        outcome, reason = find_or_pull_image(client, base_image)
    if outcome == "missing":
        raise BaseImageMissingError(base_image, reason)
