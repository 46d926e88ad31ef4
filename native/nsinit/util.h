/* Errors, the sync channel, its encoding, fd passing and small helpers. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

extern int g_status;         /* start-status FIFO: failures after start are written here too */
extern int g_sync;           /* the caller's sync socket; -1 once this stage closed it */
extern pid_t g_child;        /* parent stage: the init stage, killed if the parent fails */
extern int g_die_status;     /* exit status of die() (127 for a failed execve) */
extern void (*g_on_die)(void); /* parent stage: restores the terminal */

/* Report `error <errno> <message>` on the sync fd (stderr once it is closed) and exit; die()
 * reports errno 0. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with ": <errno_text(errno)>" appended. */
_Noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* strerror() with its first letter lower-cased ("no such file or directory"), as Go and Node
 * write errno texts: callers match runc's lower-case texts (the docker CLI maps a start error
 * with "no such file or directory" to exit 127, "permission denied" to 126). An initialism
 * ("I/O error", "RPC …") is left as it is. Valid until the next call. */
const char *errno_text(int err);
/* The given errno, without ": <strerror>" (the message says it better). */
_Noreturn void die_code(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* close_range(2) through syscall(2): glibc has a wrapper since 2.34, musl (which the static
 * build uses: a glibc process start costs ~0.7 ms of CPUID decoding on a VM) has none. */
int sys_close_range(unsigned first, unsigned last, unsigned flags);

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Percent-decoding of one field (docs/plan-format.md, "Encoding"), in place; -1 if bad. */
int field_decode(char *s);

/* One whole line per write(2): `name` plus one encoded field (or none). */
void send_line(const char *name, const char *field);
void send_line_fd(int fd, const char *name, const char *field);
void send_line2_fd(int fd, const char *name, const char *f1, const char *f2); /* f2 may be NULL */
/* The next line from the sync fd without its '\n', or NULL at EOF. Valid until the next call.
 * The buffer is plain memory, so the init stage inherits what the parent read ahead. */
char *read_line(void);
/* Whether the sync fd's bytes read ahead hold anything not yet returned by read_line(). */
int sync_read_ahead(void);
/* Wait for the caller to send exactly `word`. */
void expect_line(const char *word);

int write_all(int fd, const void *buf, size_t n);
int read_full(int fd, void *buf, size_t n);    /* 0 on EOF before n bytes */
int write_file_at(int dirfd, const char *path, const char *data); /* -1 + errno */

/* SCM_RIGHTS: one data byte string plus one fd. recv_fd returns the byte count (0 on EOF)
 * and stores the fd or -1. */
int send_fd(int sock, int fd, const char *data, size_t len);
ssize_t recv_fd(int sock, char *buf, size_t len, int *fd);

/* Process titles for ps: comm via PR_SET_NAME, and the argv area overwritten. */
void title_init(int argc, char **argv);
void set_title(const char *title);

/* Every ignored signal's disposition back to SIG_DFL (the libc's own signals too, through the
 * system call): ignored dispositions survive execve, and whoever started us may have left some
 * (Node ignores SIGPIPE; glibc's posix_spawn ignores its internal 32 and 33 in the child).
 * Which ones: note_ignored_signals() at the start, plus those ignore_signal() ignored since;
 * every signal when /proc/self/status could not be read. */
void note_ignored_signals(void);
void ignore_signal(int sig);
void reset_signals(void);

/* Files are opened with openat(AT_FDCWD, …), never open(): musl's open() follows an O_CLOEXEC
 * open with an fcntl(F_SETFD) for kernels older than 2.6.23, a system call more per file. */
