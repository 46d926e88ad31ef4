/*
 * berth-shim: one per container, the only process Berth adds per container.
 *
 *   berth-shim            request frames on stdin (docs/shim-protocol.md), one JSON line on stdout
 *
 * Stage 1 reads the request, creates the state dir and binds the control socket, setsid()s and
 * forks, relays the monitor's handshake and exits; stage 2, the monitor (no session leader: no
 * tty becomes its controlling terminal), becomes the container's subreaper, reports ready
 * through a pipe and runs the event loop: one thread, one epoll, signals from a signalfd, no
 * work in handlers. With `launch` in the request it launches the container right after the
 * handshake, holding nsinit's messages until a connection claims them with `launch`.
 *
 * It monitors processes: proc 0 is the container's init (logged, exit.json), the others are
 * execs (a second berth-nsinit with a join plan and `wait 1`: the parent stage stays, since an
 * exec'd process orphaned in a pid namespace goes to the container's init, never to us, and
 * its exit status is the exec's).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
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
#define MAX_PROCS 17                 /* the init and 16 execs */
#define HELD_MAX 8                   /* events held for a connection yet to claim a launch */
#define CLIENT_OUT_MAX (1024 * 1024) /* an attach client further behind is disconnected */
#define STDIN_MAX (64 * 1024)
#define DRAIN_MS 2000 /* output after a process's exit is read for at most this long */
#define IDLE_MS 30000 /* after the exit record, with no client and no release */

/* epoll tags: per process (index + 1) << 8 | what; clients from T_CLIENT on */
enum { T_SYNC = 1, T_OUT, T_ERR, T_IN, T_PTY, T_CONLISTEN, T_CONCONN };
#define T_SIG 1u
#define T_LISTEN 2u
#define T_CLIENT 0x100000u
#define PTAG(pi, what) ((uint64_t)((pi) + 1) << 8 | (uint64_t)(what))

enum status { S_NEW, S_CREATING, S_CREATED, S_RUNNING, S_STOPPED };
static const char *status_names[] = {"new", "creating", "created", "running", "stopped"};

struct proc {
  bool used;
  char *exec_id; /* NULL for the init */
  enum status st;
  pid_t helper_pid, pid, start_cmd_pid;
  bool done, final; /* the process exited; its record is complete (output drained) */
  int code, sig;    /* exit code (128+sig for a signal), signal or 0 */
  bool core;
  int sync_fd, out_r, err_r, in_w, pty, con_listen, con_conn;
  char *console_path;
  char *syncbuf;
  size_t synclen;
  bool tty, want_stdin, stdin_close_pending, pty_parked;
  unsigned short rows, cols;
  char *stdin_q;
  size_t stdin_qlen;
  int relay, start_client;
  long long start_req;
  /* Launched at start-up (the request's `launch`): until a connection claims it with `launch`,
   * the events for that connection are held here, and a launch error is kept for its answer. */
  bool relay_held;
  char *held[HELD_MAX];
  size_t held_len[HELD_MAX];
  int nheld;
  char *launch_error;
  long long created_sec, created_nsec, started_sec, started_nsec, finished_sec, finished_nsec;
  char *fail_message;
  const char *reason;
  long long drain_deadline;
  bool waited; /* an exec's exit was delivered: its slot may be reused */
  bool autostarted; /* `start` went to nsinit when it said `created` (the request's `start`) */
};

struct client {
  int fd;
  unsigned char *in;
  size_t in_len, in_cap;
  char *out;
  size_t out_len, out_cap;
  bool hello, subscribed, a_out, a_err, a_in, paused, closing, waiting;
  int proc; /* attached to, or -1 */
  int wait_proc;
  long long wait_id;
  char *plan; /* a plan frame for the next `exec` */
  size_t plan_len;
};

/* ---- configuration (from the request) ---- */
static char *cfg_id, *state_dir, *sock_path, *nsinit_path, *console_path, *runtime_path, *bundle, *cgroup_dir;
static char *shim_cgroups[JMAX_ARRAY];
static int shim_ncgroups;
static const char *runtime_args[JMAX_ARRAY];
static int runtime_nargs;
static bool cfg_tty, cfg_stdin, cfg_launch, cfg_start;
static unsigned short init_rows, init_cols;
static int child_oom_adj;
static char *plan;
static size_t plan_len;
/* The spawner's sealed in-memory copy of berth-nsinit (spawner_main) and the path it was made
 * from: a launch of that path executes the copy, which berth-nsinit would otherwise make itself
 * (CVE-2019-5736: ~0.3 ms of copying and a second execve per container and per exec). */
static int nsinit_copy = -1;
static const char *nsinit_copy_of;

/* ---- state ---- */
static int epfd, sigfd, listen_fd = -1;
static struct client clients[MAX_CLIENTS];
static struct proc procs[MAX_PROCS];
static struct logfile lg;
static struct linebuf lb_out, lb_err;
static bool released, exit_written;
/* A reference to the container's mount namespace, held from the init's pid to our own exit:
 * without it the namespace went with the init's last reference, and its teardown — an RCU grace
 * period, every mount undone, the overlay syncing its upper filesystem — were the init's last
 * steps before its exit reached us (~1.2 ms of every `docker run`, measured here). With it, the
 * teardown is our exit's, after berthd released us, when nobody waits for it. Never passed on:
 * close-on-exec, and our children close what they inherit. */
static int init_mntns = -1;
static long long idle_since;
static unsigned long long seq;
static long long oom_base = -1;
static struct {
  pid_t pid;
  int status;
} early[16]; /* exits of pids not yet known */
static int nearly;
static char rdbuf[8192]; /* exec output: passed on, not logged */

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
  /* fd 2 is shim.log in the monitor */
  if (write(2, buf, (size_t)n) < 0) {
  }
}

static char *xstrdup(const char *s) {
  char *p = s ? strdup(s) : NULL;
  if (s && !p) abort();
  return p;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}

/*
 * tmp -> rename: a reader sees the old file or the new one, whole, whatever process dies when.
 * No fsync: these records live in the exec root (/run/berth by default, a tmpfs), whose contents
 * do not outlive the machine by contract (as dockerd's and containerd's); after a power loss no
 * container runs, and berthd finds a shim that is not there (docs/shim-protocol.md). On an exec
 * root on disk an fsync here cost ~2.5 ms of every start and every exit.
 */
