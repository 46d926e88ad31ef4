/* Docker's json-file log driver, byte for byte (moby daemon/logger/copier.go, jsonfilelog,
 * loggerutils/logfile.go; docs/shim-protocol.md "The log"). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* Worst case: every byte of a 16 KiB piece escaped as \u00XX (6 bytes), plus the frame. */
static char entry[6 * 16 * 1024 + 256];

void now_ts(long long *sec, long long *nsec) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  *sec = ts.tv_sec;
  *nsec = ts.tv_nsec;
}

/* Go's time.RFC3339Nano in UTC: the fraction without trailing zeros, none at all when zero. */
void format_time(char *out, size_t n, long long sec, long long nsec) {
  time_t t = (time_t)sec;
  struct tm tm;
  gmtime_r(&t, &tm);
  int k = snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec);
  if (k < 0 || (size_t)k >= n) return;
  if (nsec > 0) {
    char frac[24];
    snprintf(frac, sizeof frac, "%09lld", nsec);
    int end = 9;
    while (end > 0 && frac[end - 1] == '0') end--;
    frac[end] = 0;
    snprintf(out + k, n - (size_t)k, ".%sZ", frac);
  } else
    snprintf(out + k, n - (size_t)k, "Z");
}

/* Length of the valid UTF-8 sequence at p (Go's utf8.DecodeRune), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t avail) {
  unsigned char b = p[0];
  if (b < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 3;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 4;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else
    return 0;
  if (avail < need) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < need; i++)
    if (p[i] < 0x80 || p[i] > 0xbf) return 0;
  return need;
}

static size_t escape(char *out, const unsigned char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  char *o = out;
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if (c == '"' || c == '\\') *o++ = '\\', *o++ = (char)c;
      else if (c == '\n') *o++ = '\\', *o++ = 'n';
      else if (c == '\r') *o++ = '\\', *o++ = 'r';
      else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
        memcpy(o, "\\u00", 4);
        o += 4;
        *o++ = hex[c >> 4];
        *o++ = hex[c & 15];
      } else
        *o++ = (char)c;
      i++;
      continue;
    }
    size_t w = utf8_len(s + i, n - i);
    if (w == 0) {
      memcpy(o, "\\ufffd", 6);
      o += 6;
      i++;
    } else if (w == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
      memcpy(o, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
      o += 6;
      i += 3;
    } else {
      memcpy(o, s + i, w);
      o += w;
      i += w;
    }
  }
  return (size_t)(o - out);
}

/* A shim SIGKILLed in the middle of a write (a large entry is written page by page) leaves a
 * torn entry without its '\n' at the end of the log. Appending to it would glue our first entry
 * to it and readers would skip both: cut it off first (the log has one writer at a time). Only
 * an entry of ours can be torn, so only the last sizeof entry bytes are searched; a longer tail
 * without '\n' is someone else's garbage, ended with a '\n' so that readers skip it alone. */
static void cut_torn_tail(struct logfile *l) {
  char buf[4096];
  off_t end = l->size, floor = l->size > (off_t)sizeof entry ? l->size - (off_t)sizeof entry : 0;
  while (end > floor) {
    size_t n = end - floor > (off_t)sizeof buf ? sizeof buf : (size_t)(end - floor);
    if (pread(l->fd, buf, n, end - (off_t)n) != (ssize_t)n) return; /* cannot tell: leave it */
    for (size_t i = n; i-- > 0;)
      if (buf[i] == '\n') {
        off_t keep = end - (off_t)n + (off_t)i + 1;
        if (keep == l->size) return;
        if (ftruncate(l->fd, keep) < 0)
          diag("log: cut a torn entry off: %s", strerror(errno));
        else
          l->size = keep;
        return;
      }
    end -= (off_t)n;
  }
  if (floor == 0) {
    if (ftruncate(l->fd, 0) == 0) l->size = 0;
  } else if (write(l->fd, "\n", 1) == 1) {
    l->size++;
  }
}

