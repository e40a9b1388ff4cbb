/* SPDX-License-Identifier: Apache-2.0 */
/* A virtual machine as a value: several may live in one process, each on
 * the accelerator its configuration asks for (KVM or the software CPU). */
#ifndef CAPSA_VM_VM_H
#define CAPSA_VM_VM_H

#include "devices/device.h"
#include "lib/err.h"
#include "vm/accel.h"
#include "vm/x86/boot.h"
#include "vm/x86/cpuid.h"
#include "vm/vm_virtio.h"

#include <stdint.h>

#define VM_MIN_MEMORY (16ULL << 20)
#define VM_MAX_MEMORY (1ULL << 40)

struct vm_config {
	const char *kernel;  /* required */
	const char *initrd;  /* optional */
	const char *cmdline; /* optional */
	unsigned cpus;       /* 1.. */
	uint64_t memory;     /* bytes, VM_MIN_MEMORY..VM_MAX_MEMORY, multiple of 4 KiB */
	int console_out;     /* fd for serial output, -1 to discard */
	int console_in;      /* fd for serial input, -1 for none */
	int console_escape;  /* Ctrl-A x on console_in ends the VM */
	const struct cpuid_edits *cpu_edits; /* may be NULL */
	const char *kvm_path;                /* NULL: /dev/kvm */
	enum accel_kind accel;               /* ACCEL_AUTO: KVM if it opens, else emu */
	struct vm_virtio_config virtio;      /* virtio-mmio devices (vm_virtio.h) */
};

struct vm_result {
	enum vm_end_reason reason;
	int status;            /* exit status for the CLI */
	double seconds;        /* wall time of vm_run */
	uint64_t instructions; /* guest instructions retired, 0 if not counted */
	char report[4096];     /* crash report or host error, "" if none */
};

struct vm;

int vm_create(struct vm **out, const struct vm_config *cfg, struct err *e);
/* The accelerator the VM runs on; for a VM that asked for auto and got the
 * software CPU, *why_not_kvm says why KVM was not used ("" otherwise). */
enum accel_kind vm_accel(const struct vm *vm, const char **why_not_kvm);
/* How the kernel was loaded. */
const struct boot_entry *vm_boot(const struct vm *vm);
/* Run until the guest ends (reset, power off, debug exit, crash) or
 * vm_request_end() is called. Returns 0 with *res filled, -1 on a host error. */
int vm_run(struct vm *vm, struct vm_result *res, struct err *e);
/* Ask the VM to end; async-signal-safe, callable from any thread. The first
 * request wins. */
void vm_request_end(struct vm *vm, enum vm_end_reason why, int status);
void vm_destroy(struct vm *vm);

/* Pause: every vCPU is kicked out of the accelerator and parked on its
 * thread; returns once all are parked. Resume lets them go on. Both are
 * callable from any thread while vm_run runs (or before it). ERR_INPUT when
 * the VM is already in that state or has ended. A pause also quiesces the
 * virtio devices (their I/O threads stop between requests, the disks are
 * flushed) and resume restarts them. */
int vm_pause(struct vm *vm, struct err *e);
int vm_resume(struct vm *vm, struct err *e);

/* Type Ctrl-Alt-Del on the VM's keyboard (devices/i8042.h); any thread.
 * ERR_INPUT once the VM has ended. */
int vm_send_ctrl_alt_del(struct vm *vm, struct err *e);

struct vm_info {
	unsigned cpus;
	uint64_t memory;
	enum accel_kind accel;
	int paused;
	int ended;
};
void vm_get_info(struct vm *vm, struct vm_info *out);

/* Exit status convention of `capsa vm run` for an end reason. */
int vm_end_status(enum vm_end_reason why, int status);
const char *vm_end_name(enum vm_end_reason why);

#endif
