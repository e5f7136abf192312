# netlua: build, test, install.
#   make            build/netlua, build/net.so and the parts they load on
#                   first use: build/netlua-tls.so (TLS), build/netlua-edit.so
#                   (the prompt's libedit); warnings are errors
#   make test       the busted suite, run under build/netlua
#   make asan       the same suite under AddressSanitizer + UBSan (build-asan/)
#   make bench      the benchmarks in bench/
#   make install    PREFIX (/usr/local) and DESTDIR honoured

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
PKGS    := lua5.4 libcares
LUA     ?= lua5.4

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror
PKGCFLAGS := $(shell pkg-config --cflags $(PKGS) libedit openssl)
PKGLIBS   := $(shell pkg-config --libs $(PKGS))
MODLIBS   := $(shell pkg-config --libs libcares)
TLSLIBS   := $(shell pkg-config --libs openssl)
EDITLIBS  := $(shell pkg-config --libs libedit)
SAN     ?=
ALLCFLAGS = $(WARN) $(CFLAGS) $(SAN) -fPIC $(PKGCFLAGS) -Isrc \
            -DNETLUA_PREFIX='"$(PREFIX)"' -DLIBEDIT_VERSION='"$(shell pkg-config --modversion libedit)"'

PROG_ONLY := src/main.c src/msgh.c src/repl.c
# The parts, shared objects of their own that are loaded on first use
# (src/part.h), so that start-up loads neither OpenSSL nor libedit:
# the edit part (libedit; the program's symbols, exported by -Wl,-E)
EDIT_ONLY := src/lineedit.c src/complete.c
# and the TLS part (all that calls OpenSSL; needs only Lua's API, so net.so
# under a stock lua5.4 loads it too; src/tlslib.h)
TLS_ONLY  := src/tls.c src/tlsctx.c src/tlscert.c src/tlsinfo.c src/tlsexport.c
CORE_SRC  := $(filter-out $(PROG_ONLY) $(EDIT_ONLY) $(TLS_ONLY),$(wildcard src/*.c))
LUA_SRC   := $(sort $(wildcard lua/net/*.lua))
CORE_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(CORE_SRC)) $(BUILD)/obj/luafiles.o
PROG_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(PROG_ONLY))
TLS_OBJ   := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(TLS_ONLY)) $(BUILD)/obj/errwords.o
EDIT_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(EDIT_ONLY))
HEADERS   := $(wildcard src/*.h)

BUSTED  ?= busted
SPECS   ?= spec

.PHONY: all test asan asan-test bench install uninstall clean
all: $(BUILD)/netlua $(BUILD)/net.so $(BUILD)/netlua-tls.so $(BUILD)/netlua-edit.so

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

# Lua's API comes from the program or lua5.4 that loads it, as for net.so.
$(BUILD)/netlua-tls.so: $(TLS_OBJ)
	$(CC) $(SAN) -shared -o $@ $^ $(TLSLIBS)

$(BUILD)/netlua-edit.so: $(EDIT_OBJ)
	$(CC) $(SAN) -shared -o $@ $^ $(EDITLIBS)

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
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/lua/5.4 $(DESTDIR)$(PREFIX)/lib/netlua \
	  $(DESTDIR)$(PREFIX)/share/lua/5.4/net $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/netlua/scripts
	install -m 755 $(BUILD)/netlua $(DESTDIR)$(PREFIX)/bin/netlua
	install -m 644 $(BUILD)/net.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/net.so
	install -m 644 $(BUILD)/netlua-tls.so $(BUILD)/netlua-edit.so $(DESTDIR)$(PREFIX)/lib/netlua/
	$(if $(LUA_SRC),install -m 644 $(LUA_SRC) $(DESTDIR)$(PREFIX)/share/lua/5.4/net/)
	install -m 644 doc/netlua.1 $(DESTDIR)$(PREFIX)/share/man/man1/netlua.1
	$(if $(wildcard scripts/*.lua),install -m 755 $(wildcard scripts/*.lua) $(DESTDIR)$(PREFIX)/share/netlua/scripts/)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/netlua $(DESTDIR)$(PREFIX)/lib/lua/5.4/net.so \
	  $(DESTDIR)$(PREFIX)/share/man/man1/netlua.1
	rm -rf $(DESTDIR)$(PREFIX)/share/lua/5.4/net $(DESTDIR)$(PREFIX)/share/netlua $(DESTDIR)$(PREFIX)/lib/netlua

clean:
	rm -rf build build-asan build-fuzz build-failalloc

# ---- hardening checks (issue #12): see doc/HACKING.md, "Hardening checks" ----
# build-failalloc/: ASan+UBSan, with the counting, failing allocator
# (src/failalloc.c): Lua's allocator, netlua's own malloc/calloc/realloc/strdup
# and mmap/mremap (wrapped at link time), c-ares' and OpenSSL's allocations.
FAILALLOC_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
  -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=mmap,--wrap=mremap
HARDENING_SPECS ?= spec/hardening_fds.lua spec/hardening_dns.lua spec/hardening_load.lua \
  spec/hardening_failalloc.lua
.PHONY: failalloc check-hardening check-hardening-short

# OpenSSL's allocations go through it too (CRYPTO_set_mem_functions at
# start): so this build links libcrypto into the program itself, where the
# normal one loads it with the TLS part on first use.
failalloc:
	$(MAKE) BUILD=build-failalloc SAN='$(FAILALLOC_SAN)' CFLAGS='-O1 -g -DNETLUA_FAILALLOC' \
	  PKGLIBS='$(PKGLIBS) $(TLSLIBS)' all

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

# ---- fuzzing (libFuzzer, clang) ---------------------------------------------
#   make fuzz          each target for FUZZTIME seconds (default 60); new
#                      inputs go to $(FUZZ_BUILD)/corpus/TARGET, crashes to
#                      $(FUZZ_BUILD)/crashes/ (never into the tree)
#   make fuzz-replay   every file of spec/fuzz/TARGET/ once through its target
# The core objects are rebuilt with clang and -fsanitize=fuzzer-no-link in
# $(FUZZ_BUILD)/obj; src/fuzz/ holds the targets (see doc/HACKING.md).
FUZZ_BUILD   ?= build-fuzz
FUZZCC       ?= clang
FUZZTIME     ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_C       := buffer dns
FUZZ_LUA     := http_response http_request url smtp_reply transcript
FUZZ_TARGETS := $(FUZZ_C) $(FUZZ_LUA)
FUZZ_BINS    := $(addprefix $(FUZZ_BUILD)/fuzz/,$(FUZZ_TARGETS))
FUZZ_CORE    := $(patsubst src/%.c,$(FUZZ_BUILD)/obj/%.o,$(CORE_SRC)) $(FUZZ_BUILD)/obj/luafiles.o

.PHONY: fuzz fuzz-build fuzz-replay
$(FUZZ_CORE): CFLAGS := -O1 -g
$(FUZZ_CORE): SAN := -fsanitize=fuzzer-no-link $(FUZZ_SAN)

$(FUZZ_BUILD)/obj/%.o: src/%.c $(HEADERS) | $(FUZZ_BUILD)/obj
	$(FUZZCC) $(ALLCFLAGS) -c $< -o $@

$(FUZZ_BUILD)/luafiles.c: tools/embed.lua $(LUA_SRC) | $(FUZZ_BUILD)/obj
	$(LUA) tools/embed.lua $@ $(LUA_SRC)

$(FUZZ_BUILD)/obj/luafiles.o: $(FUZZ_BUILD)/luafiles.c src/net.h
	$(FUZZCC) $(ALLCFLAGS) -c $< -o $@

$(FUZZ_BUILD)/obj $(FUZZ_BUILD)/fuzz:
	mkdir -p $@

$(FUZZ_BUILD)/fuzz/buffer $(FUZZ_BUILD)/fuzz/dns: $(FUZZ_BUILD)/fuzz/%: src/fuzz/fuzz_%.c $(FUZZ_CORE) | $(FUZZ_BUILD)/fuzz
	$(FUZZCC) $(WARN) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) $(PKGCFLAGS) -Isrc $< $(FUZZ_CORE) -o $@ $(PKGLIBS) -lm

$(addprefix $(FUZZ_BUILD)/fuzz/,$(FUZZ_LUA)): $(FUZZ_BUILD)/fuzz/%: src/fuzz/fuzz_lua.c src/fuzz/%.lua $(FUZZ_CORE) | $(FUZZ_BUILD)/fuzz
	$(FUZZCC) $(WARN) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) $(PKGCFLAGS) -Isrc \
	  -DFUZZ_DRIVER='"$(abspath src/fuzz/$*.lua)"' $< $(FUZZ_CORE) -o $@ $(PKGLIBS) -lm

fuzz-build: $(FUZZ_BINS)

fuzz-replay: fuzz-build
	sh src/fuzz/replay.sh $(FUZZ_BUILD)/fuzz spec/fuzz $(FUZZ_TARGETS)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes; \
	  echo "== fuzz $$t ($(FUZZTIME) s)"; \
	  case $$t in http_*) d=http;; smtp_*) d=smtp;; *) d=$$t;; esac; \
	  dict=; [ -f spec/fuzz/$$d.dict ] && dict=-dict=spec/fuzz/$$d.dict; \
	  $(FUZZ_BUILD)/fuzz/$$t -max_total_time=$(FUZZTIME) -max_len=4096 -timeout=10 $$dict \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t- \
	    $(FUZZ_BUILD)/corpus/$$t spec/fuzz/$$t || exit 1; \
	done
