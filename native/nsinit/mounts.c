/* The container's filesystem: rootfs bind, mount/symlink/device records, pivot_root, masked and
 * read-only paths. Every container path is resolved inside the root and mounted on through
 * /proc/self/fd, so a hostile rootfs (symlinks, `..`) can never redirect a mount onto the host. */
#include "nsinit.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define PROPAGATION (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
/* Flags the kernel ignores on a new bind mount: they need a second, remount call. */
#define BIND_REMOUNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | \
			    MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)
#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)
/* Per-mount flags that a user namespace locks on mounts it inherited, as statfs reports them
 * (ST_* equals MS_* for all of these but relatime). */
static const struct { unsigned long st, ms; } locked_flags[] = {
	{ST_RDONLY, MS_RDONLY}, {ST_NOSUID, MS_NOSUID}, {ST_NODEV, MS_NODEV},
	{ST_NOEXEC, MS_NOEXEC}, {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME},
	{ST_RELATIME, MS_RELATIME}};

static int rootfd = -1; /* the rootfs (its self-bind), then "/" after pivot */

const char *fd_path(int fd)
{
	static char buf[2][32];
	static int i;
	i ^= 1;
	snprintf(buf[i], sizeof buf[i], "/proc/self/fd/%d", fd);
	return buf[i];
}

static int open_in_root(int dirfd, const char *path)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd;
	do /* EAGAIN: a concurrent rename; the kernel asks to retry */
		fd = (int)syscall(SYS_openat2, dirfd, *path ? path : ".", &how, sizeof how);
	while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	return fd;
}

/* Makes `name` in `parent`: an empty file (`file`) or a directory. 0, or -1 with errno (EEXIST
 * when something is there already, a dangling symlink included: nothing is followed). */
static int make_entry(int parent, const char *name, int file)
{
	if (!file)
		return mkdirat(parent, name, 0755);
	int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	return fd < 0 ? -1 : close(fd);
}

/* The common case of a missing path: its parent exists and the last component is plainly
 * missing (no dangling symlink there). One open of the parent and the creation, where the walk
 * below opens every component from the root: for the ~13 cgroup v1 mount points of a container
 * that is ~90 system calls less on its start's critical path. -1 with errno 0 when the walk must
 * decide (no parent, a last component that is `.` or `..` or appeared meanwhile). */
static int create_in_parent(int root, const char *path, int create)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	const char *slash = memrchr(path, '/', len);
	const char *base = slash ? slash + 1 : path;
	size_t blen = (size_t)(path + len - base);
	char name[NAME_MAX + 1], dir[PATH_MAX];
	if (!blen || blen > NAME_MAX || (size_t)(base - path) >= sizeof dir ||
	    (blen == 1 && base[0] == '.') || (blen == 2 && base[0] == '.' && base[1] == '.'))
		return errno = 0, -1;
	memcpy(name, base, blen);
	name[blen] = 0;
	memcpy(dir, path, (size_t)(base - path));
	dir[base - path] = 0;
	int parent = open_in_root(root, dir);
	if (parent < 0)
		return errno = 0, -1;
	int r = make_entry(parent, name, create == CREATE_FILE);
	/* Re-open what we just made without following anything. */
	int fd = r < 0 ? -1 : openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int err = errno;
	close(parent);
	errno = r < 0 && err == EEXIST ? 0 : err; /* EEXIST: a dangling symlink? the walk decides */
	return fd;
}

/* Resolves `path` inside the root at `root` and returns an O_PATH fd, creating missing
 * components (directories; the last one a file with CREATE_FILE) one at a time. A dangling
 * symlink met on the way is followed by going on from its target, still resolved inside the
 * root, as runc's securejoin does: `proc -> /tmp/x` ends up at <root>/tmp/x. */
