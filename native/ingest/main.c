/*
 * berth-ingest: the byte path of a blob download, out of Node's thread.
 *
 *   berth-ingest [--sync-every BYTES]     stdin: the blob's bytes   fd 3: the ingest's data file
 *                                         stdout: a copy for apply (a pipe, or /dev/null)
 *
 * Reads stdin to its end, hashes it (sha256, libcrypto: SHA-NI where the CPU has it), writes it
 * to fd 3 from offset 0 with pwrite, and copies it to stdout. When stdout's reader goes away
 * (an apply that failed or was not wanted: EPIPE), the copy stops and the blob does not: a
 * speculative apply's failure must not cost the download. Every BYTES written (default 16 MiB)
 * it asks the kernel to start writing back what it has (sync_file_range), so that the fsync at
 * commit finds little left to do. It never fsyncs: committing is the content store's job.
 *
 * At the end it prints `ok bytes=N sha256=HEX` on stderr and exits 0. On failure it prints
 * `error ERRNAME - MESSAGE` (the line berth-unpack prints) and exits 1; what reached fd 3 is then
 * unknown, and the content store's next writer re-hashes it.
 *
 * Why a process: moving every byte through Node's thread (socket → hash → file write on the
 * thread pool → pipe to the decompressor) cost ~7 ms of CPU per MB there (docs/layer-apply.md);
 * here Node only moves the socket's bytes into one pipe.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define BUF_SIZE (1 << 20)

static void die(int err, const char *fmt, ...)
{
	const char *name = strerrorname_np(err);
	fprintf(stderr, "error %s - ", name ? name : "EIO");
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

/* 0, or -1 once the reader has gone (EPIPE): the caller stops copying */
static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			if (errno == EPIPE)
				return -1;
			die(errno, "write to apply: %s", strerror(errno));
		}
		buf += k;
		n -= (size_t)k;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t sync_every = 16u << 20;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sync-every") == 0 && i + 1 < argc)
			sync_every = strtoull(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: berth-ingest [--sync-every BYTES] <blob >copy 3<>data\n");
			return 2;
		}
	}
	/* a reader that goes away is an EPIPE to handle, not a signal that kills */
	signal(SIGPIPE, SIG_IGN);
	if (fcntl(3, F_GETFD) < 0)
		die(EBADF, "fd 3 (the blob's data file) is not open");
	/* bigger pipes: fewer wake-ups of Node, of us and of the decompressor (pipes only) */
	fcntl(0, F_SETPIPE_SZ, BUF_SIZE);
	fcntl(1, F_SETPIPE_SZ, BUF_SIZE);

	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		die(EIO, "sha256 init failed");
	char *buf = malloc(BUF_SIZE);
	if (!buf)
		die(ENOMEM, "out of memory");
	uint64_t total = 0, synced = 0;
	int copying = 1;
	for (;;) {
		ssize_t n = read(0, buf, BUF_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(errno, "read: %s", strerror(errno));
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
			die(EIO, "sha256 failed");
		pwrite_all(3, buf, (size_t)n, total);
		total += (uint64_t)n;
		if (copying && write_all(1, buf, (size_t)n) < 0) {
			copying = 0;
			close(1);
		}
		if (sync_every && total - synced >= sync_every) {
			/* start writeback of what is written, without waiting for it */
			sync_file_range(3, (off_t)synced, (off_t)(total - synced), SYNC_FILE_RANGE_WRITE);
			synced = total;
		}
	}
	/* apply sees its end of input now, not when the summary is printed */
	if (copying)
		close(1);
	unsigned char digest[32];
	unsigned len = 0;
	if (EVP_DigestFinal_ex(md, digest, &len) != 1 || len != 32)
		die(EIO, "sha256 failed");
	fprintf(stderr, "ok bytes=%llu sha256=", (unsigned long long)total);
	for (int i = 0; i < 32; i++)
		fprintf(stderr, "%02x", digest[i]);
	fputc('\n', stderr);
	return fflush(stderr) == 0 ? 0 : 1;
}
