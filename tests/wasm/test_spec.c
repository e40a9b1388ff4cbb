/* SPDX-License-Identifier: Apache-2.0 */
/* The official WebAssembly spec test suite, run through the embedding API.
 * Each .wast of ../shared/wasm-testsuite is converted with wast2json into a
 * temporary directory at test time; every command (module, register,
 * assert_return, assert_trap, assert_exhaustion, assert_invalid,
 * assert_malformed, assert_unlinkable, assert_uninstantiable, action) is run.
 * One test case per file; it fails if any assertion of the file fails.
 * Modules given in text form (assert_malformed of quoted text) are not
 * binary and are counted as "text" in the report, not as passes.
 * Every file runs under each engine the host has (the compiler and the
 * interpreter); CAPSA_WASM_ENGINE=jit or interp runs one.
 * CAPSA_WASM_SPEC=name.wast runs only that file, verbosely. */
#include "common/testutil.h"

#include "capsa/wasm.h"

#include <dirent.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALS 64

struct named {
	char *name;
	struct capsa_wasm_instance *inst;
};

struct spec {
	const char *dir;
	struct capsa_wasm_store *store;
	struct capsa_wasm_module **mods;
	size_t nmods;
	struct named *names; /* registered and $named instances */
	size_t nnames;
	struct capsa_wasm_instance *cur;
	/* spectest externs */
	struct capsa_wasm_func *print[8];
	struct capsa_wasm_global *g_i32, *g_i64, *g_f32, *g_f64;
	struct capsa_wasm_table *table;
	struct capsa_wasm_memory *memory;
	int passed, failed, text;
	int verbose;
};

static enum capsa_wasm_trap host_print(struct capsa_wasm_caller *c, void *env,
                                       union capsa_wasm_val *cells)
{
	(void)c;
	(void)env;
	(void)cells;
	return CAPSA_WASM_OK;
}

static void spectest_init(struct spec *sp)
{
	struct err e = {0};
	static const uint8_t i32[] = {CAPSA_WASM_I32}, i64[] = {CAPSA_WASM_I64},
	                     f32[] = {CAPSA_WASM_F32}, f64[] = {CAPSA_WASM_F64},
	                     i32f32[] = {CAPSA_WASM_I32, CAPSA_WASM_F32},
	                     f64f64[] = {CAPSA_WASM_F64, CAPSA_WASM_F64};
	const struct capsa_wasm_functype types[] = {
	    {0, 0, NULL, NULL}, {1, 0, i32, NULL},    {1, 0, i64, NULL},    {1, 0, f32, NULL},
	    {1, 0, f64, NULL},  {2, 0, i32f32, NULL}, {2, 0, f64f64, NULL},
	};
	for (int i = 0; i < 7; i++)
		sp->print[i] = capsa_wasm_func_new(sp->store, &types[i], host_print, NULL, &e);
	union capsa_wasm_val v;
	v.bits = 0;
	v.i32 = 666;
	sp->g_i32 = capsa_wasm_global_new(sp->store, CAPSA_WASM_I32, 0, v, &e);
	v.i64 = 666;
	sp->g_i64 = capsa_wasm_global_new(sp->store, CAPSA_WASM_I64, 0, v, &e);
	v.bits = 0;
	v.f32 = 666.6f;
	sp->g_f32 = capsa_wasm_global_new(sp->store, CAPSA_WASM_F32, 0, v, &e);
	v.f64 = 666.6;
	sp->g_f64 = capsa_wasm_global_new(sp->store, CAPSA_WASM_F64, 0, v, &e);
	sp->table = capsa_wasm_table_new(sp->store, CAPSA_WASM_FUNCREF, 10, 20, &e);
	sp->memory = capsa_wasm_memory_new(sp->store, 1, 2, &e);
}

static struct capsa_wasm_instance *find_named(struct spec *sp, const char *name)
{
	for (size_t i = sp->nnames; i-- > 0;)
		if (!strcmp(sp->names[i].name, name))
			return sp->names[i].inst;
	return NULL;
}

