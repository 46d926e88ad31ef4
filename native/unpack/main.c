/*
 * berth-unpack: applies ONE layer (an uncompressed tar on stdin) into a root directory.
 *
 *   berth-unpack --root DIR --mode overlay|flat [--parent LOWER]... [--userns] [--no-sync] [--decompress gzip|zstd]
 *                [--follow FD --size N]
 *   berth-unpack --root DIR --mode overlay --record-lookups [--userns] [--no-sync] [--decompress gzip|zstd]
 *   berth-unpack --check-lookups --mode overlay [--parent LOWER]... [--userns]   (record on stdin)
 *   berth-unpack --root-fd N --mode flat --no-whiteouts [--owner UID:GID] [--no-overwrite-dir-nondir]
 *
 * The second form is `docker cp`'s upload (src/engine/archive/extract.ts): the root is an
 * inherited directory fd (the destination, resolved by the caller inside the container's root,
 * so that nothing is resolved again by name), `.wh.*` names are ordinary files, every entry is
 * owned by UID:GID when given, and replacing a directory by a non-directory (or the reverse)
 * fails (EISDIR / ENOTDIR, message "cannot overwrite ...") with --no-overwrite-dir-nondir.
 *
 * Containment is the kernel's: every parent is opened with openat2(root, parent,
 * RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) (chroot semantics: absolute symlinks and `..` stay in
 * the root), and the last component is acted on with *at() calls that never follow it. No path
 * string is trusted to stay inside. With --decompress, stdin is a compressed layer, inflated here
 * (decompress.c). With --follow, the layer is the file FD (N bytes) that another process is
 * still writing, and stdin only says when it is whole: its end (input.c). The sha256 of every uncompressed byte (the trailing bytes after the end marker
 * included) is computed here, so that no byte of the layer passes through Node.
 *
 * Output: on success one line on stdout,
 *   ok entries=N bytes=B sha256=HEX skipped-xattrs=X skipped-devices=D
 * on failure one line on stderr and exit status 1,
 *   error ERRNAME ENTRY MESSAGE
 * where ENTRY is the entry's name as stored, with bytes outside printable ASCII (and `\`)
 * written as \xNN, or `-` when no entry is concerned. `warn ...` lines may precede it.
 */
#include "decompress.h"
#include "input.h"
#include "tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* parent directory fds kept open: layers often interleave a few dozen directories */
#define PARENT_CACHE 64
#define MAX_HOPS 40 /* symbolic links followed while creating implied parents (as the kernel) */

struct dirtime {
	char *path;
	struct timespec ts[2];
};

struct strset {
	char **slot;
	size_t cap, n;
};

static struct {
	int root;
	int overlay, userns, sync;
	int in_fd; /* the layer's bytes: stdin, or the followed file (--follow) */
	int record; /* --record-lookups: print every lower lookup (a speculative apply without its lowers) */
	int no_whiteouts, no_overwrite_dir_nondir, owner_set;
	uid_t owner_uid;
	gid_t owner_gid;
	int *lowers;
	size_t nlowers;
	struct tar_reader r;
	EVP_MD_CTX *md;
	uint64_t entries, skipped_xattrs, skipped_devices;
	struct dirtime *dirs;
	size_t ndirs, capdirs;
	struct strset unpacked; /* paths unpacked by this layer (for opaque dirs) */
	const char *entry;
	/* bumped by every removal: a cached parent fd is only reused while nothing was removed */
	uint64_t generation;
	struct {
		char *path;
		char *phys; /* where the fd is, relative to the root (lazily) */
		int fd;
		uint64_t generation;
	} cache[PARENT_CACHE];
	size_t cur;  /* the slot of the last open_parent_cached */
	size_t next; /* the slot the next miss replaces (round robin) */
} g;

/* ---- errors ---------------------------------------------------------------------------- */

static void put_escaped(FILE *f, const char *s)
{
	if (!s) {
		fputc('-', f);
		return;
	}
	if (!*s) {
		fputs("\\x00", f); /* an empty name, shown so that the line keeps its fields */
		return;
	}
	size_t shown = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++, shown++) {
		if (shown == 512) { /* a 4000-byte name says enough in its first 512 */
			fputs("...", f);
			break;
		}
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "EIO";
}

__attribute__((noreturn, format(printf, 2, 3))) static void die(int errnum, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *c = msg; *c; c++)
		if (*c == '\n')
			*c = ' ';
	fprintf(stderr, "error %s ", errname(errnum));
	put_escaped(stderr, g.entry);
	fprintf(stderr, " %s\n", msg);
	fflush(stderr);
	_exit(1);
}

static void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("warn ", stderr);
	put_escaped(stderr, g.entry);
	fputc(' ', stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die(ENOMEM, "out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		die(ENOMEM, "out of memory");
	return p;
}

/* ---- a set of strings (flat mode's "unpacked by this layer") ----------------------------- */

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int set_has(struct strset *s, const char *k)
{
	if (!s->cap)
		return 0;
	for (size_t i = hash(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slot[i])
			return 0;
		if (strcmp(s->slot[i], k) == 0)
			return 1;
	}
}

static void set_add(struct strset *s, const char *k)
{
	if (set_has(s, k))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		char **slot = calloc(cap, sizeof *slot);
		if (!slot)
			die(ENOMEM, "out of memory");
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i]) {
				size_t j = hash(s->slot[i]) & (cap - 1);
				while (slot[j])
					j = (j + 1) & (cap - 1);
				slot[j] = s->slot[i];
			}
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	size_t i = hash(k) & (s->cap - 1);
	while (s->slot[i])
		i = (i + 1) & (s->cap - 1);
	s->slot[i] = xstrdup(k);
	s->n++;
}

/* ---- paths ----------------------------------------------------------------------------- */

/*
 * Lexically cleans a name: drops empty and `.` components and folds `..`. An entry name whose
 * `..` would leave the root is refused (clamp = 0: moby's choice, a breakout is an error); a
 * hardlink target is clamped at the root instead (clamp = 1: containerd's choice, which its
 * HardlinkDirect* cases expect). Returns the cleaned path ("" = the root) or NULL.
 */
static char *clean_path(const char *in, int clamp)
{
	size_t n = strlen(in);
	char *out = xmalloc(n + 1);
	size_t o = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *q = strchr(p, '/');
		size_t l = q ? (size_t)(q - p) : strlen(p);
		if (l == 1 && p[0] == '.') {
			/* skip */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (o == 0) {
				if (!clamp) {
					free(out);
					return NULL;
				}
			} else {
				while (o > 0 && out[o - 1] != '/')
					o--;
				if (o > 0)
					o--;
			}
		} else {
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, l);
			o += l;
		}
		p += l;
	}
	out[o] = 0;
	return out;
}