int resolve_in_root(int root, const char *path, int create)
{
	int fd = open_in_root(root, path), parent = -1, links = 0;
	if (fd >= 0 || errno != ENOENT || create == RESOLVE_ONLY)
		return fd;
	if ((fd = create_in_parent(root, path, create)) >= 0 || errno)
		return fd;
	char *cur = xstrdup(path);
restart:
	if (parent >= 0)
		close(parent);
	parent = open_in_root(root, "");
	for (char *p = cur; parent >= 0 && *p;) {
		if (*p == '/') {
			p++;
			continue;
		}
		char *end = strchrnul(p, '/'), save = *end;
		*end = 0; /* cur is now the prefix up to and including this component */
		if ((fd = open_in_root(root, cur)) < 0 && errno == ENOENT) {
			int last = !save || !end[1 + strspn(end + 1, "/")];
			int r = make_entry(parent, p, last && create == CREATE_FILE);
			if (r < 0 && errno == EEXIST) {
				char target[PATH_MAX];
				ssize_t tl = readlinkat(parent, p, target, sizeof target - 1);
				if (tl > 0 && ++links <= 40) {
					target[tl] = 0;
					*p = 0;
					char *next = xasprintf("%s/%s/%s", target[0] == '/' ? "" : cur, target,
							       save ? end + 1 : "");
					free(cur);
					cur = next;
					goto restart;
				}
				errno = tl > 0 ? ELOOP : EEXIST;
			}
			/* Re-open what we just made without following anything. */
			fd = r < 0 ? -1 : openat(parent, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		int err = errno;
		close(parent);
		parent = fd;
		errno = err;
		*end = save;
		p = end;
	}
	free(cur);
	return parent;
}

static int resolve_or_die(const char *path, int create)
{
	int fd = resolve_in_root(rootfd, path, create);
	if (fd < 0)
		die_errno(create == RESOLVE_ONLY ? "open '%s' in rootfs" : "create '%s' in rootfs", path);
	return fd;
}

/* A bind remount. With keep_locked (or after EPERM) the mount's current flags that a user
 * namespace locks are kept, since dropping one (say nodev from a host mount) is refused. */
static int bind_remount(int fd, const char *target, unsigned long flags, int keep_locked)
{
	struct statfs sf;
	unsigned long f = flags;
	if (keep_locked && fstatfs(fd, &sf) == 0) {
		unsigned long cur = 0;
		for (size_t i = 0; i < sizeof locked_flags / sizeof *locked_flags; i++)
			if (sf.f_flags & locked_flags[i].st)
				cur |= locked_flags[i].ms;
		if (flags & ATIME_FLAGS)
			cur &= ~(unsigned long)ATIME_FLAGS;
		else if (!(cur & ATIME_FLAGS))
			cur |= MS_STRICTATIME; /* statfs shows strictatime as no atime flag */
		f |= cur;
	}
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | f, NULL) == 0)
		return 0;
	if (errno == EPERM && !keep_locked)
		return bind_remount(fd, target, flags, 1);
	return -1;
}

/* Octal escapes (\040) in /proc/self/mountinfo paths. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

/* The mount the rootfs sits on, if it is shared, gets `prop`. In a new mount namespace that is
 * MS_PRIVATE, as runc does: pivot_root refuses a new root whose parent mount is shared
 * (rootfs-propagation may have made it so). In a joined one it is MS_SLAVE: the self-bind of the
 * rootfs, and every mount of the container under it, would otherwise propagate to that mount's
 * peers (other namespaces, maybe the host's) and stay there; as a slave it still receives what
 * its peers mount, so the namespace's holder loses as little as possible. */
