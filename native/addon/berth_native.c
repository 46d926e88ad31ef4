/*
 * berth_native: the few host system calls the TypeScript side needs in-process and Node lacks
 * (xattrs, mknod, mount, openat2, fd passing) and one thread-pool job (removeTree). Every other
 * call is synchronous and thin: it converts its arguments, makes one system call, and on failure
 * throws an Error whose `code` is the errno
 * name ("ENOENT"), `errno` its number and `syscall` the call, with a message in Node's own form
 * ("ENOENT: no such file or directory, lgetxattr '/x'") so that src/common/errors.ts reads it
 * like any fs error. Policy (what to call, on what) stays in TypeScript (src/native/addon.ts).
 *
 * Paths and xattr values may be Buffers (a file name need not be UTF-8) or strings.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

/* Largest xattr value the kernel allows (XATTR_SIZE_MAX) and largest name list (XATTR_LIST_MAX). */
#define VALUE_MAX 65536
#define LIST_MAX 65536

/* The Error a failed call throws (or an async one rejects with), in Node's own form. */
static napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *name = strerrorname_np(err);
  char code[32];
  if (name == NULL) {
    snprintf(code, sizeof code, "E%d", err);
    name = code;
  }
  /* Node's (libuv's) texts are lower case: "no such file or directory". */
  char text[128];
  snprintf(text, sizeof text, "%s", strerror(err));
  text[0] = (char)tolower((unsigned char)text[0]);
  char msg[4200];
  if (path != NULL)
    snprintf(msg, sizeof msg, "%s: %s, %s '%s'", name, text, syscall, path);
  else
    snprintf(msg, sizeof msg, "%s: %s, %s", name, text, syscall);
  napi_value ncode, nmsg, error, v;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &ncode);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &nmsg);
  napi_create_error(env, ncode, nmsg, &error);
  napi_create_int32(env, -err, &v);
  napi_set_named_property(env, error, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, error, "syscall", v);
  if (path != NULL) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, error, "path", v);
  }
  return error;
}

/* Throws from a failed call: returns NULL so callers can `return throw_errno(...)`. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, err, syscall, path));
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

/*
 * A string or Buffer argument as a NUL-terminated C string (malloc'd; NULL with an exception
 * pending on failure). Embedded NULs are refused: the kernel would silently cut the path.
 */
static char *arg_cstr(napi_env env, napi_value v, const char *what) {
  napi_valuetype t;
  bool is_buffer = false;
  napi_typeof(env, v, &t);
  if (t != napi_string) napi_is_buffer(env, v, &is_buffer);
  size_t len = 0;
  char *s;
  if (t == napi_string) {
    napi_get_value_string_utf8(env, v, NULL, 0, &len);
    s = malloc(len + 1);
    if (s == NULL) goto nomem;
    napi_get_value_string_utf8(env, v, s, len + 1, &len);
  } else if (is_buffer) {
    void *data;
    napi_get_buffer_info(env, v, &data, &len);
    s = malloc(len + 1);
    if (s == NULL) goto nomem;
    memcpy(s, data, len);
    s[len] = '\0';
  } else {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a string or a Buffer", what);
    throw_type(env, msg);
    return NULL;
  }
  if (strlen(s) != len) {
    free(s);
    char msg[128];
    snprintf(msg, sizeof msg, "%s must not contain NUL bytes", what);
    throw_type(env, msg);
    return NULL;
  }
  return s;
nomem:
  throw_errno(env, ENOMEM, "malloc", NULL);
  return NULL;
}

static bool arg_int64(napi_env env, napi_value v, const char *what, int64_t *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a number", what);
    throw_type(env, msg);
    return false;
  }
  napi_get_value_int64(env, v, out);
  return true;
}

/* Up to 6 arguments; missing ones are `undefined`. */
#define ARGS(n)                                          \
  size_t argc = (n);                                     \
  napi_value argv[(n) > 0 ? (n) : 1];                    \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);  \
  if (argc < (n)) return throw_type(env, "missing arguments")

