"""`manage.py build_base_image`: make the Debian base image without a registry."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from environments.config import load_config
from environments.exceptions import EnvironmentsError
from environments.management.commands._reporting import command_error
from environments.services import close_docker_client, get_docker_client
from environments.services.base_image import (
    DEFAULT_SUITE,
    build_base_image,
    ensure_base_image,
)


class Command(BaseCommand):
    help = (
        "Bootstrap a minimal Debian with mmdebstrap (or debootstrap) and import "
        "it as the base image (ENV_BASE_IMAGE), for engines that cannot pull it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--suite", default=DEFAULT_SUITE, help="Debian suite (default: %(default)s)"
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing when the base image is present or can be pulled.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client = get_docker_client()
            try:
                if options["if_missing"]:
                    outcome = ensure_base_image(client, suite=options["suite"])
                else:
                    build_base_image(client, suite=options["suite"])
                    outcome = "built"
            finally:
                close_docker_client(client)
        except EnvironmentsError as error:
            raise command_error(error) from error
        image = load_config().base_image
        self.stdout.write(self.style.SUCCESS(f"Base image {image}: {outcome}."))
