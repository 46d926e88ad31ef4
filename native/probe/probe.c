/*
 * berth-probe: a small static multi-tool that runs INSIDE test containers and
 * reports what the container looks like from within.
 *
 *   berth-probe VERB [ARG...] [+ VERB [ARG...]]...
 *
 * One invocation may run several verbs, separated by a lone "+" argument, so a
 * single container start can check many things.  With one verb the output is
 * just that verb's output; with several, each verb's output is preceded by a
 * header line "@@ VERB ARG...".
 *
 * Output is line oriented: one value, or "key=value" lines.  A verb that cannot
 * do its job prints "error=ENAME" (the errno name) and the probe goes on with
 * the next verb; the probe never crashes on a missing path.  "read", "write"
 * and "mkdir" print "ok" or the bare errno name, because the errno *is* their
 * result.
 *
 * Exit status: 0, or the status given to "exit N", or 2 for a usage error
 * (nothing is run then).
 *
 * Written for Berth's conformance suite (test/conformance); see "help".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int g_argc;
static char **g_argv;
/* Raw file copies may end without a newline; with several verbs, the next
 * section header must still start on a line of its own. */
static int g_partial_line;

static void raw_out(const char *buf, size_t n) {
  if (n == 0) return;
  fwrite(buf, 1, n, stdout);
  g_partial_line = buf[n - 1] != '\n';
}

/* ---------------------------------------------------------------- helpers */

static const char *errname(int err) {
  static char buf[32];
  const char *n = strerrorname_np(err);
  if (n != NULL) return n;
  snprintf(buf, sizeof buf, "errno%d", err);
  return buf;
}

static const char *signame(int sig) {
  static char buf[32];
  const char *n = sigabbrev_np(sig);
  if (n != NULL) {
    snprintf(buf, sizeof buf, "SIG%s", n);
  } else if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
    snprintf(buf, sizeof buf, "SIGRTMIN+%d", sig - SIGRTMIN);
  } else {
    snprintf(buf, sizeof buf, "SIG%d", sig);
  }
  return buf;
}

static void print_error(int err) { printf("error=%s\n", errname(err)); }

/* Copy a whole file to stdout.  Returns 0, or an errno value. */
static int copy_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return errno;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return err;
    }
    if (n == 0) break;
    raw_out(buf, (size_t)n);
  }
  close(fd);
  return 0;
}

/* Read a small file into buf (NUL-terminated, trailing newlines removed). */
static int read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return errno;
  size_t len = 0;
  while (len + 1 < size) {
    ssize_t n = read(fd, buf + len, size - 1 - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return err;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  while (len > 0 && buf[len - 1] == '\n') buf[--len] = '\0';
  return 0;
}

/* Value of a "Name:\tvalue" line of /proc/self/status, or NULL. */
static int status_field(const char *field, char *out, size_t size) {
  FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL) return errno;
  char line[512];
  size_t flen = strlen(field);
  int found = ENOENT;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
      char *v = line + flen + 1;
      while (*v == ' ' || *v == '\t') v++;
      size_t vl = strlen(v);
      while (vl > 0 && (v[vl - 1] == '\n' || v[vl - 1] == ' ')) v[--vl] = '\0';
      snprintf(out, size, "%s", v);
      found = 0;
      break;
    }
  }
  fclose(f);
  return found;
}

