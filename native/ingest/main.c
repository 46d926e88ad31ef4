/*
 * berth-ingest: the byte path of a blob download, out of Node's thread.
 *
 *   berth-ingest [--sync-every BYTES] [--control FD]
 *       stdin: the blob's bytes   fd 3: the ingest's data file
 *
 * Reads stdin to its end, hashes it (sha256, libcrypto: SHA-NI where the CPU has it) and writes
 * it to fd 3 from offset 0 with pwrite. An apply that runs as the layer downloads reads that file
 * as it grows (berth-unpack --follow), not a copy from us: the download never waits for the
 * apply, and a speculative apply's failure costs it nothing. Every BYTES written (default 16 MiB)
 * it asks the kernel to start writing back what it has (sync_file_range), so that the fsync at
 * commit finds little left to do. It never fsyncs: committing is the content store's job.
 *
 * With --control, FD is a socket to Node on which Node can hand over a download's connection
 * (a plain-HTTP response whose headers Node has read): `take PID FD BYTES` asks for a copy of
 * fd FD of process PID (pidfd_getfd) and the next BYTES bytes read from it directly, after
 * whatever Node wrote to stdin before the command (the body bytes its HTTP parser had already
 * read). While reading it says `at N` (bytes so far: after the first read, then at most every 50 ms) and at the end `took
 * N` or `took N ERRNAME` (EOF: the connection ended early), or `refused ERRNAME` when it cannot
 * get the fd; `stop` from Node ends a take early. Node then resumes with a Range request and
 * stdin or another take: the hash, the file offset and apply's copy go on in this process.
 *
 * At the end it prints `ok bytes=N sha256=HEX` on stderr and exits 0. On failure it prints
 * `error ERRNAME - MESSAGE` (the line berth-unpack prints) and exits 1; what reached fd 3 is then
 * unknown, and the content store's next writer re-hashes it.
 *
 * Why a process: moving every byte through Node's thread (socket → hash → file write on the
 * thread pool → pipe to the decompressor) cost ~7 ms of CPU per MB there (docs/layer-apply.md);
 * with stdin, Node still moves the socket's bytes into a pipe (~5 ms of CPU per MB on a slow
 * day here: its HTTP parser, a buffer per 64 KiB read, the pipe write); with a take, none.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (1 << 20)

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);
	return name ? name : "EIO";
}

static void die(int err, const char *fmt, ...)
{
	fprintf(stderr, "error %s - ", errname(err));
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* the whole buffer to fd at pos; dies naming `what` */
static void pwrite_all(int fd, const char *buf, size_t n, uint64_t pos)
{
	while (n > 0) {
		ssize_t k = pwrite(fd, buf, n, (off_t)pos);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die(errno, "write blob at %llu: %s", (unsigned long long)pos, strerror(errno));
		buf += k;
		n -= (size_t)k;
		pos += (uint64_t)k;
	}
}

/* the blob so far: every byte read goes through consume() */
static struct {
	EVP_MD_CTX *md;
	char *buf;
	uint64_t total, synced, sync_every;
} blob;

static void consume(const char *buf, size_t n)
{
	if (EVP_DigestUpdate(blob.md, buf, n) != 1)
		die(EIO, "sha256 failed");
	pwrite_all(3, buf, n, blob.total);
	blob.total += n;
	if (blob.sync_every && blob.total - blob.synced >= blob.sync_every) {
		/* start writeback of what is written, without waiting for it */
		sync_file_range(3, (off_t)blob.synced, (off_t)(blob.total - blob.synced), SYNC_FILE_RANGE_WRITE);
		blob.synced = blob.total;
	}
}