static void add_named(struct spec *sp, const char *name, struct capsa_wasm_instance *in)
{
	sp->names = realloc(sp->names, (sp->nnames + 1) * sizeof(*sp->names));
	sp->names[sp->nnames].name = strdup(name);
	sp->names[sp->nnames].inst = in;
	sp->nnames++;
}

static int resolve(void *env, const char *module, const char *name,
                   enum capsa_wasm_extern_kind kind, struct capsa_wasm_extern *out)
{
	struct spec *sp = env;
	(void)kind;
	if (!strcmp(module, "spectest")) {
		static const char *const prints[] = {"print",        "print_i32", "print_i64",
		                                     "print_f32",    "print_f64", "print_i32_f32",
		                                     "print_f64_f64"};
		for (int i = 0; i < 7; i++)
			if (!strcmp(name, prints[i])) {
				out->kind = CAPSA_WASM_EXTERN_FUNC;
				out->u.func = sp->print[i];
				return 0;
			}
		struct {
			const char *n;
			enum capsa_wasm_extern_kind k;
			void *p;
		} others[] = {
		    {"global_i32", CAPSA_WASM_EXTERN_GLOBAL, sp->g_i32},
		    {"global_i64", CAPSA_WASM_EXTERN_GLOBAL, sp->g_i64},
		    {"global_f32", CAPSA_WASM_EXTERN_GLOBAL, sp->g_f32},
		    {"global_f64", CAPSA_WASM_EXTERN_GLOBAL, sp->g_f64},
		    {"table", CAPSA_WASM_EXTERN_TABLE, sp->table},
		    {"memory", CAPSA_WASM_EXTERN_MEMORY, sp->memory},
		};
		for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
			if (!strcmp(name, others[i].n)) {
				out->kind = others[i].k;
				out->u.ptr = others[i].p;
				return 0;
			}
		return -1;
	}
	struct capsa_wasm_instance *in = find_named(sp, module);
	if (!in)
		return -1;
	return capsa_wasm_instance_export(in, name, out);
}