static int parse_int(const char *s, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') return -1;
  *out = v;
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

/* ------------------------------------------------------------------ verbs */

typedef int (*verb_fn)(int argc, char **argv);

static int v_hostname(int argc, char **argv) {
  (void)argc, (void)argv;
  struct utsname u;
  if (uname(&u) != 0) print_error(errno);
  else printf("%s\n", u.nodename);
  return 0;
}

static int v_domainname(int argc, char **argv) {
  (void)argc, (void)argv;
  struct utsname u;
  if (uname(&u) != 0) print_error(errno);
  else printf("%s\n", u.domainname);
  return 0;
}

static int v_pid(int argc, char **argv) {
  (void)argc, (void)argv;
  printf("%ld\n", (long)getpid());
  return 0;
}

static int v_ppid(int argc, char **argv) {
  (void)argc, (void)argv;
  printf("%ld\n", (long)getppid());
  return 0;
}

static int v_ids(int argc, char **argv) {
  (void)argc, (void)argv;
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) {
    print_error(errno);
    return 0;
  }
  printf("uid=%u\ngid=%u\neuid=%u\negid=%u\nsuid=%u\nsgid=%u\n", ru, rg, eu, eg, su, sg);
  int n = getgroups(0, NULL);
  if (n < 0) {
    print_error(errno);
    return 0;
  }
  gid_t *groups = calloc((size_t)n + 1, sizeof(gid_t));
  if (groups == NULL) {
    print_error(ENOMEM);
    return 0;
  }
  n = getgroups(n, groups);
  printf("groups=");
  for (int i = 0; i < n; i++) printf("%s%u", i ? "," : "", groups[i]);
  printf("\n");
  free(groups);
  return 0;
}

static int v_caps(int argc, char **argv) {
  (void)argc, (void)argv;
  static const char *const fields[][2] = {
      {"CapInh", "inheritable"}, {"CapPrm", "permitted"}, {"CapEff", "effective"},
      {"CapBnd", "bounding"},    {"CapAmb", "ambient"},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    char v[64];
    int err = status_field(fields[i][0], v, sizeof v);
    if (err != 0) printf("%s=error:%s\n", fields[i][1], errname(err));
    else printf("%s=%s\n", fields[i][1], v);
  }
  return 0;
}

static int v_rlimits(int argc, char **argv) {
  (void)argc, (void)argv;
  static const struct {
    const char *name;
    int res;
  } lims[] = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
    struct rlimit rl;
    if (getrlimit((__rlimit_resource_t)lims[i].res, &rl) != 0) {
      printf("%s=error:%s\n", lims[i].name, errname(errno));
      continue;
    }
    /* RLIM_INFINITY is printed as its uint64 value, as config.json spells it. */
    printf("%s.soft=%llu\n%s.hard=%llu\n", lims[i].name, (unsigned long long)rl.rlim_cur,
           lims[i].name, (unsigned long long)rl.rlim_max);
  }
  return 0;
}

static int v_cat(int argc, char **argv) {
  (void)argc;
  int err = copy_file(argv[1]);
  if (err != 0) print_error(err);
  return 0;
}

/* head PATH N: at most N bytes of a file (safe on huge files like /proc/kcore). */
static int v_head(int argc, char **argv) {
  (void)argc;
  long limit;
  if (parse_int(argv[2], &limit) != 0 || limit < 0) {
    print_error(EINVAL);
    return 0;
  }
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    print_error(errno);
    return 0;
  }
  char buf[4096];
  long left = limit;
  while (left > 0) {
    ssize_t n = read(fd, buf, (size_t)(left < (long)sizeof buf ? left : (long)sizeof buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) print_error(errno);
      break;
    }
    if (n == 0) break;
    raw_out(buf, (size_t)n);
    left -= n;
  }
  close(fd);
  return 0;
}

static int v_mounts(int argc, char **argv) {
  (void)argc, (void)argv;
  int err = copy_file("/proc/self/mountinfo");
  if (err != 0) print_error(err);
  return 0;
}

static int v_cgroup(int argc, char **argv) {
  (void)argc, (void)argv;
  int err = copy_file("/proc/self/cgroup");
  if (err != 0) print_error(err);
  return 0;
}

static const char *file_type(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISCHR(m)) return "char";
  if (S_ISBLK(m)) return "block";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  return "unknown";
}

/* stat [-L] PATH: lstat (or stat with -L). */
static int v_stat(int argc, char **argv) {
  const char *path = argv[1];
  int follow = 0;
  if (argc == 3) {
    if (strcmp(argv[1], "-L") != 0) {
      print_error(EINVAL);
      return 0;
    }
    follow = 1;
    path = argv[2];
  }
  struct stat st;
  if ((follow ? stat(path, &st) : lstat(path, &st)) != 0) {
    print_error(errno);
    return 0;
  }
  printf("type=%s\nmode=%04o\nuid=%u\ngid=%u\nsize=%lld\nnlink=%lu\n", file_type(st.st_mode),
         (unsigned)(st.st_mode & 07777), st.st_uid, st.st_gid, (long long)st.st_size,
         (unsigned long)st.st_nlink);
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
    printf("major=%u\nminor=%u\n", major(st.st_rdev), minor(st.st_rdev));
  return 0;
}

