/* A reader of the runtime's own state.json: the whole text is checked once as JSON (RFC 8259,
 * as strict as JSON.parse), then values are found by key and read where they lie, without a
 * tree. A text that is not JSON makes the front hand the verb to Node, which says what is wrong. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"

#define MAX_DEPTH 512

static const char *ws(const char *p, const char *end) {
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
	return p;
}

static int hexval(char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* p at '"': returns the position after the closing quote, or NULL. */
static const char *check_string(const char *p, const char *end) {
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"') return p + 1;
		if (c < 0x20) return NULL;
		if (c == '\\') {
			if (++p >= end) return NULL;
			if (*p == 'u') {
				for (int i = 0; i < 4; i++)
					if (++p >= end || hexval(*p) < 0) return NULL;
			} else if (!strchr("\"\\/bfnrt", *p) || *p == '\0')
				return NULL;
		}
	}
	return NULL;
}

static const char *check_number(const char *p, const char *end) {
	if (p < end && *p == '-') p++;
	if (p >= end) return NULL;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9') p++;
	else
		return NULL;
	if (p < end && *p == '.') {
		const char *d = ++p;
		while (p < end && *p >= '0' && *p <= '9') p++;
		if (p == d) return NULL;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-')) p++;
		const char *d = p;
		while (p < end && *p >= '0' && *p <= '9') p++;
		if (p == d) return NULL;
	}
	return p;
}

/* p at a value (no leading space): returns the position after it, or NULL. */
static const char *check_value(const char *p, const char *end, int depth) {
	if (p >= end || depth > MAX_DEPTH) return NULL;
	switch (*p) {
	case '"':
		return check_string(p, end);
	case '{':
	case '[': {
		char close = *p == '{' ? '}' : ']';
		p = ws(p + 1, end);
		if (p < end && *p == close) return p + 1;
		for (;;) {
			if (close == '}') {
				if (p >= end || *p != '"' || !(p = check_string(p, end))) return NULL;
				p = ws(p, end);
				if (p >= end || *p != ':') return NULL;
				p = ws(p + 1, end);
			}
			if (!(p = check_value(p, end, depth + 1))) return NULL;
			p = ws(p, end);
			if (p < end && *p == ',') {
				p = ws(p + 1, end);
				continue;
			}
			if (p < end && *p == close) return p + 1;
			return NULL;
		}
	}
	case 't':
		return end - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
	case 'f':
		return end - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
	case 'n':
		return end - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
	default:
		return check_number(p, end);
	}
}

bool json_root(const char *text, size_t len, struct jspan *out) {
	const char *end = text + len, *p = ws(text, end);
	const char *after = check_value(p, end, 0);
	if (!after || ws(after, end) != end) return false;
	out->p = p;
	out->end = after;
	return true;
}

/* The value at p, already checked: where it ends. */
static const char *skip(const char *p, const char *end) {
	return check_value(p, end, 0);
}

bool json_get(struct jspan obj, const char *key, struct jspan *out) {
	const char *p = obj.p, *end = obj.end;
	if (p >= end || *p != '{') return false;
	size_t klen = strlen(key);
	p = ws(p + 1, end);
	bool found = false;
	while (p < end && *p == '"') {
		const char *kend = check_string(p, end);
		if (!kend) return false;
		/* keys are compared as JSON.parse reads them: decoded when they hold an escape */
		bool match;
		if (memchr(p, '\\', (size_t)(kend - p))) {
			char decoded[256];
			match = json_string((struct jspan){p, kend}, decoded, sizeof decoded) && !strcmp(decoded, key);
		} else {
			match = (size_t)(kend - p - 2) == klen && !memcmp(p + 1, key, klen);
		}
		p = ws(ws(kend, end) + 1, end);
		const char *vend = skip(p, end);
		if (!vend) return false;
		/* the last of duplicate keys wins, as in JSON.parse */
		if (match) {
			out->p = p;
			out->end = vend;
			found = true;
		}
		p = ws(vend, end);
		if (p < end && *p == ',') p = ws(p + 1, end);
	}
	return found;
}

bool json_next(struct jspan *it, struct jspan *elem, bool *first) {
	const char *p = it->p, *end = it->end;
	if (*first) {
		if (p >= end || *p != '[') return false;
		p++;
		*first = false;
	}
	p = ws(p, end);
	if (p < end && *p == ',') p = ws(p + 1, end);
	if (p >= end || *p == ']') return false;
	const char *vend = skip(p, end);
	if (!vend) return false;
	elem->p = p;
	elem->end = vend;
	it->p = vend;
	return true;
}

static char *put_utf8(char *o, uint32_t cp) {
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

static uint32_t hex4(const char *p) {
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) v = v << 4 | (uint32_t)hexval(p[i]);
	return v;
}

/* Decodes a string value into buf (UTF-8, NUL-terminated). False if it is not a string, does
 * not fit, or holds a NUL or a lone surrogate (no path or pid the front needs has those). */
bool json_string(struct jspan v, char *buf, size_t cap) {
	const char *p = v.p, *end = v.end - 1;
	if (v.end - v.p < 2 || *p != '"') return false;
	char *o = buf, *lim = buf + cap - 5;
	for (p++; p < end; p++) {
		if (o >= lim) return false;
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			uint32_t cp = hex4(p + 1);
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (end - p < 7 || p[1] != '\\' || p[2] != 'u') return false;
				uint32_t lo = hex4(p + 3);
				if (lo < 0xdc00 || lo >= 0xe000) return false;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if ((cp >= 0xdc00 && cp < 0xe000) || cp == 0) {
				return false;
			}
			o = put_utf8(o, cp);
			break;
		}
		default: *o++ = *p; break; /* " \ / */
		}
	}
	*o = '\0';
	return true;
}

bool json_int(struct jspan v, long long *out) {
	const char *p = v.p;
	bool neg = p < v.end && *p == '-';
	if (neg) p++;
	if (p >= v.end) return false;
	long long n = 0;
	/* as exact as a JavaScript number: beyond 2^53 - 1 JSON.parse would round, so decline */
	for (; p < v.end; p++) {
		if (*p < '0' || *p > '9' || n > 900719925474099LL) return false;
		n = n * 10 + (*p - '0');
	}
	if (n > 9007199254740991LL) return false;
	*out = neg ? -n : n;
	return true;
}

bool json_is(struct jspan v, const char *literal) {
	size_t n = strlen(literal);
	return (size_t)(v.end - v.p) == n && !memcmp(v.p, literal, n);
}

/* null, [] or {} (with any spaces inside). */
bool json_empty_or_null(struct jspan v) {
	if (json_is(v, "null")) return true;
	if (v.end - v.p < 2 || (*v.p != '[' && *v.p != '{')) return false;
	return ws(v.p + 1, v.end) == v.end - 1;
}
