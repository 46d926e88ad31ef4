/* plan-driver < plan: reads a plan with berth-nsinit's own reader (nsinit/plan.c, util.c,
 * seccomp.c) and prints what it parsed, one canonical line per fact, so that a test can hold
 * the parsed struct to a golden dump (test/plan-contract.test.ts). Numbers the kernel defines
 * (MS_*, CAP_*, RLIMIT_*, CLONE_NEW*) are printed by name, from this machine's headers: the
 * dump shows what the C side understood, independently of the TypeScript tables that wrote it.
 *
 * Linked with -Wl,--wrap=die,--wrap=die_errno: a refused plan prints `error <message>` on
 * stdout and exits 1, instead of writing to the sync fd (stdin here). Output: `berth-plan-dump 1`,
 * the facts, `end`. Exit status: 0 parsed, 1 refused, 2 usage. */
#include "../nsinit/plan.h"
#include "../nsinit/util.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

_Noreturn void __wrap_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void __wrap_die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static _Noreturn void vfail(int err, const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("error ", stdout);
	vprintf(fmt, ap);
	if (err)
		printf(": %s", strerror(err));
	putchar('\n');
	exit(1);
}

void __wrap_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(0, fmt, ap);
}

void __wrap_die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vfail(err, fmt, ap);
}

struct name { const char *name; unsigned long long value; };
#define N(x) {#x, (unsigned long long)(x)}

static const struct name ms_flags[] = {
	N(MS_RDONLY), N(MS_NOSUID), N(MS_NODEV), N(MS_NOEXEC), N(MS_SYNCHRONOUS), N(MS_REMOUNT),
	N(MS_MANDLOCK), N(MS_DIRSYNC), N(MS_NOSYMFOLLOW), N(MS_NOATIME), N(MS_NODIRATIME), N(MS_BIND),
	N(MS_MOVE), N(MS_REC), N(MS_SILENT), N(MS_POSIXACL), N(MS_UNBINDABLE), N(MS_PRIVATE),
	N(MS_SLAVE), N(MS_SHARED), N(MS_RELATIME), N(MS_KERNMOUNT), N(MS_I_VERSION), N(MS_STRICTATIME),
	N(MS_LAZYTIME), {NULL, 0}};

/* Capability numbers (not masks): printed as the names of the set bits. */
static const struct name caps[] = {
	N(CAP_CHOWN), N(CAP_DAC_OVERRIDE), N(CAP_DAC_READ_SEARCH), N(CAP_FOWNER), N(CAP_FSETID),
	N(CAP_KILL), N(CAP_SETGID), N(CAP_SETUID), N(CAP_SETPCAP), N(CAP_LINUX_IMMUTABLE),
	N(CAP_NET_BIND_SERVICE), N(CAP_NET_BROADCAST), N(CAP_NET_ADMIN), N(CAP_NET_RAW),
	N(CAP_IPC_LOCK), N(CAP_IPC_OWNER), N(CAP_SYS_MODULE), N(CAP_SYS_RAWIO), N(CAP_SYS_CHROOT),
	N(CAP_SYS_PTRACE), N(CAP_SYS_PACCT), N(CAP_SYS_ADMIN), N(CAP_SYS_BOOT), N(CAP_SYS_NICE),
	N(CAP_SYS_RESOURCE), N(CAP_SYS_TIME), N(CAP_SYS_TTY_CONFIG), N(CAP_MKNOD), N(CAP_LEASE),
	N(CAP_AUDIT_WRITE), N(CAP_AUDIT_CONTROL), N(CAP_SETFCAP), N(CAP_MAC_OVERRIDE),
	N(CAP_MAC_ADMIN), N(CAP_SYSLOG), N(CAP_WAKE_ALARM), N(CAP_BLOCK_SUSPEND), N(CAP_AUDIT_READ),
	N(CAP_PERFMON), N(CAP_BPF), N(CAP_CHECKPOINT_RESTORE), {NULL, 0}};

static const struct name rlimits[] = {
	N(RLIMIT_CPU), N(RLIMIT_FSIZE), N(RLIMIT_DATA), N(RLIMIT_STACK), N(RLIMIT_CORE),
	N(RLIMIT_RSS), N(RLIMIT_NPROC), N(RLIMIT_NOFILE), N(RLIMIT_MEMLOCK), N(RLIMIT_AS),
	N(RLIMIT_LOCKS), N(RLIMIT_SIGPENDING), N(RLIMIT_MSGQUEUE), N(RLIMIT_NICE), N(RLIMIT_RTPRIO),
	N(RLIMIT_RTTIME), {NULL, 0}};

