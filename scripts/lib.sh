# Set-up shared by scripts/smoke, scripts/test and .ci/run; meant to be sourced.
#
# Each step does nothing when its work is already done, so the scripts are
# cheap to run again:
#   ensure_python_env   .venv with the project and its development tools
#   ensure_env_file     .env made from example.env on first use
#   ensure_engine       a Docker engine that answers (installs and starts
#                       Debian's docker.io when running as root and none does)
#   ensure_base_image   the Debian base image, bootstrapped locally when it
#                       cannot be pulled

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
PYTHON="$VENV/bin/python"
ENGINE_LOG="${ENGINE_LOG:-/tmp/auto-tester-dockerd.log}"
STARTED_ENGINE_PID=""

say() { printf '==> %s\n' "$*" >&2; }
# die MESSAGE [STATUS]: the statuses match the commands' (3: no engine).
die() { printf 'error: %s\n' "$1" >&2; exit "${2:-1}"; }

ensure_python_env() {
    local stamp="$VENV/.installed"
    if [ ! -x "$PYTHON" ]; then
        say "creating .venv"
        python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    fi
    # The stamp names this checkout and its dependency list: a new clone or a
    # changed pyproject.toml installs again, anything else does not.
    local wanted
    wanted="$REPO_ROOT $(sha256sum "$REPO_ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        say "installing the project and its development tools into .venv"
        "$PYTHON" -m pip install --quiet --upgrade pip
        "$PYTHON" -m pip install --quiet -e "$REPO_ROOT[dev]"
        printf '%s\n' "$wanted" > "$stamp"
    fi
}

ensure_env_file() {
    if [ ! -f "$REPO_ROOT/.env" ]; then
        say "creating .env from example.env"
        cp "$REPO_ROOT/example.env" "$REPO_ROOT/.env"
    fi
}

# Runs a short check through the app itself, so that .env and DOCKER_HOST
# count exactly as they do for the commands. Exit status: 0 yes, 1 no,
# 2 a setting is invalid (its message on stderr), 3 no engine answers.
app_check() {
    (cd "$REPO_ROOT" && "$PYTHON" - "$1" <<'PY'
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auto_tester.settings")
django.setup()

from docker.errors import DockerException, ImageNotFound

from environments.config import load_config
from environments.exceptions import DockerEngineUnavailableError, EnvironmentsError
from environments.services import get_docker_client

try:
    client = get_docker_client()
    if sys.argv[1] == "base-image":
        client.images.get(load_config().base_image)
    client.close()
except DockerEngineUnavailableError:
    sys.exit(3)
except ImageNotFound:
    sys.exit(1)
except DockerException as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)
except EnvironmentsError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)
PY
    )
}

# Starts dockerd in the background when no engine answers; sets
# STARTED_ENGINE_PID so that a caller (CI) can stop what it started.
ensure_engine() {
    local status=0
    app_check engine || status=$?
    case $status in
        0) return 0 ;;
        3) ;;
        *) exit "$status" ;;  # an invalid setting: app_check said which
    esac

    if [ -n "${DOCKER_HOST:-}" ] || grep -qs '^DOCKER_HOST=.' "$REPO_ROOT/.env"; then
        die "no Docker engine answers at the configured DOCKER_HOST; start it, or unset DOCKER_HOST to use a local engine" 3
    fi
    if [ -e /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        die "dockerd is running (pid $(cat /var/run/docker.pid)) but does not answer on its socket; see its log, or stop it and run this again" 3
    fi
    if [ "$(id -u)" != 0 ]; then
        die "no Docker engine answers; start one (sudo dockerd &, or sudo systemctl start docker), make sure you may use its socket (the docker group), and run this again" 3
    fi

    if ! command -v dockerd >/dev/null 2>&1; then
        say "installing Debian's docker.io (the Docker engine)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
    fi

    say "starting dockerd in the background (log: $ENGINE_LOG)"
    dockerd >"$ENGINE_LOG" 2>&1 &
    STARTED_ENGINE_PID=$!
    for _ in $(seq 1 120); do
        app_check engine 2>/dev/null && return 0
        kill -0 "$STARTED_ENGINE_PID" 2>/dev/null || break
        sleep 0.5
    done
    tail -n 20 "$ENGINE_LOG" >&2 || true
    die "dockerd did not come up; see $ENGINE_LOG"
}

stop_started_engine() {
    [ -n "$STARTED_ENGINE_PID" ] || return 0
    say "stopping the dockerd this script started"
    kill "$STARTED_ENGINE_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do
        kill -0 "$STARTED_ENGINE_PID" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -9 "$STARTED_ENGINE_PID" 2>/dev/null || true
}

ensure_base_image() {
    local status=0
    app_check base-image || status=$?
    case $status in
        0) return 0 ;;
        1) ;;  # missing: make it below
        *) exit "$status" ;;
    esac

    if [ "$(id -u)" = 0 ] && ! command -v mmdebstrap >/dev/null 2>&1 \
        && ! command -v debootstrap >/dev/null 2>&1; then
        say "installing mmdebstrap (to make the base image without a registry)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
    fi
    say "making the base image (pulled if a registry answers, else bootstrapped)"
    # stdout stays free for the command that follows (test_environment --json).
    (cd "$REPO_ROOT" && "$PYTHON" manage.py build_base_image --if-missing) >&2
}

setup_all() {
    ensure_python_env
    ensure_env_file
    ensure_engine
    ensure_base_image
}
