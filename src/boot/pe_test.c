#include "boot/pe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/endian.h"
#include "util/test.h"

static size_t fake_pe(uint8_t *buf, uint32_t lfanew, uint16_t machine)
{
	memset(buf, 0, 512);
	memcpy(buf, "MZ", 2);
	le32_put(buf + 0x3c, lfanew);
	memcpy(buf + lfanew, "PE\0\0", 4);
	le16_put(buf + lfanew + 4, machine);
	return 512;
}

TEST(machine_from_headers)
{
	uint8_t buf[512];
	uint16_t m = 0;

	ASSERT_OK(pe_machine(buf, fake_pe(buf, 0x80, 0x8664), &m));
	ASSERT_EQ(m, PE_MACHINE_X86_64);
	ASSERT_OK(pe_machine(buf, fake_pe(buf, 0x40, 0xaa64), &m));
	ASSERT_EQ(m, PE_MACHINE_AARCH64);
	ASSERT_STR_EQ(pe_machine_name(m), "aarch64");
	ASSERT_STR_EQ(pe_machine_name(0x1234), "unknown");
}

TEST(hostile_headers)
{
	uint8_t buf[512];
	uint16_t m;

	fake_pe(buf, 0x80, 0x8664);
	buf[0] = 'X';
	ASSERT_ERR(pe_machine(buf, sizeof(buf), &m), -EBADMSG);
	fake_pe(buf, 0x80, 0x8664);
	buf[0x81] = 'X'; /* signature */
	ASSERT_ERR(pe_machine(buf, sizeof(buf), &m), -EBADMSG);
	fake_pe(buf, 0x80, 0x8664);
	le32_put(buf + 0x3c, 0xfffffff0); /* past the end: no overflow */
	ASSERT_ERR(pe_machine(buf, sizeof(buf), &m), -EBADMSG);
	le32_put(buf + 0x3c, 510); /* signature cut off */
	ASSERT_ERR(pe_machine(buf, sizeof(buf), &m), -EBADMSG);
	ASSERT_ERR(pe_machine(buf, 10, &m), -EBADMSG);
}

/* Debian's own binary (systemd-boot-efi, installed by scripts/install-deps.sh). The arm64 one
 * is fetched only by the integration tests: boot-aarch64.sh checks that the build reads it as
 * aarch64 (and refuses it for an x86-64 image). */
TEST(real_systemd_boot_binaries)
{
	static const struct {
		const char *path;
		uint16_t machine;
	} bins[] = {
		{ "/usr/lib/systemd/boot/efi/systemd-bootx64.efi", PE_MACHINE_X86_64 },
	};
	struct diag d = { 0 };

	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		uint16_t m = 0;

		if (access(bins[i].path, R_OK) != 0) {
			test_skip("%s missing", bins[i].path);
			continue;
		}
		ASSERT_OK(pe_file_machine(bins[i].path, &d, &m));
		ASSERT_EQ(m, bins[i].machine);
	}
	ASSERT_ERR(pe_file_machine("/etc/hostname", &d, &(uint16_t){ 0 }), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "/etc/hostname: not an EFI") != NULL);
}

TEST(pe_file_machine_refuses_a_fifo_without_blocking)
{
	char dir[] = "/tmp/pe_test.XXXXXX", path[64];
	struct diag d = { 0 };

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/loader.efi", dir);
	ASSERT_OK(mkfifo(path, 0600));
	ASSERT_ERR(pe_file_machine(path, &d, &(uint16_t){ 0 }), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "not a regular file") != NULL);
	(void) unlink(path);
	(void) rmdir(dir);
}
