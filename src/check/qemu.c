/* Boot an image in QEMU and check it (see check.h). The serial console is QEMU's stdout (a
 * pipe), the guest agent a virtio-serial port on a unix socket in a private temp directory,
 * SSH a user-networking port forward bound to 127.0.0.1. The image is opened with
 * snapshot=on: a test never changes it. */
#include "check/check-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "boot/find.h"
#include "format/reader.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/xalloc.h"

extern char **environ;

#define CHECK_SERIAL_MAX (8u << 20) /* keep at most this much console output */
#define CHECK_MEM "1024"

/* The QEMU child, for the signal handler: killed on SIGINT/SIGTERM/SIGHUP too. */
static volatile pid_t check_child = -1;
/* The temp directory's files, removed by the signal handler too (unlink and rmdir are
 * async-signal-safe; the paths are fixed before the handler is installed). */
static char check_tmp_paths[4][96];

static void check_remove_tmp(void)
{
	for (int i = 0; i < 4; i++)
		if (check_tmp_paths[i][0])
			(void)(i == 3 ? rmdir(check_tmp_paths[i]) : unlink(check_tmp_paths[i]));
}

static void check_on_signal(int sig)
{
	if (check_child > 0)
		(void)kill(-check_child, SIGKILL);
	check_remove_tmp();
	signal(sig, SIG_DFL);
	raise(sig);
}

const char *check_name(enum check_kind k)
{
	static const char *const names[] = {
		[CHECK_SERIAL] = "serial",
		[CHECK_SSH] = "ssh",
		[CHECK_GUEST_PING] = "guest-ping",
		[CHECK_GUEST_OSINFO] = "guest-get-osinfo",
	};

	return names[k];
}

const char *check_ovmf_code(long long vars_size)
{
	if (vars_size == 128 * 1024)
		return CHECK_OVMF_DIR "/OVMF_CODE.fd";
	if (vars_size == 528 * 1024)
		return CHECK_OVMF_DIR "/OVMF_CODE_4M.fd";
	return NULL;
}

void check_report_done(struct check_report *rep)
{
	free(rep->serial);
	rep->serial = NULL;
}

static double check_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A free TCP port on 127.0.0.1 (the kernel's choice; QEMU binds it moments later). */
static int check_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -errno;
	return ntohs(a.sin_port);
}

static int check_copy_file(const char *src, const char *dst, struct diag *d)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_close_ int fd = -EBADF;
	size_t len;
	int r;

	r = read_file(src, 128u << 20, &buf, &len); /* AAVMF's store is 64 MiB */
	if (r < 0)
		return diag_fail(d, r, "%s: cannot read: %s", src, strerror(-r));
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return diag_fail(d, -errno, "%s: cannot create: %m", dst);
	r = pwrite_full(fd, buf, len, 0);
	if (r < 0)
		return diag_fail(d, r, "%s: cannot write: %s", dst, strerror(-r));
	return 0;
}

struct check_run {
	char dir[64];
	char *vars, *qga, *errlog;
	pid_t pid;
	int serial_fd;
	int port;
	double t0;
	char *serial;
	size_t serial_len;
	bool exited;
};

static void check_run_done(struct check_run *c)
{
	if (c->pid > 0) {
		(void)kill(-c->pid, SIGKILL); /* its process group: helpers it started too */
		(void)waitpid(c->pid, NULL, 0);
		c->pid = -1;
		check_child = -1;
	}
	if (c->serial_fd >= 0)
		close(c->serial_fd);
	c->serial_fd = -1;
	if (c->vars)
		(void)unlink(c->vars);
	if (c->qga)
		(void)unlink(c->qga);
	if (c->errlog)
		(void)unlink(c->errlog);
	if (c->dir[0])
		(void)rmdir(c->dir);
	memset(check_tmp_paths, 0, sizeof(check_tmp_paths));
	free(c->vars);
	free(c->qga);
	free(c->errlog);
	free(c->serial);
}

