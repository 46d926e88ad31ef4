/*
 * libFuzzer target for berth-unpack's tar reader (unpack/tar.c): any bytes, read in random
 * chunk sizes (taken from the input's first byte), must give entries or a clean error, never a
 * crash, a leak or undefined behaviour. Every entry's data is read to its end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unpack/tar.h"

struct mem {
	const uint8_t *p;
	size_t n, chunk;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;
	if (n > m->chunk)
		n = m->chunk;
	if (n > m->n)
		n = m->n;
	memcpy(buf, m->p, n);
	m->p += n;
	m->n -= n;
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct mem m = { data + 1, size - 1, (size_t)(data[0] % 7 == 0 ? 1 : data[0] * 37 + 1) };
	static unsigned char buf[1 << 16];
	struct tar_src src = { .read = mem_read, .ctx = &m, .buf = buf, .cap = sizeof buf };
	struct tar_reader r;
	tar_init(&r, &src);
	for (int i = 0; i < 10000; i++) {
		int rc = tar_next(&r);
		if (rc <= 0)
			break;
		if (!r.e.name || !r.e.linkname)
			abort();
		if (r.e.sparse) {
			uint64_t sum = 0;
			for (size_t k = 0; k < r.e.nsparse; k++) {
				if (r.e.sparse[k].off + r.e.sparse[k].len > r.e.realsize)
					abort();
				sum += r.e.sparse[k].len;
			}
			if (sum != r.e.size)
				abort();
		}
		const unsigned char *p;
		ssize_t k;
		uint64_t got = 0;
		while ((k = tar_data(&r, &p, 4096)) > 0)
			got += (uint64_t)k;
		if (k < 0)
			break;
		if (got != r.e.size)
			abort();
	}
	tar_drain(&r);
	tar_free(&r);
	return 0;
}