static void parent_mount_unshare(const char *rootfs, unsigned long prop)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		die_errno("open '/proc/self/mountinfo'");
	char *line = NULL, *best = NULL;
	size_t cap = 0, bestlen = 0;
	int shared = 0;
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *mp = NULL, *tok = strtok_r(line, " ", &save);
		int i = 0, is_shared = 0;
		for (; tok && strcmp(tok, "-"); tok = strtok_r(NULL, " ", &save), i++) {
			if (i == 4)
				mp = tok;
			if (i >= 6 && !strncmp(tok, "shared:", 7))
				is_shared = 1;
		}
		if (!mp)
			continue;
		unescape(mp);
		size_t l = strlen(mp);
		int under = !strcmp(mp, "/") ||
			    (!strncmp(rootfs, mp, l) && (rootfs[l] == '/' || rootfs[l] == 0));
		if (under && l >= bestlen) { /* later lines are mounted on top of earlier ones */
			free(best);
			best = xstrdup(mp);
			bestlen = l;
			shared = is_shared;
		}
	}
	free(line);
	fclose(f);
	if (best && shared && mount(NULL, best, NULL, prop, NULL) < 0)
		die_errno("make '%s' %s", best, prop == MS_PRIVATE ? "private" : "a slave");
	free(best);
}

/* The rootfs-mount records, stacked on the rootfs directory in the container's new mount
 * namespace, whose mounts no longer propagate to the host (`/` is a slave or private by now, and
 * so is the mount the rootfs sits on): the root filesystem exists only while the namespace does,
 * so a dead runtime leaves no mount on the host and no other namespace holds a copy of it. A
 * `cwd` is where relative paths in the data start (the kernel resolves overlay lowerdirs against
 * the caller's cwd): long layer lists are sent relative to their common parent so they fit the
 * page mount(2) copies. */
static void rootfs_mount_records(struct plan *p, const char *real)
{
	for (size_t i = 0; i < p->rootmounts.n; i++) {
		struct rootmount *m = &p->rootmounts.v[i];
		unsigned long f = m->flags & ~(unsigned long)PROPAGATION;
		const char *what = (f & MS_BIND) ? "bind" : *m->fstype ? m->fstype : m->source;
		if (*m->cwd && chdir(m->cwd) < 0)
			die_errno("mount %s on '%s': chdir '%s'", what, p->rootfs, m->cwd);
		if (mount(*m->source ? m->source : NULL, real, *m->fstype ? m->fstype : NULL, f,
			  *m->data ? m->data : NULL) < 0)
			die_errno("mount %s on '%s'", what, p->rootfs);
		if ((f & MS_BIND) && (f & BIND_REMOUNT_FLAGS)) { /* the fd: for the locked flags */
			int fd = openat(AT_FDCWD, real, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0 || bind_remount(fd, real, f & BIND_REMOUNT_FLAGS, 0) < 0)
				die_errno("remount %s on '%s'", what, p->rootfs);
			close(fd);
		}
		if (*m->cwd && chdir("/") < 0)
			die_errno("chdir '/'");
	}
}

/* Host-side steps, done while the init stage still has its host credentials (so host paths
 * are reachable even in a user namespace): propagation, and the rootfs bound onto itself so it
 * is a mount point for pivot_root (a new mount namespace) or a subtree of the container's own
 * (a joined one). In a joined namespace nothing that was there is changed but, if shared, the
 * parent mount of the rootfs (made a slave): `rootfs-propagation` applies to the self-bind, not
 * to `/`, which belongs to the namespace's holder. */
