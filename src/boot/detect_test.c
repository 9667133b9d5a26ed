#include "boot/detect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/efivars.h"
#include "build/build.h"
#include "part/part.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/test-spawn.h"
#include "util/test.h"
#include "util/xalloc.h"

#define MIB (1ull << 20)
#define SDBOOT_EFI "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"

TEST(boot_conf_value_reads_keys)
{
	static const char text[] = "# comment\n  title   NixOS  \r\nlinux\t/EFI/k.efi\n"
				   "titlex no\ntimeout 5\ndefault\n";
	char out[16];

	ASSERT_TRUE(boot_conf_value(text, sizeof(text) - 1, "title", out, sizeof(out)));
	ASSERT_STR_EQ(out, "NixOS");
	ASSERT_TRUE(boot_conf_value(text, sizeof(text) - 1, "linux", out, sizeof(out)));
	ASSERT_STR_EQ(out, "/EFI/k.efi");
	ASSERT_TRUE(!boot_conf_value(text, sizeof(text) - 1, "default", out, sizeof(out)));
	ASSERT_TRUE(!boot_conf_value(text, sizeof(text) - 1, "version", out, sizeof(out)));
	/* cut to the buffer, never past len */
	ASSERT_TRUE(boot_conf_value(text, sizeof(text) - 1, "timeout", out, 2));
	ASSERT_STR_EQ(out, "5");
	ASSERT_TRUE(!boot_conf_value(text, 20, "linux", out, sizeof(out)));
}

TEST(boot_entry_is_default_globs)
{
	struct boot_info *b = xcalloc(1, sizeof(*b));

	b->n_entries = 2;
	snprintf(b->entries[0].file, sizeof(b->entries[0].file), "a-1.conf");
	snprintf(b->entries[1].file, sizeof(b->entries[1].file), "nixos-generation-2.conf");
	ASSERT_TRUE(!boot_entry_is_default(b, 0)); /* no default */
	snprintf(b->loader_default, sizeof(b->loader_default), "nixos-*");
	ASSERT_TRUE(!boot_entry_is_default(b, 0) && boot_entry_is_default(b, 1));
	snprintf(b->loader_default, sizeof(b->loader_default), "a-1");
	ASSERT_TRUE(boot_entry_is_default(b, 0) && !boot_entry_is_default(b, 1));
	snprintf(b->loader_default, sizeof(b->loader_default), "*");
	ASSERT_TRUE(boot_entry_is_default(b, 0) && !boot_entry_is_default(b, 1));
	ASSERT_TRUE(!boot_entry_is_default(b, 5));
	free(b);
}

TEST(boot_sdboot_version_finds_the_marker)
{
	static const uint8_t bin[] = "MZ....#### LoaderInfo: systemd-boot 252.1 ####\0rest";
	char out[64];

	ASSERT_TRUE(boot_sdboot_version(bin, sizeof(bin), out, sizeof(out)));
	ASSERT_STR_EQ(out, "systemd-boot 252.1");
	ASSERT_TRUE(!boot_sdboot_version(bin, 30, out, sizeof(out))); /* no end marker */
}

/* A module area as grub-mkimage lays it out: info header, then modules. */
static size_t grub_mods(uint8_t *b, bool wide, const char *prefix, uint32_t prefix_size)
{
	size_t hdr = wide ? 24 : 12, o = 32, start = o;

	memcpy(b, "junkmimgjunk", 12); /* the kernel's own compare of the magic */
	memcpy(b + o, "mimg", 4);
	o += hdr;
	le32_put(b + o, 0); /* an ELF module */
	le32_put(b + o + 4, 16);
	o += 16;
	le32_put(b + o, 3);
	le32_put(b + o + 4, 8 + prefix_size);
	memcpy(b + o + 8, prefix, strlen(prefix) + 1);
	o += 8 + prefix_size;
	if (wide) {
		le64_put(b + start + 8, hdr);
		le64_put(b + start + 16, o - start);
	} else {
		le32_put(b + start + 4, (uint32_t)hdr);
		le32_put(b + start + 8, (uint32_t)(o - start));
	}
	return o;
}

