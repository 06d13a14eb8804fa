"""Unit tests for environments.services.images and base_image."""

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from docker.errors import APIError, ImageNotFound

from environments.exceptions import (
    BaseImageMissingError,
    ImageBuildError,
    InvalidValueError,
)
from environments.services import base_image, images
from environments.services._docker import LABEL_CONTEXT_DIGEST
from environments.services.images import (
    DOCKER_CONTEXT,
    build_image,
    context_digest,
    ensure_image,
    image_exists,
)

IMAGE = "auto-tester-env:latest"
BASE = "debian:trixie-slim"
WHICH = "environments.services.base_image.shutil.which"
RUN = "environments.services.base_image.subprocess.run"


def image_with_digest(digest: str | None) -> mock.Mock:
    labels = {} if digest is None else {LABEL_CONTEXT_DIGEST: digest}
    return mock.Mock(labels=labels)


@pytest.fixture
def build_spy() -> Iterator[mock.Mock]:
    with mock.patch.object(images, "build_image", return_value="sha256:new") as spy:
        yield spy


def test_image_exists_when_the_engine_has_it() -> None:
    client = mock.Mock()

    assert image_exists(client) is True
    client.images.get.assert_called_once_with(IMAGE)


def test_image_does_not_exist_when_the_engine_says_not_found() -> None:
    client = mock.Mock()
    client.images.get.side_effect = ImageNotFound("no such image")

    assert image_exists(client) is False


def test_ensure_image_keeps_a_present_image_whose_digest_matches(
    build_spy: mock.Mock,
) -> None:
    client = mock.Mock()
    client.images.get.return_value = image_with_digest(context_digest(DOCKER_CONTEXT))

    assert ensure_image(client) == IMAGE
    build_spy.assert_not_called()


def test_ensure_image_builds_a_missing_image(build_spy: mock.Mock) -> None:
    client = mock.Mock()
    client.images.get.side_effect = ImageNotFound("no such image")

    assert ensure_image(client) == IMAGE
    build_spy.assert_called_once_with(client)


@pytest.mark.parametrize("digest", ["0000000000000000", None])
def test_ensure_image_rebuilds_when_the_digest_label_differs(
    build_spy: mock.Mock, digest: str | None
) -> None:
    client = mock.Mock()
    client.images.get.return_value = image_with_digest(digest)

    ensure_image(client)

    build_spy.assert_called_once_with(client)


def test_ensure_image_rebuilds_on_request_without_looking(build_spy: mock.Mock) -> None:
    client = mock.Mock()
    client.images.get.return_value = image_with_digest(context_digest(DOCKER_CONTEXT))

    ensure_image(client, rebuild=True)

    build_spy.assert_called_once_with(client)
    client.images.get.assert_not_called()


