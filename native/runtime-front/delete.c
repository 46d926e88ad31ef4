/* delete (and delete --force), carried out in C: the same steps as the Node runtime's delete.ts
 * for a container whose record needs nothing more (no poststop hooks to run). Under the
 * container's lock: the record is read and the status derived; the checks change nothing, and
 * where one does not hold the verb goes to Node. Then the directory becomes a tomb (`~d-…`),
 * the init and every process of its cgroups are killed, waited for (a pidfd; cgroup.events
 * where there is cgroup2), the cgroups and the tomb removed. Other runtime names in the root
 * (tombs of deletes that died, records of creates that died) are left to Node, which collects them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "front.h"

#define WAIT_MS 10000
#define DESTROY_WAIT_MS 5000

static long long now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* errors.ts's words: "verb 'object': cause", the cause in lower case */
static void fail(const struct globals *g, const char *verb, const char *object, int e) {
	char msg[PATH_MAX + 256], cause[128];
	snprintf(cause, sizeof cause, "%s", strerror(e));
	if (cause[0] >= 'A' && cause[0] <= 'Z') cause[0] = (char)(cause[0] - 'A' + 'a');
	snprintf(msg, sizeof msg, "%s '%s': %s", verb, object, cause);
	log_error(g, msg);
}

/* Every process of the container's cgroup and of the cgroups below it, in the first hierarchy
 * that has it (manager.ts's pids()), killed. */
static void kill_tree(const char *dir, int depth) {
	char file[PATH_MAX + 16];
	snprintf(file, sizeof file, "%s/cgroup.procs", dir);
	FILE *f = fopen(file, "re");
	if (f) {
		long long pid;
		while (fscanf(f, "%lld", &pid) == 1)
			if (pid > 0) kill((pid_t)pid, SIGKILL);
		fclose(f);
	}
	if (depth > 64) return;
	DIR *d = opendir(dir);
	if (!d) return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			char sub[PATH_MAX];
			if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) < sizeof sub) kill_tree(sub, depth + 1);
		}
	closedir(d);
}

static bool populated(const char *events) {
	char buf[512];
	/* unreadable: the cgroup is gone, so nothing is in it */
	return read_small(events, buf, sizeof buf) > 0 && !strstr(buf, "populated 0");
}

/* manager.ts's waitEmpty: the kernel says when the cgroup2 directory is empty. */
static void wait_empty(const char *dir) {
	char events[PATH_MAX + 16];
	snprintf(events, sizeof events, "%s/cgroup.events", dir);
	if (!populated(events)) return;
	int in = inotify_init1(IN_CLOEXEC);
	if (in >= 0 && inotify_add_watch(in, events, IN_MODIFY) < 0) {
		close(in);
		in = -1;
	}
	long long deadline = now_ms() + WAIT_MS;
	while (populated(events)) {
		long long left = deadline - now_ms();
		if (left <= 0) break;
		if (in < 0) {
			sleep_ms(left < 10 ? left : 10);
			continue;
		}
		struct pollfd p = {.fd = in, .events = POLLIN};
		if (poll(&p, 1, (int)left) > 0) {
			char buf[4096];
			if (read(in, buf, sizeof buf) < 0 && errno != EINTR && errno != EAGAIN) break;
		}
	}
	if (in >= 0) close(in);
}

/* manager.ts's destroy: each directory removed, waiting while the kernel still reaps. */
static int destroy_cgroups(const struct globals *g, const struct record *r) {
	for (int i = 0; i < r->ncgroups; i++) {
		if (r->cgroup_is_root[i]) continue;
		for (int waited = 0;;) {
			if (rmdir(r->cgroup[i]) == 0 || errno == ENOENT) break;
			if (errno == EBUSY && waited < DESTROY_WAIT_MS) {
				int step = waited < 200 ? 10 : 100;
				sleep_ms(step);
				waited += step;
				continue;
			}
			fail(g, "remove cgroup", r->cgroup[i], errno);
			return -1;
		}
	}
	return 0;
}

/* rm -rf of a directory the runtime made (its record and sockets): never through a symlink. */
static int remove_tree(int parent, const char *name, int depth) {
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) return errno == ENOENT ? 0 : -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
		if (unlinkat(fd, e->d_name, 0) == 0 || errno == ENOENT) continue;
		if ((errno == EISDIR || errno == EPERM) && depth < 64 && remove_tree(fd, e->d_name, depth + 1) == 0) continue;
		rc = -1;
	}
	closedir(d);
	if (rc == 0 && unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT) rc = -1;
	return rc;
}

/* Whether the root holds what delete.ts's collectTombs would act on: a tomb whose deleter is
 * gone, a staged record whose creator is gone, a temp file older than a minute. */
static bool leftovers(const char *root) {
	DIR *d = opendir(root);
	if (!d) return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		const char *n = e->d_name;
		if (n[0] != '~') continue;
		if (!strncmp(n, "~tmp-", 5)) {
			struct stat st;
			found = fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) == 0 && time(NULL) - st.st_mtime > 60;
		} else if (!strncmp(n, "~c-", 3) || !strncmp(n, "~d-", 3)) {
			int fd = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0) continue;
			if (n[1] == 'c') {
				long long pid;
				char st[32];
				found = !record_creator(fd, &pid, st, sizeof st) || !process_alive(pid, st);
			} else if (faccessat(fd, "state.json", F_OK, 0) != 0) {
				found = true; /* nothing to tear down: Node removes it */
			} else {
				/* A record the runtime can tear down, whose deleter (holding its lock) is gone. A
				 * record of another kind (not the runtime's) would only fail there each time. */
				char id[512];
				struct record *r = malloc(sizeof *r);
				if (r && record_id(fd, id, sizeof id) && read_record(fd, r) == 0) {
					int lock = lock_container(root, id, false);
					found = lock != -2;
					if (lock >= 0) close(lock);
				}
				free(r);
			}
			close(fd);
		}
	}
	closedir(d);
	return found;
}