int write_file_atomic(const char *dir, const char *name, const char *data, size_t len) {
  char tmp[4096], dst[4096];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  int fd = openat(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) return -1;
  ssize_t w = write(fd, data, len);
  if (w != (ssize_t)len) {
    close(fd);
    unlink(tmp);
    return -1;
  }
  if (close(fd) < 0 || rename(tmp, dst) < 0) {
    unlink(tmp);
    return -1;
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
static void close_fd(int *fd) {
  if (*fd < 0) return;
  ep_del(*fd);
  close(*fd);
  *fd = -1;
}

static int proc_index(const struct proc *p) { return (int)(p - procs); }

static void proc_init(struct proc *p) {
  memset(p, 0, sizeof *p);
  p->used = true;
  p->sync_fd = p->out_r = p->err_r = p->in_w = p->pty = p->con_listen = p->con_conn = -1;
  p->relay = p->start_client = -1;
  p->reason = "exited";
}

static void proc_free(struct proc *p) {
  close_fd(&p->sync_fd);
  close_fd(&p->out_r);
  close_fd(&p->err_r);
  close_fd(&p->in_w);
  close_fd(&p->pty);
  close_fd(&p->con_listen);
  close_fd(&p->con_conn);
  if (p->console_path) unlink(p->console_path);
  free(p->console_path);
  free(p->exec_id);
  free(p->syncbuf);
  free(p->stdin_q);
  free(p->fail_message);
  memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- clients */

static void client_close(int i) {
  struct client *c = &clients[i];
  if (c->fd < 0) return;
  ep_del(c->fd);
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c->plan);
  memset(c, 0, sizeof *c);
  c->fd = -1;
  for (int k = 0; k < MAX_PROCS; k++) {
    if (procs[k].start_client == i) procs[k].start_client = -1;
    if (procs[k].relay == i) procs[k].relay = -1;
  }
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

/* An event to subscribers, or (relay) to the connection that launched the process. */
static void event(const char *name, struct proc *p, const char *extra, bool relay) {
  struct sbuf b = {0};
  sb_fmt(&b, "{\"event\":\"%s\",\"seq\":%llu", name, ++seq);
  if (p && p->exec_id) {
    sb_raw(&b, ",\"exec\":", 8);
    sb_str(&b, p->exec_id);
  }
  sb_fmt(&b, "%s}", extra ? extra : "");
  if (relay && p && p->relay_held) {
    /* nsinit's few messages (pid, hooks, created, error, EOF, its exit): a sixth cannot come */
    if (p->nheld < HELD_MAX) {
      p->held[p->nheld] = xmalloc(b.len);
      memcpy(p->held[p->nheld], b.p, b.len);
      p->held_len[p->nheld++] = b.len;
    }
    sb_free(&b);
    return;
  }
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0 && (relay ? p && p->relay == i : clients[i].subscribed)) client_json(i, &b);
  sb_free(&b);
}

void on_log_event(const char *what) {
  char extra[96];
  snprintf(extra, sizeof extra, ",\"rotations\":%llu,\"dropped_bytes\":%llu", lg.rotations, lg.dropped);
  event(what, NULL, extra, false);
}

/* ---------------------------------------------------------------- exit records */

static void fmt_ts(char *out, size_t n, long long sec, long long nsec) {
  if (sec == 0) snprintf(out, n, "null");
  else {
    out[0] = '"';
    format_time(out + 1, n - 2, sec, nsec);
    strcat(out, "\"");
  }
}

/* `start`'s answer carries what the caller asks `state` for next: the pid and the start time. */
static void answer_started(int i, long long id, struct proc *p) {
  char s[80], extra[160];
  fmt_ts(s, sizeof s, p->started_sec, p->started_nsec);
  snprintf(extra, sizeof extra, ",\"pid\":%d,\"started_at\":%s", (int)p->pid, s);
  answer_ok(i, id, extra);
}


static bool oom_killed(void) {
  if (!cgroup_dir || oom_base < 0) return false;
  char path[4096], buf[512];
  snprintf(path, sizeof path, "%s/memory.events", cgroup_dir);
  int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = 0;
  char *k = strstr(buf, "oom_kill ");
  return k && atoll(k + 9) > oom_base;
}

/* The fields of an exit record (exit.json, `wait`, `state`), after the opening brace. */
static void exit_fields(struct sbuf *b, struct proc *p) {
  char s[80], f[80];
  fmt_ts(s, sizeof s, p->started_sec, p->started_nsec);
  fmt_ts(f, sizeof f, p->finished_sec, p->finished_nsec);
  sb_fmt(b, "\"v\":1,\"pid\":%d,\"exit_code\":%d,", (int)p->pid, p->code);
  if (p->sig) sb_fmt(b, "\"signal\":%d,", p->sig);
  else sb_raw(b, "\"signal\":null,", 14);
  sb_fmt(b, "\"core_dumped\":%s,\"oom_killed\":%s,\"started_at\":%s,\"finished_at\":%s,\"reason\":\"%s\"",
         p->core ? "true" : "false", !p->exec_id && oom_killed() ? "true" : "false", s, f, p->reason);
  if (p->fail_message) {
    sb_raw(b, ",\"message\":", 11);
    sb_str(b, p->fail_message);
  }
}

/* The process's output is drained: the record is complete. */
static void finish(struct proc *p) {
  if (p->final) return;
  bool init = !p->exec_id;
  if (init) {
    /* the rest of every line, then the record: whoever reads exit.json (or hears the exit)
     * finds the whole output in the log before it */
    log_feed(&lg, &lb_out, "stdout", true);
    log_feed(&lg, &lb_err, "stderr", true);
  }
  p->final = true;
  p->st = S_STOPPED;
  struct sbuf b = {0};
  if (init) {
    sb_raw(&b, "{", 1);
    exit_fields(&b, p);
    sb_raw(&b, "}\n", 2);
    if (write_file_atomic(state_dir, "exit.json", b.p, b.len) < 0) diag("write exit.json: %s", strerror(errno));
    exit_written = true;
    idle_since = mono_ms();
  }
  struct sbuf e = {0};
  sb_raw(&e, ",", 1);
  exit_fields(&e, p);
  event("exited", p, e.p, false);
  int pi = proc_index(p);
  for (int i = 0; i < MAX_CLIENTS; i++) {
    struct client *c = &clients[i];
    if (c->fd >= 0 && c->waiting && c->wait_proc == pi) {
      c->waiting = false;
      p->waited = true;
      answer_ok(i, c->wait_id, e.p);
    }
    if (c->fd >= 0 && c->proc == pi) {
      unsigned char s1 = K_STDOUT, s2 = K_STDERR;
      if (c->a_out) client_send(i, K_EOF, &s1, 1);
      if (clients[i].fd >= 0 && c->a_err) client_send(i, K_EOF, &s2, 1);
    }
  }
  sb_free(&e);
  sb_free(&b);
  /* The log on disk (conmon's sync_logs), once the exit is told: the fsync (a journal commit,
   * ~1 ms here) is no longer between the exit and `docker wait`, and a log nothing was written
   * to (the file made at the start, empty) needs none. */
  if (init && lg.fd >= 0 && lg.dirty) {
    fsync(lg.fd);
    lg.dirty = false;
  }
  close_fd(&p->out_r);
  close_fd(&p->err_r);
  close_fd(&p->pty);
  close_fd(&p->in_w);
}

/* ---------------------------------------------------------------- stdio */

static void fanout(struct proc *p, int kind, const char *data, size_t n) {
  int pi = proc_index(p);
  for (int i = 0; i < MAX_CLIENTS; i++) {
    struct client *c = &clients[i];
    if (c->fd < 0 || c->proc != pi || !(kind == K_STDOUT ? c->a_out : c->a_err)) continue;
    client_send(i, kind, data, n);
  }
}

/* Reads one chunk (the init's: at most 2 KiB, as moby's copier, into the log's line buffer). */
static void read_stream(struct proc *p, int *fd, int kind) {
  bool init = !p->exec_id;
  struct linebuf *lb = kind == K_STDERR ? &lb_err : &lb_out;
  const char *stream = kind == K_STDERR ? "stderr" : "stdout";
  char *dst = init ? lb->buf + lb->n : rdbuf;
  size_t room = init ? log_room(lb) : sizeof rdbuf;
  ssize_t n = read(*fd, dst, room);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    /* EOF, or EIO from a pty master once no slave is open (conmon PR #441) */
    if (init) log_feed(&lg, lb, stream, true);
    close_fd(fd);
    return;
  }
  fanout(p, kind, dst, (size_t)n);
  if (init) {
    lb->n += (size_t)n;
    log_feed(&lg, lb, stream, false);
  }
}

static void pty_events(struct proc *p) {
  if (p->pty >= 0 && !p->pty_parked)
    ep_mod(p->pty, EPOLLIN | (p->stdin_qlen ? EPOLLOUT : 0), PTAG(proc_index(p), T_PTY));
}

static void stdin_flush(struct proc *p) {
  int fd = p->tty ? p->pty : p->in_w;
  if (fd < 0) {
    if (!p->tty || p->done) p->stdin_qlen = 0;
  }
  while (fd >= 0 && p->stdin_qlen) {
    ssize_t w = write(fd, p->stdin_q, p->stdin_qlen);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      p->stdin_qlen = 0; /* the reader is gone: drop */
      break;
    }
    memmove(p->stdin_q, p->stdin_q + w, p->stdin_qlen - (size_t)w);
    p->stdin_qlen -= (size_t)w;
  }
  if (!p->tty && p->in_w >= 0) {
    if (p->stdin_qlen) ep_mod(p->in_w, EPOLLOUT, PTAG(proc_index(p), T_IN));
    else if (p->stdin_close_pending) close_fd(&p->in_w);
    else ep_mod(p->in_w, 0, PTAG(proc_index(p), T_IN));
  } else if (p->tty)
    pty_events(p);
  /* a client paused on a full queue may go on */
  int pi = proc_index(p);
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0 && clients[i].paused && clients[i].proc == pi && p->stdin_qlen < STDIN_MAX / 2) {
      clients[i].paused = false;
      client_update_events(i);
    }
}

static void apply_size(struct proc *p) {
  if (p->pty < 0 || !p->rows || !p->cols) return;
  struct winsize ws = {.ws_row = p->rows, .ws_col = p->cols};
  if (ioctl(p->pty, TIOCSWINSZ, &ws) < 0) diag("resize: %s", strerror(errno));
}

/* The init stage sends the pty master on the console socket (runc's format, SCM_RIGHTS). */
static void console_recv(struct proc *p) {
  char data[64];
  char ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {data, sizeof data};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  ssize_t n = recvmsg(p->con_conn, &m, MSG_CMSG_CLOEXEC);
  if (n < 0 && errno == EAGAIN) return;
  struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL;
  if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && p->pty < 0) {
    memcpy(&p->pty, CMSG_DATA(cm), sizeof(int));
    fcntl(p->pty, F_SETFL, fcntl(p->pty, F_GETFL) | O_NONBLOCK);
    ep_add(p->pty, EPOLLIN | (p->stdin_qlen ? EPOLLOUT : 0), PTAG(proc_index(p), T_PTY));
    apply_size(p);
  }
  close_fd(&p->con_conn);
  close_fd(&p->con_listen);
  if (p->console_path) unlink(p->console_path);
}

/* ---------------------------------------------------------------- children */

/* Every disposition SIG_DFL, once at the start: the shim never installs a handler nor ignores a
 * signal (signals arrive by signalfd), so a child it spawns inherits nothing to undo. An
 * ignored SIGPIPE of whoever started us (Node ignores it; so does nohup SIGHUP) would survive
 * execve and change `yes | head` inside the container. (The kernel's struct sigaction:
 * handler, flags, restorer, mask.) */
static void default_dispositions(void) {
  struct {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
  } dfl = {SIG_DFL, 0, NULL, 0};
  for (int s = 1; s < _NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP) syscall(SYS_rt_sigaction, s, &dfl, NULL, _NSIG / 8);
}

/* Runs in a child that shares our memory (spawn below): system calls only, nothing that writes
 * memory of ours (no libc signal(), no errno that matters, no globals). No disposition needs a
 * reset here (default_dispositions: none is a handler of ours, none is ignored), which spares
 * 62 system calls per container on its start's critical path; only the mask is cleared. */
static void reset_child(int in, int out, int err, int oom_adj) {
  sigset_t none;
  sigemptyset(&none);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, _NSIG / 8);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  char adj[16];
  int n = snprintf(adj, sizeof adj, "%d", oom_adj);
  int fd = openat(AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0) {
    if (write(fd, adj, (size_t)n) < 0) {
    }
    close(fd);
  }
  int nul = openat(AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
  int src[3] = {in >= 0 ? in : nul, out >= 0 ? out : nul, err >= 0 ? err : nul};
  /* dup2 clears O_CLOEXEC on the copy; the originals (all O_CLOEXEC) close on exec */
  for (int k = 0; k < 3; k++) {
    if (src[k] == k) fcntl(k, F_SETFD, 0);
    else dup2(src[k], k);
  }
}

static int mkpipe(int p[2]) { return pipe2(p, O_CLOEXEC); }

