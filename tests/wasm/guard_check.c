/* SPDX-License-Identifier: Apache-2.0 */
/* Helper for tests/wasm/test_wasi (built without sanitizers by mk/wasm.mk,
 * so that memories get guard regions): checks the fault handling of
 * src/wasm/guard.c through the embedding API.
 *   guard_check threads  several threads, each with its own store and
 *                        instance, alternate in-bounds loads and loads that
 *                        fault; every fault must be that thread's trap
 *   guard_check crash    after a wasm trap, a fault outside any linear
 *                        memory must still kill the process with SIGSEGV
 *   guard_check chain    a SIGSEGV handler installed by the embedder before
 *                        any memory existed still gets faults outside wasm
 *   guard_check offsets MODULE
 *                        calls every export of MODULE with an address out of
 *                        bounds and prints "name function offset" for each
 *                        trap (test_wasi compares this with and without
 *                        guard regions)
 * Prints "<mode> ok" and exits 0 when the checks hold. */
#include "capsa/wasm.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* (module (memory 1) (func (export "load") (param i32) (result i32)
 *   local.get 0 i32.load)) */
static const uint8_t module_bytes[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x08, 0x01, 0x04, 0x6c, 0x6f, 0x61,
    0x64, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b};

static struct capsa_wasm_module *mod;
/* An address outside any linear memory (hidden from the compiler). */
static volatile uintptr_t wild = 16;

struct box {
	struct capsa_wasm_store *s;
	struct capsa_wasm_func *load;
};

static int box_open(struct box *b)
{
	struct err e = {0};
	struct capsa_wasm_extern x;
	b->s = capsa_wasm_store_new(NULL, &e);
	if (!b->s)
		return -1;
	struct capsa_wasm_instance *in = capsa_wasm_instantiate(b->s, mod, NULL, NULL, NULL, &e);
	if (!in || capsa_wasm_instance_export(in, "load", &x) || x.kind != CAPSA_WASM_EXTERN_FUNC)
		return -1;
	b->load = x.u.func;
	return 0;
}

/* 0: loaded; 1: out-of-bounds trap; -1: anything else. */
static int load(struct box *b, uint32_t addr)
{
	union capsa_wasm_val v[1] = {{.i32 = (int32_t)addr}};
	struct capsa_wasm_trap_info info;
	enum capsa_wasm_trap t = capsa_wasm_call(b->s, b->load, v, &info);
	if (t == CAPSA_WASM_OK)
		return v[0].i32 == 0 ? 0 : -1;
	return t == CAPSA_WASM_TRAP_MEMORY_OOB && info.func_index == 0 ? 1 : -1;
}

static void *worker(void *arg)
{
	struct box b;
	(void)arg;
	if (box_open(&b))
		return (void *)1;
	for (uint32_t i = 0; i < 3000; i++) {
		if (load(&b, (i * 4) % 65532) != 0)
			return (void *)1;
		/* Just past the end, far past it, and the last reachable byte. */
		uint32_t bad = i % 3 == 0 ? 65533 : i % 3 == 1 ? 0x10000000u + i : 0xfffffffcu;
		if (load(&b, bad) != 1)
			return (void *)1;
	}
	capsa_wasm_store_free(b.s);
	return NULL;
}

static sigjmp_buf embedder_jb;
static volatile sig_atomic_t embedder_faults;

static void embedder_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	embedder_faults++;
	siglongjmp(embedder_jb, 1);
}

static int offsets(const char *path)
{
	struct err e = {0};
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 16];
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	struct capsa_wasm_module *m = n ? capsa_wasm_module_load(buf, n, &e) : NULL;
	struct capsa_wasm_store *s = m ? capsa_wasm_store_new(NULL, &e) : NULL;
	struct capsa_wasm_instance *in =
	    s ? capsa_wasm_instantiate(s, m, NULL, NULL, NULL, &e) : NULL;
	if (!in) {
		fprintf(stderr, "guard_check: %s: %s\n", path, n ? e.msg : "cannot read");
		return 1;
	}
	for (uint32_t i = 0; i < capsa_wasm_instance_export_count(in); i++) {
		struct capsa_wasm_extern x;
		const char *name = capsa_wasm_instance_export_at(in, i, &x);
		if (x.kind != CAPSA_WASM_EXTERN_FUNC)
			continue;
		union capsa_wasm_val v[2] = {{.i32 = 0x7ffffff0}};
		struct capsa_wasm_trap_info info;
		enum capsa_wasm_trap t = capsa_wasm_call(s, x.u.func, v, &info);
		if (t != CAPSA_WASM_TRAP_MEMORY_OOB) {
			printf("%s: no out-of-bounds trap (%s)\n", name, capsa_wasm_trap_name(t));
			return 1;
		}
		printf("%s %lld %u\n", name, (long long)info.func_index, info.offset);
	}
	capsa_wasm_store_free(s);
	capsa_wasm_module_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	struct err e = {0};
	if (!strcmp(mode, "offsets") && argc > 2)
		return offsets(argv[2]);
	if (!strcmp(mode, "chain")) {
		struct sigaction sa = {0};
		sa.sa_sigaction = embedder_handler;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, NULL);
	}
	mod = capsa_wasm_module_load(module_bytes, sizeof(module_bytes), &e);
	if (!mod) {
		fprintf(stderr, "guard_check: %s\n", e.msg);
		return 1;
	}
	if (!strcmp(mode, "threads")) {
		pthread_t t[4];
		void *r;
		int bad = 0;
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, worker, NULL);
		for (int i = 0; i < 4; i++) {
			pthread_join(t[i], &r);
			bad |= r != NULL;
		}
		if (bad)
			return 1;
	} else if (!strcmp(mode, "crash") || !strcmp(mode, "chain")) {
		struct box b;
		if (box_open(&b) || load(&b, 1u << 20) != 1)
			return 1;
		if (!strcmp(mode, "crash")) {
			fflush(stdout);
			*(volatile int *)wild = 1; /* must kill the process */
			return 1;
		}
		if (!sigsetjmp(embedder_jb, 0))
			*(volatile int *)wild = 1;
		if (embedder_faults != 1 || load(&b, 1u << 20) != 1 || load(&b, 8) != 0)
			return 1;
		capsa_wasm_store_free(b.s);
	} else {
		fprintf(stderr, "usage: guard_check threads|crash|chain|offsets MODULE\n");
		return 2;
	}
	capsa_wasm_module_free(mod);
	printf("%s ok\n", mode);
	return 0;
}