static int open_in_root(int root, const char *path, uint64_t flags)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	if (!*path)
		path = ".";
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, root, path, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN || tries > 1000)
			return (int)fd;
	}
}

/* ---- metadata -------------------------------------------------------------------------- */

static struct timespec bound(int64_t sec, long ns)
{
	struct timespec t = { 0, 0 };
	/* before 1970 or past what Go can hold (2262) becomes the epoch, as containerd's boundTime */
	if (sec >= 0 && sec <= 9223372035LL) {
		t.tv_sec = (time_t)sec;
		t.tv_nsec = ns;
	}
	return t;
}

static void entry_times(const struct tar_entry *e, struct timespec ts[2])
{
	ts[1] = bound(e->mtime, e->mtime_ns);
	ts[0] = e->atime >= 0 ? bound(e->atime, e->atime_ns) : ts[1];
	if (ts[0].tv_sec < ts[1].tv_sec || (ts[0].tv_sec == ts[1].tv_sec && ts[0].tv_nsec < ts[1].tv_nsec))
		ts[0] = ts[1];
}

static void do_chown(int rc, const struct tar_entry *e)
{
	if (rc == 0)
		return;
	if (errno == EINVAL && g.userns)
		die(EINVAL, "chown to %lld:%lld: the owner is not mapped in the user namespace (raise the subuid/subgid range)",
		    (long long)e->uid, (long long)e->gid);
	die(errno, "chown to %lld:%lld: %s", (long long)e->uid, (long long)e->gid, strerror(errno));
}

/* chmod without following: O_PATH|O_NOFOLLOW, then /proc/self/fd/N (works on device nodes on
 * nodev mounts and on files without read permission, where opening for real would not). */
static void chmod_nofollow(int dirfd, const char *base, mode_t mode)
{
	int fd = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die(errno, "open for chmod: %s", strerror(errno));
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	if (chmod(p, mode) < 0)
		die(errno, "chmod: %s", strerror(errno));
	close(fd);
}

/* trusted.* and overlay's own xattrs from an archive would steer overlayfs (opaque, redirect,
 * metacopy): they are skipped, with a warning, never set. */
static int xattr_forbidden(const char *name)
{
	return strncmp(name, "trusted.", 8) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

static void set_xattrs(const struct tar_entry *e, int fd, const char *procpath, int regular_or_dir)
{
	for (size_t i = 0; i < e->nxattrs; i++) {
		const struct tar_xattr *x = &e->xattrs[i];
		if (xattr_forbidden(x->name)) {
			warn("xattr %s skipped: not accepted from a layer", x->name);
			g.skipped_xattrs++;
			continue;
		}
		int rc = fd >= 0 ? fsetxattr(fd, x->name, x->value, x->len, 0) : setxattr(procpath, x->name, x->value, x->len, 0);
		if (rc == 0)
			continue;
		if (errno == ENOTSUP || (errno == EPERM && !regular_or_dir && strncmp(x->name, "user.", 5) == 0)) {
			g.skipped_xattrs++;
			continue;
		}
		die(errno, "set xattr %s: %s", x->name, strerror(errno));
	}
}

static void remember_dir(const char *path, const struct timespec ts[2])
{
	if (g.ndirs == g.capdirs) {
		g.capdirs = g.capdirs ? g.capdirs * 2 : 256;
		g.dirs = realloc(g.dirs, g.capdirs * sizeof *g.dirs);
		if (!g.dirs)
			die(ENOMEM, "out of memory");
	}
	g.dirs[g.ndirs].path = xstrdup(path);
	g.dirs[g.ndirs].ts[0] = ts[0];
	g.dirs[g.ndirs].ts[1] = ts[1];
	g.ndirs++;
}

/* ---- removal (never follows a symbolic link: every level is opened O_NOFOLLOW) ---------- */

static void rmtree(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) == 0) {
		g.generation++;
		return;
	}
	if (errno == ENOENT)
		return;
	g.generation++;
	if (errno != EISDIR)
		die(errno, "remove '%s': %s", name, strerror(errno));
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die(errno, "open '%s' for removal: %s", name, strerror(errno));
	DIR *d = fdopendir(fd);
	if (!d)
		die(errno, "read '%s': %s", name, strerror(errno));
	for (int pass = 0; pass < 4; pass++) {
		struct dirent *de;
		int removed = 0;
		while ((errno = 0, de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			rmtree(fd, de->d_name);
			removed++;
		}
		if (!removed)
			break;
		rewinddir(d);
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		die(errno, "remove directory '%s': %s", name, strerror(errno));
}

/* Flat mode's opaque directory: removes every child not unpacked earlier by this layer. */
static void opaque_flat(int dirfd, const char *path)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die(errno, "open for opaque: %s", strerror(errno));
	DIR *d = fdopendir(fd);
	if (!d)
		die(errno, "read for opaque: %s", strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = realloc(names, cap * sizeof *names);
			if (!names)
				die(ENOMEM, "out of memory");
		}
		names[n++] = xstrdup(de->d_name);
	}
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(path) + strlen(names[i]) + 2;
		char *child = xmalloc(l);
		snprintf(child, l, "%s%s%s", path, *path ? "/" : "", names[i]);
		if (!set_has(&g.unpacked, child)) {
			rmtree(fd, names[i]);
		} else {
			struct stat st;
			if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
				int cfd = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (cfd < 0)
					die(errno, "open '%s': %s", child, strerror(errno));
				opaque_flat(cfd, child);
				close(cfd);
			}
		}
		free(child);
		free(names[i]);
	}
	free(names);
	closedir(d);
}

