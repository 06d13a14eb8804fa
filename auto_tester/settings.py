"""Django settings for auto_tester.

Every value comes from the environment or from a `.env` file beside
`manage.py`, read through python-decouple; `example.env` documents each one.
The `ENV_*` values are kept as the strings the user wrote: the environments
app validates them when it uses them (`environments.config`), so that a bad
value produces one clear error naming the setting instead of a traceback at
import time.
"""

from pathlib import Path

from decouple import AutoConfig

BASE_DIR = Path(__file__).resolve().parent.parent

config = AutoConfig(search_path=str(BASE_DIR))


def setting(name: str, default: str) -> str:
    """Read a setting as text; an empty value means the default."""
    value = str(config(name, default=default)).strip()
    return value or default


# The project has no web front end and no user data; the key only satisfies
# Django's start-up checks and may be replaced through the environment.
SECRET_KEY = config("DJANGO_SECRET_KEY", default="auto-tester-environments-local")
# Lenient on purpose: a typo here must not stop every command with a traceback.
DEBUG = setting("DJANGO_DEBUG", "false").lower() in ("1", "true", "yes", "on")
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "environments",
]

ROOT_URLCONF = "auto_tester.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The app keeps no records (Docker is the record of what exists), so an
# in-memory database is enough for Django itself and for the test runner.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
    }
}

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# An unknown level must not crash start-up with a traceback: logging uses
# WARNING, and environments.config reports the setting as invalid.
ENV_LOG_LEVEL = setting("ENV_LOG_LEVEL", "WARNING").upper()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "environments": {
            "handlers": ["console"],
            "level": ENV_LOG_LEVEL if ENV_LOG_LEVEL in LOG_LEVELS else "WARNING",
        },
        # paramiko logs each failed connection with a traceback; the services
        # translate those failures into errors of their own.
        "paramiko": {"level": "CRITICAL"},
    },
}

# --- environments app -----------------------------------------------------
# Empty means "not set": docker-py then uses its own defaults (the local
# engine's socket).
DOCKER_HOST = setting("DOCKER_HOST", "")

ENV_IMAGE_NAME = setting("ENV_IMAGE_NAME", "auto-tester-env")
ENV_IMAGE_TAG = setting("ENV_IMAGE_TAG", "latest")
ENV_BASE_IMAGE = setting("ENV_BASE_IMAGE", "debian:trixie-slim")
ENV_CONTAINER_PREFIX = setting("ENV_CONTAINER_PREFIX", "auto-tester-env")
ENV_BIND_ADDRESS = setting("ENV_BIND_ADDRESS", "127.0.0.1")

ENV_SSH_USER = setting("ENV_SSH_USER", "root")
# Empty passwords mean: generate random ones for every environment.
ENV_SSH_PASSWORD = setting("ENV_SSH_PASSWORD", "")
ENV_VNC_PASSWORD = setting("ENV_VNC_PASSWORD", "")

ENV_HEALTH_CHECK_TIMEOUT = setting("ENV_HEALTH_CHECK_TIMEOUT", "60")
ENV_HEALTH_CHECK_INTERVAL = setting("ENV_HEALTH_CHECK_INTERVAL", "2")

ENV_SHM_SIZE = setting("ENV_SHM_SIZE", "1g")
ENV_MEMORY_LIMIT = setting("ENV_MEMORY_LIMIT", "2g")
ENV_PIDS_LIMIT = setting("ENV_PIDS_LIMIT", "2048")
