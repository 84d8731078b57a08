# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
# mod_md: Managed Domains for Apache httpd.
#
#   make                 build build/libmdcore.a, build/mod_md.so and build/mdctl
#   make test            unit tests (libcheck)
#   make asan-test       unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make asan-module     mod_md.so and mdctl with ASan+UBSan, in build/san/
#   make asan-integration  integration tests (ASAN_TESTS) with Apache loading build/san/mod_md.so
#   make integration     pytest against real Apache httpd, Pebble and pebble-challtestsrv
#   make fuzz            libFuzzer targets (clang, ASan+UBSan), FUZZ_SECONDS (60) each
#   make fuzz-ci         seeds replayed + FUZZ_CI_SECONDS (10) of fuzzing each (in check)
#   make check           all of the above but `make fuzz`: what CI runs (asan-integration
#                        adds about 5 minutes on 2 cores)
#   make install         install the module (see README: where it goes and why)
#   make deb             the Debian package libapache2-mod-md-managed (debian/), built from a
#                        copy of the tree, into build/deb/ (DEB_DIR); then lintian on it
#   make fault-module    build-fault/mod_md.so with crash points (-DMD_FAULT_POINTS) for
#                        the crash tests (test_0540_store_faults.py); never the normal build

APXS       ?= apxs
PKG_CONFIG ?= pkg-config
PYTHON     ?= /usr/bin/python3
CC         ?= gcc

HTTPD_INC  := $(shell $(APXS) -q INCLUDEDIR)
APR_INC    := $(shell $(APXS) -q APR_INCLUDEDIR)
APU_INC    := $(shell $(APXS) -q APU_INCLUDEDIR)
LIBEXECDIR ?= /usr/local/lib/apache2/modules
BINDIR     ?= /usr/local/bin
MANDIR     ?= /usr/local/share/man
SHAREDIR   ?= /usr/local/share/mod_md

DEPS_PC    := openssl libcurl jansson
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS_PC)) -I$(APR_INC) -I$(APU_INC)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs $(DEPS_PC)) -lapr-1 -laprutil-1 -lresolv

WARNINGS   := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
              -Wformat=2 -Wformat-security -Wvla -Wundef -Wno-unused-parameter -Werror
DEFINES    := -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED -DLINUX -D_REENTRANT -D_GNU_SOURCE \
              $(FAULT_DEFINES)
OPT        ?= -O2 -g
SAN        ?=
CFLAGS_ALL := -std=gnu11 $(OPT) $(SAN) -fPIC -pthread $(WARNINGS) $(DEFINES) $(DEP_CFLAGS) -Isrc/core -Isrc/core/acme

