/*
 * A layer's decompression inside berth-unpack: gzip (ISA-L's inflate, the code of `igzip -dc`)
 * and zstd (libzstd), read from a file descriptor. In-process, so that a layer's bytes are not
 * copied through a pipe from a decompressor process, and a pull starts one process less per
 * layer (each costs its parent a fork).
 */
#ifndef BERTH_UNPACK_DECOMPRESS_H
#define BERTH_UNPACK_DECOMPRESS_H

#include <stddef.h>
#include <sys/types.h>

enum decomp_kind { DECOMP_GZIP, DECOMP_ZSTD };

struct decomp;

/* NULL when out of memory */
struct decomp *decomp_new(enum decomp_kind kind, int fd);

/*
 * Up to `n` decompressed bytes into `buf`: > 0, 0 at the end of the stream, -1 on an error
 * (errno set: EINVAL for bad data, EPROTO for a stream that ends early, or read's own), with
 * decomp_error() saying what.
 */
ssize_t decomp_read(struct decomp *d, void *buf, size_t n);

const char *decomp_error(const struct decomp *d);

/* compressed bytes read so far */
unsigned long long decomp_in(const struct decomp *d);

void decomp_free(struct decomp *d);

#endif
