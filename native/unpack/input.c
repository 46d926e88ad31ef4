/*
 * See input.h. Following a file: a pull's layer is written into the content store's ingest file
 * by berth-ingest (hash, pwrite) as it downloads, and read here from that file. The download
 * never waits for the apply (its snapshot prepared, this process started, a layer of small files
 * applied slowly): the file is the buffer, already in the page cache. Through a pipe instead,
 * every byte was copied twice more (into the pipe and out of it), and the download stalled on
 * a full pipe (1 MiB at most without CAP_SYS_RESOURCE) until the apply read.
 *
 * A read at the file's current end waits until the file grows (inotify IN_MODIFY: every write
 * of the writer raises one; identical unread events merge, so the queue stays one event long)
 * or the end pipe reaches its end, which the feeder (Node) gives only once the blob's digest is
 * verified: until then the layer's end is not its end, as with a pipe whose writer is still open.
 * The feeder that fails kills this process instead. At the end the file must hold exactly `size`
 * bytes; nothing past `size` is ever read. Without inotify (no instances left) the wait is a
 * 2 ms poll of the end pipe.
 *
 * The followed file's pages are read once: every DROP_EVERY bytes, and at the end, they are
 * offered back to the kernel (POSIX_FADV_DONTNEED, which drops those already written back; the
 * writer starts writeback as it goes, and the apply's syncfs finishes it). A pull then does not
 * fill the page cache with compressed blobs nobody reads again, evicting other files' pages, and
 * the pages freed are reused at once by the pull's next writes. That matters on this VM, where
 * a page the guest has not touched lately costs a host fault on its first write (0.9–1.6 ms of
 * system time per MiB written into fresh pages, 0.13 into reused ones: `dd` of 160 MiB, then
 * again after an `rm`): the five-layer pull's helpers used 15–20% less CPU.
 */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* see input_release(): the followed file's pages read so far are offered back every DROP_EVERY bytes */
#define DROP_EVERY (8ull << 20)

static struct {
	int on, fd, end_fd, ended, inotify;
	unsigned long long size, pos, offered;
	char err[160];
} follow = { .fd = -1, .end_fd = -1, .inotify = -1 };

int input_follow(int fd, int end_fd, unsigned long long size, int poll_only)
{
	if (fcntl(fd, F_GETFD) < 0 || fcntl(end_fd, F_GETFD) < 0)
		return -1;
	follow.on = 1;
	follow.fd = fd;
	follow.end_fd = end_fd;
	follow.size = size;
	/* the watch is added before the first read: a write after that read raises an event */
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	follow.inotify = poll_only ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (follow.inotify >= 0 && inotify_add_watch(follow.inotify, path, IN_MODIFY) < 0) {
		close(follow.inotify);
		follow.inotify = -1;
	}
	return 0;
}

static ssize_t failed(int err, const char *what)
{
	snprintf(follow.err, sizeof follow.err, "%s", what);
	errno = err;
	return -1;
}

/* waits for the file to grow or the end pipe to end; -1 on an error */
static int wait_more(void)
{
	struct pollfd p[2] = { { .fd = follow.end_fd, .events = POLLIN }, { .fd = follow.inotify, .events = POLLIN } };
	int r = poll(p, follow.inotify >= 0 ? 2 : 1, follow.inotify >= 0 ? -1 : 2);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (p[1].revents) {
		/* events only say "it changed": drop them, the next pread sees what */
		char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		while (read(follow.inotify, buf, sizeof buf) > 0)
			;
	}
	if (p[0].revents) {
		char c[64];
		ssize_t k = read(follow.end_fd, c, sizeof c);
		if (k < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (k > 0) {
			failed(EPROTO, "the feeder wrote into the end pipe of a followed file");
			return -1;
		}
		if (k == 0)
			follow.ended = 1;
	}
	return 0;
}

ssize_t input_read(int fd, void *buf, size_t n)
{
	follow.err[0] = '\0';
	if (!follow.on || fd != follow.fd)
		return read(fd, buf, n);
	for (;;) {
		unsigned long long left = follow.size - follow.pos;
		if (left == 0 && follow.ended)
			return 0;
		if (left > 0) {
			size_t want = n < left ? n : (size_t)left;
			if (want > SSIZE_MAX)
				want = SSIZE_MAX;
			ssize_t k = pread(fd, buf, want, (off_t)follow.pos);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -1;
			if (k > 0) {
				follow.pos += (unsigned long long)k;
				if (follow.pos - follow.offered >= DROP_EVERY) {
					follow.offered = follow.pos;
					(void)posix_fadvise(fd, 0, (off_t)follow.pos, POSIX_FADV_DONTNEED);
				}
				return k;
			}
			if (follow.ended) {
				char what[160];
				snprintf(what, sizeof what, "the file ended at %llu of its %llu bytes", follow.pos, follow.size);
				return failed(EPROTO, what);
			}
		}
		/* at the file's end (or at `size`, waiting for the writer to say it is done) */
		if (wait_more() < 0)
			return -1;
	}
}

void input_release(void)
{
	if (follow.on)
		(void)posix_fadvise(follow.fd, 0, 0, POSIX_FADV_DONTNEED);
}

const char *input_error(int err)
{
	return follow.err[0] ? follow.err : strerror(err);
}
