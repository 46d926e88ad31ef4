/* Seccomp: the BPF program arrives compiled (src/runtime/seccomp/), so this file only decodes it
 * and hands it to seccomp(2). No libseccomp. */
#include "seccomp.h"
#include "util.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* struct sock_filter, 8 bytes each, little-endian (docs/plan-format.md). */
void seccomp_parse(struct plan *p, const char *hex)
{
	size_t n = strlen(hex);
	if (n == 0 || n % 16)
		die("plan: 'seccomp' program of %zu hex digits is not a whole number of instructions", n);
	if (n / 16 > BPF_MAXINSNS)
		die("plan: 'seccomp' program of %zu instructions is longer than %d", n / 16, BPF_MAXINSNS);
	struct sock_filter *f = xmalloc(n / 16 * sizeof *f);
	for (size_t i = 0; i < n / 16; i++) {
		uint8_t b[8];
		for (int j = 0; j < 8; j++) {
			int hi = hexval(hex[16 * i + 2 * j]), lo = hexval(hex[16 * i + 2 * j + 1]);
			if (hi < 0 || lo < 0)
				die("plan: bad hex digit in 'seccomp' program");
			b[j] = (uint8_t)(hi << 4 | lo);
		}
		f[i].code = (uint16_t)(b[0] | b[1] << 8);
		f[i].jt = b[2];
		f[i].jf = b[3];
		f[i].k = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
	}
	p->seccomp = f;
	p->seccomp_len = (unsigned short)(n / 16);
}

/* 0, or -1 with errno. */
static int install(struct plan *p)
{
	struct sock_fprog prog = {.len = p->seccomp_len, .filter = p->seccomp};
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog);
	if (r > 0) /* TSYNC: a thread could not be synchronized (we have none) */
		errno = EBUSY;
	return r == 0 ? 0 : -1;
}

void seccomp_check(struct plan *p)
{
	pid_t pid = fork();
	if (pid < 0)
		die_errno("fork to check the seccomp filter");
	if (pid == 0) {
		/* no_new_privs lets any process load a filter; this one exits right away. */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || install(p) < 0)
			_exit(errno > 0 && errno < 256 ? errno : EINVAL);
		_exit(0);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die_errno("wait for the seccomp check");
	if (WIFSIGNALED(st))
		die("load seccomp filter: the check was killed by signal %d", WTERMSIG(st));
	if (WEXITSTATUS(st)) {
		errno = WEXITSTATUS(st);
		die_errno("load seccomp filter");
	}
}

void seccomp_load(struct plan *p)
{
	if (install(p) < 0)
		die_errno("load seccomp filter");
}
