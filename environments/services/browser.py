"""Driving the environment's Chromium over the DevTools protocol (Playwright).

Chromium runs inside the container; Playwright on this side only needs its
driver, not a browser of its own, because it attaches with
`connect_over_cdp`.
"""

import logging

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from environments.types import ContainerPorts

logger = logging.getLogger(__name__)

CDP_TIMEOUT = 15.0
_PROBE_HTML = "<title>auto-tester</title><p id='probe'>ready</p>"
_PROBE_SCRIPT = "() => document.getElementById('probe').textContent + ':' + 6 * 7"


def get_playwright_cdp_url(ports: ContainerPorts) -> str:
    """The DevTools endpoint to pass to Playwright's `connect_over_cdp`.

    An IP address, not `localhost`: that name may resolve to IPv6 first, where
    nothing is published.
    """
    host = f"[{ports.host}]" if ":" in ports.host else ports.host
    return f"http://{host}:{ports.playwright_cdp}"


def verify_playwright_connection(
    ports: ContainerPorts, *, timeout: float = CDP_TIMEOUT
) -> bool:
    """Connect over CDP, open a page, evaluate script in it, and close it.

    Returns False, and logs why, if any step fails.
    """
    url = get_playwright_cdp_url(ports)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.connect_over_cdp(url, timeout=timeout * 1000)
            try:
                context = (
                    browser.contexts[0] if browser.contexts else browser.new_context()
                )
                page = context.new_page()
                try:
                    page.set_default_timeout(timeout * 1000)
                    page.set_content(_PROBE_HTML)
                    answer = page.evaluate(_PROBE_SCRIPT)
                finally:
                    page.close()
            finally:
                browser.close()
    except (PlaywrightError, OSError) as error:
        # OSError: the Playwright driver itself could not be started. Only the
        # first line: Playwright appends a long call log.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else error
        logger.warning("Playwright over %s failed: %s", url, reason)
        return False
    if answer != "ready:42":
        logger.warning(
            "Playwright over %s evaluated %r, expected 'ready:42'", url, answer
        )
        return False
    return True
