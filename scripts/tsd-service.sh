#!/usr/bin/env bash
# tsd as a service on a machine without an init system to hand it to (this
# one has no systemd): started in the background on dockerd's default places
# — socket /run/tsd.sock, data root /var/lib/tsrun, exec root /run/tsd,
# pidfile /run/tsd.pid —, its JSON log in /var/log/tsd.log. Containers and
# their shims outlive `stop` as they outlive a tsd restart.
#   scripts/tsd-service.sh start|stop|status
# Extra tsd flags for start come from $TSD_FLAGS (e.g. --registry-mirror URL).
set -euo pipefail
cd "$(dirname "$0")/.."
pidfile=/run/tsd.pid
socket=/run/tsd.sock
log=/var/log/tsd.log

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "${1:-}" in
  start)
    if running; then echo "tsd is already running (pid $(cat "$pidfile"), unix://$socket)"; exit 0; fi
    [ -f dist/supervisor/main.js ] || npm run build --silent
    # setsid: the daemon leaves this shell's session, so closing the terminal does not stop it.
    # shellcheck disable=SC2086
    setsid ./bin/tsd -H "unix://$socket" --pidfile "$pidfile" ${TSD_FLAGS:-} </dev/null >>"$log" 2>&1 &
    for _ in $(seq 100); do
      if [ -S "$socket" ] && curl -fs --unix-socket "$socket" http://tsd/_ping >/dev/null 2>&1; then
        echo "tsd is running (pid $(cat "$pidfile")): export DOCKER_HOST=unix://$socket; log: $log"
        exit 0
      fi
      sleep 0.1
    done
    echo "tsd did not answer on $socket within 10 s; the end of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
    ;;
  stop)
    if ! running; then echo "tsd is not running"; exit 0; fi
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || { echo "tsd stopped (containers keep running)"; exit 0; }; sleep 0.1; done
    echo "tsd (pid $pid) did not stop within 10 s of SIGTERM" >&2
    exit 1
    ;;
  status)
    if running; then echo "tsd is running (pid $(cat "$pidfile"), unix://$socket)"; else echo "tsd is not running"; exit 3; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
