/* The accelerator decision from injected probe results, and the probe's time box with
 * stand-in guests (one answers, one never does, one dies). */
#include "check/check-internal.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/test.h"

static const char *choose(enum check_accel want, bool native, struct check_kvm_probe p,
			  char *why, size_t size)
{
	p.dev = CHECK_KVM_DEV;
	p.timeout_ms = CHECK_KVM_PROBE_MS;
	return check_accel_choose(want, native ? "x86-64" : "aarch64", native, &p, why, size);
}

TEST(accel_explicit_choice_ignores_the_probe)
{
	struct check_kvm_probe ok = { .status = CHECK_KVM_OK };
	struct check_kvm_probe hung = { .status = CHECK_KVM_TIMEOUT };
	char why[160];

	ASSERT_STR_EQ(choose(CHECK_ACCEL_TCG, true, ok, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "--accel tcg");
	ASSERT_STR_EQ(choose(CHECK_ACCEL_KVM, true, hung, why, sizeof(why)), "kvm");
	ASSERT_STR_EQ(why, "--accel kvm");
	ASSERT_STR_EQ(choose(CHECK_ACCEL_KVM, false, hung, why, sizeof(why)), "kvm");
}

TEST(accel_auto_follows_the_probe)
{
	struct check_kvm_probe p = { .status = CHECK_KVM_OK, .seconds = 0.0123 };
	char why[160];

	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why)), "kvm");
	ASSERT_STR_EQ(why, "KVM probe ran a guest to hlt in 0.01 s");

	p = (struct check_kvm_probe){ .status = CHECK_KVM_TIMEOUT };
	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "KVM probe timed out after 2 s");

	p = (struct check_kvm_probe){ .status = CHECK_KVM_FAILED, .step = CHECK_KVM_STEP_OPEN,
				      .err = ENOENT };
	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "/dev/kvm: No such file or directory");

	p = (struct check_kvm_probe){ .status = CHECK_KVM_FAILED, .step = CHECK_KVM_STEP_OPEN,
				      .err = EACCES };
	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "/dev/kvm: Permission denied");

	p = (struct check_kvm_probe){ .status = CHECK_KVM_FAILED,
				      .step = CHECK_KVM_STEP_CREATE_VM, .err = EINVAL };
	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "KVM probe: KVM_CREATE_VM failed: Invalid argument");

	p = (struct check_kvm_probe){ .status = CHECK_KVM_API, .value = 11 };
	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "/dev/kvm: KVM API version 11, not 12");

	/* what this project's nested host answers: an emulation failure at fwait */
	p = (struct check_kvm_probe){ .status = CHECK_KVM_EXIT, .value = 17, .value2 = 1 };
	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "KVM probe's guest stopped with KVM_EXIT_INTERNAL_ERROR (emulation "
			   "failure), not hlt");
	p = (struct check_kvm_probe){ .status = CHECK_KVM_EXIT, .value = 17, .value2 = 3 };
	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "KVM probe's guest stopped with KVM_EXIT_INTERNAL_ERROR (suberror 3), "
			   "not hlt");
	p = (struct check_kvm_probe){ .status = CHECK_KVM_EXIT, .value = 8 };
	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "KVM probe's guest stopped with KVM_EXIT_SHUTDOWN, not hlt");
	p = (struct check_kvm_probe){ .status = CHECK_KVM_EXIT, .value = 4242 };
	choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why));
	ASSERT_STR_EQ(why, "KVM probe's guest stopped with exit reason 4242, not hlt");

	p = (struct check_kvm_probe){ .status = CHECK_KVM_DIED, .value = SIGSEGV };
	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, true, p, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "KVM probe died of signal 11");
}

TEST(accel_auto_foreign_guest_is_tcg_even_when_kvm_works)
{
	struct check_kvm_probe ok = { .status = CHECK_KVM_OK };
	char why[160];

	ASSERT_STR_EQ(choose(CHECK_ACCEL_AUTO, false, ok, why, sizeof(why)), "tcg");
	ASSERT_STR_EQ(why, "an aarch64 guest: KVM runs only the host's architecture");
}

static void guest_answers(const char *dev, struct check_kvm_probe *ret)
{
	ret->status = CHECK_KVM_EXIT;
	ret->value = 42;
}

static void guest_hangs(const char *dev, struct check_kvm_probe *ret)
{
	for (;;)
		pause();
}

static void guest_dies(const char *dev, struct check_kvm_probe *ret)
{
	raise(SIGKILL);
}

TEST(kvm_probe_child_answer_comes_back)
{
	struct check_kvm_probe p;

	check_kvm_probe_run(guest_answers, "/dev/null", 60000, &p);
	ASSERT_EQ(p.status, CHECK_KVM_EXIT);
	ASSERT_EQ(p.value, 42);
	ASSERT_STR_EQ(p.dev, "/dev/null");
}

TEST(kvm_probe_hung_child_times_out)
{
	struct check_kvm_probe p;
	char why[160];

	check_kvm_probe_run(guest_hangs, CHECK_KVM_DEV, 100, &p);
	ASSERT_EQ(p.status, CHECK_KVM_TIMEOUT);
	check_kvm_describe(&p, why, sizeof(why));
	ASSERT_STR_EQ(why, "KVM probe timed out after 0.1 s");
	/* the killed child was reaped: no child is left */
	ASSERT_TRUE(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
}

TEST(kvm_probe_dead_child)
{
	struct check_kvm_probe p;

	check_kvm_probe_run(guest_dies, CHECK_KVM_DEV, 60000, &p);
	ASSERT_EQ(p.status, CHECK_KVM_DIED);
	ASSERT_EQ(p.value, SIGKILL);
}

TEST(kvm_probe_missing_device)
{
	struct check_kvm_probe p;
	char why[160];

	check_kvm_probe("/nonexistent/kvm", 60000, &p);
#if defined(__x86_64__) || defined(__i386__)
	ASSERT_EQ(p.status, CHECK_KVM_FAILED);
	ASSERT_EQ(p.step, CHECK_KVM_STEP_OPEN);
	check_kvm_describe(&p, why, sizeof(why));
	ASSERT_STR_EQ(why, "/nonexistent/kvm: No such file or directory");
#else
	ASSERT_EQ(p.status, CHECK_KVM_UNSUPPORTED);
	(void)why;
#endif
}
