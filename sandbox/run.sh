#!/bin/sh
# Foreground vendor sandbox for `make sandbox`: starts it (sandbox/run.lua), then waits until
# Ctrl-C or SIGTERM and stops nginx by its PID, removing its prefix directory.
cd "$(dirname "$0")/.." || exit 2
LUA=${LUA:-lua5.4}
info=$(mktemp)
if ! $LUA sandbox/run.lua "$info"; then rm -f "$info"; exit 1; fi
pid=$(sed -n 1p "$info"); prefix=$(sed -n 2p "$info"); rm -f "$info"
stop() {
  kill "$pid" 2>/dev/null
  i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null
  case "$prefix" in /tmp/mallapi-nginx.*) rm -rf "$prefix" ;; esac
  echo "sandbox stopped"
  exit 0
}
trap stop INT TERM HUP
while kill -0 "$pid" 2>/dev/null; do sleep 1 & wait $!; done
echo "sandbox: nginx exited"