static const char *opaque_xattr(void)
{
	return g.userns ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

static int is_opaque(int dirfd)
{
	char v[2];
	return fgetxattr(dirfd, opaque_xattr(), v, sizeof v) == 1 && v[0] == 'y';
}

/*
 * Overlay mode: marks a directory of this layer opaque, and removes from it what this layer did
 * not unpack, as a flat apply would: whiteouts (an opaque directory has nothing below to hide,
 * and overlayfs lists, but cannot look up, whiteouts in a directory it does not merge) and
 * directories created only to hold them.
 */
static char *rel_path_of(int fd);

static void make_opaque(int dirfd)
{
	if (fsetxattr(dirfd, opaque_xattr(), "y", 1, 0) < 0)
		die(errno, "set %s: %s", opaque_xattr(), strerror(errno));
	char *phys = rel_path_of(dirfd);
	opaque_flat(dirfd, phys);
	free(phys);
}

/* ---- parents --------------------------------------------------------------------------- */

static char *join(const char *a, const char *b)
{
	size_t l = strlen(a) + strlen(b) + 2;
	char *s = xmalloc(l);
	snprintf(s, l, "%s%s%s", a, (*a && *b) ? "/" : "", b);
	return s;
}

/* Where the directory open as `fd` is, relative to the root (the kernel's view, not a string
 * we built: a `..` in a link target must count from where the link physically is). */
static char *rel_path_of(int fd)
{
	static char root_real[PATH_MAX + 1];
	static size_t root_len;
	char proc[64], buf[PATH_MAX + 1];
	if (!root_len) {
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", g.root);
		ssize_t n = readlink(proc, root_real, PATH_MAX);
		if (n <= 0)
			die(errno, "readlink the root: %s", strerror(errno));
		root_real[n] = 0;
		root_len = (size_t)n;
	}
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, buf, PATH_MAX);
	if (n < 0 || n >= PATH_MAX)
		die(n < 0 ? errno : ENAMETOOLONG, "locate a parent directory: %s", strerror(n < 0 ? errno : ENAMETOOLONG));
	buf[n] = 0;
	if (root_len == 1)
		return xstrdup(buf + 1);
	if (strncmp(buf, root_real, root_len) != 0 || (buf[root_len] != '/' && buf[root_len] != 0))
		die(EXDEV, "a parent directory is outside the root");
	return xstrdup(buf + root_len + (buf[root_len] == '/'));
}

/* A symbolic link in the directory `dirfd` points to `target`: the path that replaces
 * `link/rest`, in the root, clamped at it like a chroot. */
static char *redirect(int dirfd, const char *target, const char *rest)
{
	char *dir = rel_path_of(dirfd);
	char *t = target[0] == '/' ? xstrdup(target) : join(dir, target);
	char *full = join(t, rest);
	char *c = clean_path(full, 1);
	free(dir);
	free(t);
	free(full);
	return c;
}

/* Copies a lower layer's directory metadata onto a new implied parent (xattrs but trusted.*). */
static void copy_lower_meta(int lfd, int fd, const char *path)
{
	struct stat st;
	if (fstat(lfd, &st) < 0)
		die(errno, "stat lower '%s': %s", path, strerror(errno));
	if (fchown(fd, st.st_uid, st.st_gid) < 0)
		die(errno, "chown implied parent '%s': %s", path, strerror(errno));
	if (fchmod(fd, st.st_mode & 07777) < 0)
		die(errno, "chmod implied parent '%s': %s", path, strerror(errno));
	char proc[64], list[65536];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", lfd);
	ssize_t n = listxattr(proc, list, sizeof list);
	for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(list + i) + 1) {
		const char *name = list + i;
		if (xattr_forbidden(name))
			continue;
		char val[65536];
		ssize_t vl = getxattr(proc, name, val, sizeof val);
		if (vl >= 0 && fsetxattr(fd, name, val, (size_t)vl, 0) < 0 && errno != ENOTSUP && errno != EPERM)
			die(errno, "copy xattr %s to implied parent '%s': %s", name, path, strerror(errno));
	}
	struct timespec ts[2] = { st.st_atim, st.st_mtim };
	remember_dir(path, ts);
}

/*
 * Looks `path` up in the lower layers, top first, without following its last component. The
 * first lower that has it decides: returns an O_PATH fd (the caller fstat's it), or -1.
 */
/* Does a directory on the way to `path` in this layer (`lower` = a lower's root, or ours) hide
 * the layers below it: a whiteout, or an opaque directory? */
static int lower_hides(int lower, const char *path, int strict)
{
	size_t n = strlen(path);
	for (size_t j = 0; j < n; j++) {
		while (j < n && path[j] != '/')
			j++;
		if (strict && j == n)
			return 0; /* the directories above `path`, not `path` itself */
		char *prefix = strndup(path, j);
		if (!prefix)
			die(ENOMEM, "out of memory");
		int fd = open_in_root(lower, prefix, O_PATH | O_NOFOLLOW);
		free(prefix);
		if (fd < 0)
			return 0;
		struct stat st;
		int hides = 0, stop = 1;
		if (fstat(fd, &st) == 0) {
			if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
				hides = 1;
			} else if (S_ISDIR(st.st_mode)) {
				char proc[64], v[2];
				snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
				hides = getxattr(proc, opaque_xattr(), v, sizeof v) == 1 && v[0] == 'y';
				stop = 0;
			}
		}
		close(fd);
		if (hides || stop)
			return hides;
	}
	return 0;
}

static void record_lookup(const char *path)
{
	fputs("lookup ", stdout);
	if (!*path)
		fputc('-', stdout);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		printf("%02x", *p);
	fputc('\n', stdout);
}

static int lower_lookup(const char *path)
{
	/* Every decision that depends on the lower layers goes through here: a speculative apply
	 * (no --parent yet) records each question; when the lowers all answer "nothing" to every
	 * one (--check-lookups), the speculative result is what an apply with them would give. */
	if (g.record)
		record_lookup(path);
	/* an opaque directory or a whiteout of this layer on the way hides the lower layers */
	if (g.overlay && g.nlowers && lower_hides(g.root, path, 1))
		return -1;
	for (size_t i = 0; i < g.nlowers; i++) {
		int fd = open_in_root(g.lowers[i], path, O_PATH | O_NOFOLLOW);
		if (fd >= 0)
			return fd;
		if (errno != ENOENT && errno != ENOTDIR)
			return -1; /* a link loop or an over-long path below: nothing to copy or follow */
		if (g.overlay && lower_hides(g.lowers[i], path, 0))
			return -1; /* the layers below are not seen there */
	}
	return -1;
}

/* Does `path` lead to a directory in the merged view (this layer's directory over the lower
 * layers), following symbolic links the chroot way? Where an overlay whiteout's parent is. */
