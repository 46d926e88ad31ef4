/*
 * berth-cgroup-bpf: loads a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to a cgroup v2
 * directory, the one thing the cgroup v2 device controller needs that Node cannot do (bpf(2)).
 * The program itself is assembled in TypeScript (src/runtime/cgroups/bpf.ts); this helper only
 * carries it to the kernel.
 *
 *   berth-cgroup-bpf attach <cgroup-dir>   program (struct bpf_insn[]) on stdin
 *   berth-cgroup-bpf query <cgroup-dir>    prints the ids of the device programs attached there
 *
 * attach replaces what was attached before: the new program is attached with BPF_F_ALLOW_MULTI,
 * then the old ones are detached, so there is no window without a filter (runc does the same).
 * The attachment lives as long as the cgroup; the helper exits right away.
 *
 * Errors go to stderr as "verb 'object': cause" (with the verifier's log for a refused
 * program); the exit status is 1, or 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INSNS 65536
#define MAX_OLD 64

static int sys_bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int usage(void) {
  fprintf(stderr, "usage: berth-cgroup-bpf attach <cgroup-dir> < program\n       berth-cgroup-bpf query <cgroup-dir>\n");
  return 2;
}

/* Ids of the device programs attached directly to the cgroup; returns the count or -1. */
static int query(int cgfd, uint32_t *ids, uint32_t max, uint32_t *flags) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t)cgfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = max;
  if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) return -1;
  if (flags) *flags = attr.query.attach_flags;
  return (int)attr.query.prog_cnt;
}

static int detach_all(int cgfd, const char *dir, const uint32_t *ids, int n) {
  union bpf_attr attr;
  for (int i = 0; i < n; i++) {
    memset(&attr, 0, sizeof attr);
    attr.prog_id = ids[i];
    int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0) continue; /* gone meanwhile */
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgfd;
    attr.attach_bpf_fd = (uint32_t)fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    int r = sys_bpf(BPF_PROG_DETACH, &attr);
    int e = errno;
    close(fd);
    if (r < 0 && e != ENOENT) {
      fprintf(stderr, "detach old device filter %u from '%s': %s\n", ids[i], dir, strerror(e));
      return -1;
    }
  }
  return 0;
}

static int read_program(struct bpf_insn **out, size_t *count) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (!buf) return -1;
  for (;;) {
    if (len == cap) {
      if (cap >= MAX_INSNS * sizeof(struct bpf_insn)) {
        free(buf);
        errno = E2BIG;
        return -1;
      }
      cap *= 2;
      char *n = realloc(buf, cap);
      if (!n) {
        free(buf);
        return -1;
      }
      buf = n;
    }
    ssize_t r = read(0, buf + len, cap - len);
    if (r < 0) {
      if (errno == EINTR) continue;
      free(buf);
      return -1;
    }
    if (r == 0) break;
    len += (size_t)r;
  }
  if (len == 0 || len % sizeof(struct bpf_insn) != 0) {
    free(buf);
    errno = EINVAL;
    return -1;
  }
  *out = (struct bpf_insn *)buf;
  *count = len / sizeof(struct bpf_insn);
  return 0;
}

static int do_attach(const char *dir) {
  struct bpf_insn *insns;
  size_t count;
  if (read_program(&insns, &count) < 0) {
    fprintf(stderr, "read program from stdin: %s\n", strerror(errno));
    return 1;
  }
  int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) {
    fprintf(stderr, "open '%s': %s\n", dir, strerror(errno));
    return 1;
  }
  uint32_t old[MAX_OLD];
  uint32_t old_flags = 0;
  int nold = query(cgfd, old, MAX_OLD, &old_flags);
  if (nold < 0) {
    fprintf(stderr, "query device programs of '%s': %s\n", dir, strerror(errno));
    return 1;
  }

  static char log[65536];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)count;
  attr.license = (uint64_t)(uintptr_t) "Apache";
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof log;
  attr.log_level = 1;
  int prog = sys_bpf(BPF_PROG_LOAD, &attr);
  if (prog < 0) {
    int e = errno;
    fprintf(stderr, "load device filter for '%s': %s", dir, strerror(e));
    if (log[0]) fprintf(stderr, "\n%s", log);
    fputc('\n', stderr);
    return 1;
  }

  /* A program attached without BPF_F_ALLOW_MULTI cannot be joined by another: detach it first. */
  int multi = nold == 0 || (old_flags & BPF_F_ALLOW_MULTI);
  if (!multi && detach_all(cgfd, dir, old, nold) < 0) return 1;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cgfd;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) {
    fprintf(stderr, "attach device filter to '%s': %s\n", dir, strerror(errno));
    return 1;
  }
  if (multi && detach_all(cgfd, dir, old, nold) < 0) return 1;
  free(insns);
  return 0;
}

static int do_query(const char *dir) {
  int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) {
    fprintf(stderr, "open '%s': %s\n", dir, strerror(errno));
    return 1;
  }
  uint32_t ids[MAX_OLD];
  int n = query(cgfd, ids, MAX_OLD, NULL);
  if (n < 0) {
    fprintf(stderr, "query device programs of '%s': %s\n", dir, strerror(errno));
    return 1;
  }
  for (int i = 0; i < n; i++) printf("%u\n", ids[i]);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) return usage();
  if (strcmp(argv[1], "attach") == 0) return do_attach(argv[2]);
  if (strcmp(argv[1], "query") == 0) return do_query(argv[2]);
  return usage();
}