static int v_read(int argc, char **argv) {
  (void)argc;
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    printf("%s\n", errname(errno));
    return 0;
  }
  char buf[512];
  ssize_t n;
  do n = read(fd, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  /* An empty fifo opened non-blocking is readable: EAGAIN counts as ok. */
  if (n < 0 && errno != EAGAIN) printf("%s\n", errname(errno));
  else printf("ok\n");
  close(fd);
  return 0;
}

/* write PATH [DATA]: open for writing (creating a regular file if missing),
 * write DATA if given.  Without DATA nothing is written: the open is the test. */
static int v_write(int argc, char **argv) {
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
  if (fd < 0) {
    printf("%s\n", errname(errno));
    return 0;
  }
  if (argc == 3) {
    size_t len = strlen(argv[2]);
    ssize_t n;
    do n = write(fd, argv[2], len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      printf("%s\n", errname(errno));
      close(fd);
      return 0;
    }
  }
  if (close(fd) != 0) printf("%s\n", errname(errno));
  else printf("ok\n");
  return 0;
}

/* append PATH LINE: append LINE and a newline (O_APPEND|O_CREAT). */
static int v_append(int argc, char **argv) {
  (void)argc;
  int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0) {
    printf("%s\n", errname(errno));
    return 0;
  }
  size_t len = strlen(argv[2]);
  char *line = malloc(len + 2);
  if (line == NULL) {
    close(fd);
    printf("%s\n", errname(ENOMEM));
    return 0;
  }
  memcpy(line, argv[2], len);
  line[len] = '\n';
  ssize_t n;
  do n = write(fd, line, len + 1);
  while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  free(line);
  if (close(fd) != 0 && err == 0) err = errno;
  if (err != 0) printf("%s\n", errname(err));
  else printf("ok\n");
  return 0;
}

static int v_mkdir(int argc, char **argv) {
  (void)argc;
  if (mkdir(argv[1], 0755) != 0) printf("%s\n", errname(errno));
  else printf("ok\n");
  return 0;
}

static int v_cwd(int argc, char **argv) {
  (void)argc, (void)argv;
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof buf) == NULL) print_error(errno);
  else printf("%s\n", buf);
  return 0;
}

static int v_env(int argc, char **argv) {
  (void)argc, (void)argv;
  for (char **e = environ; e != NULL && *e != NULL; e++) printf("%s\n", *e);
  return 0;
}

static int v_argv(int argc, char **argv) {
  (void)argc, (void)argv;
  for (int i = 0; i < g_argc; i++) printf("%s\n", g_argv[i]);
  return 0;
}

static int v_echo(int argc, char **argv) {
  for (int i = 1; i < argc; i++) printf("%s%s", i > 1 ? " " : "", argv[i]);
  printf("\n");
  return 0;
}

static int v_umask(int argc, char **argv) {
  (void)argc, (void)argv;
  char v[32];
  if (status_field("Umask", v, sizeof v) == 0) {
    printf("%s\n", v);
  } else {
    mode_t m = umask(0);
    umask(m);
    printf("%04o\n", (unsigned)m);
  }
  return 0;
}

static int v_nnp(int argc, char **argv) {
  (void)argc, (void)argv;
  int r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  if (r < 0) print_error(errno);
  else printf("%d\n", r);
  return 0;
}

static int v_status(int argc, char **argv) {
  (void)argc;
  char v[512];
  int err = status_field(argv[1], v, sizeof v);
  if (err != 0) print_error(err);
  else printf("%s\n", v);
  return 0;
}

