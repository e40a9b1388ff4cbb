/* SPDX-License-Identifier: Apache-2.0 */
/* `capsa wasm run|validate|inspect`: the command line of the WebAssembly
 * runtime, built on the embedding API in include/capsa/wasm.h. */
#include "capsa/wasm.h"
#include "capsa/wasm_wasi.h"
#include "cli/commands.h"
#include "cli/escape.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: capsa wasm run [--dir HOST[::GUEST]]... [--env K=V]... [--fuel N]\n"
	        "                      [--timeout DUR] [--max-memory SIZE] [--engine jit|interp]\n"
	        "                      MODULE.wasm [ARGS...]\n"
	        "       capsa wasm validate [--json] MODULE.wasm\n"
	        "       capsa wasm inspect [--json] MODULE.wasm\n"
	        "Runs, validates or describes a WebAssembly module (see docs/wasm.md).\n");
}

/* "capsa: [PREFIX: ]MESSAGE" on stderr; messages may quote names from the
 * module, so they are escaped. */
static void print_error(const char *prefix, const char *msg)
{
	fputs("capsa: ", stderr);
	if (prefix)
		fprintf(stderr, "%s: ", prefix);
	cli_put_text(stderr, msg, strlen(msg));
	fputc('\n', stderr);
}

static int fail(const struct err *e)
{
	print_error(NULL, e->msg);
	return err_exit_status(e);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	uint64_t mul = 1;
	switch (*end) {
	case 'k':
	case 'K':
		mul = 1ull << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		end++;
		break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (v && v > UINT64_MAX / mul))
		return -1;
	*out = v * mul;
	return 0;
}

/* The longest --timeout: far beyond any run, and small enough that the
 * watchdog's deadline (now + timeout) always fits in a timespec. */
#define TIMEOUT_MAX_SECS 1e9

/* A positive, finite duration of at most TIMEOUT_MAX_SECS: "10", "10s",
 * "500ms", "2m", "1h". */
static int parse_duration(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || !isfinite(v) || v <= 0)
		return -1;
	if (!strcmp(end, "ms"))
		v /= 1000;
	else if (!strcmp(end, "m"))
		v *= 60;
	else if (!strcmp(end, "h"))
		v *= 3600;
	else if (*end && strcmp(end, "s"))
		return -1;
	if (!(v > 0 && v <= TIMEOUT_MAX_SECS))
		return -1;
	*out = v;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"env", required_argument, NULL, 'e'},
	    {"fuel", required_argument, NULL, 'f'},
	    {"timeout", required_argument, NULL, 't'},
	    {"max-memory", required_argument, NULL, 'm'},
	    {"engine", required_argument, NULL, 'E'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct capsa_wasi_preopen *pre = calloc((size_t)argc + 1, sizeof(*pre));
	char **envs = calloc((size_t)argc + 1, sizeof(char *));
	char **dirs = calloc((size_t)argc + 1, sizeof(char *));
	int npre = 0, nenv = 0, rc = 2, c;
	int64_t fuel = -1;
	double timeout = 0;
	const char *timeout_arg = "";
	uint64_t max_mem = 0;
	enum capsa_wasm_engine engine = CAPSA_WASM_ENGINE_DEFAULT;
	struct err e = {0};
	struct capsa_wasm_module *m = NULL;
	if (!pre || !envs || !dirs) {
		fprintf(stderr, "capsa: out of memory\n");
		rc = 1;
		goto out;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': {
			char *d = strdup(optarg), *sep = strstr(d, "::");
			dirs[npre] = d;
			if (sep) {
				*sep = '\0';
				pre[npre].guest = sep + 2;
			} else {
				pre[npre].guest = d;
			}
			pre[npre].host = d;
			if (!*pre[npre].host || !*pre[npre].guest) {
				fprintf(stderr, "capsa: --dir %s: expected HOST[::GUEST]\n",
				        optarg);
				npre++;
				goto out;
			}
			npre++;
			break;
		}
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				fprintf(stderr, "capsa: --env %s: expected KEY=VALUE\n", optarg);
				goto out;
			}
			envs[nenv++] = optarg;
			break;
		case 'f': {
			char *end;
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (errno || *end || v < 0) {
				fprintf(stderr,
				        "capsa: --fuel %s: expected a non-negative number\n",
				        optarg);
				goto out;
			}
			fuel = v;
			break;
		}
		case 't':
			timeout_arg = optarg;
			if (parse_duration(optarg, &timeout)) {
				fprintf(stderr,
				        "capsa: --timeout %s: expected a finite duration like 10s "
				        "or 500ms, greater than 0 and at most 1e9s\n",
				        optarg);
				goto out;
			}
			break;
		case 'm':
			if (parse_size(optarg, &max_mem) || max_mem < 65536) {
				fprintf(stderr,
				        "capsa: --max-memory %s: expected a size of at least 64K\n",
				        optarg);
				goto out;
			}
			break;
		case 'E':
			if (!strcmp(optarg, "jit"))
				engine = CAPSA_WASM_ENGINE_JIT;
			else if (!strcmp(optarg, "interp"))
				engine = CAPSA_WASM_ENGINE_INTERP;
			else {
				fprintf(stderr, "capsa: --engine %s: expected jit or interp\n",
				        optarg);
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto out;
	}
	m = capsa_wasm_module_load_file(argv[optind], &e);
	if (!m) {
		rc = fail(&e);
		goto out;
	}
	struct capsa_wasi_config cfg = {
	    .argc = argc - optind,
	    .argv = argv + optind,
	    .envc = nenv,
	    .envp = envs,
	    .npreopens = npre,
	    .preopens = pre,
	    .stdin_fd = 0,
	    .stdout_fd = 1,
	    .stderr_fd = 2,
	};
	struct capsa_wasi_command cmd = {.module = m,
	                                 .wasi = &cfg,
	                                 .max_memory = max_mem,
	                                 .fuel = fuel,
	                                 .timeout = timeout,
	                                 .engine = engine};
	struct capsa_wasi_outcome res;
	if (capsa_wasi_command_run(&cmd, &res, &e) < 0) {
		fflush(stdout);
		print_error(argv[optind], e.msg);
		rc = err_exit_status(&e);
		goto out;
	}
	fflush(stdout);
	rc = res.status;
	if (res.timed_out)
		fprintf(stderr, "capsa: %s: timed out (--timeout %s)\n", argv[optind], timeout_arg);
	else if (res.message[0]) /* names in it come from the module: escaped */
		print_error(argv[optind], res.message);
