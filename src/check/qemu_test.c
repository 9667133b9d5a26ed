/* check_boot with a stand-in for QEMU (a shell script): the serial pipe, the regex, the
 * timeout and the kill on every path, without booting anything. */
#include "check/check.h"

#include <signal.h>
#include <stdlib.h>

#include "tree/tree-test.h"
#include "util/diag.h"
#include "util/test.h"

TEST(check_ovmf_code_by_vars_size)
{
	ASSERT_STR_EQ(check_ovmf_code(131072), CHECK_OVMF_DIR "/OVMF_CODE.fd");
	ASSERT_STR_EQ(check_ovmf_code(540672), CHECK_OVMF_DIR "/OVMF_CODE_4M.fd");
	ASSERT_TRUE(check_ovmf_code(1000) == NULL);
	ASSERT_STR_EQ(check_name(CHECK_GUEST_OSINFO), "guest-get-osinfo");
}

static int run_fake_arch(const char *script, const char *expect, unsigned timeout, bool ssh,
			 enum check_arch arch, struct check_report *rep)
{
	char *dir = tt_mkdtemp(), *qemu = tt_path("%s/qemu", dir), *img = tt_path("%s/d.img", dir);
	struct check_opts o = { .image = img, .firmware = CHECK_FIRMWARE_BIOS, .expect = expect,
				.timeout_s = timeout, .ssh = ssh, .qemu = qemu,
				.accel = CHECK_ACCEL_TCG, .arch = arch };
	struct diag d = { 0 };
	int r;

	tt_write(qemu, script, 0755);
	tt_write(img, "", 0644);
	r = check_boot(&o, &d, rep);
	tt_rm_rf(dir); /* frees it */
	free(qemu);
	free(img);
	return r;
}

static int run_fake(const char *script, const char *expect, unsigned timeout, bool ssh,
		    struct check_report *rep)
{
	return run_fake_arch(script, expect, timeout, ssh, CHECK_ARCH_AUTO, rep);
}

TEST(check_serial_match)
{
	struct check_report rep;

	ASSERT_OK(run_fake("#!/bin/sh\nprintf 'booting\\nnixos login: '\nsleep 60\n", NULL, 30,
			   false, &rep));
	ASSERT_TRUE(rep.r[CHECK_SERIAL].run && rep.r[CHECK_SERIAL].pass);
	ASSERT_TRUE(!rep.r[CHECK_SSH].run);
	ASSERT_TRUE(strstr(rep.serial, "nixos login: ") != NULL);
	/* an empty image has no aarch64 root partition: x86-64 */
	ASSERT_EQ(rep.arch, CHECK_ARCH_X86_64);
	ASSERT_STR_EQ(rep.accel, "tcg");
	ASSERT_STR_EQ(rep.accel_why, "--accel tcg");
	check_report_done(&rep);
}

TEST(check_serial_exit_and_ssh)
{
	struct check_report rep;

	ASSERT_OK(run_fake("#!/bin/sh\necho 'MKDISKIMAGE-BOOT-OK x'\n", "BOOT-OK [a-z]+", 30,
			   true, &rep));
	ASSERT_TRUE(rep.r[CHECK_SERIAL].pass);
	ASSERT_TRUE(rep.r[CHECK_SSH].run && !rep.r[CHECK_SSH].pass);
	check_report_done(&rep);

	ASSERT_OK(run_fake("#!/bin/sh\necho 'boom' >&2\nexit 1\n", NULL, 30, false, &rep));
	ASSERT_TRUE(!rep.r[CHECK_SERIAL].pass);
	ASSERT_STR_EQ(rep.r[CHECK_SERIAL].detail, "QEMU exited: boom");
	check_report_done(&rep);
}

TEST(check_timeout_kills)
{
	struct check_report rep;

	ASSERT_OK(run_fake("#!/bin/sh\nexec sleep 600\n", NULL, 1, false, &rep));
	ASSERT_TRUE(!rep.r[CHECK_SERIAL].pass);
	ASSERT_STR_EQ(rep.r[CHECK_SERIAL].detail, "no match before the timeout");
	check_report_done(&rep);
}

TEST(check_bad_regex)
{
	struct check_report rep;

	ASSERT_ERR(run_fake("#!/bin/sh\n", "a(", 1, false, &rep), -EINVAL);
}

TEST(check_aarch64_needs_uefi)
{
	struct check_report rep;

	ASSERT_ERR(run_fake_arch("#!/bin/sh\n", NULL, 1, false, CHECK_ARCH_AARCH64, &rep),
		   -EINVAL);
}
