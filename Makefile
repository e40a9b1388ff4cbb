# capsa build. `make` builds build/capsa; `make test` runs every test;
# `make demo` boots the demo VM. See README.md.
#
# Layout: src/<subsystem>/*.c go into libcapsa.a (src/cli/*.c into the
# binary only); tests/<subsystem>/test_*.c are cmocka programs, each linked
# with tests/common/*.c and libcapsa.a. Subsystems add libraries, extra
# targets and test prerequisites in mk/<subsystem>.mk.

CC       ?= gcc
ifeq ($(origin CC),default)
CC       := gcc
endif
CFLAGS_COMMON := -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Iinclude -MMD -MP -g
CFLAGS_REL    := $(CFLAGS_COMMON) -O2
CFLAGS_SAN    := $(CFLAGS_COMMON) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
                 -fno-sanitize-recover=undefined
LDLIBS   := -lpthread -lm
TEST_LDLIBS := -lcmocka

LIB_SRCS  := $(sort $(shell find src -name '*.c' ! -path 'src/cli/*'))
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
TEST_SRCS := $(sort $(wildcard tests/*/test_*.c))
TEST_COMMON := $(sort $(wildcard tests/common/*.c))

# The default goal comes before the fragments: the first target a fragment
# in mk/ defines would otherwise be what a plain `make` builds.
.PHONY: all
all: build/capsa

# Subsystem fragments may append to LDLIBS, TEST_DEPS (things `make test`
# needs built first) and define their own targets.
TEST_DEPS :=
-include $(sort $(wildcard mk/*.mk))

REL_LIB_OBJS := $(LIB_SRCS:%.c=build/obj/%.o)
REL_CLI_OBJS := $(CLI_SRCS:%.c=build/obj/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=build/asan/obj/%.o)
SAN_CLI_OBJS := $(CLI_SRCS:%.c=build/asan/obj/%.o)
SAN_TEST_COMMON := $(TEST_COMMON:%.c=build/asan/obj/%.o)
TEST_BINS := $(patsubst tests/%.c,build/asan/tests/%,$(TEST_SRCS))

.PHONY: deps test test-fast demo format format-check clean bench

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -c $< -o $@
build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -c $< -o $@

build/libcapsa.a: $(REL_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^
build/asan/libcapsa.a: $(SAN_LIB_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

# The release binary is linked statically: it starts faster and keeps a
# smaller resident set (no shared libraries to map). `make STATIC=` links it
# dynamically, e.g. for a library that has no static archive.
STATIC ?= -static
build/capsa: $(REL_CLI_OBJS) build/libcapsa.a
	$(CC) $(CFLAGS_REL) $(STATIC) -o $@ $(REL_CLI_OBJS) build/libcapsa.a $(LDLIBS)
build/asan/capsa: $(SAN_CLI_OBJS) build/asan/libcapsa.a
	$(CC) $(CFLAGS_SAN) -o $@ $(SAN_CLI_OBJS) build/asan/libcapsa.a $(LDLIBS)

# Shared test helpers include "common/testutil.h" relative to tests/.
build/asan/obj/tests/common/%.o: CFLAGS_SAN += -Itests

build/asan/tests/%: tests/%.c $(SAN_TEST_COMMON) build/asan/libcapsa.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -Itests -o $@ $< $(SAN_TEST_COMMON) build/asan/libcapsa.a $(LDLIBS) $(TEST_LDLIBS)

# Installs whatever Debian packages listed in scripts/deps/*.txt are missing.
deps:
	@scripts/install-deps.sh

# Full suite: unit, integration and the slow Linux boot tests.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) build/capsa build/asan/capsa $(TEST_BINS) $(TEST_DEPS)
	@tests/run.sh

# Edit loop: everything except tests named test_slow_*.
test-fast:
	@$(MAKE) --no-print-directory -j$(JOBS) build/capsa build/asan/capsa $(TEST_BINS) $(TEST_DEPS_FAST)
	@CAPSA_TESTS_FAST=1 tests/run.sh

format:
	clang-format -i $$(find src tests include guest bench -name '*.[ch]')
format-check:
	clang-format --dry-run --Werror $$(find src tests include guest bench -name '*.[ch]')

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
