"""Unit tests for environments.config: reading and checking the settings."""

import pytest
from pytest_django import Settings

from environments.config import (
    MAX_CONTAINER_NAME,
    load_config,
    parse_seconds,
    validate_name_suffix,
)
from environments.exceptions import InvalidValueError

ANY_IPV4 = "0.0.0.0"  # noqa: S104 - a setting's value; nothing binds here


def test_defaults_load_into_typed_values() -> None:
    config = load_config()

    assert config.image_ref == "auto-tester-env:latest"
    assert config.health_check_timeout == 60.0
    assert config.health_check_interval == 2.0
    assert config.pids_limit == 2048
    assert config.bind_address == "127.0.0.1"


@pytest.mark.parametrize(
    "setting", ["ENV_HEALTH_CHECK_TIMEOUT", "ENV_HEALTH_CHECK_INTERVAL"]
)
@pytest.mark.parametrize("raw", ["abc", "-5", "0", "", "nan", "inf"])
def test_timeout_and_interval_reject_values_that_are_not_positive_numbers(
    settings: Settings, setting: str, raw: str
) -> None:
    setattr(settings, setting, raw)

    with pytest.raises(InvalidValueError) as caught:
        load_config()

    assert caught.value.name == setting
    assert setting in str(caught.value)


def test_fractional_seconds_are_accepted(settings: Settings) -> None:
    settings.ENV_HEALTH_CHECK_INTERVAL = " 0.5 "

    assert load_config().health_check_interval == 0.5


@pytest.mark.parametrize("raw", ["localhost", "127.0.0.256", "0.0.0.0/0", ""])
def test_bind_address_must_be_an_ip_address(settings: Settings, raw: str) -> None:
    settings.ENV_BIND_ADDRESS = raw

    with pytest.raises(InvalidValueError, match="ENV_BIND_ADDRESS"):
        load_config()


@pytest.mark.parametrize(
    ("setting", "raw"),
    [
        ("ENV_SHM_SIZE", "lots"),
        ("ENV_SHM_SIZE", "0"),
        ("ENV_SHM_SIZE", "1.5g"),
        ("ENV_SHM_SIZE", "512mb"),
        ("ENV_MEMORY_LIMIT", "-1g"),
        ("ENV_MEMORY_LIMIT", "512"),
        ("ENV_SHM_SIZE", "1"),
        ("ENV_SHM_SIZE", "32m"),
        ("ENV_MEMORY_LIMIT", "2 gigabytes"),
        ("ENV_PIDS_LIMIT", "0"),
        ("ENV_PIDS_LIMIT", "-1"),
        ("ENV_PIDS_LIMIT", "many"),
        ("ENV_PIDS_LIMIT", "1.5"),
    ],
)
def test_resource_limits_reject_malformed_values(
    settings: Settings, setting: str, raw: str
) -> None:
    setattr(settings, setting, raw)

    with pytest.raises(InvalidValueError) as caught:
        load_config()

    assert caught.value.name == setting


def test_pids_limit_with_a_non_ascii_digit_is_an_invalid_value(
    settings: Settings,
) -> None:
    settings.ENV_PIDS_LIMIT = "²"

    with pytest.raises(InvalidValueError, match="ENV_PIDS_LIMIT"):
        load_config()


@pytest.mark.parametrize("raw", ["none", "NONE", "0", ""])
def test_memory_limit_can_be_switched_off(settings: Settings, raw: str) -> None:
    settings.ENV_MEMORY_LIMIT = raw

    assert load_config().memory_limit == ""


def test_vnc_password_longer_than_eight_is_rejected_without_showing_it(
    settings: Settings,
) -> None:
    settings.ENV_VNC_PASSWORD = "Secret-Nine"

    with pytest.raises(InvalidValueError) as caught:
        load_config()

    assert caught.value.name == "ENV_VNC_PASSWORD"
    assert "Secret-Nine" not in str(caught.value)
    assert caught.value.value is None


def test_vnc_password_of_eight_characters_is_accepted(settings: Settings) -> None:
    settings.ENV_VNC_PASSWORD = "12345678"

    assert load_config().vnc_password == "12345678"


