/*
 * berth-shim: one per container, the only process Berth adds per container.
 *
 *   berth-shim            request frames on stdin (docs/shim-protocol.md), one JSON line on stdout
 *
 * Stage 1 reads the request, creates the state dir and binds the control socket, forks; stage 2
 * setsid()s and forks again (stage 3 is no session leader: no tty becomes its controlling
 * terminal) and exits; stage 3 becomes the container's subreaper, reports ready through a pipe
 * and runs the event loop: one thread, one epoll, signals from a signalfd, no work in handlers.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define MAX_CLIENTS 16
#define CLIENT_OUT_MAX (1024 * 1024) /* an attach client further behind is disconnected */
#define STDIN_MAX (64 * 1024)
#define DRAIN_MS 2000   /* output after the init's exit is read for at most this long */
#define IDLE_MS 30000   /* after the exit record, with no client and no release */

enum tag { T_SIG = 1, T_LISTEN, T_CONLISTEN, T_CONCONN, T_SYNC, T_OUT, T_ERR, T_IN, T_PTY, T_CLIENT = 100 };

enum status { S_NEW, S_CREATING, S_CREATED, S_RUNNING, S_STOPPED };
static const char *status_names[] = {"new", "creating", "created", "running", "stopped"};

struct client {
  int fd;
  unsigned char *in;
  size_t in_len;
  char *out;
  size_t out_len, out_cap;
  bool hello, relay, subscribed, a_out, a_err, a_in, paused, epollout, closing;
  long long wait_id;
  bool waiting;
};

/* ---- configuration (from the request) ---- */
static char *cfg_id, *state_dir, *sock_path, *nsinit_path, *console_path, *runtime_path, *bundle, *cgroup_dir;
static const char *runtime_args[JMAX_ARRAY];
static int runtime_nargs;
static bool cfg_tty, cfg_stdin;
static unsigned short init_rows, init_cols;
static int child_oom_adj;
static char *plan;
static size_t plan_len;

/* ---- state ---- */
static int epfd, sigfd, listen_fd = -1, con_listen = -1, con_conn = -1, sync_fd = -1;
static int out_r = -1, err_r = -1, in_w = -1, pty = -1;
static struct client clients[MAX_CLIENTS];
static struct logfile lg;
static struct linebuf lb_out, lb_err;
static enum status st = S_NEW;
static pid_t helper_pid, init_pid, start_cmd_pid;
static int start_client = -1;
static long long start_req;
static bool helper_done, init_done, released, stdin_close_pending, exit_written, sync_relay_eof;
static int init_status;
static long long started_sec, started_nsec, finished_sec, finished_nsec, created_sec, created_nsec;
static char *fail_message;
static const char *exit_reason = "exited";
static long long drain_deadline, idle_since;
static unsigned long long seq;
static char stdin_q[STDIN_MAX];
static size_t stdin_qlen;
static char syncbuf[8192];
static size_t synclen;
static long long oom_base = -1;
static bool pending_resize, pty_parked;
static struct { pid_t pid; int status; } early[16]; /* exits of pids not yet known */
static int nearly;

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void diag(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  /* fd 2 is the size-capped shim.log in stage 3 (opened O_APPEND; see open_diag) */
  if (write(2, buf, (size_t)n) < 0) {
  }
}

static char *xstrdup(const char *s) {
  char *p = s ? strdup(s) : NULL;
  if (s && !p) abort();
  return p;
}

/* tmp -> fsync -> rename -> fsync(dir): a reader sees the old file or the new one, whole. */
int write_file_atomic(const char *dir, const char *name, const char *data, size_t len) {
  char tmp[4096], dst[4096];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  ssize_t w = write(fd, data, len);
  if (w != (ssize_t)len || fsync(fd) < 0) {
    close(fd);
    unlink(tmp);
    return -1;
  }
  close(fd);
  if (rename(tmp, dst) < 0) return -1;
  int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d >= 0) {
    fsync(d);
    close(d);
  }
  return 0;
}

static void ep_add(int fd, uint32_t ev, uint64_t tag) {
  struct epoll_event e = {.events = ev, .data.u64 = tag};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0) diag("epoll add %d: %s", fd, strerror(errno));
}
static void ep_mod(int fd, uint32_t ev, uint64_t tag) {
  struct epoll_event e = {.events = ev, .data.u64 = tag};
  epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &e);
}
static void ep_del(int fd) { epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

/* ---------------------------------------------------------------- clients */

static void client_close(int i) {
  struct client *c = &clients[i];
  if (c->fd < 0) return;
  ep_del(c->fd);
  close(c->fd);
  free(c->in);
  free(c->out);
  memset(c, 0, sizeof *c);
  c->fd = -1;
  if (start_client == i) start_client = -1;
  bool any = false;
  for (int k = 0; k < MAX_CLIENTS; k++) any |= clients[k].fd >= 0;
  if (!any) idle_since = mono_ms();
}

static void client_update_events(int i) {
  struct client *c = &clients[i];
  uint32_t ev = (c->paused ? 0 : EPOLLIN) | (c->out_len ? EPOLLOUT : 0);
  ep_mod(c->fd, ev, T_CLIENT + (uint64_t)i);
}

static void client_flush(int i) {
  struct client *c = &clients[i];
  while (c->out_len) {
    ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      client_close(i);
      return;
    }
    memmove(c->out, c->out + w, c->out_len - (size_t)w);
    c->out_len -= (size_t)w;
  }
  if (c->closing && !c->out_len) {
    client_close(i);
    return;
  }
  client_update_events(i);
}

/* Queues one frame; a client more than CLIENT_OUT_MAX behind is cut off (it never blocks us). */
static void client_send(int i, int kind, const void *data, size_t n) {
  struct client *c = &clients[i];
  if (c->fd < 0) return;
  if (c->out_len + n + 5 > CLIENT_OUT_MAX) {
    diag("client %d: more than %d bytes behind: disconnected", i, CLIENT_OUT_MAX);
    client_close(i);
    return;
  }
  if (c->out_len + n + 5 > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + n + 5) cap *= 2;
    char *p = realloc(c->out, cap);
    if (!p) abort();
    c->out = p;
    c->out_cap = cap;
  }
  unsigned char h[5] = {(unsigned char)((n + 1) >> 24), (unsigned char)((n + 1) >> 16), (unsigned char)((n + 1) >> 8),
                        (unsigned char)(n + 1), (unsigned char)kind};
  memcpy(c->out + c->out_len, h, 5);
  memcpy(c->out + c->out_len + 5, data, n);
  c->out_len += n + 5;
  client_flush(i);
}