/* Sets up the stdio pipes; returns the process's ends through in/out/err. */
static int make_stdio(struct proc *p, int *in, int *out, int *err) {
  int fds[2];
  int pi = proc_index(p);
  *in = *out = *err = -1;
  if (p->want_stdin && !p->tty) {
    if (mkpipe(fds) < 0) return -1;
    *in = fds[0];
    p->in_w = fds[1];
    fcntl(p->in_w, F_SETFL, O_NONBLOCK);
    ep_add(p->in_w, 0, PTAG(pi, T_IN));
  }
  /* stdout and stderr pipes always: even a tty process's runtime errors land in stderr */
  if (mkpipe(fds) < 0) return -1;
  *out = fds[1];
  p->out_r = fds[0];
  fcntl(p->out_r, F_SETFL, O_NONBLOCK);
  ep_add(p->out_r, EPOLLIN, PTAG(pi, T_OUT));
  if (mkpipe(fds) < 0) return -1;
  *err = fds[1];
  p->err_r = fds[0];
  fcntl(p->err_r, F_SETFL, O_NONBLOCK);
  ep_add(p->err_r, EPOLLIN, PTAG(pi, T_ERR));
  return 0;
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

struct spawn_args {
  char *const *argv;
  int in, out, err, fd3;
  int copy; /* the sealed copy of nsinit to execute instead of argv[0], or -1 */
  int oom_adj;
};

static int spawn_child(void *arg) {
  const struct spawn_args *a = arg;
  int copy = a->copy;
  /* the copy of nsinit must survive the dup2s onto 0–3 below */
  if (copy >= 0 && copy <= 3) copy = fcntl(copy, F_DUPFD_CLOEXEC, 4);
  reset_child(a->in, a->out, a->err, a->oom_adj);
  if (a->fd3 >= 0) {
    if (a->fd3 == 3) fcntl(3, F_SETFD, 0);
    else dup2(a->fd3, 3);
  }
  if (copy >= 0) syscall(SYS_execveat, copy, "", a->argv, environ, AT_EMPTY_PATH);
  execve(a->argv[0], a->argv, environ);
  char msg[512];
  int n = snprintf(msg, sizeof msg, "berth-shim: exec '%s': %s\n", a->argv[0], strerror(errno));
  if (n > 0 && write(2, msg, (size_t)n) < 0) {
  }
  _exit(127);
}

/* The child shares our memory until its execve, and we wait for that (CLONE_VM | CLONE_VFORK,
 * as posix_spawn does): no copy of our page tables, which costs ~0.7 ms per fork on this VM
 * against ~0.05 ms. Single-threaded, so no other thread runs meanwhile; the child runs on a
 * stack of its own and only makes system calls (spawn_child, reset_child). */
static pid_t spawn(char *const argv[], int in, int out, int err, int fd3) {
  static char stack[64 * 1024] __attribute__((aligned(16)));
  struct spawn_args a = {
      .argv = argv,
      .in = in,
      .out = out,
      .err = err,
      .fd3 = fd3,
      .copy = nsinit_copy >= 0 && nsinit_copy_of && !strcmp(argv[0], nsinit_copy_of) ? nsinit_copy : -1,
      .oom_adj = child_oom_adj,
  };
  return clone(spawn_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
}

/* berth-nsinit started ahead by the spawner's warm child, before its request: it waits on its
 * sync socket for a plan, its stdout and stderr pipes made, stdin /dev/null. The launch of a
 * request that fits (nsinit's sealed copy, no terminal, no stdin, the default OOM score) sends
 * the plan to it instead of starting one: its exec and start-up (~1–2 ms of page faults here)
 * are then off the start's critical path. Any other request kills it. */
static struct {
  pid_t pid;
  int sync_fd, out_r, err_r;
} pre = {0, -1, -1, -1};

static void prelaunch_nsinit(void) {
  /* in the session the shim makes anyway (stage 1 finds itself its leader), so that a signal to
   * berthd's process group never reaches nsinit or the container */
  if (setsid() < 0) return;
  int o[2], e[2], sp[2];
  if (mkpipe(o) < 0) return;
  if (mkpipe(e) < 0) {
    close(o[0]);
    close(o[1]);
    return;
  }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
    close(o[0]);
    close(o[1]);
    close(e[0]);
    close(e[1]);
    return;
  }
  char *argv[] = {(char *)nsinit_copy_of, "3", NULL};
  /* spawn() passes child_oom_adj, still the default 0: no request is read yet */
  mode_t mask = umask(022); /* the monitor's, which a launch after the request would pass on */
  pid_t pid = spawn(argv, -1, o[1], e[1], sp[1]);
  umask(mask);
  close(o[1]);
  close(e[1]);
  close(sp[1]);
  if (pid < 0) {
    close(o[0]);
    close(e[0]);
    close(sp[0]);
    return;
  }
  pre.pid = pid;
  pre.sync_fd = sp[0];
  pre.out_r = o[0];
  pre.err_r = e[0];
}

static void discard_prelaunch(void) {
  if (pre.pid <= 0) return;
  kill(pre.pid, SIGKILL);
  /* Reaped here, at once (it was blocked in a read): reaped later, its exit would be kept as
   * one that might be the init's, whose pid is not known yet (on_child's `early`). */
  while (waitpid(pre.pid, NULL, 0) < 0 && errno == EINTR) {
  }
  close(pre.sync_fd);
  close(pre.out_r);
  close(pre.err_r);
  pre.pid = 0;
  pre.sync_fd = pre.out_r = pre.err_r = -1;
}

/* Whether the request's launch is the one berth-nsinit was started ahead for. */
static bool prelaunch_fits(void) {
  return cfg_launch && nsinit_path && !runtime_path && nsinit_copy >= 0 && nsinit_copy_of && !strcmp(nsinit_path, nsinit_copy_of) &&
         !cfg_tty && !cfg_stdin && !console_path && child_oom_adj == 0;
}

/* Gives the plan to the berth-nsinit started ahead; false (and it is gone) if it died meanwhile. */
static bool adopt_prelaunch(struct proc *p, const char *planbuf, size_t planlen) {
  int pi = proc_index(p);
  size_t off = 0;
  /* it reads the whole plan before it says anything: a blocking send cannot deadlock */
  while (off < planlen) {
    ssize_t w = send(pre.sync_fd, planbuf + off, planlen - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  if (off < planlen) {
    discard_prelaunch();
    return false;
  }
  p->out_r = pre.out_r;
  fcntl(p->out_r, F_SETFL, O_NONBLOCK);
  ep_add(p->out_r, EPOLLIN, PTAG(pi, T_OUT));
  p->err_r = pre.err_r;
  fcntl(p->err_r, F_SETFL, O_NONBLOCK);
  ep_add(p->err_r, EPOLLIN, PTAG(pi, T_ERR));
  p->helper_pid = pre.pid;
  p->sync_fd = pre.sync_fd;
  fcntl(p->sync_fd, F_SETFL, O_NONBLOCK);
  p->syncbuf = xmalloc(4096);
  ep_add(p->sync_fd, EPOLLIN, PTAG(pi, T_SYNC));
  pre.pid = 0;
  pre.sync_fd = pre.out_r = pre.err_r = -1;
  p->st = S_CREATING;
  return true;
}

static const char **runtime_argv(const char **argv, const char *verb) {
  int k = 0;
  argv[k++] = runtime_path;
  for (int i = 0; i < runtime_nargs; i++) argv[k++] = runtime_args[i];
  argv[k++] = verb;
  return argv + k;
}

/* Starts berth-nsinit with the plan (or the runtime's `create`) for process p. */
static int do_launch(struct proc *p, const char *planbuf, size_t planlen, char *err, size_t errn) {
  if (pre.pid > 0 && p == &procs[0] && adopt_prelaunch(p, planbuf, planlen)) return 0;
  int in, out, errfd, pi = proc_index(p);
  if (p->console_path) {
    p->con_listen = bind_unix(p->console_path, 1);
    if (p->con_listen < 0) return snprintf(err, errn, "bind console socket '%s': %s", p->console_path, strerror(errno)), -1;
    ep_add(p->con_listen, EPOLLIN, PTAG(pi, T_CONLISTEN));
  }
  if (make_stdio(p, &in, &out, &errfd) < 0) return snprintf(err, errn, "pipe: %s", strerror(errno)), -1;
  if (runtime_path && !p->exec_id) {
    /* an OCI runtime binary, as containerd's runc shim drives it */
    const char *argv[JMAX_ARRAY + 16];
    const char **a = runtime_argv(argv, "create");
    char pidfile[4096];
    snprintf(pidfile, sizeof pidfile, "%s/init.pid", state_dir);
    unlink(pidfile);
    *a++ = "--bundle";
    *a++ = bundle;
    *a++ = "--pid-file";
    *a++ = pidfile;
    if (p->console_path) *a++ = "--console-socket", *a++ = p->console_path;
    *a++ = cfg_id;
    *a = NULL;
    p->helper_pid = spawn((char *const *)argv, in, out, errfd, -1);
  } else {
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) return snprintf(err, errn, "socketpair: %s", strerror(errno)), -1;
    char *argv[] = {nsinit_path, "3", NULL};
    /* The plan goes into the socket first, as much as its buffer takes (all of it, but for a
     * huge plan): berth-nsinit finds it there when it starts, instead of waiting for us to be
     * scheduled after its execve (0.3–1 ms of every start here). */
    size_t off = 0;
    while (off < planlen) {
      ssize_t w = send(sp[0], planbuf + off, planlen - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += (size_t)w;
    }
    p->helper_pid = spawn(argv, in, out, errfd, sp[1]);
    close(sp[1]);
    p->sync_fd = sp[0];
    /* berth-nsinit reads the whole plan before it says anything: a blocking write of the rest
     * is safe, and if it dies, EPIPE (SIGPIPE is blocked) */
    while (p->helper_pid > 0 && off < planlen) {
      ssize_t w = send(p->sync_fd, planbuf + off, planlen - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += (size_t)w;
    }
    fcntl(p->sync_fd, F_SETFL, O_NONBLOCK);
    p->syncbuf = xmalloc(4096);
    ep_add(p->sync_fd, EPOLLIN, PTAG(pi, T_SYNC));
  }
  /* the process's ends belong to the process now */
  if (in >= 0) close(in);
  close(out);
  close(errfd);
  if (p->helper_pid < 0) return snprintf(err, errn, "fork: %s", strerror(errno)), -1;
  p->st = S_CREATING;
  return 0;
}

static void set_running(struct proc *p) {
  if (p->st != S_CREATED) return;
  p->st = S_RUNNING;
  now_ts(&p->started_sec, &p->started_nsec);
  char extra[64];
  snprintf(extra, sizeof extra, ",\"pid\":%d", (int)p->pid);
  event("started", p, extra, false);
  if (!p->exec_id) {
    char s[80], buf[256];
    fmt_ts(s, sizeof s, p->started_sec, p->started_nsec);
    int n = snprintf(buf, sizeof buf, "{\"v\":1,\"pid\":%d,\"started_at\":%s}\n", (int)p->pid, s);
    write_file_atomic(state_dir, "state.json", buf, (size_t)n);
  }
  if (p->start_client >= 0) {
    answer_started(p->start_client, p->start_req, p);
    p->start_client = -1;
  }
}

static void start_failed(struct proc *p, const char *msg) {
  if (!p->fail_message) p->fail_message = xstrdup(msg);
  p->reason = "start_failed";
  if (p->start_client >= 0) {
    answer_error(p->start_client, p->start_req, "EFAILED", msg);
    p->start_client = -1;
  }
}

static void kill_cgroup(void) {
  if (!cgroup_dir) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/cgroup.kill", cgroup_dir);
  int fd = openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0) {
    if (write(fd, "1", 1) < 0) diag("cgroup.kill: %s", strerror(errno));
    close(fd);
  }
}

static bool read_sync(struct proc *p);

/* code: the exit code (128+sig for a signal); sig: the signal or 0 */
static void proc_exited(struct proc *p, int code, int sig, bool core) {
  if (p->done) return;
  /* The exit may be seen before the sync channel's last words (SIGCHLD first in a batch): read
   * them now, the EOF after `created` included, which says the process did start. A runtime's
   * `start` still running means the same. */
  while (p->sync_fd >= 0 && read_sync(p)) {
  }
  if (p->start_cmd_pid && p->st == S_CREATED) set_running(p);
  p->done = true;
  now_ts(&p->finished_sec, &p->finished_nsec); /* when it exited, not when its output ended */
  p->code = code;
  p->sig = sig;
  p->core = core;
  if (p->st != S_RUNNING && !p->fail_message) {
    char m[128];
    snprintf(m, sizeof m, "the process exited with status %d before it started", code);
    start_failed(p, m);
  }
  /* processes that outlive the init (host pid namespace) go with it, as with the runc shim */
  if (!p->exec_id) kill_cgroup();
  p->drain_deadline = mono_ms() + DRAIN_MS;
}

static void proc_exited_status(struct proc *p, int status) {
  if (WIFSIGNALED(status)) proc_exited(p, 128 + WTERMSIG(status), WTERMSIG(status), WCOREDUMP(status));
  else proc_exited(p, WIFEXITED(status) ? WEXITSTATUS(status) : 255, 0, false);
}

static void set_pid(struct proc *p, pid_t pid) {
  p->pid = pid;
  if (p->exec_id) return; /* an exec's exit comes from its helper (wait 1) */
  /* Not reaped yet (we reap, and only in our loop): the pid is still the init's. */
  if (init_mntns < 0) {
    char ns[64];
    snprintf(ns, sizeof ns, "/proc/%d/ns/mnt", (int)pid);
    init_mntns = openat(AT_FDCWD, ns, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  }
  for (int k = 0; k < nearly; k++)
    if (early[k].pid == pid) proc_exited_status(p, early[k].status);
}

static void on_sync_line(struct proc *p, char *line) {
  if (!strncmp(line, "pid ", 4)) set_pid(p, (pid_t)atoi(line + 4));
  else if (!strcmp(line, "created")) {
    p->st = S_CREATED;
    now_ts(&p->created_sec, &p->created_nsec);
  } else if (!strncmp(line, "error ", 6)) {
    /* `error <errno> <message>`, percent-encoded: keep nsinit's words verbatim */
    char *msg = strchr(line + 6, ' ');
    char dec[4096];
    size_t k = 0;
    for (char *q = msg ? msg + 1 : line; *q && k < sizeof dec - 1; q++) {
      if (*q == '%' && q[1] && q[2]) {
        char h[3] = {q[1], q[2], 0};
        dec[k++] = (char)strtol(h, NULL, 16);
        q += 2;
      } else
        dec[k++] = *q;
    }
    dec[k] = 0;
    start_failed(p, dec);
  }
  struct sbuf b = {0};
  sb_raw(&b, ",\"line\":", 8);
  sb_str(&b, line);
  event("sync", p, b.p, true);
  sb_free(&b);
  /* The request's `start`: the process starts as soon as it is created, without waiting for a
   * connection's `start` (a round trip through berthd); that `start` then only waits for the
   * answer (below). Never for a terminal, whose size goes in before the start. */
  if (cfg_start && !p->exec_id && !p->tty && !runtime_path && p->st == S_CREATED && !p->fail_message && !p->autostarted &&
      p->sync_fd >= 0 && send(p->sync_fd, "start\n", 6, MSG_NOSIGNAL) == 6)
    p->autostarted = true;
}

/* Returns false when nothing more is to be read now. */
static bool read_sync(struct proc *p) {
  ssize_t n = recv(p->sync_fd, p->syncbuf + p->synclen, 4095 - p->synclen, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
  if (n <= 0) {
    close_fd(&p->sync_fd);
    /* the init stage's copy is close-on-exec: EOF after `created` is the exec */
    if (p->st == S_CREATED && !p->fail_message) set_running(p);
    event("sync_eof", p, NULL, true);
    return false;
  }
  p->synclen += (size_t)n;
  char *s = p->syncbuf, *nl;
  while ((nl = memchr(s, '\n', p->synclen - (size_t)(s - p->syncbuf)))) {
    *nl = 0;
    on_sync_line(p, s);
    s = nl + 1;
  }
  p->synclen -= (size_t)(s - p->syncbuf);
  memmove(p->syncbuf, s, p->synclen);
  if (p->synclen == 4095) p->synclen = 0; /* an overlong line: dropped */
  return true;
}

static void read_pidfile(struct proc *p) {
  char path[4096], buf[32];
  snprintf(path, sizeof path, "%s/init.pid", state_dir);
  int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n > 0) {
    buf[n] = 0;
    set_pid(p, (pid_t)atoi(buf));
  }
}

static int status_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

static void helper_exited(struct proc *p, int status) {
  p->helper_pid = 0;
  /* Its last words first: SIGCHLD can come before the sync channel's data in one batch of
   * events, and judged by what was read so far (no pid yet, not created) a container that was
   * created would be failed and its cgroup killed — under load, `start` then met a stopped
   * process ("the process is not created"). The init stage keeps its copy of the channel until
   * its exec, so this reads what is there and stops (EAGAIN), or reads the EOF after an exec. */
  while (p->sync_fd >= 0 && read_sync(p)) {
  }
  char extra[160];
  snprintf(extra, sizeof extra, ",\"status\":%d", status_code(status));
  event("helper_exited", p, extra, true);
  if (p->exec_id) {
    /* `wait 1`: berth-nsinit's status is the exec's (exit code, or 128+signal). The connection
     * that launched it has just been told (berthd learns an exec's exit so, and never `wait`s
     * for it): its slot may be reused, or 16 execs would be all a container ever gets. */
    if (p->relay >= 0 && clients[p->relay].fd >= 0) p->waited = true;
    int code = status_code(status);
    if (!p->fail_message && p->st < S_CREATED) start_failed(p, "berth-nsinit exited before the process was created");
    proc_exited(p, code, 0, false);
    return;
  }
  if (runtime_path) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      read_pidfile(p);
      if (p->pid && !p->done) p->st = S_CREATED, now_ts(&p->created_sec, &p->created_nsec);
    }
    if (!p->pid) {
      snprintf(extra, sizeof extra, "runtime create exited with status %d", status_code(status));
      start_failed(p, extra);
      proc_exited(p, 255, 0, false);
    }
    return;
  }
  if (!p->pid) {
    if (!p->fail_message) start_failed(p, "berth-nsinit exited before the container was created");
    proc_exited(p, 255, 0, false);
    return;
  }
  if (p->st < S_CREATED && !p->fail_message) start_failed(p, "berth-nsinit exited before the container was created");
  /* the parent stage may have reaped an init that died early: its status is lost to us */
  if (!p->done && kill(p->pid, 0) < 0 && errno == ESRCH) proc_exited(p, status_code(status), 0, false);
}

static void on_child(pid_t pid, int status) {
  for (int k = 0; k < MAX_PROCS; k++) {
    struct proc *p = &procs[k];
    if (!p->used) continue;
    if (p->helper_pid == pid) return helper_exited(p, status);
    if (p->start_cmd_pid == pid) {
      p->start_cmd_pid = 0;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) set_running(p);
      else if (p->start_client >= 0) {
        answer_error(p->start_client, p->start_req, "EFAILED", "runtime start failed (see the container's log)");
        p->start_client = -1;
      }
      return;
    }
    if (!p->exec_id && p->pid == pid) return proc_exited_status(p, status);
  }
  if (!procs[0].pid && nearly < (int)(sizeof early / sizeof early[0])) {
    early[nearly].pid = pid;
    early[nearly++].status = status;
  }
}

/* ---------------------------------------------------------------- requests */

static struct jobj req;

/* The process a request names: `exec` (an exec id) or the init. */
static struct proc *target(int i, long long id) {
  const char *x = json_str(&req, "exec");
  if (!x) return &procs[0];
  for (int k = 1; k < MAX_PROCS; k++)
    if (procs[k].used && !strcmp(procs[k].exec_id, x)) return &procs[k];
  answer_error(i, id, "ENOENT", "no such exec");
  return NULL;
}

static void op_state(int i, long long id, struct proc *p) {
  struct sbuf b = {0};
  char c[80], s[80];
  fmt_ts(c, sizeof c, p->created_sec, p->created_nsec);
  fmt_ts(s, sizeof s, p->started_sec, p->started_nsec);
  sb_fmt(&b, ",\"status\":\"%s\",\"pid\":%d,\"shim_pid\":%d,\"created_at\":%s,\"started_at\":%s", status_names[p->st],
         (int)p->pid, (int)getpid(), c, s);
  sb_fmt(&b, ",\"tty\":%s,\"log_rotations\":%llu,\"log_dropped_bytes\":%llu,\"seq\":%llu", p->tty ? "true" : "false",
         lg.rotations, lg.dropped, seq);
  if (!p->exec_id) {
    sb_raw(&b, ",\"execs\":[", 10);
    bool first = true;
    for (int k = 1; k < MAX_PROCS; k++)
      if (procs[k].used) {
        if (!first) sb_raw(&b, ",", 1);
        sb_str(&b, procs[k].exec_id);
        first = false;
      }
    sb_raw(&b, "]", 1);
  }
  if (p->final) {
    sb_raw(&b, ",\"exit\":{", 9);
    exit_fields(&b, p);
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
    int fd = openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0) {
      ssize_t w = write(fd, "1", 1);
      close(fd);
      if (w == 1) return 0;
    }
  }
  snprintf(path, sizeof path, "%s/cgroup.procs", cgroup_dir);
  int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return -1;
  char buf[8192];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  for (char *q = buf; *q;) {
    pid_t pid = (pid_t)strtol(q, &q, 10);
    if (pid > 0) kill(pid, sig);
    while (*q == '\n') q++;
  }
  return 0;
}

