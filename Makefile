# netlua: build, test, install.
#   make            build/netlua and build/net.so (warnings are errors)
#   make test       the busted suite, run under build/netlua
#   make asan       the same suite under AddressSanitizer + UBSan (build-asan/)
#   make bench      the benchmarks in bench/
#   make install    PREFIX (/usr/local) and DESTDIR honoured

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
PKGS    := lua5.4 libedit libcares openssl
LUA     ?= lua5.4

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror
PKGCFLAGS := $(shell pkg-config --cflags $(PKGS))
PKGLIBS   := $(shell pkg-config --libs $(PKGS))
MODLIBS   := $(shell pkg-config --libs libcares openssl)
SAN     ?=
ALLCFLAGS = $(WARN) $(CFLAGS) $(SAN) -fPIC $(PKGCFLAGS) -Isrc \
            -DNETLUA_PREFIX='"$(PREFIX)"' -DLIBEDIT_VERSION='"$(shell pkg-config --modversion libedit)"'

PROG_ONLY := src/main.c src/msgh.c src/repl.c src/lineedit.c src/complete.c
CORE_SRC  := $(filter-out $(PROG_ONLY),$(wildcard src/*.c))
LUA_SRC   := $(sort $(wildcard lua/net/*.lua))
CORE_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(CORE_SRC)) $(BUILD)/obj/luafiles.o
PROG_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(PROG_ONLY))
HEADERS   := $(wildcard src/*.h)

BUSTED  ?= busted
SPECS   ?= spec

.PHONY: all test asan asan-test bench install uninstall clean
all: $(BUILD)/netlua $(BUILD)/net.so

$(BUILD)/obj/%.o: src/%.c $(HEADERS) | $(BUILD)/obj
	$(CC) $(ALLCFLAGS) -c $< -o $@

$(BUILD)/luafiles.c: tools/embed.lua $(LUA_SRC) | $(BUILD)/obj
	$(LUA) tools/embed.lua $@ $(LUA_SRC)

$(BUILD)/obj/luafiles.o: $(BUILD)/luafiles.c src/net.h
	$(CC) $(ALLCFLAGS) -c $< -o $@

$(BUILD)/netlua: $(CORE_OBJ) $(PROG_OBJ)
	$(CC) $(SAN) -o $@ $^ $(PKGLIBS) -lm -Wl,-E

$(BUILD)/net.so: $(CORE_OBJ)
	$(CC) $(SAN) -shared -o $@ $^ $(MODLIBS) -lm

$(BUILD)/obj:
	mkdir -p $@

# The suite runs under netlua itself (busted re-executes under --lua).
test: all
	NETLUA=$(abspath $(BUILD)/netlua) NETLUA_SO=$(abspath $(BUILD)/net.so) \
	  $(BUSTED) --lua=$(abspath $(BUILD)/netlua) $(BUSTED_FLAGS) $(SPECS)

asan:
	$(MAKE) BUILD=build-asan SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' CFLAGS='-O1 -g' all

asan-test: asan
	NETLUA_PRELOAD="$(shell $(CC) -print-file-name=libasan.so) $(shell $(CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(MAKE) BUILD=build-asan SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' CFLAGS='-O1 -g' test

bench: all
	sh bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/lua/5.4 \
	  $(DESTDIR)$(PREFIX)/share/lua/5.4/net $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/netlua/scripts
	install -m 755 $(BUILD)/netlua $(DESTDIR)$(PREFIX)/bin/netlua
	install -m 644 $(BUILD)/net.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/net.so
	$(if $(LUA_SRC),install -m 644 $(LUA_SRC) $(DESTDIR)$(PREFIX)/share/lua/5.4/net/)
	install -m 644 doc/netlua.1 $(DESTDIR)$(PREFIX)/share/man/man1/netlua.1
	$(if $(wildcard scripts/*.lua),install -m 755 $(wildcard scripts/*.lua) $(DESTDIR)$(PREFIX)/share/netlua/scripts/)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/netlua $(DESTDIR)$(PREFIX)/lib/lua/5.4/net.so \
	  $(DESTDIR)$(PREFIX)/share/man/man1/netlua.1
	rm -rf $(DESTDIR)$(PREFIX)/share/lua/5.4/net $(DESTDIR)$(PREFIX)/share/netlua

clean:
	rm -rf build build-asan

# ---- hardening checks (issue #12): see doc/HACKING.md, "Hardening checks" ----
# build-failalloc/: ASan+UBSan, with the counting, failing allocator
# (src/failalloc.c): Lua's allocator, netlua's own malloc/calloc/realloc/strdup
# (wrapped at link time) and c-ares' allocations.
FAILALLOC_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
  -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
HARDENING_SPECS ?= spec/hardening_fds.lua spec/hardening_dns.lua spec/hardening_load.lua \
  spec/hardening_failalloc.lua
.PHONY: failalloc check-hardening check-hardening-short

failalloc:
	$(MAKE) BUILD=build-failalloc SAN='$(FAILALLOC_SAN)' CFLAGS='-O1 -g -DNETLUA_FAILALLOC' all

# Everything, the long runs included (HARDENING_LONG=1), then the DNS and
# descriptor specs again under ASan: about 6 minutes on 2 cores.
check-hardening: all failalloc
	HARDENING_LONG=1 NETLUA_FAILALLOC_BIN=$(abspath build-failalloc/netlua) \
	  $(MAKE) test SPECS='$(HARDENING_SPECS)'
	$(MAKE) asan-test SPECS='spec/hardening_dns.lua spec/hardening_fds.lua'

# The shortened runs (the suite .ci/run counts): the same specs, small sizes.
check-hardening-short: all failalloc
	NETLUA_FAILALLOC_BIN=$(abspath build-failalloc/netlua) \
	  $(MAKE) test SPECS='$(HARDENING_SPECS)'
