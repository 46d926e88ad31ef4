/*
 * The tar reader (see tar.h). Everything a header claims is checked before it is used: the
 * checksum, every number's syntax and range, sizes against TAR_MAX_*, names for NUL bytes, and
 * sparse maps for order, overlap and their sum. A malformed archive is an error, never a guess.
 */
#include "tar.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 512

static int fail(struct tar_reader *r, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	r->errnum = errnum;
	return -1;
}

/* Makes at least `need` bytes (need <= cap) available at buf+pos: 0, 1 at a short end, -1 error. */
static int src_fill(struct tar_src *s, size_t need)
{
	if (s->len - s->pos >= need)
		return 0;
	if (s->pos > 0) {
		memmove(s->buf, s->buf + s->pos, s->len - s->pos);
		s->len -= s->pos;
		s->pos = 0;
	}
	while (s->len < need) {
		if (s->eof)
			return 1;
		ssize_t n = s->read(s->ctx, s->buf + s->len, s->cap - s->len);
		if (n < 0)
			return -1;
		if (n == 0) {
			s->eof = 1;
			return 1;
		}
		s->len += (size_t)n;
		s->total += (uint64_t)n;
	}
	return 0;
}

static int take(struct tar_reader *r, size_t n, const unsigned char **p)
{
	int rc = src_fill(r->src, n);
	if (rc < 0)
		return fail(r, errno, "read: %s", strerror(errno));
	if (rc > 0)
		return fail(r, EPROTO, "unexpected end of archive");
	*p = r->src->buf + r->src->pos;
	r->src->pos += n;
	return 0;
}

static int skip(struct tar_reader *r, uint64_t n)
{
	struct tar_src *s = r->src;
	while (n > 0) {
		if (s->pos == s->len) {
			int rc = src_fill(s, 1);
			if (rc < 0)
				return fail(r, errno, "read: %s", strerror(errno));
			if (rc > 0)
				return fail(r, EPROTO, "unexpected end of archive");
		}
		size_t k = s->len - s->pos;
		if (k > n)
			k = (size_t)n;
		s->pos += k;
		n -= k;
	}
	return 0;
}

/* Reads n bytes (n <= TAR_MAX_META) into a fresh NUL-terminated buffer. */
static int read_meta(struct tar_reader *r, uint64_t n, char **out)
{
	if (n > TAR_MAX_META)
		return fail(r, EFBIG, "metadata record of %llu bytes is too large", (unsigned long long)n);
	char *m = malloc((size_t)n + 1);
	if (!m)
		return fail(r, ENOMEM, "out of memory");
	size_t got = 0;
	struct tar_src *s = r->src;
	while (got < n) {
		if (s->pos == s->len) {
			int rc = src_fill(s, 1);
			if (rc != 0) {
				free(m);
				return rc < 0 ? fail(r, errno, "read: %s", strerror(errno))
					      : fail(r, EPROTO, "unexpected end of archive");
			}
		}
		size_t k = s->len - s->pos;
		if (k > n - got)
			k = (size_t)(n - got);
		memcpy(m + got, s->buf + s->pos, k);
		s->pos += k;
		got += k;
	}
	m[n] = 0;
	if (skip(r, (BLOCK - n % BLOCK) % BLOCK) < 0) {
		free(m);
		return -1;
	}
	*out = m;
	return 0;
}

int tar_parse_number(const unsigned char *f, size_t n, int64_t *out)
{
	if (n == 0)
		return -1;
	if (f[0] & 0x80) {
		/* base-256, two's complement: 0x80 starts a positive number, 0xff a negative one */
		unsigned inv = (f[0] & 0x40) ? 0xff : 0;
		uint64_t x = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned c = f[i] ^ inv;
			if (i == 0)
				c &= 0x7f;
			if (x >> 55)
				return -1;
			x = (x << 8) | c;
		}
		if (x >> 63)
			return -1;
		*out = inv ? -(int64_t)x - 1 : (int64_t)x;
		return 0;
	}
	size_t i = 0;
	while (i < n && (f[i] == ' ' || f[i] == 0))
		i++;
	uint64_t x = 0;
	int digits = 0;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (x >> 60)
			return -1;
		x = x * 8 + (unsigned)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	(void)digits;
	*out = (int64_t)x;
	return 0;
}

