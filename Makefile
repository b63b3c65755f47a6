# kubezone -- one plain GNU Makefile.
#
#   make            build build/kubezone
#   make check      install missing packages, build, run every test
#   make run        serve examples/cluster.json through NSD on 127.0.0.1:5353
#   make bench      benchmarks (figures go to docs/benchmarks.md by hand)
#   make soak       the syncer soak test for KZ_SOAK_SECONDS (default 600)
#   make asan       the same tests on an ASan+UBSan build (build-asan/)
#   make image      build the container image with podman (container/)
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

.PHONY: all check unit system soak deps run bench asan install clean \
	check-deps FORCE

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

# --- set-up -------------------------------------------------------------

deps:
	@container/deps.sh build test

# --- tests --------------------------------------------------------------

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) tests/check.sh

unit: $(BIN) $(UNIT_BINS)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) tests/check.sh unit

system: $(BIN)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) tests/check.sh system

soak: $(BIN)
	@KZ_SOAK_SECONDS=$${KZ_SOAK_SECONDS:-600} KUBEZONE=$(BIN) BUILD=$(BUILD) \
		$(PYTHON) -m pytest -q -s -p no:cacheprovider \
		tests/system/test_syncer_soak.py

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 check

# --- running ------------------------------------------------------------

run: deps
	@$(MAKE) --no-print-directory all
	@tests/run-example.sh $(BIN) examples/cluster.json

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) PYTHON=$(PYTHON) tests/bench/run.sh

# --- image and documentation ---------------------------------------------

.PHONY: image

# IMAGE= names the image (default localhost/kubezone:VERSION).
image:
	@container/build-image.sh $(IMAGE)

# --- installing ---------------------------------------------------------

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/kubezone
	if [ -f docs/kubezone.8 ]; then \
		install -m 0644 docs/kubezone.8 $(DESTDIR)$(PREFIX)/share/man/man8/; fi

clean:
	rm -rf build build-asan build-fuzz

FORCE:

# Keep the objects of the test programs (make deletes chained intermediates).
.SECONDARY:

-include $(ALL_OBJS:.o=.d)