static int check_spawn(struct check_run *c, const struct check_opts *o, const char *code,
		       const char *accel, struct diag *d)
{
	const struct check_machine *m = check_machine_get(o->arch);
	_cleanup_free_ char *drive = NULL, *netdev = NULL, *qga = NULL, *pf_code = NULL,
			    *pf_vars = NULL;
	const char *argv[48];
	size_t n = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pipefd[2], r;
	pid_t pid;

	drive = xasprintf("file=%s,format=%s,if=none,id=disk0,snapshot=on", o->image, o->format);
	netdev = xasprintf("user,id=net0,hostfwd=tcp:127.0.0.1:%d-:22", c->port);
	qga = xasprintf("socket,id=qga0,path=%s,server=on,wait=off", c->qga);
	argv[n++] = o->qemu ? o->qemu : m->qemu;
	argv[n++] = "-accel";
	argv[n++] = accel;
	argv[n++] = "-machine";
	argv[n++] = m->machine;
	if (m->cpu) {
		argv[n++] = "-cpu";
		argv[n++] = strcmp(accel, "kvm") == 0 ? "host" : m->cpu;
	}
	argv[n++] = "-m";
	argv[n++] = CHECK_MEM;
	argv[n++] = "-nodefaults";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-no-reboot";
	argv[n++] = "-serial";
	argv[n++] = "stdio";
	if (o->firmware == CHECK_FIRMWARE_UEFI) {
		pf_code = xasprintf("if=pflash,format=raw,unit=0,readonly=on,file=%s", code);
		pf_vars = xasprintf("if=pflash,format=raw,unit=1,file=%s", c->vars);
		argv[n++] = "-drive";
		argv[n++] = pf_code;
		argv[n++] = "-drive";
		argv[n++] = pf_vars;
	}
	argv[n++] = "-drive";
	argv[n++] = drive;
	argv[n++] = "-device";
	argv[n++] = "virtio-blk-pci,drive=disk0,bootindex=1";
	argv[n++] = "-netdev";
	argv[n++] = netdev;
	argv[n++] = "-device";
	argv[n++] = "virtio-net-pci,netdev=net0";
	argv[n++] = "-chardev";
	argv[n++] = qga;
	argv[n++] = "-device";
	argv[n++] = "virtio-serial-pci";
	argv[n++] = "-device";
	argv[n++] = "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0";
	argv[n] = NULL;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return diag_fail(d, -errno, "cannot create a pipe: %m");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, c->errlog,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0); /* its own group, killed as one */
	r = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return diag_fail(d, -r, "%s: cannot start: %s (install %s)", argv[0], strerror(r),
				 m->qemu_package);
	}
	c->pid = pid;
	check_child = pid;
	c->serial_fd = pipefd[0];
	c->t0 = check_now();
	return 0;
}

/* Read what the serial console has (waiting at most ms); notices QEMU's exit (EOF). */
static void check_pump_serial(struct check_run *c, int ms)
{
	struct pollfd p = { .fd = c->serial_fd, .events = POLLIN };
	char buf[65536];
	ssize_t k;

	if (c->serial_fd < 0) {
		if (ms > 0)
			poll(NULL, 0, ms);
		return;
	}
	if (poll(&p, 1, ms) <= 0)
		return;
	k = read(c->serial_fd, buf, sizeof(buf));
	if (k <= 0) {
		close(c->serial_fd);
		c->serial_fd = -1;
		c->exited = true;
		return;
	}
	if (c->serial_len + (size_t)k > CHECK_SERIAL_MAX) {
		/* keep the newest half */
		size_t keep = CHECK_SERIAL_MAX / 2;

		memmove(c->serial, c->serial + c->serial_len - keep, keep);
		c->serial_len = keep;
	}
	c->serial = xrealloc(c->serial, c->serial_len + (size_t)k + 1);
	for (ssize_t i = 0; i < k; i++)
		if (buf[i] != '\0')
			c->serial[c->serial_len++] = buf[i];
	c->serial[c->serial_len] = '\0';
}

