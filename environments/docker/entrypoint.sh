#!/bin/bash
# entrypoint.sh - container entrypoint: applies the per-container credentials (SSH user/password,
# VNC password), clears state a previous run left behind, then execs supervisord as PID 1.
#
# Credentials come from /run/auto-tester/credentials (copied in before start; lines
# SSH_USER=..., SSH_PASSWORD=..., VNC_PASSWORD=..., value = rest of line), which is deleted once
# read; failing that from the environment (SSH_USER, SSH_PASSWORD, VNC_PASSWORD, for a manual
# `docker run -e`). On a restart without either, the passwords applied earlier stay in effect.
# No password is ever printed.
set -euo pipefail

CRED_FILE=/run/auto-tester/credentials
STATE_DIR=/var/lib/auto-tester
VNC_PASSWD_FILE=/etc/auto-tester/vncpasswd
SUPERVISOR_SOCK=/run/supervisor.sock

die() {
    echo "auto-tester entrypoint: $*" >&2
    exit 1
}

ssh_user='' ssh_pw='' vnc_pw='' have_source=0
if [ -f "$CRED_FILE" ]; then
    have_source=1
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        case $line in
            SSH_USER=*) ssh_user=${line#SSH_USER=} ;;
            SSH_PASSWORD=*) ssh_pw=${line#SSH_PASSWORD=} ;;
            VNC_PASSWORD=*) vnc_pw=${line#VNC_PASSWORD=} ;;
        esac
    done < "$CRED_FILE"
    rm -f "$CRED_FILE"
elif [ -n "${SSH_PASSWORD:-}" ] || [ -n "${VNC_PASSWORD:-}" ]; then
    have_source=1
    ssh_user=${SSH_USER:-}
    ssh_pw=${SSH_PASSWORD:-}
    vnc_pw=${VNC_PASSWORD:-}
fi
# Keep the passwords out of the environment every supervised program inherits.
unset SSH_PASSWORD VNC_PASSWORD

# Previous run's hand-over files between this script and bin/start-sshd (see below).
rm -f "$STATE_DIR/ssh-pending" "$STATE_DIR/ssh-failed"

if [ "$have_source" = 1 ]; then
    [ -n "$ssh_pw" ] || die "credentials given without SSH_PASSWORD"
    [ -n "$vnc_pw" ] || die "credentials given without VNC_PASSWORD"
    ssh_user=${ssh_user:-root}
    [[ $ssh_user =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "SSH_USER is not a valid user name"
    # Taking over a system account (nobody, sshd, ...) would break it, and its shell
    # refuses logins anyway.
    if uid=$(id -u "$ssh_user" 2>/dev/null) && [ "$uid" != 0 ] && [ "$uid" -lt 1000 ]; then
        die "SSH_USER $ssh_user is a system account; choose root or a new user name"
    fi

    # Classic VNC authentication only uses the first 8 characters; VNC clients truncate too.
    if [ "${#vnc_pw}" -gt 8 ]; then
        echo "auto-tester entrypoint: VNC_PASSWORD is longer than 8 characters; only the first 8 are used" >&2
    fi
    umask 077
    # printf is a bash builtin: a password never appears in a process's arguments.
    printf '%s\n' "${vnc_pw:0:8}" | vncpasswd -f > "$VNC_PASSWD_FILE.new" \
        || die "could not write the VNC password file"
    mv -f "$VNC_PASSWD_FILE.new" "$VNC_PASSWD_FILE"
    umask 022

    # chpasswd hashes with yescrypt (~0.1 s), so the SSH account is set up in the background
    # while supervisord starts; bin/start-sshd waits until ssh-pending is gone and refuses to
    # start sshd if ssh-failed exists, so no login is ever offered with an old password.
    : > "$STATE_DIR/ssh-pending"
    (
        if ! id -u "$ssh_user" >/dev/null 2>&1 \
                && ! useradd --create-home --shell /bin/bash "$ssh_user"; then
            echo "auto-tester entrypoint: could not create user $ssh_user" >&2
            : > "$STATE_DIR/ssh-failed"
        elif ! printf '%s:%s\n' "$ssh_user" "$ssh_pw" | chpasswd; then
            echo "auto-tester entrypoint: could not set the password of $ssh_user" >&2
            : > "$STATE_DIR/ssh-failed"
        else
            printf '%s\n' "$ssh_user" > "$STATE_DIR/ssh-user"
        fi
        rm -f "$STATE_DIR/ssh-pending"
    ) </dev/null &
    ssh_pw='' vnc_pw=''
elif [ ! -s "$STATE_DIR/ssh-user" ] || [ ! -s "$VNC_PASSWD_FILE" ]; then
    die "no credentials: copy $CRED_FILE into the container before start, or set SSH_PASSWORD and VNC_PASSWORD"
fi

# Per-container identity for D-Bus and Chromium (the image ships none).
if [ ! -s /etc/machine-id ]; then
    dbus-uuidgen > /etc/machine-id
fi

# Leftovers of a previous run (docker restart): the programs' start scripts wait for these
# sockets to appear, so stale ones would make them start too early.
rm -f /tmp/.X0-lock /tmp/.X11-unix/X0 /run/user/0/bus "$SUPERVISOR_SOCK" /run/supervisord.pid

# supervisord spawns its programs in the first transition of its main loop, which comes only
# after the loop's first poll() returns - and that poll waits up to 1 s. The poll also watches
# the supervisorctl socket, so one connection to it makes the poll return at once and all
# programs start ~1 s earlier. This helper waits (20 ms polls) for the socket to appear, then
# connects once and leaves. It runs only at container start; later restarts of crashed programs
# do not need it (a child's exit or output wakes the loop).
(
    for _ in $(seq 500); do
        if [ -S "$SUPERVISOR_SOCK" ]; then
            exec socat -u OPEN:/dev/null UNIX-CONNECT:"$SUPERVISOR_SOCK" 2>/dev/null
        fi
        sleep 0.02
    done
) </dev/null >/dev/null 2>&1 &

exec /usr/bin/supervisord -n -c /etc/supervisor/supervisord.conf
