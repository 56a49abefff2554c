#!/bin/sh
# Build and install mallapi with luarocks into a temporary tree, then load it from there.
set -e
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
# Debian keeps curl/curl.h under the multiarch include directory.
luarocks --lua-version=5.4 make --tree "$tree" CURL_INCDIR="/usr/include/$multiarch" >"$tree/build.log" 2>&1 || { cat "$tree/build.log"; exit 1; }
LUA_PATH="$tree/share/lua/5.4/?.lua;$tree/share/lua/5.4/?/init.lua" \
LUA_CPATH="$tree/lib/lua/5.4/?.so" \
  lua5.4 -e 'local m = require "mallapi"; print("loaded mallapi " .. m.version)'
