/* berth:[1:INIT] — becomes the container: mounts, pivot, the rest of its setup, then waits for
 * start and execs the process. Any failure is reported on the sync fd and ends this stage. */
#include "nsinit.h"
#include "seccomp.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int is_exec(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* Resolved before `created`, so that a missing binary fails create, as in runc. */
static const char *find_exec(struct plan *p)
{
	const char *a0 = p->args.v[0], *path = DEFAULT_PATH;
	if (strchr(a0, '/')) {
		struct stat st;
		if (stat(a0, &st) < 0)
			die_errno("exec '%s'", a0);
		if (!is_exec(a0)) {
			errno = EACCES;
			die_errno("exec '%s'", a0);
		}
		return a0;
	}
	for (size_t i = 0; i < p->env.n; i++)
		if (!strncmp(p->env.v[i], "PATH=", 5)) {
			path = p->env.v[i] + 5;
			break;
		}
	char *dirs = xstrdup(path);
	for (char *d = dirs, *next; d; d = next) {
		if ((next = strchr(d, ':')))
			*next++ = 0;
		char *cand = xasprintf("%s/%s", *d ? d : ".", a0);
		if (is_exec(cand))
			return cand;
		free(cand);
	}
	die_code(ENOENT, "exec '%s': executable file not found in $PATH", a0);
}

/* runc names the keyring _ses.<id> and adds search permission for the possessor's user
 * (0x080000) so that processes which change uid in the container can still find it. */
static void join_session_keyring(const char *id) {
	char name[300];
	snprintf(name, sizeof name, "_ses.%s", id);
	long key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
	if (key < 0) {
		if (errno == ENOSYS)
			return;
		die_errno("join session keyring '%s'", name);
	}
	char desc[512];
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, desc, sizeof desc);
	if (n < 0 || n > (long)sizeof desc)
		die_errno("describe session keyring '%s'", name);
	desc[sizeof desc - 1] = 0;
	/* "type;uid;gid;perm;description": the perm is the fourth field, in hex */
	const char *f = desc;
	for (int i = 0; i < 3 && f; i++)
		if ((f = strchr(f, ';')))
			f++;
	unsigned long perm = f ? strtoul(f, NULL, 16) : 0x3f130000UL;
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, key, perm | 0x080000UL) < 0)
		die_errno("set permissions of session keyring '%s'", name);
}

/* Like runc: without HOME in the environment, take the user's home from the container's
 * /etc/passwd, or "/" when it has no entry. */
static void set_home(struct plan *p)
{
	for (size_t i = 0; i < p->env.n; i++)
		if (strncmp(p->env.v[i], "HOME=", 5) == 0)
			return;
	char *home = NULL;
	FILE *f = fopen("/etc/passwd", "re");
	char line[1024];
	while (f && !home && fgets(line, sizeof line, f)) {
		/* name:password:uid:gid:gecos:home:shell */
		char *fields[7] = {0}, *tok = line;
		int n = 0;
		for (char *c = strsep(&tok, ":"); c && n < 7; c = strsep(&tok, ":"))
			fields[n++] = c;
		if (n >= 6 && fields[2] && strtoul(fields[2], NULL, 10) == (unsigned long)p->uid && *fields[5])
			home = xstrdup(fields[5]);
	}
	if (f)
		fclose(f);
	p->env.v = xrealloc(p->env.v, (p->env.n + 2) * sizeof *p->env.v);
	p->env.v[p->env.n++] = xasprintf("HOME=%s", home ? home : "/");
	p->env.v[p->env.n] = NULL;
	free(home);
}

static void write_sysctls(struct plan *p)
{
	for (size_t i = 0; i < p->sysctls.n; i++) {
		char *file = xasprintf("/proc/sys/%s", p->sysctls.v[i].key);
		for (char *c = file + strlen("/proc/sys/"); *c; c++)
			if (*c == '.')
				*c = '/';
		if (write_file_at(AT_FDCWD, file, p->sysctls.v[i].value) < 0)
			die_errno("write sysctl '%s'", p->sysctls.v[i].key);
		free(file);
	}
}

/* Resolved inside the root; with `enter`, also made the cwd. A missing cwd is created only by
 * a process that sets up the root (a container's init), as runc does: an exec (or an init
 * without a mount namespace) must not change the container's files, so it fails with runc's
 * words instead, which dockerd passes on to `docker exec -w /missing`. */
static void cwd_in_root(struct plan *p, int enter)
{
	int root = openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = root < 0 ? -1 : resolve_in_root(root, p->cwd, p->setup_root ? CREATE_DIR : RESOLVE_ONLY);
	if (fd < 0 && !p->setup_root)
		die_errno("chdir to cwd (\"%s\") set in config.json failed", p->cwd);
	if (fd < 0)
		die_errno("create cwd '%s'", p->cwd);
	if (enter && fchdir(fd) < 0)
		die_errno(p->setup_root ? "chdir '%s'" : "chdir to cwd (\"%s\") set in config.json failed", p->cwd);
	close(fd);
	close(root);
}

/* Without a start socket, `start` comes on the sync fd. With one, it is a connection that sends
 * the line `start`: its fd becomes the status channel (close-on-exec, so EOF alone tells the
 * caller that the exec happened; a failure writes an `error` line first). A connection that
 * closes without `start` is dropped and the wait goes on. */
static void wait_start(int listenfd)
{
	if (listenfd < 0) {
		expect_line("start");
		return;
	}
	for (;;) {
		int c = accept4(listenfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die_errno("accept on the start socket");
		}
		char line[8];
		size_t n = 0;
		while (n < sizeof line) {
			ssize_t r = read(c, line + n, 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0 || line[n++] == '\n')
				break;
		}
		if (n == 6 && !memcmp(line, "start\n", 6)) {
			g_status = c;
			close(listenfd);
			return;
		}
		close(c);
	}
}