TEST(boot_grub_prefix_reads_the_module)
{
	uint8_t b[256] = { 0 };
	char out[64];
	size_t n;

	n = grub_mods(b, true, "/boot/grub", 16);
	ASSERT_TRUE(boot_grub_prefix(b, n, out, sizeof(out)));
	ASSERT_STR_EQ(out, "/boot/grub");
	memset(b, 0, sizeof(b));
	n = grub_mods(b, false, "(hd0)/grub", 12);
	ASSERT_TRUE(boot_grub_prefix(b, n, out, sizeof(out)));
	ASSERT_STR_EQ(out, "(hd0)/grub");
	/* truncated: the module list runs past the buffer */
	ASSERT_TRUE(!boot_grub_prefix(b, n - 4, out, sizeof(out)));
	/* a prefix without its NUL */
	memset(b, 0, sizeof(b));
	n = grub_mods(b, false, "/abcdefg", 8);
	ASSERT_TRUE(!boot_grub_prefix(b, n, out, sizeof(out)));
}

TEST(boot_grub_root_uuid_reads_the_config)
{
	uint8_t b[256] = { 0 };
	char out[64];
	size_t n;

	/* the config module in the prefix slot's place (type 2) */
	n = grub_mods(b, true, "set a=1\nsearch --fs-uuid --set=root abc-123 ;x\n", 56);
	le32_put(b + 32 + 24 + 16, 2);
	ASSERT_TRUE(boot_grub_root_uuid(b, n, out, sizeof(out)));
	ASSERT_STR_EQ(out, "abc-123");
	ASSERT_TRUE(!boot_grub_prefix(b, n, out, sizeof(out)));
	memset(b, 0, sizeof(b));
	n = grub_mods(b, true, "search --fs-uuid --set=root\n", 32);
	le32_put(b + 32 + 24 + 16, 2);
	ASSERT_TRUE(!boot_grub_root_uuid(b, n, out, sizeof(out)));
}

/* The image in memory, for boot_detect. */
struct mem {
	uint8_t *buf;
	size_t len;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
	const struct mem *m = ctx;

	if (off > m->len || len > m->len - off)
		return diag_fail(d, -ERANGE, "read past the end");
	memcpy(buf, m->buf + off, len);
	return 0;
}

static int mem_read_io(void *ctx, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return mem_read(ctx, off, buf, len, d);
}

static const struct build_env test_env = {
	.has_epoch = true, .source_date_epoch = 1700000000, .tmp_dir = "/tmp"
};

#define OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"

/* Build an efi image with the library (bootloader as given) into dir/disk.img and load it;
 * vars: also write dir/vars.fd from OVMF's template (touchEFIVars). */
static int build_efi_vars(const char *dir, enum spec_bootloader bl, bool vars, struct mem *ret)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	_cleanup_(build_plan_freep) struct build_plan *p = NULL;
	_cleanup_free_ char *kernel = xasprintf("%s/kernel", dir);
	struct build_result res;
	struct diag d = { 0 };
	int r;

	s->root = xasprintf("%s/root", dir);
	s->output = xasprintf("%s/disk.img", dir);
	s->partition_table = PART_TABLE_EFI;
	s->additional_space_bytes = MIB;
	s->boot_size_bytes = 40 * MIB;
	s->bootloader = bl;
	if (bl == SPEC_BOOTLOADER_SYSTEMD_BOOT) {
		s->kernel = xstrdup(kernel);
		s->systemd_boot_efi = xstrdup(SDBOOT_EFI);
	}
	if (vars) {
		s->touch_efi_vars = true;
		s->efi_vars_template = xstrdup(OVMF_VARS);
		s->efi_vars_out = xasprintf("%s/vars.fd", dir);
	}
	r = spec_validate(s, &d);
	if (r >= 0)
		r = build_plan(s, &test_env, &d, &p);
	if (r >= 0)
		r = build_emit(p, NULL, &d, &res);
	if (r < 0) {
		fprintf(stderr, "  build: %s\n", diag_message(&d, r));
		return r;
	}
	return read_file(s->output, 1u << 30, &ret->buf, &ret->len);
}

static int build_efi(const char *dir, enum spec_bootloader bl, struct mem *ret)
{
	return build_efi_vars(dir, bl, false, ret);
}

static char *make_dir(void)
{
	char *dir = xstrdup("/tmp/detect_test.XXXXXX");
	_cleanup_free_ char *root = NULL, *k = NULL;

	if (!mkdtemp(dir))
		abort();
	root = xasprintf("%s/root", dir);
	k = xasprintf("%s/kernel", dir);
	FILE *f;

	if (mkdir(root, 0755) < 0 || !(f = fopen(k, "w")))
		abort();
	fputs("not a kernel\n", f);
	fclose(f);
	return dir;
}

static void rm_dir(const char *dir)
{
	char *const argv[] = { (char *)"rm", (char *)"-rf", (char *)dir, NULL };

	(void)test_run(argv, NULL);
}

