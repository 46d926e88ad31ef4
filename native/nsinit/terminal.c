/* The container's pty (init stage) and the host terminal's raw mode (parent stage). */
#include "nsinit.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

/* After pivot: the pty comes from the container's own devpts (/dev/ptmx), so its slave is a
 * /dev/pts/N that exists inside the container. */
void terminal_setup(struct plan *p, int console, int sock)
{
	int master = openat(AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die_errno("open '/dev/ptmx'");
	if (unlockpt(master) < 0)
		die_errno("unlockpt");
	char name[64];
	if ((errno = ptsname_r(master, name, sizeof name)))
		die_errno("ptsname");
	int slave = openat(AT_FDCWD, name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		die_errno("open '%s'", name);
	/* The process may switch to a non-root user that must still own its terminal. */
	if (p->has_user && fchown(slave, p->uid, (gid_t)-1) < 0 && errno != EPERM && errno != EINVAL)
		die_errno("chown '%s'", name);

	if (p->setup_root) { /* a container's init, not an exec into one */
		int root = openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		int fd = root < 0 ? -1 : resolve_in_root(root, "/dev/console", CREATE_FILE);
		if (fd < 0)
			die_errno("create '/dev/console'");
		if (mount(name, fd_path(fd), NULL, MS_BIND, NULL) < 0)
			die_errno("mount '%s' on '/dev/console'", name);
		close(fd);
		close(root);
	}

	/* runc's console-socket wire format: containerd and conmon read "/dev/ptmx" as data. */
	if (console >= 0) {
		if (send_fd(console, master, "/dev/ptmx", strlen("/dev/ptmx")) < 0)
			die_errno("send pty master to console socket '%s'", p->console_socket);
		close(console);
	} else {
		char m = MSG_TERMINAL;
		if (send_fd(sock, master, &m, 1) < 0)
			die_errno("send pty master to the parent stage");
	}
	close(master);

	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		die_errno("set controlling terminal '%s'", name);
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			die_errno("dup2 '%s'", name);
	if (slave > 2)
		close(slave);
}

static struct termios saved;
static int saved_fd = -1;

/* The container's pty does the line discipline: ours passes every byte (^C included) through. */
void term_raw(int fd)
{
	if (!isatty(fd) || tcgetattr(fd, &saved) < 0)
		return;
	struct termios t = saved;
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSANOW, &t) == 0)
		saved_fd = fd;
}

void term_restore(void)
{
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSANOW, &saved);
	saved_fd = -1;
}

void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}
