# WebAssembly runtime (src/wasm, src/cli/wasm.c, tests/wasm, fuzz/wasm,
# bench/wasm). The spec-test runner parses wast2json output with json-c;
# the toolchain for test programs comes from scripts/deps/wasm.txt.
TEST_LDLIBS += -ljson-c

WASM_LIB_SRCS := $(sort $(wildcard src/wasm/*.c src/wasm/*/*.c)) src/lib/err.c src/lib/file.c src/lib/cpu.c
# -O0: clang 14 with UBSan at -O1 needs about 8 minutes for the threaded
# interpreter (interp.c); at -O0 it takes seconds and keeps every check.
WASM_FUZZ_FLAGS := -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Iinclude -g -O0 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# Seconds `make fuzz-wasm` runs the fuzzer for (CI uses the default).
WASM_FUZZ_SECS ?= 60

.PHONY: fuzz-wasm bench-wasm
build/fuzz/wasm_fuzz: fuzz/wasm/fuzz_module.c $(WASM_LIB_SRCS) $(wildcard src/wasm/*.h src/wasm/*/*.h) include/capsa/wasm.h
	@mkdir -p $(dir $@)
	clang $(WASM_FUZZ_FLAGS) -o $@ fuzz/wasm/fuzz_module.c $(WASM_LIB_SRCS) -lm

# Short fixed-budget run: seeds are the spec suite's binary modules,
# converted at run time into build/fuzz/wasm-seeds (never the repository).
fuzz-wasm: build/fuzz/wasm_fuzz
	@fuzz/wasm/run.sh $(WASM_FUZZ_SECS)

bench-wasm: build/capsa
	@bench/wasm/run.sh

# The spec runner built without sanitizers, so its memories use guard
# regions (under ASan the interpreter checks bounds explicitly);
# tests/wasm/test_wasi runs it.
build/wasm/test_spec_guard: tests/wasm/test_spec.c $(TEST_COMMON) build/libcapsa.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -Itests -o $@ $< $(TEST_COMMON) build/libcapsa.a $(LDLIBS) $(TEST_LDLIBS)
# Fault handling of guard regions through the embedding API (threads, a
# fault outside wasm, an embedder's own handler); also run by test_wasi.
build/wasm/guard_check: tests/wasm/guard_check.c build/libcapsa.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -o $@ $< build/libcapsa.a $(LDLIBS)
# The JIT's fuel and interrupt tests built the same way, so that a fault
# caught by a guard region inside a counted loop takes its landing pad
# (charging the back edges taken); also run by test_wasi.
build/wasm/test_jit_intr_guard: tests/wasm/test_jit_intr.c $(TEST_COMMON) build/libcapsa.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -Itests -o $@ $< $(TEST_COMMON) build/libcapsa.a $(LDLIBS) $(TEST_LDLIBS)
GUARD_TESTS := build/wasm/test_spec_guard build/wasm/guard_check build/wasm/test_jit_intr_guard
TEST_DEPS += $(GUARD_TESTS)
TEST_DEPS_FAST += $(GUARD_TESTS)

# tests/wasm/test_slow_fuzz runs the fuzzer; build it with the full suite.
ifneq ($(shell command -v clang 2>/dev/null),)
TEST_DEPS += build/fuzz/wasm_fuzz
endif
