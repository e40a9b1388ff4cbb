/* SPDX-License-Identifier: Apache-2.0 */
/* Running a created VM for `capsa vm run` and `capsa vm restore`: signals,
 * the control API, the console's terminal mode, and the exit event. */
#include "cli/vm_cmds.h"

#include "vm/api/instance.h"
#include "vm/api/server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct vm *cli_running_vm;
static volatile sig_atomic_t cli_stop_signal;

static void on_signal(int sig)
{
	if (cli_running_vm)
		vm_request_end(cli_running_vm, VM_END_SIGNAL, sig);
	else
		cli_stop_signal = sig;
}

volatile sig_atomic_t *cli_vm_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return &cli_stop_signal;
}

void cli_vm_emit(int json, json_object *ev, const char *plain)
{
	if (json) {
		fprintf(stderr, "%s\n",
		        json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
		                                               JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (plain) {
		fprintf(stderr, "%s\n", plain);
	}
	fflush(stderr);
	json_object_put(ev);
}

json_object *cli_vm_event(const char *name)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string(name));
	return o;
}

int cli_vm_fail(int json, const char *cmd, const struct err *e)
{
	json_object *ev = cli_vm_event("error");
	json_object_object_add(ev, "message", json_object_new_string(e->msg));
	char line[ERR_MSG_MAX + 64];
	snprintf(line, sizeof(line), "%s: %s", cmd, e->msg);
	cli_vm_emit(json, ev, line);
	return err_exit_status(e);
}

static void report_exit(const struct cli_serve *s, const struct vm_result *res)
{
	json_object *ev = cli_vm_event("exit");
	json_object_object_add(ev, "reason", json_object_new_string(vm_end_name(res->reason)));
	json_object_object_add(ev, "status", json_object_new_int(res->status));
	json_object_object_add(ev, "seconds", json_object_new_double(res->seconds));
	if (res->instructions)
		json_object_object_add(ev, "instructions",
		                       json_object_new_int64((int64_t)res->instructions));
	if (res->report[0])
		json_object_object_add(ev, "report", json_object_new_string(res->report));
	char plain[4200];
	plain[0] = '\0';
	if (res->reason == VM_END_CRASH || res->reason == VM_END_ERROR)
		snprintf(plain, sizeof(plain), "%s: guest %s\n%s", s->cmd,
		         res->reason == VM_END_CRASH ? "crashed" : "stopped by a host error",
		         res->report);
	if (plain[0] && plain[strlen(plain) - 1] == '\n')
		plain[strlen(plain) - 1] = '\0';
	cli_vm_emit(s->json, ev, plain[0] ? plain : NULL);
}

/* The end in the API's log and a last metrics line (PUT /logger, /metrics). */
static void log_exit(struct vm_api_instance *in, int rc, const struct vm_result *res,
                     const struct err *e)
{
	if (!in)
		return;
	char d[ERR_MSG_MAX + 64];
	if (rc)
		snprintf(d, sizeof(d), "host error: %s", e->msg);
	else
		snprintf(d, sizeof(d), "%s, status %d, after %.3f s", vm_end_name(res->reason),
		         res->status, res->seconds);
	vm_api_tel_event(&in->tel, VM_API_EV_EXITED, d);
	struct err ignored = {0};
	if (vm_api_tel_metrics_on(&in->tel))
		vm_api_tel_flush(&in->tel, &ignored);
}

/* A VM restored from a file: its configuration is the restored VM's. */
static int machine_of(struct vm *vm, const struct vm_device_names *names, struct vm_api_machine *m,
                      struct err *e)
{
	if (vm_api_machine_init(m, NULL, e))
		return -1;
	vm_api_machine_restored(m, vm, names);
	return 0;
}

int cli_vm_serve(struct vm *vm, const struct cli_serve *s)
{
	static struct vm_api_machine own; /* when s->machine is NULL */
	struct vm_api_instance in;
	struct err e = {0};
	cli_vm_signals();
	cli_running_vm = vm;
	if (cli_stop_signal) /* came while the VM was being created */
		vm_request_end(vm, VM_END_SIGNAL, cli_stop_signal);
	struct vm_api *api = s->api;
	struct vm_api_machine *m = s->machine ? s->machine : &own;
	/* paused before the API answers: a client never sees it running */
	if (s->paused && vm_pause(vm, &e)) {
		vm_api_stop(api);
		vm_destroy(vm);
		return cli_vm_fail(s->json, s->cmd, &e);
	}
	if (!api && s->api_sock) {
		vm_api_instance_init(&in, m, vm);
		if ((!s->machine && machine_of(vm, s->names, m, &e)) ||
		    vm_api_start(&api, &in, s->api_sock, &e)) {
			vm_destroy(vm);
			return cli_vm_fail(s->json, s->cmd, &e);
		}
	}
	if (s->console_escape)
		tty_raw_begin(STDIN_FILENO);
	struct vm_result res;
	int rc = vm_run(vm, &res, &e);
	log_exit(vm_api_instance_of(api), rc, &res, &e);
	vm_api_stop(api);
	tty_raw_end();
	cli_running_vm = NULL;
	if (s->console_out > STDERR_FILENO)
		close(s->console_out);
	if (rc) {
		vm_destroy(vm);
		return cli_vm_fail(s->json, s->cmd, &e);
	}
	report_exit(s, &res);
	if (s->vsock_uds)
		unlink(s->vsock_uds); /* the listening socket goes with us */
	/* The VM's memory and KVM objects go with the process; see vm_exit.c. */
	exit_leaving_teardown(res.status);
}