static int merged_dir_exists(const char *path_in)
{
	char *path = xstrdup(path_in);
	for (int hops = 0; hops <= MAX_HOPS; hops++) {
		size_t n = strlen(path), j = 0;
		char *next = NULL;
		int good = 1;
		while (j < n) {
			while (j < n && path[j] != '/')
				j++;
			char *prefix = strndup(path, j);
			if (!prefix)
				die(ENOMEM, "out of memory");
			int lfd = open_in_root(g.root, prefix, O_PATH | O_NOFOLLOW);
			if (lfd < 0)
				lfd = lower_lookup(prefix);
			struct stat st;
			int ok = lfd >= 0 && fstat(lfd, &st) == 0;
			if (ok && S_ISLNK(st.st_mode)) {
				char target[PATH_MAX + 1];
				ssize_t tl = readlinkat(lfd, "", target, PATH_MAX);
				if (tl >= 0) {
					target[tl] = 0;
					char *slash = strrchr(prefix, '/');
					if (slash)
						*slash = 0;
					else
						*prefix = 0;
					char *t = target[0] == '/' ? xstrdup(target) : join(prefix, target);
					char *full = join(t, j < n ? path + j + 1 : "");
					next = clean_path(full, 1);
					free(t);
					free(full);
				}
			}
			if (lfd >= 0)
				close(lfd);
			free(prefix);
			if (next)
				break;
			if (!ok || !S_ISDIR(st.st_mode)) {
				good = 0;
				break;
			}
			j++;
		}
		if (!next) {
			int found = good;
			free(path);
			return found;
		}
		free(path);
		path = next;
	}
	free(path);
	return 0;
}

/*
 * Opens the directory `parent` (a cleaned path, "" = the root) inside the root, creating the
 * missing components when `create`. A missing component that is a symbolic link in the upper
 * (dangling) or in a lower layer is followed the chroot way, by rewriting the path, so that
 * an image's `lib -> usr/lib` keeps working when a later layer adds `lib/x` (and stays a link).
 * Returns the fd, or -1 with errno ENOENT when it does not exist and !create.
 */
static int open_parent(const char *parent_in, int create)
{
	char *parent = xstrdup(parent_in);
	for (int hops = 0;; hops++) {
		if (hops > MAX_HOPS)
			die(ELOOP, "too many symbolic links in the parents");
		int fd = open_in_root(g.root, parent, O_RDONLY | O_DIRECTORY);
		if (fd >= 0) {
			free(parent);
			return fd;
		}
		/* overlay: a whiteout of this layer in the way is replaced below (ENOTDIR) */
		if ((errno != ENOENT && !(errno == ENOTDIR && g.overlay)) || !create) {
			if (errno == ENOENT || errno == ENOTDIR || (errno == ELOOP && !create)) {
				int saved = errno;
				free(parent);
				errno = saved;
				return -1;
			}
			die(errno, "open parent '%s': %s", parent, strerror(errno));
		}
		/* the longest prefix that exists, from the end (usually only the last is missing) */
		size_t n = strlen(parent);
		char *buf = xstrdup(parent);
		size_t cut = n;
		int base = -1;
		while (cut > 0) {
			while (cut > 0 && buf[cut - 1] != '/')
				cut--;
			if (cut == 0)
				break;
			buf[cut - 1] = 0;
			base = open_in_root(g.root, buf, O_RDONLY | O_DIRECTORY);
			if (base >= 0)
				break;
			if (errno != ENOENT && !(errno == ENOTDIR && g.overlay))
				die(errno, "open parent '%s': %s", buf, strerror(errno));
			cut--;
		}
		if (base < 0) {
			cut = 0;
			base = open_in_root(g.root, "", O_RDONLY | O_DIRECTORY);
			if (base < 0)
				die(errno, "open the root: %s", strerror(errno));
		}
		/* below an opaque directory of this layer the lower layers are hidden */
		int hidden = g.overlay && is_opaque(base);
		/* create components from `cut` on */
		char *redir = NULL;
		size_t i = cut;
		while (i < n) {
			size_t j = i;
			while (j < n && parent[j] != '/')
				j++;
			char *comp = strndup(parent + i, j - i);
			char *prefix = strndup(parent, j);
			const char *rest = j < n ? parent + j + 1 : "";
			if (!comp || !prefix)
				die(ENOMEM, "out of memory");
			if (mkdirat(base, comp, 0700) < 0) {
				if (errno != EEXIST)
					die(errno, "create implied parent '%s': %s", prefix, strerror(errno));
				/* something is there but did not resolve: a dangling symbolic link, or (overlay)
				 * a whiteout of this layer, which becomes an opaque directory */
				struct stat wst;
				if (g.overlay && fstatat(base, comp, &wst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(wst.st_mode) &&
				    wst.st_rdev == makedev(0, 0)) {
					if (unlinkat(base, comp, 0) < 0 || mkdirat(base, comp, 0755) < 0)
						die(errno, "replace whiteout '%s': %s", prefix, strerror(errno));
					g.generation++;
					int nfd = openat(base, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
					if (nfd < 0)
						die(errno, "open implied parent '%s': %s", prefix, strerror(errno));
					if (fchmod(nfd, 0755) < 0)
						die(errno, "chmod implied parent '%s': %s", prefix, strerror(errno));
					make_opaque(nfd);
					hidden = 1;
					close(base);
					base = nfd;
					free(comp);
					free(prefix);
					i = j + 1;
					continue;
				}
				char target[PATH_MAX + 1];
				ssize_t tl = readlinkat(base, comp, target, PATH_MAX);
				if (tl < 0)
					die(ENOTDIR, "implied parent '%s' exists and is not a directory", prefix);
				target[tl] = 0;
				redir = redirect(base, target, rest);
			} else {
				int lfd = hidden ? -1 : lower_lookup(prefix);
				struct stat st;
				if (lfd >= 0 && fstat(lfd, &st) < 0)
					die(errno, "stat lower '%s': %s", prefix, strerror(errno));
				if (lfd >= 0 && S_ISLNK(st.st_mode)) {
					/* a lower layer's link: undo the mkdir and follow the link instead */
					char target[PATH_MAX + 1];
					ssize_t tl = readlinkat(lfd, "", target, PATH_MAX);
					if (tl < 0)
						die(errno, "read lower link '%s': %s", prefix, strerror(errno));
					target[tl] = 0;
					unlinkat(base, comp, AT_REMOVEDIR);
					g.generation++;
					redir = redirect(base, target, rest);
				}
				if (!redir && lfd >= 0 && !S_ISDIR(st.st_mode) &&
				    !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)))
					/* as a flat apply would: a parent that is a file below is not a directory */
					die(ENOTDIR, "parent '%s' is not a directory in a lower layer", prefix);
				int nfd = openat(base, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (!redir && nfd < 0)
					die(errno, "open implied parent '%s': %s", prefix, strerror(errno));
				if (!redir) {
					if (lfd >= 0 && S_ISDIR(st.st_mode)) {
						copy_lower_meta(lfd, nfd, prefix);
					} else if (fchmod(nfd, 0755) < 0) {
						die(errno, "chmod implied parent '%s': %s", prefix, strerror(errno));
					}
				}
				if (lfd >= 0)
					close(lfd);
				if (!redir) {
					close(base);
					base = nfd;
				} else if (nfd >= 0) {
					close(nfd);
				}
			}
			free(comp);
			free(prefix);
			if (redir)
				break;
			i = j + 1;
		}
		free(buf);
		if (!redir) {
			free(parent);
			return base;
		}
		close(base);
		free(parent);
		if (!redir)
			die(EINVAL, "internal: no redirect");
		parent = redir;
	}
}

/*
 * open_parent for entries of recently seen directories (tar order groups entries by directory,
 * or interleaves a few): the fds of the last PARENT_CACHE parents are reused while no removal
 * happened since they were opened, since only a removal (a directory replaced by a link, a
 * whiteout, an opaque dir) can change where a path resolves. The fds stay owned by the cache.
 */
static int open_parent_cached(const char *parent, int create)
{
	for (size_t i = 0; i < PARENT_CACHE; i++) {
		if (g.cache[i].path && g.cache[i].generation == g.generation && strcmp(g.cache[i].path, parent) == 0) {
			g.cur = i;
			return g.cache[i].fd;
		}
	}
	int fd = open_parent(parent, create);
	if (fd < 0)
		return fd;
	/* a stale slot (opened before a removal) is replaced first, else the round robin's */
	size_t slot = g.next;
	for (size_t i = 0; i < PARENT_CACHE; i++) {
		if (!g.cache[i].path || g.cache[i].generation != g.generation) {
			slot = i;
			break;
		}
	}
	if (slot == g.next)
		g.next = (g.next + 1) % PARENT_CACHE;
	if (g.cache[slot].path) {
		close(g.cache[slot].fd);
		free(g.cache[slot].path);
		free(g.cache[slot].phys);
		g.cache[slot].path = g.cache[slot].phys = NULL;
	}
	g.cache[slot].path = xstrdup(parent);
	g.cache[slot].fd = fd;
	g.cache[slot].generation = g.generation;
	g.cur = slot;
	return fd;
}

/* The path of `base` in the last returned parent, as the kernel resolved it (opaque
 * directories compare these, so that a link in an entry's name cannot hide what it unpacked). */
static char *phys_path(const char *base)
{
	if (!g.cache[g.cur].phys)
		g.cache[g.cur].phys = rel_path_of(g.cache[g.cur].fd);
	return join(g.cache[g.cur].phys, base);
}

/* ---- entries --------------------------------------------------------------------------- */

/* Makes room for the entry: a directory over a directory merges (returns 1); anything else
 * that is there is removed (returns 0). */
static int make_room(int dirfd, const char *base, int want_dir)
{
	struct stat st;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		die(errno, "stat: %s", strerror(errno));
	}
	if (want_dir && S_ISDIR(st.st_mode))
		return 1;
	rmtree(dirfd, base);
	return 2;
}