static const struct name namespaces[] = {
	N(CLONE_NEWUSER), N(CLONE_NEWPID), N(CLONE_NEWNET), N(CLONE_NEWIPC), N(CLONE_NEWUTS),
	N(CLONE_NEWNS), N(CLONE_NEWCGROUP), N(CLONE_NEWTIME), {NULL, 0}};

/* A string, quoted; bytes outside printable ASCII, '"' and '\' as \xNN. NULL is `null`. */
static void str(const char *s)
{
	if (!s) {
		fputs(" null", stdout);
		return;
	}
	fputs(" \"", stdout);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			printf("\\x%02X", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* Flags as `NAME|NAME|0x<rest>`; `0` when none. */
static void flags(unsigned long long v, const struct name *t)
{
	if (!v) {
		fputs(" 0", stdout);
		return;
	}
	char sep = ' ';
	for (; t->name; t++)
		if (t->value && (v & t->value) == t->value) {
			printf("%c%s", sep, t->name);
			sep = '|';
			v &= ~t->value;
		}
	if (v)
		printf("%c0x%llx", sep, v);
}

/* A capability mask as the names of its bits, `-` when empty. */
static void capset(const char *set, uint64_t m)
{
	printf("caps.%s", set);
	if (!m)
		fputs(" -", stdout);
	for (int bit = 0; bit < 64; bit++) {
		if (!(m >> bit & 1))
			continue;
		const struct name *t = caps;
		while (t->name && t->value != (unsigned)bit)
			t++;
		if (t->name)
			printf(" %s", t->name);
		else
			printf(" CAP_%d", bit);
	}
	putchar('\n');
}

static const char *named(unsigned long long v, const struct name *t)
{
	for (; t->name; t++)
		if (t->value == v)
			return t->name;
	return NULL;
}

static void limit(uint64_t v)
{
	if (v == UINT64_MAX)
		fputs(" unlimited", stdout);
	else
		printf(" %llu", (unsigned long long)v);
}

static void strv(const char *what, const struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		fputs(what, stdout);
		str(sv->v[i]);
		putchar('\n');
	}
}

#define SCALAR_S(what, v) (fputs(what, stdout), str(v), putchar('\n'))

static void dump(const struct plan *p)
{
	puts("berth-plan-dump 1");
	SCALAR_S("id", p->id);
	printf("wait %d\nterminal %d\nsync-hooks %d\nno-pivot %d\nchroot %d\nroot-readonly %d\n", p->wait, p->terminal,
	       p->sync_hooks, p->no_pivot, p->chroot, p->root_readonly);
	printf("no-new-privileges %d\npreserve-fds %d\n", p->no_new_privs, p->preserve_fds);
	if (p->cgroups_wait)
		puts("cgroups-wait 1");
	SCALAR_S("console-socket", p->console_socket);
	SCALAR_S("start-socket", p->start_socket);
	SCALAR_S("rootfs", p->rootfs);
	fputs("rootfs-propagation", stdout), flags(p->rootfs_prop, ms_flags), putchar('\n');
	fputs("root-propagation-after", stdout), flags(p->root_prop_after, ms_flags), putchar('\n');
	SCALAR_S("hostname", p->hostname);
	SCALAR_S("domainname", p->domainname);
	SCALAR_S("keyring", p->keyring);
	SCALAR_S("cwd", p->cwd);
	SCALAR_S("hook-state", p->hook_state);
	printf("setgroups %s\n", p->setgroups < 0 ? "unset" : p->setgroups ? "allow" : "deny");
	SCALAR_S("uid-map-tool", p->uidmap_tool);
	SCALAR_S("gid-map-tool", p->gidmap_tool);
	if (p->has_oom)
		printf("oom-score-adj %d\n", p->oom);
	else
		puts("oom-score-adj unset");
	if (p->has_user && p->umask >= 0)
		printf("user uid=%u gid=%u umask=%04o\n", (unsigned)p->uid, (unsigned)p->gid, (unsigned)p->umask);
	else if (p->has_user)
		printf("user uid=%u gid=%u umask=unchanged\n", (unsigned)p->uid, (unsigned)p->gid);
	else
		puts("user unset");
	for (size_t i = 0; i < p->groups.n; i++)
		printf("group %u\n", (unsigned)p->groups.v[i]);
	if (p->has_caps) {
		capset("bounding", p->bounding);
		capset("effective", p->effective);
		capset("permitted", p->permitted);
		capset("inheritable", p->inheritable);
		capset("ambient", p->ambient);
	} else {
		puts("caps unset");
	}
	if (p->seccomp) {
		printf("seccomp flags=%u instructions=%u\n", p->seccomp_flags, (unsigned)p->seccomp_len);
		for (unsigned i = 0; i < p->seccomp_len; i++) {
			const struct sock_filter *f = &p->seccomp[i];
			printf("seccomp.insn %u code=0x%04x jt=%u jf=%u k=0x%08x\n", i, f->code, f->jt, f->jf, f->k);
		}
	} else {
		puts("seccomp none");
	}
	fputs("ns-new", stdout), flags((unsigned)p->ns_new, namespaces), putchar('\n');
	fputs("ns-joined", stdout), flags((unsigned)p->ns_joined, namespaces), putchar('\n');
	for (size_t i = 0; i < p->joins.n; i++) {
		const char *n = named((unsigned)p->joins.v[i].flag, namespaces);
		printf("ns-join %s", n ? n : "?");
		str(p->joins.v[i].type);
		str(p->joins.v[i].path);
		putchar('\n');
	}
	for (size_t i = 0; i < p->uid_maps.n; i++)
		printf("uid-map %lu %lu %lu\n", p->uid_maps.v[i].in, p->uid_maps.v[i].out, p->uid_maps.v[i].count);
	for (size_t i = 0; i < p->gid_maps.n; i++)
		printf("gid-map %lu %lu %lu\n", p->gid_maps.v[i].in, p->gid_maps.v[i].out, p->gid_maps.v[i].count);
	for (size_t i = 0; i < p->time_offsets.n; i++)
		printf("time-offset %s %lld %ld\n", p->time_offsets.v[i].clock, p->time_offsets.v[i].secs,
		       p->time_offsets.v[i].nsecs);
	strv("cgroup-procs", &p->cgroup_procs);
	for (size_t i = 0; i < p->rootmounts.n; i++) {
		const struct rootmount *m = &p->rootmounts.v[i];
		fputs("rootfs-mount source", stdout), str(m->source);
		fputs(" fstype", stdout), str(m->fstype);
		fputs(" flags", stdout), flags(m->flags, ms_flags);
		fputs(" data", stdout), str(m->data);
		fputs(" cwd", stdout), str(m->cwd);
		putchar('\n');
	}
	for (size_t i = 0; i < p->rootops.n; i++) {
		const struct rootop *o = &p->rootops.v[i];
		if (o->kind == OP_MOUNT) {
			fputs("mount source", stdout), str(o->a);
			fputs(" dest", stdout), str(o->b);
			fputs(" fstype", stdout), str(o->fstype);
			fputs(" flags", stdout), flags(o->flags, ms_flags);
			fputs(" propagation", stdout), flags(o->prop, ms_flags);
			fputs(" data", stdout), str(o->data);
		} else if (o->kind == OP_SYMLINK) {
			fputs("symlink target", stdout), str(o->a);
			fputs(" linkpath", stdout), str(o->b);
		} else {
			const char *type = S_ISCHR(o->type) ? "S_IFCHR" : S_ISBLK(o->type) ? "S_IFBLK" : "S_IFIFO";
			fputs("device path", stdout), str(o->b);
			printf(" type=%s major=%u minor=%u mode=%04o uid=%u gid=%u bind=%d", type, o->maj, o->min,
			       (unsigned)o->mode, (unsigned)o->uid, (unsigned)o->gid, o->bind);
		}
		putchar('\n');
	}
	strv("masked", &p->masked);
	strv("readonly", &p->readonly);
	for (size_t i = 0; i < p->sysctls.n; i++) {
		fputs("sysctl", stdout), str(p->sysctls.v[i].key), str(p->sysctls.v[i].value);
		putchar('\n');
	}
	for (size_t i = 0; i < p->rlimits.n; i++) {
		const char *n = named((unsigned)p->rlimits.v[i].res, rlimits);
		if (n)
			printf("rlimit %s", n);
		else
			printf("rlimit %d", p->rlimits.v[i].res);
		limit(p->rlimits.v[i].soft);
		limit(p->rlimits.v[i].hard);
		putchar('\n');
	}
	strv("arg", &p->args);
	strv("env", &p->env);
	for (size_t i = 0; i < p->hooks.n; i++) {
		const struct hook *h = &p->hooks.v[i];
		printf("hook %s", h->kind == HOOK_CREATE_CONTAINER ? "createContainer" : "startContainer");
		str(h->path);
		printf(" timeout=%d\n", h->timeout);
		strv("hook.arg", &h->args);
		strv("hook.env", &h->env);
	}
	puts("end");
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fputs("usage: plan-driver < plan\n", stderr);
		return 2;
	}
	/* plan_read reads the sync fd; stdin (0) also keeps the "sync fd among the preserved fds"
	 * check out of the way, as it only concerns fds from 3 up. */
	g_sync = 0;
	struct plan p;
	plan_read(&p);
	dump(&p);
	return fflush(stdout) ? 1 : 0;
}
