# mallapi: build the C core (mallapi.core) for Lua 5.4 (default) or LuaJIT,
# run the specs, lint, memory checks and benchmarks.
#
#   make               build build/5.4/mallapi/core.so
#   make LUA=luajit    build build/luajit/mallapi/core.so
#   make deps          install the Debian packages the project needs
#   make test          deps + both builds + lint + every spec under Lua 5.4 and LuaJIT
#   make memcheck      the C-level specs under valgrind
#   make bench         benchmarks next to their peers (never part of the tests)

LUA      ?= 5.4
ifeq ($(LUA),luajit)
  LUA_PC  := luajit
  LUA_BIN := luajit
  BUILD   := build/luajit
else
  LUA_PC  := lua5.4
  LUA_BIN := lua5.4
  BUILD   := build/5.4
endif

LIBS_PC  := libcurl libcrypto
CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -fPIC -Wall -Wextra -Wshadow -Wno-unused-parameter \
            $(shell pkg-config --cflags $(LUA_PC) $(LIBS_PC) 2>/dev/null)
LDFLAGS  += -shared
LDLIBS   += $(shell pkg-config --libs $(LIBS_PC) 2>/dev/null)

SRC      := $(wildcard src/*.c)
OBJ      := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRC))
CORE     := $(BUILD)/mallapi/core.so

.PHONY: all deps test lint spec memcheck memcheck-http asan bench fuzz-smoke rock-check clean

all: $(CORE)

$(CORE): $(OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(OBJ:.o=.d)

deps:
	@sh .ci/deps.sh

# Build for both runtimes, lint, then run every spec under both.
test: deps
	$(MAKE) LUA=5.4
	$(MAKE) LUA=luajit
	$(MAKE) lint
	sh spec/run.sh

spec:
	sh spec/run.sh

lint:
	luacheck -q lua spec examples bench

memcheck: all
	MALLAPI_MEMCHECK=1 sh spec/run.sh 5.4

# The HTTP transport's specs need the nginx test server, so they are not tagged #c:
# this runs the whole spec file once under valgrind (a minute or two).
memcheck-http: all
	LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;;' LUA_CPATH='build/5.4/?.so;;' \
	  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
	  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	  lua5.4 /usr/bin/busted spec/http_spec.lua

bench: all
	sh bench/run.sh

rock-check:
	sh spec/support/rock_check.sh

clean:
	rm -rf build
