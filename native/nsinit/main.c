/* berth-nsinit <sync-fd>: carries out a launch plan (docs/plan-format.md). */
#include "nsinit.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* CVE-2019-5736: while we are in a container's namespaces (exec joins a running one), a process
 * there that reaches /proc/<our pid>/exe could open the host's berth-nsinit and overwrite it.
 * So we run from a sealed in-memory copy, as runc does with its memfd clone: what the container
 * can reach is that copy, and its seals make it unwritable. The copy is ~100 KB: well under a
 * millisecond. Returns only when already running from the copy. */
static void run_from_sealed_copy(char **argv)
{
	int self = openat(AT_FDCWD, "/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		perror("berth-nsinit: open /proc/self/exe");
		exit(1);
	}
	int seals = fcntl(self, F_GET_SEALS);
	if (seals >= 0 && (seals & F_SEAL_WRITE)) {
		close(self);
		return;
	}
	struct stat st;
	int copy = memfd_create("berth-nsinit", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (copy < 0 || fstat(self, &st) < 0) {
		perror("berth-nsinit: memfd_create");
		exit(1);
	}
	for (off_t off = 0; off < st.st_size;) {
		ssize_t n = sendfile(copy, self, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			perror("berth-nsinit: copy the binary");
			exit(1);
		}
	}
	if (fcntl(copy, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		perror("berth-nsinit: seal the copy");
		exit(1);
	}
	close(self);
	fexecve(copy, argv, environ);
	perror("berth-nsinit: exec the sealed copy");
	exit(1);
}

int main(int argc, char **argv)
{
	run_from_sealed_copy(argv);
	title_init(argc, argv);
	char *end;
	long fd = argc == 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc != 2 || *end || fd < 0 || fd > 1 << 20 || fcntl((int)fd, F_GETFD) < 0) {
		fprintf(stderr, "usage: berth-nsinit <sync-fd>\n");
		return 2;
	}
	g_sync = (int)fd;
	/* Errors are reported, not signalled: a vanished reader gives EPIPE. */
	note_ignored_signals();
	ignore_signal(SIGPIPE);

	struct plan p;
	plan_read(&p); /* the whole plan, before doing anything */
	parent_stage(&p);
}
