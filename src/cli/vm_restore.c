/* SPDX-License-Identifier: Apache-2.0 */
/* capsa vm restore FILE: run a VM saved with `capsa vm snapshot`. */
#include "cli/vm_cmds.h"

#include "vm/snapshot/snapshot.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char restore_usage[] =
    "Usage: capsa vm restore FILE [OPTIONS]\n"
    "\n"
    "Run the VM saved in FILE (by `capsa vm snapshot` or PUT /snapshot/create)\n"
    "from where it was saved. The machine (vCPUs, memory, CPU features) comes\n"
    "from the file; its memory is loaded on first touch (decompressed chunk by\n"
    "chunk, or mapped from a raw image), and the file is never written.\n"
    "\n"
    "Options:\n"
    "  --paused             restore with every vCPU paused (resume through the API)\n"
    "  --api-sock PATH      serve the control API on PATH (as capsa vm run)\n"
    "  --console KIND       stdio (default), none, or file:PATH\n"
    "  --accel KIND         kvm or emu; default: the one the snapshot was taken on\n"
    "  --disk-dir DIR       where the disks of a snapshot taken --with-disks are\n"
    "                       extracted as new raw images FILE.diskN.img (default:\n"
    "                       FILE's directory); the restored VM writes those\n"
    "  --mem-file PATH      the memory file of a snapshot saved with one\n"
    "                       (capsa vm snapshot --mem-file, Firecracker's mem_file_path)\n"
    "  --net-override ID=TAP\n"
    "                       connect the interface ID (its API iface_id, or netN for\n"
    "                       the N-th) to tap TAP instead of the saved one; repeatable\n"
    "  --json-events        machine-readable events on stderr\n"
    "  -h, --help           this text\n"
    "\n"
    "The VM's devices come back as they were configured: disks (which must be\n"
    "unchanged since the snapshot unless their data is in FILE), network by tap\n"
    "name (or the one --net-override gives) or user-mode networking anew, vsock\n"
    "with its connections reset.\n"
    "\n"
    "Exit status as for capsa vm run; 2 when FILE is missing, truncated, corrupt\n"
    "or from an incompatible version or CPU, or a disk changed.\n";

/* --net-override ID=TAP (ID and TAP point into the argument). */
static int net_override(char *arg, struct vm_net_override *ov, unsigned *n, struct err *e)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		return err_set(e, ERR_INPUT, "--net-override '%s': expected ID=TAP", arg);
	if (*n >= VM_NET_MAX)
		return err_set(e, ERR_INPUT, "--net-override: at most %d", VM_NET_MAX);
	*eq = 0;
	ov[(*n)++] = (struct vm_net_override){arg, eq + 1};
	return 0;
}

int cli_vm_restore(int argc, char **argv)
{
	enum { O_PAUSED = 1, O_API, O_CONSOLE, O_ACCEL, O_JSON, O_DISK_DIR, O_MEM_FILE, O_NET };
	static const struct option lo[] = {
	    {"paused", no_argument, 0, O_PAUSED},
	    {"api-sock", required_argument, 0, O_API},
	    {"console", required_argument, 0, O_CONSOLE},
	    {"accel", required_argument, 0, O_ACCEL},
	    {"json-events", no_argument, 0, O_JSON},
	    {"disk-dir", required_argument, 0, O_DISK_DIR},
	    {"mem-file", required_argument, 0, O_MEM_FILE},
	    {"net-override", required_argument, 0, O_NET},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	const char *cmd = "capsa vm restore", *console = NULL;
	struct cli_serve sv = {.cmd = cmd};
	struct vm_device_names names;
	struct vm_net_override ov[VM_NET_MAX];
	struct vm_restore_opts ro = {.accel = ACCEL_AUTO, .names = &names, .net_overrides = ov};
	struct err e = {0};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case O_PAUSED:
			sv.paused = 1;
			break;
		case O_API:
			sv.api_sock = optarg;
			break;
		case O_CONSOLE:
			console = optarg;
			break;
		case O_ACCEL:
			if (accel_parse(optarg, &ro.accel, &e))
				return cli_vm_fail(sv.json, cmd, &e);
			break;
		case O_JSON:
			sv.json = 1;
			break;
		case O_DISK_DIR:
			ro.disk_dir = optarg;
			break;
		case O_MEM_FILE:
			ro.mem_path = optarg;
			break;
		case O_NET:
			if (net_override(optarg, ov, &ro.n_net_overrides, &e))
				return cli_vm_fail(sv.json, cmd, &e);
			break;
		case 'h':
			fputs(restore_usage, stdout);
			return 0;
		default:
			err_set(&e, ERR_INPUT, "bad option '%s' (see capsa vm restore --help)",
			        argv[optind - 1]);
			return cli_vm_fail(sv.json, cmd, &e);
		}
	}
	if (optind != argc - 1) {
		err_set(&e, ERR_INPUT, "one snapshot FILE is required (see --help)");
		return cli_vm_fail(sv.json, cmd, &e);
	}
	struct vm_config cons = {0};
	if (cli_vm_console(console, &cons, &e))
		return cli_vm_fail(sv.json, cmd, &e);
	ro.console_out = cons.console_out;
	ro.console_in = cons.console_in;
	ro.console_escape = cons.console_escape;
	sv.console_out = cons.console_out;
	sv.console_escape = cons.console_escape;
	struct vm *vm;
	if (vm_restore(&vm, argv[optind], &ro, &e))
		return cli_vm_fail(sv.json, cmd, &e);
	sv.names = &names;
	json_object *ev = cli_vm_event("restored");
	json_object_object_add(ev, "file", json_object_new_string(argv[optind]));
	json_object_object_add(ev, "accel",
	                       json_object_new_string(accel_kind_name(vm_accel(vm, NULL))));
	cli_vm_emit(sv.json, ev, NULL);
	return cli_vm_serve(vm, &sv);
}

int cli_vm_snapshot_verify(int argc, char **argv)
{
	const char *cmd = "capsa vm snapshot verify";
	struct err e = {0};
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "Usage: %s FILE\n", cmd);
		return 2;
	}
	unsigned cpus;
	uint64_t mem;
	enum accel_kind accel;
	if (vm_snapshot_verify(argv[1], &cpus, &mem, &accel, &e))
		return cli_vm_fail(0, cmd, &e);
	printf("%s: ok (%u vCPUs, %llu MiB, taken under %s)\n", argv[1], cpus,
	       (unsigned long long)(mem >> 20), accel_kind_name(accel));
	return 0;
}
