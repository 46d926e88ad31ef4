/*
 * Where berth-unpack reads a layer from: a descriptor read to its end (a pipe, a stored blob),
 * or a file another process is still writing (`--follow FD --size N`: a pull's ingest file,
 * which berth-ingest writes as the download arrives). See input.c.
 */
#ifndef BERTH_UNPACK_INPUT_H
#define BERTH_UNPACK_INPUT_H

#include <stddef.h>
#include <sys/types.h>

/*
 * From now on, reads of `fd` follow that file up to `size` bytes; `end_fd` (a pipe) reaches its
 * end once the writer is done and the file whole. `poll_only`: wait by polling, as without
 * inotify (the fallback, for tests). Returns 0, or -1 with errno set.
 */
int input_follow(int fd, int end_fd, unsigned long long size, int poll_only);

/* read(2) of `fd`, following it when input_follow named it: > 0, 0 at the end, -1 with errno */
ssize_t input_read(int fd, void *buf, size_t n);

/* the followed file's pages, written back by now, leave the page cache (see input.c) */
void input_release(void);

/* what the last failed input_read means: its own words for a followed file, else strerror(err) */
const char *input_error(int err);

#endif
