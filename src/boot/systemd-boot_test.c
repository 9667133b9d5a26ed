#include "boot/boot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/pe.h"
#include "tree/tree-test.h"
#include "tree/tree.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/test.h"

TEST(sdboot_copy_names)
{
	char *n;

	n = sdboot_copy_name("/nix/store/abc-linux-6.1.55/bzImage");
	ASSERT_STR_EQ(n, "abc-linux-6.1.55-bzImage.efi");
	free(n);
	n = sdboot_copy_name("/nix/store/def-initrd-linux-6.1.55/initrd");
	ASSERT_STR_EQ(n, "def-initrd-linux-6.1.55-initrd.efi");
	free(n);
	n = sdboot_copy_name("/nix/store/ghi-initrd");
	ASSERT_STR_EQ(n, "ghi-initrd.efi");
	free(n);
	n = sdboot_copy_name("/boot/vmlinuz-6.1.0-cloud-amd64");
	ASSERT_STR_EQ(n, "boot-vmlinuz-6.1.0-cloud-amd64.efi");
	free(n);
	n = sdboot_copy_name("/vmlinuz");
	ASSERT_STR_EQ(n, "vmlinuz.efi");
	free(n);
}

TEST(sdboot_entry_nixos)
{
	struct boot_entry e = {
		.kernel = (char *)"/nix/store/k-linux/bzImage",
		.initrd = (char *)"/nix/store/i-initrd/initrd",
		.init = (char *)"/nix/store/t-nixos-system/init",
		.params = (char *)"loglevel=4",
		.label = (char *)"NixOS 24.05 (Linux 6.1)",
	};
	char *t = sdboot_entry_text(&e, "/EFI/nixos/k-linux-bzImage.efi",
				    "/EFI/nixos/i-initrd-initrd.efi", 86400 * 365);

	ASSERT_STR_EQ(t, "title NixOS\n"
			 "sort-key nixos\n"
			 "version Generation 1 NixOS 24.05 (Linux 6.1), built on 1971-01-01\n"
			 "linux /EFI/nixos/k-linux-bzImage.efi\n"
			 "initrd /EFI/nixos/i-initrd-initrd.efi\n"
			 "options init=/nix/store/t-nixos-system/init loglevel=4\n");
	free(t);
}

TEST(sdboot_entry_kernel_only)
{
	struct boot_entry e = { .kernel = (char *)"/boot/vmlinuz-6.1", .params = (char *)"ro" };
	char *t = sdboot_entry_text(&e, "/EFI/nixos/boot-vmlinuz-6.1.efi", NULL, 0);

	ASSERT_STR_EQ(t, "title Linux\n"
			 "sort-key nixos\n"
			 "version Generation 1 vmlinuz-6.1, built on 1970-01-01\n"
			 "linux /EFI/nixos/boot-vmlinuz-6.1.efi\n"
			 "options ro\n");
	free(t);
}

TEST(sdboot_loader_conf_text)
{
	char *t = sdboot_loader_conf();

	ASSERT_STR_EQ(t, "timeout 5\ndefault nixos-generation-1.conf\neditor 0\n"
			 "console-mode keep\n");
	free(t);
}

struct sd_fixture {
	char *dir, *efi, *efi_aa64, *kernel, *initrd;
};

/* The headers of a PE image for `machine`: what sdboot_prepare checks of a loader. */
static void write_fake_pe(const char *path, uint16_t machine)
{
	uint8_t buf[256] = { 'M', 'Z' };
	FILE *f = fopen(path, "wb");

	le32_put(buf + 0x3c, 0x80);
	memcpy(buf + 0x80, "PE\0\0", 4);
	le16_put(buf + 0x84, machine);
	if (!f || fwrite(buf, sizeof(buf), 1, f) != 1 || fclose(f) != 0)
		abort();
}