/* lgetxattr(path, name): Buffer, or null when the file has no such attribute (ENODATA). */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  napi_value result = NULL;
  char *path = arg_cstr(env, argv[0], "path");
  char *name = path ? arg_cstr(env, argv[1], "name") : NULL;
  if (name == NULL) goto out;
  char buf[VALUE_MAX];
  ssize_t n = lgetxattr(path, name, buf, sizeof buf);
  if (n < 0) {
    if (errno == ENODATA)
      napi_get_null(env, &result);
    else
      throw_errno(env, errno, "lgetxattr", path);
    goto out;
  }
  void *copy;
  napi_create_buffer_copy(env, (size_t)n, buf, &copy, &result);
out:
  free(path);
  free(name);
  return result;
}

/* llistxattr(path): the attribute names, as strings (xattr names are text). */
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  ARGS(1);
  napi_value result = NULL;
  char *path = arg_cstr(env, argv[0], "path");
  if (path == NULL) return NULL;
  char *buf = malloc(LIST_MAX);
  if (buf == NULL) {
    throw_errno(env, ENOMEM, "malloc", NULL);
    goto out;
  }
  ssize_t n = llistxattr(path, buf, LIST_MAX);
  if (n < 0) {
    throw_errno(env, errno, "llistxattr", path);
    goto out;
  }
  napi_create_array(env, &result);
  uint32_t i = 0;
  for (ssize_t off = 0; off < n;) {
    size_t len = strnlen(buf + off, (size_t)(n - off));
    napi_value s;
    napi_create_string_utf8(env, buf + off, len, &s);
    napi_set_element(env, result, i++, s);
    off += (ssize_t)len + 1;
  }
out:
  free(buf);
  free(path);
  return result;
}

/* lsetxattr(path, name, value: Buffer|string, flags) */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  ARGS(4);
  char *path = NULL, *name = NULL;
  int64_t flags;
  void *value;
  size_t len;
  bool is_buffer = false;
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  char *svalue = NULL;
  if (t == napi_string) {
    svalue = arg_cstr(env, argv[2], "value");
    if (svalue == NULL) return NULL;
    value = svalue;
    len = strlen(svalue);
  } else {
    napi_is_buffer(env, argv[2], &is_buffer);
    if (!is_buffer) return throw_type(env, "value must be a string or a Buffer");
    napi_get_buffer_info(env, argv[2], &value, &len);
  }
  if (!arg_int64(env, argv[3], "flags", &flags)) goto out;
  path = arg_cstr(env, argv[0], "path");
  name = path ? arg_cstr(env, argv[1], "name") : NULL;
  if (name == NULL) goto out;
  if (lsetxattr(path, name, value, len, (int)flags) < 0) throw_errno(env, errno, "lsetxattr", path);
out:
  free(svalue);
  free(path);
  free(name);
  return NULL;
}

/* lremovexattr(path, name) */
static napi_value js_lremovexattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = arg_cstr(env, argv[0], "path");
  char *name = path ? arg_cstr(env, argv[1], "name") : NULL;
  if (name != NULL && lremovexattr(path, name) < 0) throw_errno(env, errno, "lremovexattr", path);
  free(path);
  free(name);
  return NULL;
}

/* mknodat(dirfd, path, mode, major, minor): dirfd may be AT_FDCWD (-100). */
static napi_value js_mknodat(napi_env env, napi_callback_info info) {
  ARGS(5);
  int64_t dirfd, mode, major, minor;
  if (!arg_int64(env, argv[0], "dirfd", &dirfd) || !arg_int64(env, argv[2], "mode", &mode) ||
      !arg_int64(env, argv[3], "major", &major) || !arg_int64(env, argv[4], "minor", &minor))
    return NULL;
  if (major < 0 || major > 0xfff || minor < 0 || minor > 0xfffff) return throw_errno(env, EINVAL, "mknodat", NULL);
  char *path = arg_cstr(env, argv[1], "path");
  if (path == NULL) return NULL;
  if (mknodat((int)dirfd, path, (mode_t)mode, makedev((unsigned)major, (unsigned)minor)) < 0)
    throw_errno(env, errno, "mknodat", path);
  free(path);
  return NULL;
}

