# mallapi: build the C core (mallapi.core) for Lua 5.4 (default) or LuaJIT,
# run the specs, lint, memory checks and benchmarks.
#
#   make               build build/5.4/mallapi/core.so
#   make LUA=luajit    build build/luajit/mallapi/core.so
#   make deps          install the Debian packages the project needs
#   make test          deps + both builds + lint + every spec under Lua 5.4 and LuaJIT
#   make memcheck      the C-level specs under valgrind, Lua 5.4 and LuaJIT
#   make memcheck-http the HTTP transport specs (with their nginx) under valgrind
#   make bench         benchmarks next to their peers (never part of the tests)
#   make asan          the C core under ASan/UBSan: the C-level specs, then the JSON fuzz corpus
#   make fuzz-smoke    200k mutated JSON inputs through the codec under ASan/UBSan (not in test)
#   make sandbox       the local vendor sandbox in the foreground (doc/sandbox.md)
#   make rock          build and install the rock into build/rock/5.4/tree (ROCK_RT=luajit for LuaJIT,
#                      ROCK_TREE=/usr/local for the system tree), from a copy: src/ stays clean
#   make demo          the main job: sandbox, seed Shoplus orders, sync them to Sobot, check (doc/sync.md)

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

.PHONY: all deps test lint spec memcheck memcheck-http asan bench fuzz-smoke fuzz-long rock clean sandbox demo

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
	luacheck -q $(wildcard lua spec examples bench sandbox bin/mallapi)

memcheck:
	$(MAKE) LUA=5.4
	$(MAKE) LUA=luajit
	MALLAPI_MEMCHECK=1 sh spec/run.sh 5.4 luajit

# The HTTP transport's specs need the nginx test server, so they are not tagged #c:
# this runs the whole spec file once under valgrind (a minute or two).
memcheck-http: all
	LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;;' LUA_CPATH='build/5.4/?.so;;' \
	  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
	  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	  lua5.4 /usr/bin/busted spec/http_spec.lua

bench: all
	sh bench/run.sh

# ---- sanitizers and fuzzing (json area)
SAN_FLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
SAN_ENV    := ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
FUZZ_SRC   := fuzz/json_fuzz.c src/json.c src/dtoa.c src/strtod.c src/bind_json.c src/bind_util.c
FUZZ_BIN   := build/fuzz/json_fuzz
FUZZ_DATA  := bench/data/orders_small.json
FUZZ_CORPUS := ../shared/json-test-suite/test_parsing bench/data
FUZZ_ITER  ?= 200000
FUZZ_SEED  ?= 1

$(FUZZ_BIN): $(FUZZ_SRC) src/json.h src/dtoa.h src/dtoa_table.h src/strtod.h src/strtod_table.h src/bind.h src/compat.h src/mallapi.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Wno-unused-parameter $(SAN_FLAGS) -Isrc \
	  $(shell pkg-config --cflags lua5.4) -o $@ $(FUZZ_SRC) $(shell pkg-config --libs lua5.4) -lm

$(FUZZ_DATA):
	lua5.4 ../shared/payloads/gen_payloads.lua bench/data

fuzz-smoke: $(FUZZ_BIN) $(FUZZ_DATA)
	$(SAN_ENV) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  $(FUZZ_BIN) $(FUZZ_ITER) $(FUZZ_SEED) $(FUZZ_CORPUS)

# Longer runs with libFuzzer (clang): make fuzz-long FUZZ_TIME=3600
FUZZ_TIME  ?= 600
fuzz-long: $(FUZZ_DATA)
	@mkdir -p build/fuzz/corpus
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -DMALLAPI_LIBFUZZER -Isrc \
	  $(shell pkg-config --cflags lua5.4) -o build/fuzz/json_libfuzzer $(FUZZ_SRC) \
	  $(shell pkg-config --libs lua5.4) -lm
	build/fuzz/json_libfuzzer -max_total_time=$(FUZZ_TIME) -max_len=65536 build/fuzz/corpus $(FUZZ_CORPUS)

# The whole core built with ASan/UBSan into build/asan, loaded by lua5.4 with the
# sanitizer runtime preloaded; runs the C-level specs (tag c), then replays the
# JSON fuzz corpus with a short mutation run.
asan: $(FUZZ_BIN) $(FUZZ_DATA)
	$(MAKE) BUILD=build/asan CC="$(CC) $(SAN_FLAGS)" build/asan/mallapi/core.so
	$(SAN_ENV) LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/asan/?.so;;" \
	  lua5.4 /usr/bin/busted --tags=c spec
	$(SAN_ENV) $(FUZZ_BIN) 20000 2 $(FUZZ_CORPUS)

# The local vendor sandbox (nginx + Lua) on 127.0.0.1, until Ctrl-C / SIGTERM.
sandbox:
	@sh sandbox/run.sh

# The main job end to end: sandbox up, a few hundred Shoplus orders seeded, synced to
# Sobot by examples/sync_orders.lua, checked, sandbox down.
demo: deps
	$(MAKE) LUA=5.4
	LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 examples/demo.lua

ROCK_RT ?= 5.4
ROCK_TREE ?=
rock:
	sh spec/support/rock_build.sh $(ROCK_RT) $(ROCK_TREE)

clean:
	rm -rf build
	rm -f src/*.o
