/* A container's record (<root>/<id>/state.json, written by the Node runtime: container.ts) as
 * far as the front's verbs need it, and the facts its status derives from: whether the init is
 * still the process the record names, and whether its freezer is frozen. Anything unexpected
 * makes the verb hand over to Node, so this reads the record the Node runtime's way or not at all. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "front.h"

#define MAX_RECORD (16 << 20)

/* Reads a whole file of at most `max` bytes; NULL on any error. The caller frees it. */
char *read_file_at(int dirfd, const char *name, size_t max, size_t *len) {
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) return NULL;
	size_t cap = 16384, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			if (cap >= max) break;
			char *bigger = realloc(buf, cap *= 2);
			if (!bigger) break;
			buf = bigger;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR) continue;
		if (got < 0) break;
		if (got == 0) {
			close(fd);
			*len = n;
			return buf;
		}
		n += (size_t)got;
	}
	free(buf);
	close(fd);
	return NULL;
}

static bool nonempty_hooks(struct jspan hooks, const char *kind) {
	struct jspan list;
	return json_get(hooks, kind, &list) && !json_empty_or_null(list);
}

/* The cgroups: each one's `dir`, and which of them freezes (a v1 freezer, else cgroup2). */
static bool read_cgroups(struct jspan root, struct record *r) {
	struct jspan list, it, cg;
	r->ncgroups = 0;
	r->freezer = -1;
	r->v2 = -1;
	if (!json_get(root, "cgroups", &list)) return false;
	it = list;
	bool first = true;
	int v2 = -1;
	while (json_next(&it, &cg, &first)) {
		struct jspan dir, path, h, version, controllers, it2, c;
		long long ver;
		if (r->ncgroups == MAX_CGROUPS) return false;
		if (!json_get(cg, "dir", &dir) || !json_string(dir, r->cgroup[r->ncgroups], PATH_MAX)) return false;
		if (!json_get(cg, "path", &path)) return false;
		r->cgroup_is_root[r->ncgroups] = json_is(path, "\"/\"");
		if (!json_get(cg, "hierarchy", &h) || !json_get(h, "version", &version) || !json_int(version, &ver)) return false;
		if (ver == 2 && v2 < 0) v2 = r->ncgroups;
		if (ver == 1 && r->freezer < 0 && json_get(h, "controllers", &controllers)) {
			bool f = true;
			it2 = controllers;
			while (json_next(&it2, &c, &f))
				if (json_is(c, "\"freezer\"")) r->freezer = r->ncgroups;
		}
		r->ncgroups++;
	}
	r->v2 = v2;
	if (r->freezer >= 0)
		r->freezer_version = 1;
	else if (v2 >= 0) {
		r->freezer = v2;
		r->freezer_version = 2;
	}
	return true;
}

/* 0, or FALLBACK when the record is missing, unreadable, or not one the front understands. */
int read_record(int dirfd, struct record *r) {
	size_t len;
	char *text = read_file_at(dirfd, "state.json", MAX_RECORD, &len);
	if (!text) return FALLBACK;
	struct jspan root, v, config, hooks;
	long long version;
	int rc = FALLBACK;
	memset(r, 0, sizeof *r);
	if (!json_root(text, len, &root) || *root.p != '{') goto out;
	if (!json_get(root, "version", &v) || !json_int(v, &version) || version != 1) goto out;
	r->creating = json_get(root, "phase", &v) && json_is(v, "\"creating\"");
	if (!json_get(root, "pid", &v) || !json_int(v, &r->pid)) goto out;
	if (!json_get(root, "pidStartTime", &v) || !json_string(v, r->start_time, sizeof r->start_time)) goto out;
	if (!json_get(root, "config", &config) || *config.p != '{') goto out;
	r->has_process = json_get(config, "process", &v) && !json_is(v, "null");
	if (json_get(config, "hooks", &hooks) && !json_is(hooks, "null")) {
		if (*hooks.p != '{') goto out;
		r->poststart = nonempty_hooks(hooks, "poststart");
		r->poststop = nonempty_hooks(hooks, "poststop");
	}
	if (!read_cgroups(root, r)) goto out;
	rc = 0;
out:
	free(text);
	return rc;
}

/* The start of a small file (a /proc or cgroupfs one), NUL-terminated: its length, or -1. */
ssize_t read_small(const char *path, char *buf, size_t cap) {
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0) return -1;
	buf[n] = '\0';
	return n;
}

bool proc_start_time(long long pid, char *out, size_t cap) {
	char path[64], buf[1024];
	if (pid <= 0) return false;
	snprintf(path, sizeof path, "/proc/%lld/stat", pid);
	if (read_small(path, buf, sizeof buf) <= 0) return false;
	/* the command name may hold spaces and parentheses: fields count from the last ')' */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ') return false;
	p += 2;
	char state = *p;
	if (state == 'Z' || state == 'X') return false;
	/* p is at field 3 (state); field 22 is 19 fields further */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p) return false;
		p++;
	}
	size_t len = strcspn(p, " ");
	if (len + 1 > cap) return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

/* Whether pid is alive and still the process the record names, as proc.ts's isAlive: a zombie
 * counts as gone. */
bool process_alive(long long pid, const char *start_time) {
	char now[32];
	return proc_start_time(pid, now, sizeof now) && !strcmp(now, start_time);
}

/* As manager.ts's frozen(): an unreadable freezer is not frozen. */
bool record_frozen(const struct record *r) {
	if (r->freezer < 0) return false;
	char path[PATH_MAX + 32], buf[32];
	snprintf(path, sizeof path, "%s/%s", r->cgroup[r->freezer], r->freezer_version == 1 ? "freezer.state" : "cgroup.freeze");
	if (read_small(path, buf, sizeof buf) <= 0) return false;
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, r->freezer_version == 1 ? "FROZEN" : "1") == 0;
}

bool record_creator(int dirfd, long long *pid, char *start_time, size_t cap) {
	size_t len;
	char *text = read_file_at(dirfd, "state.json", MAX_RECORD, &len);
	if (!text) return false;
	struct jspan root, creator, v;
	bool ok = json_root(text, len, &root) && json_get(root, "creator", &creator) && json_get(creator, "pid", &v) && json_int(v, pid) &&
		  json_get(creator, "startTime", &v) && json_string(v, start_time, cap);
	free(text);
	return ok;
}

bool record_id(int dirfd, char *id, size_t cap) {
	size_t len;
	char *text = read_file_at(dirfd, "state.json", MAX_RECORD, &len);
	if (!text) return false;
	struct jspan root, v;
	bool ok = json_root(text, len, &root) && json_get(root, "id", &v) && json_string(v, id, cap);
	free(text);
	return ok;
}

struct record *load_live(const struct globals *g, const char *id, int *dirfd) {
	char dir[PATH_MAX];
	if ((size_t)snprintf(dir, sizeof dir, "%s/%s", g->root, id) >= sizeof dir) return NULL;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) return NULL;
	struct record *r = malloc(sizeof *r);
	if (!r || read_record(fd, r) != 0 || r->creating || !process_alive(r->pid, r->start_time)) {
		free(r);
		close(fd);
		return NULL;
	}
	*dirfd = fd;
	return r;
}