def test_password_with_a_line_break_is_rejected_without_showing_it(
    settings: Settings,
) -> None:
    settings.ENV_SSH_PASSWORD = "top\nsecret"

    with pytest.raises(InvalidValueError) as caught:
        load_config()

    assert caught.value.name == "ENV_SSH_PASSWORD"
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "raw"),
    [
        ("ENV_CONTAINER_PREFIX", "-leading-dash"),
        ("ENV_CONTAINER_PREFIX", "x" * (MAX_CONTAINER_NAME - 1)),
        ("ENV_IMAGE_NAME", "Upper/Case"),
        ("ENV_IMAGE_TAG", "bad tag"),
        ("ENV_BASE_IMAGE", "debian:bad tag"),
        ("ENV_SSH_USER", "Root"),
    ],
)
def test_names_docker_or_unix_would_refuse_are_rejected(
    settings: Settings, setting: str, raw: str
) -> None:
    setattr(settings, setting, raw)

    with pytest.raises(InvalidValueError) as caught:
        load_config()

    assert caught.value.name == setting


@pytest.mark.parametrize(
    "suffix", ["with space", "a/b", "x" * 200, "", "-dash-first", "semi;colon"]
)
def test_invalid_name_suffix_is_rejected_naming_name_suffix(suffix: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        validate_name_suffix(suffix, "auto-tester-env")

    assert caught.value.name == "name_suffix"
    assert str(caught.value).startswith("name_suffix")


def test_overlong_suffix_is_shortened_in_the_error() -> None:
    with pytest.raises(InvalidValueError) as caught:
        validate_name_suffix("x" * 200, "auto-tester-env")

    assert "x" * 81 not in str(caught.value)
    assert "..." in str(caught.value)


def test_suffix_at_the_length_limit_is_accepted() -> None:
    prefix = "auto-tester-env"
    suffix = "s" * (MAX_CONTAINER_NAME - len(prefix) - 1)

    name = validate_name_suffix(suffix, prefix)

    assert len(name) == MAX_CONTAINER_NAME


def test_valid_suffix_gives_prefix_dash_suffix() -> None:
    assert validate_name_suffix("run_1.a-b", "auto-tester-env") == (
        "auto-tester-env-run_1.a-b"
    )


def test_suffix_with_a_trailing_newline_is_rejected() -> None:
    with pytest.raises(InvalidValueError):
        validate_name_suffix("abc\n", "auto-tester-env")


def test_connect_host_for_an_unspecified_ipv4_bind_address_is_loopback(
    settings: Settings,
) -> None:
    settings.ENV_BIND_ADDRESS = ANY_IPV4

    assert load_config().connect_host == "127.0.0.1"


def test_connect_host_for_an_unspecified_ipv6_bind_address_is_ipv6_loopback(
    settings: Settings,
) -> None:
    settings.ENV_BIND_ADDRESS = "::"

    assert load_config().connect_host == "::1"


def test_connect_host_for_a_specific_address_is_that_address(
    settings: Settings,
) -> None:
    settings.ENV_BIND_ADDRESS = "192.0.2.10"

    assert load_config().connect_host == "192.0.2.10"


@pytest.mark.parametrize(("raw", "expected"), [("0", 0.0), (" 2.5 ", 2.5), (3, 3.0)])
def test_parse_seconds_allows_zero_only_when_asked(
    raw: object, expected: float
) -> None:
    assert parse_seconds("wait", raw, allow_zero=True) == expected


def test_parse_seconds_rejects_zero_by_default_naming_the_argument() -> None:
    with pytest.raises(InvalidValueError, match=r"^--timeout"):
        parse_seconds("--timeout", "0")


def test_an_unknown_log_level_is_named(settings: Settings) -> None:
    settings.ENV_LOG_LEVEL = "LOUD"

    with pytest.raises(InvalidValueError, match="ENV_LOG_LEVEL"):
        load_config()


@pytest.mark.parametrize("password", ["pässwö", "пароль", "tab\there"])
def test_a_vnc_password_must_be_printable_ascii(
    settings: Settings, password: str
) -> None:
    settings.ENV_VNC_PASSWORD = password

    with pytest.raises(InvalidValueError, match=r"ASCII|control") as caught:
        load_config()

    assert password not in str(caught.value)


@pytest.mark.parametrize(
    "reference",
    [
        "localhost:5000/debian:trixie-slim",
        "registry.example:5000/library/debian",
        "debian@sha256:" + "a" * 64,
        "debian:trixie-slim",
    ],
)
def test_base_image_accepts_registry_ports_and_digests(
    settings: Settings, reference: str
) -> None:
    settings.ENV_BASE_IMAGE = reference

    assert load_config().base_image == reference


def test_image_name_may_name_a_registry_with_a_port(settings: Settings) -> None:
    settings.ENV_IMAGE_NAME = "localhost:5000/auto-tester-env"

    assert load_config().image_ref == "localhost:5000/auto-tester-env:latest"
