"""Clean-up and faults on a real engine: nothing is left behind, errors are clear."""

import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from docker import DockerClient
from pytest_django.fixtures import Settings

from environments.exceptions import (
    EnvironmentNotReadyError,
    ImageBuildError,
    InvalidValueError,
)
from environments.services import (
    build_image,
    cleanup_environments,
    list_containers,
    provision_environment,
)
from environments.services._docker import LABEL_CREATED, LABEL_NAME_SUFFIX
from environments.tests.integration.helpers import (
    TEST_PREFIX,
    containers_of_this_run,
    image_container,
    our_labels,
)


def _names(client: DockerClient) -> set[str]:
    return {info.name for info in list_containers(client)}


def test_cleanup_removes_only_environments_older_than_the_age(
    docker_client: DockerClient,
) -> None:
    old = our_labels(
        **{LABEL_CREATED: "2020-01-01T00:00:00Z", LABEL_NAME_SUFFIX: "old"}
    )
    new_created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    new = our_labels(**{LABEL_CREATED: new_created, LABEL_NAME_SUFFIX: "new"})
    with (
        image_container(
            docker_client, "sleep 600", labels=old, name=f"{TEST_PREFIX}-old"
        ),
        image_container(
            docker_client, "sleep 600", labels=new, name=f"{TEST_PREFIX}-new"
        ),
    ):
        would = cleanup_environments(
            docker_client, older_than=timedelta(hours=1), dry_run=True
        )
        after_dry_run = _names(docker_client)
        out = StringIO()
        call_command("cleanup_environments", "--older-than", "1h", stdout=out)
        after_cleanup = _names(docker_client)

    assert [info.name for info in would] == [f"{TEST_PREFIX}-old"]
    assert {f"{TEST_PREFIX}-old", f"{TEST_PREFIX}-new"} <= after_dry_run
    assert f"Removed {TEST_PREFIX}-old" in out.getvalue()
    assert f"{TEST_PREFIX}-old" not in after_cleanup
    assert f"{TEST_PREFIX}-new" in after_cleanup


def test_readiness_timeout_removes_the_container(docker_client: DockerClient) -> None:
    with pytest.raises(EnvironmentNotReadyError) as caught:
        provision_environment(docker_client, "too-slow", timeout=0.05)

    assert caught.value.not_ready
    assert f"{TEST_PREFIX}-too-slow" not in _names(docker_client)


def test_interrupt_during_provisioning_removes_the_container(
    docker_client: DockerClient,
) -> None:
    with (
        mock.patch(
            "environments.services.orchestration.wait_for_container_ready",
            side_effect=KeyboardInterrupt,
        ),
        pytest.raises(KeyboardInterrupt),
    ):
        provision_environment(docker_client, "interrupted")

    assert f"{TEST_PREFIX}-interrupted" not in _names(docker_client)
    assert not docker_client.containers.list(
        all=True, ignore_removed=True, filters={"name": f"{TEST_PREFIX}-interrupted"}
    )


def test_image_build_failure_carries_apt_message(
    docker_client: DockerClient, settings: Settings, tmp_path: Path
) -> None:
    settings.ENV_IMAGE_NAME = "auto-tester-broken"
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n"
        "RUN apt-get install -y no-such-package-auto-tester\n"
    )

    with pytest.raises(ImageBuildError) as caught:
        build_image(docker_client, context_dir=tmp_path)

    assert (
        "Unable to locate package no-such-package-auto-tester" in caught.value.log_tail
    )
    assert "no-such-package-auto-tester" in str(caught.value)
    assert not docker_client.images.list(name="auto-tester-broken")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("ENV_HEALTH_CHECK_TIMEOUT", "soon"),
        ("ENV_HEALTH_CHECK_TIMEOUT", "-5"),
        ("ENV_HEALTH_CHECK_INTERVAL", "0"),
        ("ENV_BIND_ADDRESS", "my-laptop"),
        ("ENV_SHM_SIZE", "lots"),
    ],
)
def test_bad_setting_fails_before_anything_is_created(
    docker_client: DockerClient, settings: Settings, setting: str, value: str
) -> None:
    setattr(settings, setting, value)
    before = containers_of_this_run(docker_client)

    with pytest.raises(InvalidValueError) as caught:
        provision_environment(docker_client, "bad-setting")

    assert setting in str(caught.value)
    assert "expected" in str(caught.value)
    assert containers_of_this_run(docker_client) == before


@pytest.mark.parametrize("suffix", ["has space", "a/b", "x" * 200, ""])
def test_bad_name_suffix_fails_before_anything_is_created(
    docker_client: DockerClient, suffix: str
) -> None:
    before = containers_of_this_run(docker_client)

    with pytest.raises(InvalidValueError, match="name_suffix"):
        provision_environment(docker_client, suffix)

    assert containers_of_this_run(docker_client) == before
