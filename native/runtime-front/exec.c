/* exec of a command into a running container, in the foreground and without flags
 * (`exec <id> <command> [args…]`), carried out in C: the plan is the one the Node runtime wrote
 * for such an exec when it created the container (exec.ts's writeExecTemplate: the container's
 * own process, as runc composes it), with the command filled in. berth-nsinit is run as
 * the Node runtime runs it (launcher/nsinit.ts): a new session, stdio inherited, the plan on a
 * socketpair at fd 3, `pid` and `created` read back, `start` sent, signals forwarded, its exit
 * status passed on. Until `start` is sent nothing of the command has run: any surprise before it
 * kills berth-nsinit and hands the exec to Node, which runs it and says what went wrong. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "front.h"

#define TEMPLATE "exec.plan"
#define ARGS_LINE "@args"
#define MAX_TEMPLATE (4 << 20)

struct text {
	char *data;
	size_t len, cap;
};

static bool put(struct text *t, const char *s, size_t n) {
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 8192;
		while (cap < t->len + n + 1) cap *= 2;
		char *bigger = realloc(t->data, cap);
		if (!bigger) return false;
		t->data = bigger;
		t->cap = cap;
	}
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
	return true;
}

/* encode.ts's encodeField: bytes <= 0x20, '%' and >= 0x7f as %XX; '' as '-', '-' as %2D */
static bool put_field(struct text *t, const char *s) {
	if (!*s) return put(t, "-", 1);
	if (!strcmp(s, "-")) return put(t, "%2D", 3);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		char hex[4];
		if (*c <= 0x20 || *c == 0x25 || *c >= 0x7f) {
			snprintf(hex, sizeof hex, "%%%02X", *c);
			if (!put(t, hex, 3)) return false;
		} else if (!put(t, (const char *)c, 1))
			return false;
	}
	return true;
}

/* The template with `arg` records for argv in place of its one `@args` line; false if it has not exactly one. */
static bool fill(const char *tpl, size_t len, char **argv, int argc, struct text *plan) {
	const char *at = NULL;
	for (const char *line = tpl; line < tpl + len;) {
		const char *eol = memchr(line, '\n', (size_t)(tpl + len - line));
		size_t n = eol ? (size_t)(eol - line) : (size_t)(tpl + len - line);
		if (n == strlen(ARGS_LINE) && !memcmp(line, ARGS_LINE, n)) {
			if (at) return false;
			at = line;
		}
		line += n + 1;
	}
	if (!at) return false;
	const char *rest = at + strlen(ARGS_LINE) + 1;
	if (!put(plan, tpl, (size_t)(at - tpl))) return false;
	for (int i = 0; i < argc; i++)
		if (!put(plan, "arg ", 4) || !put_field(plan, argv[i]) || !put(plan, "\n", 1)) return false;
	return rest <= tpl + len ? put(plan, rest, (size_t)(tpl + len - rest)) : true;
}

/* Signals forwarded to berth-nsinit's parent stage, which forwards them to the process
 * (context.ts's FORWARDED). */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
static volatile pid_t helper;

static void forward(int sig) {
	if (helper > 0) kill(helper, sig);
}

/* Reads one line from the sync socket (without its '\n'); false at EOF or on an error. */
static bool read_line(int fd, char *buf, size_t cap) {
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return false;
		if (c == '\n') break;
		if (n + 1 < cap) buf[n++] = c;
	}
	buf[n] = '\0';
	return true;
}

static int exit_status(int status) {
	return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

static void reap(pid_t pid, int *status) {
	while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
	}
}

int fast_exec(const struct globals *g, const char *id, int argc, char **argv) {
	/* exec.ts: not stopped, not creating, not paused */
	int dirfd;
	struct record *r = load_live(g, id, &dirfd);
	if (!r) return FALLBACK;
	bool ok = !record_frozen(r);
	free(r);
	size_t tlen = 0;
	char *tpl = ok ? read_file_at(dirfd, TEMPLATE, MAX_TEMPLATE, &tlen) : NULL;
	close(dirfd);
	struct text plan = {0};
	if (!tpl || !fill(tpl, tlen, argv, argc, &plan)) {
		free(tpl);
		free(plan.data);
		return FALLBACK;
	}
	free(tpl);

	char exe[PATH_MAX], nsinit[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		free(plan.data);
		return FALLBACK;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash) *slash = '\0';
	snprintf(nsinit, sizeof nsinit, "%s/berth-nsinit", exe);

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		free(plan.data);
		return FALLBACK;
	}
	/* signals wait while the helper is spawned, then are forwarded to it */
	sigset_t all, old;
	sigemptyset(&all);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&all, forwarded[i]);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		/* as the addon's spawnHelper: default dispositions, an empty mask, a session of its own */
		for (int s = 1; s < 65; s++) signal(s, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		if (sv[1] == 3)
			fcntl(3, F_SETFD, 0);
		else if (dup2(sv[1], 3) < 0)
			_exit(127);
		execl(nsinit, "berth-nsinit", "3", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(sv[0]);
		free(plan.data);
		return FALLBACK;
	}
	helper = pid;
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &(struct sigaction){.sa_handler = forward, .sa_flags = SA_RESTART}, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* the plan whole (berth-nsinit reads all of it before it says anything), then pid, created */
	char line[8192];
	bool created = false;
	size_t off = 0;
	while (off < plan.len) {
		ssize_t w = send(sv[0], plan.data + off, plan.len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) break;
		off += (size_t)w;
	}
	free(plan.data);
	if (off == plan.len && read_line(sv[0], line, sizeof line) && !strncmp(line, "pid ", 4) && read_line(sv[0], line, sizeof line) &&
	    !strcmp(line, "created"))
		created = true;
	int status;
	if (!created || send(sv[0], "start\n", 6, MSG_NOSIGNAL) != 6) {
		/* nothing of the command has run: Node runs the exec and tells what went wrong */
		kill(pid, SIGKILL);
		reap(pid, &status);
		close(sv[0]);
		helper = 0;
		return FALLBACK;
	}
	/* EOF: the process exec'd; an `error` line first: it did not */
	bool failed = read_line(sv[0], line, sizeof line) && !strncmp(line, "error ", 6);
	close(sv[0]);
	reap(pid, &status);
	helper = 0;
	if (failed) {
		report_error_line(g, line, strlen(line));
		return 1;
	}
	return exit_status(status);
}