static void write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die(errno, "write: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Writeback is started every WRITEBACK_EVERY bytes of a file (sync_file_range WRITE: queue the
 * dirty pages, do not wait), so that the syncfs at the end finds little left to write: a 200 MiB
 * file otherwise costs ~0.45 s of syncfs after the last byte, on the pull's critical path.
 * Durability is unchanged: the syncfs still waits for everything.
 */
#define WRITEBACK_EVERY (8u << 20)

static void copy_data(int fd, uint64_t n)
{
	uint64_t unflushed = 0;
	while (n) {
		const unsigned char *p;
		ssize_t k = tar_data(&g.r, &p, n > (1 << 20) ? (1 << 20) : (size_t)n);
		if (k < 0)
			die(g.r.errnum, "%s", g.r.err);
		if (k == 0)
			die(EPROTO, "unexpected end of the entry's data");
		write_all(fd, p, (size_t)k);
		n -= (uint64_t)k;
		unflushed += (uint64_t)k;
		if (g.sync && unflushed >= WRITEBACK_EVERY) {
			unflushed = 0;
			/* a hint: failure only loses the head start (the syncfs reports real errors) */
			(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		}
	}
}

static void apply_regular(int dirfd, const char *base, const struct tar_entry *e)
{
	/* Created with its final mode when that has no setuid, setgid or sticky bit (the umask is
	 * 0): a chown clears those, so they are set after it. The fd is writable whatever the mode. */
	mode_t create_mode = (e->mode & 07000) ? 0600 : (mode_t)(e->mode & 0777);
	/* create first: making room (a stat, maybe a removal) only when something is there */
	int fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, create_mode);
	if (fd < 0 && errno == EEXIST) {
		make_room(dirfd, base, 0);
		fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, create_mode);
	}
	if (fd < 0)
		die(errno, "create: %s", strerror(errno));
	if (e->sparse) {
		for (size_t i = 0; i < e->nsparse; i++) {
			if (lseek(fd, (off_t)e->sparse[i].off, SEEK_SET) < 0)
				die(errno, "seek: %s", strerror(errno));
			copy_data(fd, e->sparse[i].len);
		}
		if (ftruncate(fd, (off_t)e->realsize) < 0)
			die(errno, "truncate to %llu: %s", (unsigned long long)e->realsize, strerror(errno));
	} else {
		copy_data(fd, e->size);
	}
	/* Most files are root's, made by root, in a directory without setgid: what the kernel gave
	 * the new file is already right. One fstat instead of a chown and a chmod, which both
	 * change the inode (thousands of small files: ~25% of the layer's system calls' time). */
	struct stat st;
	if (fstat(fd, &st) < 0)
		die(errno, "stat: %s", strerror(errno));
	int chowned = 0;
	if (st.st_uid != (uid_t)e->uid || st.st_gid != (gid_t)e->gid) {
		do_chown(fchown(fd, (uid_t)e->uid, (gid_t)e->gid), e);
		chowned = 1;
	}
	if ((chowned || (st.st_mode & 07777) != (mode_t)e->mode) && fchmod(fd, e->mode) < 0)
		die(errno, "chmod: %s", strerror(errno));
	set_xattrs(e, fd, NULL, 1);
	struct timespec ts[2];
	entry_times(e, ts);
	if (futimens(fd, ts) < 0)
		die(errno, "set times: %s", strerror(errno));
	if (close(fd) < 0)
		die(errno, "close: %s", strerror(errno));
}

