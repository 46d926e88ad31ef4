/* libFuzzer target: berth-nsinit's plan reader (nsinit/plan.c, util.c's percent-decoding,
 * seccomp.c's program decoding) on arbitrary input. Any crash, sanitizer report (address,
 * undefined behaviour), leak, or a plan accepted in a shape the stages cannot use is a bug.
 *
 * Linked with -Wl,--wrap=… (native/Makefile): die() longjmps back here instead of exiting,
 * read_line() serves the fuzz input line by line instead of reading the sync fd (its buffer
 * would carry one input's rest into the next), and the x*alloc helpers record what the reader
 * allocates, so it is freed after each input (the real nsinit never frees its plan). */
#include "../nsinit/plan.h"
#include "../nsinit/util.h"

#include <sched.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void __wrap_die(const char *fmt, ...);
_Noreturn void __wrap_die_errno(const char *fmt, ...);
char *__wrap_read_line(void);
void *__wrap_xmalloc(size_t n);
void *__wrap_xrealloc(void *p, size_t n);
char *__wrap_xstrdup(const char *s);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jmp_buf refused;

void __wrap_die(const char *fmt, ...)
{
	(void)fmt;
	longjmp(refused, 1);
}

void __wrap_die_errno(const char *fmt, ...)
{
	(void)fmt;
	longjmp(refused, 1);
}

static char *input, *cursor, *input_end;

/* The next whole line, as util.c's read_line gives it: without '\n'; NULL at the end (a last
 * line without its '\n' is not a line). */
char *__wrap_read_line(void)
{
	char *nl = cursor < input_end ? memchr(cursor, '\n', (size_t)(input_end - cursor)) : NULL;
	if (!nl)
		return NULL;
	char *line = cursor;
	*nl = 0;
	cursor = nl + 1;
	return line;
}

static void **allocs;
static size_t nallocs, capallocs;

void *__wrap_xmalloc(size_t n)
{
	return __wrap_xrealloc(NULL, n);
}

void *__wrap_xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);
	if (!p)
		abort();
	if (old) {
		for (size_t i = nallocs; i-- > 0;)
			if (allocs[i] == old) {
				allocs[i] = p;
				return p;
			}
		abort(); /* the reader reallocated memory it did not get from us */
	}
	if (nallocs == capallocs) {
		capallocs = capallocs * 2 + 64;
		allocs = realloc(allocs, capallocs * sizeof *allocs);
		if (!allocs)
			abort();
	}
	allocs[nallocs++] = p;
	return p;
}

char *__wrap_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(__wrap_xmalloc(n), s, n);
}

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz-plan: accepted plan breaks: %s\n", #cond); \
			abort();                                                      \
		}                                                                     \
	} while (0)

static void check_strv(const struct strv *sv)
{
	CHECK(sv->n == 0 || sv->v[sv->n] == NULL); /* execve needs the NULL */
	for (size_t i = 0; i < sv->n; i++)
		CHECK(sv->v[i] != NULL);
}

/* What the stages rely on in a plan that plan_read accepted. */
static void check(const struct plan *p)
{
	check_strv(&p->args);
	/* A container created without `process` has no argv: its start fails (docs/plan-format.md). */
	CHECK(p->args.n >= 1 || p->start_socket);
	check_strv(&p->env);
	check_strv(&p->cgroup_procs);
	check_strv(&p->masked);
	check_strv(&p->readonly);
	CHECK(!(p->ns_new & p->ns_joined));
	CHECK(!p->seccomp || (p->seccomp_len >= 1 && p->seccomp_len <= 4096));
	CHECK(p->umask >= -1 && p->umask <= 0777);
	if (p->rootops.n || p->masked.n || p->readonly.n) {
		CHECK(p->rootfs && p->rootfs[0] == '/');
		/* Mounts only in a namespace of the container's own, or a joined one, never by pivot. */
		CHECK((p->ns_new & CLONE_NEWNS) || ((p->ns_joined & CLONE_NEWNS) && p->chroot && !p->no_pivot));
		CHECK(p->setup_root);
	}
	for (size_t i = 0; i < p->hooks.n; i++) {
		CHECK(p->hook_state != NULL);
		CHECK(p->hooks.v[i].args.n >= 1); /* argv[0] defaults to the path */
		check_strv(&p->hooks.v[i].args);
		check_strv(&p->hooks.v[i].env);
	}
	for (size_t i = 0; i < p->rlimits.n; i++)
		CHECK(p->rlimits.v[i].res >= 0 && p->rlimits.v[i].res < 64);
	for (size_t i = 0; i < p->rootops.n; i++) {
		const struct rootop *o = &p->rootops.v[i];
		CHECK(o->b != NULL);
		CHECK(o->kind == OP_DEVICE || o->a != NULL);
		CHECK(o->kind != OP_MOUNT || (o->fstype && o->data));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input = malloc(size + 1);
	if (!input)
		abort();
	memcpy(input, data, size);
	cursor = input;
	input_end = input + size;
	/* Above the preserved fds only if preserve-fds is small: the reader checks that. */
	g_sync = 5;
	static struct plan p; /* static: not clobbered by longjmp */
	if (!setjmp(refused)) {
		plan_read(&p);
		check(&p);
	}
	for (size_t i = 0; i < nallocs; i++)
		free(allocs[i]);
	nallocs = 0;
	free(input);
	return 0;
}
