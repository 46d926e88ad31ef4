/* berth:[0:PARENT] — opens what is named by host paths, forks berth:[0:JOIN], which joins
 * namespaces and clones the init stage into the new ones (or, with nothing to join, clones the
 * init stage itself); then writes the init stage's id maps, rlimits and cgroups, reports its pid,
 * and waits for `created` or (wait 1) for its exit. */
#include "nsinit.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/close_range.h>
#ifdef __GLIBC__
#define RLIMIT_RESOURCE(r) ((enum __rlimit_resource)(r)) /* glibc's prlimit takes its enum */
#else
#define RLIMIT_RESOURCE(r) (r)
#endif
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

static char *map_text(struct idmap *m, size_t n)
{
	char *s = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *t = xasprintf("%s%lu %lu %lu\n", s, m[i].in, m[i].out, m[i].count);
		free(s);
		s = t;
	}
	return s;
}

/* newuidmap/newgidmap <pid> <inside> <outside> <count>…: setuid helpers that check the maps
 * against /etc/subuid and /etc/subgid. What they print becomes the error message. */
static void run_map_tool(const char *tool, pid_t pid, struct idmap *m, size_t n, const sigset_t *mask)
{
	char **argv = xmalloc((3 * n + 3) * sizeof *argv);
	size_t a = 0;
	argv[a++] = (char *)tool;
	argv[a++] = xasprintf("%d", (int)pid);
	for (size_t i = 0; i < n; i++) {
		argv[a++] = xasprintf("%lu", m[i].in);
		argv[a++] = xasprintf("%lu", m[i].out);
		argv[a++] = xasprintf("%lu", m[i].count);
	}
	argv[a] = NULL;
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		die_errno("pipe");
	pid_t t = fork();
	if (t < 0)
		die_errno("fork '%s'", tool);
	if (t == 0) {
		sigprocmask(SIG_SETMASK, mask, NULL);
		if (dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(126);
		sys_close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		execv(tool, argv);
		dprintf(2, "exec: %s", errno_text(errno));
		_exit(127);
	}
	close(out[1]);
	char msg[512];
	size_t len = 0;
	for (;;) { /* all of it, so the tool never blocks on a full pipe; the start is kept */
		char buf[512];
		ssize_t r = read(out[0], buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t take = (size_t)r < sizeof msg - 1 - len ? (size_t)r : sizeof msg - 1 - len;
		memcpy(msg + len, buf, take);
		len += take;
	}
	close(out[0]);
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	msg[len] = 0;
	int st;
	while (waitpid(t, &st, 0) < 0)
		if (errno != EINTR)
			die_errno("wait for '%s'", tool);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("%s %d: %s", tool, (int)pid, len ? msg : WIFEXITED(st) ? "failed" : "killed");
	for (size_t i = 1; i < a; i++)
		free(argv[i]);
	free(argv);
}

static void write_maps(struct plan *p, int procfd, pid_t pid, const sigset_t *mask)
{
	char path[64];
	if (p->setgroups >= 0) {
		snprintf(path, sizeof path, "%d/setgroups", (int)pid);
		if (write_file_at(procfd, path, p->setgroups ? "allow" : "deny") < 0)
			die_errno("write '/proc/%s'", path);
	}
	struct { const char *file, *tool; struct idmap *v; size_t n; } maps[] = {
		{"uid_map", p->uidmap_tool, p->uid_maps.v, p->uid_maps.n},
		{"gid_map", p->gidmap_tool, p->gid_maps.v, p->gid_maps.n}};
	for (int i = 0; i < 2; i++) {
		if (!maps[i].n)
			continue;
		if (maps[i].tool) {
			run_map_tool(maps[i].tool, pid, maps[i].v, maps[i].n, mask);
			continue;
		}
		char *text = map_text(maps[i].v, maps[i].n);
		snprintf(path, sizeof path, "%d/%s", (int)pid, maps[i].file);
		if (write_file_at(procfd, path, text) < 0)
			die_errno("write '/proc/%s'", path);
		free(text);
	}
}

static void set_time_offsets(struct plan *p)
{
	if (unshare(CLONE_NEWTIME) < 0)
		die_errno("unshare time namespace");
	char *text = xstrdup("");
	for (size_t i = 0; i < p->time_offsets.n; i++) {
		struct timeoff *t = &p->time_offsets.v[i];
		char *s = xasprintf("%s%s %lld %ld\n", text, t->clock, t->secs, t->nsecs);
		free(text);
		text = s;
	}
	/* Offsets can only be set before the first process enters the namespace: the clone. */
	if (*text && write_file_at(AT_FDCWD, "/proc/self/timens_offsets", text) < 0)
		die_errno("write '/proc/self/timens_offsets'");
	free(text);
}

static int connect_console(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		die("connect console socket '%s': path too long", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die_errno("connect console socket '%s'", path);
	return fd;
}

static const char *const rlimit_names[] = {
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
	"RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
	"RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};

/* Set from here, on the child, as runc does: raising a hard limit needs CAP_SYS_RESOURCE in
 * the host's user namespace, which a child in a new user namespace no longer has. */
static void set_rlimits(struct plan *p, pid_t child)
{
	for (size_t i = 0; i < p->rlimits.n; i++) {
		struct rlim *r = &p->rlimits.v[i];
		struct rlimit rl = {
			.rlim_cur = r->soft == UINT64_MAX ? RLIM_INFINITY : (rlim_t)r->soft,
			.rlim_max = r->hard == UINT64_MAX ? RLIM_INFINITY : (rlim_t)r->hard};
		if (prlimit(child, RLIMIT_RESOURCE(r->res), &rl, NULL) < 0) {
			if (r->res < (int)(sizeof rlimit_names / sizeof *rlimit_names))
				die_errno("setrlimit %s", rlimit_names[r->res]);
			die_errno("setrlimit %d", r->res);
		}
	}
}

static int exit_code(int st)
{
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* pty master → fd 1 until it would block; 0 once the master hung up (no slave left). */
static int pump_master(int master)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(master, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;
		(void)write_all(1, buf, (size_t)n); /* a closed stdout only loses the output */
	}
}

/* wait 1: forward signals, proxy the pty if we hold its master, exit with the child's status. */
static _Noreturn void wait_child(pid_t child, int sock, int sfd)
{
	int master = -1, sock_open = 1, in_open = 1;
	char pend[8192]; /* stdin bytes the master has not taken yet */
	size_t plen = 0, poff = 0;
	for (;;) {
		struct pollfd pf[4] = {{.fd = sfd, .events = POLLIN}};
		int n = 1, i_sock = -1, i_in = -1, i_m = -1;
		if (sock_open)
			pf[i_sock = n++] = (struct pollfd){.fd = sock, .events = POLLIN};
		if (master >= 0 && in_open && !plen)
			pf[i_in = n++] = (struct pollfd){.fd = 0, .events = POLLIN};
		if (master >= 0)
			pf[i_m = n++] = (struct pollfd){.fd = master, .events = POLLIN | (plen ? POLLOUT : 0)};
		if (poll(pf, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die_errno("poll");
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == sizeof si) {
				int sig = (int)si.ssi_signo, st;
				if (sig == SIGCHLD) {
					if (waitpid(child, &st, WNOHANG) == child) {
						if (master >= 0)
							pump_master(master);
						term_restore();
						_exit(exit_code(st));
					}
				} else if (sig == SIGWINCH && master >= 0) {
					copy_winsize(0, master);
				} else if (sig != SIGPIPE && sig != SIGURG) {
					kill(child, sig);
				}
			}
		}
		if (i_sock >= 0 && pf[i_sock].revents) {
			char b;
			int fd;
			/* EOF: the init stage exec'd (the socket is close-on-exec) or died. */
			if (recv_fd(sock, &b, 1, &fd) <= 0)
				sock_open = 0;
			else if (fd >= 0 && master < 0) {
				master = fd;
				fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
				term_raw(0);
				copy_winsize(0, master);
			}
		}
		if (i_in >= 0 && pf[i_in].revents) {
			ssize_t r = read(0, pend, sizeof pend);
			/* stdin EOF only stops the copy: the session lives on until the master hangs up. */
			if (r > 0)
				plen = (size_t)r, poff = 0;
			else if (r == 0 || (errno != EINTR && errno != EAGAIN))
				in_open = 0;
		}
		if (i_m >= 0 && (pf[i_m].revents & POLLOUT) && plen) {
			ssize_t w = write(master, pend + poff, plen - poff);
			if (w > 0 && (poff += (size_t)w) == plen)
				plen = 0;
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				plen = 0, in_open = 0;
		}
		if (i_m >= 0 && (pf[i_m].revents & (POLLIN | POLLHUP | POLLERR)) && !pump_master(master)) {
			close(master); /* hung up: keep waiting for the exit status only */
			master = -1;
			in_open = 0;
		}
	}
}

/* Closes every fd but those in keep[] (unsorted, duplicates and -1 allowed). */
static void close_all_but(int *keep, size_t n)
{
	for (size_t i = 1; i < n; i++) /* insertion sort: a handful of fds */
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unsigned lo = 0;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < lo)
			continue;
		if ((unsigned)keep[i] > lo && sys_close_range(lo, (unsigned)keep[i] - 1, 0) < 0)
			die_errno("close_range");
		lo = (unsigned)keep[i] + 1;
	}
	if (sys_close_range(lo, ~0U, 0) < 0)
		die_errno("close_range");
}

/* The start socket: a listening unix socket at `path`, which `start` connects to. Bound here,
 * in the host's namespaces and with the caller's credentials, through a short
 * /proc/self/fd/<dir>/<name> path (sun_path holds 108 bytes; state paths can be longer). */
static int listen_start_socket(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (!slash || !*base)
		die("bind start socket '%s': not an absolute file path", path);
	*slash = 0;
	int dfd = openat(AT_FDCWD, *dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		die_errno("open '%s'", *dir ? dir : "/");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd, base) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		die_errno("bind start socket '%s'", path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die_errno("socket");
	/* Only its owner may connect (connect needs write permission on the socket file). */
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (r < 0)
		die_errno("bind start socket '%s'", path);
	if (listen(fd, 8) < 0)
		die_errno("listen on start socket '%s'", path);
	close(dfd);
	free(dir);
	return fd;
}

/* berth:[0:JOIN] — forked by the parent stage. It keeps only what the init stage may hold
 * (stdio, preserved fds, sockets) and the namespace fds it joins, so no host fd can ever be
 * inherited into the container's pid namespace; joins the namespaces (user first), makes the
 * time namespace, clones the init stage as the parent stage's child (CLONE_PARENT), tells the
 * parent stage its pid and exits. */
/* Closes every fd but what the init stage may hold (stdio, preserved fds, sockets) and the
 * namespace fds still to be joined. */
static void keep_only_init_fds(struct plan *p, int *nsfd, int sock, int console, int listenfd)
{
	size_t nkeep = 0, cap = (size_t)p->preserve_fds + p->joins.n + 8;
	int *keep = xmalloc(cap * sizeof *keep);
	for (int fd = 0; fd < 3 + p->preserve_fds; fd++)
		keep[nkeep++] = fd;
	keep[nkeep++] = g_sync;
	keep[nkeep++] = sock;
	keep[nkeep++] = console;
	keep[nkeep++] = listenfd;
	for (size_t i = 0; i < p->joins.n; i++)
		keep[nkeep++] = nsfd[i];
	close_all_but(keep, nkeep);
	free(keep);
}

/* Flags for the clone of the init stage: the new namespaces but the cgroup one (the init stage
 * unshares it once it is in its cgroups) and the time one (its flag is in the exit-signal byte). */
static unsigned long init_clone_flags(const struct plan *p)
{
	return (unsigned long)(p->ns_new & ~(CLONE_NEWCGROUP | CLONE_NEWTIME));
}

/* The join stage is needed to enter existing namespaces, and for a user namespace (whose
 * dumpable dance and maps are done around it) or a time namespace (entered by that stage). */
static bool needs_join_stage(const struct plan *p)
{
	return p->joins.n > 0 || (p->ns_new & (CLONE_NEWUSER | CLONE_NEWTIME));
}

static _Noreturn void join_stage(struct plan *p, int *nsfd, int sock, int console, int listenfd, const sigset_t *mask)
{
	set_title("berth:[0:JOIN]");
	g_child = 0;
	g_on_die = NULL;
	keep_only_init_fds(p, nsfd, sock, console, listenfd);

	/* The user namespace first: it grants the rights to join the others. */
	for (int pass = 0; pass < 2; pass++) {
		/* clone() cannot create a time namespace (its flag is in the exit-signal byte): the
		 * child enters ours. Made before a mount namespace is joined, so that /proc/self
		 * is still ours to write the offsets to. */
		if (pass == 1 && (p->ns_new & CLONE_NEWTIME))
			set_time_offsets(p);
		for (size_t i = 0; i < p->joins.n; i++) {
			struct nsjoin *j = &p->joins.v[i];
			if ((pass == 0) != (j->flag == CLONE_NEWUSER))
				continue;
			if (setns(nsfd[i], j->flag) < 0)
				die_errno("setns %s '%s'", j->type, j->path);
			close(nsfd[i]);
		}
	}

	/* Not being root, the parent stage may only write the maps of (and newuidmap only accepts)
	 * a process whose /proc files we own: the init stage is born dumpable, and turns
	 * non-dumpable again as soon as it gets the go, i.e. once its maps are written (runc does
	 * the same). */
	if ((p->ns_new & CLONE_NEWUSER) && geteuid() != 0 && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		die_errno("prctl PR_SET_DUMPABLE");

	/* Fork-style raw clone: new namespaces at once, no stack to manage. CLONE_PARENT: the init
	 * stage is the parent stage's child, which reaps it and forwards signals to it. The child
	 * must not use raise()/abort(), which rely on glibc's cached thread id. */
	pid_t child = (pid_t)syscall(SYS_clone, init_clone_flags(p) | CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (child < 0)
		die_errno("clone");
	if (child == 0)
		init_stage(p, sock, console, listenfd, mask);
	if (write_all(sock, &child, sizeof child) < 0)
		die_errno("report the init stage's pid");
	_exit(0);
}

/* The cgroup.procs files the init stage's pid goes into, opened with the host's view. */
static void open_cgroup_procs(struct plan *p, int *cgfd)
{
	for (size_t i = 0; i < p->cgroup_procs.n; i++)
		if ((cgfd[i] = openat(AT_FDCWD, p->cgroup_procs.v[i], O_WRONLY | O_CLOEXEC)) < 0)
			die_errno("open '%s'", p->cgroup_procs.v[i]);
}

void parent_stage(struct plan *p)
{
	set_title("berth:[0:PARENT]");
	/* Non-dumpable (inherited by the other stages until the execve). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("prctl PR_SET_DUMPABLE");

	/* Everything named by a host path is opened here, in the host's namespaces, and only the
	 * namespace fds and sockets go on to the join stage: the host's /proc and the cgroup.procs
	 * files stay in this process, which never enters the container's pid namespace. */
	int *nsfd = xmalloc((p->joins.n + 1) * sizeof *nsfd);
	for (size_t i = 0; i < p->joins.n; i++)
		if ((nsfd[i] = openat(AT_FDCWD, p->joins.v[i].path, O_RDONLY | O_CLOEXEC)) < 0)
			die_errno("open %s namespace '%s'", p->joins.v[i].type, p->joins.v[i].path);
	int procfd = openat(AT_FDCWD, "/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		die_errno("open '/proc'");
	int console = p->console_socket ? connect_console(p->console_socket) : -1;
	int listenfd = p->start_socket ? listen_start_socket(p->start_socket) : -1;

	/* Inherited by the other stages; written here with the host's privileges, as runc does. */
	if (p->has_oom) {
		char text[16];
		snprintf(text, sizeof text, "%d", p->oom);
		if (write_file_at(procfd, "self/oom_score_adj", text) < 0)
			die_errno("write '/proc/self/oom_score_adj'");
	}

	/* With `cgroups-wait 1` the caller makes the cgroups while this helper starts, and says
	 * `cgroups` once they exist. Early clone: when the init stage is our own child and nothing
	 * else can come on the channel before it says `created` (no hooks), the init stage is
	 * cloned first and opens the rootfs (its overlay mount) while we wait for that line, which
	 * was the start's critical path (0.5–0.8 ms here). Not when the line, or part of it, is
	 * already in our read-ahead: the init stage would inherit that copy and read it later. */
	p->early_clone = p->cgroups_wait && !p->sync_hooks && !needs_join_stage(p) && !sync_read_ahead();
	if (p->cgroups_wait && !p->early_clone)
		expect_line("cgroups");
	int *cgfd = xmalloc((p->cgroup_procs.n + 1) * sizeof *cgfd);
	if (!p->early_clone)
		open_cgroup_procs(p, cgfd);

	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		die_errno("socketpair");
	/* With wait 1 every signal is taken through a signalfd and forwarded. Blocked before the
	 * fork so none is lost in between; the init stage restores the mask. */
	sigset_t all, old;
	sigfillset(&all);
	if (p->wait && sigprocmask(SIG_BLOCK, &all, &old) < 0)
		die_errno("sigprocmask");
	if (!p->wait)
		sigprocmask(SIG_BLOCK, NULL, &old);

	pid_t child = -1, joiner = -1;
	if (!needs_join_stage(p)) {
		/* Nothing to join, no user or time namespace: the join stage would only clone, so this
		 * stage clones the init stage itself (one fork less per container). The init stage
		 * closes what it must not hold (the host's /proc, the cgroup.procs files) before
		 * anything else; until then it is alone in its new pid namespace, non-dumpable, or, in
		 * the host's pid namespace, no more visible than this stage which holds the same fds. */
		child = (pid_t)syscall(SYS_clone, init_clone_flags(p) | SIGCHLD, 0, 0, 0, 0);
		if (child < 0)
			die_errno("clone");
		if (child == 0) {
			g_child = 0;
			g_on_die = NULL;
			close(sp[0]);
			keep_only_init_fds(p, nsfd, sp[1], console, listenfd);
			init_stage(p, sp[1], console, listenfd, &old);
		}
	} else {
		joiner = fork();
		if (joiner < 0)
			die_errno("fork");
		if (joiner == 0) {
			close(sp[0]);
			join_stage(p, nsfd, sp[1], console, listenfd, &old);
		}
	}
	g_child = joiner >= 0 ? joiner : child;
	close(sp[1]);
	if (console >= 0)
		close(console);
	if (listenfd >= 0)
		close(listenfd);
	if (joiner >= 0) {
		for (size_t i = 0; i < p->joins.n; i++)
			close(nsfd[i]);
		int got = read_full(sp[0], &child, sizeof child);
		g_child = 0;
		int st;
		while (waitpid(joiner, &st, 0) < 0 && errno == EINTR)
			;
		if (got != 1) /* the join stage failed and said why */
			_exit(1);
		g_child = child;
	}

	if (p->early_clone) {
		expect_line("cgroups");
		open_cgroup_procs(p, cgfd);
	}
	if (p->ns_new & CLONE_NEWUSER)
		write_maps(p, procfd, child, &old);
	set_rlimits(p, child);
	char pidtext[16];
	snprintf(pidtext, sizeof pidtext, "%d", (int)child);
	for (size_t i = 0; i < p->cgroup_procs.n; i++) {
		if (write(cgfd[i], pidtext, strlen(pidtext)) < 0)
			die_errno("write '%s'", p->cgroup_procs.v[i]);
		close(cgfd[i]);
	}
	close(procfd);
	/* `pid` goes out before the go, so the init stage's lines can only come after it. */
	send_line("pid", pidtext);
	if (write_all(sp[0], &child, sizeof child) < 0)
		die_errno("start the init stage");
	/* From here the caller knows the pid and owns the container; a foreground (wait 1)
	 * parent still takes it down if it fails itself. */
	if (!p->wait)
		g_child = 0;
	close(g_sync);
	g_sync = -1;

	if (!p->wait) {
		char b;
		int fd;
		if (recv_fd(sp[0], &b, 1, &fd) == 1 && b == MSG_CREATED)
			_exit(0);
		waitpid(child, NULL, 0); /* it failed and said why on the sync fd */
		_exit(1);
	}
	int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sfd < 0)
		die_errno("signalfd");
	g_on_die = term_restore;
	wait_child(child, sp[0], sfd);
}
