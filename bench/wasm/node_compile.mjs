// SPDX-License-Identifier: Apache-2.0
// Compile-time probe for bench/wasm/compile.sh under node (V8):
//   node [V8 flags] node_compile.mjs MODULE.wasm RUNS
// prints the median seconds of a synchronous `new WebAssembly.Module()`.
// Each run appends a different custom section, so that V8's cache of
// compiled modules (keyed by the bytes) never answers instead.
import { readFileSync } from 'node:fs';
import { argv } from 'node:process';

const bytes = readFileSync(argv[2]);
const runs = Number(argv[3]);
const t = [];
for (let i = 0; i < runs; i++) {
	const tag = Buffer.from([0, 6, 1, 0x72, i & 255, (i >> 8) & 255, 0, 0]);
	const unique = Buffer.concat([bytes, tag]);
	const t0 = process.hrtime.bigint();
	new WebAssembly.Module(unique);
	t.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
t.sort((a, b) => a - b);
const m = runs % 2 ? t[(runs - 1) / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
console.log(`compile ${m.toFixed(6)}`);
