# kubezone -- one plain GNU Makefile.
#
#   make            build build/kubezone
#   make check      install missing packages, build, run every test
#   make run        serve examples/cluster.json through NSD on 127.0.0.1:5353
#   make bench      benchmarks (figures go to docs/benchmarks.md by hand)
#   make soak       the syncer soak test for KZ_SOAK_SECONDS (default 600)
#   make asan       the same tests on an ASan+UBSan build (build-asan/)
#   make analyze    clang --analyze over every .c (part of make check)
#   make fuzz       libFuzzer targets for FUZZ_SECONDS each (build-fuzz/)
#   make valgrind   memcheck of a render and of a short sync session
#   make image      build the container image with podman (container/)
#   make docs       docs/configuration.md and kubezone.8 from the option tables
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean

VERSION    := 0.1.0
BUILD      ?= build
PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= cc
PKG_CONFIG ?= pkg-config
PYTHON     ?= /usr/bin/python3
WERROR     ?= 1

PKGS := jansson ldns libcurl yaml-0.1 libmicrohttpd

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wwrite-strings -Wundef -Wpointer-arith \
	-Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
OPT      := -O1
else ifeq ($(SAN),fuzz)
# libFuzzer: objects get coverage hooks, the targets link the engine.
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      := -O1
else
SANFLAGS :=
OPT      := -O2
endif

KZ_CPPFLAGS := -I. -D_GNU_SOURCE -DKZ_VERSION='"$(VERSION)"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
KZ_CFLAGS   := -std=c11 -g $(OPT) $(WARN) $(SANFLAGS) -MMD -MP
KZ_LDFLAGS  := $(SANFLAGS)
KZ_LDLIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm

# Quiet by default; V=1 shows the commands.
ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-6s %s\n'
endif

