/* A foreground `run [--bundle <dir>] <id>` carried out in C from the bundle's run template
 * (run-template.ts; docs/runtime-front.md "run from a template"). After a run the front could
 * have done, the Node runtime left in `<root>/~run-<hash of the bundle path>` what it decided for
 * a stand-in id (the marker): the state record, its cgroup setup as a recording of reads and
 * writes, the plan. The front uses it while everything it was decided from is unchanged — the
 * runtime's build, the bundle's path and config.json's bytes, the caller's cgroups, the cgroup
 * mounts, the bounding set, /proc/kcore — with the id, creator, nonce, times and pid put in.
 *
 * The steps are create.ts's and run.ts's: the record staged and renamed into place under the
 * container's lock (so that from the first side effect on, `delete --force` finds everything),
 * the cgroups made and written (each recorded read checked first, at the point it was made),
 * berth-nsinit launched, `pid` and `created` read, the record completed, `start`, the exit
 * waited for with signals forwarded, then the delete (delete.c). Until `start` nothing of the
 * container's process has run: any surprise before it (a read that differs, a write the kernel
 * refuses, berth-nsinit saying something else) undoes everything made and hands the run to the
 * Node runtime, which does it again and says what went wrong. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "front.h"

#define FORMAT "berth-run-template 1"
#define MAX_TEMPLATE (8 << 20)
#define MAX_CGROUP_FILE (1 << 20)
#define MARKER_LEN 32

struct section {
	const char *p;
	size_t n;
};

struct run_template {
	struct section key, bundle, config, cgroup, mounts, capbnd, kcore, marker, warm, record, ops, plan;
};

static bool eq(struct section s, const char *p, size_t n) {
	return s.n == n && !memcmp(s.p, p, n);
}

/* `FORMAT\n` then sections `name length\n<bytes>\n`, each name once, in the writer's order. */
static bool parse_template(const char *buf, size_t len, struct run_template *t) {
	static const char *names[] = {"key", "bundle", "config", "cgroup", "mounts", "capbnd", "kcore", "marker", "warm", "record", "ops", "plan"};
	struct section *slots[] = {&t->key,    &t->bundle, &t->config, &t->cgroup, &t->mounts, &t->capbnd,
				   &t->kcore,  &t->marker, &t->warm,   &t->record, &t->ops,    &t->plan};
	const char *p = buf, *end = buf + len;
	size_t flen = strlen(FORMAT);
	if (len < flen + 1 || memcmp(p, FORMAT "\n", flen + 1) != 0) return false;
	p += flen + 1;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t nlen = strlen(names[i]);
		if ((size_t)(end - p) < nlen + 2 || memcmp(p, names[i], nlen) != 0 || p[nlen] != ' ') return false;
		p += nlen + 1;
		char *after;
		errno = 0;
		unsigned long long n = strtoull(p, &after, 10);
		if (errno || after == p || *after != '\n') return false;
		p = after + 1;
		if (n > (unsigned long long)(end - p) || (size_t)(end - p) - n < 1 || p[n] != '\n') return false;
		slots[i]->p = p;
		slots[i]->n = (size_t)n;
		p += n + 1;
	}
	return p == end;
}

