/* kill (without --all), carried out in C: the Node runtime's kill.ts for a container that is
 * created, running or paused — one signal to its init. A signal spelled in a way the front does
 * not know, a container in another state or without a record: Node, which says why. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front.h"

/* kill.ts's parseSignal over Node's os.constants.signals: "KILL", "SIGKILL", "9". -1: not known here. */
static int parse_signal(const char *raw) {
	static const struct {
		const char *name;
		int number;
	} signals[] = {
		{"HUP", 1},   {"INT", 2},     {"QUIT", 3},     {"ILL", 4},     {"TRAP", 5},   {"ABRT", 6},   {"IOT", 6},    {"BUS", 7},
		{"FPE", 8},   {"KILL", 9},    {"USR1", 10},    {"SEGV", 11},   {"USR2", 12},  {"PIPE", 13},  {"ALRM", 14},  {"TERM", 15},
		{"CHLD", 17}, {"STKFLT", 16}, {"CONT", 18},    {"STOP", 19},   {"TSTP", 20},  {"TTIN", 21},  {"TTOU", 22},  {"URG", 23},
		{"XCPU", 24}, {"XFSZ", 25},   {"VTALRM", 26},  {"PROF", 27},   {"WINCH", 28}, {"IO", 29},    {"POLL", 29},  {"PWR", 30},
		{"SYS", 31},
	};
	size_t n = strlen(raw);
	if (n == 0 || n > 16) return -1;
	if (n <= 2 && isdigit((unsigned char)raw[0]) && (n == 1 || isdigit((unsigned char)raw[1]))) {
		int v = atoi(raw);
		return v <= 64 ? v : -1;
	}
	char upper[17];
	for (size_t i = 0; i <= n; i++) upper[i] = (char)toupper((unsigned char)raw[i]);
	const char *name = strncmp(upper, "SIG", 3) == 0 ? upper + 3 : upper;
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (!strcmp(name, signals[i].name)) return signals[i].number;
	return -1;
}

int fast_kill(const struct globals *g, const char *id, const char *signal_name) {
	int sig = parse_signal(signal_name ? signal_name : "SIGTERM");
	if (sig < 0) return FALLBACK;
	/* canKill: created, running or paused — an init that is alive, a record that is not creating */
	int dirfd;
	struct record *r = load_live(g, id, &dirfd);
	if (!r) return FALLBACK;
	long long pid = r->pid;
	free(r);
	close(dirfd);
	if (kill((pid_t)pid, sig) != 0 && errno != ESRCH) return FALLBACK;
	return 0;
}
