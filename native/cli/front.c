/*
 * berth: the `berth` command's front. Node's own start-up (~35 ms, ~38 MiB here) costs more
 * than the whole docker CLI, so, when berthd runs, this small static program hands the command
 * to berthd's CLI host (src/engine/cli-host/), which runs the same TypeScript command in a
 * worker thread that is already warm: argv, environment and working directory in one request,
 * and this process's stdin, stdout and stderr passed along (SCM_RIGHTS), so the command reads
 * and writes them directly. This process stays until the command ends: it forwards the
 * signals it receives (`sig N` lines), and exits with the command's status (`exit N`) or dies
 * by the signal the command died by (`die N`), restoring the terminal's settings on every path.
 *
 * Anything else runs `dist/berth.cjs` (Node) in this process's place, as before: not root, no
 * berthd or no CLI host listening, BERTH_NO_CLI_HOST set, a host that answers `fallback` (a
 * command for another daemon, a caller it does not serve), or any error before the request is
 * sent. The request format: src/engine/cli-host/request.ts; docs/cli.md "The front and
 * berthd's CLI host".
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/berth/cli.sock"
#define MAGIC "berth-cli 1"
#define MAX_REQUEST (1u << 20)

extern char **environ;

/* Signals the command hears (its sig-proxy, `events`, the raw terminal's restore); SIGWINCH
 * resizes. SIGTSTP/SIGCONT keep their defaults: ctrl-z stops this process, as for any program. */
static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR2, SIGALRM, SIGWINCH};
#define NFORWARDED (sizeof FORWARDED / sizeof FORWARDED[0])

static int tty_fd = -1;
static struct termios tty_saved;

static void restore_terminal(void) {
	struct termios now;
	if (tty_fd < 0 || tcgetattr(tty_fd, &now) != 0) return;
	/* only when changed: a background job touching its terminal would be stopped (SIGTTOU) */
	if (memcmp(&now, &tty_saved, sizeof now) != 0) tcsetattr(tty_fd, TCSANOW, &tty_saved);
}

/* Runs the Node CLI in this process's place: dist/berth.cjs beside native/build/. */
static void __attribute__((noreturn)) fallback(char **argv, const sigset_t *old_mask) {
	if (old_mask) sigprocmask(SIG_SETMASK, old_mask, NULL);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		fprintf(stderr, "berth: readlink '/proc/self/exe': %s\n", strerror(errno));
		exit(125);
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash) *slash = '\0';
	char script[PATH_MAX + 32];
	snprintf(script, sizeof script, "%s/../../dist/berth.cjs", exe);
	execv(script, argv);
	fprintf(stderr, "berth: exec '%s': %s\n", script, strerror(errno));
	exit(125);
}

struct buf {
	char *data;
	size_t len, cap;
};

static int put(struct buf *b, const char *s) {
	size_t n = strlen(s) + 1;
	if (b->len + n > MAX_REQUEST + 4) return -1;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n) cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d) return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return 0;
}

static int build_request(struct buf *b, int argc, char **argv) {
	char cwd[PATH_MAX], count[16];
	if (!getcwd(cwd, sizeof cwd)) return -1;
	b->cap = 4096;
	b->data = malloc(b->cap);
	if (!b->data) return -1;
	b->len = 4; /* the length, filled in below */
	if (put(b, MAGIC) < 0 || put(b, cwd) < 0) return -1;
	snprintf(count, sizeof count, "%d", argc - 1);
	if (put(b, count) < 0) return -1;
	for (int i = 1; i < argc; i++)
		if (put(b, argv[i]) < 0) return -1;
	size_t envc = 0;
	for (char **e = environ; *e; e++) envc++;
	snprintf(count, sizeof count, "%zu", envc);
	if (put(b, count) < 0) return -1;
	for (char **e = environ; *e; e++)
		if (put(b, *e) < 0) return -1;
	uint32_t body = (uint32_t)(b->len - 4);
	memcpy(b->data, &body, 4); /* little-endian: x86-64 and arm64 */
	return 0;
}

/* The request, with fds 0, 1 and 2 on its first bytes. */
static int send_request(int sock, const struct buf *b) {
	int fds[3] = {0, 1, 2};
	union {
		char bytes[CMSG_SPACE(sizeof fds)];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof control);
	struct iovec iov = {.iov_base = b->data, .iov_len = b->len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(c), fds, sizeof fds);
	ssize_t n;
	do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n <= 0) return -1;
	for (size_t off = (size_t)n; off < b->len;) {
		ssize_t k = send(sock, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR) continue;
		if (k <= 0) return -1;
		off += (size_t)k;
	}
	return 0;
}

static void __attribute__((noreturn)) die_by(int sig) {
	restore_terminal();
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(sig, SIG_DFL);
	raise(sig); /* pending until unblocked */
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	_exit(128 + sig); /* a signal whose default is not to end a process */
}

int main(int argc, char **argv) {
	const char *no_host = getenv("BERTH_NO_CLI_HOST");
	if ((no_host && *no_host) || geteuid() != 0) fallback(argv, NULL);
	const char *path = getenv("BERTH_CLI_SOCKET");
	if (!path || !*path) path = DEFAULT_SOCKET;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path) fallback(argv, NULL);
	strcpy(addr.sun_path, path);
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) fallback(argv, NULL);

	struct buf req;
	if (build_request(&req, argc, argv) < 0) fallback(argv, NULL);

	/* the signals wait in a signalfd from here on; fallback puts the mask back before exec */
	sigset_t forwarded, old_mask;
	sigemptyset(&forwarded);
	for (size_t i = 0; i < NFORWARDED; i++) sigaddset(&forwarded, FORWARDED[i]);
	sigprocmask(SIG_BLOCK, &forwarded, &old_mask);
	int sfd = signalfd(-1, &forwarded, SFD_CLOEXEC);
	if (sfd < 0) fallback(argv, &old_mask);
	signal(SIGPIPE, SIG_IGN);

	for (int fd = 0; fd <= 2 && tty_fd < 0; fd++)
		if (isatty(fd) && tcgetattr(fd, &tty_saved) == 0) tty_fd = fd;

	if (send_request(sock, &req) < 0) {
		close(sfd);
		signal(SIGPIPE, SIG_DFL);
		fallback(argv, &old_mask);
	}
	free(req.data);

	char line[128];
	size_t have = 0;
	for (;;) {
		struct pollfd p[2] = {{.fd = sock, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR) continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				char msg[32];
				int n = snprintf(msg, sizeof msg, "sig %u\n", si.ssi_signo);
				/* a lost signal line (the host is gone) shows up as EOF below */
				if (send(sock, msg, (size_t)n, MSG_NOSIGNAL) < 0) {}
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t k = read(sock, line + have, sizeof line - 1 - have);
			if (k <= 0) break;
			have += (size_t)k;
			line[have] = '\0';
			char *nl = strchr(line, '\n');
			if (!nl) {
				if (have >= sizeof line - 1) break;
				continue;
			}
			*nl = '\0';
			int v;
			if (sscanf(line, "exit %d", &v) == 1) {
				restore_terminal();
				exit(v & 0xff);
			}
			if (sscanf(line, "die %d", &v) == 1 && v > 0 && v < 65) die_by(v);
			if (strcmp(line, "fallback") == 0) {
				close(sock);
				close(sfd);
				signal(SIGPIPE, SIG_DFL);
				fallback(argv, &old_mask);
			}
			break;
		}
	}
	restore_terminal();
	fprintf(stderr, "berth: berthd ended the command without a status (berthd stopped?)\n");
	exit(1);
}