static void apply_dir(int dirfd, const char *base, const char *path, const struct tar_entry *e)
{
	int replaced = 0;
	if (mkdirat(dirfd, base, 0700) < 0) {
		if (errno != EEXIST)
			die(errno, "mkdir: %s", strerror(errno));
		int room = make_room(dirfd, base, 1);
		if (room != 1 && mkdirat(dirfd, base, 0700) < 0)
			die(errno, "mkdir: %s", strerror(errno));
		replaced = room == 2;
	}
	int fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		die(errno, "open directory: %s", strerror(errno));
	/* overlay: a directory that replaces a whiteout or a file of this layer must not let the
	 * lower directory show through (the kernel does the same on mkdir over a whiteout) */
	if (g.overlay && replaced)
		make_opaque(fd);
	do_chown(fchown(fd, (uid_t)e->uid, (gid_t)e->gid), e);
	if (fchmod(fd, e->mode) < 0)
		die(errno, "chmod: %s", strerror(errno));
	set_xattrs(e, fd, NULL, 1);
	close(fd);
	struct timespec ts[2];
	entry_times(e, ts);
	remember_dir(path, ts); /* set after the last entry: children bump a directory's times */
}

/* owner, mode, xattrs and times of a node that cannot be opened for real */
static void meta_nofollow(int dirfd, const char *base, const struct tar_entry *e, int symlink)
{
	do_chown(fchownat(dirfd, base, (uid_t)e->uid, (gid_t)e->gid, AT_SYMLINK_NOFOLLOW), e);
	if (!symlink) {
		chmod_nofollow(dirfd, base, e->mode);
		if (e->nxattrs) {
			int fd = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				die(errno, "open for xattrs: %s", strerror(errno));
			char p[64];
			snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
			set_xattrs(e, -1, p, 0);
			close(fd);
		}
	} else if (e->nxattrs) {
		/* no lsetxattr through an fd before setxattrat(2): xattrs on links are skipped */
		warn("xattrs on a symbolic link skipped");
		g.skipped_xattrs += e->nxattrs;
	}
	struct timespec ts[2];
	entry_times(e, ts);
	if (utimensat(dirfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		die(errno, "set times: %s", strerror(errno));
}

static void apply_hardlink(int dirfd, const char *base, const char *path, const struct tar_entry *e)
{
	char *target = clean_path(e->linkname, 1);
	if (!*target)
		die(EPERM, "hardlink to the root directory");
	if (strcmp(target, path) == 0) {
		free(target);
		return; /* a link to itself: already there */
	}
	char *slash = strrchr(target, '/');
	const char *tbase = slash ? slash + 1 : target;
	if (slash)
		*slash = 0;
	int tfd = open_parent(slash ? target : "", 0);
	if (tfd < 0)
		die(ENOENT, "hardlink target '%s': not found in this layer", e->linkname);
	struct stat st;
	if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
		die(errno, "hardlink target '%s': %s", e->linkname, strerror(errno));
	if (S_ISDIR(st.st_mode))
		die(EPERM, "hardlink target '%s' is a directory", e->linkname);
	make_room(dirfd, base, 0);
	/* flags 0: a link to a symbolic link links the link itself */
	if (linkat(tfd, tbase, dirfd, base, 0) < 0)
		die(errno, "hardlink to '%s': %s", e->linkname, strerror(errno));
	close(tfd);
	free(target);
}

static void apply_special(int dirfd, const char *base, const struct tar_entry *e)
{
	mode_t type = e->type == '3' ? S_IFCHR : e->type == '4' ? S_IFBLK : S_IFIFO;
	dev_t dev = 0;
	if (type != S_IFIFO) {
		if (g.userns) {
			g.skipped_devices++;
			return;
		}
		/* mknod(2) takes a 32-bit dev: 12 bits of major, 20 of minor */
		if (e->devmajor > 0xfff || e->devminor > 0xfffff)
			die(ERANGE, "device number %lld:%lld does not fit", (long long)e->devmajor, (long long)e->devminor);
		dev = makedev((unsigned)e->devmajor, (unsigned)e->devminor);
	}
	make_room(dirfd, base, 0);
	if (mknodat(dirfd, base, type | 0600, dev) < 0) {
		if (g.userns && errno == EPERM) {
			g.skipped_devices++;
			return;
		}
		die(errno, "mknod: %s", strerror(errno));
	}
	meta_nofollow(dirfd, base, e, 0);
}

static void apply_whiteout(int dirfd, const char *parent, const char *base, const struct tar_entry *e)
{
	if (strcmp(base, ".wh..wh..opq") == 0) {
		if (g.overlay) {
			make_opaque(dirfd);
		} else {
			char *phys = rel_path_of(dirfd);
			opaque_flat(dirfd, phys);
			free(phys);
		}
		return;
	}
	if (strncmp(base, ".wh..wh.", 8) == 0)
		return; /* other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): nothing to apply */
	const char *x = base + 4;
	if (!*x || strcmp(x, ".") == 0 || strcmp(x, "..") == 0)
		die(EINVAL, "invalid whiteout entry");
	int below = 0;
	if (g.overlay && !is_opaque(dirfd)) {
		/* a whiteout only where a lower layer has something to hide: overlayfs lists (but cannot
		 * look up) whiteouts in a directory it does not merge, and an opaque one hides all */
		char *xp = join(parent, x);
		int lfd = lower_lookup(xp);
		struct stat st;
		if (lfd >= 0 && fstat(lfd, &st) == 0)
			below = !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
		if (lfd >= 0)
			close(lfd);
		free(xp);
	}
	if (g.overlay && !below) {
		rmtree(dirfd, x);
	} else if (g.overlay) {
		make_room(dirfd, x, 0);
		if (mknodat(dirfd, x, S_IFCHR, makedev(0, 0)) < 0)
			die(errno, "mknod whiteout '%s': %s", x, strerror(errno));
		do_chown(fchownat(dirfd, x, (uid_t)e->uid, (gid_t)e->gid, AT_SYMLINK_NOFOLLOW), e);
	} else {
		rmtree(dirfd, x);
	}
}

static void apply_entry(struct tar_entry *e)
{
	char *path = clean_path(e->name, 0);
	if (!path)
		die(EPERM, "path escapes the root");
	if (!*path) {
		free(path);
		return; /* the root itself: its metadata belongs to the snapshot, not the layer */
	}
	char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *parent = slash ? strndup(path, (size_t)(slash - path)) : xstrdup("");
	if (!parent)
		die(ENOMEM, "out of memory");
	int whiteout = !g.no_whiteouts && strncmp(base, ".wh.", 4) == 0;
	/* a whiteout (or opaque mark) in a directory that exists nowhere has nothing to hide: it
	 * creates no parents (in overlay mode they would show up as empty directories) */
	if (whiteout && strncmp(base, ".wh..wh.", 8) != 0 &&
	    (!base[4] || strcmp(base + 4, ".") == 0 || strcmp(base + 4, "..") == 0))
		die(EINVAL, "invalid whiteout entry");
	int create = !whiteout;
	int dirfd = -1;
	if (whiteout && g.overlay) {
		dirfd = open_parent_cached(parent, 0);
		/* a non-directory (or a link loop) of the upper in the way already hides all below it */
		if (dirfd < 0 && errno != ENOENT) {
			free(parent);
			free(path);
			return;
		}
	}
	if (whiteout && g.overlay && dirfd < 0) {
		/* the parent is missing here: create it only if it is a directory below (and no link of
		 * this layer leads elsewhere), else the whiteout has nothing to hide */
		create = !*parent || merged_dir_exists(parent);
	}
	if (dirfd < 0)
		dirfd = open_parent_cached(parent, create);
	if (dirfd < 0) {
		if (whiteout && !create) {
			free(parent);
			free(path);
			return;
		}
		die(ENOTDIR, "parent '%s' is not a directory", parent);
	}
	if (g.owner_set) {
		e->uid = g.owner_uid;
		e->gid = g.owner_gid;
	}
	if (g.no_overwrite_dir_nondir && !whiteout) {
		struct stat st;
		if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(st.st_mode) && e->type != '5')
				die(EISDIR, "cannot overwrite directory with non-directory");
			if (!S_ISDIR(st.st_mode) && e->type == '5')
				die(ENOTDIR, "cannot overwrite non-directory with directory");
		}
	}
	if (whiteout) {
		apply_whiteout(dirfd, parent, base, e);
	} else {
		switch (e->type) {
		case '0':
			apply_regular(dirfd, base, e);
			break;
		case '5':
			apply_dir(dirfd, base, path, e);
			break;
		case '1':
			apply_hardlink(dirfd, base, path, e);
			break;
		case '2':
			make_room(dirfd, base, 0);
			if (symlinkat(e->linkname, dirfd, base) < 0)
				die(errno, "symlink: %s", strerror(errno));
			meta_nofollow(dirfd, base, e, 1);
			break;
		case '3': case '4': case '6':
			apply_special(dirfd, base, e);
			break;
		default:
			die(EPROTO, "unsupported entry type");
		}
		/* the entry and its directories count as unpacked by this layer: an opaque mark on an
		 * ancestor must not remove what this layer put below it */
		char *phys = phys_path(base);
		for (char *sl = strrchr(phys, '/'); sl; sl = strrchr(phys, '/')) {
			set_add(&g.unpacked, phys);
			*sl = 0;
		}
		set_add(&g.unpacked, phys);
		free(phys);
	}
	free(parent);
	free(path);
}