static void client_json(int i, struct sbuf *b) { client_send(i, K_JSON, b->p, b->len); }

static void answer_error(int i, long long id, const char *code, const char *msg) {
  struct sbuf b = {0};
  sb_fmt(&b, "{\"id\":%lld,\"ok\":false,\"error\":", id);
  sb_str(&b, code);
  sb_raw(&b, ",\"message\":", 11);
  sb_str(&b, msg);
  sb_raw(&b, "}", 1);
  client_json(i, &b);
  sb_free(&b);
}

static void answer_ok(int i, long long id, const char *extra) {
  struct sbuf b = {0};
  sb_fmt(&b, "{\"id\":%lld,\"ok\":true%s}", id, extra ? extra : "");
  client_json(i, &b);
  sb_free(&b);
}

static void event(const char *name, const char *extra, bool relay_only) {
  struct sbuf b = {0};
  sb_fmt(&b, "{\"event\":\"%s\",\"seq\":%llu%s}", name, ++seq, extra ? extra : "");
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0 && (relay_only ? clients[i].relay : clients[i].subscribed)) client_json(i, &b);
  sb_free(&b);
}

void on_log_event(const char *what) {
  char extra[96];
  snprintf(extra, sizeof extra, ",\"rotations\":%llu,\"dropped_bytes\":%llu", lg.rotations, lg.dropped);
  event(what, extra, false);
}

/* ---------------------------------------------------------------- the exit record */

static void fmt_ts(char *out, size_t n, long long sec, long long nsec) {
  if (sec == 0) snprintf(out, n, "null");
  else {
    out[0] = '"';
    format_time(out + 1, n - 2, sec, nsec);
    strcat(out, "\"");
  }
}

static int exit_code(void) {
  if (!strcmp(exit_reason, "start_failed") && !init_pid) return 255;
  if (WIFEXITED(init_status)) return WEXITSTATUS(init_status);
  if (WIFSIGNALED(init_status)) return 128 + WTERMSIG(init_status);
  return 255;
}

/* The body of exit.json and of the answers to `wait` (fields after the opening brace). */
static void exit_fields(struct sbuf *b) {
  char s[80], f[80];
  fmt_ts(s, sizeof s, started_sec, started_nsec);
  fmt_ts(f, sizeof f, finished_sec, finished_nsec);
  bool sig = init_pid && WIFSIGNALED(init_status);
  bool oom = false;
  if (cgroup_dir && oom_base >= 0) {
    char path[4096], buf[512];
    snprintf(path, sizeof path, "%s/memory.events", cgroup_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t n = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (n > 0) {
        buf[n] = 0;
        char *p = strstr(buf, "oom_kill ");
        if (p && atoll(p + 9) > oom_base) oom = true;
      }
    }
  }
  sb_fmt(b, "\"v\":1,\"pid\":%d,\"exit_code\":%d,", (int)init_pid, exit_code());
  if (sig) sb_fmt(b, "\"signal\":%d,", WTERMSIG(init_status));
  else sb_raw(b, "\"signal\":null,", 14);
  sb_fmt(b, "\"core_dumped\":%s,\"oom_killed\":%s,\"started_at\":%s,\"finished_at\":%s,\"reason\":\"%s\"",
         sig && WCOREDUMP(init_status) ? "true" : "false", oom ? "true" : "false", s, f, exit_reason);
  if (fail_message) {
    sb_raw(b, ",\"message\":", 11);
    sb_str(b, fail_message);
  }
}

static void finish(void) {
  if (exit_written) return;
  /* The rest of every line, then the log on disk, then the record: whoever reads exit.json
   * finds the whole output before it (conmon's sync_logs). */
  if (out_r >= 0 || pty >= 0) log_feed(&lg, &lb_out, "stdout", true);
  if (err_r >= 0) log_feed(&lg, &lb_err, "stderr", true);
  if (lg.fd >= 0) fsync(lg.fd);
  now_ts(&finished_sec, &finished_nsec);
  struct sbuf b = {0};
  sb_raw(&b, "{", 1);
  exit_fields(&b);
  sb_raw(&b, "}\n", 2);
  if (write_file_atomic(state_dir, "exit.json", b.p, b.len) < 0) diag("write exit.json: %s", strerror(errno));
  exit_written = true;
  st = S_STOPPED;
  idle_since = mono_ms();
  /* exit event, wait answers, end of the attached streams */
  struct sbuf e = {0};
  sb_raw(&e, ",", 1);
  exit_fields(&e);
  event("exited", e.p, false);
  for (int i = 0; i < MAX_CLIENTS; i++) {
    struct client *c = &clients[i];
    if (c->fd < 0) continue;
    if (c->waiting) {
      c->waiting = false;
      answer_ok(i, c->wait_id, e.p);
    }
    unsigned char s1 = K_STDOUT, s2 = K_STDERR;
    if (c->a_out) client_send(i, K_EOF, &s1, 1);
    if (c->fd >= 0 && c->a_err) client_send(i, K_EOF, &s2, 1);
  }
  sb_free(&e);
  sb_free(&b);
  if (out_r >= 0) ep_del(out_r), close(out_r), out_r = -1;
  if (err_r >= 0) ep_del(err_r), close(err_r), err_r = -1;
  if (pty >= 0) ep_del(pty), close(pty), pty = -1;
  if (in_w >= 0) ep_del(in_w), close(in_w), in_w = -1;
}

/* ---------------------------------------------------------------- stdio */

static void fanout(int kind, const char *data, size_t n) {
  for (int i = 0; i < MAX_CLIENTS; i++) {
    struct client *c = &clients[i];
    if (c->fd < 0 || !(kind == K_STDOUT ? c->a_out : c->a_err)) continue;
    client_send(i, kind, data, n);
  }
}

/* Reads one chunk (at most 2 KiB, as moby's copier); returns false at EOF. */
static bool read_stream(int *fd, struct linebuf *lb, const char *stream, int kind) {
  size_t room = log_room(lb);
  ssize_t n = read(*fd, lb->buf + lb->n, room);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n <= 0) {
    /* EOF, or EIO from a pty master once no slave is open (conmon PR #441) */
    log_feed(&lg, lb, stream, true);
    ep_del(*fd);
    close(*fd);
    *fd = -1;
    return false;
  }
  fanout(kind, lb->buf + lb->n, (size_t)n);
  lb->n += (size_t)n;
  log_feed(&lg, lb, stream, false);
  return true;
}

