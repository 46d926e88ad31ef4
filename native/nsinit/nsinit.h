/* The stages and what they call across files. */
#pragma once
#include <signal.h>
#include "plan.h"

/* Messages on the internal socketpair between the parent and init stages. The parent sends
 * the init stage's host pid (a pid_t) as its go; the init stage answers with these bytes. */
#define MSG_CREATED 'C'  /* the container waits for start */
#define MSG_TERMINAL 'T' /* carries the pty master (SCM_RIGHTS) */

/* parent.c */
_Noreturn void parent_stage(struct plan *p);

/* init.c */
_Noreturn void init_stage(struct plan *p, int sock, int console, int listenfd, const sigset_t *mask);

/* mounts.c */
enum { RESOLVE_ONLY, CREATE_DIR, CREATE_FILE };
int resolve_in_root(int rootfd, const char *path, int create);
const char *fd_path(int fd);
void rootfs_open(struct plan *p);   /* host side: propagation, bind of the rootfs */
void rootfs_populate(struct plan *p); /* mount, symlink and device records */
void rootfs_pivot(struct plan *p);
void rootfs_chroot(struct plan *p);  /* instead of the pivot, in a joined mount namespace */
void root_readonly(void);
void readonly_paths(struct plan *p);
void masked_paths(struct plan *p);
void root_propagation_late(struct plan *p); /* an unbindable root-propagation-after */
void rootfs_close(void);   /* drops the root handle before `created` */

/* terminal.c */
void terminal_setup(struct plan *p, int console, int sock);
void term_raw(int fd);
void term_restore(void);
void copy_winsize(int from, int to);

/* caps.c */
void apply_user(struct plan *p);

/* hooks.c */
void run_hooks(struct plan *p, enum hook_kind kind, pid_t pid);