/* one read of stdin into the blob: 1 when bytes came, 0 at its end */
static int read_stdin(void)
{
	for (;;) {
		ssize_t n = read(0, blob.buf, BUF_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(errno, "read: %s", strerror(errno));
		if (n > 0)
			consume(blob.buf, (size_t)n);
		return n > 0;
	}
}

static void say(int ctl, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	const char *p = line;
	while (n > 0) {
		ssize_t k = write(ctl, p, (size_t)n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die(errno, "write to Node: %s", strerror(errno));
		p += k;
		n -= (int)k;
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A control line that is not `take` while no take runs: `stop` (late, after a take ended by
 * itself) is nothing; anything else is Node and us out of step.
 */
static void take(int ctl, const char *cmd, int *stdin_open);

/* reads control lines; returns 0 when Node closed the socket */
static int control(int ctl, int *stdin_open, int in_take)
{
	static char line[256];
	static size_t len;
	ssize_t n = read(ctl, line + len, sizeof line - 1 - len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n < 0)
		die(errno, "read from Node: %s", strerror(errno));
	if (n == 0)
		return 0;
	len += (size_t)n;
	char *nl;
	int stop = 0;
	while ((nl = memchr(line, '\n', len)) != NULL) {
		/* the command leaves the buffer first: a take reads more control lines into it */
		char cmd[sizeof line];
		size_t used = (size_t)(nl + 1 - line);
		memcpy(cmd, line, used - 1);
		cmd[used - 1] = '\0';
		memmove(line, nl + 1, len - used);
		len -= used;
		if (strcmp(cmd, "stop") == 0)
			stop = 1;
		else if (!in_take && strncmp(cmd, "take ", 5) == 0)
			take(ctl, cmd + 5, stdin_open);
		else
			die(EPROTO, "unexpected command from Node: '%s'", cmd);
	}
	if (len == sizeof line - 1)
		die(EPROTO, "command from Node too long");
	return stop ? 2 : 1;
}

static void take(int ctl, const char *cmd, int *stdin_open)
{
	long long pid, fd;
	unsigned long long want;
	char extra;
	if (sscanf(cmd, "%lld %lld %llu %c", &pid, &fd, &want, &extra) != 3 || pid <= 0 || fd < 0 || fd > 0x7fffffff)
		die(EPROTO, "bad take command from Node: '%s'", cmd);
	/* the bytes Node wrote before the command come first: they are in stdin's buffer now */
	struct pollfd in = { .fd = 0, .events = POLLIN };
	while (*stdin_open && poll(&in, 1, 0) > 0) {
		if (!read_stdin())
			*stdin_open = 0;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	int sock = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
	if (sock < 0) {
		int err = errno;
		if (pidfd >= 0)
			close(pidfd);
		say(ctl, "refused %s\n", errname(err));
		return;
	}
	close(pidfd);
	/* Node's socket is non-blocking (the flag is the connection's, shared with Node's fd): poll */
	/* the first read is reported at once (a client's first progress), then at most every 50 ms */
	uint64_t got = 0, last = 0;
	/* why the take ended early: EOF, or an errno name */
	const char *why = NULL;
	while (got < want) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = ctl, .events = POLLIN } };
		/* Node's own deadline for an answer (http.ts): 60 s without a byte */
		int r = poll(p, 2, 60000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(errno, "poll: %s", strerror(errno));
		if (r == 0) {
			why = errname(ETIMEDOUT);
			break;
		}
		if (p[1].revents) {
			int c = control(ctl, stdin_open, 1);
			if (c == 0)
				die(EPIPE, "Node closed the control socket during a take");
			if (c == 2) {
				why = errname(ECANCELED);
				break;
			}
		}
		if (!p[0].revents)
			continue;
		size_t ask = want - got < BUF_SIZE ? (size_t)(want - got) : BUF_SIZE;
		ssize_t n = read(sock, blob.buf, ask);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			why = n == 0 ? "EOF" : errname(errno);
			break;
		}
		consume(blob.buf, (size_t)n);
		got += (uint64_t)n;
		uint64_t t = now_ms();
		if (t - last >= 50 && got < want) {
			last = t;
			say(ctl, "at %llu\n", (unsigned long long)got);
		}
	}
	close(sock);
	if (why)
		say(ctl, "took %llu %s\n", (unsigned long long)got, why);
	else
		say(ctl, "took %llu\n", (unsigned long long)got);
}

int main(int argc, char **argv)
{
	blob.sync_every = 16u << 20;
	int ctl = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sync-every") == 0 && i + 1 < argc)
			blob.sync_every = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc)
			ctl = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: berth-ingest [--sync-every BYTES] [--control FD] <blob 3<>data\n");
			return 2;
		}
	}
	/* Node gone from the control socket is an EPIPE to report, not a signal that kills */
	signal(SIGPIPE, SIG_IGN);
	if (fcntl(3, F_GETFD) < 0)
		die(EBADF, "fd 3 (the blob's data file) is not open");
	if (ctl >= 0 && (ctl <= 3 || fcntl(ctl, F_GETFD) < 0))
		die(EBADF, "--control %d: not an open descriptor above 3", ctl);
	/* a bigger pipe: fewer wake-ups of Node and of us (pipes only) */
	fcntl(0, F_SETPIPE_SZ, BUF_SIZE);

	blob.md = EVP_MD_CTX_new();
	if (!blob.md || EVP_DigestInit_ex(blob.md, EVP_sha256(), NULL) != 1)
		die(EIO, "sha256 init failed");
	blob.buf = malloc(BUF_SIZE);
	if (!blob.buf)
		die(ENOMEM, "out of memory");
	int stdin_open = 1;
	if (ctl < 0) {
		while (read_stdin())
			;
	} else {
		/* stdin's end is the blob's end; the control socket may close first (Node is done with it) */
		int ctl_open = 1;
		while (stdin_open) {
			struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = ctl_open ? ctl : -1, .events = POLLIN } };
			if (poll(p, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				die(errno, "poll: %s", strerror(errno));
			}
			if (p[1].revents && control(ctl, &stdin_open, 0) == 0)
				ctl_open = 0;
			if (stdin_open && p[0].revents && !read_stdin())
				stdin_open = 0;
		}
	}
	unsigned char digest[32];
	unsigned len = 0;
	if (EVP_DigestFinal_ex(blob.md, digest, &len) != 1 || len != 32)
		die(EIO, "sha256 failed");
	fprintf(stderr, "ok bytes=%llu sha256=", (unsigned long long)blob.total);
	for (int i = 0; i < 32; i++)
		fprintf(stderr, "%02x", digest[i]);
	fputc('\n', stderr);
	return fflush(stderr) == 0 ? 0 : 1;
}