static void stdin_flush(void) {
  int fd = cfg_tty ? pty : in_w;
  if (fd < 0) {
    if (!cfg_tty) stdin_qlen = 0;
    return;
  }
  while (stdin_qlen) {
    ssize_t w = write(fd, stdin_q, stdin_qlen);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      stdin_qlen = 0; /* the reader is gone: drop */
      break;
    }
    memmove(stdin_q, stdin_q + w, stdin_qlen - (size_t)w);
    stdin_qlen -= (size_t)w;
  }
  if (!cfg_tty) {
    if (stdin_qlen) ep_mod(in_w, EPOLLOUT, T_IN);
    else if (stdin_close_pending) {
      ep_del(in_w);
      close(in_w);
      in_w = -1;
    } else
      ep_mod(in_w, 0, T_IN);
  } else if (pty >= 0)
    ep_mod(pty, EPOLLIN | (stdin_qlen ? EPOLLOUT : 0), T_PTY);
  /* a client paused on a full queue may go on */
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0 && clients[i].paused && stdin_qlen < STDIN_MAX / 2) {
      clients[i].paused = false;
      client_update_events(i);
    }
}

static void apply_size(void) {
  if (pty < 0 || !init_rows || !init_cols) return;
  struct winsize ws = {.ws_row = init_rows, .ws_col = init_cols};
  if (ioctl(pty, TIOCSWINSZ, &ws) < 0) diag("resize: %s", strerror(errno));
  pending_resize = false;
}

/* The init stage sends the pty master on the console socket (runc's format, SCM_RIGHTS). */
static void console_recv(void) {
  char data[64];
  char ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {data, sizeof data};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  ssize_t n = recvmsg(con_conn, &m, MSG_CMSG_CLOEXEC);
  if (n < 0 && errno == EAGAIN) return;
  struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL;
  if (cm && cm->cmsg_type == SCM_RIGHTS && pty < 0) {
    memcpy(&pty, CMSG_DATA(cm), sizeof(int));
    fcntl(pty, F_SETFL, fcntl(pty, F_GETFL) | O_NONBLOCK);
    ep_add(pty, EPOLLIN | (stdin_qlen ? EPOLLOUT : 0), T_PTY);
    apply_size();
  }
  ep_del(con_conn);
  close(con_conn);
  con_conn = -1;
  if (con_listen >= 0) ep_del(con_listen), close(con_listen), con_listen = -1;
  if (console_path) unlink(console_path);
}

/* ---------------------------------------------------------------- children */

static void reset_child(int in, int out, int err) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* An ignored SIGPIPE survives execve and would change `yes | head` inside the container. */
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  char adj[16];
  int n = snprintf(adj, sizeof adj, "%d", child_oom_adj);
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (write(fd, adj, (size_t)n) < 0) {
    }
    close(fd);
  }
  int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
  int src[3] = {in >= 0 ? in : nul, out >= 0 ? out : nul, err >= 0 ? err : nul};
  /* dup2 clears O_CLOEXEC on the copy; the originals (all O_CLOEXEC) close on exec */
  for (int k = 0; k < 3; k++) {
    if (src[k] == k) fcntl(k, F_SETFD, 0);
    else dup2(src[k], k);
  }
}

static void mkpipe(int p[2]) {
  if (pipe2(p, O_CLOEXEC) < 0) {
    diag("pipe: %s", strerror(errno));
    _exit(1);
  }
}

/* Sets up the stdio pipes; returns the container's ends through in/out/err. */
static void make_stdio(int *in, int *out, int *err) {
  int p[2];
  *in = *out = *err = -1;
  if (cfg_stdin && !cfg_tty) {
    mkpipe(p);
    *in = p[0];
    in_w = p[1];
    fcntl(in_w, F_SETFL, O_NONBLOCK);
    ep_add(in_w, 0, T_IN);
  }
  /* stdout and stderr pipes always: even a tty container's runtime errors land in stderr */
  mkpipe(p);
  *out = p[1];
  out_r = p[0];
  fcntl(out_r, F_SETFL, O_NONBLOCK);
  ep_add(out_r, EPOLLIN, T_OUT);
  mkpipe(p);
  *err = p[1];
  err_r = p[0];
  fcntl(err_r, F_SETFL, O_NONBLOCK);
  ep_add(err_r, EPOLLIN, T_ERR);
}

