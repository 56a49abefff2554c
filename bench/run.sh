#!/bin/sh
# make bench: run every benchmark next to its peer. A benchmark is bench/NAME.sh when
# it needs servers or several runtimes, otherwise bench/NAME.lua under Lua 5.4.
# Payloads come from ../shared/payloads/gen_payloads.lua into bench/data/. The .lua benches
# run pinned to core ${BENCH_CPU:-1}.
cd "$(dirname "$0")/.." || exit 2
[ -f bench/data/orders_small.json ] || lua5.4 ../shared/payloads/gen_payloads.lua bench/data
export LUA_PATH="lua/?.lua;lua/?/init.lua;bench/?.lua;;" LUA_CPATH="build/5.4/?.so;;"
only=${1:-}
for f in bench/*.lua bench/*.sh; do
  name=$(basename "$f"); name=${name%.*}
  case $name in run|common) continue ;; esac
  [ -n "$only" ] && [ "$only" != "$name" ] && continue
  case $f in
    *.lua) [ -f "bench/$name.sh" ] && continue; echo "== bench/$name.lua"; taskset -c "${BENCH_CPU:-1}" lua5.4 "$f" ;;
    *.sh) echo "== bench/$name.sh"; sh "$f" ;;
  esac
done