/* run-template.ts's buildKey: "dev:ino:size:mtime-ns" of each file, joined by spaces. */
static bool build_key(char *out, size_t cap) {
	char dir[PATH_MAX];
	if (!exe_dir(dir, sizeof dir)) return false;
	const char *files[] = {"/../../dist/berth-runtime.cjs", "/../../dist/berth-runtime.main.cjs", "/berth-nsinit"};
	size_t o = 0;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[PATH_MAX + 64];
		struct stat st;
		snprintf(path, sizeof path, "%s%s", dir, files[i]);
		if (stat(path, &st) != 0) return false;
		int n = snprintf(out + o, cap - o, "%s%llu:%llu:%lld:%lld", i ? " " : "", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
				 (long long)st.st_size, (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
		if (n < 0 || (size_t)n >= cap - o) return false;
		o += (size_t)n;
	}
	return true;
}

/* path.resolve's result for the bundle, where it is already normal (else Node's). */
static bool resolve_bundle(const char *arg, char *out, size_t cap) {
	char cwd[PATH_MAX];
	if (!arg || arg[0] != '/') {
		if (!getcwd(cwd, sizeof cwd)) return false;
	}
	int n = !arg ? snprintf(out, cap, "%s", cwd) : arg[0] == '/' ? snprintf(out, cap, "%s", arg) : snprintf(out, cap, "%s/%s", cwd, arg);
	if (n < 0 || (size_t)n >= cap) return false;
	size_t len = (size_t)n;
	if (len > 1 && out[len - 1] == '/') return false;
	if (strstr(out, "//") || strstr(out, "/./") || strstr(out, "/../")) return false;
	if ((len >= 2 && !strcmp(out + len - 2, "/.")) || (len >= 3 && !strcmp(out + len - 3, "/.."))) return false;
	return true;
}

/* FNV-1a, 64 bits, of the bundle path's bytes (run-template.ts's templateName). */
static void template_name(const char *bundle, char *out, size_t cap) {
	unsigned long long h = 0xcbf29ce484222325ULL;
	for (const unsigned char *c = (const unsigned char *)bundle; *c; c++) {
		h ^= *c;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, cap, "~run-%016llx", h);
}

/* The lines of mountinfo whose filesystem type is cgroup or cgroup2 (run-template.ts's cgroupMountLines). */
static bool cgroup_mounts(struct text *out) {
	size_t len;
	char *info = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 << 20, &len);
	if (!info) return false;
	bool ok = true;
	for (char *line = info; ok && line < info + len;) {
		char *eol = memchr(line, '\n', (size_t)(info + len - line));
		size_t n = eol ? (size_t)(eol - line) : (size_t)(info + len - line);
		char *sep = memmem(line, n, " - ", 3);
		if (sep) {
			const char *rest = sep + 3;
			size_t left = (size_t)(line + n - rest);
			if ((left >= 7 && !memcmp(rest, "cgroup ", 7)) || (left >= 8 && !memcmp(rest, "cgroup2 ", 8)))
				ok = put(out, line, n) && put(out, "\n", 1);
		}
		line += n + 1;
	}
	free(info);
	return ok;
}

/* Whether the host is as the template was made on. */
static bool host_matches(const struct run_template *t) {
	if (geteuid() != 0) return false;
	char key[1024];
	if (!build_key(key, sizeof key) || !eq(t->key, key, strlen(key))) return false;
	size_t len;
	char *cg = read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &len);
	bool ok = cg && eq(t->cgroup, cg, len);
	free(cg);
	if (!ok) return false;
	struct text mounts = {0};
	ok = cgroup_mounts(&mounts) && eq(t->mounts, mounts.data ? mounts.data : "", mounts.len);
	free(mounts.data);
	if (!ok) return false;
	char status[8192];
	if (read_small("/proc/self/status", status, sizeof status) <= 0) return false;
	char *bnd = strstr(status, "\nCapBnd:");
	if (!bnd) return false;
	bnd += 8;
	while (*bnd == ' ' || *bnd == '\t') bnd++;
	if (!eq(t->capbnd, bnd, strcspn(bnd, "\n"))) return false;
	struct stat st;
	const char *kcore = stat("/proc/kcore", &st) == 0 ? "1" : "0";
	return eq(t->kcore, kcore, 1);
}

/* ---- the record and the plan for this id ---- */

struct token {
	const char *name, *value; /* the value as JSON text */
};

/* `src` with each `"<marker>:<name>"` replaced by its token's value, then every other marker by
 * the id (ids need no escaping in JSON or in the plan's fields). */
