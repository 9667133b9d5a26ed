/* The machine table, the UEFI code for a variable store, and the architecture of a table. */
#include "check/check-internal.h"

#include <stdlib.h>

#include "part/part.h"
#include "part/types.h"
#include "util/test.h"

TEST(check_arch_names)
{
	enum check_arch a;

	ASSERT_OK(check_arch_from_name("aarch64", &a));
	ASSERT_EQ(a, CHECK_ARCH_AARCH64);
	ASSERT_OK(check_arch_from_name("arm64", &a));
	ASSERT_EQ(a, CHECK_ARCH_AARCH64);
	ASSERT_OK(check_arch_from_name("x86_64", &a));
	ASSERT_EQ(a, CHECK_ARCH_X86_64);
	ASSERT_OK(check_arch_from_name("auto", &a));
	ASSERT_EQ(a, CHECK_ARCH_AUTO);
	ASSERT_ERR(check_arch_from_name("riscv64", &a), -EINVAL);
	ASSERT_STR_EQ(check_arch_name(CHECK_ARCH_X86_64), "x86-64");
}

TEST(check_machine_per_arch)
{
	const struct check_machine *m = check_machine_get(CHECK_ARCH_AARCH64);

	ASSERT_STR_EQ(m->qemu, "qemu-system-aarch64");
	ASSERT_STR_EQ(m->machine, "virt");
	ASSERT_STR_EQ(m->cpu, "cortex-a57");
	ASSERT_TRUE(!m->has_bios);
	ASSERT_STR_EQ(check_machine_uefi_code(CHECK_ARCH_AARCH64, 64ll << 20),
		      CHECK_AAVMF_DIR "/AAVMF_CODE.fd");
	ASSERT_TRUE(check_machine_uefi_code(CHECK_ARCH_AARCH64, 540672) == NULL);
	ASSERT_STR_EQ(check_machine_uefi_code(CHECK_ARCH_X86_64, 540672),
		      CHECK_OVMF_DIR "/OVMF_CODE_4M.fd");
	m = check_machine_get(CHECK_ARCH_X86_64);
	ASSERT_STR_EQ(m->qemu, "qemu-system-x86_64");
	ASSERT_TRUE(m->has_bios && m->cpu == NULL);
#if defined(__x86_64__)
	ASSERT_TRUE(check_arch_is_host(CHECK_ARCH_X86_64));
	ASSERT_TRUE(!check_arch_is_host(CHECK_ARCH_AARCH64));
#endif
}

TEST(check_arch_from_root_type)
{
	struct part_probe_entry parts[2] = { 0 };
	struct part_probe p = { .kind = PART_PROBE_GPT, .parts = parts, .n_parts = 2 };

	part_type_uuid(PART_ROLE_ESP, PART_ARCH_AARCH64, false, parts[0].type_uuid);
	part_type_uuid(PART_ROLE_ROOT, PART_ARCH_X86_64, false, parts[1].type_uuid);
	ASSERT_EQ(check_arch_of_table(&p), CHECK_ARCH_X86_64);
	part_type_uuid(PART_ROLE_ROOT, PART_ARCH_AARCH64, false, parts[1].type_uuid);
	ASSERT_EQ(check_arch_of_table(&p), CHECK_ARCH_AARCH64);
	/* the generic Linux type says nothing: x86-64 */
	part_type_uuid(PART_ROLE_ROOT, PART_ARCH_AARCH64, true, parts[1].type_uuid);
	ASSERT_EQ(check_arch_of_table(&p), CHECK_ARCH_X86_64);
	p.n_parts = 0;
	ASSERT_EQ(check_arch_of_table(&p), CHECK_ARCH_X86_64);
}
