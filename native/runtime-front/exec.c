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

	struct helper h;
	sigset_t saved;
	helper_hold_signals(&saved);
	bool spawned = helper_spawn(plan.data, plan.len, &h);
	free(plan.data);
	char line[8192];
	if (!spawned || !(helper_read_line(&h, line, sizeof line) && !strncmp(line, "pid ", 4) && helper_read_line(&h, line, sizeof line) &&
			  !strcmp(line, "created") && helper_send(&h, "start\n"))) {
		/* nothing of the command has run: Node runs the exec and tells what went wrong,
		 * unless we were told to stop meanwhile */
		if (spawned) helper_kill(&h);
		int sig = helper_release_signals(&saved, false);
		return sig ? 128 + sig : FALLBACK;
	}
	helper_release_signals(&saved, true);
	/* EOF: the process exec'd; an `error` line first: it did not */
	bool failed = helper_read_line(&h, line, sizeof line) && !strncmp(line, "error ", 6);
	int status = helper_wait(&h);
	if (failed) {
		report_error_line(g, line, strlen(line));
		return 1;
	}
	return status;
}