/* mount(source, target, fstype, flags, data): source, fstype and data may be null. */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  ARGS(5);
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
  int64_t flags;
  napi_valuetype t;
  if (!arg_int64(env, argv[3], "flags", &flags)) return NULL;
  target = arg_cstr(env, argv[1], "target");
  if (target == NULL) return NULL;
  napi_typeof(env, argv[0], &t);
  if (t != napi_null && t != napi_undefined && (source = arg_cstr(env, argv[0], "source")) == NULL) goto out;
  napi_typeof(env, argv[2], &t);
  if (t != napi_null && t != napi_undefined && (fstype = arg_cstr(env, argv[2], "fstype")) == NULL) goto out;
  napi_typeof(env, argv[4], &t);
  if (t != napi_null && t != napi_undefined && (data = arg_cstr(env, argv[4], "data")) == NULL) goto out;
  if (mount(source, target, fstype, (unsigned long)flags, data) < 0) throw_errno(env, errno, "mount", target);
out:
  free(source);
  free(target);
  free(fstype);
  free(data);
  return NULL;
}

/* umount2(target, flags) */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t flags;
  if (!arg_int64(env, argv[1], "flags", &flags)) return NULL;
  char *target = arg_cstr(env, argv[0], "target");
  if (target == NULL) return NULL;
  if (umount2(target, (int)flags) < 0) throw_errno(env, errno, "umount2", target);
  free(target);
  return NULL;
}

/*
 * openat2(dirfd, path, flags, resolve): a file descriptor Node's fs can read through. With
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS the kernel keeps the lookup under dirfd, so a tree that
 * changes while it is read (a symlink swapped in for a directory) cannot redirect the read.
 * O_CLOEXEC is always added. EAGAIN (a concurrent rename raced the lookup) is retried.
 */
static napi_value js_openat2(napi_env env, napi_callback_info info) {
  ARGS(4);
  int64_t dirfd, flags, resolve;
  if (!arg_int64(env, argv[0], "dirfd", &dirfd) || !arg_int64(env, argv[2], "flags", &flags) ||
      !arg_int64(env, argv[3], "resolve", &resolve))
    return NULL;
  char *path = arg_cstr(env, argv[1], "path");
  if (path == NULL) return NULL;
  struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .mode = 0, .resolve = (uint64_t)resolve};
  long fd;
  int tries = 0;
  do fd = syscall(SYS_openat2, (int)dirfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN && ++tries < 64);
  napi_value result = NULL;
  if (fd < 0)
    throw_errno(env, errno, "openat2", path);
  else
    napi_create_int32(env, (int32_t)fd, &result);
  free(path);
  return result;
}

/*
 * recvFds(sockfd, max): one recvmsg(MSG_DONTWAIT | MSG_CMSG_CLOEXEC) of at most `max` bytes,
 * with the descriptors passed alongside (SCM_RIGHTS): { data: Buffer, fds: number[] }. Throws
 * EAGAIN when nothing is there yet. The received fds are close-on-exec, so no child of ours
 * (a shim, a container) can inherit them; a truncated control message (more fds than fit) is
 * an error, after closing what did arrive.
 */
#define MAX_PASSED_FDS 8
static napi_value js_recvFds(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd, max;
  if (!arg_int64(env, argv[0], "sockfd", &fd) || !arg_int64(env, argv[1], "max", &max)) return NULL;
  if (max <= 0 || max > (1 << 24)) return throw_type(env, "max out of range");
  void *buf = malloc((size_t)max);
  if (buf == NULL) return throw_errno(env, ENOMEM, "recvmsg", NULL);
  union {
    char bytes[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = buf, .iov_len = (size_t)max};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
  ssize_t n;
  do n = recvmsg((int)fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    free(buf);
    return throw_errno(env, err, "recvmsg", NULL);
  }
  int fds[MAX_PASSED_FDS];
  size_t nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k && nfds < MAX_PASSED_FDS; i++) memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    for (size_t i = 0; i < nfds; i++) close(fds[i]);
    free(buf);
    return throw_errno(env, EMSGSIZE, "recvmsg", NULL);
  }
  napi_value result, data, list, v;
  napi_create_object(env, &result);
  void *copy;
  napi_create_buffer_copy(env, (size_t)n, buf, &copy, &data);
  free(buf);
  napi_create_array_with_length(env, nfds, &list);
  for (size_t i = 0; i < nfds; i++) {
    napi_create_int32(env, fds[i], &v);
    napi_set_element(env, list, (uint32_t)i, v);
  }
  napi_set_named_property(env, result, "data", data);
  napi_set_named_property(env, result, "fds", list);
  return result;
}