out:
	capsa_wasm_module_free(m);
	if (dirs)
		for (int i = 0; i < npre; i++)
			free(dirs[i]);
	free(dirs);
	free(pre);
	free(envs);
	return rc;
}

static void json_str(const char *s)
{
	cli_put_json(stdout, s, strlen(s));
}

static const char *kind_name(enum capsa_wasm_extern_kind k)
{
	static const char *const n[] = {"func", "table", "memory", "global"};
	return (unsigned)k < 4 ? n[k] : "?";
}

static const char *section_name(uint8_t id)
{
	static const char *const n[] = {"custom", "type",   "import",   "function", "table",
	                                "memory", "global", "export",   "start",    "element",
	                                "code",   "data",   "datacount"};
	return id < 13 ? n[id] : "?";
}

static void print_sig(const struct capsa_wasm_functype *t)
{
	printf("(");
	for (uint32_t i = 0; i < t->nparams; i++)
		printf("%s%s", i ? " " : "", capsa_wasm_type_name(t->params[i]));
	printf(") -> (");
	for (uint32_t i = 0; i < t->nresults; i++)
		printf("%s%s", i ? " " : "", capsa_wasm_type_name(t->results[i]));
	printf(")");
}

static int parse_json_opt(int argc, char **argv, int *json, const char *cmd)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j') {
			*json = 1;
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "capsa: wasm %s needs exactly one MODULE.wasm\n", cmd);
		return 2;
	}
	return -1;
}

static int cmd_validate(int argc, char **argv)
{
	int json = 0, rc = parse_json_opt(argc, argv, &json, "validate");
	struct err e = {0};
	if (rc >= 0)
		return rc;
	struct capsa_wasm_module *m = capsa_wasm_module_load_file(argv[optind], &e);
	if (json) {
		printf("{\"module\":");
		json_str(argv[optind]);
		printf(",\"valid\":%s", m ? "true" : "false");
		if (!m) {
			printf(",\"error\":");
			json_str(e.msg);
		}
		printf("}\n");
	} else if (m) {
		printf("%s: valid\n", argv[optind]);
	}
	if (!m)
		return json ? err_exit_status(&e) : fail(&e);
	capsa_wasm_module_free(m);
	return 0;
}

