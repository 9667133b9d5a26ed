/* Does KVM work on this host? /dev/kvm can exist and still not run a firmware: on a nested
 * host, a vcpu may run `hlt` yet stop with an emulation failure at the first x87 instruction
 * (OVMF and SeaBIOS run fninit early), and QEMU then pauses the guest for ever. So the probe
 * runs a real guest: a forked child opens the device, checks the API version, creates a VM
 * with one page of memory and a vcpu, and runs finit; fld1; hlt in real mode, expecting
 * KVM_EXIT_HLT. The parent waits at most timeout_ms for the child's answer on a pipe, then
 * SIGKILLs it and goes on: a child stuck in an ioctl is never waited for. */
#include "check/check-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#if defined(__x86_64__) || defined(__i386__)
#define CHECK_KVM_HAVE_GUEST 1
#endif

#include "util/cleanup.h"

#define CHECK_KVM_API_VERSION 12 /* stable since Linux 2.6.22 */
#define CHECK_KVM_REAP_MS 200    /* after SIGKILL: how long to wait for the child to go */

static double check_kvm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check_kvm_fail(struct check_kvm_probe *ret, enum check_kvm_step step)
{
	ret->status = CHECK_KVM_FAILED;
	ret->step = step;
	ret->err = errno;
}

#ifdef CHECK_KVM_HAVE_GUEST
/* Real mode at guest address 0: finit (fwait; fninit), fld1, hlt. */
static const unsigned char check_kvm_code[] = { 0x9b, 0xdb, 0xe3, 0xd9, 0xe8, 0xf4 };

/* vm and vcpu set up: point the vcpu at the code and run it. */
static void check_kvm_run_vcpu(int kvm, int vcpu, struct check_kvm_probe *ret)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 0x2 /* bit 1 is always set */ };
	struct kvm_run *run;
	int size, r;

	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(*run))
		return check_kvm_fail(ret, CHECK_KVM_STEP_CREATE_VCPU);
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return check_kvm_fail(ret, CHECK_KVM_STEP_CREATE_VCPU);
	/* The reset state runs at CS base 0xffff0000: move CS to 0 where the code is. */
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return check_kvm_fail(ret, CHECK_KVM_STEP_REGS);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return check_kvm_fail(ret, CHECK_KVM_STEP_REGS);
	do
		r = ioctl(vcpu, KVM_RUN, 0);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	if (r < 0)
		return check_kvm_fail(ret, CHECK_KVM_STEP_RUN);
	if (run->exit_reason == KVM_EXIT_HLT) {
		ret->status = CHECK_KVM_OK;
		return;
	}
	ret->status = CHECK_KVM_EXIT;
	ret->value = (int)run->exit_reason;
	ret->value2 = run->exit_reason == KVM_EXIT_INTERNAL_ERROR ? (int)run->internal.suberror : 0;
}

