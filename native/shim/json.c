/* A small reader for flat JSON objects and a writer for answers. No library: the shim reads
 * only what berthd writes (docs/shim-protocol.md), and a bad frame costs one error answer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

struct cur {
  const char *s, *end;
  struct jobj *o;
};

static void ws(struct cur *c) {
  while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r')) c->s++;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Decodes a JSON string into the arena (UTF-8 out; surrogate pairs joined). */
static const char *str(struct cur *c, const char **err) {
  if (c->s >= c->end || *c->s != '"') {
    *err = "expected a string";
    return NULL;
  }
  c->s++;
  struct jobj *o = c->o;
  char *out = o->arena + o->used, *lim = o->arena + sizeof o->arena - 8;
  char *start = out;
  while (c->s < c->end && *c->s != '"') {
    if (out >= lim) {
      *err = "object too large";
      return NULL;
    }
    unsigned char ch = (unsigned char)*c->s++;
    if (ch < 0x20) {
      *err = "control character in a string";
      return NULL;
    }
    if (ch != '\\') {
      *out++ = (char)ch;
      continue;
    }
    if (c->s >= c->end) break;
    char e = *c->s++;
    switch (e) {
    case '"': case '\\': case '/': *out++ = e; break;
    case 'n': *out++ = '\n'; break;
    case 't': *out++ = '\t'; break;
    case 'r': *out++ = '\r'; break;
    case 'b': *out++ = '\b'; break;
    case 'f': *out++ = '\f'; break;
    case 'u': {
      unsigned cp = 0;
      for (int i = 0; i < 4; i++) {
        int h = c->s < c->end ? hexval(*c->s++) : -1;
        if (h < 0) {
          *err = "bad \\u escape";
          return NULL;
        }
        cp = cp << 4 | (unsigned)h;
      }
      if (cp >= 0xd800 && cp < 0xdc00 && c->end - c->s >= 6 && c->s[0] == '\\' && c->s[1] == 'u') {
        unsigned lo = 0;
        int ok = 1;
        for (int i = 2; i < 6; i++) {
          int h = hexval(c->s[i]);
          if (h < 0) ok = 0;
          lo = lo << 4 | (unsigned)(h < 0 ? 0 : h);
        }
        if (ok && lo >= 0xdc00 && lo < 0xe000) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          c->s += 6;
        }
      }
      if (cp == 0) {
        *err = "NUL in a string";
        return NULL;
      }
      if (cp < 0x80) *out++ = (char)cp;
      else if (cp < 0x800) {
        *out++ = (char)(0xc0 | cp >> 6);
        *out++ = (char)(0x80 | (cp & 0x3f));
      } else if (cp < 0x10000) {
        *out++ = (char)(0xe0 | cp >> 12);
        *out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *out++ = (char)(0x80 | (cp & 0x3f));
      } else {
        *out++ = (char)(0xf0 | cp >> 18);
        *out++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *out++ = (char)(0x80 | (cp & 0x3f));
      }
      break;
    }
    default: *err = "bad escape"; return NULL;
    }
  }
  if (c->s >= c->end) {
    *err = "unterminated string";
    return NULL;
  }
  c->s++;
  *out++ = 0;
  o->used = (size_t)(out - o->arena);
  return start;
}