static int field(struct tar_reader *r, const unsigned char *blk, size_t off, size_t n, const char *what, int64_t *out)
{
	if (tar_parse_number(blk + off, n, out) < 0)
		return fail(r, EPROTO, "malformed %s field in header", what);
	return 0;
}

/* Pending state set by PAX and GNU metadata headers, applied to the next real entry. */
struct pending {
	char *path, *linkpath, *longname, *longlink, *sparse_name;
	int have_size, have_uid, have_gid, have_mtime, have_atime, have_realsize;
	uint64_t size, realsize;
	int64_t uid, gid, mtime, atime;
	long mtime_ns, atime_ns;
	int sparse_major, sparse_minor;
	struct tar_xattr *xattrs;
	size_t nxattrs;
	struct tar_sparse *sparse;
	size_t nsparse;
	int sparse_half; /* 0.0 map: an offset waits for its numbytes */
	char *sparse_map;
};

static void pending_free(struct pending *p)
{
	free(p->path);
	free(p->linkpath);
	free(p->longname);
	free(p->longlink);
	free(p->sparse_name);
	free(p->sparse_map);
	for (size_t i = 0; i < p->nxattrs; i++) {
		free(p->xattrs[i].name);
		free(p->xattrs[i].value);
	}
	free(p->xattrs);
	free(p->sparse);
	memset(p, 0, sizeof *p);
}

static int parse_dec(const char *s, size_t n, int allow_neg, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	if (allow_neg && i < n && s[i] == '-') {
		neg = 1;
		i++;
	}
	if (i == n)
		return -1;
	uint64_t x = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x > (UINT64_MAX >> 1) / 10)
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	if (x >> 62)
		return -1;
	*out = neg ? -(int64_t)x : (int64_t)x;
	return 0;
}

/* "123.456789" → seconds and nanoseconds (PAX times). */
static int parse_time(const char *s, size_t n, int64_t *sec, long *ns)
{
	const char *dot = memchr(s, '.', n);
	size_t ilen = dot ? (size_t)(dot - s) : n;
	if (parse_dec(s, ilen, 1, sec) < 0)
		return -1;
	long frac = 0;
	if (dot) {
		size_t flen = n - ilen - 1;
		int digits = 0;
		for (size_t i = 0; i < flen; i++) {
			char c = dot[1 + i];
			if (c < '0' || c > '9')
				return -1;
			if (digits < 9) {
				frac = frac * 10 + (c - '0');
				digits++;
			}
		}
		while (digits++ < 9)
			frac *= 10;
		if (*sec < 0 && frac) {
			*sec -= 1;
			frac = 1000000000L - frac;
		}
	}
	*ns = frac;
	return 0;
}

static int dup_value(struct tar_reader *r, char **dst, const char *v, size_t n, const char *key)
{
	if (memchr(v, 0, n))
		return fail(r, EILSEQ, "PAX %s contains a NUL byte", key);
	free(*dst);
	*dst = NULL;
	if (n == 0)
		return 0; /* an empty value unsets the key */
	*dst = strndup(v, n);
	if (!*dst)
		return fail(r, ENOMEM, "out of memory");
	return 0;
}

static int add_sparse(struct tar_reader *r, struct tar_sparse **v, size_t *n, uint64_t off, uint64_t len)
{
	if (*n >= TAR_MAX_SPARSE)
		return fail(r, EFBIG, "sparse map has too many entries");
	if ((*n & (*n - 1)) == 0 || *n == 0) {
		size_t cap = *n ? *n * 2 : 8;
		struct tar_sparse *nv = realloc(*v, cap * sizeof **v);
		if (!nv)
			return fail(r, ENOMEM, "out of memory");
		*v = nv;
	}
	(*v)[*n].off = off;
	(*v)[*n].len = len;
	(*n)++;
	return 0;
}

