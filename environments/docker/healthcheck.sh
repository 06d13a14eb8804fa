#!/bin/bash
# healthcheck.sh - Docker HEALTHCHECK: protocol-level checks of the three services from inside
# the container (a TCP connect alone proves nothing): SSH banner on 22, RFB greeting on 5900,
# and CDP GET /json/version answering with webSocketDebuggerUrl through the 9222 forwarder.
# Uses only bash's /dev/tcp and coreutils. Exit 0 only when all three pass; names the failures.

# Connect to 127.0.0.1:$1, send $2 (printf %b escapes; may be empty), read lines for up to 2 s
# and succeed as soon as one matches the glob $3. (Chromium keeps HTTP/1.1 connections open,
# so reading to EOF would wait for the timeout; it refuses HTTP/1.0 altogether.)
probe() {
    timeout 2 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        [ -n "$2" ] && printf "%b" "$2" >&3
        while IFS= read -r -t 2 line <&3; do
            [[ $line == $3 ]] && exit 0
        done
        exit 1
    ' probe "$@" 2>/dev/null
}

failed=()

probe 22 '' 'SSH-2.0-*' || failed+=(ssh)
# The RFB greeting is "RFB 003.00x\n" (12 bytes, newline-terminated, so read finds it).
probe 5900 '' 'RFB 003.00[0-9]' || failed+=(vnc)
# Through the 0.0.0.0:9222 forwarder, as a client outside the container sees it.
probe 9222 'GET /json/version HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' \
    '*"webSocketDebuggerUrl"*' || failed+=(cdp)

if [ "${#failed[@]}" -gt 0 ]; then
    echo "unhealthy: ${failed[*]}"
    exit 1
fi
echo "healthy: ssh vnc cdp"