static void sd_fixture_init(struct sd_fixture *f)
{
	f->dir = tt_mkdtemp();
	f->efi = tt_path("%s/systemd-bootx64.efi", f->dir);
	f->efi_aa64 = tt_path("%s/systemd-bootaa64.efi", f->dir);
	f->kernel = tt_path("%s/vmlinuz-6.1", f->dir);
	f->initrd = tt_path("%s/initrd.img", f->dir);
	write_fake_pe(f->efi, PE_MACHINE_X86_64);
	write_fake_pe(f->efi_aa64, PE_MACHINE_AARCH64);
	tt_write(f->kernel, "MZ-kernel", 0644);
	tt_write(f->initrd, "initrd", 0644);
}

static void sd_fixture_done(struct sd_fixture *f)
{
	tt_rm_rf(f->dir); /* frees it */
	free(f->efi);
	free(f->efi_aa64);
	free(f->kernel);
	free(f->initrd);
}

/* The files systemd-boot puts on the ESP and XBOOTLDR trees, as a sorted path list. */
static char *sd_files(const struct sdboot *b, bool esp)
{
	struct tree *t = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct diag d = { 0 };
	size_t len = 0;
	char *out = xstrdup("");

	if (sdboot_populate(b, esp, t, &d) < 0 || tree_mkdir_p(t, "/", 0755, 0, 0, 0, NULL) < -1 ||
	    tree_finalize(t, &fo, &d) < 0)
		abort();
	for (size_t i = 0; i < t->n_nodes; i++) {
		char *p;

		if (t->nodes[i]->type != TREE_REG)
			continue;
		p = tree_node_path(t->nodes[i]);
		out = xrealloc(out, len + strlen(p) + 2);
		len += (size_t)sprintf(out + len, "%s\n", p);
		free(p);
	}
	tree_free(t);
	return out;
}

TEST(sdboot_esp_files)
{
	struct sd_fixture f;
	struct boot_entry *e;
	struct sdboot *b = NULL;
	struct diag d = { 0 };
	char *esp, *xb;

	sd_fixture_init(&f);
	e = boot_entry_new(f.kernel, f.initrd, "console=ttyS0");
	ASSERT_OK(sdboot_prepare(&(struct sdboot_opts){ .entry = e, .efi = f.efi,
							 .arch = PART_ARCH_X86_64 },
				 &d, &b));
	esp = sd_files(b, true);
	xb = sd_files(b, false);
	{
		char *want = xasprintf("/EFI/BOOT/BOOTX64.EFI\n"
				       "/EFI/nixos/%s-initrd.img.efi\n"
				       "/EFI/nixos/%s-vmlinuz-6.1.efi\n"
				       "/EFI/systemd/systemd-bootx64.efi\n"
				       "/loader/entries/nixos-generation-1.conf\n"
				       "/loader/loader.conf\n",
				       strrchr(f.dir, '/') + 1, strrchr(f.dir, '/') + 1);

		ASSERT_STR_EQ(esp, want);
		free(want);
	}
	ASSERT_STR_EQ(xb, "");
	free(esp);
	free(xb);
	sdboot_free(b);

	/* efixbootldr: entry, kernel and initrd on XBOOTLDR; aarch64 names */
	ASSERT_OK(sdboot_prepare(&(struct sdboot_opts){ .entry = e, .efi = f.efi_aa64,
							 .arch = PART_ARCH_AARCH64,
							 .xbootldr = true },
				 &d, &b));
	esp = sd_files(b, true);
	xb = sd_files(b, false);
	ASSERT_STR_EQ(esp, "/EFI/BOOT/BOOTAA64.EFI\n/EFI/systemd/systemd-bootaa64.efi\n"
			   "/loader/loader.conf\n");
	ASSERT_TRUE(strstr(xb, "/loader/entries/nixos-generation-1.conf\n") != NULL);
	ASSERT_TRUE(strstr(xb, "-vmlinuz-6.1.efi\n") != NULL);
	free(esp);
	free(xb);
	sdboot_free(b);
	boot_entry_free(e);
	sd_fixture_done(&f);
}