/* dupCloexec(fd): a new descriptor for the same open file, close-on-exec (fcntl F_DUPFD_CLOEXEC). */
static napi_value js_dupCloexec(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t fd;
  if (!arg_int64(env, argv[0], "fd", &fd)) return NULL;
  int d = fcntl((int)fd, F_DUPFD_CLOEXEC, 3);
  if (d < 0) return throw_errno(env, errno, "fcntl", NULL);
  napi_value result;
  napi_create_int32(env, d, &result);
  return result;
}

/* peerCred(sockfd): the connected unix peer's credentials at connect time (SO_PEERCRED): { pid, uid, gid }. */
static napi_value js_peerCred(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t fd;
  if (!arg_int64(env, argv[0], "sockfd", &fd)) return NULL;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt((int)fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return throw_errno(env, errno, "getsockopt", NULL);
  napi_value result, v;
  napi_create_object(env, &result);
  napi_create_int32(env, cred.pid, &v);
  napi_set_named_property(env, result, "pid", v);
  napi_create_uint32(env, cred.uid, &v);
  napi_set_named_property(env, result, "uid", v);
  napi_create_uint32(env, cred.gid, &v);
  napi_set_named_property(env, result, "gid", v);
  return result;
}

/*
 * removeTree(path): Promise<void>. Deletes a directory tree on the libuv thread pool, so that a
 * daemon's event loop does not pay a JavaScript round trip per entry (Node's rm walks the tree
 * in JavaScript: ~1 ms of berthd's main thread per container for three small trees). Never
 * follows a symbolic link (every directory is opened O_NOFOLLOW, relative to its parent), never
 * leaves the tree's filesystem (a mount inside it fails the call with EXDEV instead of having
 * its contents deleted). One descriptor per level: a tree deeper than the descriptors allow
 * fails with EMFILE (the caller falls back to Node's rm). A missing path is success. A
 * directory that something still writes into (ENOTEMPTY at rmdir) is emptied again, up to 12
 * times 30 ms apart, as Node's maxRetries would.
 */
struct rmtree {
  char *path;
  int err;
  const char *syscall;
  napi_deferred deferred;
  napi_async_work work;
};

/* One level of the walk: the open directory, its stream, and its name in the level above. */
struct level {
  DIR *d;
  char *name;
};

/* Removes everything inside the directory `top` (taken); 0 or -errno, `*what` the failed call. */
static int empty_tree(int top, dev_t dev, const char **what) {
  struct level *stack = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  DIR *d0 = fdopendir(top);
  if (d0 == NULL) {
    *what = "opendir";
    rc = -errno;
    close(top);
    return rc;
  }
  cap = 16;
  stack = malloc(cap * sizeof *stack);
  if (stack == NULL) {
    closedir(d0);
    *what = "malloc";
    return -ENOMEM;
  }
  stack[n++] = (struct level){d0, NULL};
  while (n > 0 && rc == 0) {
    struct level *top_level = &stack[n - 1];
    int fd = dirfd(top_level->d);
    errno = 0;
    struct dirent *e = readdir(top_level->d);
    if (e == NULL) {
      if (errno != 0) {
        rc = -errno;
        *what = "readdir";
        break;
      }
      /* this level is empty: it goes from the level above (the root's own rmdir is the caller's) */
      struct level done = stack[--n];
      closedir(done.d);
      if (n > 0) {
        int parent = dirfd(stack[n - 1].d);
        for (int tries = 0; unlinkat(parent, done.name, AT_REMOVEDIR) < 0 && errno != ENOENT; tries++) {
          if ((errno != ENOTEMPTY && errno != EEXIST) || tries >= 12) {
            rc = -errno;
            *what = "rmdir";
            break;
          }
          /* something still writes into it (a copy being killed): empty it again */
          usleep(30000);
          int again = openat(parent, done.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (again < 0) break;
          const char *w = NULL;
          int r = empty_tree(again, dev, &w);
          if (r < 0) {
            rc = r;
            *what = w;
            break;
          }
        }
      }
      free(done.name);
      continue;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    bool dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      dir = fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (dir) {
      int child = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0) {
        struct stat st;
        if (fstat(child, &st) < 0) {
          rc = -errno;
          *what = "fstat";
          close(child);
          break;
        }
        if (st.st_dev != dev) {
          rc = -EXDEV; /* a mount inside the tree: its contents are not ours to delete */
          *what = "rmdir";
          close(child);
          break;
        }
        DIR *cd = fdopendir(child);
        char *name = strdup(e->d_name);
        if (n == cap) {
          struct level *grown = realloc(stack, cap * 2 * sizeof *stack);
          if (grown != NULL) {
            stack = grown;
            cap *= 2;
          }
        }
        if (cd == NULL || name == NULL || n == cap) {
          rc = cd == NULL ? -errno : -ENOMEM;
          *what = cd == NULL ? "opendir" : "malloc";
          if (cd != NULL) closedir(cd);
          else close(child);
          free(name);
          break;
        }
        stack[n++] = (struct level){cd, name};
        continue;
      }
      if (errno == ENOENT) continue;
      if (errno != ENOTDIR && errno != ELOOP) {
        rc = -errno; /* EMFILE on a tree deeper than the descriptors: the caller falls back */
        *what = "open";
        break;
      }
      /* replaced by a non-directory meanwhile: unlinked below */
    }
    if (unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT) {
      rc = -errno;
      *what = "unlink";
    }
  }
  for (size_t i = 0; i < n; i++) {
    closedir(stack[i].d);
    free(stack[i].name);
  }
  free(stack);
  return rc;
}

static void rmtree_execute(napi_env env, void *data) {
  (void)env;
  struct rmtree *t = data;
  int root = open(t->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) {
    if (errno == ENOENT) return;
    if (errno == ENOTDIR || errno == ELOOP) {
      /* a file or a symbolic link: it goes, nothing it points to does */
      if (unlink(t->path) < 0 && errno != ENOENT) {
        t->err = errno;
        t->syscall = "unlink";
      }
      return;
    }
    t->err = errno;
    t->syscall = "open";
    return;
  }
  struct stat st;
  if (fstat(root, &st) < 0) {
    t->err = errno;
    t->syscall = "fstat";
    close(root);
    return;
  }
  for (int tries = 0;; tries++) {
    const char *what = NULL;
    int dup_root = fcntl(root, F_DUPFD_CLOEXEC, 3);
    int rc = dup_root < 0 ? -errno : empty_tree(dup_root, st.st_dev, &what);
    if (rc < 0) {
      t->err = -rc;
      t->syscall = what ? what : "fcntl";
      break;
    }
    if (rmdir(t->path) == 0 || errno == ENOENT) break;
    if ((errno != ENOTEMPTY && errno != EEXIST) || tries >= 12) {
      t->err = errno;
      t->syscall = "rmdir";
      break;
    }
    usleep(30000);
  }
  close(root);
}

static void rmtree_complete(napi_env env, napi_status status, void *data) {
  struct rmtree *t = data;
  napi_value v;
  if (status != napi_ok && t->err == 0) t->err = ECANCELED, t->syscall = "rm";
  if (t->err == 0) {
    napi_get_undefined(env, &v);
    napi_resolve_deferred(env, t->deferred, v);
  } else {
    napi_reject_deferred(env, t->deferred, errno_error(env, t->err, t->syscall, t->path));
  }
  napi_delete_async_work(env, t->work);
  free(t->path);
  free(t);
}

static napi_value js_removeTree(napi_env env, napi_callback_info info) {
  ARGS(1);
  char *path = arg_cstr(env, argv[0], "path");
  if (path == NULL) return NULL;
  struct rmtree *t = calloc(1, sizeof *t);
  if (t == NULL) {
    free(path);
    return throw_errno(env, ENOMEM, "malloc", NULL);
  }
  t->path = path;
  napi_value promise, name;
  napi_create_promise(env, &t->deferred, &promise);
  napi_create_string_utf8(env, "berth:removeTree", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, rmtree_execute, rmtree_complete, t, &t->work);
  napi_queue_async_work(env, t->work);
  return promise;
}

/* ------------------------------------------------------------------ spawning berth-nsinit */

/*
 * spawnHelper(file, argv0, args, fds, detached[, sync = true]) -> { pid, sync, pidfd }
 *
 * Starts `file` the way the runtime starts berth-nsinit, without Node's child_process (whose
 * module, with net and stream, costs ~3.5 ms of every berth-runtime call that spawns, and which
 * forks the whole Node process: posix_spawn uses CLONE_VFORK). The child gets fds[i] as fd i
 * (-1: /dev/null) and one end of a new socketpair as fd fds.length, the sync socket, and no
 * other fd of ours. Signal dispositions are reset and the mask emptied, as
 * libuv does; `detached` makes a new session. Returns the other end of the socketpair and a
 * pidfd of the child (for watchFd and waitPidfd). Throws the errno of a failed exec. With `sync`
 * false there is no socketpair: the child gets fds and nothing else, and `sync` is -1.
 */
static napi_value js_spawnHelper(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) return throw_type(env, "missing arguments");
  bool want_sync = true;
  if (argc > 5) {
    napi_valuetype t;
    napi_typeof(env, argv[5], &t);
    if (t == napi_boolean) napi_get_value_bool(env, argv[5], &want_sync);
  }
  napi_value result = NULL;
  char *file = NULL, **cargv = NULL;
  int *high = NULL;
  uint32_t nargs = 0, nfds = 0;
  int sp[2] = {-1, -1};
  bool is_array = false, detached = false;
  file = arg_cstr(env, argv[0], "file");
  if (file == NULL) goto out;
  napi_is_array(env, argv[2], &is_array);
  if (!is_array) {
    throw_type(env, "args must be an array");
    goto out;
  }
  napi_get_array_length(env, argv[2], &nargs);
  cargv = calloc(nargs + 2, sizeof *cargv);
  if (cargv == NULL) {
    throw_errno(env, ENOMEM, "malloc", NULL);
    goto out;
  }
  cargv[0] = arg_cstr(env, argv[1], "argv0");
  if (cargv[0] == NULL) goto out;
  for (uint32_t i = 0; i < nargs; i++) {
    napi_value a;
    napi_get_element(env, argv[2], i, &a);
    cargv[i + 1] = arg_cstr(env, a, "args[i]");
    if (cargv[i + 1] == NULL) goto out;
  }
  napi_is_array(env, argv[3], &is_array);
  if (!is_array) {
    throw_type(env, "fds must be an array");
    goto out;
  }
  napi_get_array_length(env, argv[3], &nfds);
  napi_get_value_bool(env, argv[4], &detached);
  high = malloc((nfds + 1) * sizeof *high);
  if (high == NULL) {
    throw_errno(env, ENOMEM, "malloc", NULL);
    goto out;
  }
  for (uint32_t i = 0; i <= nfds; i++) high[i] = -1;
  if (want_sync && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
    throw_errno(env, errno, "socketpair", NULL);
    goto out;
  }
  /* the child's fds: fds[0..nfds), then the sync socket when there is one */
  uint32_t nchild = want_sync ? nfds + 1 : nfds;
  /* Copies above every target fd first: a dup2 onto fd i must never clobber a source that a
   * later dup2 still needs (the caller's fd 1 meant to become the child's fd 2, say). */
  for (uint32_t i = 0; i < nchild; i++) {
    int64_t fd = sp[1];
    if (i < nfds) {
      napi_value a;
      napi_get_element(env, argv[3], i, &a);
      if (!arg_int64(env, a, "fds[i]", &fd)) goto out;
    }
    if (fd < 0) continue;
    high[i] = fcntl((int)fd, F_DUPFD_CLOEXEC, (int)nfds + 1);
    if (high[i] < 0) {
      throw_errno(env, errno, "fcntl", NULL);
      goto out;
    }
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  for (uint32_t i = 0; i < nchild; i++) {
    if (high[i] < 0) posix_spawn_file_actions_addopen(&fa, (int)i, "/dev/null", O_RDWR, 0);
    else posix_spawn_file_actions_adddup2(&fa, high[i], (int)i);
  }
  /* and nothing else, even an fd someone left without close-on-exec */
  posix_spawn_file_actions_addclosefrom_np(&fa, (int)nchild);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (detached ? POSIX_SPAWN_SETSID : 0));
  pid_t pid = 0;
  int err = posix_spawn(&pid, file, &fa, &at, cargv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (err != 0) {
    throw_errno(env, err, "spawn", file);
    goto out;
  }
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) {
    /* ours and not reaped: it cannot be followed, so it goes */
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    throw_errno(env, e, "pidfd_open", NULL);
    goto out;
  }
  napi_value v;
  napi_create_object(env, &result);
  napi_create_int32(env, pid, &v);
  napi_set_named_property(env, result, "pid", v);
  napi_create_int32(env, sp[0], &v);
  napi_set_named_property(env, result, "sync", v);
  napi_create_int32(env, pidfd, &v);
  napi_set_named_property(env, result, "pidfd", v);
  sp[0] = -1; /* the caller's now */
out:
  if (sp[0] >= 0) close(sp[0]);
  if (sp[1] >= 0) close(sp[1]);
  if (high != NULL)
    for (uint32_t i = 0; i <= nfds; i++)
      if (high[i] >= 0) close(high[i]);
  free(high);
  if (cargv != NULL)
    for (uint32_t i = 0; i <= nargs; i++) free(cargv[i]);
  free(cargv);
  free(file);
  return result;
}

/* waitPidfd(pidfd) -> { code, signal } once the child exited (reaped now), else null. */
static napi_value js_waitPidfd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t fd;
  if (!arg_int64(env, argv[0], "pidfd", &fd)) return NULL;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0) return throw_errno(env, errno, "waitid", NULL);
  napi_value r, v;
  if (si.si_pid == 0) {
    napi_get_null(env, &r);
    return r;
  }
  napi_create_object(env, &r);
  bool signaled = si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
  napi_create_int32(env, signaled ? -1 : si.si_status, &v);
  napi_set_named_property(env, r, "code", v);
  napi_create_int32(env, signaled ? si.si_status : 0, &v);
  napi_set_named_property(env, r, "signal", v);
  return r;
}

