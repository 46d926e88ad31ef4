/* A growing byte buffer, and the plan's field encoding (encode.ts's encodeField). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front.h"

bool put(struct text *t, const char *s, size_t n) {
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 8192;
		while (cap < t->len + n + 1) cap *= 2;
		char *bigger = realloc(t->data, cap);
		if (!bigger) return false;
		t->data = bigger;
		t->cap = cap;
	}
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
	return true;
}

/* encode.ts's encodeField: bytes <= 0x20, '%' and >= 0x7f as %XX; '' as '-', '-' as %2D */
bool put_field(struct text *t, const char *s) {
	if (!*s) return put(t, "-", 1);
	if (!strcmp(s, "-")) return put(t, "%2D", 3);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		char hex[4];
		if (*c <= 0x20 || *c == 0x25 || *c >= 0x7f) {
			snprintf(hex, sizeof hex, "%%%02X", *c);
			if (!put(t, hex, 3)) return false;
		} else if (!put(t, (const char *)c, 1))
			return false;
	}
	return true;
}

/* encode.ts's decodeField: `-` is empty, %XX a byte. Its length (the bytes may hold a NUL). */
size_t decode_field(const char *f, size_t n, char *out, size_t cap) {
	size_t o = 0;
	if (n == 1 && f[0] == '-') n = 0;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		if (f[i] == '%' && i + 2 < n) {
			char hex[3] = {f[i + 1], f[i + 2], 0};
			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[o++] = f[i];
		}
	}
	out[o] = '\0';
	return o;
}
