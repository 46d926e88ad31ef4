/* berth-runtime's front (package.json bin): a static C program that carries out `start` itself
 * when the container's record allows it, and runs the Node runtime (dist/berth-runtime.cjs) in
 * its place for everything else. containerd and dockerd call the runtime several times per
 * container; a verb that only connects to a socket should not pay for starting Node
 * (docs/runtime-front.md). The front never changes anything before it has decided to carry a
 * verb out, so handing over to Node is always safe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "front.h"

#define DEFAULT_ROOT "/run/berth-runtime"

/* Runs the Node runtime in this process's place: dist/berth-runtime.cjs beside native/build/,
 * with the node on PATH, as the script's `#!/usr/bin/env -S node --` would (one exec fewer). */
static struct sigaction caller_sigpipe;

void __attribute__((noreturn)) run_node(int argc, char **argv) {
	sigaction(SIGPIPE, &caller_sigpipe, NULL);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		fprintf(stderr, "berth-runtime: readlink '/proc/self/exe': %s\n", strerror(errno));
		exit(1);
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash) *slash = '\0';
	char script[PATH_MAX + 32];
	snprintf(script, sizeof script, "%s/../../dist/berth-runtime.cjs", exe);
	char **args = calloc((size_t)argc + 3, sizeof *args);
	if (!args) exit(1);
	args[0] = "node";
	args[1] = "--";
	args[2] = script;
	for (int i = 1; i < argc; i++) args[i + 2] = argv[i];
	execvp("node", args);
	fprintf(stderr, "berth-runtime: exec 'node' (for '%s'): %s\n", script, strerror(errno));
	exit(127);
}