/*
 * watchFd(fd, callback) -> handle: calls callback() (in a callback scope: ticks and promise jobs
 * run after it) whenever fd is readable (or hung up), until unwatchFd(handle). While watched the
 * fd keeps the event loop alive, as a child process or a socket does in Node. The fd stays the
 * caller's to read and close (after unwatchFd).
 */
struct fdwatch {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  bool stopped;
  /* owned by the JS handle and by the uv handle (until closed): freed when both let go */
  int refs;
};

static void fdwatch_release(struct fdwatch *w) {
  if (--w->refs == 0) free(w);
}

static void fdwatch_closed(uv_handle_t *h) { fdwatch_release(h->data); }

static void fdwatch_event(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  struct fdwatch *w = h->data;
  if (w->stopped) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, ret;
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &recv); /* napi_make_callback wants an object */
  if (napi_make_callback(env, w->ctx, recv, cb, 0, NULL, &ret) == napi_pending_exception) {
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
    napi_fatal_exception(env, e);
  }
  napi_close_handle_scope(env, scope);
}

static void fdwatch_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  fdwatch_release(data);
}

static napi_value js_watchFd(napi_env env, napi_callback_info info) {
  ARGS(2);
  int64_t fd;
  if (!arg_int64(env, argv[0], "fd", &fd)) return NULL;
  struct fdwatch *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, ENOMEM, "malloc", NULL);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int r = uv_poll_init(loop, &w->poll, (int)fd);
  if (r < 0) {
    free(w);
    return throw_errno(env, -r, "uv_poll_init", NULL);
  }
  w->poll.data = w;
  w->env = env;
  w->refs = 2;
  napi_create_reference(env, argv[1], 1, &w->cb);
  napi_value name;
  napi_create_string_utf8(env, "berth:watchFd", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->ctx);
  uv_poll_start(&w->poll, UV_READABLE | UV_DISCONNECT, fdwatch_event);
  napi_value handle;
  napi_create_external(env, w, fdwatch_finalize, NULL, &handle);
  return handle;
}