static void size_from(struct proc *p) {
  long long x;
  p->rows = json_int(&req, "rows", &x) && x > 0 && x < 65536 ? (unsigned short)x : 0;
  p->cols = json_int(&req, "cols", &x) && x > 0 && x < 65536 ? (unsigned short)x : 0;
}

static void op_exec(int i, long long id) {
  struct client *c = &clients[i];
  const char *x = json_str(&req, "exec");
  if (!x || !*x || strlen(x) > 128) return answer_error(i, id, "EINVAL", "'exec' must be an id of 1..128 bytes");
  if (!c->plan) return answer_error(i, id, "EINVAL", "send the exec's plan frame first");
  if (procs[0].st != S_RUNNING) return answer_error(i, id, "ESTATE", "the container is not running");
  struct proc *p = NULL;
  for (int k = 1; k < MAX_PROCS; k++) {
    if (procs[k].used && !strcmp(procs[k].exec_id, x)) return answer_error(i, id, "EALREADY", "an exec of that id exists");
  }
  for (int k = 1; k < MAX_PROCS && !p; k++)
    if (!procs[k].used) p = &procs[k];
  for (int k = 1; k < MAX_PROCS && !p; k++) /* reuse the slot of an exec whose exit was delivered */
    if (procs[k].final && procs[k].waited) proc_free(&procs[k]), p = &procs[k];
  if (!p) return answer_error(i, id, "EBUSY", "too many execs");
  proc_init(p);
  p->exec_id = xstrdup(x);
  p->tty = json_bool(&req, "tty", false);
  p->want_stdin = json_bool(&req, "stdin", false);
  p->console_path = xstrdup(json_str(&req, "console_socket"));
  size_from(p);
  if (p->tty && !p->console_path) {
    proc_free(p);
    return answer_error(i, id, "EINVAL", "'tty' needs 'console_socket'");
  }
  p->relay = i;
  char m[512];
  int r = do_launch(p, c->plan, c->plan_len, m, sizeof m);
  free(c->plan);
  c->plan = NULL;
  if (r < 0) {
    proc_free(p);
    return answer_error(i, id, "EFAILED", m);
  }
  char extra[48];
  snprintf(extra, sizeof extra, ",\"helper_pid\":%d", (int)p->helper_pid);
  answer_ok(i, id, extra);
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
    char extra[200];
    snprintf(extra, sizeof extra,
             ",\"v\":%d,\"shim\":\"%s\",\"pid\":%d,\"features\":[\"attach\",\"resize\",\"wait\",\"subscribe\",\"runtime\",\"exec\"]",
             PROTO_VERSION, SHIM_VERSION, (int)getpid());
    return answer_ok(i, id, extra);
  }
  if (!strcmp(op, "exec")) return op_exec(i, id);
  if (!strcmp(op, "subscribe")) {
    c->subscribed = true;
    char extra[48];
    snprintf(extra, sizeof extra, ",\"seq\":%llu", seq);
    return answer_ok(i, id, extra);
  }
  if (!strcmp(op, "reopen_log")) {
    if (lg.fd >= 0) close(lg.fd);
    if (!lg.path || log_open(&lg) < 0) return answer_error(i, id, "EIO", lg.path ? strerror(errno) : "no log");
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "release")) {
    released = true;
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "shutdown")) {
    if (!procs[0].final && procs[0].st != S_NEW && !json_bool(&req, "force", false))
      return answer_error(i, id, "EBUSY", "the container is still running (use force)");
    for (int k = 0; k < MAX_PROCS; k++) {
      if (procs[k].helper_pid) kill(procs[k].helper_pid, SIGKILL);
      if (!procs[k].exec_id && procs[k].pid && !procs[k].done) kill(procs[k].pid, SIGKILL);
    }
    signal_all(SIGKILL);
    released = true;
    if (procs[0].st == S_NEW) procs[0].final = exit_written = true; /* nothing to wait for */
    return answer_ok(i, id, NULL);
  }
  struct proc *p = target(i, id);
  if (!p) return;
  if (!strcmp(op, "state")) return op_state(i, id, p);
  if (!strcmp(op, "launch")) {
    if (p->exec_id) return answer_error(i, id, "EINVAL", "an exec is launched with 'exec'");
    if (p->relay_held) {
      /* launched at start-up: this connection takes the relay, and what it missed */
      p->relay_held = false;
      p->relay = i;
      if (p->launch_error) answer_error(i, id, "EFAILED", p->launch_error);
      else {
        char extra[48];
        snprintf(extra, sizeof extra, ",\"helper_pid\":%d", (int)p->helper_pid);
        answer_ok(i, id, extra);
      }
      for (int k = 0; k < p->nheld; k++) {
        client_send(i, K_JSON, p->held[k], p->held_len[k]);
        free(p->held[k]);
      }
      p->nheld = 0;
      return;
    }
    if (p->st != S_NEW) return answer_error(i, id, "EALREADY", "the container was launched already");
    if (!runtime_path && !plan) return answer_error(i, id, "EINVAL", "no plan was given");
    char m[512];
    p->relay = i;
    int r = do_launch(p, plan, plan_len, m, sizeof m);
    free(plan);
    plan = NULL;
    if (r < 0) {
      start_failed(p, m);
      proc_exited(p, 255, 0, false);
      return answer_error(i, id, "EFAILED", m);
    }
    char extra[48];
    snprintf(extra, sizeof extra, ",\"helper_pid\":%d", (int)p->helper_pid);
    return answer_ok(i, id, extra);
  }
  if (!strcmp(op, "send")) {
    const char *line = json_str(&req, "line");
    if (!line || strchr(line, '\n')) return answer_error(i, id, "EINVAL", "'line' must be a string without a newline");
    if (p->sync_fd < 0) return answer_error(i, id, "EPIPE", "the sync channel is closed");
    char buf[1024];
    int k = snprintf(buf, sizeof buf, "%s\n", line);
    if (k < 0 || (size_t)k >= sizeof buf || send(p->sync_fd, buf, (size_t)k, MSG_NOSIGNAL) != k)
      return answer_error(i, id, "EPIPE", "write to berth-nsinit failed");
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "start")) {
    if (p->autostarted) {
      /* started already, or starting: the answer is its outcome, even once it has exited */
      if (p->started_sec) return answer_started(i, id, p);
      if (p->fail_message) return answer_error(i, id, "EFAILED", p->fail_message);
      if (p->start_client >= 0) return answer_error(i, id, "EBUSY", "a start is in progress");
      p->start_client = i;
      p->start_req = id;
      return;
    }
    if (p->st == S_RUNNING) return answer_started(i, id, p);
    if (p->st != S_CREATED) return answer_error(i, id, "ESTATE", "the process is not created");
    if (p->start_client >= 0) return answer_error(i, id, "EBUSY", "a start is in progress");
    p->start_client = i;
    p->start_req = id;
    if (runtime_path && !p->exec_id) {
      const char *argv[JMAX_ARRAY + 8];
      const char **a = runtime_argv(argv, "start");
      *a++ = cfg_id;
      *a = NULL;
      p->start_cmd_pid = spawn((char *const *)argv, -1, -1, -1, -1);
    } else if (p->sync_fd < 0 || send(p->sync_fd, "start\n", 6, MSG_NOSIGNAL) != 6) {
      p->start_client = -1;
      return answer_error(i, id, "EPIPE", "the sync channel is closed (started through the start socket?)");
    }
    return;
  }
  if (!strcmp(op, "kill")) {
    long long sig = SIGTERM;
    json_int(&req, "signal", &sig);
    if (sig < 1 || sig >= NSIG) return answer_error(i, id, "EINVAL", "bad signal");
    if (json_bool(&req, "all", false) && !p->exec_id) {
      if (signal_all((int)sig) < 0) return answer_error(i, id, "ENOENT", "no cgroup to signal");
      return answer_ok(i, id, NULL);
    }
    if (!p->pid || p->done) return answer_error(i, id, "ESRCH", "the process is not running");
    if (kill(p->pid, (int)sig) < 0) return answer_error(i, id, "ESRCH", strerror(errno));
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "resize")) {
    long long r = 0, cc = 0;
    if (!json_int(&req, "rows", &r) || !json_int(&req, "cols", &cc) || r < 1 || cc < 1 || r > 65535 || cc > 65535)
      return answer_error(i, id, "EINVAL", "rows and cols must be integers in 1..65535");
    if (!p->tty) return answer_error(i, id, "ENOTTY", "the process has no terminal");
    p->rows = (unsigned short)r, p->cols = (unsigned short)cc;
    apply_size(p); /* before the master arrives: stored, applied on arrival */
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "attach")) {
    c->proc = proc_index(p);
    c->a_in = json_bool(&req, "stdin", false);
    c->a_out = json_bool(&req, "stdout", true);
    c->a_err = json_bool(&req, "stderr", true) && !p->tty;
    answer_ok(i, id, NULL);
    if (p->final) {
      unsigned char s1 = K_STDOUT, s2 = K_STDERR;
      if (c->a_out) client_send(i, K_EOF, &s1, 1);
      if (clients[i].fd >= 0 && c->a_err) client_send(i, K_EOF, &s2, 1);
    }
    return;
  }
  if (!strcmp(op, "close_stdin")) {
    p->stdin_close_pending = true;
    if (!p->tty) stdin_flush(p);
    return answer_ok(i, id, NULL);
  }
  if (!strcmp(op, "wait")) {
    if (p->final) {
      struct sbuf b = {0};
      sb_raw(&b, ",", 1);
      exit_fields(&b, p);
      p->waited = true;
      answer_ok(i, id, b.p);
      sb_free(&b);
    } else
      c->waiting = true, c->wait_id = id, c->wait_proc = proc_index(p);
    return;
  }
  answer_error(i, id, "ENOSYS", "unknown op");
}