static int pax_record(struct tar_reader *r, struct pending *p, const char *k, size_t klen, const char *v, size_t vlen)
{
#define KEY(s) (klen == sizeof(s) - 1 && memcmp(k, s, klen) == 0)
	int64_t x;
	if (KEY("path"))
		return dup_value(r, &p->path, v, vlen, "path");
	if (KEY("linkpath"))
		return dup_value(r, &p->linkpath, v, vlen, "linkpath");
	if (KEY("size") || KEY("uid") || KEY("gid") || KEY("GNU.sparse.size") || KEY("GNU.sparse.realsize")) {
		if (parse_dec(v, vlen, 0, &x) < 0)
			return fail(r, EPROTO, "malformed PAX %.*s", (int)klen, k);
		if (KEY("size")) {
			p->size = (uint64_t)x;
			p->have_size = 1;
		} else if (KEY("uid")) {
			p->uid = x;
			p->have_uid = 1;
		} else if (KEY("gid")) {
			p->gid = x;
			p->have_gid = 1;
		} else {
			p->realsize = (uint64_t)x;
			p->have_realsize = 1;
		}
		return 0;
	}
	if (KEY("mtime") || KEY("atime")) {
		int64_t s;
		long ns;
		if (parse_time(v, vlen, &s, &ns) < 0)
			return fail(r, EPROTO, "malformed PAX %.*s", (int)klen, k);
		if (KEY("mtime")) {
			p->mtime = s;
			p->mtime_ns = ns;
			p->have_mtime = 1;
		} else {
			p->atime = s;
			p->atime_ns = ns;
			p->have_atime = 1;
		}
		return 0;
	}
	if (klen > 12 && memcmp(k, "SCHILY.xattr.", 13) == 0) {
		const char *name = k + 13;
		size_t nlen = klen - 13;
		if (nlen == 0 || memchr(name, 0, nlen))
			return fail(r, EILSEQ, "malformed xattr name in PAX header");
		if (p->nxattrs >= TAR_MAX_XATTRS)
			return fail(r, EFBIG, "too many xattrs");
		struct tar_xattr *nx = realloc(p->xattrs, (p->nxattrs + 1) * sizeof *nx);
		if (!nx)
			return fail(r, ENOMEM, "out of memory");
		p->xattrs = nx;
		struct tar_xattr *xa = &nx[p->nxattrs];
		xa->name = strndup(name, nlen);
		xa->value = malloc(vlen ? vlen : 1);
		if (!xa->name || !xa->value) {
			free(xa->name);
			free(xa->value);
			return fail(r, ENOMEM, "out of memory");
		}
		memcpy(xa->value, v, vlen);
		xa->len = vlen;
		p->nxattrs++;
		return 0;
	}
	if (KEY("GNU.sparse.major") || KEY("GNU.sparse.minor")) {
		if (parse_dec(v, vlen, 0, &x) < 0 || x > 100)
			return fail(r, EPROTO, "malformed PAX %.*s", (int)klen, k);
		if (KEY("GNU.sparse.major"))
			p->sparse_major = (int)x;
		else
			p->sparse_minor = (int)x;
		return 0;
	}
	if (KEY("GNU.sparse.name"))
		return dup_value(r, &p->sparse_name, v, vlen, "GNU.sparse.name");
	if (KEY("GNU.sparse.map"))
		return dup_value(r, &p->sparse_map, v, vlen, "GNU.sparse.map");
	if (KEY("GNU.sparse.offset") || KEY("GNU.sparse.numbytes")) {
		/* format 0.0: the pairs come as repeated records, offset then numbytes */
		if (parse_dec(v, vlen, 0, &x) < 0)
			return fail(r, EPROTO, "malformed PAX %.*s", (int)klen, k);
		if (KEY("GNU.sparse.offset")) {
			if (p->sparse_half)
				return fail(r, EPROTO, "PAX sparse offset without numbytes");
			if (add_sparse(r, &p->sparse, &p->nsparse, (uint64_t)x, 0) < 0)
				return -1;
			p->sparse_half = 1;
		} else {
			if (!p->sparse_half)
				return fail(r, EPROTO, "PAX sparse numbytes without offset");
			p->sparse[p->nsparse - 1].len = (uint64_t)x;
			p->sparse_half = 0;
		}
		return 0;
	}
	return 0; /* uname, gname, ctime, comment, charset, vendor keys: not needed */
#undef KEY
}

