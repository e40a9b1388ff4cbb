#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The compiler fuzzer (build/fuzz/wasm_jit_fuzz) for SECONDS (default 60).
exec "$(dirname "$0")/run.sh" "${1:-60}" jit