static int bind_unix(const char *path, int backlog) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(a.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  unlink(path);
  mode_t old = umask(0177);
  int r = bind(fd, (struct sockaddr *)&a, sizeof a);
  umask(old);
  if (r < 0 || listen(fd, backlog) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static pid_t spawn(char *const argv[], int in, int out, int err, int fd3) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    reset_child(in, out, err);
    if (fd3 >= 0) {
      if (fd3 == 3) fcntl(3, F_SETFD, 0);
      else dup2(fd3, 3);
    }
    execv(argv[0], argv);
    dprintf(2, "berth-shim: exec '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  return pid;
}

static const char **runtime_argv(const char **argv, const char *verb) {
  int k = 0;
  argv[k++] = runtime_path;
  for (int i = 0; i < runtime_nargs; i++) argv[k++] = runtime_args[i];
  argv[k++] = verb;
  return argv + k;
}

static int do_launch(char *err, size_t errn) {
  int in, out, errfd;
  if (console_path) {
    con_listen = bind_unix(console_path, 1);
    if (con_listen < 0) return snprintf(err, errn, "bind console socket '%s': %s", console_path, strerror(errno)), -1;
    ep_add(con_listen, EPOLLIN, T_CONLISTEN);
  }
  make_stdio(&in, &out, &errfd);
  if (runtime_path) {
    /* An OCI runtime binary, as containerd's runc shim drives it. */
    const char *argv[JMAX_ARRAY + 16];
    const char **p = runtime_argv(argv, "create");
    char pidfile[4096];
    snprintf(pidfile, sizeof pidfile, "%s/init.pid", state_dir);
    unlink(pidfile);
    *p++ = "--bundle";
    *p++ = bundle;
    *p++ = "--pid-file";
    *p++ = pidfile;
    if (console_path) *p++ = "--console-socket", *p++ = console_path;
    *p++ = cfg_id;
    *p = NULL;
    helper_pid = spawn((char *const *)argv, in, out, errfd, -1);
  } else {
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
      return snprintf(err, errn, "socketpair: %s", strerror(errno)), -1;
    char *argv[] = {nsinit_path, "3", NULL};
    helper_pid = spawn(argv, in, out, errfd, sp[1]);
    close(sp[1]);
    sync_fd = sp[0];
    /* berth-nsinit reads the whole plan before it says anything: a blocking write is safe, and
     * if it dies, EPIPE (SIGPIPE is blocked) */
    size_t off = 0;
    while (off < plan_len) {
      ssize_t w = send(sync_fd, plan + off, plan_len - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += (size_t)w;
    }
    free(plan);
    plan = NULL;
    fcntl(sync_fd, F_SETFL, O_NONBLOCK);
    ep_add(sync_fd, EPOLLIN, T_SYNC);
  }
  /* the container's ends belong to the container now */
  if (in >= 0) close(in);
  close(out);
  close(errfd);
  if (helper_pid < 0) return snprintf(err, errn, "fork: %s", strerror(errno)), -1;
  st = S_CREATING;
  return 0;
}

static void set_running(void) {
  if (st != S_CREATED) return;
  st = S_RUNNING;
  now_ts(&started_sec, &started_nsec);
  char extra[64];
  snprintf(extra, sizeof extra, ",\"pid\":%d", (int)init_pid);
  event("started", extra, false);
  char s[80];
  fmt_ts(s, sizeof s, started_sec, started_nsec);
  char buf[256];
  int n = snprintf(buf, sizeof buf, "{\"v\":1,\"pid\":%d,\"started_at\":%s}\n", (int)init_pid, s);
  write_file_atomic(state_dir, "state.json", buf, (size_t)n);
  if (start_client >= 0) {
    answer_ok(start_client, start_req, NULL);
    start_client = -1;
  }
}

static void start_failed(const char *msg) {
  free(fail_message);
  fail_message = xstrdup(msg);
  exit_reason = "start_failed";
  if (start_client >= 0) {
    answer_error(start_client, start_req, "EFAILED", msg);
    start_client = -1;
  }
}

static void init_exited(int status) {
  if (init_done) return;
  init_done = true;
  init_status = status;
  if (st == S_CREATED && !fail_message && !strcmp(exit_reason, "exited")) {
    /* died between created and exec: a failed start */
  }
  if (st != S_RUNNING && !fail_message) {
    char m[128];
    snprintf(m, sizeof m, "the container process exited with status %d before it started", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    start_failed(m);
  }
  /* Processes that outlive the init (host pid namespace) go with it, as the runc shim does. */
  if (cgroup_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/cgroup.kill", cgroup_dir);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (write(fd, "1", 1) < 0) diag("cgroup.kill: %s", strerror(errno));
      close(fd);
    }
  }
  drain_deadline = mono_ms() + DRAIN_MS;
}

static void set_init_pid(pid_t pid) {
  init_pid = pid;
  for (int k = 0; k < nearly; k++)
    if (early[k].pid == pid) init_exited(early[k].status);
}

static void on_sync_line(char *line) {
  if (!strncmp(line, "pid ", 4)) set_init_pid((pid_t)atoi(line + 4));
  else if (!strcmp(line, "created")) {
    st = S_CREATED;
    now_ts(&created_sec, &created_nsec);
  } else if (!strncmp(line, "error ", 6)) {
    /* `error <errno> <message>`, percent-encoded: keep nsinit's words verbatim */
    char *msg = strchr(line + 6, ' ');
    char dec[4096];
    size_t k = 0;
    for (char *p = msg ? msg + 1 : line; *p && k < sizeof dec - 1; p++) {
      if (*p == '%' && p[1] && p[2]) {
        char h[3] = {p[1], p[2], 0};
        dec[k++] = (char)strtol(h, NULL, 16);
        p += 2;
      } else
        dec[k++] = *p;
    }
    dec[k] = 0;
    start_failed(dec);
  }
  struct sbuf b = {0};
  sb_raw(&b, ",\"line\":", 8);
  sb_str(&b, line);
  event("sync", b.p, true);
  sb_free(&b);
}

static void read_sync(void) {
  ssize_t n = recv(sync_fd, syncbuf + synclen, sizeof syncbuf - 1 - synclen, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    ep_del(sync_fd);
    close(sync_fd);
    sync_fd = -1;
    /* The init stage's copy is close-on-exec: EOF after `created` is the exec. */
    if (st == S_CREATED && !fail_message) set_running();
    sync_relay_eof = true;
    event("sync_eof", NULL, true);
    return;
  }
  synclen += (size_t)n;
  char *p = syncbuf, *nl;
  while ((nl = memchr(p, '\n', synclen - (size_t)(p - syncbuf)))) {
    *nl = 0;
    on_sync_line(p);
    p = nl + 1;
  }
  synclen -= (size_t)(p - syncbuf);
  memmove(syncbuf, p, synclen);
  if (synclen == sizeof syncbuf - 1) synclen = 0; /* an overlong line: dropped */
}

static void read_pidfile(void) {
  char path[4096], buf[32];
  snprintf(path, sizeof path, "%s/init.pid", state_dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n > 0) {
    buf[n] = 0;
    set_init_pid((pid_t)atoi(buf));
  }
}

static void on_child(pid_t pid, int status) {
  if (pid == helper_pid) {
    helper_pid = 0;
    helper_done = true;
    char extra[48];
    snprintf(extra, sizeof extra, ",\"status\":%d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    event("helper_exited", extra, true);
    if (runtime_path) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        read_pidfile();
        if (init_pid) st = S_CREATED, now_ts(&created_sec, &created_nsec);
      }
      if (!init_pid) {
        snprintf(extra, sizeof extra, "%s create exited with status %d", "runtime", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        start_failed(extra);
        init_status = status;
        init_done = true;
        drain_deadline = mono_ms() + DRAIN_MS;
      }
    } else if (!init_pid || (st < S_CREATED && !fail_message)) {
      if (!fail_message) start_failed("berth-nsinit exited before the container was created");
      if (!init_pid) {
        init_done = true;
        init_status = status;
        drain_deadline = mono_ms() + DRAIN_MS;
      }
    }
    /* The parent stage may have reaped an init that died early: its status is then lost to us. */
    if (init_pid && !init_done && kill(init_pid, 0) < 0 && errno == ESRCH) init_exited(status);
    return;
  }
  if (pid == start_cmd_pid) {
    start_cmd_pid = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) set_running();
    else if (start_client >= 0) {
      answer_error(start_client, start_req, "EFAILED", "runtime start failed (see the container's log)");
      start_client = -1;
    }
    return;
  }
  if (init_pid && pid == init_pid) {
    init_exited(status);
    return;
  }
  if (!init_pid && nearly < (int)(sizeof early / sizeof early[0])) early[nearly].pid = pid, early[nearly++].status = status;
}

/* ---------------------------------------------------------------- requests */

static struct jobj req;

static void op_state(int i, long long id) {
  struct sbuf b = {0};
  char c[80], s[80];
  fmt_ts(c, sizeof c, created_sec, created_nsec);
  fmt_ts(s, sizeof s, started_sec, started_nsec);
  sb_fmt(&b, ",\"status\":\"%s\",\"pid\":%d,\"shim_pid\":%d,\"created_at\":%s,\"started_at\":%s", status_names[st],
         (int)init_pid, (int)getpid(), c, s);
  sb_fmt(&b, ",\"tty\":%s,\"log_rotations\":%llu,\"log_dropped_bytes\":%llu,\"seq\":%llu", cfg_tty ? "true" : "false",
         lg.rotations, lg.dropped, seq);
  if (exit_written) {
    sb_raw(&b, ",\"exit\":{", 9);
    exit_fields(&b);
    sb_raw(&b, "}", 1);
  }
  answer_ok(i, id, b.p);
  sb_free(&b);
}

static int signal_all(int sig) {
  if (!cgroup_dir) return -1;
  char path[4096];
  if (sig == SIGKILL) {
    snprintf(path, sizeof path, "%s/cgroup.kill", cgroup_dir);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t w = write(fd, "1", 1);
      close(fd);
      if (w == 1) return 0;
    }
  }
  snprintf(path, sizeof path, "%s/cgroup.procs", cgroup_dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[8192];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  for (char *p = buf; *p;) {
    pid_t pid = (pid_t)strtol(p, &p, 10);
    if (pid > 0) kill(pid, sig);
    while (*p == '\n') p++;
  }
  return 0;
}

static void handle_json(int i, const unsigned char *data, size_t n) {
  struct client *c = &clients[i];
  const char *err;
  if (json_parse(&req, (const char *)data, n, &err) < 0) {
    answer_error(i, 0, "EINVAL", err);
    return;
  }
  long long id = 0;
  json_int(&req, "id", &id);
  const char *op = json_str(&req, "op");
  if (!op) return answer_error(i, id, "EINVAL", "no 'op'");
  if (!c->hello && strcmp(op, "hello")) return answer_error(i, id, "EPROTO", "the first request must be 'hello'");
  if (!strcmp(op, "hello")) {
    long long v = 0;
    if (!json_int(&req, "v", &v) || v != PROTO_VERSION) {
      char m[96];
      snprintf(m, sizeof m, "protocol version %lld is not supported (this shim speaks %d)", v, PROTO_VERSION);
      answer_error(i, id, "EPROTONOSUPPORT", m);
      c->closing = true;
      client_flush(i);
      return;
    }
    c->hello = true;
    char extra[160];
    snprintf(extra, sizeof extra,
             ",\"v\":%d,\"shim\":\"%s\",\"pid\":%d,\"features\":[\"attach\",\"resize\",\"wait\",\"subscribe\",\"runtime\"]",
             PROTO_VERSION, SHIM_VERSION, (int)getpid());
    return answer_ok(i, id, extra);
  }
  if (!strcmp(op, "state")) return op_state(i, id);
  if (!strcmp(op, "launch")) {
    if (st != S_NEW) return answer_error(i, id, "EALREADY", "the container was launched already");
    if (!runtime_path && !plan) return answer_error(i, id, "EINVAL", "no plan was given");
    char m[512];
    c->relay = true;
    if (do_launch(m, sizeof m) < 0) {
      start_failed(m);
      init_done = true;
      drain_deadline = mono_ms();
      return answer_error(i, id, "EFAILED", m);
    }
    char extra[48];
    snprintf(extra, sizeof extra, ",\"helper_pid\":%d", (int)helper_pid);
    return answer_ok(i, id, extra);
  }
  if (!strcmp(op, "send")) {
    const char *line = json_str(&req, "line");
    if (!line || strchr(line, '\n')) return answer_error(i, id, "EINVAL", "'line' must be a string without a newline");
    if (sync_fd < 0) return answer_error(i, id, "EPIPE", "the sync channel is closed");
    char buf[1024];
    int k = snprintf(buf, sizeof buf, "%s\n", line);
    if (k < 0 || (size_t)k >= sizeof buf || send(sync_fd, buf, (size_t)k, MSG_NOSIGNAL) != k)
      return answer_error(i, id, "EPIPE", "write to berth-nsinit failed");
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "start")) {
    if (st == S_RUNNING) return answer_ok(i, id, NULL);
    if (st != S_CREATED) return answer_error(i, id, "ESTATE", "the container is not created");
    if (start_client >= 0) return answer_error(i, id, "EBUSY", "a start is in progress");
    start_client = i;
    start_req = id;
    if (runtime_path) {
      const char *argv[JMAX_ARRAY + 8];
      const char **p = runtime_argv(argv, "start");
      *p++ = cfg_id;
      *p = NULL;
      start_cmd_pid = spawn((char *const *)argv, -1, -1, -1, -1);
    } else if (sync_fd < 0 || send(sync_fd, "start\n", 6, MSG_NOSIGNAL) != 6) {
      start_client = -1;
      return answer_error(i, id, "EPIPE", "the sync channel is closed (started through the start socket?)");
    }
    return;
  }
  if (!strcmp(op, "kill")) {
    long long sig = SIGTERM;
    json_int(&req, "signal", &sig);
    if (sig < 1 || sig >= NSIG) return answer_error(i, id, "EINVAL", "bad signal");
    if (json_bool(&req, "all", false)) {
      if (signal_all((int)sig) < 0) return answer_error(i, id, "ENOENT", "no cgroup to signal");
      return answer_ok(i, id, NULL);
    }
    if (!init_pid || init_done) return answer_error(i, id, "ESRCH", "the container is not running");
    if (kill(init_pid, (int)sig) < 0) return answer_error(i, id, "ESRCH", strerror(errno));
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "resize")) {
    long long r = 0, cc = 0;
    if (!json_int(&req, "rows", &r) || !json_int(&req, "cols", &cc) || r < 1 || cc < 1 || r > 65535 || cc > 65535)
      return answer_error(i, id, "EINVAL", "rows and cols must be integers in 1..65535");
    if (!cfg_tty) return answer_error(i, id, "ENOTTY", "the container has no terminal");
    init_rows = (unsigned short)r, init_cols = (unsigned short)cc;
    pending_resize = true;
    apply_size(); /* before the master arrives: stored, applied on arrival */
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "attach")) {
    c->a_in = json_bool(&req, "stdin", false);
    c->a_out = json_bool(&req, "stdout", true);
    c->a_err = json_bool(&req, "stderr", true) && !cfg_tty;
    answer_ok(i, id, NULL);
    if (exit_written) {
      unsigned char s1 = K_STDOUT, s2 = K_STDERR;
      if (c->a_out) client_send(i, K_EOF, &s1, 1);
      if (clients[i].fd >= 0 && c->a_err) client_send(i, K_EOF, &s2, 1);
    }
    return;
  }
  if (!strcmp(op, "close_stdin")) {
    stdin_close_pending = true;
    if (!cfg_tty) stdin_flush();
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "wait")) {
    if (exit_written) {
      struct sbuf b = {0};
      sb_raw(&b, ",", 1);
      exit_fields(&b);
      answer_ok(i, id, b.p);
      sb_free(&b);
    } else
      c->waiting = true, c->wait_id = id;
    return;
  }
  if (!strcmp(op, "subscribe")) {
    c->subscribed = true;
    char extra[48];
    snprintf(extra, sizeof extra, ",\"seq\":%llu", seq);
    return answer_ok(i, id, extra);
  }
  if (!strcmp(op, "reopen_log")) {
    if (lg.fd >= 0) close(lg.fd);
    if (log_open(&lg) < 0) return answer_error(i, id, "EIO", strerror(errno));
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "release")) {
    released = true;
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "shutdown")) {
    if (!exit_written && !json_bool(&req, "force", false))
      return answer_error(i, id, "EBUSY", "the container is still running (use force)");
    if (helper_pid) kill(helper_pid, SIGKILL);
    if (init_pid && !init_done) kill(init_pid, SIGKILL);
    signal_all(SIGKILL);
    released = true;
    return answer_ok(i, id, NULL);
  }
  answer_error(i, id, "ENOSYS", "unknown op");
}

