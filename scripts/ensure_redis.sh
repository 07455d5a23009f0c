#!/usr/bin/env bash
# Makes sure a Redis server answers on 127.0.0.1:6379, installing and starting one if needed.
set -euo pipefail
answers() { python3 - <<'PY'
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
        s.sendall(b"PING\r\n")
        sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}
answers && exit 0
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
        echo "Redis is not running on 127.0.0.1:6379 and redis-server is not installed." >&2
        echo "Install it (e.g. 'sudo apt-get install redis-server') and run this again." >&2
        exit 1
    fi
fi
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
for _ in $(seq 1 50); do
    answers && exit 0
    python3 -c 'import time; time.sleep(0.1)'
done
echo "redis-server did not start on 127.0.0.1:6379" >&2
exit 1
