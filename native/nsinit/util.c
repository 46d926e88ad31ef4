#include "util.h"
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int g_sync = -1;
int g_status = -1;
pid_t g_child = 0;
int g_die_status = 1;
void (*g_on_die)(void);

#include "errno-texts.h" /* glibc's texts, generated at build time (native/tools/errno-texts.c) */

const char *errno_text(int err)
{
	static char buf[256];
	/* glibc's words whichever libc this is built with: they are Go's, so runc's */
	if (err >= 0 && (size_t)err < sizeof errno_texts / sizeof *errno_texts)
		snprintf(buf, sizeof buf, "%s", errno_texts[err]);
	else
		snprintf(buf, sizeof buf, "%s", strerror(err));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z') && buf[1] != '/')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* `error <errno> <message>`: the errno (0 when no syscall failed) lets the caller say what
 * kind of failure it was (docs/plan-format.md). With `append`, ": <errno_text>" ends the message. */
static _Noreturn void vdie(int err, int append, const char *fmt, va_list ap)
{
	char msg[4096];
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0)
		n = 0;
	if (append && err && (size_t)n < sizeof msg)
		snprintf(msg + n, sizeof msg - n, ": %s", errno_text(err));
	/* Nothing half-made is left behind: the parent owns the init stage until `pid` is out. */
	if (g_child > 0) {
		kill(g_child, SIGKILL);
		waitpid(g_child, NULL, 0);
	}
	if (g_on_die)
		g_on_die();
	char code[16];
	snprintf(code, sizeof code, "%d", err);
	if (g_status >= 0)
		send_line2_fd(g_status, "error", code, msg);
	if (g_sync >= 0)
		send_line2_fd(g_sync, "error", code, msg);
	else if (g_status < 0)
		dprintf(2, "berth-nsinit: %s\n", msg);
	_exit(g_die_status);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdie(0, 0, fmt, ap);
}

void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vdie(err, 1, fmt, ap);
}

void die_code(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdie(err, 0, fmt, ap);
}

void *xmalloc(size_t n)
{
	return xrealloc(NULL, n);
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

char *xasprintf(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return s;
}

/* Writes the encoded field at `o` (room for 3 * strlen(s) + 3 bytes); returns its end. */
static char *field_encode(char *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!*s || !strcmp(s, "-"))
		return stpcpy(o, *s ? "%2D" : "-");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= 0x20 || *p == '%' || *p >= 0x7f) {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		} else {
			*o++ = (char)*p;
		}
	}
	*o = 0;
	return o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int field_decode(char *s)
{
	if (!strcmp(s, "-")) {
		*s = 0;
		return 0;
	}
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
		if (lo < 0)
			return -1;
		*o++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*o = 0;
	return 0;
}

void send_line(const char *name, const char *field)
{
	send_line_fd(g_sync, name, field);
}

void send_line_fd(int fd, const char *name, const char *field)
{
	send_line2_fd(fd, name, field, NULL);
}

void send_line2_fd(int fd, const char *name, const char *f1, const char *f2)
{
	/* No allocation for error lines (die() may be reporting that memory ran out). */
	char small[16384];
	size_t n = strlen(name) + (f1 ? 3 * strlen(f1) + 4 : 0) + (f2 ? 3 * strlen(f2) + 4 : 0) + 2;
	char *line = n <= sizeof small ? small : xmalloc(n);
	char *o = stpcpy(line, name);
	for (const char *f = f1; f; f = f == f1 ? f2 : NULL) {
		*o++ = ' ';
		o = field_encode(o, f);
	}
	*o++ = '\n';
	/* One write per line so lines from two stages never interleave; if the caller is gone
	 * there is nobody left to tell. */
	(void)write_all(fd, line, (size_t)(o - line));
	if (line != small)
		free(line);
}

static char *rbuf;
static size_t rlen, rcap, rpos;

int sync_read_ahead(void)
{
	return rlen > rpos;
}

char *read_line(void)
{
	for (;;) {
		char *nl = rlen > rpos ? memchr(rbuf + rpos, '\n', rlen - rpos) : NULL;
		if (nl) {
			char *line = rbuf + rpos;
			*nl = 0;
			rpos = nl - rbuf + 1;
			return line;
		}
		if (rpos > 0) { /* compact: the current line starts at 0 */
			memmove(rbuf, rbuf + rpos, rlen - rpos);
			rlen -= rpos;
			rpos = 0;
		}
		if (rcap - rlen < 65536) {
			rcap = rcap * 2 + 65536;
			rbuf = xrealloc(rbuf, rcap);
		}
		ssize_t n = read(g_sync, rbuf + rlen, rcap - rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read sync fd");
		if (n == 0)
			return NULL;
		rlen += n;
	}
}

void expect_line(const char *word)
{
	char *l = read_line();
	if (!l)
		die("sync: caller closed the channel while waiting for '%s'", word);
	if (strcmp(l, word))
		die("sync: expected '%s', got '%.64s'", word, l);
}

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

int read_full(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		p += r;
		n -= r;
	}
	return 1;
}

int write_file_at(int dirfd, const char *path, const char *data)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Kernel files like uid_map take their whole content in one write. */
	ssize_t n = write(fd, data, strlen(data));
	int err = errno;
	close(fd);
	if (n < 0 || (size_t)n != strlen(data)) {
		errno = n < 0 ? err : EIO;
		return -1;
	}
	return 0;
}

int send_fd(int sock, int fd, const char *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

ssize_t recv_fd(int sock, char *buf, size_t len, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	ssize_t n;
	*fd = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

static char *title_buf;
static size_t title_len;

void title_init(int argc, char **argv)
{
	/* argv strings are contiguous; their whole area is what ps shows. */
	if (argc < 1)
		return;
	title_buf = argv[0];
	title_len = argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0];
}

void set_title(const char *title)
{
	prctl(PR_SET_NAME, title, 0, 0, 0); /* comm keeps 15 bytes */
	if (title_buf && title_len > 1) {
		memset(title_buf, 0, title_len);
		strncpy(title_buf, title, title_len - 1);
	}
}

int sys_close_range(unsigned first, unsigned last, unsigned flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

/* The signals ignored when this process started (SigIgn of /proc/self/status), plus the ones
 * we ignore ourselves: only an ignored disposition survives execve (a handler is reset by it),
 * so these are all the container's process could inherit. Three system calls where resetting
 * every signal costs 62, on each start's critical path. All of them when /proc cannot say. */
static unsigned long long ignored_signals = ~0ULL;

void note_ignored_signals(void)
{
	char buf[4096];
	int fd = openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	const char *line = strstr(buf, "\nSigIgn:");
	char *end;
	if (!line)
		return;
	unsigned long long mask = strtoull(line + 8, &end, 16);
	if (end != line + 8 && *end == '\n')
		ignored_signals = mask;
}

void ignore_signal(int sig)
{
	signal(sig, SIG_IGN);
	ignored_signals |= 1ULL << (sig - 1);
}

void reset_signals(void)
{
	/* the kernel's struct sigaction (x86-64, arm64): handler, flags, restorer, mask */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask;
	} dfl = {SIG_DFL, 0, NULL, 0};
	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || !(ignored_signals & (1ULL << (sig - 1))))
			continue;
		(void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
	}
}