void init_stage(struct plan *p, int sock, int console, int listenfd, const sigset_t *mask)
{
	g_child = 0;
	set_title("berth:[1:INIT]");
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (fcntl(g_sync, F_SETFD, FD_CLOEXEC) < 0)
		die_errno("set sync fd close-on-exec");
	/* Early clone (parent.c): the rootfs is opened while the parent stage waits for the
	 * caller's `cgroups`; nothing in it depends on our cgroups, and no user namespace is made. */
	if (p->early_clone && p->setup_root)
		rootfs_open(p);
	/* The go: our maps and cgroups are written. It carries our host pid, which a new pid
	 * namespace hides from getpid() and which hooks need. */
	pid_t hostpid;
	if (read_full(sock, &hostpid, sizeof hostpid) != 1)
		_exit(1); /* the parent failed and said so */
	/* Born dumpable when an unprivileged parent had to write our maps (parent.c). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("prctl PR_SET_DUMPABLE");

	if ((p->ns_new & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		die_errno("unshare cgroup namespace");
	if (setsid() < 0)
		die_errno("setsid");
	/* The rootfs is opened while we still have host credentials: in a new user namespace our
	 * uid is about to become the mapped root, which may not reach it. A joined mount namespace
	 * (the join stage entered it) gets the container's mounts too, under the rootfs's
	 * self-bind; without mount records (an exec, or a plain chroot) nothing is mounted. */
	if (p->setup_root && !p->early_clone)
		rootfs_open(p);
	/* Files we create must be owned by an id mapped in the namespace: become its root. */
	if ((p->ns_new | p->ns_joined) & CLONE_NEWUSER) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			die_errno("become root in the user namespace");
	}
	if (p->setup_root)
		rootfs_populate(p);
	if (p->sync_hooks) {
		send_line("hooks", NULL);
		expect_line("resume");
	}
	run_hooks(p, HOOK_CREATE_CONTAINER, getpid()); /* the pid as the container sees it */
	/* A mount namespace shared with the runtime (or joined): pivot_root would move the root
	 * of every process in it, so only ours changes. */
	if (p->ns_new & CLONE_NEWNS)
		rootfs_pivot(p);
	else if (p->setup_root)
		rootfs_chroot(p);
	else if (p->chroot && (chroot(p->rootfs) < 0 || chdir("/") < 0))
		die_errno("chroot '%s'", p->rootfs);
	/* A missing cwd is created now, before `/` may turn read-only (runc's order); it is
	 * entered last, once every mount is in place. */
	if (p->setup_root && p->cwd && p->root_readonly)
		cwd_in_root(p, 0);
	if (p->terminal)
		terminal_setup(p, console, sock);
	if (p->root_readonly)
		root_readonly();
	if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
		die_errno("sethostname '%s'", p->hostname);
	if (p->domainname && setdomainname(p->domainname, strlen(p->domainname)) < 0)
		die_errno("setdomainname '%s'", p->domainname);
	/* A session keyring of the container's own, named after it, as runc does: otherwise the
	 * container would share the caller's session keyring and the keys in it. Kernels without
	 * keyrings (ENOSYS) simply have nothing to share. */
	if (p->keyring)
		join_session_keyring(p->keyring);
	write_sysctls(p);
	readonly_paths(p);
	masked_paths(p);
	if (p->setup_root)
		root_propagation_late(p);
	if (p->cwd)
		cwd_in_root(p, 1);
	const char *path = p->args.n ? find_exec(p) : NULL;
	/* The last handle on a filesystem we hold: from here on, only sockets, pipes, the stdio
	 * and the preserved fds remain (test/escape.test.ts checks it). */
	rootfs_close();
	/* Nothing of ours reaches the container: fds past the preserved ones close on exec
	 * (those we still use already are close-on-exec). */
	if (sys_close_range(3 + (unsigned)p->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		die_errno("close_range");

	/* The process's identity is taken before `created`, as runc does: a created container's
	 * init that still held every capability (unbounded) would be a target for a container
	 * process allowed to ptrace it. Without no_new_privs only a holder of CAP_SYS_ADMIN may
	 * load a filter: load it before the capabilities and ids change (runc's order); the calls
	 * that follow, startContainer hooks included, must pass it. With no_new_privs a forked
	 * child checks the filter now, and it is loaded just before execve. */
	if (p->seccomp && p->no_new_privs)
		seccomp_check(p);
	set_home(p);
	if (p->seccomp && !p->no_new_privs)
		seccomp_load(p);
	apply_user(p);
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno("prctl PR_SET_NO_NEW_PRIVS");

	send_line("created", NULL);
	char created = MSG_CREATED;
	if (write_all(sock, &created, 1) < 0)
		die_errno("tell the parent stage");
	wait_start(listenfd);
	if (!p->args.n)
		die_code(EINVAL, "start: the container has no process to run (config.json: process)");

	run_hooks(p, HOOK_START_CONTAINER, getpid());
	reset_signals(); /* ignored dispositions survive execve */
	/* With no_new_privs, as late as possible: nothing but execve runs under the filter. */
	if (p->seccomp && p->no_new_privs)
		seccomp_load(p);
	static char *no_env[] = {NULL};
	g_die_status = 127;
	execve(path, p->args.v, p->env.v ? p->env.v : no_env);
	die_errno("exec '%s'", path);
}