static bool substitute(struct section src, const char *marker, const char *id, const struct token *tokens, int ntokens, struct text *out) {
	out->len = 0;
	const char *p = src.p, *end = src.p + src.n;
	while (p < end) {
		const char *m = memmem(p, (size_t)(end - p), marker, MARKER_LEN);
		if (!m) return put(out, p, (size_t)(end - p));
		const char *after = m + MARKER_LEN;
		bool replaced = false;
		if (m > p && m[-1] == '"' && after < end && *after == ':') {
			for (int i = 0; i < ntokens && !replaced; i++) {
				size_t n = strlen(tokens[i].name);
				if ((size_t)(end - after) >= n + 2 && !memcmp(after + 1, tokens[i].name, n) && after[1 + n] == '"') {
					if (!put(out, p, (size_t)(m - 1 - p)) || !put(out, tokens[i].value, strlen(tokens[i].value))) return false;
					p = after + 1 + n + 1;
					replaced = true;
				}
			}
		}
		if (!replaced) {
			if (!put(out, p, (size_t)(m - p)) || !put(out, id, strlen(id))) return false;
			p = after;
		}
	}
	return true;
}

/* ---- the cgroup setup, replayed ---- */

static char *field(char **cursor) {
	char *f = *cursor;
	if (!f) return NULL;
	char *sp = strchr(f, ' ');
	if (sp) {
		*sp = '\0';
		*cursor = sp + 1;
	} else
		*cursor = NULL;
	return f;
}

static int cmp_names(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's names (subdirectories only, or all), sorted, as space-separated encoded fields. */
static bool list_dir(const char *dir, bool only_dirs, struct text *out) {
	DIR *d = opendir(dir);
	if (!d) return false;
	char **names = NULL;
	size_t n = 0, cap = 0;
	bool ok = true;
	struct dirent *e;
	while (ok && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
		if (only_dirs) {
			bool is_dir = e->d_type == DT_DIR;
			struct stat st;
			if (e->d_type == DT_UNKNOWN) is_dir = fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
			if (!is_dir) continue;
		}
		if (n == cap) {
			char **bigger = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof *names);
			if (!bigger) {
				ok = false;
				break;
			}
			names = bigger;
		}
		if (!(names[n++] = strdup(e->d_name))) ok = false;
	}
	closedir(d);
	if (ok) qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (ok) ok = put(out, " ", 1) && put_field(out, names[i]);
		free(names[i]);
	}
	free(names);
	return ok;
}

