/* SPDX-License-Identifier: Apache-2.0 */
#include "vm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

_Static_assert(sizeof(struct cpuid_entry) == sizeof(struct kvm_cpuid_entry2), "cpuid entry");

static const struct {
	int cap;
	const char *name;
} required[] = {
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
    {KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
};

int kvm_host_open(struct kvm_host *k, const char *path, struct err *e)
{
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		int saved = errno;
		if (saved == ENOENT)
			return err_set(
			    e, ERR_SYSTEM,
			    "cannot open %s: no such device (KVM is not available on "
			    "this host: enable virtualization or load kvm_intel/kvm_amd)",
			    path);
		return err_errno(e, saved, "cannot open %s", path);
	}
	int ver = ioctl(k->fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		err_set(e, ERR_SYSTEM, "%s: KVM API version %d, capsa needs %d", path, ver,
		        KVM_API_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (ioctl(k->fd, KVM_CHECK_EXTENSION, required[i].cap) <= 0) {
			err_set(e, ERR_SYSTEM, "%s: required extension %s is missing", path,
			        required[i].name);
			goto fail;
		}
	}
	k->vcpu_mmap_size = ioctl(k->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		err_sys(e, "%s: KVM_GET_VCPU_MMAP_SIZE", path);
		goto fail;
	}
	k->max_vcpus = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (k->max_vcpus <= 0)
		k->max_vcpus = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (k->max_vcpus <= 0)
		k->max_vcpus = 4;
	k->immediate_exit = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) > 0;
	return 0;
fail:
	close(k->fd);
	k->fd = -1;
	return -1;
}

void kvm_host_close(struct kvm_host *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

struct cpuid_entry *kvm_host_supported_cpuid(const struct kvm_host *k, size_t *n, struct err *e)
{
	for (unsigned nent = 256; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c =
		    calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));
		if (!c) {
			err_sys(e, "allocating CPUID table");
			return NULL;
		}
		c->nent = nent;
		if (ioctl(k->fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			struct cpuid_entry *out = calloc(c->nent ? c->nent : 1, sizeof(*out));
			if (!out) {
				free(c);
				err_sys(e, "allocating CPUID table");
				return NULL;
			}
			for (unsigned i = 0; i < c->nent; i++) {
				const struct kvm_cpuid_entry2 *s = &c->entries[i];
				out[i] =
				    (struct cpuid_entry){s->function, s->index, s->flags, s->eax,
				                         s->ebx,      s->ecx,   s->edx,   {0}};
			}
			*n = c->nent;
			free(c);
			return out;
		}
		int saved = errno;
		free(c);
		if (saved != E2BIG) {
			err_errno(e, saved, "KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
	}
	err_set(e, ERR_SYSTEM, "KVM_GET_SUPPORTED_CPUID: table too large");
	return NULL;
}

int kvm_host_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}
