"""Making the Debian base image locally, for engines that cannot pull it.

Where no image registry is reachable, `docker pull debian:trixie-slim` fails.
The same minimal Debian can be made from the package archive with mmdebstrap
(or debootstrap) and imported under the base image's name. The archive used
is the tools' default or the host's own apt configuration; none is named here.
"""

import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from docker import DockerClient

from environments.config import load_config, split_image_reference
from environments.exceptions import ImageBuildError, InvalidValueError
from environments.services._docker import docker_errors, find_or_pull_image

logger = logging.getLogger(__name__)

DEFAULT_SUITE = "trixie"
_SUITE = re.compile(r"[a-z][a-z0-9-]*")
BOOTSTRAP_TIMEOUT = 1800


def ensure_base_image(client: DockerClient, *, suite: str = DEFAULT_SUITE) -> str:
    """Make sure the base image exists: present, pulled, or bootstrapped here.

    Returns what was done: "present", "pulled" or "built".

    Raises:
        InvalidValueError, ImageBuildError: as `build_base_image`.
    """
    config = load_config()
    with docker_errors("Looking up the base image", config.docker_host):
        outcome, reason = find_or_pull_image(client, config.base_image)
    if outcome != "missing":
        return outcome
    logger.info("cannot pull %s (%s); bootstrapping it", config.base_image, reason)
    build_base_image(client, suite=suite)
    return "built"


def build_base_image(client: DockerClient, *, suite: str = DEFAULT_SUITE) -> str:
    """Bootstrap a minimal Debian `suite` and import it as the base image.

    Returns the image reference (the ENV_BASE_IMAGE setting).

    Raises:
        InvalidValueError: the suite or ENV_BASE_IMAGE cannot be used.
        ImageBuildError: bootstrapping failed (with the end of its output).
        DockerOperationError: the import failed.
    """
    config = load_config()
    if not _SUITE.fullmatch(suite):
        raise InvalidValueError("--suite", "a Debian suite name such as trixie", suite)
    repository, tag, digest = split_image_reference(config.base_image)
    if digest:
        raise InvalidValueError(
            "ENV_BASE_IMAGE", "a name and tag to import under, not a digest", digest
        )
    with tempfile.TemporaryDirectory(prefix="auto-tester-base-") as workdir:
        tarball = Path(workdir) / "rootfs.tar"
        _bootstrap(suite, tarball, Path(workdir), config.base_image)
        if not tarball.is_file():
            raise ImageBuildError(
                config.base_image, "bootstrapping made no file system", ""
            )
        logger.info("importing %s as %s", tarball, config.base_image)
        with docker_errors("Importing the base image", config.docker_host):
            client.api.import_image(
                src=str(tarball), repository=repository, tag=tag or "latest"
            )
    return config.base_image


def _bootstrap(suite: str, tarball: Path, workdir: Path, image: str) -> None:
    if shutil.which("mmdebstrap"):
        command = [
            "mmdebstrap",
            "--variant=minbase",
            "--format=tar",
            suite,
            str(tarball),
        ]
        _run(command, image)
    elif shutil.which("debootstrap"):
        root = workdir / "root"
        _run(["debootstrap", "--variant=minbase", suite, str(root)], image)
        _run(["tar", "-C", str(root), "-cf", str(tarball), "."], image)
    else:
        raise ImageBuildError(
            image,
            "neither mmdebstrap nor debootstrap is installed "
            "(Debian: apt-get install mmdebstrap)",
            "",
        )


def _run(command: list[str], image: str) -> None:
    logger.info("running %s", " ".join(command))
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            command,
            capture_output=True,
            text=True,
            timeout=BOOTSTRAP_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ImageBuildError(image, f"{command[0]} failed: {error}", "") from error
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).splitlines()[-15:])
        raise ImageBuildError(
            image, f"{command[0]} exited with {completed.returncode}", tail
        )
