# SPDX-License-Identifier: Apache-2.0
# Differential testing of the wasm engines (tests/wasm/wasmdiff*.c): random
# modules from binaryen's wasm-opt run under each engine configuration and
# every observable effect is compared. See docs/wasm.md.
WASM_DIFF_SRCS := tests/wasm/wasmdiff.c tests/wasm/wasmdiff_cmp.c tests/wasm/wasmdiff_gen.c
WASM_DIFF_HDRS := tests/wasm/wasmdiff.h tests/wasm/engines.h

# The runner, built without sanitizers so that memories get guard regions.
build/wasm/wasm_diff: tests/wasm/diff_tool.c $(WASM_DIFF_SRCS) $(WASM_DIFF_HDRS) build/libcapsa.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -o $@ $< $(WASM_DIFF_SRCS) build/libcapsa.a $(LDLIBS)

# The cmocka test links the runner too (sanitized).
build/asan/tests/wasm/test_wasm_diff: tests/wasm/test_wasm_diff.c $(WASM_DIFF_SRCS) \
		$(WASM_DIFF_HDRS) $(TEST_COMMON:%.c=build/asan/obj/%.o) build/asan/libcapsa.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -Itests -o $@ $< $(WASM_DIFF_SRCS) $(SAN_TEST_COMMON) \
		build/asan/libcapsa.a $(LDLIBS) $(TEST_LDLIBS)

TEST_DEPS += build/wasm/wasm_diff
TEST_DEPS_FAST += build/wasm/wasm_diff

# Long differential run: `make fuzz-wasm-diff SECONDS=600`. Seeds start at
# the current time (printed); mismatching modules are kept in
# build/fuzz/wasm-diff-failures with a line that reproduces each.
WASM_DIFF_SECS := $(or $(SECONDS),600)
.PHONY: fuzz-wasm-diff
fuzz-wasm-diff: build/wasm/wasm_diff
	@mkdir -p build/fuzz/wasm-diff-failures
	build/wasm/wasm_diff --seed $$(date +%s) --seconds $(WASM_DIFF_SECS) \
		--keep build/fuzz/wasm-diff-failures

# libFuzzer target for the compiler (fuzz/wasm/fuzz_jit.c): every source
# under src/wasm, the back end included.
WASM_JIT_FUZZ_SRCS := fuzz/wasm/fuzz_jit.c $(WASM_DIFF_SRCS) \
	$(sort $(shell find src/wasm -name '*.c')) src/lib/err.c src/lib/file.c src/lib/cpu.c
.PHONY: fuzz-wasm-jit
build/fuzz/wasm_jit_fuzz: $(WASM_JIT_FUZZ_SRCS) $(WASM_DIFF_HDRS) \
		$(shell find src/wasm -name '*.h') include/capsa/wasm.h
	@mkdir -p $(dir $@)
	clang $(WASM_FUZZ_FLAGS) -Itests -o $@ $(WASM_JIT_FUZZ_SRCS) -lm
fuzz-wasm-jit: build/fuzz/wasm_jit_fuzz
	@fuzz/wasm/run.sh $(WASM_FUZZ_SECS) jit
ifneq ($(shell command -v clang 2>/dev/null),)
TEST_DEPS += build/fuzz/wasm_jit_fuzz
endif

# Compile-time probe of bench/wasm/compile.sh (load, instantiate, first calls).
build/wasm/compile_time: bench/wasm/compile_time.c build/libcapsa.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -o $@ $< build/libcapsa.a $(LDLIBS)
.PHONY: bench-wasm-compile
bench-wasm-compile: build/capsa build/wasm/compile_time
	@bench/wasm/compile.sh
