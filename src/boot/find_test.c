#include "boot/find.h"

#include "boot/find-test.h"
#include "boot/grub.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/test.h"

TEST(places_by_arch)
{
	const char *const *p;

	p = boot_find_places(BOOT_FIND_SDBOOT, PART_ARCH_X86_64);
	ASSERT_STR_EQ(p[0], "/usr/lib/systemd/boot/efi/systemd-bootx64.efi");
	p = boot_find_places(BOOT_FIND_SDBOOT, PART_ARCH_AARCH64);
	ASSERT_STR_EQ(p[0], "/usr/lib/systemd/boot/efi/systemd-bootaa64.efi");
	ASSERT_STR_EQ(p[1], "/run/current-system/sw/lib/systemd/boot/efi/systemd-bootaa64.efi");
	ASSERT_TRUE(p[2] == NULL);
	ASSERT_STR_EQ(boot_find_places(BOOT_FIND_GRUB_BIOS, PART_ARCH_X86)[0],
		      "/usr/lib/grub/i386-pc");
	ASSERT_STR_EQ(boot_find_places(BOOT_FIND_GRUB_EFI, PART_ARCH_X86_64)[0],
		      "/usr/lib/grub/x86_64-efi");
	ASSERT_STR_EQ(boot_find_places(BOOT_FIND_GRUB_EFI, PART_ARCH_AARCH64)[0],
		      "/usr/lib/grub/arm64-efi");
	ASSERT_STR_EQ(boot_find_places(BOOT_FIND_EFI_VARS, PART_ARCH_X86_64)[0],
		      "/usr/share/OVMF/OVMF_VARS_4M.fd");
	ASSERT_STR_EQ(boot_find_places(BOOT_FIND_EFI_VARS, PART_ARCH_AARCH64)[0],
		      "/usr/share/AAVMF/AAVMF_VARS.fd");
	ASSERT_TRUE(boot_find_places(BOOT_FIND_GRUB_BIOS, PART_ARCH_AARCH64) == NULL);
	ASSERT_TRUE(boot_find_places(BOOT_FIND_SDBOOT, PART_ARCH_RISCV64) == NULL);
}

TEST(efi_vars_first_present_wins_and_error_lists_all)
{
	char *root = fake_root_new();
	struct boot_find_where w = { .root = root };
	struct diag d = { 0 };
	_cleanup_free_ char *p = NULL, *want = NULL;

	ASSERT_TRUE(root != NULL);
	ASSERT_ERR(boot_find(BOOT_FIND_EFI_VARS, PART_ARCH_X86_64, &w, &d, &p), -ENOENT);
	want = xasprintf("no firmware variable store template found (tried "
			 "%1$s/usr/share/OVMF/OVMF_VARS_4M.fd, %1$s/usr/share/OVMF/OVMF_VARS.fd, "
			 "%1$s/usr/share/edk2/ovmf/OVMF_VARS.fd, "
			 "%1$s/usr/share/edk2/x64/OVMF_VARS.4m.fd, "
			 "%1$s/usr/share/qemu/edk2-i386-vars.fd; install ovmf or give "
			 "--efi-vars-template F)", root);
	ASSERT_STR_EQ(d.msg, want);
	ASSERT_TRUE(!boot_find_present(BOOT_FIND_EFI_VARS, PART_ARCH_X86_64, &w));
	/* the later place alone, then both: the first in the list wins */
	ASSERT_OK(fake_file(root, "/usr/share/OVMF/OVMF_VARS.fd", 0644));
	ASSERT_OK(boot_find(BOOT_FIND_EFI_VARS, PART_ARCH_X86_64, &w, &d, &p));
	free(want);
	want = xasprintf("%s/usr/share/OVMF/OVMF_VARS.fd", root);
	ASSERT_STR_EQ(p, want);
	free(p);
	ASSERT_OK(fake_file(root, "/usr/share/OVMF/OVMF_VARS_4M.fd", 0644));
	ASSERT_OK(boot_find(BOOT_FIND_EFI_VARS, PART_ARCH_X86_64, &w, &d, &p));
	free(want);
	want = xasprintf("%s/usr/share/OVMF/OVMF_VARS_4M.fd", root);
	ASSERT_STR_EQ(p, want);
	free(p);
	p = NULL;
	/* by arch: the OVMF files are not AAVMF's */
	ASSERT_ERR(boot_find(BOOT_FIND_EFI_VARS, PART_ARCH_AARCH64, &w, &d, &p), -ENOENT);
	ASSERT_TRUE(strstr(d.msg, "install qemu-efi-aarch64 or give --efi-vars-template F") !=
		    NULL);
	w.flag = "--efi-vars F"; /* boot-test's */
	ASSERT_ERR(boot_find(BOOT_FIND_EFI_VARS, PART_ARCH_AARCH64, &w, &d, &p), -ENOENT);
	ASSERT_TRUE(strstr(d.msg, "install qemu-efi-aarch64 or give --efi-vars F)") != NULL);
	w.flag = NULL;
	ASSERT_OK(fake_file(root, "/usr/share/qemu/edk2-arm-vars.fd", 0644));
	ASSERT_OK(boot_find(BOOT_FIND_EFI_VARS, PART_ARCH_AARCH64, &w, &d, &p));
	ASSERT_TRUE(strstr(p, "/usr/share/qemu/edk2-arm-vars.fd") != NULL);
	/* no places for the arch */
	ASSERT_ERR(boot_find(BOOT_FIND_EFI_VARS, PART_ARCH_RISCV64, &w, &d, &p), -ENOTSUP);
	ASSERT_STR_EQ(d.msg, "efiVariables: no default place for this arch; give "
			     "--efi-vars-template F");
	fake_root_free(root);
}

