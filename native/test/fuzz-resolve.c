/* libFuzzer target: resolve_in_root (nsinit/mounts.c), the function that keeps every mount,
 * symlink and device of a hostile rootfs inside it. A small tree is built in a temp dir: a
 * `root` full of symlinks (absolute, relative, `..` past the root, to host paths, loops,
 * dangling ones) next to an `outside` directory. Input: one byte for the mode (resolve only,
 * create directories, create a file as the last component), then the container path.
 *
 * Asserted after every call: a returned fd is on the root or below it (readlink of
 * /proc/self/fd/<n>), no fd leaked, and nothing was created outside the root. The tree is
 * rebuilt after a call that created something, so every input meets the same tree (in /dev/shm
 * when there is one: rebuilding on a disk costs milliseconds). Needs no root; as root, its own
 * filesystem calls run as nobody (setfsuid: libFuzzer still writes its corpus as root), so a
 * resolver that did escape could not create anything on the host where nobody cannot. */
#include "../nsinit/nsinit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[PATH_MAX], root[PATH_MAX + 8], outside[PATH_MAX + 16];
static int rootfd = -1, was_root;
/* Every directory of the tree: anything a call creates first appears in one of them. */
static const char *const dirs[] = {"", "a", "a/b", "a/b/c"};
#define NDIRS (sizeof dirs / sizeof *dirs)
/* Entries of each directory, then of the base and of `outside`, as built. */
static int entries[NDIRS + 2];

static void rm_tree(void);

static _Noreturn void fail(const char *what, const char *path, const char *detail)
{
	static int failing;
	fprintf(stderr, "fuzz-resolve: %s: path '%s': %s\n", what, path, detail);
	if (!failing++) /* the tree goes too (abort skips atexit), unless removing it failed */
		rm_tree();
	abort();
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Filesystem access as nobody (when root), or back as ourselves. */
static void as_nobody(int on)
{
	if (was_root) {
		setfsgid(on ? 65534 : 0);
		setfsuid(on ? 65534 : 0);
	}
}

static void rm_tree(void)
{
	if (base[0] && nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		fail("remove tree", base, strerror(errno));
}

static void must(int r, const char *what)
{
	if (r < 0)
		fail("build tree", what, strerror(errno));
}

/* Entries in a directory, or -1 (the call replaced it by something else). */
static int count(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void counts(int *out)
{
	char p[PATH_MAX + 32];
	for (size_t i = 0; i < NDIRS; i++) {
		snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
		out[i] = count(p);
	}
	out[NDIRS] = count(base);
	out[NDIRS + 1] = count(outside);
}

static void build_tree(void)
{
	if (rootfd >= 0)
		close(rootfd);
	rm_tree();
	char tmpl[64];
	snprintf(tmpl, sizeof tmpl, "%s/berth-fuzz-resolve-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(tmpl) || !realpath(tmpl, base))
		fail("mkdtemp", tmpl, strerror(errno));
	snprintf(root, sizeof root, "%s/root", base);
	snprintf(outside, sizeof outside, "%s/outside", base);
	must(mkdir(root, 0755), root);
	must(mkdir(outside, 0755), outside);
	int r = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	must(r, root);
	must(mkdirat(r, "a", 0755), "a");
	must(mkdirat(r, "a/b", 0755), "a/b");
	must(mkdirat(r, "a/b/c", 0755), "a/b/c");
	int f = openat(r, "f", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	must(f, "f");
	close(f);
	char host[PATH_MAX + 32];
	snprintf(host, sizeof host, "%s/new", outside);
	const char *links[][2] = {
		{"/a", "abs"},                      /* absolute, inside */
		{"a/b", "rel"},                     /* relative */
		{"../../..", "up"},                 /* `..` past the root */
		{"../../../../outside", "a/b/up2"}, /* to the sibling of the root */
		{outside, "host"},                  /* a host path */
		{host, "hostnew"},                  /* a host path that does not exist */
		{"/", "slash"},
		{"loop2", "loop1"},
		{"loop1", "loop2"},
		{".", "self"},
		{"/nonexistent/x", "dangling"},
		{"../../missing/y", "dangling_rel"},
		{"../../../../outside/new", "a/dangling_up"},
		{"/abs/b/up2", "a/b/back"},
		{"abs/b/up2/../..", "chain"},
		{"f/", "fileslash"},
		{"/tmp/x", "proc"},
		{"../a/./b//c/", "a/dotty"},
	};
	for (size_t i = 0; i < sizeof links / sizeof *links; i++)
		must(symlinkat(links[i][0], r, links[i][1]), links[i][1]);
	rootfd = r;
	counts(entries);
}

static void rm_tree_atexit(void)
{
	as_nobody(1);
	rm_tree();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	was_root = geteuid() == 0;
	if (was_root && setgroups(0, NULL) < 0) {
		perror("fuzz-resolve: setgroups");
		exit(1);
	}
	atexit(rm_tree_atexit);
	as_nobody(1);
	build_tree();
	as_nobody(0);
	return 0;
}

static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		fail("dup", "", strerror(errno));
	close(fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > PATH_MAX)
		return 0;
	int mode = data[0] % 3 == 0 ? RESOLVE_ONLY : data[0] % 3 == 1 ? CREATE_DIR : CREATE_FILE;
	char path[PATH_MAX + 1];
	memcpy(path, data + 1, size - 1);
	path[size - 1] = 0; /* up to the first NUL: it is a C string on the plan's side too */

	as_nobody(1);
	int before = lowest_free_fd();
	int fd = resolve_in_root(rootfd, path, mode);
	if (fd >= 0) {
		char got[PATH_MAX + 1];
		ssize_t n = readlink(fd_path(fd), got, sizeof got - 1);
		if (n < 0)
			fail("readlink", path, strerror(errno));
		got[n] = 0;
		size_t rl = strlen(root);
		if (strncmp(got, root, rl) || (got[rl] != 0 && got[rl] != '/'))
			fail("escaped the root", path, got);
		close(fd);
	}
	if (lowest_free_fd() != before)
		fail("leaked an fd", path, "the lowest free fd changed");
	if (mode != RESOLVE_ONLY) {
		int now[NDIRS + 2];
		counts(now);
		/* Only `root` and `outside` in the base, and nothing in `outside`. */
		if (now[NDIRS] != 2 || now[NDIRS + 1] != 0)
			fail("created outside the root", path, base);
		if (memcmp(now, entries, sizeof now))
			build_tree();
	}
	as_nobody(0);
	return 0;
}