/* mkdir -p, as Node's mkdirSync(dir, { recursive: true }) */
static int mkdir_p(char *dir) {
	if (mkdir(dir, 0777) == 0 || errno == EEXIST) return 0;
	if (errno != ENOENT) return -1;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir) return -1;
	*slash = '\0';
	int rc = mkdir_p(dir);
	*slash = '/';
	if (rc != 0) return -1;
	return mkdir(dir, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* Each op of the recording (run-template.ts's encodeOps) for this id: reads must read the same,
 * mkdirs and writes must succeed. false at the first that does not hold. */
static bool replay(struct section ops_text, const char *marker, const char *id) {
	struct text ops = {0};
	if (!substitute(ops_text, marker, id, NULL, 0, &ops)) return false;
	bool ok = true;
	char *a = malloc(PATH_MAX + 1), *b = malloc(MAX_CGROUP_FILE);
	if (!a || !b) ok = false;
	for (char *line = ops.data; ok && line && *line;) {
		char *eol = strchr(line, '\n');
		if (eol) *eol = '\0';
		char *cur = line, *op = field(&cur), *f1 = field(&cur);
		/* a decoded field is never longer than its encoding: one that would not fit is refused,
		 * never cut short (a shortened path names another file) */
		if (!op || !f1 || strlen(f1) > PATH_MAX) {
			ok = false;
			break;
		}
		decode_field(f1, strlen(f1), a, PATH_MAX + 1);
		if (!strcmp(op, "read") || !strcmp(op, "write")) {
			char *f2 = field(&cur);
			if (!f2 || cur || strlen(f2) >= MAX_CGROUP_FILE) {
				ok = false;
				break;
			}
			size_t vlen = decode_field(f2, strlen(f2), b, MAX_CGROUP_FILE);
			if (op[0] == 'r') {
				size_t len;
				char *got = read_file_at(AT_FDCWD, a, MAX_CGROUP_FILE, &len);
				ok = got && len == vlen && !memcmp(got, b, len);
				free(got);
			} else {
				int fd = open(a, O_WRONLY | O_CLOEXEC | O_NOCTTY);
				ok = fd >= 0 && write(fd, b, vlen) == (ssize_t)vlen;
				if (fd >= 0) close(fd);
			}
		} else if (!strcmp(op, "absent")) {
			size_t len;
			char *got = read_file_at(AT_FDCWD, a, MAX_CGROUP_FILE, &len);
			ok = !got && !cur;
			free(got);
		} else if (!strcmp(op, "exists")) {
			char *f2 = field(&cur);
			ok = f2 && !cur && (access(a, F_OK) == 0) == !strcmp(f2, "1");
		} else if (!strcmp(op, "mkdir")) {
			char *f2 = field(&cur);
			ok = f2 && !cur && (!strcmp(f2, "1") ? mkdir_p(a) == 0 : mkdir(a, 0777) == 0);
		} else if (!strcmp(op, "subdirs") || !strcmp(op, "readdir")) {
			struct text want = {0}, got = {0};
			for (char *f; ok && (f = field(&cur));) ok = put(&want, " ", 1) && put(&want, f, strlen(f));
			ok = ok && list_dir(a, op[0] == 's', &got) && want.len == got.len && (!want.len || !memcmp(want.data, got.data, want.len));
			free(want.data);
			free(got.data);
		} else
			ok = false;
		line = eol ? eol + 1 : NULL;
	}
	free(a);
	free(b);
	free(ops.data);
	return ok;
}

/* ---- the record's updates ---- */

static void random_hex(char *out, size_t bytes) {
	unsigned char r[32];
	if (bytes > sizeof r) bytes = sizeof r;
	if (getrandom(r, bytes, 0) != (ssize_t)bytes) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < bytes; i++) r[i] = (unsigned char)((ts.tv_nsec >> (i % 4 * 8)) ^ getpid() ^ (long)i * 131);
	}
	for (size_t i = 0; i < bytes; i++) sprintf(out + 2 * i, "%02x", r[i]);
}

static bool write_file_at(int dirfd, const char *name, const char *data, size_t len, int flags) {
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | flags, 0600);
	if (fd < 0) return false;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) break;
		off += (size_t)w;
	}
	return close(fd) == 0 && off == len;
}

/* create.ts's stageRecord: written in a staging directory, renamed to `<root>/<id>` under the
 * lock. 0; 1 when the id is taken; -1 on any other failure. Nothing is left either way. */
static int stage_record(const struct globals *g, const char *id, const char *nonce, const struct text *record) {
	char staging[PATH_MAX], dir[PATH_MAX];
	if ((size_t)snprintf(staging, sizeof staging, "%s/~c-%s", g->root, nonce) >= sizeof staging ||
	    (size_t)snprintf(dir, sizeof dir, "%s/%s", g->root, id) >= sizeof dir)
		return -1;
	if (mkdir(staging, 0711) != 0) return -1;
	int fd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool written = fd >= 0 && write_file_at(fd, "state.json", record->data, record->len, O_EXCL);
	if (fd >= 0) close(fd);
	int rc = -1;
	if (written) {
		int lock = lock_container(g->root, id, true);
		if (lock >= 0) {
			rc = rename(staging, dir) == 0 ? 0 : (errno == EEXIST || errno == ENOTEMPTY || errno == ENOTDIR) ? 1 : -1;
			close(lock);
		}
	}
	if (rc != 0) {
		char file[PATH_MAX + 16];
		snprintf(file, sizeof file, "%s/state.json", staging);
		unlink(file);
		rmdir(staging);
	}
	return rc;
}

/* create.ts's updateRecord: rewritten under the lock while it is still ours (our nonce).
 * 0; 1 when a delete took it meanwhile; -1 on a failure. */
