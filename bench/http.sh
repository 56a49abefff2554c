#!/bin/sh
# bench/http.sh: the HTTP transport next to wrk and lua-curl against one loopback
# nginx (see bench/http.lua). Builds both runtimes first. BENCH_SECONDS=3 per client.
cd "$(dirname "$0")/.." || exit 2
make -s >/dev/null && make -s LUA=luajit >/dev/null || exit 1
LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;bench/?.lua;;" LUA_CPATH="build/5.4/?.so;;" \
  taskset -c 0 lua5.4 bench/http.lua