static int parse_pax(struct tar_reader *r, struct pending *p, const char *d, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (d[i] == 0) { /* some writers pad the record area with NULs */
			for (; i < n; i++)
				if (d[i])
					return fail(r, EPROTO, "malformed PAX header");
			break;
		}
		size_t j = i;
		uint64_t len = 0;
		while (j < n && d[j] >= '0' && d[j] <= '9' && j - i < 12)
			len = len * 10 + (uint64_t)(d[j++] - '0');
		if (j == i || j >= n || d[j] != ' ' || len < (j - i) + 3 || len > n - i)
			return fail(r, EPROTO, "malformed PAX record length");
		const char *rec = d + j + 1, *end = d + i + len - 1;
		if (*end != '\n')
			return fail(r, EPROTO, "PAX record does not end in a newline");
		const char *eq = memchr(rec, '=', (size_t)(end - rec));
		if (!eq || eq == rec)
			return fail(r, EPROTO, "malformed PAX record");
		if (pax_record(r, p, rec, (size_t)(eq - rec), eq + 1, (size_t)(end - eq - 1)) < 0)
			return -1;
		i += len;
	}
	if (p->sparse_half)
		return fail(r, EPROTO, "PAX sparse offset without numbytes");
	return 0;
}

/* A GNU long name: the data up to the first NUL, and nothing but NULs after it. */
static int gnu_long(struct tar_reader *r, uint64_t size, char **dst, const char *what)
{
	char *m;
	if (read_meta(r, size, &m) < 0)
		return -1;
	size_t l = strlen(m);
	for (size_t i = l; i < size; i++)
		if (m[i]) {
			free(m);
			return fail(r, EILSEQ, "GNU long %s contains a NUL byte", what);
		}
	free(*dst);
	*dst = m;
	return 0;
}

static int is_zero(const unsigned char *b)
{
	for (int i = 0; i < BLOCK; i++)
		if (b[i])
			return 0;
	return 1;
}

static int checksum_ok(const unsigned char *b)
{
	int64_t stored;
	if (tar_parse_number(b + 148, 8, &stored) < 0)
		return 0;
	int64_t u = 0, s = 0;
	for (int i = 0; i < BLOCK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : b[i];
		u += c;
		s += (signed char)c;
	}
	return stored == u || stored == s;
}

