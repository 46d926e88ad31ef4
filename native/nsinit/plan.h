/* The plan (docs/plan-format.md), as parsed from the sync fd. Plain data, never freed. */
#pragma once
#include <stdint.h>
#include <sys/types.h>

#define VEC(T) struct { T *v; size_t n; }
#define VEC_PUSH(vec) \
	((vec).v = xrealloc((vec).v, ((vec).n + 1) * sizeof *(vec).v), &(vec).v[(vec).n++])

/* A NULL-terminated string vector, ready for execve. */
struct strv {
	char **v;
	size_t n;
};

struct sock_filter;

struct idmap { unsigned long in, out, count; };
struct nsjoin { int flag; char *type, *path; };
struct timeoff { char *clock; long long secs; long nsecs; };
struct rlim { int res; uint64_t soft, hard; }; /* UINT64_MAX: unlimited */
struct sysctl { char *key, *value; };

enum rootop_kind { OP_MOUNT, OP_SYMLINK, OP_DEVICE };
struct rootop {
	enum rootop_kind kind;
	char *a, *b, *fstype, *data; /* mount: source, dest; symlink: target, linkpath; device: -, path */
	unsigned long flags, prop;   /* mount */
	mode_t type, mode;           /* device: S_IF* and permission bits */
	unsigned maj, min;
	uid_t uid;
	gid_t gid;
	int bind;
};

/* A mount(2) onto the rootfs directory itself (rootfs-mount): the container's root filesystem,
 * e.g. an overlay of image layers, made in the container's mount namespace only. */
struct rootmount {
	char *source, *fstype, *data, *cwd; /* cwd "": none; else where relative paths in data start */
	unsigned long flags;
};

enum hook_kind { HOOK_CREATE_CONTAINER, HOOK_START_CONTAINER };
struct hook {
	enum hook_kind kind;
	char *path;
	int timeout; /* seconds, 0 = none */
	struct strv args, env;
};

struct plan {
	char *id;
	int wait, terminal, sync_hooks, cgroups_wait, no_pivot, root_readonly, no_new_privs, preserve_fds, chroot;
	int early_clone; /* not in the plan: parent.c's choice, seen by the init stage (a copy) */
	char *console_socket, *start_socket, *rootfs, *hostname, *domainname, *cwd, *hook_state, *keyring;
	unsigned long rootfs_prop, root_prop_after;
	int setgroups;           /* -1 unset, 0 deny, 1 allow */
	char *uidmap_tool, *gidmap_tool; /* newuidmap/newgidmap, or NULL: write the map */
	int has_oom, oom;
	int has_user, umask;     /* umask -1: leave it */
	uid_t uid;
	gid_t gid;
	int has_caps;
	uint64_t bounding, effective, permitted, inheritable, ambient;
	struct sock_filter *seccomp; /* NULL: no filter */
	unsigned short seccomp_len;
	unsigned seccomp_flags;
	int ns_new;              /* CLONE_NEW* to create */
	int ns_joined;           /* CLONE_NEW* joined */
	/* Derived by plan_read: the init stage binds the rootfs onto itself and carries out the
	 * mount records in its mount namespace: a new one (then pivot_root), or a joined one that
	 * has mount records (then chroot; docs/plan-format.md, Mounts). */
	int setup_root;
	VEC(struct nsjoin) joins;
	VEC(struct idmap) uid_maps, gid_maps;
	VEC(struct timeoff) time_offsets;
	VEC(struct rootmount) rootmounts;
	VEC(struct rootop) rootops;
	VEC(struct sysctl) sysctls;
	VEC(struct rlim) rlimits;
	VEC(struct hook) hooks;
	VEC(gid_t) groups;
	struct strv cgroup_procs, masked, readonly, args, env;
};

/* Reads and validates the whole plan from the sync fd; dies on anything it does not know. */
void plan_read(struct plan *p);