static napi_value js_unwatchFd(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct fdwatch *w = NULL;
  napi_get_value_external(env, argv[0], (void **)&w);
  napi_value u;
  napi_get_undefined(env, &u);
  if (w == NULL || w->stopped) return u;
  w->stopped = true;
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->cb);
  napi_async_destroy(env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, fdwatch_closed);
  return u;
}

/* --------------------------------------------------------- locks on abstract unix socket names */

/* The address of abstract name `name` (without its leading NUL), and its length. */
static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  size_t n = strlen(name);
  if (n > sizeof a->sun_path - 1) n = sizeof a->sun_path - 1;
  memcpy(a->sun_path + 1, name, n);
  /* the whole sun_path, zero-padded: the length Node 20's net binds the same name with (an
   * abstract name is all of its bytes, so a shorter length would be another name) */
  return (socklen_t)sizeof *a;
}

/* A new unix stream socket for abstract name `arg`, its address in `a`; -1 with an exception pending. */
static int abstract_socket(napi_env env, napi_value arg, struct sockaddr_un *a, socklen_t *len) {
  char *name = arg_cstr(env, arg, "name");
  if (name == NULL) return -1;
  *len = abstract_addr(a, name);
  free(name);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw_errno(env, errno, "socket", NULL);
  return fd;
}