static int update_record(const struct globals *g, const char *id, const char *nonce, const struct text *record) {
	int lock = lock_container(g->root, id, true);
	if (lock < 0) return -1;
	char dir[PATH_MAX], mine[64], tmp[64];
	snprintf(dir, sizeof dir, "%s/%s", g->root, id);
	snprintf(mine, sizeof mine, "\"nonce\":\"%s\"", nonce);
	int rc = 1, fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t len;
	char *now = fd >= 0 ? read_file_at(fd, "state.json", 64 << 20, &len) : NULL;
	if (now && memmem(now, len, mine, strlen(mine))) {
		char r[17];
		random_hex(r, 8);
		snprintf(tmp, sizeof tmp, ".state.json.%s.tmp", r);
		rc = write_file_at(fd, tmp, record->data, record->len, O_EXCL) && renameat(fd, tmp, fd, "state.json") == 0 ? 0 : -1;
		if (rc != 0) unlinkat(fd, tmp, 0);
	}
	free(now);
	if (fd >= 0) close(fd);
	close(lock);
	return rc;
}

/* ---- the cgroup lock's warm-up (cgroups/warm.ts) ---- */

static void *warm(void *target) {
	int fd = open(target, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		char pid[32];
		int n = snprintf(pid, sizeof pid, "%d", getpid());
		if (write(fd, pid, (size_t)n) < 0) {
			/* nothing to warm, nothing lost */
		}
		close(fd);
	}
	return NULL;
}

/* ---- run ---- */

static void iso_now(char *out, size_t cap) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "\"%s.%03ldZ\"", base, ts.tv_nsec / 1000000);
}

/* Everything made so far goes (create.ts's abandon): the helper and the init killed, then the
 * delete of a record that is still `creating`. */
static void undo(const struct globals *g, const char *id, struct helper *h) {
	if (h && h->pid > 0) helper_kill(h);
	delete_container(g, id, true, true);
}