/* JSON.stringify of a string: quotes, backslashes and control characters escaped. */
static size_t json_quote(const char *s, char *out, size_t cap) {
	size_t o = 0;
	out[o++] = '"';
	for (; *s && o + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
		if (esc)
			o += (size_t)snprintf(out + o, cap - o, "%s", esc);
		else if (c < 0x20)
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

static void write_all(int fd, const char *s, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return;
		s += w;
		n -= (size_t)w;
	}
}

static size_t log_line(bool json, const char *msg, char *out, size_t cap) {
	char ts[32], quoted[16384 + 64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_quote(msg, quoted, sizeof quoted);
	int n = json ? snprintf(out, cap, "{\"level\":\"error\",\"msg\":%s,\"time\":\"%s\"}\n", quoted, ts)
		     : snprintf(out, cap, "time=\"%s\" level=error msg=%s\n", ts, quoted);
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

/* As log.ts: a line on stderr, or in --log (then the bare message on stderr too, as runc). */
void log_error(const struct globals *g, const char *msg) {
	char line[16384 + 256];
	if (g->log) {
		int fd = open(g->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
		if (fd >= 0) {
			write_all(fd, line, log_line(g->json, msg, line, sizeof line));
			close(fd);
		} else {
			/* a broken log file must not hide the message itself */
			write_all(2, line, log_line(false, msg, line, sizeof line));
		}
		write_all(2, msg, strlen(msg));
		write_all(2, "\n", 1);
		return;
	}
	write_all(2, line, log_line(g->json, msg, line, sizeof line));
}

/* Whether this process is in a user namespace that does not map the whole id range (rootless.ts). */
static bool in_user_namespace(void) {
	char buf[128];
	if (read_small("/proc/self/uid_map", buf, sizeof buf) <= 0) return false;
	unsigned long long inside, outside, count;
	char extra;
	return !(sscanf(buf, " %llu %llu %llu %c", &inside, &outside, &count, &extra) == 3 && inside == 0 && outside == 0 && count == 4294967295ULL);
}

/* context.ts's defaultRoot, where it needs no directory made: NULL means "let Node choose". */
static const char *default_root(void) {
	if (geteuid() != 0) return NULL;
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *user = getenv("USER");
	if (xdg && *xdg && in_user_namespace() && !(user && strcmp(user, "root") == 0)) return NULL;
	return DEFAULT_ROOT;
}

/* ids as container.ts's validateId accepts them */
static bool valid_id(const char *id) {
	if (!*id || !strcmp(id, ".") || !strcmp(id, "..")) return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_+-.", *p))) return false;
	return true;
}

/* A global flag with a value, as `--flag value` or `--flag=value`: its value, or NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *name) {
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0) return NULL;
	if (argv[*i][n] == '=') return argv[*i] + n + 1;
	if (argv[*i][n] != '\0' || *i + 1 >= argc) return NULL;
	return argv[++*i];
}

void __attribute__((noreturn)) run_node_delete(int nglobal, char **argv, const char *id) {
	char *args[nglobal + 4];
	int k = 0;
	for (int j = 0; j < nglobal; j++) args[k++] = argv[j];
	args[k++] = "delete";
	args[k++] = "--force";
	args[k++] = (char *)id;
	args[k] = NULL;
	run_node(k, args);
}

static void __attribute__((noreturn)) fallback(int argc, char **argv) {
	run_node(argc, argv);
}

/* `run [-b|--bundle <dir>] <id>`: the id, and the bundle or NULL; false for any other flag. */
static bool run_args(int argc, char **argv, int i, const char **id, const char **bundle) {
	*id = *bundle = NULL;
	for (int j = i + 1; j < argc; j++) {
		const char *a = argv[j];
		if (!strcmp(a, "-b") || !strcmp(a, "--bundle")) {
			if (*bundle || j + 1 >= argc) return false;
			*bundle = argv[++j];
		} else if (!strncmp(a, "--bundle=", 9)) {
			if (*bundle) return false;
			*bundle = a + 9;
		} else if (a[0] == '-' || *id)
			return false;
		else
			*id = a;
	}
	return *id && (!*bundle || **bundle);
}

int main(int argc, char **argv) {
	/* a closed stderr or log pipe must not kill the front midway (Node ignores SIGPIPE too) */
	sigaction(SIGPIPE, &(struct sigaction){.sa_handler = SIG_IGN}, &caller_sigpipe);
	struct globals g = {0};
	bool cgroup_flags = false;
	const char *format = "text";
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *v;
		if ((v = flag_value(argc, argv, &i, "--root")))
			g.root = v;
		else if ((v = flag_value(argc, argv, &i, "--log")))
			g.log = v;
		else if ((v = flag_value(argc, argv, &i, "--log-format")))
			format = v;
		else if (flag_value(argc, argv, &i, "--criu"))
			continue; /* not used by the verbs served here */
		else if (flag_value(argc, argv, &i, "--cgroup-driver") || flag_value(argc, argv, &i, "--rootless") || !strcmp(argv[i], "--systemd-cgroup"))
			cgroup_flags = true; /* only `run` decides cgroups */
		else
			fallback(argc, argv); /* --debug, --help, --version, anything unknown */
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) fallback(argc, argv);
	g.json = strcmp(format, "json") == 0;
	if (g.log && !*g.log) fallback(argc, argv);
	if (!g.root && !(g.root = default_root())) fallback(argc, argv);
	if (!*g.root) fallback(argc, argv);

	/* `run [--bundle <dir>] <id>` in the foreground, from the bundle's template, where nothing
	 * in the environment changes what the Node runtime would do (context.ts reads these) */
	const char *run_id, *run_bundle;
	if (i < argc && !strcmp(argv[i], "run") && !cgroup_flags && run_args(argc, argv, i, &run_id, &run_bundle) && valid_id(run_id) &&
	    !getenv("LISTEN_FDS") && !getenv("BERTH_NSINIT") && !getenv("BERTH_CGROUP_BPF") && !getenv("BERTH_CGROUP_DRIVER")) {
		int rc = fast_run(&g, run_id, run_bundle, i, argv);
		if (rc != FALLBACK) return rc;
	}
	/* `start <id>` and nothing else */
	if (i + 2 == argc && !strcmp(argv[i], "start") && argv[i + 1][0] != '-' && valid_id(argv[i + 1])) {
		int rc = fast_start(&g, argv[i + 1]);
		if (rc != FALLBACK) return rc;
	}
	/* `exec <id> <command> [args…]`: no flags, in the foreground */
	if (i + 3 <= argc && !strcmp(argv[i], "exec") && argv[i + 1][0] != '-' && valid_id(argv[i + 1]) && argv[i + 2][0] != '-') {
		int rc = fast_exec(&g, argv[i + 1], argc - (i + 2), argv + i + 2);
		if (rc != FALLBACK) return rc;
	}
	/* `kill <id> [signal]` (without --all) */
	if (i < argc && !strcmp(argv[i], "kill") && (i + 2 == argc || i + 3 == argc) && argv[i + 1][0] != '-' && valid_id(argv[i + 1]) &&
	    (i + 2 == argc || argv[i + 2][0] != '-')) {
		int rc = fast_kill(&g, argv[i + 1], i + 3 == argc ? argv[i + 2] : NULL);
		if (rc != FALLBACK) return rc;
	}
	/* `delete [-f|--force] <id>`, the flag before or after the one id */
	if (i < argc && !strcmp(argv[i], "delete")) {
		const char *id = NULL;
		bool force = false, other = false;
		for (int j = i + 1; j < argc; j++) {
			if (!strcmp(argv[j], "-f") || !strcmp(argv[j], "--force"))
				force = true;
			else if (argv[j][0] == '-' || id)
				other = true;
			else
				id = argv[j];
		}
		if (id && !other && valid_id(id)) {
			int rc = fast_delete(&g, id, force);
			if (rc == 0 && delete_leftovers(&g)) {
				/* The container is gone; Node's `delete --force` of it finds nothing to delete
				 * and collects what deletes and creates that died left in the root. */
				run_node_delete(i, argv, id);
			}
			if (rc != FALLBACK) return rc;
		}
	}
	fallback(argc, argv);
}
