/* berth-nsinit <sync-fd>: carries out a launch plan (docs/plan-format.md). */
#include "nsinit.h"
#include "util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	title_init(argc, argv);
	char *end;
	long fd = argc == 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc != 2 || *end || fd < 0 || fd > 1 << 20 || fcntl((int)fd, F_GETFD) < 0) {
		fprintf(stderr, "usage: berth-nsinit <sync-fd>\n");
		return 2;
	}
	g_sync = (int)fd;
	/* Errors are reported, not signalled: a vanished reader gives EPIPE. */
	signal(SIGPIPE, SIG_IGN);

	struct plan p;
	plan_read(&p); /* the whole plan, before doing anything */
	parent_stage(&p);
}
