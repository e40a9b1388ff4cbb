/* SPDX-License-Identifier: Apache-2.0 */
/* Device rules on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program built
 * from the rules (the last matching rule decides, as with the v1 lists) and
 * attached to the container's cgroup. */
#include "oci/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int oci_cgroup_devices_v2(const struct oci_cgroup *cg, const struct oci_dev_rule *rules, size_t n,
                          const struct oci_dev_rule *defaults, size_t nd, struct err *e);
int oci_devices_bpf_build(const struct oci_dev_rule *rules, size_t n, struct bpf_insn *out,
                          size_t max);
int oci_devices_bpf_load(const struct bpf_insn *insns, int count, struct err *e);

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i;
	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define MOV_X(dst, src)      insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV_K(dst, imm)      insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define AND_K(dst, imm)      insn(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH_K(dst, imm)      insn(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define JNE_K(dst, imm)      insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm)
#define EXIT()               insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers: r2 type, r3 access, r4 major, r5 minor, r6 scratch. */
int oci_devices_bpf_build(const struct oci_dev_rule *rules, size_t n, struct bpf_insn *out,
                          size_t max)
{
	size_t k = 0;
#define EMIT(x)                                                                                    \
	do {                                                                                       \
		if (k >= max)                                                                      \
			return -1;                                                                 \
		out[k++] = (x);                                                                    \
	} while (0)
	EMIT(LDX_W(2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
	EMIT(MOV_X(3, 2));
	EMIT(AND_K(2, 0xffff));
	EMIT(RSH_K(3, 16));
	EMIT(LDX_W(4, 1, offsetof(struct bpf_cgroup_dev_ctx, major)));
	EMIT(LDX_W(5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
	/* Last rule first: the first match in the program is the last in the list. */
	for (size_t r = n; r-- > 0;) {
		const struct oci_dev_rule *d = &rules[r];
		size_t jumps[4], nj = 0;
		if (d->type != 'a') {
			jumps[nj++] = k;
			EMIT(JNE_K(2, d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
		}
		int acc = 0;
		for (const char *a = d->access; *a; a++)
			acc |= *a == 'r'   ? BPF_DEVCG_ACC_READ
			       : *a == 'w' ? BPF_DEVCG_ACC_WRITE
			                   : BPF_DEVCG_ACC_MKNOD;
		if (acc != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
			/* the request must be within the rule's access */
			EMIT(MOV_X(6, 3));
			EMIT(AND_K(6, ~acc));
			jumps[nj++] = k;
			EMIT(JNE_K(6, 0));
		}
		if (d->major >= 0) {
			jumps[nj++] = k;
			EMIT(JNE_K(4, (int32_t)d->major));
		}
		if (d->minor >= 0) {
			jumps[nj++] = k;
			EMIT(JNE_K(5, (int32_t)d->minor));
		}
		EMIT(MOV_K(0, d->allow ? 1 : 0));
		EMIT(EXIT());
		for (size_t j = 0; j < nj; j++)
			out[jumps[j]].off = (int16_t)(k - jumps[j] - 1);
		if (nj == 0)
			return (int)k; /* matches everything: the rest is unreachable */
	}
	EMIT(MOV_K(0, 0)); /* nothing matched: deny */
	EMIT(EXIT());
#undef EMIT
	return (int)k;
}

int oci_devices_bpf_load(const struct bpf_insn *insns, int count, struct err *e)
{
	static char log[4096];
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)count;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	log[0] = '\0';
	int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0) {
		int saved = errno;
		/* the verifier's last line says why */
		size_t len = strnlen(log, sizeof(log) - 1);
		while (len && log[len - 1] == '\n')
			log[--len] = '\0';
		const char *last = strrchr(log, '\n');
		last = last ? last + 1 : log;
		return err_errno(
		    e, saved,
		    "linux.resources.devices: loading the cgroup device program%s%.200s%s",
		    *last ? " (" : "", last, *last ? ")" : "");
	}
	return fd;
}

int oci_cgroup_devices_v2(const struct oci_cgroup *cg, const struct oci_dev_rule *rules, size_t n,
                          const struct oci_dev_rule *defaults, size_t nd, struct err *e)
{
	size_t total = n + nd, max = 6 + total * 10 + 2;
	struct oci_dev_rule *all = calloc(total + 1, sizeof(*all));
	struct bpf_insn *prog = calloc(max, sizeof(*prog));
	int r = -1, pfd = -1, cfd = -1;
	if (!all || !prog) {
		err_set(e, ERR_SYSTEM, "out of memory");
		goto out;
	}
	memcpy(all, rules, n * sizeof(*all));
	memcpy(all + n, defaults, nd * sizeof(*all));
	int count = oci_devices_bpf_build(all, total, prog, max);
	if (count < 0 || count > 4096) {
		err_set(e, ERR_INPUT, "linux.resources.devices: too many rules");
		goto out;
	}
	if ((pfd = oci_devices_bpf_load(prog, count, e)) < 0)
		goto out;
	char dir[1400];
	snprintf(dir, sizeof(dir), "%s%s", cg->unified, cg->path);
	cfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0) {
		err_sys(e, "opening %s", dir);
		goto out;
	}
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cfd;
	attr.attach_bpf_fd = (uint32_t)pfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0) {
		err_sys(e, "linux.resources.devices: attaching the device program to %s", dir);
		goto out;
	}
	r = 0;
out:
	if (pfd >= 0)
		close(pfd);
	if (cfd >= 0)
		close(cfd);
	free(all);
	free(prog);
	return r;
}