static int v_oom_score_adj(int argc, char **argv) {
  (void)argc, (void)argv;
  char v[64];
  int err = read_small("/proc/self/oom_score_adj", v, sizeof v);
  if (err != 0) print_error(err);
  else printf("%s\n", v);
  return 0;
}

static int v_sysctl(int argc, char **argv) {
  (void)argc;
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "/proc/sys/%s", argv[1]);
  if (n < 0 || (size_t)n >= sizeof path) {
    print_error(ENAMETOOLONG);
    return 0;
  }
  for (char *p = path + strlen("/proc/sys/"); *p; p++)
    if (*p == '.') *p = '/';
  char v[4096];
  int err = read_small(path, v, sizeof v);
  if (err != 0) print_error(err);
  else printf("%s\n", v);
  return 0;
}

static int v_readlink(int argc, char **argv) {
  (void)argc;
  char buf[PATH_MAX];
  ssize_t n = readlink(argv[1], buf, sizeof buf - 1);
  if (n < 0) {
    print_error(errno);
    return 0;
  }
  buf[n] = '\0';
  printf("%s\n", buf);
  return 0;
}

static int v_isatty(int argc, char **argv) {
  (void)argc;
  long fd;
  if (parse_int(argv[1], &fd) != 0 || fd < 0 || fd > INT_MAX) {
    print_error(EINVAL);
    return 0;
  }
  printf("%d\n", isatty((int)fd) ? 1 : 0);
  return 0;
}

static int v_ls(int argc, char **argv) {
  (void)argc;
  DIR *d = opendir(argv[1]);
  if (d == NULL) {
    print_error(errno);
    return 0;
  }
  size_t cap = 64, n = 0;
  char **names = malloc(cap * sizeof(char *));
  struct dirent *e;
  while (names != NULL && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == cap) {
      cap *= 2;
      char **grown = realloc(names, cap * sizeof(char *));
      if (grown == NULL) break;
      names = grown;
    }
    names[n] = strdup(e->d_name);
    if (names[n] != NULL) n++;
  }
  closedir(d);
  if (names == NULL) {
    print_error(ENOMEM);
    return 0;
  }
  qsort(names, n, sizeof(char *), cmp_str);
  for (size_t i = 0; i < n; i++) {
    printf("%s\n", names[i]);
    free(names[i]);
  }
  free(names);
  return 0;
}

static int v_ns(int argc, char **argv) {
  static const char *const types[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
                                      "time", "time_for_children", "user", "uts"};
  char path[128], buf[256];
  if (argc == 2) {
    snprintf(path, sizeof path, "/proc/self/ns/%s", argv[1]);
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0) {
      print_error(errno);
      return 0;
    }
    buf[n] = '\0';
    printf("%s\n", buf);
    return 0;
  }
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    snprintf(path, sizeof path, "/proc/self/ns/%s", types[i]);
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0) {
      printf("%s=error:%s\n", types[i], errname(errno));
      continue;
    }
    buf[n] = '\0';
    printf("%s=%s\n", types[i], buf);
  }
  return 0;
}

static int v_fds(int argc, char **argv) {
  (void)argc, (void)argv;
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) {
    print_error(errno);
    return 0;
  }
  int self = dirfd(d);
  long fds[1024];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < sizeof fds / sizeof fds[0]) {
    long fd;
    if (parse_int(e->d_name, &fd) != 0 || fd == self) continue;
    fds[n++] = fd;
  }
  qsort(fds, n, sizeof fds[0], cmp_long);
  for (size_t i = 0; i < n; i++) {
    char path[64], target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/self/fd/%ld", fds[i]);
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len < 0) snprintf(target, sizeof target, "error:%s", errname(errno));
    else target[len] = '\0';
    printf("%ld=%s\n", fds[i], target);
  }
  closedir(d);
  return 0;
}

static void sleep_seconds(double secs) {
  if (!(secs > 0)) return;
  struct timespec ts;
  ts.tv_sec = (time_t)secs;
  ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int parse_seconds(const char *s, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || v < 0) return -1;
  *out = v;
  return 0;
}