int log_open(struct logfile *l) {
  l->fd = openat(AT_FDCWD, l->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
  if (l->fd < 0) return -1;
  struct stat st;
  l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
  if (l->size > 0) cut_torn_tail(l);
  return 0;
}

static void rotate(struct logfile *l) {
  char from[4096], to[4096];
  if (l->max_file < 2) {
    /* max-file 1: the one file starts over. */
    close(l->fd);
    unlink(l->path);
  } else {
    snprintf(to, sizeof to, "%s.%d", l->path, l->max_file - 1);
    unlink(to);
    for (int i = l->max_file - 1; i > 1; i--) {
      snprintf(from, sizeof from, "%s.%d", l->path, i - 1);
      snprintf(to, sizeof to, "%s.%d", l->path, i);
      rename(from, to);
    }
    snprintf(to, sizeof to, "%s.1", l->path);
    close(l->fd);
    rename(l->path, to);
  }
  l->fd = openat(AT_FDCWD, l->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
  l->size = 0;
  l->rotations++;
  on_log_event("log_rotated");
}

static void write_entry(struct logfile *l, const char *stream, const char *text, size_t n, bool newline, long long sec,
                        long long nsec) {
  if (!l->path) return; /* no log: output goes to attached clients only */
  if (l->max_size > 0 && l->size >= l->max_size) rotate(l);
  char *o = entry;
  memcpy(o, "{\"log\":\"", 8);
  o += 8;
  o += escape(o, (const unsigned char *)text, n);
  if (newline) *o++ = '\\', *o++ = 'n';
  char ts[64];
  format_time(ts, sizeof ts, sec, nsec);
  o += sprintf(o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, ts);
  size_t len = (size_t)(o - entry);
  if (l->fd < 0) {
    l->dropped += len;
    return;
  }
  ssize_t w = write(l->fd, entry, len);
  if (w != (ssize_t)len) {
    /* Disk full or I/O error: drop the entry and cut a torn one off, so that every later
     * reader still decodes the file (we are its only writer). */
    if (w > 0 && ftruncate(l->fd, l->size) < 0) diag("log: truncate after a short write: %s", strerror(errno));
    l->dropped += len;
    if (!l->error) {
      l->error = true;
      diag("log: write '%s': %s", l->path, w < 0 ? strerror(errno) : "short write");
      on_log_event("log_error");
    }
    return;
  }
  l->error = false;
  l->dirty = true;
  l->size += (long long)len;
  /* One huge entry would keep ~100 KiB of the buffer resident: give those pages back. */
  if (len > 16 * 1024) madvise(entry + 4096, sizeof entry - 4096, MADV_DONTNEED);
}

size_t log_room(const struct linebuf *lb) {
  size_t room = sizeof lb->buf - lb->n;
  return room < 2048 ? room : 2048; /* moby's copier reads at most 2 KiB at a time */
}

/* moby's copier: every complete line is an entry (its '\n' kept); a full 16 KiB buffer without
 * a newline is a partial entry; all pieces of a line carry the timestamp of its first piece. */
void log_feed(struct logfile *l, struct linebuf *lb, const char *stream, bool eof) {
  size_t p = 0;
  for (;;) {
    char *nl = memchr(lb->buf + p, '\n', lb->n - p);
    if (!nl) break;
    size_t q = (size_t)(nl - (lb->buf + p));
    long long sec, nsec;
    if (lb->partial) {
      sec = lb->pts_sec, nsec = lb->pts_nsec;
      lb->partial = false;
    } else
      now_ts(&sec, &nsec);
    write_entry(l, stream, lb->buf + p, q, true, sec, nsec);
    p += q + 1;
  }
  if (eof || (p == 0 && lb->n == sizeof lb->buf)) {
    if (p < lb->n) {
      if (!lb->partial) {
        now_ts(&lb->pts_sec, &lb->pts_nsec);
        lb->partial = true;
      }
      write_entry(l, stream, lb->buf + p, lb->n - p, false, lb->pts_sec, lb->pts_nsec);
      p = lb->n = 0;
    }
    if (eof) {
      lb->n = 0;
      lb->partial = false;
      return;
    }
  }
  if (p > 0) {
    memmove(lb->buf, lb->buf + p, lb->n - p);
    lb->n -= p;
  }
}
