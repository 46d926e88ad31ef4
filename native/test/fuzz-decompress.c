/*
 * libFuzzer target for berth-unpack's decompression (unpack/decompress.c: the stream framing
 * around ISA-L's inflate and libzstd): any bytes, as gzip or zstd (the first byte's low bit), read
 * out in random chunk sizes (the first byte's other bits), must give data or a clean error, never
 * a crash, a leak, undefined behaviour or a hang. Checked on every input: no read returns more than
 * asked; an error says what; a stream that ends has read every input byte (a feeder writing into
 * the pipe must never meet EPIPE); a read after the end or after an error gives the same again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../unpack/decompress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static int fd = -1;
	if (fd < 0 && (fd = memfd_create("fuzz-decompress", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1) || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	enum decomp_kind kind = (data[0] & 1) ? DECOMP_ZSTD : DECOMP_GZIP;
	size_t chunk = (data[0] >> 1) % 5 == 0 ? 1 : (size_t)(data[0] >> 1) * 211 + 1;
	struct decomp *d = decomp_new(kind, fd);
	if (!d)
		abort();
	static uint8_t buf[1 << 16];
	uint64_t out = 0;
	ssize_t k;
	/* 64 KiB of input inflates to at most ~66 MiB (deflate's 1032:1); zstd frames are bounded too */
	while ((k = decomp_read(d, buf, chunk)) > 0) {
		if ((size_t)k > chunk)
			abort();
		out += (uint64_t)k;
		if (out > (1ull << 31))
			abort();
	}
	if (k < 0) {
		if (errno == 0 || !decomp_error(d)[0])
			abort();
	} else if (decomp_in(d) != size - 1) {
		abort();
	} else if (decomp_read(d, buf, chunk) != 0) {
		abort();
	}
	decomp_free(d);
	return 0;
}