static void apply_dir_times(void)
{
	g.entry = NULL;
	for (size_t i = 0; i < g.ndirs; i++) {
		char *path = g.dirs[i].path;
		char *slash = strrchr(path, '/');
		const char *base = slash ? slash + 1 : path;
		if (slash)
			*slash = 0;
		int dirfd = open_parent(slash ? path : "", 0);
		struct stat st;
		if (dirfd >= 0 && fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
		    utimensat(dirfd, base, g.dirs[i].ts, AT_SYMLINK_NOFOLLOW) < 0)
			die(errno, "set times of directory '%s/%s': %s", path, base, strerror(errno));
		if (dirfd >= 0)
			close(dirfd);
		free(path);
	}
}

/* ---- input ----------------------------------------------------------------------------- */

static ssize_t read_stdin(void *ctx, void *buf, size_t n)
{
	struct decomp *d = ctx;
	for (;;) {
		ssize_t k = d ? decomp_read(d, buf, n) : input_read(g.in_fd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && !d) {
			g.entry = NULL;
			die(errno, "read: %s", input_error(errno));
		}
		if (k < 0 && d) {
			/* the compressed stream is at fault, not the entry being read */
			g.entry = NULL;
			die(errno, "%s", decomp_error(d));
		}
		if (k > 0 && EVP_DigestUpdate(g.md, buf, (size_t)k) != 1)
			die(EIO, "sha256 failed");
		return k;
	}
}

/*
 * --check-lookups: reads `lookup HEX` lines (a speculative apply's record) and tells whether
 * the lower layers (--parent, top first) would have answered every lookup with nothing, as
 * they did (absent) during the speculative apply. Conservative: found in any lower, before a
 * lower that hides it, counts as present, even where this layer's own upper would have hidden
 * it. Prints `absent` or `present HEX`.
 */
