/* SPDX-License-Identifier: Apache-2.0 */
#include "oci/state.h"
#include "lib/file.h"
#include "oci/util.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int lock_dir(struct oci_state *st, struct err *e)
{
	st->lock_fd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->lock_fd < 0)
		return err_sys(e, "opening %s", st->dir);
	while (flock(st->lock_fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err_sys(e, "locking %s", st->dir);
			close(st->lock_fd);
			st->lock_fd = -1;
			return -1;
		}
	}
	return 0;
}

static int set_dir(const char *root, const char *id, struct oci_state *st, struct err *e)
{
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if (util_valid_id(id, e) < 0)
		return -1;
	snprintf(st->id, sizeof(st->id), "%s", id);
	if (snprintf(st->dir, sizeof(st->dir), "%s/%s", root, id) >= (int)sizeof(st->dir))
		return err_set(e, ERR_INPUT, "state path too long");
	return 0;
}

int oci_state_create(const char *root, const char *id, struct oci_state *st, struct err *e)
{
	if (set_dir(root, id, st, e) < 0)
		return -1;
	if (util_mkdir_p(root, 0700, e) < 0)
		return -1;
	if (mkdir(st->dir, 0700) < 0) {
		if (errno == EEXIST)
			return err_set(e, ERR_INPUT, "container '%s' already exists", id);
		return err_sys(e, "creating %s", st->dir);
	}
	if (lock_dir(st, e) < 0) {
		rmdir(st->dir);
		return -1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char base[40];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(st->created, sizeof(st->created), "%s.%09ldZ", base, ts.tv_nsec);
	st->owner = getuid();
	return 0;
}

static void copy_str(struct json_object *o, const char *key, char *dst, size_t len)
{
	struct json_object *v;
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(dst, len, "%s", json_object_get_string(v));
}

static long long get_int(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return 0;
}

int oci_state_open(const char *root, const char *id, struct oci_state *st, struct err *e)
{
	char path[OCI_PATH_MAX + 16];
	if (set_dir(root, id, st, e) < 0)
		return -1;
	struct stat sb;
	if (stat(st->dir, &sb) < 0)
		return err_set(e, ERR_INPUT, "container '%s' does not exist", id);
	if (lock_dir(st, e) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/state.json", st->dir);
	char *text = file_read(path, 1 << 20, NULL, e);
	if (!text) {
		oci_state_close(st);
		if (e->errnum == ENOENT)
			return err_set(e, ERR_INPUT, "container '%s' does not exist", id);
		return -1;
	}
	struct json_object *o = json_tokener_parse(text);
	free(text);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		oci_state_close(st);
		return err_set(e, ERR_SYSTEM, "%s: corrupt state file", path);
	}
	st->pid = (pid_t)get_int(o, "pid");
	st->start_time = (unsigned long long)get_int(o, "startTime");
	st->owner = (uid_t)get_int(o, "owner");
	st->systemd_cgroup = (int)get_int(o, "systemdCgroup");
	st->started = (int)get_int(o, "started");
	copy_str(o, "bundle", st->bundle, sizeof(st->bundle));
	copy_str(o, "rootfs", st->rootfs, sizeof(st->rootfs));
	copy_str(o, "cgroup", st->cgroup, sizeof(st->cgroup));
	copy_str(o, "created", st->created, sizeof(st->created));
	json_object_put(o);
	return 0;
}

int oci_state_save(const struct oci_state *st, struct err *e)
{
	char path[OCI_PATH_MAX + 16];
	struct json_object *o = json_object_new_object();
	if (!o)
		return err_set(e, ERR_SYSTEM, "out of memory");
	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "pid", json_object_new_int64(st->pid));
	json_object_object_add(o, "startTime", json_object_new_int64((int64_t)st->start_time));
	json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
	json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs));
	json_object_object_add(o, "cgroup", json_object_new_string(st->cgroup));
	json_object_object_add(o, "created", json_object_new_string(st->created));
	json_object_object_add(o, "owner", json_object_new_int64(st->owner));
	json_object_object_add(o, "systemdCgroup", json_object_new_int(st->systemd_cgroup));
	json_object_object_add(o, "started", json_object_new_int(st->started));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(path, sizeof(path), "%s/state.json", st->dir);
	int r = util_write_atomic(path, s, strlen(s), e);
	json_object_put(o);
	return r;
}

int oci_state_remove(struct oci_state *st, struct err *e)
{
	if (util_rm_rf(st->dir) < 0)
		return err_sys(e, "removing %s", st->dir);
	return 0;
}

void oci_state_close(struct oci_state *st)
{
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	st->lock_fd = -1;
}

int oci_state_path(const struct oci_state *st, const char *name, char *buf, size_t len)
{
	return snprintf(buf, len, "%s/%s", st->dir, name) >= (int)len ? -1 : 0;
}

int oci_state_alive(const struct oci_state *st)
{
	int zombie;
	if (st->pid <= 0)
		return 0;
	unsigned long long t = util_proc_start_time(st->pid, &zombie);
	return t != 0 && t == st->start_time && !zombie;
}

const char *oci_state_status(const struct oci_state *st, int is_paused)
{
	char fifo[OCI_PATH_MAX + 16];
	if (!oci_state_alive(st))
		return st->pid <= 0 && !st->started ? "creating" : "stopped";
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st->dir);
	if (access(fifo, F_OK) == 0)
		return "created";
	return is_paused ? "paused" : "running";
}

char *oci_state_json(const struct oci_state *st, const char *status, int pretty)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	int alive = strcmp(status, "stopped") != 0;
	json_object_object_add(o, "ociVersion", json_object_new_string("1.2.0"));
	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "pid", json_object_new_int64(alive ? st->pid : 0));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
	json_object_object_add(o, "rootfs", json_object_new_string(st->rootfs));
	json_object_object_add(o, "created", json_object_new_string(st->created));
	json_object_object_add(o, "owner", json_object_new_string(st->owner == 0 ? "root" : ""));
	/* Annotations from the bundle's config, as the spec's state carries them. */
	char path[OCI_PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/config.json", st->bundle);
	struct json_object *cfg = json_object_from_file(path), *ann;
	if (cfg && json_object_object_get_ex(cfg, "annotations", &ann) &&
	    json_object_is_type(ann, json_type_object))
		json_object_object_add(o, "annotations", json_object_get(ann));
	json_object_put(cfg);
	char *s = strdup(json_object_to_json_string_ext(
	    o, pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                    JSON_C_TO_STRING_NOSLASHESCAPE
	              : JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}
