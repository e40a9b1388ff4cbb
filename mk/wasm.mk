# WebAssembly runtime: spec-test runner needs json-c; tools come from wabt,
# clang/lld/wasi-libc (see scripts/deps/wasm.txt).
TEST_LDLIBS += -ljson-c