TEST(sdboot_the_systems_own_first)
{
	char *root = fake_root_new(), *sys = fake_root_new();
	struct boot_find_where w = { .root = root, .system = sys };
	struct diag d = { 0 };
	_cleanup_free_ char *p = NULL, *want = NULL;

	ASSERT_TRUE(root && sys);
	ASSERT_ERR(boot_find(BOOT_FIND_SDBOOT, PART_ARCH_X86_64, &w, &d, &p), -ENOENT);
	want = xasprintf("systemd-boot: no systemd-bootx64.efi found (tried "
			 "%1$s/systemd/lib/systemd/boot/efi/systemd-bootx64.efi, "
			 "%2$s/usr/lib/systemd/boot/efi/systemd-bootx64.efi, "
			 "%2$s/run/current-system/sw/lib/systemd/boot/efi/systemd-bootx64.efi; "
			 "install systemd-boot-efi or give --systemd-boot-efi F)", sys, root);
	ASSERT_STR_EQ(d.msg, want);
	/* a NixOS host's profile */
	ASSERT_OK(fake_file(root, "/run/current-system/sw/lib/systemd/boot/efi/"
				  "systemd-bootaa64.efi", 0644));
	ASSERT_ERR(boot_find(BOOT_FIND_SDBOOT, PART_ARCH_X86_64, &w, &d, &p), -ENOENT);
	ASSERT_OK(boot_find(BOOT_FIND_SDBOOT, PART_ARCH_AARCH64, &w, &d, &p));
	ASSERT_TRUE(strstr(p, "/run/current-system/sw/") != NULL);
	free(p);
	/* Debian's before it, the system's before both */
	ASSERT_OK(fake_file(root, "/usr/lib/systemd/boot/efi/systemd-bootaa64.efi", 0644));
	ASSERT_OK(boot_find(BOOT_FIND_SDBOOT, PART_ARCH_AARCH64, &w, &d, &p));
	ASSERT_TRUE(strstr(p, "/usr/lib/systemd/") != NULL);
	free(p);
	ASSERT_OK(fake_file(sys, "/systemd/lib/systemd/boot/efi/systemd-bootaa64.efi", 0644));
	ASSERT_OK(boot_find(BOOT_FIND_SDBOOT, PART_ARCH_AARCH64, &w, &d, &p));
	free(want);
	want = xasprintf("%s/systemd/lib/systemd/boot/efi/systemd-bootaa64.efi", sys);
	ASSERT_STR_EQ(p, want);
	/* a directory by that name is not the binary */
	free(p);
	p = NULL;
	ASSERT_OK(fake_file(root, "/usr/lib/systemd/boot/efi/systemd-bootx64.efi/x", 0644));
	ASSERT_ERR(boot_find(BOOT_FIND_SDBOOT, PART_ARCH_X86_64, &w, &d, &p), -ENOENT);
	fake_root_free(root);
	fake_root_free(sys);
}