static const char *status_of(const struct record *r, int dirfd, bool alive) {
	if (!alive) return "stopped";
	if (r->ncgroups > 0 && record_frozen(r)) return "paused";
	if (faccessat(dirfd, "exec.sock", F_OK, 0) == 0) return "created";
	return "running";
}

int fast_delete(const struct globals *g, const char *id, bool force) {
	return delete_container(g, id, force, false);
}

int delete_container(const struct globals *g, const char *id, bool force, bool creating) {
	int lock = lock_container(g->root, id, true);
	if (lock < 0) return FALLBACK;
	char dir[PATH_MAX];
	struct record *r = malloc(sizeof *r);
	int dirfd = -1, pidfd = -1;
	if ((size_t)snprintf(dir, sizeof dir, "%s/%s", g->root, id) >= sizeof dir || !r) goto fallback;
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		/* `delete --force` of a container that does not exist succeeds (containerd's shim
		 * deletes twice: once after the exit, once --force as it cleans up) */
		if (errno == ENOENT && force) {
			free(r);
			close(lock);
			return 0;
		}
		goto fallback;
	}
	/* a creating container, or one whose poststop hooks must run (pid > 0): Node's */
	if (read_record(dirfd, r) != 0 || (r->creating && !creating) || (r->poststop && r->pid > 0)) goto fallback;
	bool alive = process_alive(r->pid, r->start_time);
	const char *status = status_of(r, dirfd, alive);
	if (!force && strcmp(status, "stopped") != 0) goto fallback; /* Node says why not */
	bool frozen = strcmp(status, "paused") == 0;
	close(dirfd);
	dirfd = -1;
	/* a pidfd taken before the kill, and the process checked again: a reused pid is not ours */
	if (alive) {
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)r->pid, 0);
		if (!process_alive(r->pid, r->start_time)) {
			if (pidfd >= 0) close(pidfd);
			pidfd = -1;
			alive = false;
		}
	}

	/* the tomb: short and unique whatever the id's length, and never an id */
	unsigned long long rnd = 0;
	if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) rnd = (unsigned long long)getpid() << 20 ^ (unsigned long long)now_ms();
	char tomb_name[64], tomb[PATH_MAX + 64];
	snprintf(tomb_name, sizeof tomb_name, "~d-%llx", rnd);
	snprintf(tomb, sizeof tomb, "%s/%s", g->root, tomb_name);
	if (rename(dir, tomb) != 0) goto fallback;

	/* From here on the container is being deleted: a failure is reported, and the tomb left
	 * for a later delete to finish, as delete.ts does. */
	int rc = 0;
	if (alive) kill((pid_t)r->pid, SIGKILL);
	for (int i = 0; i < r->ncgroups; i++) {
		struct stat st;
		/* never a root cgroup: its processes are every process (manager.ts's pids()) */
		if (r->cgroup_is_root[i] || stat(r->cgroup[i], &st) != 0) continue;
		kill_tree(r->cgroup[i], 0);
		break;
	}
	/* a paused container's processes die only once thawed (cgroup v1 freezer) */
	if (frozen && r->freezer >= 0) {
		char file[PATH_MAX + 32];
		snprintf(file, sizeof file, "%s/%s", r->cgroup[r->freezer], r->freezer_version == 1 ? "freezer.state" : "cgroup.freeze");
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			const char *v = r->freezer_version == 1 ? "THAWED" : "0";
			if (write(fd, v, strlen(v)) < 0) {
				/* as delete.ts: a freezer that cannot be thawed is not an error of delete */
			}
			close(fd);
		}
	}
	if (pidfd >= 0) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		long long deadline = now_ms() + WAIT_MS;
		for (long long left; (left = deadline - now_ms()) > 0;)
			if (poll(&p, 1, (int)left) != -1 || errno != EINTR) break;
		close(pidfd);
	} else if (alive) {
		/* no pidfd: proc.ts's waitGone, /proc with a backoff */
		long long deadline = now_ms() + WAIT_MS;
		for (long delay = 1; process_alive(r->pid, r->start_time) && now_ms() < deadline; delay = delay < 50 ? delay * 2 : 50) sleep_ms(delay);
	}
	if (r->v2 >= 0) wait_empty(r->cgroup[r->v2]);
	if (destroy_cgroups(g, r) != 0) rc = 1;
	if (rc == 0 && remove_tree(AT_FDCWD, tomb, 0) != 0) {
		fail(g, "remove", tomb, errno);
		rc = 1;
	}
	free(r);
	close(lock);
	return rc;

fallback:
	if (dirfd >= 0) close(dirfd);
	free(r);
	close(lock);
	return FALLBACK;
}

/* After a delete done here: what delete.ts's collectTombs would do is left to Node. */
bool delete_leftovers(const struct globals *g) {
	return leftovers(g->root);
}
