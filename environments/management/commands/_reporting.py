"""Helpers shared by the app's management commands."""

from django.core.management.base import CommandError

from environments.exceptions import (
    BaseImageMissingError,
    DockerEngineUnavailableError,
    EnvironmentsError,
    ImageBuildError,
    InvalidValueError,
)

# Exit statuses, documented in the README.
EXIT_CHECK_FAILED = 1
EXIT_INVALID_INPUT = 2
EXIT_ENGINE_UNAVAILABLE = 3
EXIT_IMAGE_FAILED = 4
EXIT_PROVISION_FAILED = 5
EXIT_INTERRUPTED = 130  # as a shell reports a process ended by Ctrl-C


def exit_status_for(error: EnvironmentsError) -> int:
    """The command's exit status for an error of the environments app."""
    if isinstance(error, InvalidValueError):
        return EXIT_INVALID_INPUT
    if isinstance(error, DockerEngineUnavailableError):
        return EXIT_ENGINE_UNAVAILABLE
    if isinstance(error, BaseImageMissingError | ImageBuildError):
        return EXIT_IMAGE_FAILED
    return EXIT_PROVISION_FAILED


def split_message(error: BaseException) -> tuple[str, str]:
    """Split an error into its first line and the details that follow."""
    headline, _, details = str(error).partition("\n")
    return headline, details


def command_error(error: EnvironmentsError) -> CommandError:
    """The one-line CommandError, with its exit status, for an app error."""
    headline, _ = split_message(error)
    return CommandError(headline, returncode=exit_status_for(error))