int json_parse(struct jobj *o, const char *text, size_t len, const char **err) {
  struct cur c = {text, text + len, o};
  o->n = 0;
  o->used = 0;
  *err = NULL;
  ws(&c);
  if (c.s >= c.end || *c.s++ != '{') return *err = "expected an object", -1;
  ws(&c);
  if (c.s < c.end && *c.s == '}') {
    c.s++;
    goto done;
  }
  for (;;) {
    ws(&c);
    if (o->n >= JMAX_FIELDS) return *err = "too many fields", -1;
    struct jfield *f = &o->f[o->n];
    memset(f, 0, sizeof *f);
    if (!(f->key = str(&c, err))) return -1;
    ws(&c);
    if (c.s >= c.end || *c.s++ != ':') return *err = "expected ':'", -1;
    ws(&c);
    if (c.s >= c.end) return *err = "truncated", -1;
    if (*c.s == '"') {
      f->type = J_STR;
      if (!(f->str = str(&c, err))) return -1;
    } else if (*c.s == '-' || (*c.s >= '0' && *c.s <= '9')) {
      char tmp[32];
      size_t k = 0;
      while (c.s < c.end && k < sizeof tmp - 1 && (*c.s == '-' || (*c.s >= '0' && *c.s <= '9'))) tmp[k++] = *c.s++;
      tmp[k] = 0;
      if (c.s < c.end && (*c.s == '.' || *c.s == 'e' || *c.s == 'E')) return *err = "numbers must be integers", -1;
      char *e;
      errno = 0;
      f->num = strtoll(tmp, &e, 10);
      if (errno || *e || e == tmp) return *err = "bad number", -1;
      f->type = J_INT;
    } else if (c.end - c.s >= 4 && !memcmp(c.s, "true", 4)) {
      f->type = J_BOOL, f->num = 1, c.s += 4;
    } else if (c.end - c.s >= 5 && !memcmp(c.s, "false", 5)) {
      f->type = J_BOOL, f->num = 0, c.s += 5;
    } else if (c.end - c.s >= 4 && !memcmp(c.s, "null", 4)) {
      f->type = J_NULL, c.s += 4;
    } else if (*c.s == '[') {
      c.s++;
      f->type = J_ARR;
      ws(&c);
      if (c.s < c.end && *c.s == ']') c.s++;
      else
        for (;;) {
          ws(&c);
          if (f->n >= JMAX_ARRAY) return *err = "array too long", -1;
          if (!(f->arr[f->n++] = str(&c, err))) return -1;
          ws(&c);
          if (c.s < c.end && *c.s == ',') {
            c.s++;
            continue;
          }
          if (c.s < c.end && *c.s == ']') {
            c.s++;
            break;
          }
          return *err = "expected ',' or ']'", -1;
        }
    } else
      return *err = "unsupported value (objects are not accepted)", -1;
    o->n++;
    ws(&c);
    if (c.s < c.end && *c.s == ',') {
      c.s++;
      continue;
    }
    if (c.s < c.end && *c.s == '}') {
      c.s++;
      break;
    }
    return *err = "expected ',' or '}'", -1;
  }
done:
  ws(&c);
  if (c.s != c.end) return *err = "trailing bytes after the object", -1;
  return 0;
}

const struct jfield *json_field(const struct jobj *o, const char *key) {
  for (int i = o->n - 1; i >= 0; i--)
    if (!strcmp(o->f[i].key, key)) return &o->f[i];
  return NULL;
}

const char *json_str(const struct jobj *o, const char *key) {
  const struct jfield *f = json_field(o, key);
  return f && f->type == J_STR ? f->str : NULL;
}

bool json_int(const struct jobj *o, const char *key, long long *out) {
  const struct jfield *f = json_field(o, key);
  if (!f || f->type != J_INT) return false;
  *out = f->num;
  return true;
}

bool json_bool(const struct jobj *o, const char *key, bool dflt) {
  const struct jfield *f = json_field(o, key);
  return f && f->type == J_BOOL ? f->num != 0 : dflt;
}

void sb_raw(struct sbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) abort();
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

void sb_str(struct sbuf *b, const char *s) {
  sb_raw(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char tmp[8];
    if (*p == '"' || *p == '\\') {
      tmp[0] = '\\', tmp[1] = (char)*p;
      sb_raw(b, tmp, 2);
    } else if (*p < 0x20) {
      snprintf(tmp, sizeof tmp, "\\u%04x", *p);
      sb_raw(b, tmp, 6);
    } else
      sb_raw(b, (const char *)p, 1);
  }
  sb_raw(b, "\"", 1);
}

void sb_fmt(struct sbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
  sb_raw(b, tmp, (size_t)n);
}

void sb_free(struct sbuf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}
