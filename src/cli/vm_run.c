/* SPDX-License-Identifier: Apache-2.0 */
/* capsa vm run: options, host workarounds, console, events, exit status. */
#include "cli/vm_cmds.h"

#include "lib/size.h"
#include "vm/kvm.h"
#include "vm/api/instance.h"
#include "vm/api/server.h"
#include "vm/snapshot/snapshot.h"
#include "vm/vm.h"

#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Kernel command line additions for paravirtual (kvm_pvm) hosts; see docs/vm.md. */
#define PVM_CMDLINE                                                                                \
	"noxsave clearcpuid=smap,smep,popcnt rcupdate.rcu_expedited=1 "                            \
	"rcupdate.rcu_cpu_stall_suppress=1 vdso32=0 no-kvmclock"
#define PVM_CPU_FEATURES                                                                           \
	"-cx16,+xsaveerptr,-topoext,-kvm_pv_tlb_flush,-kvm_pv_unhalt,-kvm_pv_send_ipi,"            \
	"-kvm_poll_control,-kvm_pv_sched_yield,-kvm_async_pf_int,-kvm_msi_ext_dest_id"

static const char run_usage[] =
    "Usage: capsa vm run --kernel PATH [OPTIONS]\n"
    "       capsa vm run --api-sock PATH [OPTIONS]\n"
    "\n"
    "Boot a kernel in a new virtual machine and run it until the guest resets,\n"
    "powers off, or writes its exit status to the debug-exit port. The VM runs\n"
    "on KVM where /dev/kvm works and on capsa's software x86-64 CPU elsewhere.\n"
    "Without --kernel, the VM waits to be configured and started through the\n"
    "control API (PUT /boot-source ... PUT /actions InstanceStart) or loaded from\n"
    "a snapshot (PUT /snapshot/load); the options given are its starting\n"
    "configuration.\n"
    "\n"
    "Options:\n"
    "  --kernel PATH        kernel to boot: an ELF vmlinux (entered through its PVH\n"
    "                       note, or its 64-bit entry without one) or a bzImage\n"
    "  --initrd PATH        initial ramdisk (uncompressed cpio recommended)\n"
    "  --cmdline STR        kernel command line (default: \"console=ttyS0 reboot=k\n"
    "                       panic=-1\")\n"
    "  --cpus N             number of vCPUs (default 1)\n"
    "  --memory SIZE        guest RAM, e.g. 256M, 2G (default 256M); RAM beyond\n"
    "                       3 GiB is placed above 4 GiB\n"
    "  --console KIND       stdio (default), none, or file:PATH for the serial port\n"
    "                       COM1; on a terminal, Ctrl-A x quits\n"
    "  --cpu-features LIST  edit CPUID bits: comma-separated +NAME / -NAME,\n"
    "                       e.g. -cx16,-avx (see FEATURES below)\n"
    "  --disk SPEC          virtio-blk disk: path=FILE[,format=raw|qcow2][,readonly]\n"
    "                       [,cache=none|writeback][,id=ID][,bps=N][,iops=N]\n"
    "                       [,bps_burst=N][,iops_burst=N][,poll_us=N]\n"
    "                       [,aio=io_uring|sync]; repeatable\n"
    "                       (docs/virtio.md)\n"
    "  --rng                virtio-rng device fed by the host's getrandom()\n"
    "  --balloon SIZE       virtio-balloon asking the guest to give back SIZE of RAM\n"
    "                       (0 for none yet); returned pages are freed on the host\n"
    "  --net SPEC           virtio-net: tap=NAME (an existing or new tap interface,\n"
    "                       with offloads) or user (NAT through libslirp, no root:\n"
    "                       guest 10.0.2.15, host loopback as 10.0.2.2), then\n"
    "                       [,hostfwd=tcp:127.0.0.1:HP-:GP]... (user only)\n"
    "                       [,mac=02:..][,bps=N][,ops=N][,rx_bps=N][,tx_bps=N]\n"
    "                       [,rx_ops=N][,tx_ops=N][,*_burst=N][,poll_us=N];\n"
    "                       repeatable (docs/virtio.md)\n"
    "  --vsock cid=N,uds=PATH  virtio-vsock, guest CID N (3 or more); host programs\n"
    "                       connect to PATH and send \"CONNECT <port>\\n\"; guest\n"
    "                       connections to host port P go to PATH_P (docs/virtio.md)\n"
    "  --accel KIND         kvm, emu (capsa's software CPU) or auto (default:\n"
    "                       KVM when /dev/kvm can be used, else emu, said on stderr);\n"
    "                       the environment variable CAPSA_ACCEL sets the default\n"
    "  --api-sock PATH      serve the control API (HTTP/1.1 + JSON, a subset of\n"
    "                       Firecracker's) on a Unix socket at PATH, mode 0600;\n"
    "                       see capsa vm pause|resume|status|snapshot|config|migrate\n"
    "  --incoming tcp:ADDR:PORT  instead of booting, wait there for a VM that\n"
    "                       `capsa vm migrate` sends, and run it (the machine comes\n"
    "                       from the source; --console, --accel, --api-sock and\n"
    "                       --json-events apply; port 0 picks a free port)\n"
    "  --json-events        write machine-readable events, one JSON object per line,\n"
    "                       on stderr instead of plain messages\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 when the guest resets or powers off (or on Ctrl-A x); V when\n"
    "the guest writes byte V to I/O port 0x501 (debug exit); 1 when the guest\n"
    "crashes (triple fault, KVM internal error: registers and the code at RIP are\n"
    "printed) or the host fails; 2 for bad input; 128+N when stopped by signal N.\n"
    "\n"
    "Devices: 16550A UART at 0x3f8 (IRQ 4), i8042 (reset), CMOS/RTC, PCI config\n"
    "ports with no devices; SMP is described by an MP table (no ACPI).\n"
    "\n"
    "On paravirtual KVM hosts (kvm_pvm) capsa applies CPUID " PVM_CPU_FEATURES "\n"
    "and appends \"" PVM_CMDLINE "\"\n"
    "to the command line, and says so on stderr.\n";