TEST(grub_needs_its_image_and_grub_mkimage)
{
	char *root = fake_root_new();
	struct boot_find_where w = { .root = root };
	struct diag d = { 0 };
	_cleanup_free_ char *p = NULL, *want = NULL;

	ASSERT_TRUE(root != NULL);
	ASSERT_ERR(boot_find(BOOT_FIND_GRUB_BIOS, PART_ARCH_X86_64, &w, &d, &p), -ENOENT);
	want = xasprintf("bootloader grub: no GRUB i386-pc modules found (tried "
			 "%1$s/usr/lib/grub/i386-pc, %1$s/run/current-system/sw/lib/grub/i386-pc; "
			 "install grub-pc-bin or give --grub-dir DIR)", root);
	ASSERT_STR_EQ(d.msg, want);
	/* boot.img without grub-mkimage: said so */
	ASSERT_OK(fake_file(root, "/usr/lib/grub/i386-pc/boot.img", 0644));
	ASSERT_ERR(boot_find(BOOT_FIND_GRUB_BIOS, PART_ARCH_X86_64, &w, &d, &p), -ENOENT);
	free(want);
	want = xasprintf("(tried %1$s/usr/lib/grub/i386-pc (no "
			 "%1$s/usr/lib/grub/i386-pc/../../../bin/grub-mkimage), ", root);
	ASSERT_TRUE(strstr(d.msg, want) != NULL);
	/* not executable: still not there */
	ASSERT_OK(fake_file(root, "/usr/bin/grub-mkimage", 0644));
	ASSERT_TRUE(!boot_find_present(BOOT_FIND_GRUB_BIOS, PART_ARCH_X86_64, &w));
	free(want);
	want = xasprintf("%s/usr/bin/grub-mkimage", root);
	ASSERT_TRUE(chmod(want, 0755) == 0);
	ASSERT_OK(boot_find(BOOT_FIND_GRUB_BIOS, PART_ARCH_X86, &w, &d, &p));
	free(want);
	want = xasprintf("%s/usr/lib/grub/i386-pc", root);
	ASSERT_STR_EQ(p, want);
	free(p);
	p = NULL;
	/* x86_64-efi needs kernel.img; the same grub-mkimage */
	ASSERT_ERR(boot_find(BOOT_FIND_GRUB_EFI, PART_ARCH_X86_64, &w, &d, &p), -ENOENT);
	ASSERT_TRUE(strstr(d.msg, "no GRUB x86_64-efi modules found") != NULL);
	ASSERT_TRUE(strstr(d.msg, "install grub-efi-amd64-bin or give --grub-efi-dir DIR)") !=
		    NULL);
	ASSERT_OK(fake_file(root, "/usr/lib/grub/x86_64-efi/kernel.img", 0644));
	ASSERT_OK(boot_find(BOOT_FIND_GRUB_EFI, PART_ARCH_X86_64, &w, &d, &p));
	ASSERT_TRUE(strstr(p, "/usr/lib/grub/x86_64-efi") != NULL);
	fake_root_free(root);
}

/* Fedora names it grub2-mkimage; grub-mkimage wins when both are there. */
TEST(grub2_mkimage_beside_the_modules)
{
	char *root = fake_root_new();
	struct boot_find_where w = { .root = root };
	_cleanup_free_ char *dir = NULL, *mk = NULL, *want = NULL;

	ASSERT_TRUE(root != NULL);
	ASSERT_OK(fake_file(root, "/usr/lib/grub/i386-pc/boot.img", 0644));
	ASSERT_OK(fake_file(root, "/usr/bin/grub2-mkimage", 0755));
	ASSERT_OK(boot_find(BOOT_FIND_GRUB_BIOS, PART_ARCH_X86_64, &w, NULL, &dir));
	mk = grub_mkimage_path(dir);
	want = xasprintf("%s/usr/lib/grub/i386-pc/../../../bin/grub2-mkimage", root);
	ASSERT_STR_EQ(mk, want);
	free(mk);
	free(want);
	ASSERT_OK(fake_file(root, "/usr/bin/grub-mkimage", 0755));
	mk = grub_mkimage_path(dir);
	want = xasprintf("%s/usr/lib/grub/i386-pc/../../../bin/grub-mkimage", root);
	ASSERT_STR_EQ(mk, want);
	fake_root_free(root);
}
