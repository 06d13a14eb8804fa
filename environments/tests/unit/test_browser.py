"""Unit tests for environments.services.browser with Playwright replaced."""

import logging
from collections.abc import Iterator
from unittest import mock

import pytest
from playwright.sync_api import Error as PlaywrightError

from environments.services.browser import (
    get_playwright_cdp_url,
    verify_playwright_connection,
)
from environments.types import ContainerPorts

PORTS = ContainerPorts(ssh=40022, vnc=45900, playwright_cdp=49222, host="127.0.0.1")


@pytest.fixture
def playwright() -> Iterator[mock.MagicMock]:
    """The object `with sync_playwright() as playwright` gives."""
    with mock.patch("environments.services.browser.sync_playwright") as factory:
        yield factory.return_value.__enter__.return_value


def browser_of(playwright: mock.MagicMock) -> mock.MagicMock:
    browser: mock.MagicMock = playwright.chromium.connect_over_cdp.return_value
    return browser


def page_of(playwright: mock.MagicMock) -> mock.MagicMock:
    page: mock.MagicMock = browser_of(playwright).contexts[0].new_page.return_value
    return page


def test_cdp_url_uses_the_ports_host_and_cdp_port() -> None:
    assert get_playwright_cdp_url(PORTS) == "http://127.0.0.1:49222"


def test_cdp_url_never_uses_localhost() -> None:
    ports = ContainerPorts(ssh=1, vnc=2, playwright_cdp=3, host="192.0.2.7")

    url = get_playwright_cdp_url(ports)

    assert url == "http://192.0.2.7:3"
    assert "localhost" not in url


def test_cdp_url_brackets_an_ipv6_host() -> None:
    ports = ContainerPorts(ssh=1, vnc=2, playwright_cdp=3, host="::1")

    assert get_playwright_cdp_url(ports) == "http://[::1]:3"


def test_verification_passes_when_the_page_evaluates_to_ready_42(
    playwright: mock.MagicMock,
) -> None:
    page_of(playwright).evaluate.return_value = "ready:42"

    assert verify_playwright_connection(PORTS, timeout=3) is True

    connect = playwright.chromium.connect_over_cdp
    connect.assert_called_once_with("http://127.0.0.1:49222", timeout=3000)
    page_of(playwright).close.assert_called_once_with()
    browser_of(playwright).close.assert_called_once_with()


def test_verification_opens_a_context_when_the_browser_has_none(
    playwright: mock.MagicMock,
) -> None:
    browser = browser_of(playwright)
    browser.contexts = []
    browser.new_context.return_value.new_page.return_value.evaluate.return_value = (
        "ready:42"
    )

    assert verify_playwright_connection(PORTS) is True
    browser.new_context.assert_called_once_with()


def test_an_unexpected_answer_fails_verification(
    playwright: mock.MagicMock, caplog: pytest.LogCaptureFixture
) -> None:
    page_of(playwright).evaluate.return_value = "ready:41"

    assert verify_playwright_connection(PORTS) is False
    assert "ready:41" in caplog.text


def test_a_playwright_error_fails_verification_and_is_logged(
    playwright: mock.MagicMock, caplog: pytest.LogCaptureFixture
) -> None:
    playwright.chromium.connect_over_cdp.side_effect = PlaywrightError(
        "connect ECONNREFUSED 127.0.0.1:49222"
    )

    with caplog.at_level(logging.WARNING, logger="environments"):
        assert verify_playwright_connection(PORTS) is False

    assert "ECONNREFUSED" in caplog.text
    assert "http://127.0.0.1:49222" in caplog.text


def test_the_browser_is_closed_when_the_page_fails(
    playwright: mock.MagicMock,
) -> None:
    page_of(playwright).set_content.side_effect = PlaywrightError("Target closed")

    assert verify_playwright_connection(PORTS) is False
    page_of(playwright).close.assert_called_once_with()
    browser_of(playwright).close.assert_called_once_with()