struct run_opts {
	struct vm_api_machine m; /* m.cfg: the machine the flags describe */
	struct cpuid_edits edits;
	const char *console;
	int json;
	const char *api_sock;
	const char *incoming;
};

static int parse(int argc, char **argv, struct run_opts *o, struct err *e)
{
	enum {
		O_KERNEL = 1,
		O_INITRD,
		O_CMDLINE,
		O_CPUS,
		O_MEMORY,
		O_CONSOLE,
		O_FEAT,
		O_JSON,
		O_DISK,
		O_RNG,
		O_BALLOON,
		O_NET,
		O_VSOCK,
		O_ACCEL,
		O_API,
		O_INCOMING
	};
	static const struct option lo[] = {
	    {"kernel", required_argument, 0, O_KERNEL},
	    {"initrd", required_argument, 0, O_INITRD},
	    {"cmdline", required_argument, 0, O_CMDLINE},
	    {"cpus", required_argument, 0, O_CPUS},
	    {"memory", required_argument, 0, O_MEMORY},
	    {"console", required_argument, 0, O_CONSOLE},
	    {"cpu-features", required_argument, 0, O_FEAT},
	    {"json-events", no_argument, 0, O_JSON},
	    {"disk", required_argument, 0, O_DISK},
	    {"rng", no_argument, 0, O_RNG},
	    {"balloon", required_argument, 0, O_BALLOON},
	    {"net", required_argument, 0, O_NET},
	    {"vsock", required_argument, 0, O_VSOCK},
	    {"accel", required_argument, 0, O_ACCEL},
	    {"api-sock", required_argument, 0, O_API},
	    {"incoming", required_argument, 0, O_INCOMING},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	const char *env_accel = getenv("CAPSA_ACCEL");
	if (env_accel && *env_accel && accel_parse(env_accel, &o->m.cfg.accel, e))
		return err_prefix(e, "CAPSA_ACCEL");
	uint64_t v;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		/* options that describe the machine (not how it is run) */
		if (c >= O_KERNEL && c <= O_VSOCK && c != O_CONSOLE && c != O_JSON)
			o->m.configured = 1;
		switch (c) {
		case O_KERNEL:
			o->m.cfg.kernel = optarg;
			break;
		case O_INITRD:
			o->m.cfg.initrd = optarg;
			break;
		case O_CMDLINE:
			if (vm_api_machine_set_args(&o->m, optarg, e))
				return -1;
			break;
		case O_CPUS:
			if (parse_uint(optarg, "--cpus", 1, 254, &v, e))
				return -1;
			o->m.cfg.cpus = (unsigned)v;
			break;
		case O_MEMORY:
			if (parse_size(optarg, "--memory", &o->m.cfg.memory, e))
				return -1;
			break;
		case O_CONSOLE:
			o->console = optarg;
			break;
		case O_FEAT:
			if (cpuid_parse_features(optarg, &o->edits, e))
				return -1;
			break;
		case O_JSON:
			o->json = 1;
			break;
		case O_DISK:
			if (vm_virtio_add_disk(&o->m.cfg.virtio, optarg, e))
				return -1;
			break;
		case O_RNG:
			o->m.cfg.virtio.rng = 1;
			break;
		case O_BALLOON:
			if (parse_size(optarg, "--balloon", &o->m.cfg.virtio.balloon_target, e))
				return -1;
			o->m.cfg.virtio.balloon.enabled = 1;
			break;
		case O_NET:
			if (vm_net_add(&o->m.cfg.virtio.net, optarg, e))
				return -1;
			break;
		case O_VSOCK:
			if (vm_vsock_parse(&o->m.cfg.virtio.vsock, optarg, e))
				return -1;
			break;
		case O_ACCEL:
			if (accel_parse(optarg, &o->m.cfg.accel, e))
				return -1;
			break;
		case O_API:
			o->api_sock = optarg;
			break;
		case O_INCOMING:
			o->incoming = optarg;
			break;
		case 'h':
			fputs(run_usage, stdout);
			fprintf(stdout, "\nFEATURES: %s\n", cpuid_feature_list());
			exit(0);
		case ':':
			return err_set(e, ERR_INPUT, "option %s needs a value", argv[optind - 1]);
		default:
			return err_set(e, ERR_INPUT,
			               "unknown option '%s' (see capsa vm run --help)",
			               argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(e, ERR_INPUT, "unexpected argument '%s'", argv[optind]);
	if (o->incoming && o->m.cfg.kernel)
		return err_set(e, ERR_INPUT,
		               "--incoming takes the VM from the source: no --kernel");
	if (!o->m.cfg.kernel && !o->api_sock && !o->incoming)
		return err_set(e, ERR_INPUT,
		               "--kernel PATH is required (or --api-sock PATH to configure the VM "
		               "through the control API; see capsa vm run --help)");
	vm_api_machine_name_devices(&o->m);
	return 0;
}

int cli_vm_console(const char *spec, struct vm_config *cfg, struct err *e)
{
	const char *c = spec ? spec : "stdio";
	cfg->console_in = cfg->console_out = -1;
	if (!strcmp(c, "stdio")) {
		cfg->console_out = STDOUT_FILENO;
		cfg->console_in = STDIN_FILENO;
		cfg->console_escape = isatty(STDIN_FILENO);
	} else if (!strncmp(c, "file:", 5) && c[5]) {
		int fd = open(c + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			err_sys(e, "--console %s: cannot open", c);
			e->kind = ERR_INPUT;
			return -1;
		}
		cfg->console_out = fd;
	} else if (strcmp(c, "none")) {
		return err_set(e, ERR_INPUT, "--console '%s': use stdio, none or file:PATH", c);
	}
	return 0;
}

/* `auto` is decided here, before the kernel command line is final: the
 * paravirtual-KVM workarounds apply only when KVM runs the guest. */
static void resolve_accel(struct run_opts *o, struct vm_config *cfg)
{
	if (cfg->accel != ACCEL_AUTO)
		return;
	struct err why = {0};
	if (accel_kvm_probe(cfg->kvm_path, &why) == 0) {
		cfg->accel = ACCEL_KVM;
		return;
	}
	cfg->accel = ACCEL_EMU;
	json_object *ev = cli_vm_event("accel");
	json_object_object_add(ev, "accel", json_object_new_string("emu"));
	json_object_object_add(ev, "reason", json_object_new_string(why.msg));
	char line[ERR_MSG_MAX + 80];
	snprintf(line, sizeof(line), "capsa: using the software CPU (--accel emu): %s", why.msg);
	cli_vm_emit(o->json, ev, line);
}

/* Host workarounds for paravirtual KVM: CPUID edits first (the user's own
 * edits, applied later, win) and command line additions. */
static int apply_pvm(struct run_opts *o, const struct vm_config *cfg, struct cpuid_edits *edits,
                     char **cmdline, struct err *e)
{
	if (cfg->accel != ACCEL_KVM || !kvm_host_is_pvm())
		return 0;
	struct cpuid_edits mine = {.n = 0};
	if (cpuid_parse_features(PVM_CPU_FEATURES, &mine, e))
		return -1;
	for (size_t i = 0; i < edits->n && mine.n < CPUID_MAX_EDITS; i++)
		mine.e[mine.n++] = edits->e[i];
	*edits = mine;
	size_t len = strlen(*cmdline) + strlen(PVM_CMDLINE) + 2;
	char *cl = malloc(len);
	if (!cl)
		return err_sys(e, "malloc");
	snprintf(cl, len, "%s%s%s", *cmdline, **cmdline ? " " : "", PVM_CMDLINE);
	free(*cmdline);
	*cmdline = cl;
	json_object *ev = cli_vm_event("host-workarounds");
	json_object_object_add(ev, "host", json_object_new_string("kvm_pvm"));
	json_object_object_add(ev, "cpu_features", json_object_new_string(PVM_CPU_FEATURES));
	json_object_object_add(ev, "cmdline_added", json_object_new_string(PVM_CMDLINE));
	cli_vm_emit(o->json, ev,
	            "capsa: paravirtual KVM host (kvm_pvm): using CPUID " PVM_CPU_FEATURES
	            " and adding \"" PVM_CMDLINE "\" to the kernel command line");
	return 0;
}

static void report_created(struct run_opts *o, struct vm *vm, const struct vm_config *cfg)
{
	const struct boot_entry *b = vm_boot(vm);
	json_object *ev = cli_vm_event("created");
	json_object_object_add(ev, "kernel", json_object_new_string(cfg->kernel));
	json_object_object_add(ev, "format", json_object_new_string(b->format));
	json_object_object_add(ev, "entry",
	                       json_object_new_string(b->mode == BOOT_PVH ? "pvh" : "linux64"));
	json_object_object_add(ev, "rip", json_object_new_int64((int64_t)b->rip));
	json_object_object_add(ev, "accel",
	                       json_object_new_string(accel_kind_name(vm_accel(vm, NULL))));
	json_object_object_add(ev, "cpus", json_object_new_int((int)cfg->cpus));
	json_object_object_add(ev, "memory_mib",
	                       json_object_new_int64((int64_t)(cfg->memory >> 20)));
	json_object_object_add(ev, "cmdline", json_object_new_string(cfg->cmdline));
	if (b->initrd_size) {
		json_object_object_add(ev, "initrd_addr",
		                       json_object_new_int64((int64_t)b->initrd_addr));
		json_object_object_add(ev, "initrd_size",
		                       json_object_new_int64((int64_t)b->initrd_size));
	}
	cli_vm_emit(o->json, ev, NULL);
}

/* The console: PUT /serial's file, else --console. */
static int console_of(const struct run_opts *o, struct vm_config *cfg, struct err *e)
{
	char spec[sizeof(o->m.serial_out) + 8];
	if (!o->m.serial_out[0])
		return cli_vm_console(o->console, cfg, e);
	snprintf(spec, sizeof(spec), "file:%s", o->m.serial_out);
	return cli_vm_console(spec, cfg, e);
}

/* Create the VM the machine describes (flags, then the API); may be called
 * again after a failure. */
static int start_vm(struct run_opts *o, struct vm **vm, struct cli_serve *sv, struct err *e)
{
	struct vm_config cfg = o->m.cfg;
	struct cpuid_edits edits = o->edits;
	if (!cfg.kernel)
		return err_set(e, ERR_INPUT, "no kernel: PUT /boot-source first");
	char *cmdline = vm_api_machine_cmdline(&o->m, e);
	if (!cmdline)
		return -1;
	resolve_accel(o, &cfg);
	int rc = apply_pvm(o, &cfg, &edits, &cmdline, e) || console_of(o, &cfg, e);
	cfg.cmdline = cmdline;
	cfg.cpu_edits = &edits;
	if (!rc)
		rc = vm_create(vm, &cfg, e);
	if (!rc)
		report_created(o, *vm, &cfg);
	else if (cfg.console_out > STDERR_FILENO)
		close(cfg.console_out);
	free(cmdline);
	sv->console_escape = cfg.console_escape;
	sv->console_out = cfg.console_out;
	sv->vsock_uds = cfg.virtio.vsock.enabled ? o->m.cfg.virtio.vsock.uds : NULL;
	return rc ? -1 : 0;
}

/* PUT /snapshot/load: the VM from the file, paused unless resume_vm. */
static int load_vm(struct run_opts *o, const struct vm_api_req *q, struct vm **vm,
                   struct cli_serve *sv, struct err *e)
{
	struct vm_config cons = {0};
	if (console_of(o, &cons, e))
		return -1;
	struct vm_net_override ov[VM_NET_MAX];
	for (unsigned k = 0; k < q->nnet; k++)
		ov[k] = (struct vm_net_override){q->net[k].iface_id, q->net[k].tap};
	struct vm_device_names names;
	struct vm_restore_opts ro = {
	    .accel = o->m.cfg.accel,
	    .console_out = cons.console_out,
	    .console_in = cons.console_in,
	    .console_escape = cons.console_escape,
	    .mem_path = *q->mem_path ? q->mem_path : NULL,
	    .names = &names,
	    .net_overrides = ov,
	    .n_net_overrides = q->nnet,
	};
	if (vm_restore(vm, q->path, &ro, e)) {
		if (cons.console_out > STDERR_FILENO)
			close(cons.console_out);
		return -1;
	}
	if (!q->resume && vm_pause(*vm, e)) {
		vm_destroy(*vm);
		return -1;
	}
	vm_api_machine_restored(&o->m, *vm, &names);
	struct vm_info i;
	vm_get_info(*vm, &i);
	sv->console_escape = cons.console_escape;
	sv->console_out = cons.console_out;
	json_object *ev = cli_vm_event("restored");
	json_object_object_add(ev, "file", json_object_new_string(q->path));
	json_object_object_add(ev, "accel", json_object_new_string(accel_kind_name(i.accel)));
	cli_vm_emit(o->json, ev, NULL);
	return 0;
}

/* Only --api-sock and no kernel: serve the API and wait for InstanceStart
 * or PUT /snapshot/load, then run that VM. */
static int run_from_api(struct run_opts *o, struct cli_serve *sv)
{
	struct err e = {0};
	struct vm_api_instance in;
	vm_api_instance_init(&in, &o->m, NULL);
	volatile sig_atomic_t *stop = cli_vm_signals();
	if (vm_api_start(&sv->api, &in, o->api_sock, &e))
		return cli_vm_fail(o->json, sv->cmd, &e);
	json_object *ev = cli_vm_event("waiting");
	json_object_object_add(ev, "api_sock", json_object_new_string(o->api_sock));
	cli_vm_emit(o->json, ev, NULL);
	struct vm_api_req q;
	while (vm_api_wait_request(&in, &q, stop)) {
		struct vm *vm = NULL;
		int rc = q.kind == VM_API_REQ_START ? start_vm(o, &vm, sv, &e)
		                                    : load_vm(o, &q, &vm, sv, &e);
		vm_api_request_done(&in, vm, rc, &e);
		if (!rc) {
			return cli_vm_serve(vm, sv);
		}
		json_object *ev = cli_vm_event("start-failed");
		json_object_object_add(ev, "message", json_object_new_string(e.msg));
		char line[ERR_MSG_MAX + 64];
		snprintf(line, sizeof(line), "%s: %s", sv->cmd, e.msg);
		cli_vm_emit(o->json, ev, line);
		e = (struct err){0};
	}
	vm_api_stop(sv->api);
	vm_api_instance_destroy(&in);
	vm_api_machine_free(&o->m);
	return 128 + *stop;
}

int cli_vm_run(int argc, char **argv)
{
	static struct run_opts o; /* large (the disks' paths); one per process */
	struct err e = {0};
	int json = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json-events"))
			json = 1;
	struct cli_serve sv = {.cmd = "capsa vm run", .json = json};
	if (vm_api_machine_init(&o.m, "console=ttyS0 reboot=k panic=-1", &e) ||
	    parse(argc, argv, &o, &e)) {
		vm_api_machine_free(&o.m);
		return cli_vm_fail(json, sv.cmd, &e);
	}
	if (o.incoming) {
		struct cli_incoming in = {o.incoming, o.console,  o.m.cfg.accel,
		                          NULL,       o.api_sock, json};
		vm_api_machine_free(&o.m);
		return cli_vm_incoming(&in);
	}
	sv.api_sock = o.api_sock;
	sv.machine = &o.m;
	if (!o.m.cfg.kernel)
		return run_from_api(&o, &sv);
	struct vm *vm;
	if (start_vm(&o, &vm, &sv, &e)) {
		vm_api_machine_free(&o.m);
		return cli_vm_fail(json, sv.cmd, &e);
	}
	return cli_vm_serve(vm, &sv);
}
