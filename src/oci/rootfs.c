/* SPDX-License-Identifier: Apache-2.0 */
#include "oci/rootfs.h"
#include "lib/file.h"
#include "oci/mountinfo.h"
#include "oci/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int openat2_in_root(int rootfd, const char *path)
{
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

int oci_open_in_root(int rootfd, const char *path, int create, int as_file, struct err *e)
{
	int fd = openat2_in_root(rootfd, path);
	if (fd >= 0 || errno != ENOENT || !create) {
		if (fd < 0)
			err_sys(e, "opening %s in the container", path);
		return fd;
	}
	char buf[4096];
	if (strlen(path) >= sizeof(buf)) {
		err_set(e, ERR_INPUT, "path too long: %.64s...", path);
		return -1;
	}
	strcpy(buf, path);
	char *slash = strrchr(buf, '/');
	const char *name = buf;
	int parent;
	if (slash && slash != buf) {
		*slash = '\0';
		name = slash + 1;
		parent = oci_open_in_root(rootfd, buf, 1, 0, e);
		if (parent < 0)
			return -1;
	} else {
		name = slash ? slash + 1 : buf;
		parent = openat2_in_root(rootfd, "/");
		if (parent < 0) {
			err_sys(e, "opening the container root");
			return -1;
		}
	}
	int r;
	if (as_file) {
		r = openat(parent, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (r >= 0)
			close(r);
	} else {
		r = mkdirat(parent, name, 0755);
	}
	if (r < 0 && errno != EEXIST) {
		err_sys(e, "creating %s in the container", path);
		close(parent);
		return -1;
	}
	close(parent);
	fd = openat2_in_root(rootfd, path);
	if (fd < 0)
		err_sys(e, "opening %s in the container", path);
	return fd;
}

static void fdpath(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* mount(2) onto DEST in the root, resolved there by oci_open_in_root() with
 * CREATE and AS_FILE; a failed mount is the error "FMT...: strerror". */
static int mount_in_root(int rootfd, const char *dest, int create, int as_file, const char *src,
                         const char *type, unsigned long flags, const char *data, struct err *e,
                         const char *fmt, ...) __attribute__((format(printf, 10, 11)));
static int mount_in_root(int rootfd, const char *dest, int create, int as_file, const char *src,
                         const char *type, unsigned long flags, const char *data, struct err *e,
                         const char *fmt, ...)
{
	char target[64], what[ERR_MSG_MAX];
	int fd = oci_open_in_root(rootfd, dest, create, as_file, e);
	if (fd < 0)
		return -1;
	fdpath(fd, target, sizeof(target));
	int r = mount(src, target, type, flags, data);
	int saved = errno;
	close(fd);
	if (r == 0)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	err_errno(e, saved, "%s", what);
	errno = saved;
	return -1;
}

/* Flags the kernel locks on a mount seen from a user namespace. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	return f;
}

#define REMOUNT_FLAGS                                                                              \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
	 MS_STRICTATIME)

int oci_idmap_userns_fd(const struct oci_idmap *u, size_t nu, const struct oci_idmap *g, size_t ng,
                        struct err *e);

static int bind_mount(const struct oci_rootfs_ctx *ctx, const struct oci_mount *m, size_t idx,
                      const char *src, const char *target, struct err *e)
{
	unsigned long rec = m->recursive ? MS_REC : 0;
	if (m->idmap) {
		int tree =
		    (int)syscall(SYS_open_tree, AT_FDCWD, src,
		                 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
		if (tree < 0)
			return err_sys(e, "mounts[%zu]: open_tree %s", idx, src);
		int ufd = ctx->idmap_fds ? ctx->idmap_fds[idx] : -1;
		if (ufd < 0) {
			close(tree);
			return err_set(e, ERR_INTERNAL, "mounts[%zu]: no user namespace for idmap",
			               idx);
		}
		struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ufd};
		if (m->flags & MS_RDONLY)
			attr.attr_set |= MOUNT_ATTR_RDONLY;
		int r = (int)syscall(SYS_mount_setattr, tree, "",
		                     AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &attr, sizeof(attr));
		if (r < 0) {
			err_sys(e, "mounts[%zu]: idmapping %s", idx, src);
			close(tree);
			return -1;
		}
		r = (int)syscall(SYS_move_mount, tree, "", AT_FDCWD, target,
		                 MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS);
		close(tree);
		if (r < 0)
			return err_sys(e, "mounts[%zu]: moving the idmapped mount of %s", idx, src);
		return 0;
	}
	if (mount(src, target, NULL, MS_BIND | rec, NULL) < 0)
		return err_sys(e, "mounts[%zu]: bind mounting %s on %s", idx, src, m->destination);
	return 0;
}

/* Remount the mount now at dest (a fd opened before the mount would still
 * point below it, so the path is resolved again). */
static int remount_at(int rootfd, const char *dest, unsigned long fl, int userns, size_t idx,
                      struct err *e)
{
	char target[64];
	int fd = oci_open_in_root(rootfd, dest, 0, 0, e);
	if (fd < 0)
		return -1;
	fdpath(fd, target, sizeof(target));
	if (userns)
		fl |= locked_flags(target);
	int r = mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | fl, NULL);
	close(fd);
	if (r < 0)
		return err_sys(e, "mounts[%zu]: remounting %s with its options", idx, dest);
	return 0;
}

/* cgroup mounts: a tmpfs with the container's own cgroup directories bound
 * in (v1/hybrid), or the container's v2 directory bound directly. */
static int cgroup_mount(const struct oci_rootfs_ctx *ctx, const struct oci_mount *m, size_t idx,
                        int rootfd, struct err *e)
{
	const struct oci_cgroup *cg = ctx->cg;
	char src[1400], sub[1400];
	unsigned long ro = m->flags & MS_RDONLY;
	if (!cg || !cg->path[0])
		return err_set(e, ERR_INPUT, "mounts[%zu]: a cgroup mount needs cgroups", idx);
	if (cg->layout == OCI_CG_V2) {
		snprintf(src, sizeof(src), "%s%s", cg->unified, cg->path);
		if (mount_in_root(rootfd, m->destination, 1, 0, src, NULL, MS_BIND | MS_REC, NULL,
		                  e, "mounts[%zu]: mounting cgroup2", idx) < 0)
			return -1;
		return ro ? remount_at(rootfd, m->destination,
		                       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, ctx->userns,
		                       idx, e)
		          : 0;
	}
	if (mount_in_root(rootfd, m->destination, 1, 0, "tmpfs", "tmpfs",
	                  MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755", e,
	                  "mounts[%zu]: mounting the cgroup tmpfs", idx) < 0)
		return -1;
	for (int i = -1; i < cg->nh; i++) {
		const char *mnt = i < 0 ? cg->unified : cg->h[i].mnt;
		if (!mnt[0])
			continue;
		const char *base = strrchr(mnt, '/');
		base = base ? base + 1 : mnt;
		snprintf(sub, sizeof(sub), "%s/%s", m->destination, base);
		snprintf(src, sizeof(src), "%s%s", mnt, cg->path);
		if (mount_in_root(rootfd, sub, 1, 0, src, NULL, MS_BIND, NULL, e,
		                  "mounts[%zu]: binding cgroup %s", idx, src) < 0)
			return -1;
		if (ro && remount_at(rootfd, sub, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		                     ctx->userns, idx, e) < 0)
			return -1;
		/* co-mounted controllers get symlinks: cpu -> cpu,cpuacct */
	}
	if (ro)
		return mount_in_root(rootfd, m->destination, 0, 0, NULL, NULL,
		                     MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		                     "mode=755", e,
		                     "mounts[%zu]: making the cgroup tmpfs read-only", idx);
	return 0;
}

static int do_mount(const struct oci_rootfs_ctx *ctx, const struct oci_mount *m, size_t idx,
                    int rootfd, struct err *e)
{
	char src[8192], target[64];
	if (m->type && !strcmp(m->type, "cgroup") && !m->bind)
		return cgroup_mount(ctx, m, idx, rootfd, e);
	if (m->type && !strcmp(m->type, "cgroup2") && !m->bind && ctx->cg &&
	    ctx->cg->layout != OCI_CG_V2)
		return cgroup_mount(ctx, m, idx, rootfd, e);
	int as_file = 0;
	if (m->bind) {
		if (m->source[0] == '/')
			snprintf(src, sizeof(src), "%s", m->source);
		else
			snprintf(src, sizeof(src), "%s/%s", ctx->bundle, m->source);
		struct stat st;
		if (stat(src, &st) < 0)
			return err_set(e, ERR_INPUT, "mounts[%zu].source: %s: %s", idx, src,
			               strerror(errno));
		as_file = !S_ISDIR(st.st_mode);
	}
	int fd = oci_open_in_root(rootfd, m->destination, 1, as_file, e);
	if (fd < 0)
		return err_prefix(e, "mounts[%zu].destination", idx);
	fdpath(fd, target, sizeof(target));
	int r = 0;
	if (m->bind) {
		r = bind_mount(ctx, m, idx, src, target, e);
	} else {
		const char *source = m->source ? m->source : m->type;
		const char *data = m->data && m->data[0] ? m->data : NULL;
		r = mount(source, target, m->type, m->flags & ~MS_REMOUNT, data);
		if (r < 0 && errno == EPERM && ctx->userns && !strcmp(m->type, "sysfs")) {
			/* sysfs needs a network namespace we own: bind the host's instead */
			r = mount("/sys", target, NULL, MS_BIND | MS_REC, NULL);
		}
		if (r < 0 && errno == EINVAL && ctx->userns && !strcmp(m->type, "devpts") && data &&
		    strstr(data, "gid=")) {
			/* the tty group may not be mapped in the user namespace */
			char d2[1024];
			size_t o = 0;
			char copy[1024];
			snprintf(copy, sizeof(copy), "%s", data);
			d2[0] = '\0';
			char *save = NULL;
			for (char *t = strtok_r(copy, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				if (strncmp(t, "gid=", 4) != 0)
					o += (size_t)snprintf(d2 + o, sizeof(d2) - o, "%s%s",
					                      o ? "," : "", t);
			r = mount(source, target, m->type, m->flags & ~MS_REMOUNT, d2);
		}
		if (r < 0)
			r = err_sys(e, "mounts[%zu]: mounting %s (%s) on %s", idx, source, m->type,
			            m->destination);
	}
	close(fd);
	if (r == 0 && m->bind && !m->idmap && (m->flags & REMOUNT_FLAGS))
		r = remount_at(rootfd, m->destination, m->flags & REMOUNT_FLAGS, ctx->userns, idx,
		               e);
	if (r == 0 && m->propagation)
		r = mount_in_root(rootfd, m->destination, 0, 0, NULL, NULL, m->propagation, NULL, e,
		                  "mounts[%zu]: setting propagation of %s", idx, m->destination);
	return r;
}

static const struct {
	const char *path;
	unsigned maj, min;
} default_devs[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static int make_device(const struct oci_rootfs_ctx *ctx, int rootfd, const char *path, char type,
                       unsigned maj, unsigned min, mode_t mode, uid_t uid, gid_t gid, struct err *e)
{
	if (ctx->userns) {
		/* mknod is not allowed: bind the host's node onto an empty file,
		 * but only if the host path is that very device */
		struct stat hs;
		if (stat(path, &hs) < 0 || !(S_ISCHR(hs.st_mode) || S_ISBLK(hs.st_mode)) ||
		    (type == 'b') != !!S_ISBLK(hs.st_mode) || major(hs.st_rdev) != maj ||
		    minor(hs.st_rdev) != min)
			return err_set(e, ERR_INPUT,
			               "device %s: the host has no %c %u:%u device at this path to "
			               "bind in a user namespace",
			               path, type, maj, min);
		return mount_in_root(rootfd, path, 1, 1, path, NULL, MS_BIND, NULL, e,
		                     "binding device %s", path);
	}
	char parent[4096];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	const char *name = slash ? slash + 1 : parent;
	if (slash)
		*slash = '\0';
	int dfd = oci_open_in_root(rootfd, parent[0] ? parent : "/", 1, 0, e);
	if (dfd < 0)
		return -1;
	/* O_PATH fds cannot be used by mknodat: reopen as a directory */
	char dpath[64];
	fdpath(dfd, dpath, sizeof(dpath));
	int real = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(dfd);
	if (real < 0)
		return err_sys(e, "opening %s", parent);
	unlinkat(real, name, 0);
	mode_t t = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
	int r = mknodat(real, name, t | (mode & 07777), makedev(maj, min));
	if (r == 0)
		r = fchownat(real, name, uid, gid, AT_SYMLINK_NOFOLLOW);
	if (r == 0)
		r = fchmodat(real, name, mode & 07777, 0);
	int saved = errno;
	close(real);
	if (r < 0 && saved == EPERM)
		return err_errno(e, saved,
		                 "linux.resources.devices: creating device %s (the device cgroup "
		                 "denies it, the container's rules or the runtime's own)",
		                 path);
	return r < 0 ? err_errno(e, saved, "creating device %s", path) : 0;
}

static int setup_dev(const struct oci_rootfs_ctx *ctx, int rootfd, struct err *e)
{
	const struct oci_config *c = ctx->cfg;
	int fd = openat2_in_root(rootfd, "/dev");
	if (fd < 0)
		return 0; /* no /dev in this rootfs and none mounted */
	close(fd);
	for (size_t i = 0; i < sizeof(default_devs) / sizeof(default_devs[0]); i++) {
		int skip = 0;
		for (size_t k = 0; k < c->n_devices; k++)
			if (!strcmp(c->devices[k].path, default_devs[i].path))
				skip = 1;
		if (!skip &&
		    make_device(ctx, rootfd, default_devs[i].path, 'c', default_devs[i].maj,
		                default_devs[i].min, 0666, 0, 0, e) < 0)
			return -1;
	}
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct oci_device *d = &c->devices[i];
		if (d->type == 'p' && ctx->userns)
			return err_set(e, ERR_INPUT,
			               "linux.devices[%zu]: fifos cannot be created in "
			               "a user namespace",
			               i);
		if (make_device(ctx, rootfd, d->path, d->type == 'u' ? 'c' : d->type,
		                (unsigned)d->major, (unsigned)d->minor,
		                d->has_mode ? d->mode : 0666, d->has_uid ? d->uid : 0,
		                d->has_gid ? d->gid : 0, e) < 0)
			return err_prefix(e, "linux.devices[%zu]", i);
	}
	static const char *const links[][2] = {
	    {"/proc/self/fd", "/dev/fd"},
	    {"/proc/self/fd/0", "/dev/stdin"},
	    {"/proc/self/fd/1", "/dev/stdout"},
	    {"/proc/self/fd/2", "/dev/stderr"},
	};
	int dfd = oci_open_in_root(rootfd, "/dev", 0, 0, e);
	char dpath[64];
	if (dfd < 0)
		return -1;
	fdpath(dfd, dpath, sizeof(dpath));
	int real = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(dfd);
	if (real < 0)
		return err_sys(e, "opening /dev");
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], real, links[i][1] + 5) < 0 && errno != EEXIST) {
			close(real);
			return err_sys(e, "creating %s", links[i][1]);
		}
	/* /dev/ptmx -> pts/ptmx when a devpts is mounted at /dev/pts */
	struct stat st;
	if (fstatat(real, "pts/ptmx", &st, AT_SYMLINK_NOFOLLOW) == 0) {
		unlinkat(real, "ptmx", 0);
		if (symlinkat("pts/ptmx", real, "ptmx") < 0) {
			close(real);
			return err_sys(e, "creating /dev/ptmx");
		}
	}
	if (fstatat(real, "shm", &st, 0) < 0)
		mkdirat(real, "shm", 01777);
	close(real);
	return 0;
}

/* Make the mount holding PATH private if it is shared: a bind mount on it
 * would propagate to its peers (the host), and pivot_root and MS_MOVE refuse
 * a shared parent (EINVAL). Only this namespace's copy changes. */
static int unshare_holder(const char *path, struct err *e)
{
	char mp[4096];
	int shared = 0;
	char *text = file_read("/proc/self/mountinfo", 16u << 20, NULL, e);
	if (!text)
		return -1;
	int r = oci_mountinfo_find(text, path, mp, sizeof(mp), &shared, e);
	free(text);
	if (r < 0)
		return -1;
	if (shared && mount(NULL, mp, NULL, MS_PRIVATE, NULL) < 0)
		return err_sys(e, "making %s (the mount holding %s) private", mp, path);
	return 0;
}

int oci_rootfs_setup(const struct oci_rootfs_ctx *ctx, struct err *e)
{
	const struct oci_config *c = ctx->cfg;
	/* The container's view of the host's mounts: rslave unless
	 * linux.rootfsPropagation says otherwise (as runc does). */
	unsigned long prop = c->rootfs_propagation ? c->rootfs_propagation : MS_SLAVE | MS_REC;
	/* An unbindable / could not be bound: it is private until the root is
	 * in place, unbindable after (unbindable implies private). */
	if (prop & MS_UNBINDABLE)
		prop = MS_PRIVATE | (prop & MS_REC);
	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return err_sys(e, "linux.rootfsPropagation: setting it on /");
	struct stat st;
	if (stat(c->root_path, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(e, ERR_INPUT, "root.path: %s: %s", c->root_path,
		               errno ? strerror(errno) : "not a directory");
	if (unshare_holder(c->root_path, e) < 0 || unshare_holder("/", e) < 0)
		return err_prefix(e, "root.path");
	if (mount(c->root_path, c->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return err_sys(e, "root.path: bind mounting %s", c->root_path);
	int rootfd = open(c->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_sys(e, "root.path: opening %s", c->root_path);
	for (size_t i = 0; i < c->n_mounts; i++) {
		if (do_mount(ctx, &c->mounts[i], i, rootfd, e) < 0) {
			close(rootfd);
			return -1;
		}
	}
	int r = setup_dev(ctx, rootfd, e);
	close(rootfd);
	return r;
}

/* linux.rootfsPropagation on the container's root, once it is "/" and
 * complete (a shared root makes pivot_root fail, nothing can be bound from
 * an unbindable one). Private it is already. */
static int root_propagation(const struct oci_config *c, struct err *e)
{
	unsigned long p = c->rootfs_propagation;
	if (p && !(p & MS_PRIVATE) && mount(NULL, "/", NULL, p, NULL) < 0)
		return err_sys(e, "linux.rootfsPropagation: setting it on the container's root");
	return 0;
}

int oci_rootfs_pivot(const struct oci_rootfs_ctx *ctx, int no_pivot, struct err *e)
{
	const char *root = ctx->cfg->root_path;
	if (chdir(root) < 0)
		return err_sys(e, "entering %s", root);
	if (no_pivot) {
		if (mount(root, "/", NULL, MS_MOVE, NULL) < 0)
			return err_sys(e, "moving the rootfs to /");
		if (chroot(".") < 0)
			return err_sys(e, "chroot");
		return chdir("/") < 0 ? err_sys(e, "chdir /") : 0;
	}
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		if (errno == EINVAL)
			return err_sys(
			    e,
			    "root.path: pivot_root into %s (it is on the initial ramfs or "
			    "a shared mount; --no-pivot avoids pivot_root)",
			    root);
		return err_sys(e, "root.path: pivot_root into %s", root);
	}
	/* The old root is stacked under the new one: detach it without
	 * propagating the unmount back to the host. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return err_sys(e, "making the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return err_sys(e, "detaching the old root");
	return chdir("/") < 0 ? err_sys(e, "chdir /") : 0;
}

static int mask_path(const char *p, struct err *e)
{
	struct stat st;
	if (stat(p, &st) < 0)
		return 0; /* nothing to hide */
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k") < 0)
			return err_sys(e, "linux.maskedPaths: %s", p);
	} else if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) {
		return err_sys(e, "linux.maskedPaths: %s", p);
	}
	return 0;
}

static int readonly_path(const char *p, int userns, struct err *e)
{
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, "linux.readonlyPaths: %s", p);
	}
	unsigned long fl = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (userns)
		fl |= locked_flags(p);
	if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | fl, NULL) < 0)
		return err_sys(e, "linux.readonlyPaths: remounting %s", p);
	return 0;
}

int oci_rootfs_finish(const struct oci_rootfs_ctx *ctx, struct err *e)
{
	const struct oci_config *c = ctx->cfg;
	for (size_t i = 0; i < c->n_sysctls; i++) {
		char p[512];
		snprintf(p, sizeof(p), "/proc/sys/%s", c->sysctls[i].key);
		for (char *s = p + 10; *s; s++)
			if (*s == '.')
				*s = '/';
		if (util_write_str(p, c->sysctls[i].value, e) < 0)
			return err_prefix(e, "linux.sysctl.%s", c->sysctls[i].key);
	}
	for (size_t i = 0; i < c->n_masked; i++)
		if (mask_path(c->masked_paths[i], e) < 0)
			return -1;
	for (size_t i = 0; i < c->n_readonly; i++)
		if (readonly_path(c->readonly_paths[i], ctx->userns, e) < 0)
			return -1;
	if (c->root_readonly) {
		unsigned long fl = MS_RDONLY | (ctx->userns ? locked_flags("/") : 0);
		if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | fl, NULL) < 0)
			return err_sys(e, "root.readonly: remounting / read-only");
	}
	return root_propagation(c, e);
}
