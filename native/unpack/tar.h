/*
 * berth-unpack's tar reader: ustar, GNU (long names/links, old sparse, the GNU header's
 * atime), PAX (per-file and global headers, SCHILY.xattr.*, GNU.sparse 0.0/0.1/1.0), V7 and the
 * ustar prefix field. It takes its bytes from a `struct tar_src` (stdin in the helper, memory in
 * the fuzzer), so it performs no effect of its own and can be fuzzed alone.
 */
#ifndef BERTH_UNPACK_TAR_H
#define BERTH_UNPACK_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Limits on what a header may claim: beyond them the layer is refused as malformed. */
#define TAR_MAX_SIZE    (1ULL << 40)  /* 1 TiB, stored or (sparse) expanded */
#define TAR_MAX_META    (1U << 20)    /* a PAX or GNU long-name record */
#define TAR_MAX_SPARSE  (1U << 20)    /* sparse map entries */
#define TAR_MAX_XATTRS  1024

struct tar_src {
	/* reads up to n bytes; returns 0 at the end, -1 with errno on failure */
	ssize_t (*read)(void *ctx, void *buf, size_t n);
	void *ctx;
	unsigned char *buf;
	size_t cap, pos, len;
	int eof;
	uint64_t total; /* bytes taken from read() */
};

struct tar_xattr {
	char *name;
	char *value;
	size_t len;
};

struct tar_sparse {
	uint64_t off, len;
};

struct tar_entry {
	char type;          /* '0' reg (also '7', '\0'), '1' link, '2' symlink, '3' chr, '4' blk, '5' dir, '6' fifo */
	char *name;         /* as stored (not cleaned) */
	char *linkname;
	uint32_t mode;
	int64_t uid, gid;
	int64_t mtime, atime;   /* seconds; atime < 0 = absent */
	long mtime_ns, atime_ns;
	uint64_t size;      /* bytes of data stored in the archive */
	uint64_t realsize;  /* bytes of the file once holes are expanded */
	int64_t devmajor, devminor;
	struct tar_xattr *xattrs;
	size_t nxattrs;
	struct tar_sparse *sparse; /* NULL unless a sparse file */
	size_t nsparse;
	/* reading state */
	uint64_t remaining; /* stored data bytes left to read */
	uint64_t padding;
};

struct tar_reader {
	struct tar_src *src;
	struct tar_entry e;
	char err[256];
	int errnum;
	int ended;
	uint64_t headers; /* header blocks read, for messages */
};

void tar_init(struct tar_reader *r, struct tar_src *src);
/* 1 = an entry is in r->e, 0 = the end of the archive, -1 = error (r->err, r->errnum) */
int tar_next(struct tar_reader *r);
/* Reads the entry's stored data: returns a pointer into the source buffer and its length (up to
 * max), 0 when the data is done, -1 on error. Data not read is skipped by the next tar_next. */
ssize_t tar_data(struct tar_reader *r, const unsigned char **p, size_t max);
/* Reads everything after the end marker (so that a digest covers all bytes). */
int tar_drain(struct tar_reader *r);
void tar_free(struct tar_reader *r);

/* exposed for tests and the fuzzer */
int tar_parse_number(const unsigned char *f, size_t n, int64_t *out);

#endif
