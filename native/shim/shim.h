/* berth-shim: the per-container monitor. See docs/shim-protocol.md. */
#ifndef BERTH_SHIM_H
#define BERTH_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Files are opened with openat(AT_FDCWD, …), never open(): musl's open() follows an O_CLOEXEC
 * open with an fcntl(F_SETFD) for kernels older than 2.6.23, a system call more per file. */

#define SHIM_VERSION "0.1.1"
#define PROTO_VERSION 1

/* Frame kinds (docs/shim-protocol.md). */
enum { K_JSON = 0, K_STDIN = 1, K_STDOUT = 2, K_STDERR = 3, K_EOF = 4, K_PLAN = 5 };
#define MAX_JSON_FRAME (64 * 1024)
#define MAX_DATA_FRAME (32 * 1024)
#define MAX_PLAN_FRAME (1024 * 1024)

/* ---- json.c: flat JSON objects (strings, integers, booleans, null, string arrays) ---- */
#define JMAX_FIELDS 32
#define JMAX_ARRAY 32
enum jtype { J_STR, J_INT, J_BOOL, J_NULL, J_ARR };
struct jfield {
  const char *key;
  enum jtype type;
  const char *str; /* J_STR */
  long long num;   /* J_INT, J_BOOL */
  int n;           /* J_ARR */
  const char *arr[JMAX_ARRAY];
};
struct jobj {
  int n;
  struct jfield f[JMAX_FIELDS];
  char arena[MAX_JSON_FRAME + 1024];
  size_t used;
};
/* Parses one flat object; returns 0, or -1 with a message in err. */
int json_parse(struct jobj *o, const char *text, size_t len, const char **err);
const char *json_str(const struct jobj *o, const char *key);
bool json_int(const struct jobj *o, const char *key, long long *out);
bool json_bool(const struct jobj *o, const char *key, bool dflt);
const struct jfield *json_field(const struct jobj *o, const char *key);

/* A growable output string for JSON answers. */
struct sbuf {
  char *p;
  size_t len, cap;
};
void sb_raw(struct sbuf *b, const char *s, size_t n);
void sb_str(struct sbuf *b, const char *s);            /* "escaped" */
void sb_fmt(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);

/* ---- log.c: Docker's json-file ---- */
struct logfile {
  char *path;
  int fd;
  long long size, max_size; /* max_size <= 0: never rotate */
  int max_file;
  unsigned long long dropped, rotations;
  bool error; /* in an error episode (disk full) */
  bool dirty; /* written to since the last fsync */
};
struct linebuf {
  char buf[16 * 1024];
  size_t n;
  bool partial;          /* a partial entry of this line has been written */
  long long pts_sec, pts_nsec; /* the first partial's timestamp */
};
int log_open(struct logfile *l);
/* Feeds bytes read from a stream (stream: "stdout" / "stderr"); at eof, flushes the rest. */
void log_feed(struct logfile *l, struct linebuf *lb, const char *stream, bool eof);
size_t log_room(const struct linebuf *lb);
void format_time(char *out, size_t n, long long sec, long long nsec); /* RFC3339Nano, UTC */
void now_ts(long long *sec, long long *nsec);
/* Called by log.c on rotation and on the start of a write error episode. */
void on_log_event(const char *what);

/* ---- util ---- */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int write_file_atomic(const char *dir, const char *name, const char *data, size_t len);

#endif