TEST(boot_detect_systemd_boot_image)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_free_ struct boot_info *b = xcalloc(1, sizeof(*b));
	struct mem m = { 0 };
	struct diag d = { 0 };

	if (access(SDBOOT_EFI, R_OK) < 0)
		TEST_SKIP("no %s (systemd-boot-efi)", SDBOOT_EFI);
	dir = make_dir();
	ASSERT_OK(build_efi(dir, SPEC_BOOTLOADER_SYSTEMD_BOOT, &m));
	ASSERT_OK(part_probe_io(&(struct part_probe_io){ mem_read_io, &m }, m.len, &d, &p));
	ASSERT_OK(boot_detect(mem_read, &m, m.len, p, &d, b));
	ASSERT_STR_EQ(b->problem, "");
	ASSERT_TRUE(b->mbr_signature && !b->mbr_code && !b->grub_bios);
	ASSERT_EQ(b->esp_part, 1u);
	ASSERT_EQ(b->n_removable, 1u);
	ASSERT_STR_EQ(b->removable[0].path, "EFI/BOOT/BOOTX64.EFI");
	ASSERT_TRUE(strncmp(b->removable[0].what, "systemd-boot ", 13) == 0);
	ASSERT_STR_EQ(b->sdboot.path, "EFI/systemd/systemd-bootx64.efi");
	ASSERT_TRUE(b->has_loader_conf);
	ASSERT_EQ(b->n_entries, 1u);
	ASSERT_STR_EQ(b->loader_default, b->entries[0].file);
	ASSERT_EQ(b->entries[0].part, 1u);
	ASSERT_TRUE(strncmp(b->entries[0].kernel, "/EFI/", 5) == 0);
	ASSERT_OK(boot_detect_check(b, "x.img", true, false, NULL, p, &d));
	ASSERT_ERR(boot_detect_check(b, "x.img", true, true, NULL, p, &d), -ENOEXEC);
	ASSERT_ERR(boot_detect_check(b, "x.img", false, false, NULL, p, &d), -ENOEXEC);
	ASSERT_STR_EQ(d.msg, "x.img: nothing to boot under BIOS: the MBR has no boot code "
			     "(build with --bootloader grub)");

	/* a FAT whose every link points at itself: bounded, a problem noted, no hang */
	{
		const struct part_probe_entry *e = &p->parts[0];
		uint8_t *fs = m.buf + e->first_lba * 512;
		uint32_t rsvd = le16_get(fs + 0x0e), fatsz = le16_get(fs + 0x16);

		ASSERT_TRUE(fatsz > 0); /* a 40 MiB ESP is FAT16 */
		for (uint32_t c = 2; c < fatsz * 256; c++)
			le16_put(fs + rsvd * 512 + c * 2, (uint16_t)c);
		ASSERT_OK(boot_detect(mem_read, &m, m.len, p, &d, b));
		ASSERT_TRUE(b->n_entries <= BOOT_DETECT_ENTRIES_MAX);
	}
	free(m.buf);
	rm_dir(dir);
}

TEST(boot_detect_nothing_to_boot)
{
	_cleanup_free_ char *dir = make_dir();
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_free_ struct boot_info *b = xcalloc(1, sizeof(*b));
	struct mem m = { 0 };
	struct diag d = { 0 };

	ASSERT_OK(build_efi(dir, SPEC_BOOTLOADER_NONE, &m));
	ASSERT_OK(part_probe_io(&(struct part_probe_io){ mem_read_io, &m }, m.len, &d, &p));
	ASSERT_OK(boot_detect(mem_read, &m, m.len, p, &d, b));
	ASSERT_EQ(b->n_removable, 0u);
	ASSERT_EQ(b->n_entries, 0u);
	ASSERT_ERR(boot_detect_check(b, "x.img", true, false, NULL, p, &d), -ENOEXEC);
	ASSERT_TRUE(strstr(d.msg, "x.img: nothing to boot under UEFI") == d.msg);
	free(m.buf);
	rm_dir(dir);
}

