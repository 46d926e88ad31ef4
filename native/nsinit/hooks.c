/* createContainer and startContainer hooks: run in the container's namespaces by the init
 * stage, with the OCI state on stdin. */
#include "nsinit.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void run_hook(const char *kind, struct hook *h, const char *state)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		die_errno("hook %s '%s': pipe", kind, h->path);
	pid_t c = fork();
	if (c < 0)
		die_errno("hook %s '%s': fork", kind, h->path);
	if (c == 0) {
		if (dup2(pfd[0], 0) < 0)
			_exit(127);
		reset_signals();
		execve(h->path, h->args.v, h->env.v);
		_exit(127);
	}
	close(pfd[0]);
	/* A hook need not read its stdin: EPIPE is fine (SIGPIPE is ignored here). The state is
	 * far below a pipe's capacity, so this cannot block the timeout below. */
	(void)write_all(pfd[1], state, strlen(state));
	close(pfd[1]);

	/* A pidfd gives a wait with a timeout without touching signal handlers. */
	int pidfd = (int)syscall(SYS_pidfd_open, c, 0), r = 1, st;
	if (pidfd >= 0 && h->timeout > 0) {
		struct pollfd pf = {.fd = pidfd, .events = POLLIN};
		do
			r = poll(&pf, 1, h->timeout * 1000);
		while (r < 0 && errno == EINTR);
	}
	if (pidfd >= 0)
		close(pidfd);
	if (r == 0)
		kill(c, SIGKILL);
	while (waitpid(c, &st, 0) < 0)
		if (errno != EINTR)
			die_errno("hook %s '%s': wait", kind, h->path);
	if (r == 0)
		die("hook %s '%s' timed out after %d seconds", kind, h->path, h->timeout);
	if (WIFEXITED(st) && WEXITSTATUS(st))
		die("hook %s '%s' exited with status %d", kind, h->path, WEXITSTATUS(st));
	if (WIFSIGNALED(st))
		die("hook %s '%s' killed by signal %d", kind, h->path, WTERMSIG(st));
}

void run_hooks(struct plan *p, enum hook_kind kind, pid_t pid)
{
	const char *name = kind == HOOK_CREATE_CONTAINER ? "createContainer" : "startContainer";
	for (size_t i = 0; i < p->hooks.n; i++) {
		if (p->hooks.v[i].kind != kind)
			continue;
		char *state = xasprintf("%s,\"pid\":%d}", p->hook_state, (int)pid);
		run_hook(name, &p->hooks.v[i], state);
		free(state);
	}
}