TEST(sdboot_kernel_in_root_tree)
{
	struct sd_fixture f;
	struct tree *root = tree_new();
	struct tree_finalize_opts fo = { 0 };
	struct boot_entry *e = boot_entry_new("/vmlinuz", NULL, "ro");
	struct sdboot *b = NULL;
	struct diag d = { 0 };
	char *esp;

	sd_fixture_init(&f);
	ASSERT_OK(tree_add_data(root, "/boot/vmlinuz-6.1.0", "MZ", 2, 0644, 0, 0, 0, &d));
	ASSERT_OK(tree_add_symlink(root, "/vmlinuz", "boot/vmlinuz-6.1.0", 0, 0, 0, &d));
	ASSERT_OK(tree_finalize(root, &fo, &d));
	ASSERT_OK(sdboot_prepare(&(struct sdboot_opts){ .entry = e, .root = root, .efi = f.efi,
							 .arch = PART_ARCH_X86_64 },
				 &d, &b));
	esp = sd_files(b, true);
	ASSERT_TRUE(strstr(esp, "/EFI/nixos/boot-vmlinuz-6.1.0.efi\n") != NULL);
	free(esp);
	sdboot_free(b);
	boot_entry_free(e);
	tree_free(root);
	sd_fixture_done(&f);
}

TEST(sdboot_errors)
{
	struct sd_fixture f;
	struct boot_entry *e;
	struct sdboot *b = NULL;
	struct diag d = { 0 };

	sd_fixture_init(&f);
	e = boot_entry_new("/nonexistent/vmlinuz", NULL, NULL);
	ASSERT_ERR(sdboot_prepare(&(struct sdboot_opts){ .entry = e, .efi = f.efi,
							  .arch = PART_ARCH_X86_64 },
				  &d, &b),
		   -ENOENT);
	ASSERT_STR_EQ(d.msg, "kernel /nonexistent/vmlinuz: not found in the image or on the host");
	ASSERT_ERR(sdboot_prepare(&(struct sdboot_opts){ .entry = e, .efi = "/nonexistent.efi",
							  .arch = PART_ARCH_X86_64 },
				  &d, &b),
		   -ENOENT);
	ASSERT_TRUE(strstr(d.msg, "systemdBootEfi /nonexistent.efi: no such file") == d.msg);
	ASSERT_ERR(sdboot_prepare(&(struct sdboot_opts){ .entry = e, .arch = PART_ARCH_X86_64,
							  .search_root = "/nonexistent" },
				  &d, &b),
		   -ENOENT);
	ASSERT_STR_EQ(d.msg, "systemd-boot: no systemd-bootx64.efi found (tried "
			     "/nonexistent/usr/lib/systemd/boot/efi/systemd-bootx64.efi, "
			     "/nonexistent/run/current-system/sw/lib/systemd/boot/efi/"
			     "systemd-bootx64.efi; install systemd-boot-efi or give "
			     "--systemd-boot-efi F)");
	/* a loader for the other CPU: refused, naming both */
	ASSERT_ERR(sdboot_prepare(&(struct sdboot_opts){ .entry = e, .efi = f.efi_aa64,
							  .arch = PART_ARCH_X86_64 },
				  &d, &b),
		   -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "built for aarch64 (PE machine 0xaa64), but the image is for "
				  "x86-64; use systemd-bootx64.efi") != NULL);
	ASSERT_ERR(sdboot_prepare(&(struct sdboot_opts){ .entry = e, .efi = f.kernel,
							  .arch = PART_ARCH_X86_64 },
				  &d, &b),
		   -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "not an EFI (PE/COFF) binary") != NULL);
	ASSERT_ERR(sdboot_prepare(&(struct sdboot_opts){ .entry = e, .efi = f.efi,
							  .arch = PART_ARCH_RISCV64 },
				  &d, &b),
		   -ENOTSUP);
	ASSERT_TRUE(b == NULL);
	boot_entry_free(e);
	sd_fixture_done(&f);
}
