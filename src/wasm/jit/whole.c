/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling an instance whole at instantiation: each thread's share of the
 * functions, whether a second thread helps (a CPU idle for it) and the
 * order in which the threads take the functions, and joining their code. */
#include "wasm/jit/whole.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/cpu.h"
#include "wasm/jit/jit.h"

/* The size class of a body: the bit length of its size in bytes. */
static unsigned size_class(uint32_t len)
{
	return len ? 32u - (unsigned)__builtin_clz(len) : 0;
}

uint32_t *jit_largest_first(const struct capsa_wasm_module *m)
{
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	uint32_t *order = malloc(((size_t)ndef + 1) * sizeof(*order));
	if (!order)
		return NULL;
	/* a counting sort by size class, largest first: in one pass, where a
	 * sort by size takes longer than it saves on a module of many small
	 * functions */
	uint32_t at[34] = {0};
	for (uint32_t i = 0; i < ndef; i++)
		at[size_class(m->code[i].body_len)]++;
	for (uint32_t k = 33, pos = 0; k-- > 0;) {
		uint32_t n = at[k];
		at[k] = pos;
		pos += n;
	}
	for (uint32_t i = 0; i < ndef; i++)
		order[at[size_class(m->code[i].body_len)]++] = i;
	return order;
}

int jit_want_helper(struct jit_store *js, const struct capsa_wasm_module *m, int dump)
{
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	if (js->threads == 1 || ndef < 2 || dump)
		return 0;
	if (!js->threads && (jit_bodies_len(m) < WASM_JIT_PARALLEL_BYTES || !cpu_idle_now()))
		return 0;
	/* Compiling registers the signatures of call_indirect: done here
	 * first, so that the threads only look them up. */
	for (uint32_t t = 0; t < m->ntypes; t++)
		if (!jit_sig(js, &m->types[t]))
			return 0;
	return 1;
}

/* One thread's share of a module's functions: each takes the next function
 * not yet taken (from *next) and compiles it into a buffer of its own (the
 * second thread's: the second half of the region's mapping, or a heap
 * buffer); the second thread's code joins the first's at the end. */
struct jshare {
	struct jit_store *js;
	struct capsa_wasm_instance *in;
	struct jit_stubs st;
	uint32_t *labels;      /* per defined function, labels of the region's buffer */
	uint8_t *compiled;     /* per defined function */
	const uint32_t *order; /* the order the functions are taken in, or NULL */
	_Atomic uint32_t *next;
	uint32_t ndef, count; /* defined functions, and how many this one took */
	struct xbuf b;
	struct jit_site *sites;
	uint32_t nsites, capsites, uncompiled;
	size_t prefault; /* bytes of its fixed buffer to fault in when it starts */
	int rc;
};

uint64_t jit_bodies_len(const struct capsa_wasm_module *m)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < m->nfuncs - m->nimp_funcs; i++)
		n += m->code[i].body_len;
	return n;
}

/* Room for the share's machine code: in a mapping, its first pages faulted
 * in at once (sh->prefault); in a heap buffer, about three to five times
 * the bodies' bytes given at once, so that it is not copied as it grows (it
 * still grows if that was too little; untouched, the room costs nothing).
 * The same for its labels, branches and sites (about one label and one
 * branch per seven or eight body bytes, a site per twenty), which would
 * otherwise also fault in fresh pages each time they grow. */
static void presize(struct jshare *sh, const struct capsa_wasm_module *m)
{
	struct xbuf *b = &sh->b;
	if (b->fixed && b->cap < sh->prefault) {
		madvise(b->p + b->cap, sh->prefault - b->cap, MADV_POPULATE_WRITE);
		b->cap = sh->prefault;
	}
	uint64_t len = jit_bodies_len(m), n = 4096 + 5 * len;
	uint8_t *p = b->fixed || n <= b->cap || n > (1ull << 30) ? NULL : realloc(b->p, n);
	if (p) {
		b->p = p;
		b->cap = n;
	}
	if (len > (1u << 30))
		return;
	xb_presize(b, 64 + 2 * sh->ndef + (uint32_t)len / 6, 64 + (uint32_t)len / 6);
	uint32_t nsites = 64 + (uint32_t)len / 12;
	struct jit_site *q =
	    nsites <= sh->capsites ? NULL : realloc(sh->sites, nsites * sizeof(*q));
	if (q) {
		sh->sites = q;
		sh->capsites = nsites;
	}
}