static void check_set(struct check_report *rep, struct check_run *c, enum check_kind k,
		      bool pass, const char *fmt, const char *arg)
{
	rep->r[k].run = true;
	rep->r[k].pass = pass;
	rep->r[k].seconds = check_now() - c->t0;
	snprintf(rep->r[k].detail, sizeof(rep->r[k].detail), fmt, arg);
}

/* Wait until fd is readable or ms pass, reading the serial console meanwhile. */
static bool check_wait_readable(struct check_run *c, int fd, double deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = deadline - check_now();

		if (left <= 0)
			return false;
		if (poll(&p, 1, 100) > 0)
			return true;
		check_pump_serial(c, 0);
	}
}

/* The forwarded port answers with an SSH banner. QEMU's user networking accepts a connection
 * before the guest listens (then closes it): retry until the deadline. */
static void check_ssh(struct check_run *c, struct check_report *rep, double deadline)
{
	while (check_now() < deadline && !c->exited) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons((uint16_t)c->port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char buf[256] = "";
		ssize_t k = 0;

		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		    check_wait_readable(c, fd, check_now() + 10 < deadline ? check_now() + 10
									 : deadline))
			k = read(fd, buf, sizeof(buf) - 1);
		if (k > 0) {
			buf[k] = '\0';
			if (strncmp(buf, "SSH-2.0-", 8) == 0) {
				buf[strcspn(buf, "\r\n")] = '\0';
				check_set(rep, c, CHECK_SSH, true, "%s", buf);
				return;
			}
		}
		check_pump_serial(c, 1000);
	}
	check_set(rep, c, CHECK_SSH, false, "%s", c->exited ? "QEMU exited before the port "
			  "answered SSH-2.0-" : "no SSH-2.0- banner before the timeout");
}

/* Send one command, read replies until one holds "return" (or the deadline). */
static bool check_qga_cmd(struct check_run *c, int fd, const char *cmd, const char *want,
			  double deadline, char *out, size_t out_size)
{
	char buf[8192];
	size_t len = 0;
	double resend = 0;

	while (check_now() < deadline && !c->exited) {
		ssize_t k;

		if (check_now() >= resend) {
			if (write(fd, cmd, strlen(cmd)) < 0)
				return false;
			resend = check_now() + 5;
		}
		if (!check_wait_readable(c, fd, check_now() + 1 < deadline ? check_now() + 1
									  : deadline))
			continue;
		k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k <= 0)
			return false;
		len += (size_t)k;
		buf[len] = '\0';
		if (strstr(buf, "\"return\"") && strstr(buf, want)) {
			snprintf(out, out_size, "%.*s", (int)strcspn(buf, "\n"), buf);
			return true;
		}
		if (len > sizeof(buf) / 2 || strchr(buf, '\n'))
			len = 0; /* a reply to something else: drop it */
	}
	return false;
}

static void check_guest_agent(struct check_run *c, struct check_report *rep, double deadline)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char out[200];

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", c->qga);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		check_set(rep, c, CHECK_GUEST_PING, false, "cannot connect to %s", c->qga);
		check_set(rep, c, CHECK_GUEST_OSINFO, false, "%s", "no guest agent");
		return;
	}
	if (!check_qga_cmd(c, fd, "{\"execute\":\"guest-ping\"}\n", "\"return\"", deadline, out,
			   sizeof(out))) {
		check_set(rep, c, CHECK_GUEST_PING, false, "%s",
			  "no answer to guest-ping before the timeout");
		check_set(rep, c, CHECK_GUEST_OSINFO, false, "%s", "no guest agent");
		return;
	}
	check_set(rep, c, CHECK_GUEST_PING, true, "%s", out);
	if (check_qga_cmd(c, fd, "{\"execute\":\"guest-get-osinfo\"}\n", "\"kernel-release\"",
			  deadline, out, sizeof(out)))
		check_set(rep, c, CHECK_GUEST_OSINFO, true, "%s", out);
	else
		check_set(rep, c, CHECK_GUEST_OSINFO, false, "%s",
			  "no answer to guest-get-osinfo before the timeout");
}