void rootfs_open(struct plan *p)
{
	int joined = !(p->ns_new & CLONE_NEWNS);
	int fd = openat(AT_FDCWD, p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die_errno("open rootfs '%s'", p->rootfs);
	char real[PATH_MAX];
	ssize_t n = readlink(fd_path(fd), real, sizeof real - 1);
	if (n < 0)
		die_errno(joined ? "readlink rootfs '%s' (mounts in a joined mount namespace go through its /proc/self/fd)"
				 : "readlink rootfs '%s'",
			  p->rootfs);
	real[n] = 0;
	if (!joined && p->rootfs_prop && mount(NULL, "/", NULL, p->rootfs_prop, NULL) < 0)
		die_errno("set propagation of '/'");
	parent_mount_unshare(real, joined ? MS_SLAVE : MS_PRIVATE);
	rootfs_mount_records(p, real);
	if (mount(real, real, NULL, MS_BIND | MS_REC, NULL) < 0)
		die_errno("bind rootfs '%s'", p->rootfs);
	close(fd);
	/* Open again: the new fd is on the self-bind, not on the directory under it. */
	if ((rootfd = openat(AT_FDCWD, real, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open rootfs '%s'", p->rootfs);
	if (joined && p->rootfs_prop) {
		/* The self-bind may be a peer of the rootfs it copies (a shared mount): shared gets a
		 * peer group of its own (private first), so nothing the container mounts leaves it. */
		unsigned long rec = p->rootfs_prop & MS_REC;
		if ((p->rootfs_prop & MS_SHARED) && mount(NULL, fd_path(rootfd), NULL, MS_PRIVATE | rec, NULL) < 0)
			die_errno("make rootfs '%s' private", p->rootfs);
		if (mount(NULL, fd_path(rootfd), NULL, p->rootfs_prop, NULL) < 0)
			die_errno("set propagation of rootfs '%s'", p->rootfs);
	}
}

static int parent_of(const char *path, const char **base);

/* proc and sysfs only on an ordinary directory, as runc insists: a `/proc -> /` symlink in the
 * rootfs would otherwise put procfs over the container's root (the symlink is followed inside
 * the root), and a file there is no place for a filesystem either. Missing: created. */
static int proc_destination(struct rootop *o, const char *what)
{
	const char *base;
	int dfd = parent_of(o->b, &base);
	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			die_errno("stat '%s' in rootfs", o->b);
		if (mkdirat(dfd, base, 0755) < 0 && errno != EEXIST)
			die_errno("create '%s' in rootfs", o->b);
	} else if (!S_ISDIR(st.st_mode)) {
		die_code(ENOTDIR, "mount '%s' on '%s': the destination is %s in the rootfs; %s must be mounted on an ordinary directory",
			 what, o->b, S_ISLNK(st.st_mode) ? "a symlink" : "not a directory", o->fstype);
	}
	int fd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die_errno("open '%s' in rootfs", o->b);
	close(dfd);
	return fd;
}

static void do_mount(struct rootop *o)
{
	const char *src = *o->a ? o->a : NULL, *type = *o->fstype ? o->fstype : NULL;
	const char *data = *o->data ? o->data : NULL, *what = *o->a ? o->a : o->fstype;
	unsigned long f = o->flags & ~(unsigned long)PROPAGATION;
	int fd, create = CREATE_DIR;
	struct stat st;

	if (f & MS_REMOUNT) {
		fd = resolve_or_die(o->b, RESOLVE_ONLY);
		if (mount(src, fd_path(fd), type, f, data) < 0)
			die_errno("remount '%s'", o->b);
		close(fd);
		return;
	}
	if (f & MS_BIND) {
		if (stat(o->a, &st) < 0)
			die_errno("stat bind source '%s'", o->a);
		if (!S_ISDIR(st.st_mode))
			create = CREATE_FILE;
	}
	if (!(f & MS_BIND) && type && (!strcmp(type, "proc") || !strcmp(type, "sysfs")))
		fd = proc_destination(o, what);
	else
		fd = resolve_or_die(o->b, create);
	if (mount(src, fd_path(fd), type, f, data) < 0)
		die_errno("mount '%s' on '%s'", what, o->b);
	close(fd);
	/* The fd was on the directory under the new mount: resolve again to reach the mount. */
	if ((f & MS_BIND) && (f & BIND_REMOUNT_FLAGS)) {
		fd = resolve_or_die(o->b, RESOLVE_ONLY);
		if (bind_remount(fd, fd_path(fd), f & BIND_REMOUNT_FLAGS, 0) < 0)
			die_errno("remount '%s' on '%s'", what, o->b);
		close(fd);
	}
	if (o->prop) {
		fd = resolve_or_die(o->b, RESOLVE_ONLY);
		if (mount(NULL, fd_path(fd), NULL, o->prop, NULL) < 0)
			die_errno("set propagation of '%s'", o->b);
		close(fd);
	}
}

/* Splits a container path into an O_PATH fd on its (created) parent and its last component. */
static int parent_of(const char *path, const char **base)
{
	char *dir = xstrdup(path);
	char *end = dir + strlen(dir);
	while (end > dir && end[-1] == '/')
		*--end = 0;
	char *slash = strrchr(dir, '/');
	*base = path + (slash ? slash + 1 - dir : 0);
	if (!**base || !strcmp(*base, ".") || !strcmp(*base, "..") || strchr(*base, '/'))
		die("bad path '%s'", path);
	if (slash)
		slash[1] = 0;
	else
		dir[0] = 0;
	int fd = resolve_or_die(dir, CREATE_DIR);
	free(dir);
	return fd;
}

static void do_symlink(struct rootop *o)
{
	const char *base;
	char *link = xstrdup(o->b); /* base must not carry trailing slashes */
	for (size_t l = strlen(link); l > 1 && link[l - 1] == '/'; l--)
		link[l - 1] = 0;
	int dfd = parent_of(link, &base);
	if (symlinkat(o->a, dfd, base) < 0) {
		char buf[PATH_MAX];
		ssize_t n = errno == EEXIST ? readlinkat(dfd, base, buf, sizeof buf - 1) : -1;
		if (n < 0 || (buf[n] = 0, strcmp(buf, o->a))) {
			errno = errno == EINVAL || n >= 0 ? EEXIST : errno;
			die_errno("symlink '%s' -> '%s'", o->b, o->a);
		}
	}
	close(dfd);
	free(link);
}

static void do_device(struct rootop *o)
{
	if (o->bind) { /* user namespaces cannot mknod: bind the host's node instead */
		int fd = resolve_or_die(o->b, CREATE_FILE);
		if (mount(o->b, fd_path(fd), NULL, MS_BIND, NULL) < 0)
			die_errno("bind device '%s'", o->b);
		close(fd);
		return;
	}
	const char *base;
	int dfd = parent_of(o->b, &base);
	dev_t rdev = makedev(o->maj, o->min);
	struct stat st;
	/* Whatever the image left there is replaced, unless it is already this very node. */
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    ((st.st_mode & S_IFMT) != o->type || st.st_rdev != rdev)) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			die_errno("mknod '%s'", o->b);
		}
		if (unlinkat(dfd, base, 0) < 0)
			die_errno("remove '%s'", o->b);
	}
	if (mknodat(dfd, base, o->type | o->mode, rdev) < 0 && errno != EEXIST)
		die_errno("mknod '%s'", o->b);
	/* mknod applied our umask: set the exact mode, then the owner. */
	if (fchmodat(dfd, base, o->mode, 0) < 0)
		die_errno("chmod '%s'", o->b);
	if (fchownat(dfd, base, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) < 0)
		die_errno("chown '%s'", o->b);
	close(dfd);
}

