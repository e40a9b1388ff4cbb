/* SPDX-License-Identifier: Apache-2.0 */
/* capsa vm run: options, host workarounds, console, events, exit status. */
#include "cli/vm_cmds.h"

#include "lib/size.h"
#include "vm/kvm.h"
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
    "\n"
    "Boot a kernel in a new virtual machine and run it until the guest resets,\n"
    "powers off, or writes its exit status to the debug-exit port. The VM runs\n"
    "on KVM where /dev/kvm works and on capsa's software x86-64 CPU elsewhere.\n"
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
    "                       see capsa vm pause|resume|status|snapshot|migrate\n"
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
	struct vm_config cfg;
	struct cpuid_edits edits;
	const char *console;
	int json;
	char *cmdline;
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
	const char *cmdline = "console=ttyS0 reboot=k panic=-1";
	const char *env_accel = getenv("CAPSA_ACCEL");
	if (env_accel && *env_accel && accel_parse(env_accel, &o->cfg.accel, e))
		return err_prefix(e, "CAPSA_ACCEL");
	uint64_t v;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case O_KERNEL:
			o->cfg.kernel = optarg;
			break;
		case O_INITRD:
			o->cfg.initrd = optarg;
			break;
		case O_CMDLINE:
			cmdline = optarg;
			break;
		case O_CPUS:
			if (parse_uint(optarg, "--cpus", 1, 254, &v, e))
				return -1;
			o->cfg.cpus = (unsigned)v;
			break;
		case O_MEMORY:
			if (parse_size(optarg, "--memory", &o->cfg.memory, e))
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
			if (vm_virtio_add_disk(&o->cfg.virtio, optarg, e))
				return -1;
			break;
		case O_RNG:
			o->cfg.virtio.rng = 1;
			break;
		case O_BALLOON:
			if (parse_size(optarg, "--balloon", &o->cfg.virtio.balloon_target, e))
				return -1;
			o->cfg.virtio.balloon = 1;
			break;
		case O_NET:
			if (vm_net_add(&o->cfg.virtio.net, optarg, e))
				return -1;
			break;
		case O_VSOCK:
			if (vm_vsock_parse(&o->cfg.virtio.vsock, optarg, e))
				return -1;
			break;
		case O_ACCEL:
			if (accel_parse(optarg, &o->cfg.accel, e))
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
	if (o->incoming && o->cfg.kernel)
		return err_set(e, ERR_INPUT,
		               "--incoming takes the VM from the source: no --kernel");
	if (!o->cfg.kernel && !o->incoming)
		return err_set(e, ERR_INPUT, "--kernel PATH is required (see capsa vm run --help)");
	/* virtio-mmio devices are announced on the command line */
	o->cmdline = vm_virtio_cmdline(&o->cfg.virtio, cmdline);
	return o->cmdline ? 0 : err_sys(e, "strdup");
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
static void resolve_accel(struct run_opts *o)
{
	if (o->cfg.accel != ACCEL_AUTO)
		return;
	struct err why = {0};
	if (accel_kvm_probe(o->cfg.kvm_path, &why) == 0) {
		o->cfg.accel = ACCEL_KVM;
		return;
	}
	o->cfg.accel = ACCEL_EMU;
	json_object *ev = cli_vm_event("accel");
	json_object_object_add(ev, "accel", json_object_new_string("emu"));
	json_object_object_add(ev, "reason", json_object_new_string(why.msg));
	char line[ERR_MSG_MAX + 80];
	snprintf(line, sizeof(line), "capsa: using the software CPU (--accel emu): %s", why.msg);
	cli_vm_emit(o->json, ev, line);
}

/* Host workarounds for paravirtual KVM: CPUID edits first (the user's own
 * edits, applied later, win) and command line additions. */
