#!/bin/sh
# bench/sandbox.sh: requests per second the vendor sandbox serves (nginx pinned to core 0,
# wrk to core 1), next to a trivial content_by_lua endpoint in the same kind of nginx.
cd "$(dirname "$0")/.." || exit 2
LUA_PATH="sandbox/lua/?.lua;lua/?/init.lua;lua/?.lua;spec/?.lua;;" taskset -c 0 lua5.4 bench/sandbox.lua
