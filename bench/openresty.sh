#!/bin/sh
# bench/openresty.sh: the OpenResty webhook receiver (1-worker nginx pinned to core 0, wrk
# to core 1, 16 connections, 5 rounds of 1 s) next to the same nginx answering a static 200 with the
# body read. Needs the LuaJIT build (make LUA=luajit).
cd "$(dirname "$0")/.." || exit 2
[ -f build/luajit/mallapi/core.so ] || make LUA=luajit >/dev/null || exit 1
LUA_PATH="sandbox/lua/?.lua;lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/5.4/?.so;;" \
  taskset -c 0 lua5.4 bench/openresty.lua