static void handle_frame(int i, int kind, const unsigned char *data, size_t n) {
  struct client *c = &clients[i];
  if (kind == K_JSON) return handle_json(i, data, n);
  if (kind == K_STDIN && c->hello && c->a_in) {
    memcpy(stdin_q + stdin_qlen, data, n);
    stdin_qlen += n;
    stdin_flush();
    return;
  }
  if (kind == K_EOF && c->a_in && n == 1 && data[0] == K_STDIN) {
    stdin_close_pending = true;
    if (!cfg_tty) stdin_flush();
    return;
  }
  /* anything else is a protocol error: this connection goes, never the shim */
  c->closing = true;
  client_flush(i);
}

static void client_read(int i) {
  struct client *c = &clients[i];
  for (;;) {
    if (c->fd < 0 || c->closing) return;
    /* a complete frame waiting? */
    if (c->in_len >= 5) {
      uint32_t len = (uint32_t)c->in[0] << 24 | (uint32_t)c->in[1] << 16 | (uint32_t)c->in[2] << 8 | c->in[3];
      int kind = c->in[4];
      size_t max = kind == K_JSON ? MAX_JSON_FRAME : MAX_DATA_FRAME;
      if (len < 1 || len - 1 > max || kind > K_EOF) {
        diag("client %d: bad frame (length %u, kind %d): disconnected", i, len, kind);
        client_close(i);
        return;
      }
      size_t need = 4 + (size_t)len;
      if (c->in_len >= need) {
        if (kind == K_STDIN && stdin_qlen + (len - 1) > STDIN_MAX) {
          /* stdin backpressure: stop reading this client until the queue drains */
          c->paused = true;
          client_update_events(i);
          return;
        }
        handle_frame(i, kind, c->in + 5, len - 1);
        if (c->fd < 0) return;
        memmove(c->in, c->in + need, c->in_len - need);
        c->in_len -= need;
        continue;
      }
    }
    if (c->paused) return;
    if (!c->in) {
      c->in = malloc(MAX_JSON_FRAME + 5);
      if (!c->in) abort();
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, MAX_JSON_FRAME + 5 - c->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      client_close(i); /* a dropped connection is a detach: the container does not notice */
      return;
    }
    c->in_len += (size_t)n;
  }
}

