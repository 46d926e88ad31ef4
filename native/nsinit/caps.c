/* The process's identity: umask, groups, uid/gid and capabilities, in the order that keeps the
 * capabilities across the uid change. */
#include "nsinit.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int last_cap(void)
{
	char buf[16] = {0};
	int fd = openat(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0)
			return atoi(buf);
	}
	return CAP_LAST_CAP;
}

static uint64_t cap_mask(struct __user_cap_data_struct *d, int which)
{
	uint32_t lo = which == 0 ? d[0].effective : which == 1 ? d[0].permitted : d[0].inheritable;
	uint32_t hi = which == 0 ? d[1].effective : which == 1 ? d[1].permitted : d[1].inheritable;
	return (uint64_t)hi << 32 | lo;
}

void apply_user(struct plan *p)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	uint64_t avail = 0;

	if (p->umask >= 0)
		umask((mode_t)p->umask);
	if (p->has_caps) {
		int last = last_cap();
		/* Bits this process does not hold (a host whose bounding set lacks one, or a
		 * capability newer than the kernel) cannot be granted: they are dropped. */
		if (syscall(SYS_capget, &hdr, data) < 0)
			die_errno("capget");
		avail = cap_mask(data, 1) & (last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1);
		/* Dropping from the bounding set needs CAP_SETPCAP: do it while still root. */
		for (int c = 0; c <= last; c++)
			if (!(p->bounding >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
				die_errno("drop capability %d from the bounding set", c);
		/* Keep the permitted set across setuid to a non-root uid. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			die_errno("prctl PR_SET_KEEPCAPS");
	}
	if (p->has_user) {
		/* A user namespace with setgroups denied refuses setgroups(2) altogether. */
		if (p->setgroups == 0 && ((p->ns_new | p->ns_joined) & CLONE_NEWUSER)) {
			if (p->groups.n)
				die("setgroups: denied in this user namespace");
		} else if (setgroups(p->groups.n, p->groups.v) < 0) {
			die_errno("setgroups");
		}
		if (setresgid(p->gid, p->gid, p->gid) < 0)
			die_errno("setgid %u", (unsigned)p->gid);
		if (setresuid(p->uid, p->uid, p->uid) < 0)
			die_errno("setuid %u", (unsigned)p->uid);
	}
	if (p->has_caps) {
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			die_errno("prctl PR_SET_KEEPCAPS");
		uint64_t eff = p->effective & avail, prm = p->permitted & avail;
		uint64_t inh = p->inheritable & avail;
		for (int i = 0; i < 2; i++) {
			data[i].effective = (uint32_t)(eff >> (32 * i));
			data[i].permitted = (uint32_t)(prm >> (32 * i));
			data[i].inheritable = (uint32_t)(inh >> (32 * i));
		}
		if (syscall(SYS_capset, &hdr, data) < 0)
			die_errno("capset");
		/* The kernel only allows ambient bits that are both permitted and inheritable. */
		uint64_t amb = p->ambient & prm & inh;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
			die_errno("clear ambient capabilities");
		for (int c = 0; c < 64; c++)
			if ((amb >> c & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
				die_errno("raise ambient capability %d", c);
	}
}
