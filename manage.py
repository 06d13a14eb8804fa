#!/usr/bin/env python
"""Django's command-line utility for the auto_tester project."""

import os
import sys


def main() -> None:
    """Run a management command."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auto_tester.settings")
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except KeyboardInterrupt:
        # Ctrl-C while Django itself starts: nothing was created yet.
        sys.stderr.write("Interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
