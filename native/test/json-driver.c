/* A test tool: the runtime front's JSON reader (native/runtime-front/json.c) on its own, for
 * test/runtime-front-json.test.ts, which compares it with JSON.parse. Reads records from stdin
 * (a 4-byte little-endian length, then the text) and prints one line for each: "bad", or "ok"
 * followed by, for each key given as an argument, the top-level value as json.c reads it: the
 * string's UTF-8 bytes in hex (s:…), an integer (i:…), "-" when absent, "?" when neither. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime-front/front.h"

/* json.c calls nothing of the rest of the front; main.c's log_error is not linked */
void log_error(const struct globals *g, const char *msg) {
	(void)g;
	(void)msg;
}

int main(int argc, char **argv) {
	unsigned char len_le[4];
	static char value[1 << 16];
	while (fread(len_le, 1, 4, stdin) == 4) {
		uint32_t len = (uint32_t)len_le[0] | (uint32_t)len_le[1] << 8 | (uint32_t)len_le[2] << 16 | (uint32_t)len_le[3] << 24;
		char *text = malloc(len ? len : 1);
		if (!text || fread(text, 1, len, stdin) != len) return 1;
		struct jspan root;
		if (!json_root(text, len, &root)) {
			puts("bad");
			free(text);
			continue;
		}
		fputs("ok", stdout);
		for (int i = 1; i < argc; i++) {
			struct jspan v;
			long long n;
			if (*root.p != '{' || !json_get(root, argv[i], &v))
				fputs(" -", stdout);
			else if (json_string(v, value, sizeof value)) {
				fputs(" s:", stdout);
				for (const unsigned char *c = (const unsigned char *)value; *c; c++) printf("%02x", *c);
			} else if (json_int(v, &n))
				printf(" i:%lld", n);
			else
				fputs(" ?", stdout);
		}
		putchar('\n');
		free(text);
	}
	return 0;
}
