#!/bin/sh
# Run every spec under Lua 5.4 and LuaJIT (or only the runtimes named as
# arguments: 5.4, luajit) and end with one line "N passed, N failed".
# MALLAPI_MEMCHECK=1 runs the C-level specs (tag "c") under valgrind instead.
cd "$(dirname "$0")/.." || exit 2
runtimes=${*:-"5.4 luajit"}
total_pass=0; total_fail=0
counts=$(mktemp)
for rt in $runtimes; do
  case $rt in
    5.4) bin=lua5.4 ;;
    luajit) bin=luajit ;;
    *) echo "spec/run.sh: unknown runtime $rt"; exit 2 ;;
  esac
  echo "== specs under $bin"
  : > "$counts"
  prefix=""; filter=""
  if [ -n "$MALLAPI_MEMCHECK" ]; then
    prefix="valgrind -q --suppressions=spec/support/luajit.supp --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
    filter="--tags=c"
  fi
  LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/$rt/?.so;;" \
  MALLAPI_COUNT_FILE="$counts" MALLAPI_RUNTIME="$rt" \
    $prefix $bin /usr/bin/busted --output=spec/support/counting.lua $filter spec
  rc=$?
  if [ -s "$counts" ]; then
    read -r p f < "$counts"
  else
    p=0; f=1   # busted died before reporting: count it as a failure
  fi
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1   # valgrind or the runner failed on its own
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
done
rm -f "$counts"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
