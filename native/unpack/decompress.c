/*
 * See decompress.h. The stream rules are those of the decompressor processes this replaces:
 *   gzip  members one after another are one stream (as `gzip -dc`, `igzip -dc`, Go's reader);
 *         bytes after the last member that do not start another one are read and ignored, as
 *         igzip and pigz do (registries serve layers with zero padding); each member's CRC and
 *         length are checked.
 *   zstd  frames one after another, skippable frames included (libzstd's streaming API);
 *         anything else after a frame is an error, as `zstd -dc`. The window is libzstd's
 *         default limit (128 MiB), as `zstd -dc` without --long.
 * Every byte of the input is read, so a feeder writing into a pipe never meets EPIPE.
 */
#include "decompress.h"
#include "input.h"

#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define IN_CAP (1u << 20)

enum phase {
	MEMBER,   /* inside a gzip member or a zstd stream */
	BETWEEN,  /* gzip: a member ended; another may follow */
	TRAILING, /* gzip: what follows is not a member: read and ignored */
	DONE,
};

struct decomp {
	enum decomp_kind kind;
	int fd;
	enum phase phase;
	int eof;
	unsigned long long in_total;
	uint8_t *in;
	size_t in_pos, in_len;
	struct inflate_state *gz;
	ZSTD_DCtx *zs;
	/* zstd: the last call ended inside a frame (the stream may not end here) */
	int zs_open;
	/* the last call filled the caller's buffer: the decoder may hold more output, so it is
	 * asked again before the input is read (a read would wait for bytes not needed yet) */
	int full;
	char err[160];
};

struct decomp *decomp_new(enum decomp_kind kind, int fd)
{
	struct decomp *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->kind = kind;
	d->fd = fd;
	d->phase = MEMBER;
	d->in = malloc(IN_CAP);
	if (!d->in)
		goto fail;
	if (kind == DECOMP_GZIP) {
		d->gz = malloc(sizeof *d->gz);
		if (!d->gz)
			goto fail;
		isal_inflate_init(d->gz);
		d->gz->crc_flag = ISAL_GZIP;
	} else {
		d->zs = ZSTD_createDCtx();
		if (!d->zs)
			goto fail;
	}
	return d;
fail:
	decomp_free(d);
	return NULL;
}

void decomp_free(struct decomp *d)
{
	if (!d)
		return;
	free(d->in);
	free(d->gz);
	if (d->zs)
		ZSTD_freeDCtx(d->zs);
	free(d);
}

const char *decomp_error(const struct decomp *d)
{
	return d->err;
}

unsigned long long decomp_in(const struct decomp *d)
{
	return d->in_total;
}

static ssize_t fail(struct decomp *d, int errnum, const char *fmt, const char *what)
{
	snprintf(d->err, sizeof d->err, fmt, what);
	errno = errnum;
	return -1;
}

/* Refills the input when it is used up; -1 on a read error, else 0 (d->eof once it ends). */
static int fill(struct decomp *d)
{
	if (d->in_pos < d->in_len || d->eof || d->full)
		return 0;
	for (;;) {
		ssize_t k = input_read(d->fd, d->in, IN_CAP);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			fail(d, e, "read: %s", input_error(e));
			return -1;
		}
		d->in_pos = 0;
		d->in_len = (size_t)k;
		d->in_total += (unsigned long long)k;
		if (k == 0)
			d->eof = 1;
		return 0;
	}
}

static const char *isal_text(int rc)
{
	switch (rc) {
	case ISAL_INVALID_BLOCK: return "invalid deflate block";
	case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
	case ISAL_INVALID_LOOKBACK: return "invalid distance";
	case ISAL_INVALID_WRAPPER: return "invalid gzip header";
	case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
	case ISAL_INCORRECT_CHECKSUM: return "checksum mismatch";
	case ISAL_NEED_DICT: return "needs a dictionary";
	default: return "corrupt data";
	}
}

static ssize_t gzip_read(struct decomp *d, uint8_t *buf, size_t n)
{
	struct inflate_state *s = d->gz;
	for (;;) {
		if (d->phase != MEMBER)
			d->full = 0;
		if (fill(d) < 0)
			return -1;
		size_t avail = d->in_len - d->in_pos;
		switch (d->phase) {
		case DONE:
			return 0;
		case TRAILING:
			d->in_pos = d->in_len;
			if (d->eof)
				d->phase = DONE;
			continue;
		case BETWEEN:
			if (avail == 0) {
				if (d->eof)
					d->phase = DONE;
				continue;
			}
			if (avail == 1 && !d->eof) {
				/* one byte cannot tell: keep it and read on */
				d->in[0] = d->in[d->in_pos];
				ssize_t k;
				do
					k = input_read(d->fd, d->in + 1, IN_CAP - 1);
				while (k < 0 && errno == EINTR);
				if (k < 0) {
					int e = errno;
					return fail(d, e, "read: %s", input_error(e));
				}
				d->in_pos = 0;
				d->in_len = 1 + (size_t)k;
				d->in_total += (unsigned long long)k;
				if (k == 0)
					d->eof = 1;
				continue;
			}
			if (avail >= 2 && d->in[d->in_pos] == 0x1f && d->in[d->in_pos + 1] == 0x8b) {
				isal_inflate_reset(s);
				s->crc_flag = ISAL_GZIP;
				d->phase = MEMBER;
			} else {
				d->phase = TRAILING;
			}
			continue;
		case MEMBER:
			break;
		}
		s->next_in = d->in + d->in_pos;
		s->avail_in = (uint32_t)avail;
		s->next_out = buf;
		s->avail_out = (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
		int rc = isal_inflate(s);
		d->in_pos = d->in_len - s->avail_in;
		if (rc < 0)
			return fail(d, EINVAL, "gzip: %s", isal_text(rc));
		size_t out = (size_t)(s->next_out - buf);
		d->full = s->avail_out == 0;
		if (s->block_state == ISAL_BLOCK_FINISH)
			d->phase = BETWEEN;
		if (out > 0)
			return (ssize_t)out;
		if (d->phase == MEMBER && d->in_pos == d->in_len && d->eof)
			return fail(d, EPROTO, "gzip: %s", "unexpected end of the compressed stream");
	}
}

static ssize_t zstd_read(struct decomp *d, uint8_t *buf, size_t n)
{
	for (;;) {
		if (d->phase == DONE)
			return 0;
		if (fill(d) < 0)
			return -1;
		if (d->in_pos == d->in_len && d->eof && !d->full) {
			/* asked with no input, libzstd would answer "more needed" even between frames */
			if (d->zs_open)
				return fail(d, EPROTO, "zstd: %s", "unexpected end of the compressed stream");
			d->phase = DONE;
			return 0;
		}
		ZSTD_inBuffer in = { d->in, d->in_len, d->in_pos };
		ZSTD_outBuffer out = { buf, n, 0 };
		size_t rc = ZSTD_decompressStream(d->zs, &out, &in);
		d->in_pos = in.pos;
		if (ZSTD_isError(rc))
			return fail(d, EINVAL, "zstd: %s", ZSTD_getErrorName(rc));
		d->zs_open = rc != 0;
		d->full = out.pos == out.size;
		if (out.pos > 0)
			return (ssize_t)out.pos;
	}
}

ssize_t decomp_read(struct decomp *d, void *buf, size_t n)
{
	return d->kind == DECOMP_GZIP ? gzip_read(d, buf, n) : zstd_read(d, buf, n);
}
