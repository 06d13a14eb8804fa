"""`manage.py cleanup_environments`: remove environments left behind.

Acts only on containers carrying this app's labels and prefix. Without
--older-than it removes all of them, in use or not; from cron, give an age
longer than any test run. Exit statuses as in `_reporting`.
"""

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from environments.exceptions import EnvironmentsError, InvalidValueError
from environments.management.commands._reporting import command_error
from environments.services import (
    cleanup_environments,
    close_docker_client,
    get_docker_client,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """Read a duration such as 90, 90s, 30m, 2h or 1d."""
    match = _DURATION.match(text or "")
    if match is None:
        raise InvalidValueError(
            "--older-than", "a duration such as 90s, 30m, 2h or 1d", text
        )
    amount, unit = match.groups()
    try:
        return timedelta(seconds=float(amount) * _UNIT_SECONDS[unit])
    except OverflowError:
        raise InvalidValueError(
            "--older-than", "a duration of at most 999999999 days", text
        ) from None


class Command(BaseCommand):
    help = (
        "Remove this app's environment containers, all of them or those older "
        "than --older-than. Containers without our labels are never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            default=None,
            metavar="DURATION",
            help="Only environments created longer ago than this (90s, 30m, 2h, 1d).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = bool(options["dry_run"])
        try:
            older_than = (
                None
                if options["older_than"] is None
                else parse_duration(options["older_than"])
            )
            client = get_docker_client()
            try:
                selected = cleanup_environments(
                    client, older_than=older_than, dry_run=dry_run
                )
            finally:
                close_docker_client(client)
        except EnvironmentsError as error:
            raise command_error(error) from error

        verb = "Would remove" if dry_run else "Removed"
        for info in selected:
            created = info.created_at or "unknown time"
            self.stdout.write(
                f"{verb} {info.name} ({info.container_id[:12]}, created {created})"
            )
        self.stdout.write(f"{verb} {len(selected)} environment(s).")
