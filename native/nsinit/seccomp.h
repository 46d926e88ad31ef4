/* The seccomp filter of the plan (record `seccomp`): compiled in TypeScript, loaded here. */
#pragma once
#include "plan.h"

/* plan.c: decodes the hex program of a `seccomp` record into p->seccomp; dies if malformed. */
void seccomp_parse(struct plan *p, const char *hex);
/* Before `created`: a throwaway child loads the filter, so that one the kernel refuses fails
 * create with the kernel's reason instead of the start. */
void seccomp_check(struct plan *p);
/* Loads the filter on this process (dies on failure). */
void seccomp_load(struct plan *p);