ALL_CPPFLAGS = $(KZ_CPPFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(KZ_CFLAGS) $(CFLAGS)
ALL_LDFLAGS  = $(KZ_LDFLAGS) $(LDFLAGS)

# One archive per module directory; the binary, the unit tests and the
# fuzzers all link the same archives. Link order: higher layers first.
MODULES  := syncer nsd-conf zonegen common
MAIN_SRC := syncer/main.c
define module_srcs
$(filter-out $(MAIN_SRC),$(wildcard $(1)/*.c))
endef
LIBS := $(foreach m,$(MODULES),$(BUILD)/$(m)/lib$(notdir $(m)).a)

BIN        := $(BUILD)/kubezone
MAIN_OBJ   := $(BUILD)/$(MAIN_SRC:.c=.o)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_HELP  := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
UNIT_HOBJ  := $(patsubst %.c,$(BUILD)/%.o,$(UNIT_HELP))

ALL_OBJS := $(foreach m,$(MODULES),$(patsubst %.c,$(BUILD)/%.o,$(call module_srcs,$(m)))) \
	$(MAIN_OBJ) $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%.o,$(UNIT_SRCS)) \
	$(UNIT_HOBJ)

# Fuzz targets (tests/fuzz/fuzz_*.c). In ordinary builds each links the
# replay main, which runs files through it; with SAN=fuzz each links
# libFuzzer instead (build-fuzz/fuzz/).
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))
FUZZ_REPLAY  := $(patsubst %,$(BUILD)/tests/%,$(FUZZ_NAMES))
FUZZ_ENGINE  := $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_NAMES))
FUZZ_SECONDS ?= 60

# The allocation-failure tests: a cmocka binary whose allocations go
# through a counting wrapper that can fail the Nth one.
ALLOC_BIN  := $(BUILD)/tests/test_allocfail
ALLOC_OBJS := $(BUILD)/tests/alloc/test_allocfail.o \
	$(BUILD)/tests/alloc/failmalloc.o
ALLOC_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc \
	-Wl,--wrap=strdup,--wrap=strndup

ALL_OBJS += $(patsubst %.c,$(BUILD)/%.o,$(FUZZ_SRCS) tests/fuzz/replay.c) \
	$(ALLOC_OBJS)

TEST_BINS := $(UNIT_BINS) $(FUZZ_REPLAY) $(ALLOC_BIN)

.PHONY: all check unit system soak deps run bench asan install clean \
	check-deps analyze fuzz fuzz-build valgrind FORCE

all: $(BIN)

# Rebuild everything when the effective flags change.
$(BUILD)/.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS)' | cmp -s - $@ \
		|| echo '$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS)' > $@

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(quiet) CC $<
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

define module_rule
$(BUILD)/$(1)/lib$(notdir $(1)).a: $(patsubst %.c,$(BUILD)/%.o,$(call module_srcs,$(1)))
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(quiet) AR $$@
	$$(Q)$$(AR) rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rule,$(m))))

$(BIN): $(MAIN_OBJ) $(LIBS)
	$(quiet) LINK $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(LIBS) $(KZ_LDLIBS)

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(UNIT_HOBJ) $(LIBS)
	@mkdir -p $(@D)
	$(quiet) LINK $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(UNIT_HOBJ) $(LIBS) $(KZ_LDLIBS) -lcmocka

$(BUILD)/tests/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o \
		$(BUILD)/tests/fuzz/replay.o $(LIBS)
	$(quiet) LINK $@
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/tests/fuzz/replay.o $(LIBS) \
		$(KZ_LDLIBS)

$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(LIBS)
	@mkdir -p $(@D)
	$(quiet) LINK $@
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBS) $(KZ_LDLIBS)

$(ALLOC_BIN): $(ALLOC_OBJS) $(LIBS)
	$(quiet) LINK $@
	$(Q)$(CC) $(ALL_LDFLAGS) $(ALLOC_WRAP) -o $@ $(ALLOC_OBJS) $(LIBS) \
		$(KZ_LDLIBS) -lcmocka

# --- set-up -------------------------------------------------------------

deps:
	@container/deps.sh build test

# --- tests --------------------------------------------------------------

check: deps
	@$(MAKE) --no-print-directory all $(TEST_BINS)
	@$(MAKE) --no-print-directory analyze
	@BUILD=$(BUILD) PYTHON=$(PYTHON) tests/check.sh

unit: $(BIN) $(TEST_BINS)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) tests/check.sh unit

system: $(BIN)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) tests/check.sh system

soak: $(BIN)
	@KZ_SOAK_SECONDS=$${KZ_SOAK_SECONDS:-600} KUBEZONE=$(BIN) BUILD=$(BUILD) \
		$(PYTHON) -m pytest -q -s -p no:cacheprovider \
		tests/system/api/test_syncer_soak.py

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 check

# clang's static analyzer over every .c; any report fails. One stamp per
# file, so only what changed is analyzed again.
ANALYZE_SRCS := $(foreach m,$(MODULES),$(wildcard $(m)/*.c)) \
	$(wildcard tests/fuzz/*.c tests/alloc/*.c)
ANALYZE_OK   := $(patsubst %.c,build-analyze/%.ok,$(ANALYZE_SRCS))
ANALYZE_FLAGS := --analyze -Xclang -analyzer-werror \
	-Xclang -analyzer-output=text \
	-Xanalyzer -analyzer-disable-checker=deadcode.DeadStores

analyze: $(ANALYZE_OK)

build-analyze/%.ok: %.c
	@mkdir -p $(@D)
	$(quiet) ANALYZE $<
	$(Q)clang $(KZ_CPPFLAGS) $(CPPFLAGS) -std=c11 -Wno-unused-command-line-argument \
		$(ANALYZE_FLAGS) -MMD -MP -MF $(@:.ok=.d) -MT $@ $< -o /dev/null
	@touch $@

-include $(ANALYZE_OK:.ok=.d)

# libFuzzer: build every target into build-fuzz/ with clang, then run
# each for FUZZ_SECONDS from its committed corpus (new inputs go to
# build-fuzz/corpus/, crashes to build-fuzz/crashes/).
fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz SAN=fuzz CC=clang WERROR=0 \
		fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh build-fuzz $(FUZZ_NAMES)

fuzz-build: $(FUZZ_ENGINE)

# memcheck of `kubezone render` and of a short sync session against the
# fake API server, on a plain -O1 build (build-valgrind/).
valgrind: deps
	@$(MAKE) --no-print-directory BUILD=build-valgrind OPT=-O1 all
	@KUBEZONE=build-valgrind/kubezone $(PYTHON) tests/valgrind/run.py

# --- running ------------------------------------------------------------

run: deps
	@$(MAKE) --no-print-directory all
	@tests/run-example.sh $(BIN) examples/cluster.json

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) PYTHON=$(PYTHON) tests/bench/run.sh

# --- image and documentation ---------------------------------------------

.PHONY: image docs

# IMAGE= names the image (default localhost/kubezone:VERSION).
image:
	@container/build-image.sh $(IMAGE)

# docs/configuration.md and docs/kubezone.8 from the option tables.
docs: $(BIN)
	@$(PYTHON) docs/gen-docs.py $(BIN)

# --- installing ---------------------------------------------------------

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/kubezone
	if [ -f docs/kubezone.8 ]; then \
		install -m 0644 docs/kubezone.8 $(DESTDIR)$(PREFIX)/share/man/man8/; fi

clean:
	rm -rf build build-asan build-fuzz build-analyze build-valgrind

FORCE:

# Keep the objects of the test programs (make deletes chained intermediates).
.SECONDARY:

-include $(ALL_OBJS:.o=.d)