BUILD      ?= build
B          := $(BUILD)$(if $(SAN),/san)
CORE_SRC   := $(sort $(wildcard src/core/*.c src/core/acme/*.c))
MOD_SRC    := $(sort $(wildcard src/mod/*.c))
CLI_SRC    := $(sort $(wildcard src/cli/*.c))
UNIT_SRC   := $(sort $(wildcard test/unit/*.c))
CORE_OBJ   := $(CORE_SRC:%.c=$(B)/%.o)
MOD_OBJ    := $(MOD_SRC:%.c=$(B)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_OBJ   := $(UNIT_SRC:%.c=$(B)/%.o)

.PHONY: deb all test asan-test asan-module asan-integration integration check install lint lint-exports clean \
        fuzz fuzz-ci fuzz-build fuzz-bins fault-module
all: lint $(B)/libmdcore.a $(B)/mod_md.so $(B)/mdctl lint-exports

$(B)/%.o: %.c $(wildcard src/core/*.h src/core/acme/*.h src/mod/*.h test/unit/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS_ALL) $(if $(filter src/mod/%,$<),-I$(HTTPD_INC)) -c $< -o $@

$(B)/libmdcore.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

# The module exports md_module and nothing else.
$(B)/mod_md.so: $(MOD_OBJ) $(B)/libmdcore.a src/mod/mod_md.map
	$(CC) -shared $(SAN) $(LDFLAGS) -Wl,--version-script=src/mod/mod_md.map -Wl,-z,relro -Wl,-z,now \
	  -o $@ $(MOD_OBJ) $(B)/libmdcore.a $(DEP_LIBS)

$(B)/mdctl: $(CLI_OBJ) $(B)/libmdcore.a
	$(CC) $(SAN) $(LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libmdcore.a $(DEP_LIBS)

$(B)/unit-tests: $(UNIT_OBJ) $(B)/libmdcore.a
	$(CC) $(SAN) -o $@ $(UNIT_OBJ) $(B)/libmdcore.a $(DEP_LIBS) $(shell $(PKG_CONFIG) --libs check)

# Style gate: the core never includes an httpd header; banned functions stay out; every
# log id (MDnnnn) names one message; lines of at most 120 characters; the licence line.
# Exports by their file's prefix: lint-exports, on the objects just built (stale ones of
# an earlier tree would be judged otherwise).
lint:
	@! grep -nE '#include *[<"](httpd|http_[a-z_]+|ap_[a-z_]+|mod_[a-z_]+|util_[a-z_]+)\.h' \
	   src/core/*.[ch] src/core/acme/*.[ch] 2>/dev/null \
	   || { echo "error: src/core must not include httpd headers"; exit 1; }
	@! grep -nE '\b(sprintf|vsprintf|strcpy|strcat|atoi|gmtime|system)[[:space:]]*\(' \
	   src/*/*.c src/core/acme/*.c test/unit/*.c test/fuzz/*.c 2>/dev/null \
	   || { echo "error: banned function used (see docs/internals.md)"; exit 1; }
	@dups=$$(grep -rhoE '"(AH[0-9]+: )?MD[0-9]{4}:' src | sed -E 's/^"(AH[0-9]+: )?//' \
	   | sort | uniq -d); [ -z "$$dups" ] \
	   || { echo "error: log ids used by more than one message:" $$dups; exit 1; }
	@long=$$(awk 'length > 120 { print FILENAME ":" FNR }' src/*/*.[ch] src/core/acme/*.[ch]); \
	   [ -z "$$long" ] || { echo "error: source lines over 120 characters:" $$long; exit 1; }
	@missing=$$(for f in $$(git ls-files 2>/dev/null \
	   | grep -E '\.(c|h|py|sh|map|ini)$$|(^|/)(Makefile|rules|run)$$' \
	   | grep -v '^test/fuzz/corpus/'); do [ ! -f "$$f" ] || head -3 "$$f" \
	   | grep -q 'SPDX-License-Identifier: Apache-2.0' || echo "$$f"; done); [ -z "$$missing" ] \
	   || { echo "error: files without the licence line (see LICENSE):" $$missing; exit 1; }

# The exports of the objects (scripts/lint-exports.sh): a glue file's own prefix only
# (md_mod_<x>_* in md_mod_<x>.c), and no core export that only its own file uses. make
# lint checks the objects there are; the build checks them once they are made.
lint-exports: $(CORE_OBJ) $(MOD_OBJ) $(CLI_OBJ)
	@scripts/lint-exports.sh $(B)

test: $(B)/unit-tests
	$(B)/unit-tests

ASAN_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

asan-test:
	$(MAKE) SAN="$(ASAN_SAN)" OPT="-O1 -g" $(BUILD)/san/unit-tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(BUILD)/san/unit-tests

# The module with crash points (MD_FAULT_POINT=<name> in the environment: SIGKILL there),
# in its own directory so that no object of it reaches the normal build.
FAULT_BUILD ?= build-fault
fault-module:
	$(MAKE) BUILD=$(FAULT_BUILD) FAULT_DEFINES=-DMD_FAULT_POINTS $(FAULT_BUILD)/mod_md.so

asan-module:
	$(MAKE) SAN="$(ASAN_SAN)" OPT="-O1 -g" $(BUILD)/san/mod_md.so $(BUILD)/san/mdctl

# The integration tests named in ASAN_TESTS (a pytest -k expression, or "all", the
# default: about 5 minutes on 2 cores) with Apache loading the sanitized module: MDTEST_ASAN=1 makes the
# harness preload libasan into apache2, collect ASan/UBSan reports and fail a test
# on any (mdtest/apache.py, README "Running the tests"). mdctl is the sanitized one too.
ASAN_TESTS ?= all
asan-integration: asan-module
	MD_MODULE=$(abspath $(BUILD)/san/mod_md.so) MDTEST_MDCTL=$(abspath $(BUILD)/san/mdctl) \
	  MDTEST_ASAN=1 test/integration/run.sh $(if $(filter all,$(ASAN_TESTS)),,-k "$(ASAN_TESTS)")

integration: all
	$(PYTHON) -m pytest -v test/integration

# ---- fuzzing: libFuzzer from Debian's clang, with ASan and UBSan --------------------
# The core is compiled again with clang into build/fuzz/san/; each test/fuzz/fuzz_<name>.c
# becomes build/fuzz/fuzz_<name>. test/fuzz/run.sh replays the seeds, then fuzzes.
FUZZ_CC         ?= clang
FUZZ_SECONDS    ?= 60
FUZZ_CI_SECONDS ?= 10
FUZZ_BUILD      := $(BUILD)/fuzz
FUZZ_SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_NAMES      := $(patsubst test/fuzz/fuzz_%.c,%,$(filter-out test/fuzz/fuzz_common.c,$(wildcard test/fuzz/fuzz_*.c)))
FUZZ_BINS       := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

fuzz-build:
	$(MAKE) CC=$(FUZZ_CC) BUILD=$(FUZZ_BUILD) OPT="-O1 -g" \
	  SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" $(FUZZ_BUILD)/san/libmdcore.a
	$(MAKE) fuzz-bins

fuzz-bins: $(FUZZ_BINS)

$(FUZZ_BUILD)/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz_common.c test/fuzz/fuzz_common.h $(FUZZ_BUILD)/san/libmdcore.a
	@echo "  FUZZ $@"
	@$(FUZZ_CC) -std=gnu11 -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) $(WARNINGS) $(DEFINES) $(DEP_CFLAGS) \
	  -Isrc/core -Isrc/core/acme -o $@ $< test/fuzz/fuzz_common.c $(FUZZ_BUILD)/san/libmdcore.a $(DEP_LIBS)

fuzz: fuzz-build
	test/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-ci: fuzz-build
	test/fuzz/run.sh $(FUZZ_CI_SECONDS) $(FUZZ_TARGETS)

check: all test asan-test fuzz-ci integration asan-integration

# Installs through apxs into LIBEXECDIR (default /usr/local/lib/apache2/modules, which no
# Debian package owns) and honours DESTDIR. A mod_md.so that a distribution package owns
# (Debian's /usr/lib/apache2/modules/mod_md.so) is never overwritten without FORCE=1.
install: all
	@target="$(DESTDIR)$(LIBEXECDIR)/mod_md.so"; \
	if [ -e "$$target" ] && command -v dpkg >/dev/null && dpkg -S "$(LIBEXECDIR)/mod_md.so" >/dev/null 2>&1 \
	   && [ -z "$(DESTDIR)" ] && [ -z "$(FORCE)" ]; then \
	  echo "error: $$target belongs to a distribution package; choose another LIBEXECDIR or set FORCE=1"; \
	  exit 1; fi
	install -d "$(DESTDIR)$(LIBEXECDIR)" "$(DESTDIR)$(BINDIR)"
	$(APXS) -i -S LIBEXECDIR="$(DESTDIR)$(LIBEXECDIR)" -n md $(B)/mod_md.so
	install -m 0755 $(B)/mdctl "$(DESTDIR)$(BINDIR)/mdctl"
	install -D -m 0644 docs/mdctl.1 "$(DESTDIR)$(MANDIR)/man1/mdctl.1"
	install -d "$(DESTDIR)$(SHAREDIR)/contrib"
	install -m 0755 contrib/*.sh "$(DESTDIR)$(SHAREDIR)/contrib/"
	@echo "Installed. In place of Debian's 'LoadModule md_module /usr/lib/apache2/modules/mod_md.so' use:"
	@echo "    LoadModule md_module $(LIBEXECDIR)/mod_md.so"

# The Debian package: dpkg-buildpackage on a copy of the tree (it writes next to the
# source folder and leaves debian/ build files), so the checkout stays clean.
DEB_DIR ?= build/deb
DEB_SRC := $(DEB_DIR)/src/mod-md-managed
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	tar -c --exclude=./build --exclude=./$(FAULT_BUILD) --exclude=./.git --exclude=./debian/build \
	  --exclude=__pycache__ --exclude=./$(DEB_DIR) . | tar -x -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc
	mv $(DEB_DIR)/src/*.deb $(DEB_DIR)/src/*.changes $(DEB_DIR)/src/*.buildinfo $(DEB_DIR)/
	rm -rf $(DEB_DIR)/src
	@if command -v lintian >/dev/null; then lintian --fail-on error $(DEB_DIR)/*.changes; \
	 else echo "lintian not installed: the package was not checked"; fi
	@ls -l $(DEB_DIR)/*.deb

clean:
	rm -rf build $(FAULT_BUILD)