static int check_prepare(struct check_run *c, const struct check_opts *o, const char **code,
			 struct diag *d)
{
	const struct check_machine *m = check_machine_get(o->arch);
	const char *vars = o->efi_vars;
	_cleanup_free_ char *found = NULL;
	struct stat st;
	int r;

	snprintf(c->dir, sizeof(c->dir), "%s", "/tmp/mkdiskimage-boot-test.XXXXXX");
	if (!mkdtemp(c->dir)) {
		c->dir[0] = '\0';
		return diag_fail(d, -errno, "cannot create a temp directory: %m");
	}
	c->qga = xasprintf("%s/qga.sock", c->dir);
	c->errlog = xasprintf("%s/qemu.err", c->dir);
	snprintf(check_tmp_paths[0], sizeof(check_tmp_paths[0]), "%s", c->qga);
	snprintf(check_tmp_paths[1], sizeof(check_tmp_paths[1]), "%s", c->errlog);
	snprintf(check_tmp_paths[3], sizeof(check_tmp_paths[3]), "%s", c->dir);
	r = check_free_port();
	if (r < 0)
		return diag_fail(d, r, "no free TCP port on 127.0.0.1: %s", strerror(-r));
	c->port = r;
	if (o->firmware != CHECK_FIRMWARE_UEFI)
		return 0;
	if (!vars) { /* the template build --touch-efi-vars takes by default */
		r = boot_find(BOOT_FIND_EFI_VARS, m->arch,
			      &(struct boot_find_where){ .flag = "--efi-vars F" }, d,
			      &found);
		if (r < 0)
			return r;
		vars = found;
	}
	if (stat(vars, &st) < 0)
		return diag_fail(d, -errno, "%s: %m (install %s, or give --efi-vars F)", vars,
				 m->uefi_package);
	*code = check_machine_uefi_code(o->arch, (long long)st.st_size);
	if (!*code)
		return diag_fail(d, -EINVAL, "%s: %lld bytes is not an %s variable store (%s)",
				 vars, (long long)st.st_size,
				 o->arch == CHECK_ARCH_AARCH64 ? "AAVMF" : "OVMF",
				 o->arch == CHECK_ARCH_AARCH64 ? "64 MiB" : "128 KiB or 528 KiB");
	if (access(*code, R_OK) < 0)
		return diag_fail(d, -errno, "%s: %m (install %s)", *code, m->uefi_package);
	c->vars = xasprintf("%s/vars.fd", c->dir);
	snprintf(check_tmp_paths[2], sizeof(check_tmp_paths[2]), "%s", c->vars);
	return check_copy_file(vars, c->vars, d);
}

/* QEMU's last stderr line, for a run that ended early. */
static void check_qemu_error(const struct check_run *c, char *out, size_t size)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	char *line;

	out[0] = '\0';
	if (read_file(c->errlog, 1u << 20, &buf, &len) < 0 || len == 0)
		return;
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	line = strrchr((char *)buf, '\n');
	snprintf(out, size, "%s", line ? line + 1 : (char *)buf);
}

/* The image's format and architecture when not given. A partition table that cannot be read
 * boots as x86-64: the firmware judges the image, not this guess. */