/* A function left to the interpreter: its stub. 0 or -1. */
static int share_stub(struct jshare *sh, uint32_t i)
{
	const struct capsa_wasm_module *m = sh->in->mod;
	struct jc c;
	memset(&c, 0, sizeof(c));
	c.b = &sh->b;
	c.in = sh->in;
	c.fidx = m->nimp_funcs + i;
	c.cur_off = m->code[i].body_off;
	c.sites = &sh->sites;
	c.nsites = &sh->nsites;
	c.capsites = &sh->capsites;
	x_bind(c.b, sh->labels[i]);
	/* The interpreter reads every argument from the cells. */
	jc_entry_args(&c, sh->in->funcs[m->nimp_funcs + i]->type, sh->labels[sh->ndef + i], 1);
	jit_interp_stub(&c, sh->in->funcs[m->nimp_funcs + i]);
	return c.fail ? -1 : 0;
}

/* The share's functions from the k-th taken on, one compiler c (ready) for
 * all. 0 or -1. */
static int compile_functions(struct jshare *sh, struct jc *c, uint32_t k)
{
	const struct capsa_wasm_module *m = sh->in->mod;
	struct xbuf *b = &sh->b;
	for (; k < sh->ndef; k = atomic_fetch_add(sh->next, 1)) {
		uint32_t i = sh->order ? sh->order[k] : k;
		if (!sh->count++)
			presize(sh, m);
		size_t start = b->n;
		uint32_t nfix = b->nfixes, nsites = sh->nsites;
		jit_jc_reuse(c);
		x_bind(b, sh->labels[i]);
		int rc = jc_function(c, i);
		if (b->oom)
			return -1;
		sh->compiled[i] = rc == 0;
		if (rc) {
			b->n = start;
			b->nfixes = nfix;
			sh->nsites = nsites;
			sh->uncompiled++;
			if (share_stub(sh, i))
				return -1;
		}
	}
	return 0;
}

static int compile_share(struct jshare *sh)
{
	/* The first function is taken before the instance is looked at: a
	 * helper finding none left may run after the instance is gone. */
	uint32_t k = atomic_fetch_add(sh->next, 1);
	if (k >= sh->ndef)
		return 0;
	struct jc c;
	jit_jc_init(&c, sh->in, sh->js, &sh->b, &sh->st, sh->labels, sh->ndef);
	c.sites = &sh->sites;
	c.nsites = &sh->nsites;
	c.capsites = &sh->capsites;
	int rc = compile_functions(sh, &c, k);
	jit_jc_release(&c);
	return rc;
}

/* What the two threads share. The second may start only after the first
 * has taken every function (a busy machine): the first then goes on
 * without waiting for it, and whichever lets go last frees this. */
struct jpool {
	_Atomic uint32_t next;
	_Atomic int refs;
	_Atomic int done; /* the helper's share is complete */
	uint32_t nshared; /* labels of the first share's buffer the helper's knows */
	struct jshare helper;
};

static void pool_release(struct jpool *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	if (p->helper.b.fixed) /* its code is in the region's mapping */
		p->helper.b.p = NULL;
	xb_free(&p->helper.b);
	free(p->helper.sites);
	free(p);
}

static void *helper_thread(void *arg)
{
	struct jpool *p = arg;
	p->helper.rc = compile_share(&p->helper);
	/* its branches within its code are patched here, in parallel */
	if (!p->helper.rc && p->helper.count)
		p->helper.rc = x_settle(&p->helper.b, p->nshared);
	atomic_store(&p->done, 1);
	pool_release(p);
	return NULL;
}

/* Appends the helper's code, labels and sites to the first share's. Code
 * written in the second half of the region's mapping stays there: *gap is
 * then where the unused pages between the two start (0: none). */
static int join_shares(struct jshare *a, struct jshare *b, uint32_t nshared, size_t *gap)
{
	size_t end = (a->b.n + 4095) & ~(size_t)4095;
	int adopt = b->b.fixed && end < a->b.room;
	int64_t base = adopt ? x_adopt(&a->b, &b->b, nshared, (uint32_t)a->b.room)
	                     : x_append(&a->b, &b->b, nshared);
	*gap = adopt ? end : 0;
	if (base < 0)
		return -1;
	if (b->nsites) {
		struct jit_site *p =
		    realloc(a->sites, ((size_t)a->nsites + b->nsites) * sizeof(*p));
		if (!p)
			return -1;
		a->sites = p;
		for (uint32_t k = 0; k < b->nsites; k++) {
			p[a->nsites + k] = b->sites[k];
			p[a->nsites + k].code += (uint32_t)base;
		}
		a->nsites += b->nsites;
		a->capsites = a->nsites;
	}
	a->uncompiled += b->uncompiled;
	return 0;
}

