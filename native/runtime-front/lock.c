/* The container lock of common/lock.ts and runtime/container/lock.ts, taken from C: a unix
 * socket bound to an abstract name that hashes the root's salt, the root's real path and the id.
 * The same name and length as Node's net and the addon bind (the whole sun_path, zero-padded),
 * so the front, the Node runtime and a daemon using the library exclude each other. Held while
 * the fd is open; exec or exit releases it (close-on-exec). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "front.h"

#define NAMESPACE "berth-runtime-lock"
#define SALT_FILE "~lock-salt"

/* lock.ts's hash128: four FNV-1a lanes, then an avalanche per lane. Over UTF-16 code units
 * there, over bytes here: the callers give ASCII only. */
static void hash128(const unsigned char *text, size_t n, char out[33]) {
	uint32_t lanes[4] = {0x811c9dc5u, 0x050c5d1fu, 0x1b873593u, 0x6b43a9b5u};
	for (size_t i = 0; i < n; i++)
		for (uint32_t l = 0; l < 4; l++) lanes[l] = ((lanes[l] ^ text[i]) + l) * 0x01000193u;
	for (int l = 0; l < 4; l++) {
		uint32_t x = lanes[l] ^ lanes[(l + 1) % 4] ^ (lanes[(l + 2) % 4] >> 7);
		x = (x ^ (x >> 16)) * 0x85ebca6bu;
		x = (x ^ (x >> 13)) * 0xc2b2ae35u;
		snprintf(out + 8 * l, 9, "%08x", x ^ (x >> 16));
	}
}

static bool ascii(const char *s, size_t n) {
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == '\0') return false;
	return true;
}

static socklen_t lock_address(const char *root, const char *id, struct sockaddr_un *a) {
	char real[PATH_MAX], salt[256];
	if (!realpath(root, real)) return 0;
	char file[PATH_MAX + 16];
	snprintf(file, sizeof file, "%s/" SALT_FILE, real);
	/* none yet: Node makes the salt on first use */
	ssize_t n = read_small(file, salt, sizeof salt);
	if (n <= 0 || (size_t)n == sizeof salt - 1 || !ascii(salt, (size_t)n) || !ascii(real, strlen(real))) return 0;
	/* `${salt}\0${real}\0${id}` */
	size_t rl = strlen(real), il = strlen(id), len = (size_t)n + 1 + rl + 1 + il;
	unsigned char *text = malloc(len);
	if (!text) return 0;
	memcpy(text, salt, (size_t)n);
	text[n] = 0;
	memcpy(text + n + 1, real, rl);
	text[n + 1 + rl] = 0;
	memcpy(text + n + 2 + rl, id, il);
	char hash[33];
	hash128(text, len, hash);
	free(text);
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + 1, sizeof a->sun_path - 1, NAMESPACE "-%s", hash);
	return (socklen_t)sizeof *a;
}

int lock_container(const char *root, const char *id, bool wait) {
	struct sockaddr_un a;
	socklen_t len = lock_address(root, id, &a);
	if (len == 0) return FALLBACK;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) return FALLBACK;
		if (bind(fd, (struct sockaddr *)&a, len) == 0 && listen(fd, SOMAXCONN) == 0) return fd;
		int e = errno;
		close(fd);
		if (e != EADDRINUSE) return FALLBACK;
		if (!wait) return -2;
		/* Wait for the holder: a connection to it ends when it lets go or dies. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) return FALLBACK;
		if (connect(fd, (struct sockaddr *)&a, len) != 0) {
			e = errno;
			close(fd);
			if (e == EAGAIN) nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL); /* its queue is full */
			else if (e != ECONNREFUSED && e != ENOENT)
				return FALLBACK;
			continue;
		}
		char buf[64];
		for (;;) {
			ssize_t n = read(fd, buf, sizeof buf);
			if (n > 0 || (n < 0 && errno == EINTR)) continue; /* a holder never writes */
			break;
		}
		close(fd);
	}
}