static int check_lookups(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *in = stdin;
	while ((n = getline(&line, &cap, in)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (strncmp(line, "lookup ", 7) != 0)
			die(EINVAL, "bad check line");
		const char *hex = line + 7;
		size_t hl = strlen(hex);
		char *path = xmalloc(hl / 2 + 1);
		size_t pl = 0;
		if (strcmp(hex, "-") != 0) {
			if (hl % 2)
				die(EINVAL, "bad check line");
			for (size_t i = 0; i < hl; i += 2) {
				unsigned v;
				if (sscanf(hex + i, "%2x", &v) != 1 || v == 0)
					die(EINVAL, "bad check line");
				path[pl++] = (char)v;
			}
		}
		path[pl] = 0;
		int present = 0;
		for (size_t i = 0; i < g.nlowers && !present; i++) {
			int fd = open_in_root(g.lowers[i], path, O_PATH | O_NOFOLLOW);
			if (fd >= 0) {
				close(fd);
				present = 1;
				break;
			}
			if (errno != ENOENT && errno != ENOTDIR)
				break; /* lower_lookup's answer is "nothing" there too */
			if (lower_hides(g.lowers[i], path, 0))
				break;
		}
		free(path);
		if (present) {
			printf("present %s\n", hex);
			free(line);
			return fflush(stdout) == 0 ? 0 : 1;
		}
	}
	if (ferror(in))
		die(errno, "read: %s", strerror(errno));
	free(line);
	puts("absent");
	return fflush(stdout) == 0 ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: berth-unpack --root DIR|--root-fd N --mode overlay|flat [--parent LOWER]... [--userns] [--no-sync]\n"
			"       [--decompress gzip|zstd] [--follow FD --size N] [--no-whiteouts] [--owner UID:GID] [--no-overwrite-dir-nondir]\n"
			"       [--record-lookups]\n"
			"       berth-unpack --check-lookups --mode overlay [--parent LOWER]... [--userns]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *root = NULL, *mode = NULL;
	int root_fd = -1, check = 0, decompress = -1, follow_fd = -1, follow_poll = 0;
	long long follow_size = -1;
	const char **lowers = calloc((size_t)argc, sizeof *lowers);
	g.sync = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			mode = argv[++i];
		else if (strcmp(argv[i], "--parent") == 0 && i + 1 < argc)
			lowers[g.nlowers++] = argv[++i];
		else if (strcmp(argv[i], "--userns") == 0)
			g.userns = 1;
		else if (strcmp(argv[i], "--no-sync") == 0)
			g.sync = 0;
		else if (strcmp(argv[i], "--decompress") == 0 && i + 1 < argc) {
			const char *kind = argv[++i];
			if (strcmp(kind, "gzip") == 0)
				decompress = DECOMP_GZIP;
			else if (strcmp(kind, "zstd") == 0)
				decompress = DECOMP_ZSTD;
			else
				usage();
		}
		else if (strcmp(argv[i], "--record-lookups") == 0)
			g.record = 1;
		else if (strcmp(argv[i], "--check-lookups") == 0)
			check = 1;
		else if (strcmp(argv[i], "--root-fd") == 0 && i + 1 < argc)
			root_fd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--follow") == 0 && i + 1 < argc)
			follow_fd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--follow-poll") == 0) /* the fallback without inotify, for tests */
			follow_poll = 1;
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			follow_size = strtoll(argv[++i], &end, 10);
			if (errno || *end || end == argv[i] || follow_size < 0)
				usage();
		}
		else if (strcmp(argv[i], "--no-whiteouts") == 0)
			g.no_whiteouts = 1;
		else if (strcmp(argv[i], "--no-overwrite-dir-nondir") == 0)
			g.no_overwrite_dir_nondir = 1;
		else if (strcmp(argv[i], "--owner") == 0 && i + 1 < argc) {
			unsigned u, gg;
			char end;
			if (sscanf(argv[++i], "%u:%u%c", &u, &gg, &end) != 2)
				usage();
			g.owner_set = 1;
			g.owner_uid = (uid_t)u;
			g.owner_gid = (gid_t)gg;
		}
		else
			usage();
	}
	if (check) {
		/* no root: only the lowers are read */
		if (root || root_fd >= 0 || !mode || strcmp(mode, "overlay") || g.record || follow_fd >= 0)
			usage();
		g.overlay = 1;
		g.lowers = xmalloc(g.nlowers * sizeof *g.lowers);
		for (size_t i = 0; i < g.nlowers; i++) {
			g.lowers[i] = open(lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (g.lowers[i] < 0)
				die(errno, "open parent layer '%s': %s", lowers[i], strerror(errno));
		}
		return check_lookups();
	}
	if ((!root) == (root_fd < 0) || !mode || (strcmp(mode, "overlay") && strcmp(mode, "flat")))
		usage();
	if (g.no_whiteouts && strcmp(mode, "flat"))
		usage();
	if (g.record && (strcmp(mode, "overlay") || g.nlowers))
		usage(); /* a speculative apply is an overlay apply before its lowers exist */
	g.overlay = strcmp(mode, "overlay") == 0;
	/* removal and deep trees hold one fd per level */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	umask(0);
	if ((follow_fd >= 0) != (follow_size >= 0) || (follow_fd >= 0 && follow_fd <= 2))
		usage();
	if (follow_fd >= 0) {
		if (input_follow(follow_fd, 0, (unsigned long long)follow_size, follow_poll) < 0)
			die(errno, "--follow %d: %s", follow_fd, strerror(errno));
		g.in_fd = follow_fd;
	} else {
		/* a bigger stdin pipe means fewer wake-ups of the decompressor and of us (pipes only) */
		fcntl(0, F_SETPIPE_SZ, 1 << 20);
	}
	/* the root itself must not be a symbolic link (CVE-2018-15664's lesson) */
	if (root) {
		g.root = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (g.root < 0)
			die(errno, "open root '%s': %s", root, strerror(errno));
	} else {
		struct stat st;
		if (fstat(root_fd, &st) < 0)
			die(errno, "root fd %d: %s", root_fd, strerror(errno));
		if (!S_ISDIR(st.st_mode))
			die(ENOTDIR, "root fd %d: not a directory", root_fd);
		g.root = root_fd;
		fcntl(g.root, F_SETFD, FD_CLOEXEC);
	}
	/* a read-only mount fails before any entry is read, not half-way through the stream */
	struct statvfs vfs;
	if (fstatvfs(g.root, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		die(EROFS, "read-only file system");
	g.lowers = xmalloc(g.nlowers * sizeof *g.lowers);
	for (size_t i = 0; i < g.nlowers; i++) {
		g.lowers[i] = open(lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (g.lowers[i] < 0)
			die(errno, "open parent layer '%s': %s", lowers[i], strerror(errno));
	}
	g.md = EVP_MD_CTX_new();
	if (!g.md || EVP_DigestInit_ex(g.md, EVP_sha256(), NULL) != 1)
		die(EIO, "sha256 init failed");

	struct decomp *dec = NULL;
	if (decompress >= 0 && !(dec = decomp_new((enum decomp_kind)decompress, g.in_fd)))
		die(ENOMEM, "out of memory");
	struct tar_src src = { .read = read_stdin, .ctx = dec, .cap = 1 << 20 };
	src.buf = xmalloc(src.cap);
	tar_init(&g.r, &src);
	uint64_t bytes = 0;
	for (;;) {
		g.entry = NULL;
		int rc = tar_next(&g.r);
		if (rc < 0) {
			g.entry = g.r.e.name;
			die(g.r.errnum ? g.r.errnum : EPROTO, "%s (header %llu)", g.r.err, (unsigned long long)g.r.headers);
		}
		if (rc == 0)
			break;
		g.entry = g.r.e.name;
		g.entries++;
		bytes += g.r.e.realsize;
		apply_entry(&g.r.e);
	}
	apply_dir_times();
	if (tar_drain(&g.r) < 0)
		die(g.r.errnum, "%s", g.r.err);
	if (g.sync && syncfs(g.root) < 0)
		die(errno, "syncfs: %s", strerror(errno));
	input_release();
	unsigned char md[32];
	unsigned mdlen = 0;
	if (EVP_DigestFinal_ex(g.md, md, &mdlen) != 1 || mdlen != 32)
		die(EIO, "sha256 failed");
	printf("ok entries=%llu bytes=%llu sha256=", (unsigned long long)g.entries, (unsigned long long)src.total);
	for (int i = 0; i < 32; i++)
		printf("%02x", md[i]);
	printf(" skipped-xattrs=%llu skipped-devices=%llu files-bytes=%llu\n", (unsigned long long)g.skipped_xattrs,
	       (unsigned long long)g.skipped_devices, (unsigned long long)bytes);
	return fflush(stdout) == 0 ? 0 : 1;
}
