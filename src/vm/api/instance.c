/* SPDX-License-Identifier: Apache-2.0 */
/* See instance.h. */
#include "vm/api/instance.h"

#include "vm/api/extra.h"

#include <string.h>
#include <time.h>

void vm_api_instance_init(struct vm_api_instance *in, struct vm_api_machine *m, struct vm *vm)
{
	memset(in, 0, sizeof(*in));
	pthread_mutex_init(&in->lock, NULL);
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&in->cond, &a);
	pthread_condattr_destroy(&a);
	in->m = m;
	in->vm = vm;
	in->starter = vm == NULL;
	vm_api_tel_init(&in->tel);
	in->tel.more = vm_api_device_metrics;
	in->tel.more_ctx = in;
}

void vm_api_instance_destroy(struct vm_api_instance *in)
{
	vm_api_tel_destroy(&in->tel);
	pthread_cond_destroy(&in->cond);
	pthread_mutex_destroy(&in->lock);
}

struct vm *vm_api_instance_vm(struct vm_api_instance *in)
{
	pthread_mutex_lock(&in->lock);
	struct vm *vm = in->vm;
	pthread_mutex_unlock(&in->lock);
	return vm;
}

int vm_api_submit(struct vm_api_instance *in, const struct vm_api_req *r, struct err *e)
{
	pthread_mutex_lock(&in->lock);
	if (!in->starter || in->vm) {
		pthread_mutex_unlock(&in->lock);
		return err_set(e, ERR_INPUT, "this process cannot start a VM any more");
	}
	in->req = *r;
	in->pending = 1;
	in->done = 0;
	pthread_cond_broadcast(&in->cond);
	while (!in->done && in->starter)
		pthread_cond_wait(&in->cond, &in->lock);
	int rc = in->done ? in->rc : err_set(e, ERR_INPUT, "the VM process is ending");
	if (in->done && rc)
		*e = in->err;
	in->pending = in->done = 0;
	pthread_mutex_unlock(&in->lock);
	return rc;
}

int vm_api_wait_request(struct vm_api_instance *in, struct vm_api_req *r,
                        volatile sig_atomic_t *stop)
{
	pthread_mutex_lock(&in->lock);
	while (!in->pending && !*stop) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += 100 * 1000 * 1000;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&in->cond, &in->lock, &t);
	}
	int got = in->pending && !*stop;
	if (got) {
		*r = in->req;
		in->pending = 0;
	} else {
		in->starter = 0;
		pthread_cond_broadcast(&in->cond);
	}
	pthread_mutex_unlock(&in->lock);
	return got;
}

void vm_api_request_done(struct vm_api_instance *in, struct vm *vm, int rc, const struct err *e)
{
	pthread_mutex_lock(&in->lock);
	in->rc = rc;
	if (rc && e)
		in->err = *e;
	if (!rc) {
		in->vm = vm;
		in->starter = 0;
	}
	int load = in->req.kind == VM_API_REQ_LOAD;
	char path[sizeof(in->req.path)];
	memcpy(path, in->req.path, sizeof(path));
	in->done = 1;
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->lock);
	/* not under in->lock: a metrics line takes the telemetry's lock, then it */
	if (!rc)
		vm_api_tel_event(&in->tel, load ? VM_API_EV_RESTORED : VM_API_EV_STARTED,
		                 load ? path : NULL);
}
