/* The plan reader. It refuses what it does not understand rather than ignore part of a plan. */
#include "plan.h"
#include "seccomp.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

#define MAX_FIELDS 12

static const struct { const char *name; int flag; } ns_types[] = {
	{"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET},
	{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"mount", CLONE_NEWNS},
	{"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

static const char *rec; /* the record being parsed, for messages */

static int ns_flag(const char *type)
{
	for (size_t i = 0; i < sizeof ns_types / sizeof *ns_types; i++)
		if (!strcmp(ns_types[i].name, type))
			return ns_types[i].flag;
	die("plan: unknown namespace type '%s' in '%s'", type, rec);
}

static uint64_t unum(const char *s, int base, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (!*s || *end || errno || *s == '-' || v > max)
		die("plan: bad number '%s' in '%s'", s, rec);
	return v;
}

static long long snum(const char *s, long long min, long long max)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		die("plan: bad number '%s' in '%s'", s, rec);
	return v;
}

static int flag01(const char *s)
{
	return (int)unum(s, 10, 1);
}

static uint64_t limit(const char *s)
{
	return strcmp(s, "unlimited") ? unum(s, 10, UINT64_MAX - 1) : UINT64_MAX;
}

static void strv_push(struct strv *sv, const char *s)
{
	sv->v = xrealloc(sv->v, (sv->n + 2) * sizeof *sv->v);
	sv->v[sv->n++] = xstrdup(s);
	sv->v[sv->n] = NULL;
}

/* Scalars appear at most once: the names seen so far in this plan (plan_read starts afresh, so
 * a test driver or fuzzer can read many plans in one process). */
static const char *seen[64];
static size_t nseen;

static void once(void)
{
	for (size_t i = 0; i < nseen; i++)
		if (!strcmp(seen[i], rec))
			die("plan: record '%s' given twice", rec);
	if (nseen < sizeof seen / sizeof *seen)
		seen[nseen++] = xstrdup(rec);
}

static void parse_record(struct plan *p, char **f, int argc)
{
	char **a = f + 1;
	/* IS: a record with exactly n fields after its name; SCALAR: the same, at most once. */
#define IS(name, n) (!strcmp(rec, name) && (argc == (n) || (die("plan: '%s' needs %d fields, got %d", rec, n, argc), 0)))
#define SCALAR(name, n) (IS(name, n) && (once(), 1))
	if (SCALAR("id", 1)) p->id = xstrdup(a[0]);
	else if (SCALAR("wait", 1)) p->wait = flag01(a[0]);
	else if (SCALAR("terminal", 1)) p->terminal = flag01(a[0]);
	else if (SCALAR("console-socket", 1)) p->console_socket = xstrdup(a[0]);
	else if (SCALAR("start-socket", 1)) p->start_socket = xstrdup(a[0]);
	else if (SCALAR("sync-hooks", 1)) p->sync_hooks = flag01(a[0]);
	else if (SCALAR("cgroups-wait", 1)) p->cgroups_wait = flag01(a[0]);
	else if (SCALAR("rootfs", 1)) p->rootfs = xstrdup(a[0]);
	else if (SCALAR("rootfs-propagation", 1)) p->rootfs_prop = unum(a[0], 10, ULONG_MAX);
	else if (SCALAR("root-propagation-after", 1)) p->root_prop_after = unum(a[0], 10, ULONG_MAX);
	else if (SCALAR("no-pivot", 1)) p->no_pivot = flag01(a[0]);
	else if (SCALAR("chroot", 1)) p->chroot = flag01(a[0]);
	else if (SCALAR("root-readonly", 1)) p->root_readonly = flag01(a[0]);
	else if (SCALAR("hostname", 1)) p->hostname = xstrdup(a[0]);
	else if (SCALAR("domainname", 1)) p->domainname = xstrdup(a[0]);
	else if (SCALAR("keyring", 1)) p->keyring = xstrdup(a[0]);
	else if (SCALAR("setgroups", 1)) {
		if (strcmp(a[0], "allow") && strcmp(a[0], "deny"))
			die("plan: setgroups must be 'allow' or 'deny', got '%s'", a[0]);
		p->setgroups = !strcmp(a[0], "allow");
	} else if (SCALAR("uid-map-tool", 1)) p->uidmap_tool = xstrdup(a[0]);
	else if (SCALAR("gid-map-tool", 1)) p->gidmap_tool = xstrdup(a[0]);
	else if (SCALAR("oom-score-adj", 1)) {
		p->has_oom = 1;
		p->oom = (int)snum(a[0], -1000, 1000);
	} else if (SCALAR("cwd", 1)) p->cwd = xstrdup(a[0]);
	else if (SCALAR("user", 3)) {
		p->has_user = 1;
		p->uid = (uid_t)unum(a[0], 10, UINT32_MAX - 1);
		p->gid = (gid_t)unum(a[1], 10, UINT32_MAX - 1);
		p->umask = *a[2] ? (int)unum(a[2], 8, 0777) : -1;
	} else if (SCALAR("caps", 5)) {
		p->has_caps = 1;
		p->bounding = unum(a[0], 16, UINT64_MAX);
		p->effective = unum(a[1], 16, UINT64_MAX);
		p->permitted = unum(a[2], 16, UINT64_MAX);
		p->inheritable = unum(a[3], 16, UINT64_MAX);
		p->ambient = unum(a[4], 16, UINT64_MAX);
	} else if (SCALAR("no-new-privileges", 1)) p->no_new_privs = flag01(a[0]);
	else if (SCALAR("seccomp", 2)) {
		p->seccomp_flags = (unsigned)unum(a[0], 10, UINT32_MAX);
		seccomp_parse(p, a[1]);
	}
	else if (SCALAR("preserve-fds", 1)) p->preserve_fds = (int)unum(a[0], 10, 65536);
	else if (SCALAR("hook-state", 1)) p->hook_state = xstrdup(a[0]);
	else if (IS("ns-new", 1)) {
		int fl = ns_flag(a[0]);
		if ((p->ns_new | p->ns_joined) & fl)
			die("plan: namespace '%s' given twice", a[0]);
		p->ns_new |= fl;
	} else if (IS("ns-join", 2)) {
		int fl = ns_flag(a[0]);
		if ((p->ns_new | p->ns_joined) & fl)
			die("plan: namespace '%s' given twice", a[0]);
		p->ns_joined |= fl;
		*VEC_PUSH(p->joins) = (struct nsjoin){fl, xstrdup(a[0]), xstrdup(a[1])};
	} else if (IS("uid-map", 3) || IS("gid-map", 3)) {
		struct idmap *m = rec[0] == 'u' ? VEC_PUSH(p->uid_maps) : VEC_PUSH(p->gid_maps);
		m->in = unum(a[0], 10, UINT32_MAX);
		m->out = unum(a[1], 10, UINT32_MAX);
		m->count = unum(a[2], 10, UINT32_MAX);
	} else if (IS("time-offset", 3)) {
		if (strcmp(a[0], "monotonic") && strcmp(a[0], "boottime"))
			die("plan: unknown clock '%s' in 'time-offset'", a[0]);
		*VEC_PUSH(p->time_offsets) = (struct timeoff){xstrdup(a[0]), snum(a[1], LLONG_MIN, LLONG_MAX),
							      (long)snum(a[2], 0, 999999999)};
	} else if (IS("cgroup-procs", 1)) strv_push(&p->cgroup_procs, a[0]);
	else if (IS("mount", 6)) {
		struct rootop *o = VEC_PUSH(p->rootops);
		*o = (struct rootop){.kind = OP_MOUNT, .a = xstrdup(a[0]), .b = xstrdup(a[1]),
				     .fstype = xstrdup(a[2]), .flags = unum(a[3], 10, ULONG_MAX),
				     .prop = unum(a[4], 10, ULONG_MAX), .data = xstrdup(a[5])};
	} else if (IS("rootfs-mount", 5)) {
		if (*a[4] && a[4][0] != '/')
			die("plan: 'rootfs-mount' cwd '%s' is not an absolute path", a[4]);
		*VEC_PUSH(p->rootmounts) = (struct rootmount){.source = xstrdup(a[0]), .fstype = xstrdup(a[1]),
							      .flags = unum(a[2], 10, ULONG_MAX),
							      .data = xstrdup(a[3]), .cwd = xstrdup(a[4])};
	} else if (IS("symlink", 2)) {
		*VEC_PUSH(p->rootops) = (struct rootop){.kind = OP_SYMLINK, .a = xstrdup(a[0]), .b = xstrdup(a[1])};
	} else if (IS("device", 8)) {
		static const struct { char c; mode_t type; } types[] = {
			{'c', S_IFCHR}, {'u', S_IFCHR}, {'b', S_IFBLK}, {'p', S_IFIFO}};
		struct rootop *o = VEC_PUSH(p->rootops);
		*o = (struct rootop){.kind = OP_DEVICE, .b = xstrdup(a[0])};
		for (size_t i = 0; i < sizeof types / sizeof *types; i++)
			if (a[1][0] == types[i].c && !a[1][1])
				o->type = types[i].type;
		if (!o->type)
			die("plan: unknown device type '%s'", a[1]);
		o->maj = (unsigned)unum(a[2], 10, UINT32_MAX);
		o->min = (unsigned)unum(a[3], 10, UINT32_MAX);
		o->mode = (mode_t)unum(a[4], 8, 07777);
		o->uid = (uid_t)unum(a[5], 10, UINT32_MAX - 1);
		o->gid = (gid_t)unum(a[6], 10, UINT32_MAX - 1);
		o->bind = flag01(a[7]);
	} else if (IS("masked", 1)) strv_push(&p->masked, a[0]);
	else if (IS("readonly", 1)) strv_push(&p->readonly, a[0]);
	else if (IS("sysctl", 2)) {
		if (strchr(a[0], '/') || !*a[0])
			die("plan: bad sysctl key '%s'", a[0]);
		*VEC_PUSH(p->sysctls) = (struct sysctl){xstrdup(a[0]), xstrdup(a[1])};
	} else if (IS("rlimit", 3)) {
		*VEC_PUSH(p->rlimits) = (struct rlim){(int)unum(a[0], 10, 63), limit(a[1]), limit(a[2])};
	} else if (IS("group", 1)) *VEC_PUSH(p->groups) = (gid_t)unum(a[0], 10, UINT32_MAX - 1);
	else if (IS("arg", 1)) strv_push(&p->args, a[0]);
	else if (IS("env", 1)) strv_push(&p->env, a[0]);
	else if (IS("hook", 3)) {
		struct hook *h = VEC_PUSH(p->hooks);
		*h = (struct hook){.path = xstrdup(a[1]), .timeout = (int)unum(a[2], 10, INT_MAX / 1000)};
		if (!strcmp(a[0], "createContainer"))
			h->kind = HOOK_CREATE_CONTAINER;
		else if (!strcmp(a[0], "startContainer"))
			h->kind = HOOK_START_CONTAINER;
		else
			die("plan: unknown hook kind '%s'", a[0]);
		/* A hook without hook-env records gets an empty environment, not ours. */
		h->env.v = xmalloc(sizeof(char *));
		h->env.v[0] = NULL;
	} else if (IS("hook-arg", 1) || IS("hook-env", 1)) {
		if (!p->hooks.n)
			die("plan: '%s' before any 'hook'", rec);
		struct hook *h = &p->hooks.v[p->hooks.n - 1];
		strv_push(rec[5] == 'a' ? &h->args : &h->env, a[0]);
	} else
		die("plan: unknown record '%s'", rec);
#undef IS
#undef SCALAR
}

static void validate(struct plan *p)
{
	if (!p->args.n && !p->start_socket) /* create without a process: start fails (init.c) */
		die("plan: no 'arg' record");
	int mounts = p->rootops.n || p->masked.n || p->readonly.n || p->root_readonly;
	if (p->ns_new & CLONE_NEWNS) {
		if (!p->rootfs || p->rootfs[0] != '/')
			die("plan: 'rootfs' must be an absolute path with a new mount namespace");
	} else if (p->no_pivot) {
		die("plan: 'no-pivot' needs 'ns-new mount'");
	} else if (mounts && !(p->ns_joined & CLONE_NEWNS)) {
		/* The caller's mount namespace (the host's): the mounts would change it and outlive
		 * the container. `rootfs` alone is allowed there (chroot, or an exec), and unused. */
		die("plan: mount, symlink, device, masked, readonly and root-readonly need 'ns-new mount' "
		    "or 'ns-join mount'");
	} else if (mounts && !p->chroot) {
		/* pivot_root would move the root of every process in the joined namespace. */
		die("plan: mount records in a joined mount namespace need 'chroot 1'");
	}
	/* In any other mount namespace the rootfs's mount would outlive the container (the host's,
	 * or one that belongs to its holder): that is what the container's own one is for. */
	if (p->rootmounts.n && !(p->ns_new & CLONE_NEWNS))
		die("plan: 'rootfs-mount' needs 'ns-new mount'");
	if (p->chroot && ((p->ns_new & CLONE_NEWNS) || !p->rootfs || p->rootfs[0] != '/'))
		die("plan: 'chroot 1' needs an absolute 'rootfs' and no 'ns-new mount'");
	p->setup_root = (p->ns_new & CLONE_NEWNS) || mounts;
	if ((p->hostname || p->domainname) && !((p->ns_new | p->ns_joined) & CLONE_NEWUTS))
		die("plan: 'hostname' and 'domainname' need a uts namespace");
	if ((p->uid_maps.n || p->gid_maps.n || p->uidmap_tool || p->gidmap_tool) && !(p->ns_new & CLONE_NEWUSER))
		die("plan: 'uid-map', 'gid-map' and their tools need 'ns-new user'");
	if (p->setgroups >= 0 && !((p->ns_new | p->ns_joined) & CLONE_NEWUSER))
		die("plan: 'setgroups' needs 'ns-new user' or 'ns-join user'");
	if ((p->uidmap_tool && p->uidmap_tool[0] != '/') || (p->gidmap_tool && p->gidmap_tool[0] != '/'))
		die("plan: 'uid-map-tool' and 'gid-map-tool' must be absolute paths");
	if (p->gidmap_tool && p->setgroups >= 0)
		die("plan: 'setgroups' with 'gid-map-tool': the tool decides setgroups");
	if (p->time_offsets.n && !(p->ns_new & CLONE_NEWTIME))
		die("plan: 'time-offset' needs 'ns-new time'");
	if (p->start_socket && p->start_socket[0] != '/')
		die("plan: 'start-socket' must be an absolute path");
	if (p->start_socket && p->wait)
		die("plan: 'start-socket' with 'wait 1': a foreground run is started on the sync fd");
	if (p->terminal && !p->console_socket && !p->wait)
		die("plan: 'terminal 1' without 'console-socket' needs 'wait 1'");
	if (p->console_socket && !p->terminal)
		die("plan: 'console-socket' needs 'terminal 1'");
	if (g_sync >= 3 && g_sync < 3 + p->preserve_fds)
		die("plan: the sync fd %d is among the preserved fds", g_sync);
	if (p->hooks.n && !p->hook_state)
		die("plan: 'hook' needs 'hook-state'");
	for (size_t i = 0; i < p->hooks.n; i++)
		if (!p->hooks.v[i].args.n) /* argv[0] defaults to the path, as in runc */
			strv_push(&p->hooks.v[i].args, p->hooks.v[i].path);
}

void plan_read(struct plan *p)
{
	*p = (struct plan){.rootfs_prop = MS_SLAVE | MS_REC, .setgroups = -1, .umask = -1};
	nseen = 0;
	char *l = read_line();
	if (!l || strcmp(l, "berth-plan 1"))
		die("plan: expected 'berth-plan 1', got '%.64s'", l ? l : "end of input");
	for (;;) {
		if (!(l = read_line()))
			die("plan: input ended before 'end'");
		char *f[MAX_FIELDS + 1];
		int n = 0;
		for (char *s = strtok(l, " "); s; s = strtok(NULL, " ")) {
			if (n == MAX_FIELDS + 1)
				die("plan: too many fields in '%s'", f[0]);
			f[n++] = s;
		}
		if (!n)
			die("plan: empty line");
		for (int i = 0; i < n; i++)
			if (field_decode(f[i]) < 0)
				die("plan: bad percent-encoding in '%s'", f[0]);
		rec = f[0];
		if (!strcmp(rec, "end")) {
			if (n != 1)
				die("plan: 'end' takes no fields");
			break;
		}
		parse_record(p, f, n - 1);
	}
	validate(p);
}
