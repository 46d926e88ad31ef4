/*
 * berth-recvtty: the receiving end of a runtime's --console-socket, for tests (runc ships the
 * same tool as contrib/cmd/recvtty). It listens on a unix socket, accepts one connection,
 * receives the pty master sent with SCM_RIGHTS, writes "ready" and the name that came with it to
 * stderr, then copies the master's output to stdout until the container hangs up. With
 * `--input STRING` it writes STRING to the master first.
 *
 * usage: berth-recvtty [--input STRING] SOCKET-PATH
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what) {
	fprintf(stderr, "berth-recvtty: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv) {
	const char *input = NULL;
	int i = 1;
	if (argc > 2 && strcmp(argv[1], "--input") == 0) {
		input = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: berth-recvtty [--input STRING] SOCKET-PATH\n");
		return 2;
	}
	const char *path = argv[i];
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "berth-recvtty: socket path too long: %s\n", path);
		return 2;
	}
	strcpy(addr.sun_path, path);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) die("socket");
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0) die("bind");
	if (listen(lfd, 1) < 0) die("listen");
	fprintf(stderr, "listening\n");
	int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0) die("accept");

	char name[4096] = {0};
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	if (recvmsg(cfd, &msg, MSG_CMSG_CLOEXEC) < 0) die("recvmsg");
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "berth-recvtty: no fd in the message\n");
		return 1;
	}
	int master;
	memcpy(&master, CMSG_DATA(cm), sizeof(int));
	fprintf(stderr, "ready %s\n", name);
	close(cfd);
	close(lfd);
	unlink(path);

	if (input && write(master, input, strlen(input)) < 0) die("write master");
	char buf[4096];
	for (;;) {
		ssize_t n = read(master, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno == EIO)) break; /* EIO: every slave fd is closed */
		if (n < 0) {
			if (errno == EINTR) continue;
			die("read master");
		}
		if (write(STDOUT_FILENO, buf, (size_t)n) < 0) die("write stdout");
	}
	return 0;
}
