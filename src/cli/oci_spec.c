/* SPDX-License-Identifier: Apache-2.0 */
/* spec (a default config.json) and features (what this runtime supports). */
#include "cli/oci_cli.h"
#include "oci/config.h"
#include "oci/seccomp.h"
#include "oci/util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct json_object *strs(const char *const *v)
{
	struct json_object *a = json_object_new_array();
	for (; *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static struct json_object *mnt(const char *dst, const char *type, const char *src,
                               const char *const *opts)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "destination", json_object_new_string(dst));
	json_object_object_add(m, "type", json_object_new_string(type));
	json_object_object_add(m, "source", json_object_new_string(src));
	json_object_object_add(m, "options", strs(opts));
	return m;
}

static struct json_object *idmap(unsigned host)
{
	struct json_object *a = json_object_new_array(), *m = json_object_new_object();
	json_object_object_add(m, "containerID", json_object_new_int(0));
	json_object_object_add(m, "hostID", json_object_new_int64(host));
	json_object_object_add(m, "size", json_object_new_int(1));
	json_object_array_add(a, m);
	return a;
}

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                                           NULL};

static struct json_object *default_spec(int rootless)
{
	struct json_object *o = json_object_new_object(), *p = json_object_new_object();
	json_object_object_add(o, "ociVersion", json_object_new_string("1.2.0"));
	json_object_object_add(p, "terminal", json_object_new_boolean(0));
	struct json_object *user = json_object_new_object();
	json_object_object_add(user, "uid", json_object_new_int(0));
	json_object_object_add(user, "gid", json_object_new_int(0));
	json_object_object_add(p, "user", user);
	json_object_object_add(p, "args", strs((const char *const[]){"sh", NULL}));
	json_object_object_add(
	    p, "env",
	    strs((const char *const[]){
	        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
	        NULL}));
	json_object_object_add(p, "cwd", json_object_new_string("/"));
	struct json_object *caps = json_object_new_object();
	const char *sets[] = {"bounding", "effective", "permitted"};
	for (int i = 0; i < 3; i++)
		json_object_object_add(caps, sets[i], strs(default_caps));
	json_object_object_add(p, "capabilities", caps);
	struct json_object *rl = json_object_new_array(), *nofile = json_object_new_object();
	json_object_object_add(nofile, "type", json_object_new_string("RLIMIT_NOFILE"));
	json_object_object_add(nofile, "hard", json_object_new_int(1024));
	json_object_object_add(nofile, "soft", json_object_new_int(1024));
	json_object_array_add(rl, nofile);
	json_object_object_add(p, "rlimits", rl);
	json_object_object_add(p, "noNewPrivileges", json_object_new_boolean(1));
	json_object_object_add(o, "process", p);
	struct json_object *root = json_object_new_object();
	json_object_object_add(root, "path", json_object_new_string("rootfs"));
	json_object_object_add(root, "readonly", json_object_new_boolean(1));
	json_object_object_add(o, "root", root);
	json_object_object_add(o, "hostname", json_object_new_string("capsa"));
	struct json_object *mounts = json_object_new_array();
	json_object_array_add(mounts, mnt("/proc", "proc", "proc", (const char *const[]){NULL}));
	json_object_array_add(mounts, mnt("/dev", "tmpfs", "tmpfs",
	                                  (const char *const[]){"nosuid", "strictatime", "mode=755",
	                                                        "size=65536k", NULL}));
	json_object_array_add(
	    mounts, mnt("/dev/pts", "devpts", "devpts",
	                (const char *const[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666",
	                                      "mode=0620", rootless ? NULL : "gid=5", NULL}));
	json_object_array_add(mounts, mnt("/dev/shm", "tmpfs", "shm",
	                                  (const char *const[]){"nosuid", "noexec", "nodev",
	                                                        "mode=1777", "size=65536k", NULL}));
	json_object_array_add(mounts,
	                      mnt("/dev/mqueue", "mqueue", "mqueue",
	                          (const char *const[]){"nosuid", "noexec", "nodev", NULL}));
	json_object_array_add(mounts,
	                      mnt("/sys", "sysfs", "sysfs",
	                          (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL}));
	if (!rootless)
		json_object_array_add(mounts, mnt("/sys/fs/cgroup", "cgroup", "cgroup",
		                                  (const char *const[]){"nosuid", "noexec", "nodev",
		                                                        "relatime", "ro", NULL}));
	json_object_object_add(o, "mounts", mounts);
	struct json_object *l = json_object_new_object(), *ns = json_object_new_array();
	const char *types[] = {"pid", "network", "ipc", "uts", "mount", rootless ? "user" : NULL};
	for (int i = 0; i < 6 && types[i]; i++) {
		struct json_object *n = json_object_new_object();
		json_object_object_add(n, "type", json_object_new_string(types[i]));
		json_object_array_add(ns, n);
	}
	if (!rootless) {
		struct json_object *res = json_object_new_object(), *devs = json_object_new_array();
		struct json_object *deny = json_object_new_object();
		json_object_object_add(deny, "allow", json_object_new_boolean(0));
		json_object_object_add(deny, "access", json_object_new_string("rwm"));
		json_object_array_add(devs, deny);
		json_object_object_add(res, "devices", devs);
		json_object_object_add(l, "resources", res);
	} else {
		json_object_object_add(l, "uidMappings", idmap(getuid()));
		json_object_object_add(l, "gidMappings", idmap(getgid()));
	}
	json_object_object_add(l, "namespaces", ns);
	json_object_object_add(l, "maskedPaths",
	                       strs((const char *const[]){
	                           "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
	                           "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	                           "/proc/sched_debug", "/sys/firmware", "/proc/scsi", NULL}));
	json_object_object_add(
	    l, "readonlyPaths",
	    strs((const char *const[]){"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
	                               "/proc/sysrq-trigger", NULL}));
	json_object_object_add(o, "linux", l);
	return o;
}

static const char spec_help[] =
    "Usage: capsa spec [--bundle DIR] [--rootless]\n"
    "Write a default config.json into the bundle directory (default: "
    "the current one).\nIt runs `sh` from ./rootfs without a terminal.\n";

int oci_cmd_spec(const struct oci_globals *g, int argc, char **argv)
{
	const char *bundle = ".";
	int rootless = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(spec_help, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--rootless")) {
			rootless = 1;
		} else if ((!strcmp(argv[i], "--bundle") || !strcmp(argv[i], "-b")) &&
		           i + 1 < argc) {
			bundle = argv[++i];
		} else {
			return oci_cli_usage("spec", "unknown argument '%s'", argv[i]);
		}
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	struct err e = {0};
	if (access(path, F_OK) == 0) {
		err_set(&e, ERR_INPUT, "%s already exists", path);
		return oci_cli_fail(g, &e);
	}
	struct json_object *o = default_spec(rootless);
	const char *s = json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	int r = util_write_atomic(path, s, strlen(s), &e);
	json_object_put(o);
	return r < 0 ? oci_cli_fail(g, &e) : 0;
}

int oci_cmd_features(const struct oci_globals *g, int argc, char **argv)
{
	(void)g;
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs("Usage: capsa features\nPrint what this runtime supports, as the "
		      "runtime-spec features JSON.\n",
		      stdout);
		return 0;
	}
	struct json_object *o = json_object_new_object(), *l = json_object_new_object();
	json_object_object_add(o, "ociVersionMin", json_object_new_string("1.0.0"));
	json_object_object_add(o, "ociVersionMax", json_object_new_string("1.2.0"));
	json_object_object_add(
	    o, "hooks",
	    strs((const char *const[]){"prestart", "createRuntime", "createContainer",
	                               "startContainer", "poststart", "poststop", NULL}));
	json_object_object_add(
	    o, "mountOptions",
	    strs((const char *const[]){"async",       "atime",       "bind",
	                               "defaults",    "dev",         "diratime",
	                               "dirsync",     "exec",        "idmap",
	                               "loud",        "mand",        "noatime",
	                               "nodev",       "nodiratime",  "noexec",
	                               "nomand",      "norelatime",  "nostrictatime",
	                               "nosuid",      "private",     "rbind",
	                               "relatime",    "remount",     "ridmap",
	                               "ro",          "rprivate",    "rshared",
	                               "rslave",      "runbindable", "rw",
	                               "shared",      "silent",      "slave",
	                               "strictatime", "suid",        "sync",
	                               "unbindable",  NULL}));
	json_object_object_add(l, "namespaces",
	                       strs((const char *const[]){"cgroup", "ipc", "mount", "network",
	                                                  "pid", "time", "user", "uts", NULL}));
	struct json_object *caps = json_object_new_array();
	for (int i = 0; oci_cap_name(i); i++)
		json_object_array_add(caps, json_object_new_string(oci_cap_name(i)));
	json_object_object_add(l, "capabilities", caps);
	struct json_object *cg = json_object_new_object();
	json_object_object_add(cg, "v1", json_object_new_boolean(1));
	json_object_object_add(cg, "v2", json_object_new_boolean(1));
	json_object_object_add(cg, "systemd", json_object_new_boolean(0));
	json_object_object_add(cg, "systemdUser", json_object_new_boolean(0));
	json_object_object_add(cg, "rdma", json_object_new_boolean(0));
	json_object_object_add(l, "cgroup", cg);
	struct json_object *sc = json_object_new_object();
	json_object_object_add(sc, "enabled", json_object_new_boolean(1));
	json_object_object_add(sc, "actions", strs(oci_seccomp_action_names));
	json_object_object_add(sc, "operators", strs(oci_seccomp_op_names));
	json_object_object_add(sc, "archs", strs(oci_seccomp_arch_names));
	json_object_object_add(sc, "knownFlags", strs(oci_seccomp_flag_names));
	json_object_object_add(
	    sc, "supportedFlags",
	    strs((const char *const[]){"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	                               "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL}));
	json_object_object_add(l, "seccomp", sc);
	struct json_object *aa = json_object_new_object();
	json_object_object_add(aa, "enabled", json_object_new_boolean(1));
	json_object_object_add(l, "apparmor", aa);
	struct json_object *se = json_object_new_object();
	json_object_object_add(se, "enabled", json_object_new_boolean(0));
	json_object_object_add(l, "selinux", se);
	struct json_object *rdt = json_object_new_object();
	json_object_object_add(rdt, "enabled", json_object_new_boolean(0));
	json_object_object_add(l, "intelRdt", rdt);
	struct json_object *me = json_object_new_object(), *idm = json_object_new_object();
	json_object_object_add(idm, "enabled", json_object_new_boolean(1));
	json_object_object_add(me, "idmap", idm);
	json_object_object_add(l, "mountExtensions", me);
	json_object_object_add(o, "linux", l);
	struct json_object *ann = json_object_new_object();
	json_object_object_add(ann, "org.opencontainers.runtime-spec.features.capsa.version",
	                       json_object_new_string("0.1.0"));
	/* crun announces its wasm handler as run.oci.crun.wasm; capsa's is
	 * built in (src/oci/wasm_handler.c) and chosen by these annotations. */
	json_object_object_add(ann, "run.oci.capsa.wasm", json_object_new_string("true"));
	json_object_object_add(
	    ann, "run.oci.capsa.wasm.annotations",
	    json_object_new_string(
	        "run.oci.handler=wasm|wasm-smart module.wasm.image/variant=compat|compat-smart"));
	json_object_object_add(o, "annotations", ann);
	/* Annotations that change what the runtime does with a container. */
	json_object_object_add(
	    o, "potentiallyUnsafeConfigAnnotations",
	    strs((const char *const[]){"run.oci.handler", "module.wasm.image/variant", NULL}));
	printf("%s\n",
	       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                             JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}