static int check_resolve(struct check_opts *o, struct diag *d)
{
	struct image_input *in = NULL;
	struct diag ignored = { 0 };
	int r;

	if (o->format && o->arch != CHECK_ARCH_AUTO)
		return 0;
	r = image_reader_open(o->image, o->format, d, &in);
	if (r < 0)
		return r;
	if (!o->format)
		o->format = in->reader->ops->name; /* a static string */
	if (o->arch == CHECK_ARCH_AUTO && check_arch_detect(in, &ignored, &o->arch) < 0)
		o->arch = CHECK_ARCH_X86_64;
	image_input_free(in);
	if (o->firmware == CHECK_FIRMWARE_BIOS && !check_machine_get(o->arch)->has_bios)
		return diag_fail(d, -EINVAL, "%s: an %s image boots only with --firmware uefi",
				 o->image, check_arch_name(o->arch));
	return 0;
}

/* KVM or TCG (check_accel_choose), probing KVM only when auto could pick it. */
static void check_pick_accel(const struct check_opts *o, struct check_report *rep)
{
	struct check_kvm_probe p = { .status = CHECK_KVM_UNSUPPORTED };
	bool native = check_arch_is_host(o->arch);

	if (o->accel == CHECK_ACCEL_AUTO && native) {
		check_kvm_probe(CHECK_KVM_DEV, CHECK_KVM_PROBE_MS, &p);
		rep->probe_seconds = p.seconds;
	}
	rep->accel = check_accel_choose(o->accel, check_arch_name(o->arch), native, &p,
					rep->accel_why, sizeof(rep->accel_why));
}

int check_boot(const struct check_opts *o, struct diag *d, struct check_report *ret)
{
	struct check_run c = { .pid = -1, .serial_fd = -1 };
	struct check_report rep = { 0 };
	struct check_opts oo = *o;
	struct sigaction sa = { .sa_handler = check_on_signal }, old[3];
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	const char *code = NULL;
	regex_t re;
	double deadline;
	bool matched = false;
	int r;

	r = regcomp(&re, o->expect ? o->expect : CHECK_DEFAULT_EXPECT, REG_EXTENDED | REG_NOSUB);
	if (r != 0)
		return diag_fail(d, -EINVAL, "--expect-serial %s: not a valid extended regex",
				 o->expect);
	r = check_resolve(&oo, d);
	if (r < 0) {
		regfree(&re);
		return r;
	}
	rep.arch = oo.arch;
	check_pick_accel(&oo, &rep);
	r = check_prepare(&c, &oo, &code, d);
	for (int i = 0; r >= 0 && i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	if (r >= 0)
		r = check_spawn(&c, &oo, code, rep.accel, d);
	if (r < 0) {
		regfree(&re);
		check_run_done(&c);
		return r;
	}
	deadline = c.t0 + (o->timeout_s ? o->timeout_s : CHECK_DEFAULT_TIMEOUT);

	while (!matched && check_now() < deadline && !c.exited) {
		check_pump_serial(&c, 200);
		matched = c.serial && regexec(&re, c.serial, 0, NULL, 0) == 0;
	}
	if (!matched)
		check_pump_serial(&c, 0);
	matched = matched || (c.serial && regexec(&re, c.serial, 0, NULL, 0) == 0);
	if (matched)
		check_set(&rep, &c, CHECK_SERIAL, true, "matched /%s/",
			  o->expect ? o->expect : CHECK_DEFAULT_EXPECT);
	else {
		char err[200];

		check_qemu_error(&c, err, sizeof(err));
		if (c.exited && err[0])
			check_set(&rep, &c, CHECK_SERIAL, false, "QEMU exited: %s", err);
		else
			check_set(&rep, &c, CHECK_SERIAL, false, "%s",
				  c.exited ? "QEMU exited without a match"
					   : "no match before the timeout");
	}
	if (o->ssh)
		check_ssh(&c, &rep, deadline);
	if (o->guest_agent)
		check_guest_agent(&c, &rep, deadline);
	rep.total_seconds = check_now() - c.t0;
	regfree(&re);
	rep.serial = c.serial ? xstrdup(c.serial) : xstrdup("");
	check_run_done(&c);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	*ret = rep;
	return 0;
}