static napi_value int32_value(napi_env env, int n) {
  napi_value r;
  napi_create_int32(env, n, &r);
  return r;
}

/*
 * lockBind(name) -> fd, or -1 when the name is bound already (EADDRINUSE). The lock of
 * common/lock.ts without node:net (~3 ms of every short-lived berth-runtime call to load): held
 * while the fd is open, released by closing it (or by the holder's death); waiters connected to
 * it (lockConnect) then see their connection reset. Node's net holders and waiters interoperate:
 * the name and its length are the same.
 */
static napi_value js_lockBind(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct sockaddr_un a;
  socklen_t len;
  int fd = abstract_socket(env, argv[0], &a, &len);
  if (fd < 0) return NULL;
  if (bind(fd, (struct sockaddr *)&a, len) < 0 || listen(fd, SOMAXCONN) < 0) {
    int e = errno;
    close(fd);
    if (e != EADDRINUSE) return throw_errno(env, e, "bind", NULL);
    fd = -1;
  }
  return int32_value(env, fd);
}

/*
 * lockConnect(name) -> fd of a connection to the holder of `name` (watch it: it is reset or ends
 * when the holder lets go), or -1 when nobody holds it (ECONNREFUSED), or -2 when the holder's
 * queue is full (EAGAIN: try again a little later).
 */
