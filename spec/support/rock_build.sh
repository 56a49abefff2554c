#!/bin/sh
# Build and install the mallapi rock with luarocks into a tree, from a copy of the sources
# in build/rock/<runtime>/src (luarocks' builtin build writes object files next to the C
# sources: the copy keeps src/ clean). Used by `make rock` and spec/rock_spec.lua.
#   sh spec/support/rock_build.sh [5.4|luajit] [TREE]     (default 5.4, build/rock/<rt>/tree)
set -e
cd "$(dirname "$0")/../.."
rt=${1:-5.4}
case $rt in
  5.4) luaver=5.4; extra="" ;;
  luajit) luaver=5.1; extra="LUA_INCDIR=/usr/include/luajit-2.1 LUA=/usr/bin/luajit" ;;
  *) echo "rock_build.sh: unknown runtime $rt" >&2; exit 2 ;;
esac
work=build/rock/$rt
tree=${2:-$work/tree}
case $tree in /*) ;; *) tree=$PWD/$tree ;; esac
rm -rf "$work/src"
mkdir -p "$work/src/spec/support"
cp -r ./*.rockspec LICENSE src lua bin sandbox doc "$work/src/"
cp spec/support/nginx.lua spec/support/procs.lua "$work/src/spec/support/"
if [ "$rt" = luajit ]; then
  # the command's wrapper must run luajit, not lua5.1: luarocks takes the interpreter from its config
  printf 'lua_interpreter = "luajit"\nvariables = { LUA_BINDIR = "/usr/bin", LUA_INCDIR = "/usr/include/luajit-2.1" }\n' \
    > "$work/luarocks-config.lua"
  LUAROCKS_CONFIG=$PWD/$work/luarocks-config.lua; export LUAROCKS_CONFIG
fi
(cd "$work/src" && luarocks --lua-version=$luaver make --deps-mode=none --tree "$tree" $extra) \
  >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
echo "installed into $tree (log: $work/build.log)"
