/* berth-nsinit run as the Node runtime runs it (launcher/nsinit.ts), for the front's exec and
 * run: a new session, default signal dispositions, stdio inherited, the plan written whole on a
 * socketpair at fd 3, then the sync messages read line by line; SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2 and SIGWINCH of the front forwarded to it (context.ts's FORWARDED), which
 * forwards them to the container's process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "front.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
static volatile pid_t helper;

static void forward(int sig) {
	if (helper > 0) kill(helper, sig);
}

void helper_hold_signals(sigset_t *saved) {
	sigset_t all;
	sigemptyset(&all);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&all, forwarded[i]);
	sigprocmask(SIG_BLOCK, &all, saved);
}

int helper_release_signals(const sigset_t *saved, bool started) {
	int sig = 0;
	sigset_t pending;
	if (!started && sigpending(&pending) == 0)
		for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0] && !sig; i++)
			if (forwarded[i] != SIGWINCH && sigismember(&pending, forwarded[i])) sig = forwarded[i];
	/* what is pending is delivered now: forwarded to a running helper, or dropped (none left) */
	sigprocmask(SIG_SETMASK, saved, NULL);
	return sig;
}

bool exe_dir(char *out, size_t cap) {
	ssize_t n = readlink("/proc/self/exe", out, cap - 1);
	if (n <= 0) return false;
	out[n] = '\0';
	char *slash = strrchr(out, '/');
	if (!slash) return false;
	*slash = '\0';
	return true;
}

bool helper_spawn(const char *plan, size_t len, struct helper *h) {
	char dir[PATH_MAX], nsinit[PATH_MAX + 16];
	if (!exe_dir(dir, sizeof dir)) return false;
	snprintf(nsinit, sizeof nsinit, "%s/berth-nsinit", dir);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
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
		return false;
	}
	helper = pid;
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &(struct sigaction){.sa_handler = forward, .sa_flags = SA_RESTART}, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	h->pid = pid;
	h->sock = sv[0];
	/* the plan whole: berth-nsinit reads all of it before it says anything */
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(h->sock, plan + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) break;
		off += (size_t)w;
	}
	if (off < len) {
		helper_kill(h);
		return false;
	}
	return true;
}

bool helper_read_line(const struct helper *h, char *buf, size_t cap) {
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(h->sock, &c, 1);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return false;
		if (c == '\n') break;
		if (n + 1 < cap) buf[n++] = c;
	}
	buf[n] = '\0';
	return true;
}

bool helper_send(const struct helper *h, const char *line) {
	size_t n = strlen(line);
	return send(h->sock, line, n, MSG_NOSIGNAL) == (ssize_t)n;
}

void helper_close(struct helper *h) {
	if (h->sock >= 0) close(h->sock);
	h->sock = -1;
}

int helper_wait(struct helper *h) {
	int status = 0;
	helper_close(h);
	while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR) {
	}
	helper = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

void helper_kill(struct helper *h) {
	kill(h->pid, SIGKILL);
	helper_wait(h);
}