static napi_value js_lockConnect(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct sockaddr_un a;
  socklen_t len;
  int fd = abstract_socket(env, argv[0], &a, &len);
  if (fd < 0) return NULL;
  if (connect(fd, (struct sockaddr *)&a, len) < 0) {
    int e = errno;
    close(fd);
    if (e == ECONNREFUSED || e == ENOENT) fd = -1;
    else if (e == EAGAIN) fd = -2;
    else return throw_errno(env, e, "connect", NULL);
  }
  return int32_value(env, fd);
}

/*
 * pipe() -> [readFd, writeFd] and socketPair() -> [fd, fd] (stream), close-on-exec: a child's
 * stdio for spawnHelper, our ends then wrapped in net.Socket (src/native/spawn.ts).
 */
static napi_value fd_pair(napi_env env, const int fds[2]) {
  napi_value r, v;
  napi_create_array_with_length(env, 2, &r);
  for (uint32_t i = 0; i < 2; i++) {
    napi_create_int32(env, fds[i], &v);
    napi_set_element(env, r, i, v);
  }
  return r;
}

static napi_value js_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return throw_errno(env, errno, "pipe2", NULL);
  return fd_pair(env, fds);
}

static napi_value js_socketPair(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) return throw_errno(env, errno, "socketpair", NULL);
  return fd_pair(env, fds);
}

/* pidfdOpen(pid) -> a pidfd of any process (readable once it exits: watchFd); throws ESRCH. */
static napi_value js_pidfdOpen(napi_env env, napi_callback_info info) {
  ARGS(1);
  int64_t pid;
  if (!arg_int64(env, argv[0], "pid", &pid)) return NULL;
  int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (fd < 0) return throw_errno(env, errno, "pidfd_open", NULL);
  /* close-on-exec: pidfd_open sets it, by definition of the call */
  return int32_value(env, fd);
}

static napi_value init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"lgetxattr", js_lgetxattr}, {"llistxattr", js_llistxattr}, {"lsetxattr", js_lsetxattr},
      {"lremovexattr", js_lremovexattr}, {"mknodat", js_mknodat}, {"mount", js_mount},
      {"umount2", js_umount2}, {"openat2", js_openat2}, {"recvFds", js_recvFds}, {"dupCloexec", js_dupCloexec},
      {"peerCred", js_peerCred}, {"removeTree", js_removeTree}, {"spawnHelper", js_spawnHelper},
      {"waitPidfd", js_waitPidfd}, {"watchFd", js_watchFd}, {"unwatchFd", js_unwatchFd},
      {"lockBind", js_lockBind}, {"lockConnect", js_lockConnect}, {"pidfdOpen", js_pidfdOpen},
      {"pipe", js_pipe}, {"socketPair", js_socketPair},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