static void accept_client(void) {
  int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  struct ucred cr;
  socklen_t cl = sizeof cr;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != geteuid()) {
    close(fd);
    return;
  }
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd < 0) {
      memset(&clients[i], 0, sizeof clients[i]);
      clients[i].fd = fd;
      ep_add(fd, EPOLLIN, T_CLIENT + (uint64_t)i);
      return;
    }
  close(fd); /* at most MAX_CLIENTS */
}

/* ---------------------------------------------------------------- main loop */

static void reap(void) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    on_child(pid, status);
  }
}

static void loop(void) {
  struct epoll_event evs[16];
  for (;;) {
    long long now = mono_ms();
    if (init_done && !exit_written) {
      bool open_out = out_r >= 0 || err_r >= 0 || pty >= 0;
      if (!open_out || now >= drain_deadline) finish();
    }
    bool any = false;
    for (int k = 0; k < MAX_CLIENTS; k++) any |= clients[k].fd >= 0;
    if (exit_written && (released || (!any && now - idle_since >= IDLE_MS))) {
      bool pending = false;
      for (int k = 0; k < MAX_CLIENTS; k++) pending |= clients[k].fd >= 0 && clients[k].out_len > 0;
      if (!pending) return;
    }
    int timeout = -1;
    if (init_done && !exit_written) timeout = (int)(drain_deadline > now ? drain_deadline - now : 0);
    else if (exit_written) timeout = released ? 50 : (any ? 1000 : (int)(IDLE_MS - (now - idle_since) + 1));
    if (timeout > 1000 && exit_written) timeout = 1000;
    if (pty_parked && (timeout < 0 || timeout > 100)) timeout = 100;
    int n = epoll_wait(epfd, evs, 16, timeout);
    for (int k = 0; k < n; k++) {
      uint64_t tag = evs[k].data.u64;
      uint32_t e = evs[k].events;
      if (tag == T_SIG) {
        struct signalfd_siginfo si;
        while (read(sigfd, &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGCHLD) reap();
          else if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && init_pid && !init_done)
            kill(init_pid, (int)si.ssi_signo);
        }
      } else if (tag == T_LISTEN)
        accept_client();
      else if (tag == T_CONLISTEN) {
        int fd = accept4(con_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0 && con_conn < 0) {
          con_conn = fd;
          ep_add(fd, EPOLLIN, T_CONCONN);
        } else if (fd >= 0)
          close(fd);
      } else if (tag == T_CONCONN)
        console_recv();
      else if (tag == T_SYNC)
        read_sync();
      else if (tag == T_OUT && out_r >= 0)
        read_stream(&out_r, &lb_out, "stdout", K_STDOUT);
      else if (tag == T_ERR && err_r >= 0)
        read_stream(&err_r, &lb_err, "stderr", K_STDERR);
      else if (tag == T_IN)
        stdin_flush();
      else if (tag == T_PTY && pty >= 0) {
        if (e & EPOLLOUT) stdin_flush();
        if (pty >= 0 && (e & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
          /* HUP with no data: the slave is closed for now; after the init's exit, EOF */
          if (!(e & EPOLLIN) && !init_done) {
            /* poll again in 100 ms, as conmon does: the slave may be reopened */
            ep_mod(pty, stdin_qlen ? EPOLLOUT : 0, T_PTY);
            pty_parked = true;
          } else
            read_stream(&pty, &lb_out, "stdout", K_STDOUT);
        }
      } else if (tag >= T_CLIENT && tag < T_CLIENT + MAX_CLIENTS) {
        int i = (int)(tag - T_CLIENT);
        if (e & EPOLLOUT) client_flush(i);
        if (clients[i].fd >= 0 && (e & (EPOLLIN | EPOLLHUP | EPOLLERR))) client_read(i);
      }
    }
    /* a pty parked on HUP is polled again after the init exits or 100 ms later */
    if (pty >= 0 && pty_parked && (init_done || n == 0)) {
      pty_parked = false;
      ep_mod(pty, EPOLLIN | (stdin_qlen ? EPOLLOUT : 0), T_PTY);
    }
  }
}