static struct capsa_wasm_module *load_file(struct spec *sp, const char *file, struct err *e)
{
	char path[4096];
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", sp->dir, file);
	char *data = read_file(path, &len);
	if (!data) {
		err_set(e, ERR_INPUT, "cannot read %s", path);
		return NULL;
	}
	struct capsa_wasm_module *m = capsa_wasm_module_load((const uint8_t *)data, len, e);
	free(data);
	if (m) {
		sp->mods = realloc(sp->mods, (sp->nmods + 1) * sizeof(*sp->mods));
		sp->mods[sp->nmods++] = m;
	}
	return m;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* Parse one wast2json value into cells; returns cells used or -1. */
static int parse_value(json_object *v, union capsa_wasm_val *cells, uint8_t *type)
{
	const char *t = jstr(v, "type");
	json_object *val;
	if (!t)
		return -1;
	if (!json_object_object_get_ex(v, "value", &val))
		val = NULL;
	const char *s =
	    val && json_object_is_type(val, json_type_string) ? json_object_get_string(val) : NULL;
	cells[0].bits = 0;
	if (!strcmp(t, "i32") || !strcmp(t, "f32")) {
		*type = t[0] == 'i' ? CAPSA_WASM_I32 : CAPSA_WASM_F32;
		cells[0].i32 = (int32_t)(uint32_t)strtoul(s ? s : "0", NULL, 10);
		return 1;
	}
	if (!strcmp(t, "i64") || !strcmp(t, "f64")) {
		*type = t[0] == 'i' ? CAPSA_WASM_I64 : CAPSA_WASM_F64;
		cells[0].bits = strtoull(s ? s : "0", NULL, 10);
		return 1;
	}
	if (!strcmp(t, "funcref") || !strcmp(t, "externref")) {
		*type = t[0] == 'f' ? CAPSA_WASM_FUNCREF : CAPSA_WASM_EXTERNREF;
		if (!s || !strcmp(s, "null"))
			cells[0].bits = 0;
		else
			cells[0].bits = strtoull(s, NULL, 10) + 1;
		return 1;
	}
	if (!strcmp(t, "v128")) {
		*type = CAPSA_WASM_V128;
		const char *lane = jstr(v, "lane_type");
		int n = (int)json_object_array_length(val);
		uint8_t bytes[16] = {0};
		int w = 16 / (n ? n : 1);
		for (int i = 0; i < n && i < 16; i++) {
			const char *ls = json_object_get_string(json_object_array_get_idx(val, i));
			uint64_t x = strncmp(ls, "nan", 3) ? strtoull(ls, NULL, 10) : 0;
			memcpy(bytes + i * w, &x, (size_t)w);
		}
		(void)lane;
		memcpy(&cells[0].bits, bytes, 8);
		memcpy(&cells[1].bits, bytes + 8, 8);
		return 2;
	}
	return -1;
}

static int nan_ok(const char *s, uint64_t bits, int is64)
{
	uint64_t expo = is64 ? 0x7ff0000000000000ull : 0x7f800000ull;
	uint64_t quiet = is64 ? 0x0008000000000000ull : 0x00400000ull;
	uint64_t frac = is64 ? 0x000fffffffffffffull : 0x007fffffull;
	if ((bits & expo) != expo || !(bits & frac))
		return 0;
	if (!strcmp(s, "nan:canonical"))
		return (bits & frac) == quiet;
	return (bits & quiet) != 0; /* nan:arithmetic */
}

static int value_matches(json_object *exp, const union capsa_wasm_val *got)
{
	const char *t = jstr(exp, "type");
	json_object *val;
	if (!json_object_object_get_ex(exp, "value", &val))
		val = NULL;
	const char *s =
	    val && json_object_is_type(val, json_type_string) ? json_object_get_string(val) : NULL;
	if (!t)
		return 0;
	if (!strcmp(t, "f32") && s && !strncmp(s, "nan:", 4))
		return nan_ok(s, (uint32_t)got[0].i32, 0);
	if (!strcmp(t, "f64") && s && !strncmp(s, "nan:", 4))
		return nan_ok(s, got[0].bits, 1);
	if (!strcmp(t, "funcref") && !s)
		return got[0].bits != 0;
	if (!strcmp(t, "v128")) {
		const char *lane = jstr(exp, "lane_type");
		int n = (int)json_object_array_length(val);
		int w = 16 / (n ? n : 1);
		uint8_t bytes[16];
		memcpy(bytes, &got[0].bits, 8);
		memcpy(bytes + 8, &got[1].bits, 8);
		for (int i = 0; i < n; i++) {
			const char *ls = json_object_get_string(json_object_array_get_idx(val, i));
			uint64_t x = 0;
			memcpy(&x, bytes + i * w, (size_t)w);
			if (!strncmp(ls, "nan:", 4)) {
				if (!nan_ok(ls, x, !strcmp(lane, "f64")))
					return 0;
			} else if (x != (strtoull(ls, NULL, 10) &
			                 (w == 8 ? ~0ull : ((1ull << (w * 8)) - 1)))) {
				return 0;
			}
		}
		return 1;
	}
	union capsa_wasm_val want[2];
	uint8_t type;
	if (parse_value(exp, want, &type) < 0)
		return 0;
	if (type == CAPSA_WASM_I32 || type == CAPSA_WASM_F32)
		return (uint32_t)want[0].i32 == (uint32_t)got[0].i32;
	return want[0].bits == got[0].bits;
}

/* Run an action; returns the trap and fills results. -2 when not runnable. */
static int do_action(struct spec *sp, json_object *act, union capsa_wasm_val *cells,
                     struct capsa_wasm_trap_info *info)
{
	const char *type = jstr(act, "type"), *field = jstr(act, "field"),
	           *modname = jstr(act, "module");
	struct capsa_wasm_instance *in = modname ? find_named(sp, modname) : sp->cur;
	struct capsa_wasm_extern x;
	json_object *fo = json_object_object_get(act, "field");
	if (!in || !field ||
	    capsa_wasm_instance_export_n(in, field, (size_t)json_object_get_string_len(fo), &x))
		return -2;
	if (!strcmp(type, "get")) {
		if (x.kind != CAPSA_WASM_EXTERN_GLOBAL)
			return -2;
		cells[0] = capsa_wasm_global_get(x.u.global);
		return 0;
	}
	if (x.kind != CAPSA_WASM_EXTERN_FUNC)
		return -2;
	json_object *args;
	int n = 0;
	if (json_object_object_get_ex(act, "args", &args)) {
		for (size_t i = 0; i < json_object_array_length(args); i++) {
			uint8_t t;
			int k = parse_value(json_object_array_get_idx(args, i), cells + n, &t);
			if (k < 0 || n + k > MAX_VALS - 2)
				return -2;
			n += k;
		}
	}
	return (int)capsa_wasm_call(sp->store, x.u.func, cells, info);
}

static void report(struct spec *sp, int ok, int line, const char *what, const char *detail)
{
	if (ok) {
		sp->passed++;
		return;
	}
	sp->failed++;
	if (sp->failed <= 20 || sp->verbose)
		printf("# line %d: %s failed%s%s\n", line, what, detail ? ": " : "",
		       detail ? detail : "");
}

static void run_command(struct spec *sp, json_object *cmd)
{
	const char *type = jstr(cmd, "type");
	int line = json_object_get_int(json_object_object_get(cmd, "line"));
	const char *file = jstr(cmd, "filename"), *mtype = jstr(cmd, "module_type");
	struct err e = {0};
	struct capsa_wasm_trap_info info;
	union capsa_wasm_val cells[MAX_VALS];
	memset(cells, 0, sizeof(cells));
	if (!type)
		return;
	if (mtype && strcmp(mtype, "binary")) {
		sp->text++;
		return;
	}
	if (!strcmp(type, "module")) {
		struct capsa_wasm_module *m = load_file(sp, file, &e);
		struct capsa_wasm_instance *in = NULL;
		if (m)
			in = capsa_wasm_instantiate(sp->store, m, resolve, sp, &info, &e);
		sp->cur = in;
		const char *name = jstr(cmd, "name");
		if (name && in)
			add_named(sp, name, in);
		report(sp, in != NULL, line, "module", e.msg);
	} else if (!strcmp(type, "register")) {
		const char *name = jstr(cmd, "name"), *as = jstr(cmd, "as");
		struct capsa_wasm_instance *in = name ? find_named(sp, name) : sp->cur;
		if (in && as)
			add_named(sp, as, in);
		report(sp, in && as, line, "register", NULL);
	} else if (!strcmp(type, "assert_return") || !strcmp(type, "action")) {
		json_object *act = json_object_object_get(cmd, "action"), *exp;
		int rc = do_action(sp, act, cells, &info);
		int ok = rc == 0;
		char detail[256] = "";
		if (rc)
			snprintf(detail, sizeof(detail), "%s %s",
			         rc == -2 ? "cannot run" : capsa_wasm_trap_name(rc),
			         jstr(act, "field") ? jstr(act, "field") : "");
		if (ok && !strcmp(type, "assert_return") &&
		    json_object_object_get_ex(cmd, "expected", &exp)) {
			int k = 0;
			for (size_t i = 0; i < json_object_array_length(exp); i++) {
				json_object *ev = json_object_array_get_idx(exp, i);
				if (!value_matches(ev, cells + k)) {
					ok = 0;
					snprintf(detail, sizeof(detail),
					         "%s: result %zu: got 0x%llx", jstr(act, "field"),
					         i, (unsigned long long)cells[k].bits);
				}
				k += !strcmp(jstr(ev, "type"), "v128") ? 2 : 1;
			}
		}
		report(sp, ok, line, type, detail);
	} else if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
		json_object *act = json_object_object_get(cmd, "action");
		int rc = do_action(sp, act, cells, &info);
		report(sp, rc > 0, line, type, jstr(cmd, "text"));
	} else if (!strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed")) {
		struct capsa_wasm_module *m = load_file(sp, file, &e);
		report(sp, m == NULL, line, type, jstr(cmd, "text"));
	} else if (!strcmp(type, "assert_unlinkable") || !strcmp(type, "assert_uninstantiable")) {
		struct capsa_wasm_module *m = load_file(sp, file, &e);
		struct capsa_wasm_instance *in = NULL;
		if (m)
			in = capsa_wasm_instantiate(sp->store, m, resolve, sp, &info, &e);
		report(sp, m && !in, line, type, m ? jstr(cmd, "text") : e.msg);
	} else {
		report(sp, 0, line, type, "unknown command");
	}
}