TEST(boot_grub_core_prefix_decompresses_core_img)
{
	_cleanup_free_ char *dir = make_dir();
	_cleanup_free_ char *out = xasprintf("%s/core.img", dir);
	_cleanup_free_ uint8_t *core = NULL;
	char *const argv[] = { (char *)"grub-mkimage", (char *)"-O", (char *)"i386-pc",
			       (char *)"-d", (char *)"/usr/lib/grub/i386-pc", (char *)"-p",
			       (char *)"(hd0,gpt2)/boot/grub-x", (char *)"-o", out,
			       (char *)"biosdisk", (char *)"part_gpt", NULL };
	struct diag d = { 0 };
	char prefix[64];
	size_t len;

	if (!test_have("grub-mkimage") || access("/usr/lib/grub/i386-pc/kernel.img", R_OK) < 0) {
		rm_dir(dir);
		TEST_SKIP("no grub-mkimage with /usr/lib/grub/i386-pc (grub-pc-bin)");
	}
	ASSERT_EQ(test_run(argv, NULL), 0);
	ASSERT_OK(read_file(out, 1u << 20, &core, &len));
	ASSERT_OK(boot_grub_core_prefix(core, len, prefix, sizeof(prefix), NULL, 0, &d));
	ASSERT_STR_EQ(prefix, "(hd0,gpt2)/boot/grub-x");
	/* grub-mkimage -c: the early config's search */
	{
		_cleanup_free_ char *cfg = xasprintf("%s/early.cfg", dir);
		char *const argv2[] = { (char *)"grub-mkimage", (char *)"-O", (char *)"i386-pc",
					(char *)"-d", (char *)"/usr/lib/grub/i386-pc", (char *)"-c",
					cfg, (char *)"-p", (char *)"/boot/grub", (char *)"-o", out,
					(char *)"biosdisk", (char *)"search_fs_uuid", NULL };
		_cleanup_free_ uint8_t *core2 = NULL;
		char uuid[64];
		size_t len2;
		FILE *f = fopen(cfg, "w");

		ASSERT_TRUE(f != NULL);
		fputs("search --no-floppy --fs-uuid --set=root 0123-ABCD\nset prefix=($root)/x\n", f);
		fclose(f);
		ASSERT_EQ(test_run(argv2, NULL), 0);
		ASSERT_OK(read_file(out, 1u << 20, &core2, &len2));
		ASSERT_OK(boot_grub_core_prefix(core2, len2, prefix, sizeof(prefix), uuid,
						sizeof(uuid), &d));
		ASSERT_STR_EQ(prefix, "/boot/grub");
		ASSERT_STR_EQ(uuid, "0123-ABCD");
	}
	/* cut short: the compressed stream ends early */
	ASSERT_ERR(boot_grub_core_prefix(core, len - 100, prefix, sizeof(prefix), NULL, 0, &d), -EBADMSG);
	/* a parity length past the image */
	le32_put(core + 512 + 0x10, (uint32_t)len);
	ASSERT_ERR(boot_grub_core_prefix(core, len, prefix, sizeof(prefix), NULL, 0, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "GRUB core.img: parity length ") == d.msg);
	rm_dir(dir);
}

TEST(boot_detect_check_takes_a_boot_entry_for_the_image)
{
	_cleanup_free_ char *dir = NULL, *vp = NULL;
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_(efivars_freep) struct efivars *vars = NULL;
	_cleanup_free_ struct boot_info *b = xcalloc(1, sizeof(*b));
	struct mem m = { 0 };
	struct diag d = { 0 };

	if (access(SDBOOT_EFI, R_OK) < 0 || access(OVMF_VARS, R_OK) < 0)
		TEST_SKIP("no %s or %s", SDBOOT_EFI, OVMF_VARS);
	dir = make_dir();
	vp = xasprintf("%s/vars.fd", dir);
	ASSERT_OK(build_efi_vars(dir, SPEC_BOOTLOADER_SYSTEMD_BOOT, true, &m));
	ASSERT_OK(efivars_load(vp, &d, &vars));
	ASSERT_OK(part_probe_io(&(struct part_probe_io){ mem_read_io, &m }, m.len, &d, &p));
	ASSERT_OK(boot_detect(mem_read, &m, m.len, p, &d, b));
	/* without the removable path, the store's Boot0000 for the ESP is what boots */
	b->n_removable = 0;
	ASSERT_OK(boot_detect_check(b, "x.img", true, false, vars, p, &d));
	ASSERT_ERR(boot_detect_check(b, "x.img", true, false, NULL, p, &d), -ENOEXEC);
	ASSERT_STR_EQ(d.msg, "x.img: nothing to boot under UEFI: partition 1 has no "
			     "EFI/BOOT/BOOTX64.EFI (the removable path) and the variable store has "
			     "no Boot#### entry for one of the image's partitions (build with "
			     "--bootloader systemd-boot or grub, or give boot-test the --efi-vars "
			     "the build wrote)");
	/* an entry for another disk's partition does not count */
	p->parts[0].uuid[0] ^= 1;
	ASSERT_ERR(boot_detect_check(b, "x.img", true, false, vars, p, &d), -ENOEXEC);
	free(m.buf);
	rm_dir(dir);
}
