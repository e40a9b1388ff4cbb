# Differential tester of the software x86-64 CPU (tests/emu/difftest: random
# user-mode sequences run natively and in the emulator, compared) and the
# CPU's fuzz target (fuzz/emu).
#   make difftest                     long run (DIFFTEST_ARGS, default 1M sequences or 600 s)
#   build/difftest -x SEED            one sequence with both results
#   make fuzz-emu                     the fuzz target for EMU_FUZZ_SECS
# tests/emu/test_emu_difftest runs the tester for a fixed budget in `make test`;
# tests/emu/test_slow_fuzz_emu runs the fuzz target for 30 s.
DT_SRCS := $(sort $(wildcard tests/emu/difftest/*.c))
DT_LIB_SRCS := $(filter-out tests/emu/difftest/main.c,$(DT_SRCS))
EMU_CPU_SRCS := $(sort $(wildcard src/vm/emu/*.c))
DT_CFLAGS := -Itests/emu/difftest
DT_SAN_OBJS := $(DT_LIB_SRCS:%.c=build/asan/obj/%.o)
DT_REL_OBJS := $(DT_SRCS:%.c=build/obj/%.o)
DT_TEST_COMMON := $(TEST_COMMON:%.c=build/asan/obj/%.o)

build/asan/obj/tests/emu/difftest/%.o: tests/emu/difftest/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) $(DT_CFLAGS) -c $< -o $@
build/obj/tests/emu/difftest/%.o: tests/emu/difftest/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) $(DT_CFLAGS) -c $< -o $@

build/asan/tests/emu/test_emu_difftest: tests/emu/test_emu_difftest.c $(DT_SAN_OBJS) \
		$(DT_TEST_COMMON) build/asan/libcapsa.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) $(DT_CFLAGS) -Itests -o $@ $< $(DT_SAN_OBJS) $(DT_TEST_COMMON) \
		build/asan/libcapsa.a $(LDLIBS) $(TEST_LDLIBS)

build/difftest: $(DT_REL_OBJS) build/libcapsa.a
	$(CC) $(CFLAGS_REL) -o $@ $(DT_REL_OBJS) build/libcapsa.a $(LDLIBS)

DIFFTEST_ARGS ?= -n 1000000 -t 600
.PHONY: difftest fuzz-emu
difftest: build/difftest
	build/difftest $(DIFFTEST_ARGS)

# libFuzzer target: random bytes as CPL0 long-mode code.
EMU_FUZZ_SRCS := fuzz/emu/fuzz_cpu.c tests/emu/difftest/lm.c $(EMU_CPU_SRCS) src/mem/guest_mem.c src/mem/dirty.c \
	src/lib/err.c src/vm/x86/state.c src/vm/x86/cpuid.c src/vm/x86/pagetables.c
EMU_FUZZ_SECS ?= 60
build/fuzz/emu_cpu_fuzz: $(EMU_FUZZ_SRCS) $(wildcard src/vm/emu/*.h)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Itests/emu/difftest -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ \
		$(EMU_FUZZ_SRCS) -lpthread -lm
fuzz-emu: build/fuzz/emu_cpu_fuzz
	fuzz/emu/run.sh $(EMU_FUZZ_SECS)
ifneq ($(shell command -v clang 2>/dev/null),)
TEST_DEPS += build/fuzz/emu_cpu_fuzz
endif
