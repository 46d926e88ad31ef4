/* berth-runtime's front: the verbs it can carry out alone in C, and Node for everything else
 * (docs/runtime-front.md). */
#ifndef BERTH_RUNTIME_FRONT_H
#define BERTH_RUNTIME_FRONT_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What a verb returns to say "not here: let the Node runtime do it", before any side effect. */
#define FALLBACK (-1)

/* runc's global flags, as far as the front reads them. */
struct globals {
	const char *root; /* --root, or the default state root */
	const char *log;  /* --log: a file for the log lines */
	bool json;        /* --log-format json */
};

/* ---- json.c: a reader of spans of a JSON text, for the runtime's own state.json ---- */
struct jspan {
	const char *p, *end; /* one JSON value, [p, end) */
};
bool json_root(const char *text, size_t len, struct jspan *out);
bool json_get(struct jspan obj, const char *key, struct jspan *out);
/* Iterates an array: *it starts as the array's span; each call yields the next element. */
bool json_next(struct jspan *it, struct jspan *elem, bool *first);
bool json_string(struct jspan v, char *buf, size_t cap);
bool json_int(struct jspan v, long long *out);
bool json_is(struct jspan v, const char *literal);
bool json_empty_or_null(struct jspan v);

/* ---- record.c: a container's state.json, and what its status derives from ---- */
#define MAX_CGROUPS 32
struct record {
	long long pid;
	char start_time[32];
	bool creating;    /* phase "creating": create has not finished */
	bool has_process; /* config.process is present */
	bool poststart;   /* config.hooks.poststart is not empty */
	bool poststop;    /* config.hooks.poststop is not empty */
	int ncgroups;
	char cgroup[MAX_CGROUPS][PATH_MAX]; /* each cgroup's host directory */
	bool cgroup_is_root[MAX_CGROUPS];   /* its path in the hierarchy is "/": never removed */
	int freezer;                        /* index of the freezer's directory (v1 freezer, else cgroup2), or -1 */
	int freezer_version;
	int v2; /* index of the cgroup2 directory, or -1 */
};
int read_record(int dirfd, struct record *r);
ssize_t read_small(const char *path, char *buf, size_t cap);
char *read_file_at(int dirfd, const char *name, size_t max, size_t *len);
/* The container's directory (an fd) and its record (the caller frees it), when the record is
 * readable, not `creating`, and its init alive — what start, kill and exec check first; NULL
 * otherwise, with nothing left open. */
struct record *load_live(const struct globals *g, const char *id, int *dirfd);
bool process_alive(long long pid, const char *start_time);
/* /proc/<pid>/stat's field 22 (proc.ts's startTime); false for a zombie or no such process. */
bool proc_start_time(long long pid, char *out, size_t cap);
bool record_frozen(const struct record *r);
/* A record's creator, when it has one (a staged record's): for telling an abandoned one. */
bool record_creator(int dirfd, long long *pid, char *start_time, size_t cap);
/* A record's id (a tomb's). */
bool record_id(int dirfd, char *id, size_t cap);

/* ---- lock.c: the container lock of common/lock.ts, on the same abstract socket names ---- */
/* Takes the lock of `id` under `root` (waiting, or not): its fd, -2 when taken and !wait, or
 * FALLBACK when the front cannot compute the name (no salt yet, a root it cannot spell). */
int lock_container(const char *root, const char *id, bool wait);

/* ---- delete.c ---- */
int fast_delete(const struct globals *g, const char *id, bool force);
/* fast_delete, or with `creating` the delete of a record still being created by this process (run.c's undo). */
int delete_container(const struct globals *g, const char *id, bool force, bool creating);
bool delete_leftovers(const struct globals *g);

/* ---- text.c ---- */
struct text {
	char *data;
	size_t len, cap;
};
bool put(struct text *t, const char *s, size_t n);
bool put_field(struct text *t, const char *s);
size_t decode_field(const char *f, size_t n, char *out, size_t cap);

/* ---- helper.c: berth-nsinit as our child ---- */
struct helper {
	pid_t pid;
	int sock; /* the sync socket */
};
bool exe_dir(char *out, size_t cap);
/* The forwarded signals held (blocked) from before the first side effect of a run or exec until
 * its process has been started, as runc's run buffers them: a ctrl-c during the setup is not
 * lost (forwarded once the process runs) and never makes the front hand the verb to Node, which
 * would carry it out anyway. helper_release_signals unblocks them; with !started it first
 * returns one that is pending (SIGWINCH aside), or 0: then the verb ends as killed by it. */
void helper_hold_signals(sigset_t *saved);
int helper_release_signals(const sigset_t *saved, bool started);
/* Spawns berth-nsinit and writes the plan; our forwarded signals go to it from then on. */
bool helper_spawn(const char *plan, size_t len, struct helper *h);
bool helper_read_line(const struct helper *h, char *buf, size_t cap);
bool helper_send(const struct helper *h, const char *line);
void helper_close(struct helper *h);
/* Closes the sync socket, reaps it: its exit code, or 128+signal. */
int helper_wait(struct helper *h);
void helper_kill(struct helper *h);

/* ---- exec.c ---- */
int fast_exec(const struct globals *g, const char *id, int argc, char **argv);

/* ---- start.c ---- */
bool report_error_line(const struct globals *g, const char *text, size_t len);

/* ---- kill.c ---- */
int fast_kill(const struct globals *g, const char *id, const char *signal_name);

/* ---- run.c ---- */
int fast_run(const struct globals *g, const char *id, const char *bundle, int nglobal, char **argv);

/* ---- main.c ---- */
void log_error(const struct globals *g, const char *msg);
/* Runs the Node runtime in this process's place with these arguments (argv[0] is skipped). */
void __attribute__((noreturn)) run_node(int argc, char **argv);
/* Node's `delete --force <id>` with the first `nglobal` words of argv (the program, global flags). */
void __attribute__((noreturn)) run_node_delete(int nglobal, char **argv, const char *id);

/* ---- start.c ---- */
int fast_start(const struct globals *g, const char *id);

#endif