void rootfs_populate(struct plan *p)
{
	for (size_t i = 0; i < p->rootops.n; i++) {
		struct rootop *o = &p->rootops.v[i];
		if (o->kind == OP_MOUNT)
			do_mount(o);
		else if (o->kind == OP_SYMLINK)
			do_symlink(o);
		else
			do_device(o);
	}
}

/* After pivot_root or chroot: "/" is the rootfs's self-bind. */
static void root_changed(struct plan *p)
{
	if (chdir("/") < 0)
		die_errno("chdir '/'");
	close(rootfd);
	if ((rootfd = openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open '/'");
	/* Shared: a peer group of its own (private first), not the one of the mount the rootfs was
	 * bound from, which may be the host's: the container's mounts on / stay in the container. */
	if ((p->root_prop_after & MS_SHARED) && mount(NULL, "/", NULL, MS_PRIVATE, NULL) < 0)
		die_errno("make '/' private");
	/* Unbindable waits for root_propagation_late(): the console, read-only and masked paths
	 * are bind mounts from this tree. */
	if (p->root_prop_after && !(p->root_prop_after & MS_UNBINDABLE) &&
	    mount(NULL, "/", NULL, p->root_prop_after, NULL) < 0)
		die_errno("set propagation of '/'");
}

void rootfs_pivot(struct plan *p)
{
	if (fchdir(rootfd) < 0)
		die_errno("chdir rootfs '%s'", p->rootfs);
	if (p->no_pivot) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			die_errno("move rootfs '%s' to '/'", p->rootfs);
		if (chroot(".") < 0)
			die_errno("chroot '%s'", p->rootfs);
	} else {
		int oldroot = openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (oldroot < 0)
			die_errno("open '/'");
		/* pivot_root(".", ".") stacks the old root on top of the new one; from there it
		 * is unmounted without needing a directory for it inside the container. */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			die_errno("pivot_root '%s'", p->rootfs);
		if (fchdir(oldroot) < 0)
			die_errno("chdir old root");
		/* Slave first, so the detach below cannot propagate to the host's mounts. */
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			die_errno("make old root a slave");
		if (umount2(".", MNT_DETACH) < 0)
			die_errno("unmount old root");
		close(oldroot);
	}
	root_changed(p);
}

/* In a joined mount namespace: pivot_root would move the root of every process in it, so only
 * ours changes. The rootfs's self-bind, with the container's mounts under it, stays mounted in
 * that namespace (it is not ours to unmount); a process that can chroot again can walk out of
 * it to the namespace's root, as from any chroot. */
void rootfs_chroot(struct plan *p)
{
	if (fchdir(rootfd) < 0)
		die_errno("chdir rootfs '%s'", p->rootfs);
	if (chroot(".") < 0)
		die_errno("chroot '%s'", p->rootfs);
	root_changed(p);
}

void root_propagation_late(struct plan *p)
{
	if ((p->root_prop_after & MS_UNBINDABLE) && mount(NULL, "/", NULL, p->root_prop_after, NULL) < 0)
		die_errno("set propagation of '/'");
}

void root_readonly(void)
{
	/* By path, not through /proc: the container need not mount /proc. */
	if (bind_remount(rootfd, "/", MS_RDONLY, 1) < 0)
		die_errno("remount '/' read-only");
}

void readonly_paths(struct plan *p)
{
	for (size_t i = 0; i < p->readonly.n; i++) {
		const char *path = p->readonly.v[i];
		int fd = resolve_in_root(rootfd, path, RESOLVE_ONLY);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			die_errno("open '%s'", path);
		if (mount(fd_path(fd), fd_path(fd), NULL, MS_BIND | MS_REC, NULL) < 0)
			die_errno("bind '%s' onto itself", path);
		close(fd);
		fd = resolve_or_die(path, RESOLVE_ONLY);
		if (bind_remount(fd, fd_path(fd), MS_RDONLY, 1) < 0)
			die_errno("remount '%s' read-only", path);
		close(fd);
	}
}

void masked_paths(struct plan *p)
{
	for (size_t i = 0; i < p->masked.n; i++) {
		const char *path = p->masked.v[i];
		struct stat st;
		int fd = resolve_in_root(rootfd, path, RESOLVE_ONLY);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0 || fstat(fd, &st) < 0)
			die_errno("open '%s'", path);
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", fd_path(fd), "tmpfs", MS_RDONLY, NULL)
					    : mount("/dev/null", fd_path(fd), NULL, MS_BIND, NULL);
		if (r < 0)
			die_errno("mask '%s'", path);
		close(fd);
	}
}

void rootfs_close(void)
{
	if (rootfd >= 0)
		close(rootfd);
	rootfd = -1;
}