struct file_state {
	char name[256];
};

static void run_engine(struct spec *sp, const char *tmp, const char *json,
                       enum capsa_wasm_engine eng)
{
	struct err e = {0};
	sp->dir = tmp;
	sp->verbose = getenv("CAPSA_WASM_SPEC") != NULL;
	struct capsa_wasm_limits lim = {.stack_cells = 1u << 20, .call_depth = 20000};
	lim.engine = eng;
	sp->store = capsa_wasm_store_new(&lim, &e);
	assert_non_null(sp->store);
	spectest_init(sp);
	json_object *root = json_object_from_file(json);
	assert_non_null(root);
	json_object *cmds = json_object_object_get(root, "commands");
	for (size_t i = 0; i < json_object_array_length(cmds); i++)
		run_command(sp, json_object_array_get_idx(cmds, i));
	json_object_put(root);
	capsa_wasm_store_free(sp->store);
	for (size_t i = 0; i < sp->nmods; i++)
		capsa_wasm_module_free(sp->mods[i]);
	free(sp->mods);
	for (size_t i = 0; i < sp->nnames; i++)
		free(sp->names[i].name);
	free(sp->names);
}

static void run_file(void **state)
{
	struct file_state *fs = *state;
	char wast[4096], json[4096];
	char *tmp = test_tmpdir();
	assert_non_null(tmp);
	snprintf(wast, sizeof(wast), "%s/../shared/wasm-testsuite/%s", test_root(), fs->name);
	snprintf(json, sizeof(json), "%s/t.json", tmp);
	char *argv[] = {"/usr/bin/wast2json", wast, "-o", json, NULL};
	struct run_result r;
	run_cmd(&r, argv, 120);
	if (r.status != 0)
		printf("# wast2json: %s\n", r.err);
	assert_int_equal(r.status, 0);
	run_result_free(&r);

	/* Under each engine the host has, or the one CAPSA_WASM_ENGINE=jit|interp
	 * names. */
	const char *want = getenv("CAPSA_WASM_ENGINE");
	int failed = 0, ran = 0;
	for (int eng = CAPSA_WASM_ENGINE_JIT; eng <= CAPSA_WASM_ENGINE_INTERP; eng++) {
		const char *name = capsa_wasm_engine_name((enum capsa_wasm_engine)eng);
		if ((want && strcmp(want, name)) ||
		    !capsa_wasm_engine_available((enum capsa_wasm_engine)eng))
			continue;
		struct spec sp = {0};
		run_engine(&sp, tmp, json, (enum capsa_wasm_engine)eng);
		test_measured("spec %s (%s): %d/%d passed%s", fs->name, name, sp.passed,
		              sp.passed + sp.failed,
		              sp.text ? " (text-format modules not counted)" : "");
		failed += sp.failed;
		ran += sp.passed + sp.text > 0;
	}
	assert_int_equal(failed, 0);
	assert_true(ran > 0);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmp);
	free(tmp);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char dir[4096];
	const char *only = getenv("CAPSA_WASM_SPEC");
	snprintf(dir, sizeof(dir), "%s/../shared/wasm-testsuite", test_root());
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);
			if (l < 6 || strcmp(de->d_name + l - 5, ".wast"))
				continue;
			if (only && strcmp(only, de->d_name))
				continue;
			names = realloc(names, (n + 1) * sizeof(char *));
			names[n++] = strdup(de->d_name);
		}
		closedir(d);
	}
	if (!n) {
		printf("1..1\nnot ok 1 - no spec files found in %s\n", dir);
		return 1;
	}
	qsort(names, n, sizeof(char *), cmp_str);
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	struct file_state *st = calloc(n, sizeof(*st));
	for (size_t i = 0; i < n; i++) {
		snprintf(st[i].name, sizeof(st[i].name), "%s", names[i]);
		tests[i].name = st[i].name;
		tests[i].test_func = run_file;
		tests[i].initial_state = &st[i];
		free(names[i]);
	}
	free(names);
	int rc = _cmocka_run_group_tests("wasm_spec", tests, n, NULL, NULL);
	free(tests);
	free(st);
	return rc;
}
