/* start, carried out in C: the same steps as the Node runtime's start.ts, for a container whose
 * record says it needs nothing more (no poststart hooks). The checks come first and change
 * nothing; where one does not hold, the verb goes to Node, which gives runc's answer. After the
 * start socket is claimed, a failure to connect puts the socket back before handing over. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "front.h"

#define START_SOCKET "exec.sock"

/* The first line of `text` that starts with "error " (start.ts's /^error .*$/m), reported as
 * start.ts reports it: nsinit's own message, or a malformed line quoted. */
bool report_error_line(const struct globals *g, const char *text, size_t len) {
	const char *line = text, *end = text + len;
	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol) eol = end;
		if (eol - line >= 6 && !memcmp(line, "error ", 6)) {
			/* parseErrorLine: the fields between spaces; errno is the second, the message the third */
			const char *code = line + 6, *code_end = memchr(code, ' ', (size_t)(eol - code));
			if (!code_end) code_end = eol;
			const char *msg = code_end < eol ? code_end + 1 : eol, *msg_end = memchr(msg, ' ', (size_t)(eol - msg));
			if (!msg_end) msg_end = eol;
			char errno_text[64], message[8192];
			decode_field(code, (size_t)(code_end - code), errno_text, sizeof errno_text);
			/* Number('') is 0: an empty errno is well formed */
			bool digits = true;
			for (const char *d = errno_text; *d; d++)
				if (*d < '0' || *d > '9') digits = false;
			if (!digits) {
				snprintf(message, sizeof message, "nsinit: malformed error line '%.*s'", (int)(eol - line), line);
			} else {
				decode_field(msg, (size_t)(msg_end - msg), message, sizeof message);
			}
			log_error(g, message);
			return true;
		}
		line = eol + 1;
	}
	return false;
}

int fast_start(const struct globals *g, const char *id) {
	int dirfd;
	struct record *r = load_live(g, id, &dirfd);
	if (!r) return FALLBACK;
	/* what start.ts checks: created (init alive, not paused, the socket there), a process to start */
	bool ok = r->has_process && !r->poststart && !record_frozen(r);
	free(r);
	if (!ok) {
		close(dirfd);
		return FALLBACK;
	}

	/* Claim the socket: of racing starts exactly one renames it. Random, as start.ts's name. */
	unsigned int rnd = 0;
	if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) rnd = (unsigned int)getpid();
	char claimed[64];
	snprintf(claimed, sizeof claimed, START_SOCKET ".%x", rnd & 0xffffff);
	if (renameat(dirfd, START_SOCKET, dirfd, claimed) != 0) {
		close(dirfd);
		return FALLBACK;
	}
	/* sun_path holds 108 bytes and ids have up to 254 characters: connect through the directory */
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, claimed);
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
		/* The init stage is gone, or something else is wrong: nothing was said to it yet, so the
		 * socket goes back and Node tells which. */
		if (sock >= 0) close(sock);
		renameat(dirfd, claimed, dirfd, START_SOCKET);
		close(dirfd);
		return FALLBACK;
	}

	/* The connection tells how it went: EOF alone when the exec happened (the init stage holds
	 * it close-on-exec), an `error` line first when a hook or the exec failed. A reset or a
	 * closed pipe means it exec'd (or died) before reading everything: the outcome so far stands. */
	char outcome[16384];
	size_t len = 0;
	if (send(sock, "start\n", 6, MSG_NOSIGNAL) == 6) shutdown(sock, SHUT_WR);
	for (;;) {
		ssize_t n = read(sock, outcome + len, sizeof outcome - 1 - len);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) break;
		len += (size_t)n;
		if (len == sizeof outcome - 1) {
			/* keep reading to EOF; what fits is what is reported */
			char sink[4096];
			for (;;) {
				ssize_t m = read(sock, sink, sizeof sink);
				if (m > 0 || (m < 0 && errno == EINTR)) continue;
				break;
			}
			break;
		}
	}
	close(sock);
	unlinkat(dirfd, claimed, 0);
	close(dirfd);
	outcome[len] = '\0';
	return report_error_line(g, outcome, len) ? 1 : 0;
}