static void entry_free(struct tar_entry *e)
{
	free(e->name);
	free(e->linkname);
	for (size_t i = 0; i < e->nxattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	free(e->xattrs);
	free(e->sparse);
	memset(e, 0, sizeof *e);
}

void tar_init(struct tar_reader *r, struct tar_src *src)
{
	memset(r, 0, sizeof *r);
	r->src = src;
}

void tar_free(struct tar_reader *r)
{
	entry_free(&r->e);
}

static int check_sparse(struct tar_reader *r, struct tar_entry *e)
{
	uint64_t end = 0, sum = 0;
	if (e->realsize > TAR_MAX_SIZE)
		return fail(r, EFBIG, "sparse file of %llu bytes is too large", (unsigned long long)e->realsize);
	for (size_t i = 0; i < e->nsparse; i++) {
		struct tar_sparse *s = &e->sparse[i];
		if (s->off < end || s->off > e->realsize || s->len > e->realsize - s->off)
			return fail(r, EPROTO, "malformed sparse map");
		end = s->off + s->len;
		sum += s->len;
	}
	if (sum != e->size)
		return fail(r, EPROTO, "sparse map covers %llu bytes but %llu are stored",
			    (unsigned long long)sum, (unsigned long long)e->size);
	return 0;
}

/* GNU old sparse: 4 pairs in the header, 21 per extension block. */
static int gnu_sparse(struct tar_reader *r, const unsigned char *blk, struct tar_entry *e)
{
	int64_t v;
	if (field(r, blk, 483, 12, "realsize", &v) < 0)
		return -1;
	e->realsize = (uint64_t)v;
	int ext = blk[482];
	for (int i = 0; i < 4; i++) {
		const unsigned char *p = blk + 386 + i * 24;
		if (p[0] == 0)
			break;
		int64_t off, len;
		if (field(r, p, 0, 12, "sparse offset", &off) < 0 || field(r, p, 12, 12, "sparse size", &len) < 0)
			return -1;
		if (add_sparse(r, &e->sparse, &e->nsparse, (uint64_t)off, (uint64_t)len) < 0)
			return -1;
	}
	while (ext) {
		const unsigned char *b;
		if (take(r, BLOCK, &b) < 0)
			return -1;
		for (int i = 0; i < 21; i++) {
			const unsigned char *p = b + i * 24;
			if (p[0] == 0)
				break;
			int64_t off, len;
			if (field(r, p, 0, 12, "sparse offset", &off) < 0 || field(r, p, 12, 12, "sparse size", &len) < 0)
				return -1;
			if (add_sparse(r, &e->sparse, &e->nsparse, (uint64_t)off, (uint64_t)len) < 0)
				return -1;
		}
		ext = b[504];
	}
	return 0;
}

/* PAX 0.1: "off,len,off,len" */
static int map_01(struct tar_reader *r, const char *m, struct tar_entry *e)
{
	const char *s = m;
	int64_t nums[2];
	int k = 0;
	while (*s) {
		const char *c = strchr(s, ',');
		size_t n = c ? (size_t)(c - s) : strlen(s);
		if (parse_dec(s, n, 0, &nums[k]) < 0)
			return fail(r, EPROTO, "malformed GNU.sparse.map");
		if (++k == 2) {
			if (add_sparse(r, &e->sparse, &e->nsparse, (uint64_t)nums[0], (uint64_t)nums[1]) < 0)
				return -1;
			k = 0;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	if (k)
		return fail(r, EPROTO, "malformed GNU.sparse.map");
	return 0;
}

/* PAX 1.0: the map is at the start of the data, as decimal lines, padded to a block. */
static int map_10(struct tar_reader *r, struct tar_entry *e)
{
	uint64_t used = 0;
	int64_t count = -1, pair[2];
	int k = 0;
	int64_t nread = 0;
	char num[24];
	size_t nl = 0;
	for (;;) {
		const unsigned char *c;
		if (used >= e->size)
			return fail(r, EPROTO, "truncated sparse map");
		if (take(r, 1, &c) < 0)
			return -1;
		used++;
		if (*c != '\n') {
			if (nl >= sizeof num - 1 || *c < '0' || *c > '9')
				return fail(r, EPROTO, "malformed sparse map");
			num[nl++] = (char)*c;
			continue;
		}
		int64_t v;
		if (parse_dec(num, nl, 0, &v) < 0)
			return fail(r, EPROTO, "malformed sparse map");
		nl = 0;
		if (count < 0) {
			if ((uint64_t)v > TAR_MAX_SPARSE)
				return fail(r, EFBIG, "sparse map has too many entries");
			count = v;
		} else {
			pair[k++] = v;
			if (k == 2) {
				if (add_sparse(r, &e->sparse, &e->nsparse, (uint64_t)pair[0], (uint64_t)pair[1]) < 0)
					return -1;
				k = 0;
				nread++;
			}
		}
		if (count >= 0 && nread == count && k == 0)
			break;
	}
	uint64_t pad = (BLOCK - used % BLOCK) % BLOCK;
	if (used + pad > e->size)
		return fail(r, EPROTO, "truncated sparse map");
	if (skip(r, pad) < 0)
		return -1;
	e->size -= used + pad;
	return 0;
}

int tar_next(struct tar_reader *r)
{
	struct tar_entry *e = &r->e;
	if (r->ended)
		return 0;
	if (e->name || e->remaining || e->padding) {
		if (skip(r, e->remaining + e->padding) < 0)
			return -1;
	}
	entry_free(e);
	struct pending p;
	memset(&p, 0, sizeof p);
	int rc = -1;
	for (;;) {
		const unsigned char *blk;
		int f = src_fill(r->src, BLOCK);
		if (f < 0) {
			fail(r, errno, "read: %s", strerror(errno));
			goto out;
		}
		if (f > 0) {
			/* an archive that ends without its end marker: accept only a clean end */
			if (r->src->len - r->src->pos == 0 && !p.path && !p.longname && r->headers > 0) {
				r->ended = 1;
				rc = 0;
			} else {
				fail(r, EPROTO, "unexpected end of archive");
			}
			goto out;
		}
		blk = r->src->buf + r->src->pos;
		r->src->pos += BLOCK;
		r->headers++;
		if (is_zero(blk)) {
			r->ended = 1;
			rc = 0;
			goto out;
		}
		if (!checksum_ok(blk)) {
			fail(r, EPROTO, "header checksum mismatch");
			goto out;
		}
		int ustar = memcmp(blk + 257, "ustar\0", 6) == 0;
		int gnu = memcmp(blk + 257, "ustar  \0", 8) == 0;
		char type = (char)blk[156];
		int64_t size;
		if (field(r, blk, 124, 12, "size", &size) < 0)
			goto out;
		if (size < 0 || (uint64_t)size > TAR_MAX_SIZE) {
			fail(r, EFBIG, "entry size %lld is out of range", (long long)size);
			goto out;
		}
		if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
			if (type == 'g') {
				/* global headers are skipped before anything else happens (no parents) */
				if (skip(r, (uint64_t)size + (BLOCK - (uint64_t)size % BLOCK) % BLOCK) < 0)
					goto out;
				continue;
			}
			if (type == 'x') {
				char *m;
				if (read_meta(r, (uint64_t)size, &m) < 0)
					goto out;
				int prc = parse_pax(r, &p, m, (size_t)size);
				free(m);
				if (prc < 0)
					goto out;
				continue;
			}
			if (gnu_long(r, (uint64_t)size, type == 'L' ? &p.longname : &p.longlink,
				     type == 'L' ? "name" : "link name") < 0)
				goto out;
			continue;
		}
		const char *nm = p.sparse_name ? p.sparse_name : p.path ? p.path : p.longname;
		if (nm) {
			e->name = strdup(nm);
		} else {
			size_t nlen = strnlen((const char *)blk, 100);
			size_t plen = ustar ? strnlen((const char *)blk + 345, 155) : 0;
			e->name = malloc(plen + nlen + 2);
			if (e->name) {
				if (plen) {
					memcpy(e->name, blk + 345, plen);
					e->name[plen] = '/';
					memcpy(e->name + plen + 1, blk, nlen);
					e->name[plen + 1 + nlen] = 0;
				} else {
					memcpy(e->name, blk, nlen);
					e->name[nlen] = 0;
				}
			}
		}
		const char *ln = p.linkpath ? p.linkpath : p.longlink;
		if (ln)
			e->linkname = strdup(ln);
		else {
			size_t llen = strnlen((const char *)blk + 157, 100);
			e->linkname = strndup((const char *)blk + 157, llen);
		}
		if (!e->name || !e->linkname) {
			fail(r, ENOMEM, "out of memory");
			goto out;
		}
		switch (type) {
		case '0': case '\0': case '7': case 'S':
			e->type = '0';
			break;
		case 'D':
			e->type = '5';
			break;
		case '1': case '2': case '3': case '4': case '5': case '6':
			e->type = type;
			break;
		default:
			fail(r, EPROTO, "unsupported entry type '%c' (0x%02x)", type >= 0x20 && type < 0x7f ? type : '?',
			     (unsigned char)type);
			goto out;
		}
		if (type == '\0' && !ustar && !gnu) {
			size_t l = strlen(e->name);
			if (l && e->name[l - 1] == '/')
				e->type = '5'; /* V7 directories are regular entries with a trailing slash */
		}
		int64_t v;
		if (field(r, blk, 100, 8, "mode", &v) < 0)
			goto out;
		e->mode = (uint32_t)(v & 07777);
		if (field(r, blk, 108, 8, "uid", &e->uid) < 0 || field(r, blk, 116, 8, "gid", &e->gid) < 0 ||
		    field(r, blk, 136, 12, "mtime", &e->mtime) < 0)
			goto out;
		e->atime = -1;
		if (gnu && type != 'S') {
			int64_t at;
			if (tar_parse_number(blk + 345, 12, &at) == 0 && at > 0)
				e->atime = at;
		}
		if (e->type == '3' || e->type == '4') {
			if (field(r, blk, 329, 8, "devmajor", &e->devmajor) < 0 ||
			    field(r, blk, 337, 8, "devminor", &e->devminor) < 0)
				goto out;
			if (e->devmajor < 0 || e->devminor < 0 || e->devmajor > 0xffffffffLL || e->devminor > 0xffffffffLL) {
				fail(r, ERANGE, "device number %lld:%lld out of range", (long long)e->devmajor,
				     (long long)e->devminor);
				goto out;
			}
		}
		if (p.have_uid)
			e->uid = p.uid;
		if (p.have_gid)
			e->gid = p.gid;
		if (p.have_mtime) {
			e->mtime = p.mtime;
			e->mtime_ns = p.mtime_ns;
		}
		if (p.have_atime) {
			e->atime = p.atime;
			e->atime_ns = p.atime_ns;
		}
		if (p.have_size) {
			if (p.size > TAR_MAX_SIZE) {
				fail(r, EFBIG, "entry size %llu is out of range", (unsigned long long)p.size);
				goto out;
			}
			size = (int64_t)p.size;
		}
		if (e->uid < 0 || e->gid < 0 || e->uid > 0xfffffffeLL || e->gid > 0xfffffffeLL) {
			fail(r, ERANGE, "owner %lld:%lld out of range", (long long)e->uid, (long long)e->gid);
			goto out;
		}
		e->size = (uint64_t)size;
		e->xattrs = p.xattrs;
		e->nxattrs = p.nxattrs;
		p.xattrs = NULL;
		p.nxattrs = 0;
		int is_sparse = 0;
		if (type == 'S') {
			is_sparse = 1;
			if (gnu_sparse(r, blk, e) < 0)
				goto out;
		} else if (e->type == '0' && p.sparse_major == 1 && p.sparse_minor == 0) {
			if (!p.have_realsize) {
				fail(r, EPROTO, "sparse file without GNU.sparse.realsize");
				goto out;
			}
			e->realsize = p.realsize;
			e->padding = 0;
			is_sparse = 1;
			if (e->realsize > TAR_MAX_SIZE) {
				fail(r, EFBIG, "sparse file of %llu bytes is too large", (unsigned long long)e->realsize);
				goto out;
			}
			if (map_10(r, e) < 0)
				goto out;
		} else if (e->type == '0' && (p.nsparse || p.sparse_map)) {
			if (!p.have_realsize) {
				fail(r, EPROTO, "sparse file without GNU.sparse.size");
				goto out;
			}
			e->realsize = p.realsize;
			is_sparse = 1;
			if (p.sparse_map) {
				if (map_01(r, p.sparse_map, e) < 0)
					goto out;
			} else {
				e->sparse = p.sparse;
				e->nsparse = p.nsparse;
				p.sparse = NULL;
				p.nsparse = 0;
			}
		} else {
			e->realsize = e->size;
		}
		if (is_sparse) {
			if (check_sparse(r, e) < 0)
				goto out;
			if (!e->sparse) /* a sparse entry without regions is all hole */
				e->sparse = calloc(1, sizeof *e->sparse);
		}
		e->remaining = e->size;
		e->padding = (BLOCK - (uint64_t)size % BLOCK) % BLOCK;
		if (e->type != '0' && type != 'D') {
			/* header-only types have no data, whatever size says (as Go's reader) */
			e->remaining = e->padding = 0;
			e->size = e->realsize = 0;
		}
		if (type == 'S' || (p.sparse_major == 1 && e->type == '0')) {
			/* the padding follows the stored data; for 1.0 the map's blocks were subtracted */
			e->padding = (BLOCK - e->size % BLOCK) % BLOCK;
		}
		rc = 1;
		goto out;
	}
out:
	pending_free(&p);
	return rc;
}

ssize_t tar_data(struct tar_reader *r, const unsigned char **p, size_t max)
{
	struct tar_entry *e = &r->e;
	struct tar_src *s = r->src;
	if (e->remaining == 0 || max == 0)
		return 0;
	if (s->pos == s->len) {
		int rc = src_fill(s, 1);
		if (rc < 0)
			return fail(r, errno, "read: %s", strerror(errno));
		if (rc > 0)
			return fail(r, EPROTO, "unexpected end of archive in the data of an entry");
	}
	size_t n = s->len - s->pos;
	if (n > max)
		n = max;
	if (n > e->remaining)
		n = (size_t)e->remaining;
	*p = s->buf + s->pos;
	s->pos += n;
	e->remaining -= n;
	return (ssize_t)n;
}

int tar_drain(struct tar_reader *r)
{
	struct tar_src *s = r->src;
	for (;;) {
		s->pos = s->len = 0;
		int rc = src_fill(s, 1);
		if (rc < 0)
			return fail(r, errno, "read: %s", strerror(errno));
		if (rc > 0)
			return 0;
	}
}
