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

/* What the watch callbacks saw. */
struct watch {
	char serial[256];
	size_t serial_len;
	unsigned waits;
	char what[64];
	size_t wait_bytes;
};

static void on_serial(void *ctx, const char *buf, size_t len)
{
	struct watch *w = ctx;

	if (len > sizeof(w->serial) - 1 - w->serial_len)
		len = sizeof(w->serial) - 1 - w->serial_len;
	memcpy(w->serial + w->serial_len, buf, len);
	w->serial_len += len;
}

static void on_wait(void *ctx, const char *what, double seconds, unsigned timeout_s,
		    size_t serial_bytes)
{
	struct watch *w = ctx;

	w->waits++;
	snprintf(w->what, sizeof(w->what), "%s", what);
	w->wait_bytes = serial_bytes;
}

static int run_fake_watch(const char *script, const char *expect, unsigned timeout, bool ssh,
			  enum check_arch arch, struct watch *w, struct diag *d,
			  struct check_report *rep)
{
	char *dir = tt_mkdtemp(), *qemu = tt_path("%s/qemu", dir), *img = tt_path("%s/d.img", dir);
	struct check_opts o = { .image = img, .firmware = CHECK_FIRMWARE_BIOS, .expect = expect,
				.timeout_s = timeout, .ssh = ssh, .qemu = qemu,
				.accel = CHECK_ACCEL_TCG, .arch = arch,
				/* the empty image has nothing to boot: watch cases check that */
				.no_boot_check = !w };
	int r;

	if (w) {
		o.on_serial = on_serial;
		o.on_wait = on_wait;
		o.heartbeat_s = 1;
		o.ctx = w;
	}
	tt_write(qemu, script, 0755);
	tt_write(img, "", 0644);
	r = check_boot(&o, d, rep);
	tt_rm_rf(dir); /* frees it */
	free(qemu);
	free(img);
	return r;
}

static int run_fake_arch(const char *script, const char *expect, unsigned timeout, bool ssh,
			 enum check_arch arch, struct check_report *rep)
{
	struct diag d = { 0 };

	return run_fake_watch(script, expect, timeout, ssh, arch, NULL, &d, rep);
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

TEST(check_refuses_nothing_to_boot_before_qemu)
{
	struct check_report rep;
	struct watch w = { 0 };
	struct diag d = { 0 };

	/* the fake QEMU would fail the test by printing; it must not run */
	ASSERT_ERR(run_fake_watch("#!/bin/sh\necho started\n", NULL, 5, false, CHECK_ARCH_AUTO, &w,
				  &d, &rep),
		   -ENOEXEC);
	ASSERT_TRUE(strstr(d.msg, "d.img: nothing to boot under BIOS: no MBR") != NULL);
	ASSERT_EQ(w.serial_len, 0u);
}

TEST(check_watch_streams_and_beats)
{
	char *dir = tt_mkdtemp(), *qemu = tt_path("%s/qemu", dir), *img = tt_path("%s/d.img", dir);
	struct watch w = { 0 };
	struct check_opts o = { .image = img, .firmware = CHECK_FIRMWARE_BIOS, .expect = "done",
				.timeout_s = 30, .qemu = qemu, .accel = CHECK_ACCEL_TCG,
				.arch = CHECK_ARCH_X86_64, .format = "raw", .no_boot_check = true,
				.on_serial = on_serial, .on_wait = on_wait, .heartbeat_s = 1,
				.ctx = &w };
	struct check_report rep;
	struct diag d = { 0 };

	tt_write(qemu, "#!/bin/sh\nprintf 'a\\0b\\n'\nsleep 2\necho done\nsleep 60\n", 0755);
	tt_write(img, "", 0644);
	ASSERT_OK(check_boot(&o, &d, &rep));
	ASSERT_TRUE(rep.r[CHECK_SERIAL].pass);
	/* every byte as it came, the NUL too (the report drops it) */
	ASSERT_EQ(w.serial_len, 9u);
	ASSERT_MEM_EQ(w.serial, "a\0b\ndone\n", 9);
	ASSERT_STR_EQ(rep.serial, "ab\ndone\n");
	/* a beat a second while the fake sleeps 2 s, before "done" (after "a\0b\n" unless the
	 * fake was slow to start) */
	ASSERT_TRUE(w.waits >= 1);
	ASSERT_STR_EQ(w.what, "/done/");
	ASSERT_TRUE(w.wait_bytes == 4 || w.wait_bytes == 0);
	check_report_done(&rep);
	tt_rm_rf(dir);
	free(qemu);
	free(img);
}