static void handle_frame(int i, int kind, const unsigned char *data, size_t n) {
  struct client *c = &clients[i];
  if (kind == K_JSON) return handle_json(i, data, n);
  struct proc *p = c->proc >= 0 ? &procs[c->proc] : NULL;
  if (kind == K_STDIN && c->hello && c->a_in && p) {
    if (!p->stdin_q) p->stdin_q = xmalloc(STDIN_MAX);
    memcpy(p->stdin_q + p->stdin_qlen, data, n);
    p->stdin_qlen += n;
    stdin_flush(p);
    return;
  }
  if (kind == K_EOF && c->a_in && p && n == 1 && data[0] == K_STDIN) {
    p->stdin_close_pending = true;
    if (!p->tty) stdin_flush(p);
    return;
  }
  if (kind == K_PLAN && c->hello) {
    free(c->plan);
    c->plan = xmalloc(n);
    memcpy(c->plan, data, n);
    c->plan_len = n;
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
    size_t need = 5;
    if (c->in_len >= 5) {
      uint32_t len = (uint32_t)c->in[0] << 24 | (uint32_t)c->in[1] << 16 | (uint32_t)c->in[2] << 8 | c->in[3];
      int kind = c->in[4];
      size_t max = kind == K_JSON ? MAX_JSON_FRAME : kind == K_PLAN ? MAX_PLAN_FRAME : MAX_DATA_FRAME;
      if (len < 1 || len - 1 > max || kind > K_PLAN) {
        diag("client %d: bad frame (length %u, kind %d): disconnected", i, len, kind);
        client_close(i);
        return;
      }
      need = 4 + (size_t)len;
      if (c->in_len >= need) {
        struct proc *p = c->proc >= 0 ? &procs[c->proc] : NULL;
        if (kind == K_STDIN && p && p->stdin_qlen + (len - 1) > STDIN_MAX) {
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
    /* the buffer grows to the frame being read (a plan frame up to 1 MiB), from 64 KiB */
    size_t want = need > MAX_JSON_FRAME + 5 ? need : MAX_JSON_FRAME + 5;
    if (c->in_cap < want) {
      unsigned char *b = realloc(c->in, want);
      if (!b) abort();
      c->in = b;
      c->in_cap = want;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      client_close(i); /* a dropped connection is a detach: the container does not notice */
      return;
    }
    c->in_len += (size_t)n;
    if (c->in_cap > MAX_JSON_FRAME + 5 && c->in_len == 0) {
      free(c->in);
      c->in = NULL;
      c->in_cap = 0;
    }
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
      clients[i].proc = -1;
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

static void proc_event(struct proc *p, int what, uint32_t e) {
  int pi = proc_index(p);
  switch (what) {
  case T_SYNC:
    if (p->sync_fd >= 0) read_sync(p);
    break;
  case T_OUT:
    if (p->out_r >= 0) read_stream(p, &p->out_r, K_STDOUT);
    break;
  case T_ERR:
    if (p->err_r >= 0) read_stream(p, &p->err_r, K_STDERR);
    break;
  case T_IN:
    stdin_flush(p);
    break;
  case T_CONLISTEN: {
    int fd = accept4(p->con_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0 && p->con_conn < 0) {
      p->con_conn = fd;
      ep_add(fd, EPOLLIN, PTAG(pi, T_CONCONN));
    } else if (fd >= 0)
      close(fd);
    break;
  }
  case T_CONCONN:
    if (p->con_conn >= 0) console_recv(p);
    break;
  case T_PTY:
    if (p->pty < 0) break;
    if (e & EPOLLOUT) stdin_flush(p);
    if (p->pty >= 0 && (e & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
      if (!(e & EPOLLIN) && !p->done) {
        /* HUP with no data: no slave is open right now; poll again in 100 ms, as conmon does
         * (the slave may be reopened); after the exit, EIO is the end */
        ep_mod(p->pty, 0, PTAG(pi, T_PTY));
        p->pty_parked = true;
      } else
        read_stream(p, &p->pty, K_STDOUT);
    }
    break;
  }
}

static void loop(void) {
  struct epoll_event evs[16];
  for (;;) {
    long long now = mono_ms();
    int timeout = -1;
    bool parked = false;
    for (int k = 0; k < MAX_PROCS; k++) {
      struct proc *p = &procs[k];
      if (!p->used || !p->done || p->final) continue;
      bool open_out = p->out_r >= 0 || p->err_r >= 0 || p->pty >= 0;
      if (!open_out || now >= p->drain_deadline) finish(p);
      else {
        int t = (int)(p->drain_deadline - now);
        if (timeout < 0 || t < timeout) timeout = t;
      }
    }
    for (int k = 0; k < MAX_PROCS; k++) {
      if (procs[k].pty_parked && procs[k].done) {
        procs[k].pty_parked = false;
        pty_events(&procs[k]);
      }
      parked |= procs[k].pty_parked;
    }
    bool any = false;
    for (int k = 0; k < MAX_CLIENTS; k++) any |= clients[k].fd >= 0;
    if (exit_written && (released || (!any && now - idle_since >= IDLE_MS))) {
      bool pending = false;
      for (int k = 0; k < MAX_CLIENTS; k++) pending |= clients[k].fd >= 0 && clients[k].out_len > 0;
      if (!pending) return;
    }
    if (exit_written) {
      int t = released ? 50 : (any ? 1000 : (int)(IDLE_MS - (now - idle_since) + 1));
      if (timeout < 0 || t < timeout) timeout = t;
    }
    if (parked && (timeout < 0 || timeout > 100)) timeout = 100;
    int n = epoll_wait(epfd, evs, 16, timeout);
    for (int k = 0; k < n; k++) {
      uint64_t tag = evs[k].data.u64;
      uint32_t e = evs[k].events;
      if (tag == T_SIG) {
        struct signalfd_siginfo si;
        while (read(sigfd, &si, sizeof si) == sizeof si) {
          if (si.ssi_signo == SIGCHLD) reap();
          else if ((si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) && procs[0].pid && !procs[0].done)
            kill(procs[0].pid, (int)si.ssi_signo);
        }
      } else if (tag == T_LISTEN)
        accept_client();
      else if (tag >= T_CLIENT && tag < T_CLIENT + MAX_CLIENTS) {
        int i = (int)(tag - T_CLIENT);
        if (e & EPOLLOUT) client_flush(i);
        if (clients[i].fd >= 0 && (e & (EPOLLIN | EPOLLHUP | EPOLLERR))) client_read(i);
      } else if (tag >= 0x100 && tag < T_CLIENT) {
        int pi = (int)(tag >> 8) - 1;
        if (pi >= 0 && pi < MAX_PROCS && procs[pi].used) proc_event(&procs[pi], (int)(tag & 0xff), e);
      }
    }
    /* a pty parked on HUP is polled again 100 ms later */
    if (n == 0)
      for (int k = 0; k < MAX_PROCS; k++)
        if (procs[k].pty_parked) {
          procs[k].pty_parked = false;
          pty_events(&procs[k]);
        }
  }
}

/* ---------------------------------------------------------------- startup */

static char *reqbuf;
static size_t reqlen;

/* A shim started by the spawner (below) answers on the spawner's stdout, tagged with the
 * request's id, instead of on its own stdout and stderr. */
static bool spawned;
static uint32_t spawn_id;
/* A spawner's child: the write end of its pipe to the spawner, closed once the answer is out
 * (with the byte 'A' first): a child that dies before then leaves the spawner to answer. */
static int answered_fd = -1;

/* One line "<id> <text>\n" in a single write: shorter than PIPE_BUF, so the answers of shims
 * starting at once never interleave. A newline inside the text becomes a space. */
/* The answer fd of a monitor that is the spawner's child itself (see main): its handshake and
 * its errors go to the spawner's answer pipe, framed as spawn_answer frames them. */
static int direct_answer_fd = -1;

static void spawn_answer_to(int fd, const char *text) {
  char line[3072];
  int n = snprintf(line, sizeof line - 1, "%u %s", spawn_id, text);
  if (n < 0) n = 0;
  if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
  while (n > 0 && line[n - 1] == '\n') n--;
  for (int k = 0; k < n; k++)
    if (line[k] == '\n') line[k] = ' ';
  line[n++] = '\n';
  if (write(fd, line, (size_t)n) < 0) {
  }
  if (answered_fd >= 0) {
    if (write(answered_fd, "A", 1) < 0) {
    }
    close(answered_fd);
    answered_fd = -1;
  }
}

static void spawn_answer(const char *text) { spawn_answer_to(1, text); }

/* What stage 1 says on its way out: the monitor's handshake line, or an error. */
static int stage1_answer(bool ok, const char *text) {
  if (spawned) {
    if (ok) {
      spawn_answer(text);
    } else {
      char e[3000];
      snprintf(e, sizeof e, "error: %s", text);
      spawn_answer(e);
    }
    return ok ? 0 : 1;
  }
  fputs(text, ok ? stdout : stderr);
  return ok ? 0 : 1;
}

static void fail(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(int fd, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
  if (fd == 2 && spawned) {
    buf[n] = 0;
    stage1_answer(false, buf);
    _exit(1);
  }
  if (fd >= 0 && fd == direct_answer_fd) {
    char e[1100];
    snprintf(e, sizeof e, "error: berth-shim: %.*s", n, buf);
    spawn_answer_to(fd, e);
    _exit(1);
  }
  if (write(fd, buf, (size_t)n) < 0) {
  }
  _exit(1);
}

static bool read_full(int fd, void *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += (size_t)r;
  }
  return true;
}

/* A big-endian u32 (the spawner's request heads). */
static uint32_t be32(const unsigned char *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }

static bool write_full(int fd, const void *p, size_t n) {
  size_t put = 0;
  while (put < n) {
    ssize_t w = write(fd, (const char *)p + put, n - put);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    put += (size_t)w;
  }
  return true;
}

/*
 * The spawner (`berth-shim --spawner [cgroup.procs…]`): berthd's one long-lived helper for
 * starting shims. A fork of this small static process costs a fraction of a fork of berthd (a
 * 60 MB Node process) and needs no exec; and the spawner joined the shims' cgroups once, so its
 * children need no move between cgroups (a move may wait for an RCU grace period). Requests on
 * stdin: [u32 id][u32 length][the frames a shim reads on its stdin], big-endian; per request one
 * line on stdout, `<id> <the shim's answer line>` or `<id> error: <text>`. It ends at EOF on
 * stdin, or with berthd (PDEATHSIG). Returns -1 in a child, which goes on as a shim's stage 1
 * with the request in reqbuf; the spawner itself never returns but to exit. A request goes to
 * the warm child (forked ahead while the spawner was idle) when there is one, else to a fork.
 */
/* A sealed in-memory copy of the file at `path` (as berth-nsinit makes of itself), or -1. */
static int sealed_copy(const char *path) {
  int src = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (src < 0 || fstat(src, &st) < 0) {
    if (src >= 0) close(src);
    return -1;
  }
  int copy = memfd_create("berth-nsinit", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  bool ok = copy >= 0;
  for (off_t off = 0; ok && off < st.st_size;) ok = sendfile(copy, src, &off, (size_t)(st.st_size - off)) > 0;
  ok = ok && fcntl(copy, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0;
  close(src);
  if (!ok && copy >= 0) close(copy);
  return ok ? copy : -1;
}

/* A fork of the spawner becoming a shim: the default dispositions of SIGCHLD and SIGPIPE back, stdin /dev/null (berthd's
 * request pipe stays the spawner's alone), and a shim's name to ps and pgrep ("berth-shim" over
 * the spawner's command line). */
static void child_setup(int argc, char **argv) {
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigaction(SIGCHLD, &dfl, NULL);
  signal(SIGPIPE, SIG_DFL);
  int nul = openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (nul < 0 || dup2(nul, 0) < 0) _exit(1);
  close(nul);
  char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
  memset(start, 0, (size_t)(end - start));
  memcpy(start, "berth-shim", (size_t)(end - start) < 10 ? (size_t)(end - start) : 10);
  spawned = true;
}

static int spawner_main(int argc, char **argv) {
  default_dispositions(); /* once: its children, the shims, inherit them */
  pid_t parent = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) return 1;
  if (chdir("/") < 0) return 1;
  int first = 2;
  long long warm_idle_ms = 20;
  if (argc > first && !strncmp(argv[first], "--warm-idle-ms=", 15)) {
    /* tests: a long one leaves the warm children to berthd's hints */
    warm_idle_ms = atoll(argv[first] + 15);
    if (warm_idle_ms < 0) warm_idle_ms = 0;
    first++;
  }
  if (argc > first && !strncmp(argv[first], "--nsinit=", 9)) {
    /* made once for every shim this spawner starts; a binary replaced later is seen by the next
     * spawner (berthd's next start) */
    nsinit_copy_of = xstrdup(argv[first] + 9); /* a child overwrites argv (its title) */
    nsinit_copy = sealed_copy(nsinit_copy_of);
    if (nsinit_copy < 0) fprintf(stderr, "berth-shim spawner: copy '%s': %s\n", nsinit_copy_of, strerror(errno));
    first++;
  }
  for (int k = first; k < argc; k++) {
    int cf = openat(AT_FDCWD, argv[k], O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (cf < 0 || write(cf, "0", 1) != 1) fprintf(stderr, "berth-shim spawner: join '%s': %s\n", argv[k], strerror(errno));
    if (cf >= 0) close(cf);
  }
  /* nothing of berthd's but the two pipes and stderr lives on in the shims' parents */
  int from = 3;
  if (nsinit_copy >= 0) {
    if (nsinit_copy != 3 && (dup3(nsinit_copy, 3, O_CLOEXEC) < 0 || close(nsinit_copy) < 0)) return 1;
    nsinit_copy = 3;
    from = 4;
  }
  if (syscall(SYS_close_range, from, ~0U, 0) < 0)
    for (int fd = from; fd < 1024; fd++) close(fd);
  /* children are reaped by the kernel: the spawner never waits */
  struct sigaction sa = {.sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT};
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  pid_t self = getpid();
  /* Each child's pipe until it has answered: one that dies first (SIGKILL between two lines)
   * leaves EOF without the byte 'A', and the spawner answers for it, so no start waits forever. */
  struct waiting {
    int fd;
    uint32_t id;
  } *waits = NULL;
  size_t nwaits = 0, capwaits = 0;
  /* The warm child: forked ahead, while nothing is asked, and waiting on warm_req for its
   * request, so that a start does not wait for a fork (~0.8 ms here: page tables). Forked when
   * berthd hints that a start is coming (a request with id 0 and no bytes, sent at a container's
   * create), or once the spawner has been idle for warm_idle_ms — not sooner: a fork then
   * competes with the start that used the last one (+1.3 ms per start at 3 ms here). warm_done
   * is its answer pipe (as `done` below). */
  int warm_req = -1, warm_done = -1;
  long long last_request = 0;
  bool warm_now = false; /* berthd's hint: a start is coming (a create) */
  for (;;) {
    if (warm_req < 0 && (warm_now || mono_ms() - last_request >= warm_idle_ms)) {
      warm_now = false;
      int rq[2], dn[2];
      if (pipe2(rq, O_CLOEXEC) == 0) {
        if (pipe2(dn, O_CLOEXEC) == 0) {
          pid_t pid = fork();
          if (pid == 0) {
            close(rq[1]);
            close(dn[0]);
            for (size_t k = 0; k < nwaits; k++) close(waits[k].fd);
            /* dies with the spawner while it waits (the shim it becomes must not) */
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != self) _exit(0);
            child_setup(argc, argv);
            if (nsinit_copy >= 0 && nsinit_copy_of) prelaunch_nsinit();
            unsigned char whdr[8];
            if (!read_full(rq[0], whdr, sizeof whdr)) _exit(0); /* the spawner is gone */
            uint32_t wid = be32(whdr), wlen = be32(whdr + 4);
            char *wbody = malloc(wlen ? wlen : 1);
            if (!wbody || !read_full(rq[0], wbody, wlen)) _exit(0);
            close(rq[0]);
            prctl(PR_SET_PDEATHSIG, 0);
            spawn_id = wid;
            answered_fd = dn[1];
            reqbuf = wbody;
            reqlen = wlen;
            return -1;
          }
          if (pid > 0) {
            warm_req = rq[1];
            warm_done = dn[0];
            close(dn[1]);
          } else {
            close(dn[0]);
            close(dn[1]);
            close(rq[1]);
          }
        } else {
          close(rq[1]);
        }
        close(rq[0]);
      }
      if (warm_req < 0) last_request = mono_ms(); /* no warm child now: try again after a while */
    }
    struct pollfd *pf = calloc(nwaits + 2, sizeof *pf);
    if (!pf) _exit(1);
    pf[0].fd = 0;
    pf[0].events = POLLIN;
    pf[1].fd = warm_done; /* -1 is ignored by poll */
    pf[1].events = POLLIN;
    for (size_t k = 0; k < nwaits; k++) pf[k + 2] = (struct pollfd){.fd = waits[k].fd, .events = POLLIN};
    int timeout = -1;
    if (warm_req < 0) {
      long long left = last_request + warm_idle_ms - mono_ms();
      timeout = left < 0 ? 0 : (int)left;
    }
    if (poll(pf, nwaits + 2, timeout) < 0) {
      free(pf);
      if (errno == EINTR) continue;
      _exit(1);
    }
    if (pf[1].revents) {
      /* the warm child died before it was asked for anything (it never writes before) */
      close(warm_req);
      close(warm_done);
      warm_req = warm_done = -1;
      last_request = mono_ms();
    }
    for (size_t k = nwaits; k-- > 0;) {
      if (!pf[k + 2].revents) continue;
      char c = 0;
      ssize_t r;
      do r = read(waits[k].fd, &c, 1);
      while (r < 0 && errno == EINTR);
      if (r == 1 && c != 'A') continue; /* never written otherwise; ignore */
      if (r != 1) {
        spawn_id = waits[k].id;
        spawn_answer("error: berth-shim: the shim died before it was ready");
      }
      close(waits[k].fd);
      waits[k] = waits[--nwaits];
    }
    short in = pf[0].revents;
    free(pf);
    if (!in) continue;
    unsigned char hdr[8];
    if (!read_full(0, hdr, sizeof hdr)) _exit(0); /* berthd closed the pipe, or died */
    uint32_t id = be32(hdr), len = be32(hdr + 4);
    if (id == 0 && len == 0) {
      /* the hint: a warm child now, if there is none (no answer); one that is there already
       * takes the start, and the next is forked once idle again, not right after */
      warm_now = warm_req < 0;
      continue;
    }
    spawn_id = id;
    last_request = mono_ms();
    if (len > MAX_PLAN_FRAME + MAX_JSON_FRAME + 64) {
      spawn_answer("error: berth-shim: request too large");
      _exit(1); /* the stream can no longer be followed */
    }
    char *body = malloc(len ? len : 1);
    if (!body) _exit(1);
    if (!read_full(0, body, len)) _exit(0);
    int done[2] = {-1, -1};
    if (warm_req >= 0) {
      /* the warm child takes it; if it died meanwhile (EPIPE), a fork as below */
      bool handed = write_full(warm_req, hdr, sizeof hdr) && write_full(warm_req, body, len);
      close(warm_req);
      warm_req = -1;
      if (handed) {
        done[0] = warm_done;
      } else {
        close(warm_done);
      }
      warm_done = -1;
    }
    pid_t pid = 1;
    if (done[0] < 0) {
      if (pipe2(done, O_CLOEXEC) < 0) done[0] = done[1] = -1;
      pid = fork();
    }
    if (pid == 0) {
      if (done[0] >= 0) close(done[0]);
      answered_fd = done[1];
      child_setup(argc, argv);
      reqbuf = body;
      reqlen = len;
      return -1;
    }
    free(body);
    if (done[1] >= 0) close(done[1]);
    if (pid < 0) {
      char e[256];
      snprintf(e, sizeof e, "error: berth-shim: fork: %s", strerror(errno));
      spawn_answer(e);
      if (done[0] >= 0) close(done[0]);
    } else if (done[0] >= 0) {
      if (nwaits == capwaits) {
        capwaits = capwaits ? capwaits * 2 : 16;
        waits = realloc(waits, capwaits * sizeof *waits);
        if (!waits) _exit(1);
      }
      waits[nwaits++] = (struct waiting){.fd = done[0], .id = id};
    }
  }
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
  cfg_launch = json_bool(&req, "launch", false);
  cfg_start = json_bool(&req, "start", false);
  init_rows = json_int(&req, "rows", &x) && x > 0 && x < 65536 ? (unsigned short)x : 0;
  init_cols = json_int(&req, "cols", &x) && x > 0 && x < 65536 ? (unsigned short)x : 0;
  child_oom_adj = json_int(&req, "oom_score_adj", &x) && x >= -1000 && x <= 1000 ? (int)x : 0;
  const struct jfield *sc = json_field(&req, "shim_cgroups");
  if (sc && sc->type == J_ARR)
    for (int k = 0; k < sc->n; k++) shim_cgroups[shim_ncgroups++] = xstrdup(sc->arr[k]);
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
  int fd = openat(AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC | O_NOCTTY);
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
  if (argc > 1 && !strcmp(argv[1], "--spawner")) {
    int r = spawner_main(argc, argv);
    if (r >= 0) return r;
  } else if (argc > 1) {
    fprintf(stderr, "usage: berth-shim < request, or berth-shim --spawner [cgroup.procs...] (see docs/shim-protocol.md)\n");
    return 2;
  } else {
    default_dispositions();
    read_request();
  }
  /* ---- stage 1: validate, create, bind ---- */
  parse_request();
  if (!prelaunch_fits()) discard_prelaunch();
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
  /* A session of our own. (Already a leader when the caller made one of us: then setsid fails,
   * and nothing needs doing.) */
  if (getsid(0) != getpid() && setsid() < 0) fail(2, "berth-shim: setsid: %s\n", strerror(errno));
  pid_t p2 = 0;
  if (spawned) {
    /* The spawner's child is the monitor itself: one fork per container, not two. The spawner
     * reaps it (SA_NOCLDWAIT) while it lives; once berthd and the spawner are gone, init or a
     * subreaper does. A session leader acquires a terminal it opens as its controlling one:
     * every open() of the shim is O_NOCTTY, and a pty master only ever arrives over a socket.
     * The handshake goes straight to the spawner's answer pipe, kept as direct_answer_fd until
     * then (stdout becomes /dev/null below). */
    hs[0] = -1;
    hs[1] = fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (hs[1] < 0) fail(2, "berth-shim: dup: %s\n", strerror(errno));
    direct_answer_fd = hs[1];
  } else {
    /* Run directly (`berth-shim < request`): the caller waits for our exit, so a second fork
     * makes the monitor, which is then no session leader either. */
    if (pipe2(hs, O_CLOEXEC) < 0) fail(2, "berth-shim: pipe: %s\n", strerror(errno));
    p2 = fork();
    if (p2 < 0) fail(2, "berth-shim: fork: %s\n", strerror(errno));
  }
  if (p2 > 0) {
    /* the monitor closes its end once it said it is ready (or died): read to EOF */
    close(hs[1]);
    char buf[1024];
    size_t n = 0;
    for (;;) {
      ssize_t r = read(hs[0], buf + n, sizeof buf - 1 - n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      n += (size_t)r;
    }
    buf[n] = 0;
    if (n == 0) return stage1_answer(false, "berth-shim: the monitor died while starting\n");
    if (buf[0] != '{') {
      char e[1100];
      snprintf(e, sizeof e, "berth-shim: %s\n", buf);
      return stage1_answer(false, e);
    }
    return stage1_answer(true, buf);
  }
  /* ---- stage 2: the monitor ---- */
  if (hs[0] >= 0) close(hs[0]);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) fail(hs[1], "set subreaper: %s", strerror(errno));
  if (chdir("/") < 0) fail(hs[1], "chdir /: %s", strerror(errno));
  umask(022);
  int nul = openat(AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
  snprintf(path, sizeof path, "%s/shim.log", state_dir);
  int dl = openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
  struct stat dst;
  if (dl >= 0 && fstat(dl, &dst) == 0 && dst.st_size > 1024 * 1024 && ftruncate(dl, 0) < 0) {
  } /* capped */
  dup2(nul, 0);
  dup2(nul, 1);
  dup2(dl >= 0 ? dl : nul, 2);
  if (dl > 2) close(dl);
  if (nul > 2) close(nul);
  /* Anything inherited from the caller is closed: the monitor may live for months, and an fd of
   * berthd's (a listening socket, a database) must not live on in it, let alone reach a child.
   * What we keep: the control socket, the log, the handshake pipe. Every fd we open later is
   * O_CLOEXEC, so only what we hand over reaches a child. */
  /* ... and the spawner's sealed copy of berth-nsinit, when this request launches that path */
  if (nsinit_copy >= 0 && !(nsinit_path && !strcmp(nsinit_path, nsinit_copy_of))) nsinit_copy = -1;
  enum { NKEEP = 8 };
  int keep[NKEEP] = {listen_fd, lg.fd, hs[1], nsinit_copy, answered_fd, pre.sync_fd, pre.out_r, pre.err_r};
  for (int a = 0; a < NKEEP; a++)
    for (int b = a + 1; b < NKEEP; b++)
      if (keep[b] < keep[a]) {
        int t = keep[a];
        keep[a] = keep[b];
        keep[b] = t;
      }
  unsigned lo = 3;
  for (int k = 0; k <= NKEEP; k++) {
    unsigned hi = k < NKEEP ? (unsigned)keep[k] : ~0U;
    if (k < NKEEP && (keep[k] < 3)) continue;
    if (hi > lo && syscall(SYS_close_range, lo, hi - 1, 0) < 0)
      for (unsigned fd = lo; fd < hi && fd < 4096; fd++) close((int)fd);
    if (k < NKEEP) lo = hi + 1;
  }
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3; fd < 1024; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  /* Out of berthd's cgroups, into the engine's cgroup for shims (the request's cgroup.procs
   * files, one per hierarchy): a limit, a freeze or a kill of berthd's cgroup (systemd stopping
   * the service) must not reach the containers' parents. Before any child exists, so that
   * nothing of ours is left behind; a file we cannot write leaves us where we are (logged). */
  for (int k = 0; k < shim_ncgroups; k++) {
    int cf = openat(AT_FDCWD, shim_cgroups[k], O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (cf < 0 || write(cf, "0", 1) != 1) diag("join the shims' cgroup '%s': %s", shim_cgroups[k], strerror(errno));
    if (cf >= 0) close(cf);
  }
  /* the shim must outlive an OOM in its container: -999; children get the container's value */
  int of = openat(AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOCTTY);
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
  proc_init(&procs[0]);
  procs[0].tty = cfg_tty;
  procs[0].want_stdin = cfg_stdin;
  procs[0].rows = init_rows;
  procs[0].cols = init_cols;
  procs[0].console_path = xstrdup(console_path);
  ep_add(sigfd, EPOLLIN, T_SIG);
  ep_add(listen_fd, EPOLLIN, T_LISTEN);
  if (cgroup_dir) {
    char ev[4096], buf[512];
    snprintf(ev, sizeof ev, "%s/memory.events", cgroup_dir);
    int fd = openat(AT_FDCWD, ev, O_RDONLY | O_CLOEXEC | O_NOCTTY);
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
  char stt[32];
  start_time(stt, sizeof stt);
  struct sbuf b = {0};
  sb_fmt(&b, "{\"v\":1,\"shim\":\"%s\",\"pid\":%d,\"start_time\":\"%s\",\"socket\":", SHIM_VERSION, (int)getpid(), stt);
  sb_str(&b, sock_path);
  sb_raw(&b, "}\n", 2);
  if (write_file_atomic(state_dir, "shim.json", b.p, b.len) < 0) fail(hs[1], "write shim.json: %s", strerror(errno));
  sb_free(&b);
  struct sbuf hi = {0};
  sb_fmt(&hi, "{\"ok\":true,\"v\":%d,\"pid\":%d,\"start_time\":\"%s\",\"socket\":", PROTO_VERSION, (int)getpid(), stt);
  sb_str(&hi, sock_path);
  sb_raw(&hi, "}\n", 2);
  if (direct_answer_fd >= 0) {
    spawn_answer_to(hs[1], hi.p);
    direct_answer_fd = -1;
  } else if (write(hs[1], hi.p, hi.len) < 0) {
  }
  sb_free(&hi);
  close(hs[1]);
  idle_since = mono_ms();
  if (cfg_launch) {
    /* The container is launched now, while the caller hears we are ready and connects: its
     * `launch` then claims what nsinit said meanwhile (held by event()). Not before the
     * handshake: nsinit soon waits for the caller's `cgroups` (plan cgroups-wait), which
     * follows that claim, so the claim is on the start's critical path too. */
    struct proc *p = &procs[0];
    char m[512];
    p->relay_held = true;
    if (do_launch(p, plan, plan_len, m, sizeof m) < 0) {
      p->launch_error = xstrdup(m);
      start_failed(p, m);
      proc_exited(p, 255, 0, false);
    }
    free(plan);
    plan = NULL;
  }
  loop();
  unlink(sock_path);
  return 0;
}