static int v_sleep(int argc, char **argv) {
  (void)argc;
  double secs;
  if (parse_seconds(argv[1], &secs) != 0) {
    print_error(EINVAL);
    return 0;
  }
  fflush(stdout);
  sleep_seconds(secs);
  return 0;
}

static void noop_handler(int sig) { (void)sig; }

/* wait-signal [TIMEOUT]: print "ready", then "signal=SIGNAME" for every
 * signal received, until SIGTERM (printed too) or TIMEOUT seconds (default
 * 600) without a signal ("timeout").  Handlers are installed as well as the
 * signals being blocked, because the init of a pid namespace only gets signals
 * from outside for which it has a handler. */
static int v_wait_signal(int argc, char **argv) {
  double timeout = 600;
  if (argc == 2 && parse_seconds(argv[1], &timeout) != 0) {
    print_error(EINVAL);
    return 0;
  }
  sigset_t all;
  sigfillset(&all);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = noop_handler;
  sigfillset(&sa.sa_mask);
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &sa, NULL); /* fails harmlessly for the few it must */
  }
  sigprocmask(SIG_BLOCK, &all, NULL);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    struct timespec ts;
    ts.tv_sec = (time_t)timeout;
    ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
    siginfo_t info;
    int sig = sigtimedwait(&all, &info, &ts);
    if (sig < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) printf("timeout\n");
      else print_error(errno);
      break;
    }
    printf("signal=%s\n", signame(sig));
    fflush(stdout);
    if (sig == SIGTERM) break;
  }
  fflush(stdout);
  sigprocmask(SIG_UNBLOCK, &all, NULL);
  return 0;
}

static int v_exit(int argc, char **argv) {
  (void)argc;
  long code;
  if (parse_int(argv[1], &code) != 0 || code < 0 || code > 255) {
    print_error(EINVAL);
    return 0;
  }
  fflush(stdout);
  fflush(stderr);
  _exit((int)code);
}

static int v_help(int argc, char **argv);

static const struct verb {
  const char *name;
  int min_args, max_args;
  verb_fn fn;
  const char *usage;
} verbs[] = {
    {"hostname", 0, 0, v_hostname, "hostname                 uname nodename"},
    {"domainname", 0, 0, v_domainname, "domainname               uname domainname"},
    {"pid", 0, 0, v_pid, "pid                      getpid()"},
    {"ppid", 0, 0, v_ppid, "ppid                     getppid()"},
    {"ids", 0, 0, v_ids, "ids                      uid/gid/euid/egid/suid/sgid/groups"},
    {"caps", 0, 0, v_caps, "caps                     the five capability sets (hex)"},
    {"rlimits", 0, 0, v_rlimits, "rlimits                  RLIMIT_X.soft= / RLIMIT_X.hard="},
    {"mounts", 0, 0, v_mounts, "mounts                   /proc/self/mountinfo verbatim"},
    {"cgroup", 0, 0, v_cgroup, "cgroup                   /proc/self/cgroup verbatim"},
    {"stat", 1, 2, v_stat, "stat [-L] PATH           type mode uid gid size nlink [major minor]"},
    {"read", 1, 1, v_read, "read PATH                ok | ERRNO"},
    {"write", 1, 2, v_write, "write PATH [DATA]        ok | ERRNO (O_WRONLY|O_CREAT)"},
    {"append", 2, 2, v_append, "append PATH LINE         ok | ERRNO (O_APPEND|O_CREAT)"},
    {"mkdir", 1, 1, v_mkdir, "mkdir PATH               ok | ERRNO"},
    {"cat", 1, 1, v_cat, "cat PATH                 file contents"},
    {"head", 2, 2, v_head, "head PATH N              at most N bytes of the file"},
    {"cwd", 0, 0, v_cwd, "cwd                      getcwd()"},
    {"env", 0, 0, v_env, "env                      environment, one per line"},
    {"argv", 0, 0, v_argv, "argv                     the probe's own argv, one per line"},
    {"echo", 0, 64, v_echo, "echo [WORD...]           print the words"},
    {"umask", 0, 0, v_umask, "umask                    octal umask"},
    {"nnp", 0, 0, v_nnp, "nnp                      PR_GET_NO_NEW_PRIVS (0/1)"},
    {"status", 1, 1, v_status, "status FIELD             a /proc/self/status field"},
    {"oom-score-adj", 0, 0, v_oom_score_adj, "oom-score-adj            /proc/self/oom_score_adj"},
    {"sysctl", 1, 1, v_sysctl, "sysctl KEY               /proc/sys/KEY (dots as slashes)"},
    {"readlink", 1, 1, v_readlink, "readlink PATH            link target"},
    {"isatty", 1, 1, v_isatty, "isatty FD                1 | 0"},
    {"ls", 1, 1, v_ls, "ls DIR                   sorted entries without . and .."},
    {"ns", 0, 1, v_ns, "ns [TYPE]                /proc/self/ns/TYPE link (all: TYPE=link)"},
    {"fds", 0, 0, v_fds, "fds                      open fds: FD=target"},
    {"sleep", 1, 1, v_sleep, "sleep SECONDS            sleep (fractions allowed)"},
    {"wait-signal", 0, 1, v_wait_signal, "wait-signal [TIMEOUT]    ready, signal=SIGX... until SIGTERM"},
    {"exit", 1, 1, v_exit, "exit N                   exit with status N"},
    {"help", 0, 0, v_help, "help                     this list"},
};