static int apply_pvm(struct run_opts *o, struct err *e)
{
	if (o->cfg.accel != ACCEL_KVM || !kvm_host_is_pvm())
		return 0;
	struct cpuid_edits mine = {.n = 0};
	if (cpuid_parse_features(PVM_CPU_FEATURES, &mine, e))
		return -1;
	for (size_t i = 0; i < o->edits.n && mine.n < CPUID_MAX_EDITS; i++)
		mine.e[mine.n++] = o->edits.e[i];
	o->edits = mine;
	size_t len = strlen(o->cmdline) + strlen(PVM_CMDLINE) + 2;
	char *cl = malloc(len);
	if (!cl)
		return err_sys(e, "malloc");
	snprintf(cl, len, "%s%s%s", o->cmdline, *o->cmdline ? " " : "", PVM_CMDLINE);
	free(o->cmdline);
	o->cmdline = cl;
	json_object *ev = cli_vm_event("host-workarounds");
	json_object_object_add(ev, "host", json_object_new_string("kvm_pvm"));
	json_object_object_add(ev, "cpu_features", json_object_new_string(PVM_CPU_FEATURES));
	json_object_object_add(ev, "cmdline_added", json_object_new_string(PVM_CMDLINE));
	cli_vm_emit(o->json, ev,
	            "capsa: paravirtual KVM host (kvm_pvm): using CPUID " PVM_CPU_FEATURES
	            " and adding \"" PVM_CMDLINE "\" to the kernel command line");
	return 0;
}

int cli_vm_run(int argc, char **argv)
{
	struct run_opts o;
	memset(&o, 0, sizeof(o));
	o.cfg.cpus = 1;
	o.cfg.memory = 256ULL << 20;
	struct err e = {0};
	int json = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json-events"))
			json = 1;
	if (parse(argc, argv, &o, &e)) {
		free(o.cmdline);
		return cli_vm_fail(json, "capsa vm run", &e);
	}
	if (o.incoming) {
		free(o.cmdline);
		struct cli_incoming in = {o.incoming, o.console,  o.cfg.accel,
		                          NULL,       o.api_sock, json};
		return cli_vm_incoming(&in);
	}
	resolve_accel(&o);
	if (apply_pvm(&o, &e) || cli_vm_console(o.console, &o.cfg, &e)) {
		free(o.cmdline);
		return cli_vm_fail(json, "capsa vm run", &e);
	}
	o.cfg.cmdline = o.cmdline;
	o.cfg.cpu_edits = &o.edits;

	struct vm *vm;
	if (vm_create(&vm, &o.cfg, &e)) {
		free(o.cmdline);
		return cli_vm_fail(json, "capsa vm run", &e);
	}
	const struct boot_entry *b = vm_boot(vm);
	json_object *ev = cli_vm_event("created");
	json_object_object_add(ev, "kernel", json_object_new_string(o.cfg.kernel));
	json_object_object_add(ev, "format", json_object_new_string(b->format));
	json_object_object_add(ev, "entry",
	                       json_object_new_string(b->mode == BOOT_PVH ? "pvh" : "linux64"));
	json_object_object_add(ev, "rip", json_object_new_int64((int64_t)b->rip));
	json_object_object_add(ev, "accel",
	                       json_object_new_string(accel_kind_name(vm_accel(vm, NULL))));
	json_object_object_add(ev, "cpus", json_object_new_int((int)o.cfg.cpus));
	json_object_object_add(ev, "memory_mib",
	                       json_object_new_int64((int64_t)(o.cfg.memory >> 20)));
	json_object_object_add(ev, "cmdline", json_object_new_string(o.cmdline));
	if (b->initrd_size) {
		json_object_object_add(ev, "initrd_addr",
		                       json_object_new_int64((int64_t)b->initrd_addr));
		json_object_object_add(ev, "initrd_size",
		                       json_object_new_int64((int64_t)b->initrd_size));
	}
	cli_vm_emit(json, ev, NULL);

	free(o.cmdline);
	o.cmdline = NULL;
	struct cli_serve sv = {
	    .cmd = "capsa vm run",
	    .json = json,
	    .api_sock = o.api_sock,
	    .console_escape = o.cfg.console_escape,
	    .console_out = o.cfg.console_out,
	    .vsock_uds = o.cfg.virtio.vsock.enabled ? o.cfg.virtio.vsock.uds : NULL,
	};
	return cli_vm_serve(vm, &sv);
}