static int cmd_inspect(int argc, char **argv)
{
	int json = 0, rc = parse_json_opt(argc, argv, &json, "inspect");
	struct err e = {0};
	if (rc >= 0)
		return rc;
	struct capsa_wasm_module *m = capsa_wasm_module_load_file(argv[optind], &e);
	if (!m)
		return fail(&e);
	uint32_t ns = capsa_wasm_module_section_count(m), ni = capsa_wasm_module_import_count(m),
	         nx = capsa_wasm_module_export_count(m);
	struct capsa_wasm_section_desc sd;
	struct capsa_wasm_import_desc id;
	struct capsa_wasm_export_desc xd;
	struct capsa_wasm_functype ft;
	if (json) {
		printf("{\"module\":");
		json_str(argv[optind]);
		printf(",\"functions\":%u,\"sections\":[", capsa_wasm_module_func_count(m));
		for (uint32_t i = 0; i < ns; i++) {
			capsa_wasm_module_section(m, i, &sd);
			printf("%s{\"id\":%u,\"name\":", i ? "," : "", sd.id);
			if (sd.name)
				cli_put_json(stdout, sd.name, sd.name_len);
			else
				json_str(section_name(sd.id));
			printf(",\"offset\":%u,\"size\":%u}", sd.offset, sd.size);
		}
		printf("],\"imports\":[");
		for (uint32_t i = 0; i < ni; i++) {
			capsa_wasm_module_import(m, i, &id);
			printf("%s{\"module\":", i ? "," : "");
			cli_put_json(stdout, id.module, id.module_len);
			printf(",\"name\":");
			cli_put_json(stdout, id.name, id.name_len);
			printf(",\"kind\":\"%s\"}", kind_name(id.kind));
		}
		printf("],\"exports\":[");
		for (uint32_t i = 0; i < nx; i++) {
			capsa_wasm_module_export(m, i, &xd);
			printf("%s{\"name\":", i ? "," : "");
			cli_put_json(stdout, xd.name, xd.name_len);
			printf(",\"kind\":\"%s\",\"index\":%u}", kind_name(xd.kind), xd.index);
		}
		printf("]}\n");
	} else {
		printf("module %s: %u functions\nsections:\n", argv[optind],
		       capsa_wasm_module_func_count(m));
		for (uint32_t i = 0; i < ns; i++) {
			capsa_wasm_module_section(m, i, &sd);
			printf("  %-10s offset 0x%08x size %u", section_name(sd.id), sd.offset,
			       sd.size);
			if (sd.name) {
				printf(" name ");
				cli_put_text(stdout, sd.name, sd.name_len);
			}
			printf("\n");
		}
		printf("imports:\n");
		for (uint32_t i = 0; i < ni; i++) {
			capsa_wasm_module_import(m, i, &id);
			printf("  %-6s ", kind_name(id.kind));
			cli_put_text(stdout, id.module, id.module_len);
			printf(".");
			cli_put_text(stdout, id.name, id.name_len);
			if (id.kind == CAPSA_WASM_EXTERN_FUNC) {
				printf(" ");
				print_sig(&id.type);
			}
			printf("\n");
		}
		printf("exports:\n");
		for (uint32_t i = 0; i < nx; i++) {
			capsa_wasm_module_export(m, i, &xd);
			printf("  %-6s ", kind_name(xd.kind));
			cli_put_text(stdout, xd.name, xd.name_len);
			if (xd.kind == CAPSA_WASM_EXTERN_FUNC &&
			    !capsa_wasm_module_functype(m, xd.index, &ft)) {
				printf(" ");
				print_sig(&ft);
			}
			printf("\n");
		}
	}
	capsa_wasm_module_free(m);
	return 0;
}

int cli_wasm_main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "validate"))
		return cmd_validate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "inspect"))
		return cmd_inspect(argc - 1, argv + 1);
	fprintf(stderr, "capsa: wasm: unknown command '%s' (try: capsa wasm --help)\n", argv[1]);
	return 2;
}