#define NVERBS (sizeof verbs / sizeof verbs[0])

static int v_help(int argc, char **argv) {
  (void)argc, (void)argv;
  printf("usage: berth-probe VERB [ARG...] [+ VERB [ARG...]]...\n");
  for (size_t i = 0; i < NVERBS; i++) printf("  %s\n", verbs[i].usage);
  return 0;
}

static const struct verb *find_verb(const char *name) {
  for (size_t i = 0; i < NVERBS; i++)
    if (strcmp(verbs[i].name, name) == 0) return &verbs[i];
  return NULL;
}

int main(int argc, char **argv) {
  g_argc = argc;
  g_argv = argv;
  if (argc < 2) {
    fprintf(stderr, "usage: berth-probe VERB [ARG...] [+ VERB [ARG...]]... (try: help)\n");
    return 2;
  }

  /* Split argv[1..] into verb invocations at lone "+" arguments, and validate
   * all of them before running any. */
  int starts[256], counts[256], n = 0;
  for (int i = 1; i < argc;) {
    if (n == (int)(sizeof starts / sizeof starts[0])) {
      fprintf(stderr, "berth-probe: too many verbs\n");
      return 2;
    }
    int j = i;
    while (j < argc && strcmp(argv[j], "+") != 0) j++;
    starts[n] = i;
    counts[n] = j - i;
    if (counts[n] == 0) {
      fprintf(stderr, "berth-probe: empty verb around '+'\n");
      return 2;
    }
    const struct verb *v = find_verb(argv[i]);
    if (v == NULL) {
      fprintf(stderr, "berth-probe: unknown verb '%s' (try: help)\n", argv[i]);
      return 2;
    }
    int nargs = counts[n] - 1;
    if (nargs < v->min_args || nargs > v->max_args) {
      fprintf(stderr, "berth-probe: wrong number of arguments for '%s'; usage: %s\n", argv[i],
              v->usage);
      return 2;
    }
    n++;
    i = j + 1;
    if (j == argc - 1) { /* trailing "+" */
      fprintf(stderr, "berth-probe: trailing '+'\n");
      return 2;
    }
  }

  for (int k = 0; k < n; k++) {
    char **vargv = argv + starts[k];
    if (n > 1) {
      if (g_partial_line) printf("\n");
      g_partial_line = 0;
      printf("@@");
      for (int a = 0; a < counts[k]; a++) printf(" %s", vargv[a]);
      printf("\n");
    }
    /* Verbs see their own NULL-terminated argv; the original stays intact. */
    char *own[72];
    int c = counts[k] < 71 ? counts[k] : 71;
    for (int a = 0; a < c; a++) own[a] = vargv[a];
    own[c] = NULL;
    find_verb(own[0])->fn(c, own);
    fflush(stdout);
  }
  fflush(stdout);
  return 0;
}