/* The bytes of code each of n threads will likely write into its room
 * (three per body byte in all, up to 32 MiB): faulted in at once (older
 * kernels refuse: each page faults when first written), rather than one
 * fault per page or window as the code grows. */
static size_t likely_code(const struct xbuf *b, const struct capsa_wasm_module *m, unsigned n)
{
	uint64_t bytes = 4096 + 3 * jit_bodies_len(m) / n, most = (32u << 20) / n;
	bytes = bytes < most ? bytes : most;
	bytes = bytes < b->room ? bytes : b->room;
	return (size_t)((bytes + 4095) & ~4095ull);
}

/* Starts the helper thread on pool p; NULL when compiling alone. The
 * helper writes into the second half of the first share's mapping (as
 * much room as the first has; map_room), or else a buffer of its own. */
static struct jpool *start_helper(struct jpool *p, const struct jshare *first, uint32_t nshared,
                                  pthread_t *th)
{
	if (!p)
		return NULL;
	p->helper = *first;
	memset(&p->helper.b, 0, sizeof(p->helper.b));
	if (first->b.fixed) {
		p->helper.b.p = first->b.p + first->b.room;
		p->helper.b.fixed = 1;
		p->helper.b.room = first->b.room;
		p->helper.prefault = likely_code(&p->helper.b, first->in->mod, 2);
	}
	p->helper.next = &p->next;
	atomic_init(&p->next, 0);
	atomic_init(&p->refs, 2);
	atomic_init(&p->done, 0);
	p->nshared = nshared;
	/* its buffer knows the shared labels, unbound */
	for (uint32_t l = 0; l < nshared; l++)
		x_label(&p->helper.b);
	if (p->helper.b.oom || pthread_create(th, NULL, helper_thread, p)) {
		if (p->helper.b.fixed)
			p->helper.b.p = NULL;
		xb_free(&p->helper.b);
		free(p);
		return NULL;
	}
	return p;
}

int jit_compile_all(struct jit_store *js, struct capsa_wasm_instance *in, struct xbuf *b,
                    struct jit_region *rg, uint32_t *labels, uint8_t *compiled, int dump,
                    size_t *gap)
{
	const struct capsa_wasm_module *m = in->mod;
	uint32_t ndef = m->nfuncs - m->nimp_funcs;
	_Atomic uint32_t next = 0;
	struct jshare sh = {.js = js,
	                    .in = in,
	                    .labels = labels,
	                    .compiled = compiled,
	                    .next = &next,
	                    .ndef = ndef};
	jit_stubs_emit(b, &sh.st, &rg->tramp, &rg->unwind);
	sh.st.metered = rg->metered;
	rg->body = (uint32_t)b->n;
	for (uint32_t i = 0; i < 2 * ndef; i++)
		labels[i] = x_label(b);
	uint32_t nshared = b->nlabels;
	sh.b = *b;
	*gap = 0;
	pthread_t th;
	struct jpool *p = NULL;
	uint32_t *order = NULL;
	/* on two threads, the largest functions first */
	if (jit_want_helper(js, m, dump) && (order = jit_largest_first(m))) {
		sh.order = order;
		p = start_helper(calloc(1, sizeof(*p)), &sh, nshared, &th);
	}
	if (p)
		sh.next = &p->next;
	else
		sh.order = NULL;
	if (sh.b.fixed)
		sh.prefault = likely_code(&sh.b, m, p ? 2 : 1);
	int rc = compile_share(&sh);
	if (p && (rc || sh.count < ndef)) {
		/* it took functions (or this share stopped early): wait for it
		 * to finish them, which is soon (the largest were taken first);
		 * waiting for the thread to exit would add its exit and a
		 * wake-up */
		while (!atomic_load(&p->done))
			sched_yield();
		pthread_detach(th);
		if (!rc && (p->helper.rc || join_shares(&sh, &p->helper, nshared, gap)))
			rc = -1;
	} else if (p) {
		pthread_detach(th);
	}
	if (p)
		pool_release(p);
	free(order); /* a helper let go takes no function: it never reads it */
	*b = sh.b;
	rg->sites = sh.sites;
	rg->nsites = sh.nsites;
	rg->uncompiled = sh.uncompiled;
	return rc ? -1 : x_resolve(b);
}