/* Node's `delete --force <id>`, in a child, for what the front's delete hands over. */
static int node_delete(int nglobal, char **argv, const char *id) {
	pid_t pid = fork();
	if (pid == 0) run_node_delete(nglobal, argv, id);
	if (pid < 0) return 1;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int fast_run(const struct globals *g, const char *id, const char *bundle_arg, int nglobal, char **argv) {
	if (!strcmp(id, "-") || strlen(id) > 1024) return FALLBACK; /* "-" is a field's empty string in the plan */
	char bundle[PATH_MAX], name[64], tpl_path[PATH_MAX + 64], config_path[PATH_MAX + 16];
	if (!resolve_bundle(bundle_arg, bundle, sizeof bundle)) return FALLBACK;
	template_name(bundle, name, sizeof name);
	snprintf(tpl_path, sizeof tpl_path, "%s/%s", g->root, name);
	snprintf(config_path, sizeof config_path, "%s/config.json", bundle);
	size_t tlen, clen;
	char *tpl = read_file_at(AT_FDCWD, tpl_path, MAX_TEMPLATE, &tlen);
	char *config = tpl ? read_file_at(AT_FDCWD, config_path, MAX_TEMPLATE, &clen) : NULL;
	struct run_template t;
	char marker[MARKER_LEN + 1];
	if (!config || !parse_template(tpl, tlen, &t) || !eq(t.bundle, bundle, strlen(bundle)) || !eq(t.config, config, clen) ||
	    t.marker.n != MARKER_LEN || !host_matches(&t)) {
		free(tpl);
		free(config);
		return FALLBACK;
	}
	free(config);
	memcpy(marker, t.marker.p, MARKER_LEN);
	marker[MARKER_LEN] = '\0';

	/* from here until `start`, signals are held (helper_hold_signals); the warm-up's thread is
	 * made with them blocked, so none is delivered to it either */
	sigset_t saved;
	helper_hold_signals(&saved);
	bool started = false;
	/* the kernel's wait for a cgroup migration overlaps the steps before berth-nsinit's */
	char warm_target[PATH_MAX];
	if (t.warm.n > 0 && t.warm.n < sizeof warm_target) {
		memcpy(warm_target, t.warm.p, t.warm.n);
		warm_target[t.warm.n] = '\0';
		pthread_t thread;
		if (pthread_create(&thread, NULL, warm, warm_target) == 0) pthread_detach(thread);
	}

	char nonce[33], created[64], creator[96], own_start[32];
	random_hex(nonce, 16);
	iso_now(created, sizeof created);
	if (!proc_start_time(getpid(), own_start, sizeof own_start)) own_start[0] = '\0';
	snprintf(creator, sizeof creator, "{\"pid\":%d,\"startTime\":\"%s\"}", getpid(), own_start);
	char quoted_nonce[40];
	snprintf(quoted_nonce, sizeof quoted_nonce, "\"%s\"", nonce);
	struct token tokens[] = {{"phase", "\"creating\""}, {"creator", creator}, {"nonce", quoted_nonce},
				 {"pid", "0"},		{"pidStartTime", "\"\""}, {"created", created}};
	struct text record = {0}, plan = {0};
	int ntokens = (int)(sizeof tokens / sizeof tokens[0]);
	if (!substitute(t.record, marker, id, tokens, ntokens, &record) || !substitute(t.plan, marker, id, NULL, 0, &plan)) {
		free(tpl);
		free(record.data);
		free(plan.data);
		int sig = helper_release_signals(&saved, false);
		return sig ? 128 + sig : FALLBACK;
	}

	int rc = FALLBACK;
	struct helper h = {.pid = -1, .sock = -1};
	/* the record before the first side effect; an id that is taken is Node's to say */
	if (stage_record(g, id, nonce, &record) != 0) goto out;
	/* the limits are in place before the first process enters the cgroup */
	if (!replay(t.ops, marker, id) || !helper_spawn(plan.data, plan.len, &h)) {
		undo(g, id, NULL);
		goto out;
	}
	char line[8192], init_start[32];
	long long init_pid = 0;
	if (!helper_read_line(&h, line, sizeof line) || sscanf(line, "pid %lld", &init_pid) != 1 || init_pid <= 0 ||
	    !proc_start_time(init_pid, init_start, sizeof init_start) || !helper_read_line(&h, line, sizeof line) || strcmp(line, "created") != 0) {
		undo(g, id, &h);
		goto out;
	}
	char pid_text[32], start_text[40];
	snprintf(pid_text, sizeof pid_text, "%lld", init_pid);
	snprintf(start_text, sizeof start_text, "\"%s\"", init_start);
	tokens[0].value = "\"created\"";
	tokens[3].value = pid_text;
	tokens[4].value = start_text;
	int updated = substitute(t.record, marker, id, tokens, ntokens, &record) ? update_record(g, id, nonce, &record) : -1;
	if (updated != 0) {
		kill((pid_t)init_pid, SIGKILL);
		if (updated == 1) {
			/* a delete --force took it: as create.ts's updateRecord says */
			helper_kill(&h);
			char msg[1200];
			snprintf(msg, sizeof msg, "container %s was deleted while being created", id);
			log_error(g, msg);
			rc = 1;
			goto out;
		}
		undo(g, id, &h);
		goto out;
	}
	if (!helper_send(&h, "start\n")) {
		undo(g, id, &h);
		goto out;
	}
	started = true;
	helper_release_signals(&saved, true);
	/* From here the container's process runs (or failed to exec): no more handing over. EOF:
	 * it exec'd; an `error` line first: it did not. */
	bool failed = helper_read_line(&h, line, sizeof line) && !strncmp(line, "error ", 6);
	int status = helper_wait(&h);
	if (failed) report_error_line(g, line, strlen(line));
	rc = failed ? 1 : status;
	int deleted = fast_delete(g, id, true);
	if (deleted == FALLBACK)
		deleted = node_delete(nglobal, argv, id);
	else if (deleted == 0 && delete_leftovers(g))
		node_delete(nglobal, argv, id); /* collects what dead deletes and creates left */
	if (deleted != 0) rc = 1;
out:
	if (!started) {
		int sig = helper_release_signals(&saved, false);
		if (sig && rc == FALLBACK) rc = 128 + sig;
	}
	free(tpl);
	free(record.data);
	free(plan.data);
	return rc;
}