static void check_kvm_guest(const char *dev, struct check_kvm_probe *ret)
{
	_cleanup_close_ int kvm = -EBADF, vm = -EBADF, vcpu = -EBADF;
	struct kvm_userspace_memory_region region = { .slot = 0, .memory_size = 4096 };
	unsigned char *mem;
	int v;

	kvm = open(dev, O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return check_kvm_fail(ret, CHECK_KVM_STEP_OPEN);
	v = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (v < 0)
		return check_kvm_fail(ret, CHECK_KVM_STEP_API);
	if (v != CHECK_KVM_API_VERSION) {
		ret->status = CHECK_KVM_API;
		ret->value = v;
		return;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return check_kvm_fail(ret, CHECK_KVM_STEP_CREATE_VM);
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return check_kvm_fail(ret, CHECK_KVM_STEP_MEMORY);
	memcpy(mem, check_kvm_code, sizeof(check_kvm_code));
	region.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return check_kvm_fail(ret, CHECK_KVM_STEP_MEMORY);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return check_kvm_fail(ret, CHECK_KVM_STEP_CREATE_VCPU);
	check_kvm_run_vcpu(kvm, vcpu, ret);
	/* the child exits next: the kernel unmaps and closes the rest */
}
#else
static void check_kvm_guest(const char *dev, struct check_kvm_probe *ret)
{
	ret->status = CHECK_KVM_UNSUPPORTED;
}
#endif

/* Reap the child if it goes within CHECK_KVM_REAP_MS: true with its status. One stuck in the
 * kernel (in KVM_RUN, or tearing its VM down) is left behind; init reaps it when we exit. */
static bool check_kvm_reap(pid_t pid, int *ret_status)
{
	for (int i = 0; i < CHECK_KVM_REAP_MS / 10; i++) {
		if (waitpid(pid, ret_status, WNOHANG) == pid)
			return true;
		(void)poll(NULL, 0, 10);
	}
	return false;
}

/* Wait for the child's answer until the deadline: 1 when *ret was read, 0 at end of file (the
 * child died), -ETIMEDOUT. */
static int check_kvm_read(int fd, double deadline, struct check_kvm_probe *ret)
{
	struct check_kvm_probe got;
	size_t len = 0;

	while (len < sizeof(got)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = deadline - check_kvm_now();
		ssize_t k;
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -ETIMEDOUT;
		k = r < 0 ? -1 : read(fd, (char *)&got + len, sizeof(got) - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return 0;
		len += (size_t)k;
	}
	*ret = got;
	return 1;
}

void check_kvm_probe_run(check_kvm_guest_fn guest, const char *dev, unsigned timeout_ms,
			 struct check_kvm_probe *ret)
{
	struct check_kvm_probe p = { .status = CHECK_KVM_FAILED, .step = CHECK_KVM_STEP_FORK };
	double t0 = check_kvm_now();
	int pipefd[2], status = 0, r;
	bool reaped;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		p.err = errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		p.err = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		goto out;
	}
	if (pid == 0) {
		struct check_kvm_probe c = { .status = CHECK_KVM_FAILED };

		close(pipefd[0]);
		guest(dev, &c);
		(void)!write(pipefd[1], &c, sizeof(c));
		_exit(0);
	}
	close(pipefd[1]);
	r = check_kvm_read(pipefd[0], t0 + timeout_ms / 1000.0, &p);
	if (r < 0)
		(void)kill(pid, SIGKILL);
	reaped = check_kvm_reap(pid, &status);
	if (r < 0)
		p = (struct check_kvm_probe){ .status = CHECK_KVM_TIMEOUT };
	else if (r == 0)
		p = (struct check_kvm_probe){
			.status = CHECK_KVM_DIED,
			.value = reaped && WIFSIGNALED(status) ? WTERMSIG(status) : 0,
		};
	close(pipefd[0]);
out:
	p.dev = dev;
	p.timeout_ms = timeout_ms;
	p.seconds = check_kvm_now() - t0;
	*ret = p;
}

void check_kvm_probe(const char *dev, unsigned timeout_ms, struct check_kvm_probe *ret)
{
	check_kvm_probe_run(check_kvm_guest, dev, timeout_ms, ret);
}

static const char *check_kvm_exit_name(int reason)
{
	switch (reason) {
	case KVM_EXIT_IO:
		return "KVM_EXIT_IO";
	case KVM_EXIT_MMIO:
		return "KVM_EXIT_MMIO";
	case KVM_EXIT_SHUTDOWN:
		return "KVM_EXIT_SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY:
		return "KVM_EXIT_FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR:
		return "KVM_EXIT_INTERNAL_ERROR";
	}
	return NULL;
}

void check_kvm_describe(const struct check_kvm_probe *p, char *buf, size_t size)
{
	const char *exit_name;

	static const char *const steps[] = {
		[CHECK_KVM_STEP_FORK] = "fork",
		[CHECK_KVM_STEP_OPEN] = "open",
		[CHECK_KVM_STEP_API] = "KVM_GET_API_VERSION",
		[CHECK_KVM_STEP_CREATE_VM] = "KVM_CREATE_VM",
		[CHECK_KVM_STEP_MEMORY] = "KVM_SET_USER_MEMORY_REGION",
		[CHECK_KVM_STEP_CREATE_VCPU] = "KVM_CREATE_VCPU",
		[CHECK_KVM_STEP_REGS] = "KVM_SET_REGS",
		[CHECK_KVM_STEP_RUN] = "KVM_RUN",
	};

	switch (p->status) {
	case CHECK_KVM_OK:
		snprintf(buf, size, "KVM probe ran a guest to hlt in %.2f s", p->seconds);
		return;
	case CHECK_KVM_FAILED:
		if (p->step == CHECK_KVM_STEP_OPEN)
			snprintf(buf, size, "%s: %s", p->dev, strerror(p->err));
		else
			snprintf(buf, size, "KVM probe: %s failed: %s", steps[p->step],
				 strerror(p->err));
		return;
	case CHECK_KVM_API:
		snprintf(buf, size, "%s: KVM API version %d, not %d", p->dev, p->value,
			 CHECK_KVM_API_VERSION);
		return;
	case CHECK_KVM_EXIT:
		exit_name = check_kvm_exit_name(p->value);
		if (!exit_name)
			snprintf(buf, size, "KVM probe's guest stopped with exit reason %d, not hlt",
				 p->value);
		else if (p->value == KVM_EXIT_INTERNAL_ERROR &&
			 p->value2 == KVM_INTERNAL_ERROR_EMULATION)
			snprintf(buf, size, "KVM probe's guest stopped with %s (emulation failure), "
				 "not hlt", exit_name);
		else if (p->value == KVM_EXIT_INTERNAL_ERROR)
			snprintf(buf, size, "KVM probe's guest stopped with %s (suberror %d), not hlt",
				 exit_name, p->value2);
		else
			snprintf(buf, size, "KVM probe's guest stopped with %s, not hlt", exit_name);
		return;
	case CHECK_KVM_TIMEOUT:
		snprintf(buf, size, "KVM probe timed out after %g s", p->timeout_ms / 1000.0);
		return;
	case CHECK_KVM_DIED:
		if (p->value)
			snprintf(buf, size, "KVM probe died of signal %d", p->value);
		else
			snprintf(buf, size, "KVM probe exited without an answer");
		return;
	case CHECK_KVM_UNSUPPORTED:
		snprintf(buf, size, "no KVM probe for this host's architecture; --accel kvm forces it");
		return;
	}
	snprintf(buf, size, "KVM probe: status %d", (int)p->status);
}

const char *check_accel_choose(enum check_accel want, const char *guest_arch, bool guest_is_host,
			       const struct check_kvm_probe *p, char *why, size_t why_size)
{
	switch (want) {
	case CHECK_ACCEL_TCG:
		snprintf(why, why_size, "--accel tcg");
		return "tcg";
	case CHECK_ACCEL_KVM:
		snprintf(why, why_size, "--accel kvm");
		return "kvm";
	case CHECK_ACCEL_AUTO:
		break;
	}
	if (!guest_is_host) {
		snprintf(why, why_size, "an %s guest: KVM runs only the host's architecture",
			 guest_arch);
		return "tcg";
	}
	check_kvm_describe(p, why, why_size);
	return p->status == CHECK_KVM_OK ? "kvm" : "tcg";
}