/* ---------------------------------------------------------------- startup */

static char *reqbuf;
static size_t reqlen;

static void fail(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(int fd, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
  if (write(fd, buf, (size_t)n) < 0) {
  }
  _exit(1);
}

static void read_request(void) {
  size_t cap = 0;
  for (;;) {
    if (reqlen + 65536 > cap) {
      cap = cap ? cap * 2 : 131072;
      if (cap > MAX_PLAN_FRAME + MAX_JSON_FRAME + 64) fail(2, "berth-shim: request too large\n");
      reqbuf = realloc(reqbuf, cap);
      if (!reqbuf) fail(2, "berth-shim: out of memory\n");
    }
    ssize_t n = read(0, reqbuf + reqlen, cap - reqlen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(2, "berth-shim: read request: %s\n", strerror(errno));
    if (n == 0) break;
    reqlen += (size_t)n;
  }
}

static const char *cfg_str(const char *key, bool required) {
  const char *v = json_str(&req, key);
  if (required && (!v || !*v)) fail(2, "berth-shim: request: '%s' is required\n", key);
  return v && *v ? v : NULL;
}

static void parse_request(void) {
  size_t off = 0;
  const unsigned char *b = (const unsigned char *)reqbuf;
  bool have_json = false;
  while (off + 5 <= reqlen) {
    uint32_t len = (uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 | (uint32_t)b[off + 2] << 8 | b[off + 3];
    int kind = b[off + 4];
    if (len < 1 || off + 4 + len > reqlen) fail(2, "berth-shim: request: truncated frame\n");
    const char *data = reqbuf + off + 5;
    size_t n = len - 1;
    if (kind == K_JSON && !have_json) {
      const char *err;
      if (n > MAX_JSON_FRAME || json_parse(&req, data, n, &err) < 0)
        fail(2, "berth-shim: request: %s\n", n > MAX_JSON_FRAME ? "too large" : err);
      have_json = true;
    } else if (kind == K_PLAN && !plan) {
      plan = malloc(n ? n : 1);
      if (!plan) fail(2, "berth-shim: out of memory\n");
      memcpy(plan, data, n);
      plan_len = n;
    } else
      fail(2, "berth-shim: request: unexpected frame of kind %d\n", kind);
    off += 4 + len;
  }
  if (off != reqlen) fail(2, "berth-shim: request: truncated frame\n");
  if (!have_json) fail(2, "berth-shim: request: no JSON frame\n");
  long long v = 0;
  if (!json_int(&req, "v", &v) || v != PROTO_VERSION) fail(2, "berth-shim: request: 'v' must be %d\n", PROTO_VERSION);
  cfg_id = xstrdup(cfg_str("id", true));
  state_dir = xstrdup(cfg_str("state_dir", true));
  sock_path = xstrdup(cfg_str("socket", false));
  nsinit_path = xstrdup(cfg_str("nsinit", false));
  runtime_path = xstrdup(cfg_str("runtime", false));
  bundle = xstrdup(cfg_str("bundle", false));
  console_path = xstrdup(cfg_str("console_socket", false));
  cgroup_dir = xstrdup(cfg_str("cgroup", false));
  const char *logp = cfg_str("log_path", false);
  lg.path = logp ? xstrdup(logp) : NULL;
  lg.fd = -1;
  long long x;
  lg.max_size = json_int(&req, "log_max_size", &x) ? x : 20 * 1000 * 1000; /* docker's `local` driver */
  lg.max_file = json_int(&req, "log_max_file", &x) ? (int)x : 5;
  if (lg.max_file < 1 || lg.max_file > 100) fail(2, "berth-shim: request: log_max_file must be 1..100\n");
  cfg_tty = json_bool(&req, "tty", false);
  cfg_stdin = json_bool(&req, "stdin", false);
  init_rows = json_int(&req, "rows", &x) && x > 0 && x < 65536 ? (unsigned short)x : 0;
  init_cols = json_int(&req, "cols", &x) && x > 0 && x < 65536 ? (unsigned short)x : 0;
  child_oom_adj = json_int(&req, "oom_score_adj", &x) && x >= -1000 && x <= 1000 ? (int)x : 0;
  const struct jfield *ra = json_field(&req, "runtime_args");
  if (ra && ra->type == J_ARR)
    for (int k = 0; k < ra->n && k < JMAX_ARRAY - 8; k++) runtime_args[runtime_nargs++] = xstrdup(ra->arr[k]);
  if (!nsinit_path == !runtime_path) fail(2, "berth-shim: request: exactly one of 'nsinit' and 'runtime' is required\n");
  if (runtime_path && !bundle) fail(2, "berth-shim: request: 'runtime' needs 'bundle'\n");
  if (nsinit_path && !plan) fail(2, "berth-shim: request: 'nsinit' needs a plan frame\n");
  if (cfg_tty && !console_path) fail(2, "berth-shim: request: 'tty' needs 'console_socket'\n");
  free(reqbuf);
  reqbuf = NULL;
}

static void start_time(char *out, size_t n) {
  char buf[1024];
  out[0] = 0;
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r <= 0) return;
  buf[r] = 0;
  char *p = strrchr(buf, ')');
  for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
  if (p) {
    size_t k = 0;
    p++;
    while (*p && *p != ' ' && k < n - 1) out[k++] = *p++;
    out[k] = 0;
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
    printf("berth-shim %s (protocol %d)\n", SHIM_VERSION, PROTO_VERSION);
    return 0;
  }
  if (argc > 1) {
    fprintf(stderr, "usage: berth-shim < request (see docs/shim-protocol.md)\n");
    return 2;
  }
  /* ---- stage 1: validate, create, bind ---- */
  read_request();
  parse_request();
  if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) fail(2, "berth-shim: mkdir '%s': %s\n", state_dir, strerror(errno));
  char path[4096];
  if (!sock_path) {
    snprintf(path, sizeof path, "%s/shim.sock", state_dir);
    sock_path = xstrdup(path);
  }
  /* a stale socket of a dead shim is replaced; a live one is refused */
  {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(sock_path) >= sizeof a.sun_path) fail(2, "berth-shim: socket path '%s' is longer than %zu bytes\n", sock_path, sizeof a.sun_path - 1);
    strcpy(a.sun_path, sock_path);
    int t = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t >= 0 && connect(t, (struct sockaddr *)&a, sizeof a) == 0) fail(2, "berth-shim: a shim already serves '%s'\n", sock_path);
    if (t >= 0) close(t);
  }
  listen_fd = bind_unix(sock_path, 16);
  if (listen_fd < 0) fail(2, "berth-shim: bind '%s': %s\n", sock_path, strerror(errno));
  snprintf(path, sizeof path, "%s/exit.json", state_dir);
  unlink(path); /* never read an earlier run's record as this one's (podman #23107) */
  snprintf(path, sizeof path, "%s/state.json", state_dir);
  unlink(path);
  if (lg.path && log_open(&lg) < 0) fail(2, "berth-shim: open log '%s': %s\n", lg.path, strerror(errno));

  int hs[2];
  if (pipe2(hs, O_CLOEXEC) < 0) fail(2, "berth-shim: pipe: %s\n", strerror(errno));
  pid_t p2 = fork();
  if (p2 < 0) fail(2, "berth-shim: fork: %s\n", strerror(errno));
  if (p2 > 0) {
    close(hs[1]);
    int status;
    waitpid(p2, &status, 0);
    char buf[1024];
    size_t n = 0;
    for (;;) {
      ssize_t r = read(hs[0], buf + n, sizeof buf - 1 - n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      n += (size_t)r;
    }
    buf[n] = 0;
    if (n == 0) {
      fprintf(stderr, "berth-shim: the monitor died while starting\n");
      return 1;
    }
    if (buf[0] != '{') {
      fprintf(stderr, "berth-shim: %s\n", buf);
      return 1;
    }
    fputs(buf, stdout);
    return 0;
  }
  /* ---- stage 2 ---- */
  close(hs[0]);
  if (setsid() < 0) fail(hs[1], "setsid: %s", strerror(errno));
  pid_t p3 = fork();
  if (p3 < 0) fail(hs[1], "fork: %s", strerror(errno));
  if (p3 > 0) _exit(0);
  /* ---- stage 3: the monitor ---- */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) fail(hs[1], "set subreaper: %s", strerror(errno));
  if (chdir("/") < 0) fail(hs[1], "chdir /: %s", strerror(errno));
  umask(022);
  int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
  snprintf(path, sizeof path, "%s/shim.log", state_dir);
  int dl = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
  struct stat dst;
  if (dl >= 0 && fstat(dl, &dst) == 0 && dst.st_size > 1024 * 1024 && ftruncate(dl, 0) < 0) {
  } /* capped */
  dup2(nul, 0);
  dup2(nul, 1);
  dup2(dl >= 0 ? dl : nul, 2);
  if (dl > 2) close(dl);
  if (nul > 2) close(nul);
  /* anything inherited from the caller closes on exec: only what we hand over reaches a child */
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3; fd < 1024; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  /* the shim must outlive an OOM in its container: -999; children get the container's value */
  int of = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (of >= 0) {
    if (write(of, "-999", 4) < 0) {
    }
    close(of);
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGPIPE);
  sigprocmask(SIG_BLOCK, &set, NULL);
  sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (sigfd < 0 || epfd < 0) fail(hs[1], "signalfd/epoll: %s", strerror(errno));
  for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;
  ep_add(sigfd, EPOLLIN, T_SIG);
  ep_add(listen_fd, EPOLLIN, T_LISTEN);
  if (cgroup_dir) {
    char ev[4096], buf[512];
    snprintf(ev, sizeof ev, "%s/memory.events", cgroup_dir);
    int fd = open(ev, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t n = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (n > 0) {
        buf[n] = 0;
        char *p = strstr(buf, "oom_kill ");
        oom_base = p ? atoll(p + 9) : 0;
      }
    }
  }
  char stt[32], info[4096];
  start_time(stt, sizeof stt);
  struct sbuf b = {0};
  sb_fmt(&b, "{\"v\":1,\"shim\":\"%s\",\"pid\":%d,\"start_time\":\"%s\",\"socket\":", SHIM_VERSION, (int)getpid(), stt);
  sb_str(&b, sock_path);
  sb_raw(&b, "}\n", 2);
  if (write_file_atomic(state_dir, "shim.json", b.p, b.len) < 0) fail(hs[1], "write shim.json: %s", strerror(errno));
  sb_free(&b);
  int n = snprintf(info, sizeof info, "{\"ok\":true,\"v\":%d,\"pid\":%d,\"start_time\":\"%s\",\"socket\":\"%s\"}\n", PROTO_VERSION,
                   (int)getpid(), stt, sock_path);
  if (write(hs[1], info, (size_t)n) < 0) {
  }
  close(hs[1]);
  idle_since = mono_ms();
  loop();
  unlink(sock_path);
  return 0;
}