def build_stream(*chunks: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from chunks


def test_build_image_returns_the_id_and_labels_the_digest(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:trixie-slim\n")
    client = mock.Mock()
    client.api.build.return_value = build_stream(
        {"stream": "Step 1/1 : FROM debian\n"}, {"aux": {"ID": "sha256:abc"}}
    )

    image_id = build_image(client, context_dir=tmp_path)

    assert image_id == "sha256:abc"
    kwargs = client.api.build.call_args.kwargs
    assert kwargs["path"] == str(tmp_path)
    assert kwargs["tag"] == IMAGE
    assert kwargs["buildargs"] == {"BASE_IMAGE": BASE}
    assert kwargs["labels"] == {LABEL_CONTEXT_DIGEST: context_digest(tmp_path)}


def test_build_error_carries_the_tail_of_the_build_output(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:trixie-slim\n")
    lines = [{"stream": f"line {n}\n"} for n in range(40)]
    client = mock.Mock()
    client.api.build.return_value = build_stream(
        *lines, {"error": "E: Unable to locate package chromium\n"}
    )

    with pytest.raises(ImageBuildError) as caught:
        build_image(client, context_dir=tmp_path)

    assert caught.value.reason == "E: Unable to locate package chromium"
    tail = caught.value.log_tail.splitlines()
    assert tail[-1] == "line 39"
    assert "line 0" not in tail
    assert len(tail) == images.BUILD_LOG_TAIL_LINES


def test_a_build_without_an_image_id_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:trixie-slim\n")
    client = mock.Mock()
    client.api.build.return_value = build_stream({"stream": "done\n"})

    with pytest.raises(ImageBuildError, match="no image id"):
        build_image(client, context_dir=tmp_path)


def test_missing_base_image_is_pulled_before_building(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:trixie-slim\n")
    client = mock.Mock()
    client.images.get.side_effect = ImageNotFound("missing")
    client.api.build.return_value = build_stream({"aux": {"ID": "sha256:abc"}})

    build_image(client, context_dir=tmp_path)

    client.images.pull.assert_called_once_with(BASE)


def test_base_image_missing_and_not_pullable_says_how_to_make_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:trixie-slim\n")
    client = mock.Mock()
    client.images.get.side_effect = ImageNotFound("missing")
    client.images.pull.side_effect = APIError(
        "500 Server Error: Get https://registry.invalid/v2/: dial tcp: lookup"
    )

    with pytest.raises(BaseImageMissingError) as caught:
        build_image(client, context_dir=tmp_path)

    assert "python manage.py build_base_image" in str(caught.value)
    assert caught.value.base_image == BASE
    client.api.build.assert_not_called()


def test_context_digest_changes_when_a_file_changes(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "start").write_text("#!/bin/sh\n")
    before = context_digest(tmp_path)

    (tmp_path / "bin" / "start").write_text("#!/bin/sh\nexit 1\n")

    assert context_digest(tmp_path) != before


def test_context_digest_changes_when_a_mode_changes(tmp_path: Path) -> None:
    script = tmp_path / "start"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    before = context_digest(tmp_path)

    script.chmod(0o755)

    assert context_digest(tmp_path) != before


def test_context_digest_ignores_python_caches(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian\n")
    before = context_digest(tmp_path)

    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"\0")

    assert context_digest(tmp_path) == before


def bootstrap_writing_the_tarball(
    command: list[str], **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Stand-in for mmdebstrap: writes the tarball it is asked for."""
    Path(command[-1]).write_bytes(b"root file system")
    return subprocess.CompletedProcess(command, 0, "", "")


def test_a_bootstrap_that_makes_no_tarball_is_an_error() -> None:
    finished = subprocess.CompletedProcess([], 0, "", "")

    with (
        mock.patch(WHICH, return_value="/usr/bin/x"),
        mock.patch(RUN, return_value=finished),
        pytest.raises(ImageBuildError, match="no file system"),
    ):
        base_image.build_base_image(mock.Mock())


def test_an_invalid_suite_is_rejected_before_bootstrapping() -> None:
    with mock.patch(RUN) as run, pytest.raises(InvalidValueError, match="--suite"):
        base_image.build_base_image(mock.Mock(), suite="--version")

    run.assert_not_called()


def test_base_image_needs_a_bootstrap_tool() -> None:
    with (
        mock.patch(WHICH, return_value=None),
        pytest.raises(ImageBuildError, match="mmdebstrap nor debootstrap"),
    ):
        base_image.build_base_image(mock.Mock())


def test_base_image_is_bootstrapped_with_mmdebstrap_and_imported() -> None:
    client = mock.Mock()
    with (
        mock.patch(WHICH, return_value="/usr/bin/x"),
        mock.patch(RUN, side_effect=bootstrap_writing_the_tarball) as run,
    ):
        assert base_image.build_base_image(client, suite="trixie") == BASE

    command = run.call_args.args[0]
    assert command[0] == "mmdebstrap"
    assert "trixie" in command
    kwargs = client.api.import_image.call_args.kwargs
    assert (kwargs["repository"], kwargs["tag"]) == ("debian", "trixie-slim")


def test_a_failing_bootstrap_reports_the_end_of_its_output() -> None:
    stderr = "\n".join(f"E: problem {n}" for n in range(30))
    failed = subprocess.CompletedProcess([], 1, "", stderr)

    with (
        mock.patch(WHICH, return_value="/usr/bin/x"),
        mock.patch(RUN, return_value=failed),
        pytest.raises(ImageBuildError) as caught,
    ):
        base_image.build_base_image(mock.Mock())

    assert "exited with 1" in str(caught.value)
    assert "E: problem 29" in str(caught.value)
    assert "E: problem 0\n" not in str(caught.value)


def test_ensure_base_image_leaves_a_present_image_alone() -> None:
    client = mock.Mock()

    with mock.patch(WHICH) as which:
        assert base_image.ensure_base_image(client) == "present"

    client.images.pull.assert_not_called()
    which.assert_not_called()


def test_ensure_base_image_pulls_when_it_can() -> None:
    client = mock.Mock()
    client.images.get.side_effect = ImageNotFound("missing")

    assert base_image.ensure_base_image(client) == "pulled"
    client.images.pull.assert_called_once_with(BASE)


def test_ensure_base_image_bootstraps_when_the_pull_fails() -> None:
    client = mock.Mock()
    client.images.get.side_effect = ImageNotFound("missing")
    client.images.pull.side_effect = APIError("registry unreachable")
    with (
        mock.patch(WHICH, return_value="/usr/bin/x"),
        mock.patch(RUN, side_effect=bootstrap_writing_the_tarball),
    ):
        assert base_image.ensure_base_image(client) == "built"

    client.api.import_image.assert_called_once()
