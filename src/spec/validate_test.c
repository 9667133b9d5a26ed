#include "spec/spec.h"

#include "boot/find-test.h"
#include "boot/find.h"
#include "spec/options.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/test.h"
#include "util/uuid.h"
#include "util/xalloc.h"

/* A search root where boot/find.c finds nothing. */
#define NO_ROOT "/nonexistent-mkdiskimage-search-root"

/* A spec with an output set, so validation gets past the "no output" check. */

static struct image_spec *spec_with_output(void)
{
	struct image_spec *s = image_spec_new();

	s->output = xstrdup("/tmp/does-not-matter.img");
	s->search_root = NO_ROOT; /* the host's loaders are not the test's */
	s->allow_empty = true; /* spec_check_not_empty has tests of its own */
	s->format_set = true; /* tests set s->format; spec_infer_format has tests of its own */
	return s;
}

static void add_contents(struct image_spec *s, const char *mode, const char *user,
			 const char *group)
{
	struct contents_entry *e;

	s->contents = xreallocarray(s->contents, s->n_contents + 1, sizeof(*s->contents));
	e = &s->contents[s->n_contents++];
	e->source = xstrdup("/src");
	e->target = xstrdup("/dst");
	e->mode = mode ? xstrdup(mode) : NULL;
	e->user = user ? xstrdup(user) : NULL;
	e->group = group ? xstrdup(group) : NULL;
}

#define ASSERT_INVALID(s, want_err, want_msg)                  \
	do {                                                   \
		struct diag _d = { 0 };                        \
		ASSERT_ERR(spec_validate(s, &_d), want_err);   \
		ASSERT_STR_EQ(_d.msg, want_msg);               \
	} while (0)

TEST(defaults)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	struct diag d = { 0 };
	char u[UUID_STR_LEN];

	ASSERT_TRUE(!s->root && s->n_contents == 0);
	ASSERT_EQ(s->partition_table, PART_TABLE_LEGACY);
	ASSERT_STR_EQ(s->fs_type, "ext4");
	ASSERT_STR_EQ(s->label, "nixos");
	ASSERT_TRUE(s->disk_size_auto);
	ASSERT_EQ(s->additional_space_bytes, 512ull << 20);
	ASSERT_EQ(s->boot_size_bytes, 256ull << 20);
	ASSERT_STR_EQ(s->format, "raw");
	ASSERT_STR_EQ(s->base_name, "nixos");
	ASSERT_TRUE(s->deterministic);
	ASSERT_TRUE(!s->seed);
	ASSERT_TRUE(!s->root_gpuid_set && !s->root_fsuid_set && !s->owner_set);
	ASSERT_TRUE(!s->generic_root_type);
	ASSERT_EQ(s->reserved_percent, 5);
	ASSERT_TRUE(!s->install_bootloader && !s->touch_efi_vars && !s->only_nix_store &&
		    !s->copy_channel && !s->config_file && s->n_additional_paths == 0);
	ASSERT_TRUE(!s->json && !s->progress_set && !s->help);
#if defined(__x86_64__)
	ASSERT_EQ(s->arch, PART_ARCH_X86_64);
#elif defined(__aarch64__)
	ASSERT_EQ(s->arch, PART_ARCH_AARCH64);
#endif

	ASSERT_OK(spec_validate(s, &d));
	uuid_format(s->root_gpuid, u);
	ASSERT_STR_EQ(u, "f222513b-ded1-49fa-b591-20ce86a2fe7f");
	ASSERT_MEM_EQ(s->root_fsuid, s->root_gpuid, 16); /* rootFSUID defaults to rootGPUID */
	ASSERT_TRUE(!s->root_fsuid_set);                 /* ... and stays marked as a default */
	ASSERT_STR_EQ(s->seed, "mkdiskimage:nixos");
	ASSERT_STR_EQ(s->output, "/tmp/does-not-matter.img");
}

TEST(default_seed_follows_label_not_paths)
{
	_cleanup_(image_spec_freep) struct image_spec *a = spec_with_output();
	_cleanup_(image_spec_freep) struct image_spec *b = spec_with_output();
	struct diag d = { 0 };

	free(a->label);
	a->label = xstrdup("data");
	a->root = xstrdup("/one/place");
	b->root = xstrdup("/another/place");
	ASSERT_OK(spec_validate(a, &d));
	ASSERT_OK(spec_validate(b, &d));
	ASSERT_STR_EQ(a->seed, "mkdiskimage:data");
	ASSERT_STR_EQ(b->seed, "mkdiskimage:nixos");
}

TEST(explicit_seed_and_fsuid_kept)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	struct diag d = { 0 };

	s->seed = xstrdup("mine");
	ASSERT_OK(uuid_parse("11111111-2222-3333-4444-555555555555", s->root_fsuid));
	s->root_fsuid_set = true;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_STR_EQ(s->seed, "mine");
	ASSERT_EQ(s->root_fsuid[0], 0x11);
}

TEST(output_directory_gets_base_name)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	_cleanup_free_ char *want = NULL;
	char dir[] = "/tmp/spec-validate-test.XXXXXX";
	struct diag d = { 0 };

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	s->allow_empty = true;
	s->output = xasprintf("%s/", dir);
	ASSERT_OK(spec_validate(s, &d));
	want = xasprintf("%s/nixos.img", dir);
	ASSERT_STR_EQ(s->output, want);

	free(s->output);
	free(s->base_name);
	s->output = xstrdup(dir);
	s->base_name = xstrdup("disk");
	ASSERT_OK(spec_validate(s, &d));
	free(want);
	want = xasprintf("%s/disk.img", dir);
	ASSERT_STR_EQ(s->output, want);
	(void)rmdir(dir);
}

TEST(output_errors)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();

	s->allow_empty = true;
	ASSERT_INVALID(s, -EINVAL, "no output: use -o FILE, or -o DIR/ for DIR/nixos.img");
	s->output = xstrdup("/nonexistent-dir/sub/");
	ASSERT_INVALID(s, -ENOENT, "-o /nonexistent-dir/sub/: cannot create the directory: No such "
		       "file or directory (its parent must exist)");
	free(s->output);
	s->output = xstrdup("/etc/hostname/");
	ASSERT_INVALID(s, -ENOTDIR, "-o /etc/hostname/: Not a directory");
}

TEST(output_dir_slash_is_created)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	_cleanup_free_ char *want = NULL;
	char dir[] = "/tmp/spec-validate-test.XXXXXX";
	struct stat st;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	s->allow_empty = true;
	s->output = xasprintf("%s/new/", dir);
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	want = xasprintf("%s/new/nixos.img", dir);
	ASSERT_STR_EQ(s->output, want);
	ASSERT_TRUE(stat(want, &st) < 0); /* the directory only: the image comes later */
	free(want);
	want = xasprintf("%s/new", dir);
	ASSERT_TRUE(stat(want, &st) == 0 && S_ISDIR(st.st_mode));
	ASSERT_EQ(st.st_mode & 07777, 0755 & ~(mode_t)umask(022));
	ASSERT_TRUE(rmdir(want) == 0);
	ASSERT_TRUE(rmdir(dir) == 0);
}

TEST(format_from_output_extension)
{
	static const struct {
		const char *out, *format;
	} cases[] = {
		{ "/tmp/x.qcow2", "qcow2" }, { "/tmp/x.vdi", "vdi" },	{ "/tmp/x.vhd", "vpc" },
		{ "/tmp/x.img", "raw" },     { "/tmp/x.raw", "raw" },	{ "/tmp/x.QCOW2", "qcow2" },
		{ "/tmp/x.foo", "raw" },     { "/tmp/x", "raw" },	{ "/tmp/a.qcow2.d/x", "raw" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();

		s->allow_empty = true;
		s->output = xstrdup(cases[i].out);
		ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
		ASSERT_STR_EQ(s->format, cases[i].format);
		ASSERT_EQ(s->n_warnings, 0);
	}
}

TEST(compression_from_output_extension)
{
	static const struct {
		const char *out, *format;
		enum format_file_compress c;
	} cases[] = {
		{ "/tmp/x.img.zst", "raw", FORMAT_FILE_COMPRESS_ZSTD },
		{ "/tmp/x.img.gz", "raw", FORMAT_FILE_COMPRESS_GZIP },
		{ "/tmp/x.raw.xz", "raw", FORMAT_FILE_COMPRESS_XZ },
		{ "/tmp/x.raw.tar.gz", "gce", FORMAT_FILE_COMPRESS_NONE },
		{ "/tmp/x.img", "raw", FORMAT_FILE_COMPRESS_NONE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();

		s->allow_empty = true;
		s->output = xstrdup(cases[i].out);
		ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
		ASSERT_STR_EQ(s->format, cases[i].format);
		ASSERT_EQ(s->file_compress, cases[i].c);
	}
}

TEST(format_and_extension_disagree)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();

	s->allow_empty = true;
	s->output = xstrdup("/tmp/x.qcow2");
	free(s->format);
	s->format = xstrdup("vdi");
	s->format_set = true;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_STR_EQ(s->format, "vdi");
	ASSERT_EQ(s->n_warnings, 1);
	ASSERT_STR_EQ(s->warnings[0], "-o /tmp/x.qcow2: the extension says format qcow2, but "
		      "format is vdi (the image is vdi; rename it or remove format)");

	/* qcow2-compressed writes .qcow2 files: no disagreement */
	s = image_spec_free(s);
	s = image_spec_new();
	s->allow_empty = true;
	s->output = xstrdup("/tmp/x.qcow2");
	free(s->format);
	s->format = xstrdup("qcow2-compressed");
	s->format_set = true;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_EQ(s->n_warnings, 0);
}

TEST(nothing_to_put_in_the_image)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();

	s->output = xstrdup("/tmp/x.img");
	ASSERT_INVALID(s, -EINVAL, "nothing to put in the image: give --root DIR, --root-tar "
		       "FILE, --closure-info DIR, --system TOPLEVEL or --contents (an empty "
		       "image on purpose: --allow-empty)");
	s->allow_empty = true;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	s->allow_empty = false;
	s->root = xstrdup("/tmp");
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	free(s->root);
	s->root = NULL;
	s->root_tar = xstrdup("/tmp/rootfs.tar");
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	free(s->root_tar);
	s->root_tar = NULL;
	add_contents(s, NULL, NULL, NULL);
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
}

TEST(unsupported_choices)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();

	free(s->fs_type);
	s->fs_type = xstrdup("btrfs");
	ASSERT_INVALID(s, -ENOTSUP, "fsType \"btrfs\" is not supported (use ext4, or erofs "
		       "for a read-only root)");
	free(s->fs_type);
	s->fs_type = xstrdup("ext4");

	/* a format is refused exactly when this build has no sink for it */
	static const char *const formats[] = { "raw", "qcow2", "qcow2-compressed", "vdi", "vpc",
					       "vmdk" };
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		struct diag fd = { 0 };
		char want[256];

		free(s->format);
		s->format = xstrdup(formats[i]);
		if (spec_format_ops(formats[i])) {
			ASSERT_OK(spec_validate(s, &fd));
			continue;
		}
		snprintf(want, sizeof(want),
			 "format %s is not supported by this build (use one of %s)", formats[i],
			 format_names());
		ASSERT_INVALID(s, -ENOTSUP, want);
	}
	ASSERT_TRUE(spec_format_ops("raw") != NULL);
	free(s->format);
	s->format = xstrdup("raw");
	s->compression = FORMAT_COMPRESSION_ZSTD;
	ASSERT_INVALID(s, -EINVAL,
		       "compression applies to format qcow2-compressed, not raw (remove "
		       "compression or set format = qcow2-compressed)");
	s->compression = FORMAT_COMPRESSION_NONE;
	s->compression_level = 5;
	ASSERT_INVALID(s, -EINVAL,
		       "compressionLevel applies to a compressed raw image; set compress = zstd, "
		       "gzip or xz (or remove it)");
	s->file_compress = FORMAT_FILE_COMPRESS_GZIP;
	s->compression_level = 13;
	ASSERT_INVALID(s, -EINVAL, "compressionLevel 13: gzip levels go from 1 to 12");
	s->file_compress = FORMAT_FILE_COMPRESS_ZSTD;
	s->compression_level = 19;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	s->file_compress = FORMAT_FILE_COMPRESS_NONE;
	s->compression_level = 0;
	free(s->format);
	s->format = xstrdup("vdi");
	s->file_compress = FORMAT_FILE_COMPRESS_XZ;
	ASSERT_INVALID(s, -EINVAL, "compress applies to format raw, not vdi (remove compress or "
		       "set format = raw)");
	s->file_compress = FORMAT_FILE_COMPRESS_NONE;
	free(s->format);
	s->format = xstrdup("raw");
	s->compression_level = 5;
	free(s->format);
	s->format = xstrdup("qcow2-compressed");
	s->compression_level = 13;
	ASSERT_INVALID(s, -EINVAL,
		       "compressionLevel 13: deflate levels go from 1 to 12 (22 is zstd's highest: "
		       "set compression = zstd)");
	s->compression_level = 0;
	free(s->format);
	s->format = xstrdup("raw");

	s->install_bootloader = true;
	ASSERT_INVALID(s, -EINVAL,
		       "installBootLoader: no kernel to boot: give --kernel F (with --initrd F, "
		       "--cmdline S), or a system with a boot.json or kernel");
	s->install_bootloader = false;
	s->touch_efi_vars = true;
	ASSERT_INVALID(s, -EINVAL,
		       "touchEFIVars: partitionTableType legacy has no ESP for Boot0000 to boot "
		       "from (use efi, efixbootldr, hybrid, or legacy+gpt for the template alone)");
	/* legacy+gpt, make-disk-image's example: as far as the template, as efi */
	s->partition_table = PART_TABLE_LEGACY_GPT;
	ASSERT_INVALID(s, -ENOENT,
		       "touchEFIVars: no firmware variable store template found (tried " NO_ROOT
		       "/usr/share/OVMF/OVMF_VARS_4M.fd, " NO_ROOT "/usr/share/OVMF/OVMF_VARS.fd, "
		       NO_ROOT "/usr/share/edk2/ovmf/OVMF_VARS.fd, " NO_ROOT
		       "/usr/share/edk2/x64/OVMF_VARS.4m.fd, " NO_ROOT
		       "/usr/share/qemu/edk2-i386-vars.fd; install ovmf or give "
		       "--efi-vars-template F)");
	s->partition_table = PART_TABLE_EFI;
	ASSERT_INVALID(s, -ENOENT,
		       "touchEFIVars: no firmware variable store template found (tried " NO_ROOT
		       "/usr/share/OVMF/OVMF_VARS_4M.fd, " NO_ROOT "/usr/share/OVMF/OVMF_VARS.fd, "
		       NO_ROOT "/usr/share/edk2/ovmf/OVMF_VARS.fd, " NO_ROOT
		       "/usr/share/edk2/x64/OVMF_VARS.4m.fd, " NO_ROOT
		       "/usr/share/qemu/edk2-i386-vars.fd; install ovmf or give "
		       "--efi-vars-template F)");
	s->partition_table = PART_TABLE_LEGACY;
	s->touch_efi_vars = false;
	s->only_nix_store = true;
	ASSERT_INVALID(s, -EINVAL, "onlyNixStore: needs closureInfo (--closure-info DIR)");
	s->closure_info = xstrdup("/ci");
	s->config_file = xstrdup("/c.nix");
	ASSERT_INVALID(s, -EINVAL, "onlyNixStore: the image holds the store only; remove "
		       "configFile");
	free(s->config_file);
	s->config_file = NULL;
	s->only_nix_store = false;
	free(s->closure_info);
	s->closure_info = NULL;
	s->copy_channel = true;
	ASSERT_INVALID(s, -EINVAL,
		       "copyChannel: needs channel, the channel's store path (--channel PATH)");
	s->copy_channel = false;
	s->system = xstrdup("/nix/store/x-system");
	ASSERT_INVALID(s, -EINVAL,
		       "system needs closureInfo (--closure-info DIR) with its closure");
	free(s->system);
	s->system = NULL;
	/* accepted now: they are in the closure info */
	s->n_additional_paths = 1;
	s->config_file = xstrdup("/c.nix");

	struct diag d = { 0 };
	ASSERT_OK(spec_validate(s, &d));
}

TEST(only_nix_store_label_defaults_to_nix_store)
{
	struct image_spec *s = image_spec_new();
	struct diag d = { 0 };

	s->output = xstrdup("/tmp/x.img");
	s->only_nix_store = true;
	s->closure_info = xstrdup("/ci");
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_STR_EQ(s->label, "nix-store");
	image_spec_free(s);

	s = image_spec_new();
	s->output = xstrdup("/tmp/x.img");
	s->only_nix_store = true;
	s->closure_info = xstrdup("/ci");
	free(s->label);
	s->label = xstrdup("store");
	s->label_set = true; /* as spec_set_label does for the label key */
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_STR_EQ(s->label, "store");
	image_spec_free(s);
}

TEST(contents_checks)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	struct diag d = { 0 };

	add_contents(s, NULL, NULL, NULL);
	add_contents(s, "0644", "root", "root");
	add_contents(s, NULL, "root", NULL);
	ASSERT_INVALID(s, -EINVAL, "contents[2]: user set without group");
	free(s->contents[2].user);
	s->contents[2].user = NULL;
	s->contents[2].group = xstrdup("wheel");
	ASSERT_INVALID(s, -EINVAL, "contents[2]: group set without user");
	s->contents[2].user = xstrdup("0");
	ASSERT_OK(spec_validate(s, &d));

	static const char *const bad_modes[] = { "u+x", "", "8", "0x1ff", "17777", "644 " };
	for (size_t i = 0; i < ARRAY_SIZE(bad_modes); i++) {
		_cleanup_free_ char *want =
			xasprintf("contents[0]: mode \"%s\" is not an octal mode (use e.g. 0644 or "
				  "755)",
				  bad_modes[i]);

		free(s->contents[0].mode);
		s->contents[0].mode = xstrdup(bad_modes[i]);
		ASSERT_INVALID(s, -EINVAL, want);
	}
	static const char *const good_modes[] = { "755", "0644", "7777", "0", "04755" };
	for (size_t i = 0; i < ARRAY_SIZE(good_modes); i++) {
		free(s->contents[0].mode);
		s->contents[0].mode = xstrdup(good_modes[i]);
		ASSERT_OK(spec_validate(s, &d));
	}

	free(s->contents[1].target);
	s->contents[1].target = xstrdup("");
	ASSERT_INVALID(s, -EINVAL, "contents[1]: target missing or empty");
}

TEST(boot_size_checks)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	struct diag d = { 0 };

	/* legacy has no boot partition: any bootSize is fine. */
	s->boot_size_bytes = 12345;
	ASSERT_OK(spec_validate(s, &d));

	s->partition_table = PART_TABLE_EFI;
	ASSERT_INVALID(s, -EINVAL,
		       "bootSize 12345 bytes: not a whole number of MiB (partitions are 1 MiB "
		       "aligned; use e.g. 256M)");
	s->boot_size_bytes = 8ull << 20;
	ASSERT_INVALID(s, -EINVAL,
		       "bootSize 8M is too small for partitionTableType efi (use at least 9M)");
	s->boot_size_bytes = 9ull << 20;
	ASSERT_OK(spec_validate(s, &d));

	s->partition_table = PART_TABLE_EFIXBOOTLDR;
	s->boot_size_bytes = 100ull << 20;
	ASSERT_INVALID(s, -EINVAL,
		       "bootSize 100M is too small for partitionTableType efixbootldr (use at "
		       "least 101M)");
	s->boot_size_bytes = 256ull << 20;
	s->disk_size_auto = false;
	s->disk_size_bytes = 256ull << 20;
	ASSERT_INVALID(s, -EINVAL,
		       "diskSize 256M leaves no room for the root partition after bootSize 256M "
		       "(use a larger diskSize or \"auto\")");
	s->disk_size_bytes = 1024ull << 20;
	ASSERT_OK(spec_validate(s, &d));
}

TEST(free_accepts_null)
{
	ASSERT_TRUE(image_spec_free(NULL) == NULL);
}

TEST(boot_trees_need_their_partition)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();

	s->esp = xstrdup("/esp");
	ASSERT_INVALID(s, -EINVAL,
		       "esp: partitionTableType legacy has no ESP (use efi, efixbootldr or hybrid)");
	s->partition_table = PART_TABLE_EFI;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	s->xbootldr = xstrdup("/boot");
	ASSERT_INVALID(s, -EINVAL,
		       "xbootldr: partitionTableType efi has no XBOOTLDR partition (use "
		       "efixbootldr)");
	s->partition_table = PART_TABLE_EFIXBOOTLDR;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
}

TEST(grub_needs_a_bios_layout_and_its_modules)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();

	s->kernel = xstrdup("/boot/vmlinuz");
	s->bootloader = SPEC_BOOTLOADER_GRUB;
	ASSERT_INVALID(s, -ENOENT,
		       "bootloader grub: no GRUB i386-pc modules found (tried " NO_ROOT
		       "/usr/lib/grub/i386-pc, " NO_ROOT "/run/current-system/sw/lib/grub/i386-pc; "
		       "install grub-pc-bin or give --grub-dir DIR)");
	s->grub_dir = xstrdup("/usr/lib/grub/i386-pc");
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_GRUB);
	s->partition_table = PART_TABLE_HYBRID;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	s->partition_table = PART_TABLE_EFI;
	ASSERT_INVALID(s, -EINVAL,
		       "bootloader grub: partitionTableType efi: GRUB for BIOS needs a BIOS boot "
		       "partition: use legacy, legacy+gpt or hybrid (or grubEfiDir for GRUB on "
		       "UEFI)");
	s->grub_efi_dir = xstrdup("/usr/lib/grub/x86_64-efi");
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	s->partition_table = PART_TABLE_LEGACY;
	ASSERT_INVALID(s, -EINVAL,
		       "grubEfiDir: partitionTableType legacy has no ESP (use efi, efixbootldr or "
		       "hybrid, or grubDir for GRUB on BIOS)");
	free(s->grub_efi_dir);
	s->grub_efi_dir = NULL;
	/* auto on a BIOS layout: GRUB when its modules are given, else nothing */
	s->partition_table = PART_TABLE_LEGACY_GPT;
	s->bootloader = SPEC_BOOTLOADER_AUTO;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_GRUB);
	free(s->grub_dir);
	s->grub_dir = NULL;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_NONE);
}

TEST(touch_efi_vars_output_and_checks)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	char dir[] = "/tmp/validate-efivars-XXXXXX";
	_cleanup_free_ char *want = NULL;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	s->allow_empty = true;
	s->output = xstrdup(dir);
	s->partition_table = PART_TABLE_EFI;
	s->touch_efi_vars = true;
	s->efi_vars_template = xstrdup("/t.fd");
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	want = xasprintf("%s/efi-vars.fd", dir);
	ASSERT_STR_EQ(s->efi_vars_out, want);
	ASSERT_TRUE(rmdir(dir) == 0);

	free(s->output);
	s->output = xstrdup("/tmp/x.img"); /* a file: efi-vars.fd needs its own name */
	free(s->efi_vars_out);
	s->efi_vars_out = NULL;
	ASSERT_INVALID(s, -EINVAL,
		       "touchEFIVars: -o names a file; give efiVarsOut (--efi-vars-out F), or -o "
		       "DIR/ for DIR/efi-vars.fd");
	s->efi_vars_out = xstrdup("/tmp/v.fd");
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	s->arch = PART_ARCH_RISCV64;
	ASSERT_INVALID(s, -ENOTSUP,
		       "touchEFIVars: only arch x86-64 and aarch64 have a systemd-boot for "
		       "Boot0000");
	s->arch = PART_ARCH_X86_64;
	s->touch_efi_vars = false;
	ASSERT_INVALID(s, -EINVAL, "efiVarsOut: needs touchEFIVars (--touch-efi-vars)");
}

TEST(bootloader_resolution)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	struct diag d = { 0 };

	/* auto without a kernel: nothing to install */
	s->partition_table = PART_TABLE_EFI;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_NONE);
	/* auto with --kernel on an EFI layout: systemd-boot */
	s->kernel = xstrdup("/boot/vmlinuz");
	s->systemd_boot_efi = xstrdup("/sdboot.efi");
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_SYSTEMD_BOOT);
	/* installBootLoader = false and bootloader none win */
	s->install_bootloader_set = true;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_NONE);
	s->install_bootloader_set = false;
	s->bootloader = SPEC_BOOTLOADER_NONE;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_NONE);
	/* systemd-boot needs an ESP and a supported arch */
	s->bootloader = SPEC_BOOTLOADER_SYSTEMD_BOOT;
	s->partition_table = PART_TABLE_LEGACY_GPT;
	ASSERT_INVALID(s, -EINVAL, "bootloader systemd-boot: partitionTableType legacy+gpt has "
			  "no ESP (use efi, efixbootldr or hybrid)");
	s->partition_table = PART_TABLE_EFIXBOOTLDR;
	s->boot_size_bytes = 200ull << 20;
	s->arch = PART_ARCH_RISCV64;
	ASSERT_INVALID(s, -ENOTSUP, "bootloader systemd-boot: only arch x86-64 and aarch64 are "
			  "supported");
	s->arch = PART_ARCH_AARCH64;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_SYSTEMD_BOOT);
	/* initrd and cmdline belong to a kernel */
	free(s->kernel);
	s->kernel = NULL;
	s->cmdline = xstrdup("ro");
	ASSERT_INVALID(s, -EINVAL, "cmdline: needs kernel (--kernel F)");
}

/* GRUB's i386-pc and x86_64-efi modules with grub-mkimage beside them, under root: 0 */
static int fake_grub(const char *root, bool bios, bool efi)
{
	return (bios ? fake_file(root, "/usr/lib/grub/i386-pc/boot.img", 0644) : 0) |
	       (efi ? fake_file(root, "/usr/lib/grub/x86_64-efi/kernel.img", 0644) : 0) |
	       fake_file(root, "/usr/bin/grub-mkimage", 0755);
}

TEST(hybrid_auto_adds_grub_for_bios)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	char *root = fake_root_new();
	_cleanup_free_ char *found = NULL;

	ASSERT_TRUE(root != NULL);
	s->kernel = xstrdup("/boot/vmlinuz");
	s->systemd_boot_efi = xstrdup("/sdboot.efi");
	s->partition_table = PART_TABLE_HYBRID;
	/* grubDir given: systemd-boot and GRUB for BIOS */
	s->grub_dir = xstrdup("/opt/grub/lib/grub/i386-pc");
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_SYSTEMD_BOOT);
	ASSERT_TRUE(s->install_grub_bios);
	ASSERT_STR_EQ(s->grub_dir, "/opt/grub/lib/grub/i386-pc");
	/* an explicit bootloader keeps to itself */
	s->bootloader = SPEC_BOOTLOADER_SYSTEMD_BOOT;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_TRUE(!s->install_grub_bios);
	s->bootloader = SPEC_BOOTLOADER_GRUB;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_GRUB);
	ASSERT_TRUE(!s->install_grub_bios);
	/* other layouts: one loader */
	s->bootloader = SPEC_BOOTLOADER_AUTO;
	s->partition_table = PART_TABLE_EFI;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_TRUE(!s->install_grub_bios);
	/* without grubDir and no GRUB in the search root: systemd-boot alone */
	free(s->grub_dir);
	s->grub_dir = NULL;
	s->partition_table = PART_TABLE_HYBRID;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_SYSTEMD_BOOT);
	ASSERT_TRUE(!s->install_grub_bios && s->grub_dir == NULL);
	/* GRUB's i386-pc modules there: both */
	s->search_root = root;
	ASSERT_OK(fake_grub(root, true, false));
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_SYSTEMD_BOOT);
	ASSERT_TRUE(s->install_grub_bios);
	found = xasprintf("%s/usr/lib/grub/i386-pc", root);
	ASSERT_STR_EQ(s->grub_dir, found);
	/* no kernel: nothing at all */
	free(s->kernel);
	s->kernel = NULL;
	ASSERT_OK(spec_validate(s, &(struct diag){ 0 }));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_NONE);
	ASSERT_TRUE(!s->install_grub_bios);
	fake_root_free(root);
}

/* Found by default: each loader key not given is filled from boot/find.c's places in the
 * search root; auto on a BIOS-only layout installs GRUB when its modules are there. */
TEST(loaders_found_by_default)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	char *root = fake_root_new();
	_cleanup_free_ char *want = NULL, *dir = NULL;
	struct diag d = { 0 };

	ASSERT_TRUE(root != NULL);
	s->search_root = root;
	s->kernel = xstrdup("/boot/vmlinuz");
	/* auto on legacy, legacy+gpt: nothing without GRUB, GRUB with it */
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_NONE);
	ASSERT_OK(fake_grub(root, true, false));
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_GRUB);
	want = xasprintf("%s/usr/lib/grub/i386-pc", root);
	ASSERT_STR_EQ(s->grub_dir, want);
	ASSERT_TRUE(s->grub_efi_dir == NULL);
	free(s->grub_dir);
	s->grub_dir = NULL;
	s->partition_table = PART_TABLE_LEGACY_GPT;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_GRUB);
	ASSERT_STR_EQ(s->grub_dir, want);
	free(s->grub_dir);
	s->grub_dir = NULL;
	/* ... but not without a kernel, and not for an arch GRUB for BIOS is not */
	free(s->kernel);
	s->kernel = NULL;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_NONE);
	s->kernel = xstrdup("/boot/vmlinuz");
	s->arch = PART_ARCH_AARCH64;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_NONE);
	s->arch = PART_ARCH_X86_64;
	/* a list with neither a BIOS boot partition nor an ESP: auto installs nothing */
	s->partition_table = PART_TABLE_GPT;
	s->partitions = xcalloc(1, sizeof(*s->partitions));
	s->n_partitions = 1;
	s->partitions[0].type = xstrdup("root");
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_NONE);
	ASSERT_TRUE(s->grub_dir == NULL);
	free(s->partitions[0].type);
	free(s->partitions);
	s->partitions = NULL;
	s->n_partitions = 0;

	/* bootloader grub on hybrid: both GRUBs found, both installed */
	s->partition_table = PART_TABLE_HYBRID;
	s->bootloader = SPEC_BOOTLOADER_GRUB;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_STR_EQ(s->grub_dir, want);
	ASSERT_TRUE(s->grub_efi_dir == NULL); /* not installed in the fake root yet */
	free(s->grub_dir);
	s->grub_dir = NULL;
	ASSERT_OK(fake_grub(root, false, true));
	ASSERT_OK(spec_validate(s, &d));
	dir = xasprintf("%s/usr/lib/grub/x86_64-efi", root);
	ASSERT_STR_EQ(s->grub_dir, want);
	ASSERT_STR_EQ(s->grub_efi_dir, dir);
	/* one given: the other is not looked up */
	free(s->grub_efi_dir);
	s->grub_efi_dir = NULL;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_TRUE(s->grub_efi_dir == NULL);
	free(s->grub_dir);
	s->grub_dir = NULL;
	/* bootloader grub on efi: x86_64-efi */
	s->partition_table = PART_TABLE_EFI;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_TRUE(s->grub_dir == NULL);
	ASSERT_STR_EQ(s->grub_efi_dir, dir);
	free(s->grub_efi_dir);
	s->grub_efi_dir = NULL;
	s->search_root = NO_ROOT;
	ASSERT_INVALID(s, -ENOENT,
		       "bootloader grub: no GRUB x86_64-efi modules found (tried " NO_ROOT
		       "/usr/lib/grub/x86_64-efi, " NO_ROOT "/run/current-system/sw/lib/grub/"
		       "x86_64-efi; install grub-efi-amd64-bin or give --grub-efi-dir DIR)");
	s->search_root = root;

	/* systemd-boot: found, or the paths tried */
	s->bootloader = SPEC_BOOTLOADER_AUTO;
	free(dir);
	dir = xasprintf("systemd-boot: no systemd-bootx64.efi found (tried "
			"%1$s/usr/lib/systemd/boot/efi/systemd-bootx64.efi, "
			"%1$s/run/current-system/sw/lib/systemd/boot/efi/systemd-bootx64.efi; "
			"install systemd-boot-efi or give --systemd-boot-efi F)", root);
	ASSERT_INVALID(s, -ENOENT, dir);
	ASSERT_TRUE(fake_file(root, "/usr/lib/systemd/boot/efi/systemd-bootx64.efi", 0644) == 0);
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_SYSTEMD_BOOT);
	free(want);
	want = xasprintf("%s/usr/lib/systemd/boot/efi/systemd-bootx64.efi", root);
	ASSERT_STR_EQ(s->systemd_boot_efi, want);

	/* touchEFIVars: the arch's template */
	s->touch_efi_vars = true;
	s->efi_vars_out = xstrdup("/tmp/v.fd");
	ASSERT_TRUE(fake_file(root, "/usr/share/OVMF/OVMF_VARS.fd", 0644) == 0);
	ASSERT_TRUE(fake_file(root, "/usr/share/AAVMF/AAVMF_VARS.fd", 0644) == 0);
	ASSERT_OK(spec_validate(s, &d));
	free(want);
	want = xasprintf("%s/usr/share/OVMF/OVMF_VARS.fd", root);
	ASSERT_STR_EQ(s->efi_vars_template, want);
	free(s->efi_vars_template);
	s->efi_vars_template = NULL;
	free(s->systemd_boot_efi);
	s->systemd_boot_efi = xstrdup("/sdboot-aa64.efi");
	s->arch = PART_ARCH_AARCH64;
	ASSERT_OK(spec_validate(s, &d));
	free(want);
	want = xasprintf("%s/usr/share/AAVMF/AAVMF_VARS.fd", root);
	ASSERT_STR_EQ(s->efi_vars_template, want);
	/* given: kept */
	free(s->efi_vars_template);
	s->efi_vars_template = xstrdup("/mine.fd");
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_STR_EQ(s->efi_vars_template, "/mine.fd");
	fake_root_free(root);
}

/* compression options are refused for a format that does not take them (format/format.c's
 * table); the others are left for the formats that do (a spec for qcow2 built as raw). */
TEST(format_options_asked_of_the_format)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	struct diag d = { 0 };

	free(s->format);
	s->format = xstrdup("vdi");
	s->compression = FORMAT_COMPRESSION_DEFLATE;
	ASSERT_INVALID(s, -EINVAL,
		       "compression applies to format qcow2-compressed, not vdi (remove "
		       "compression or set format = qcow2-compressed)");
	s->compression = FORMAT_COMPRESSION_NONE;
	/* raw takes a level too, but only with compress: the hint names qcow2-compressed */
	s->compression_level = 3;
	ASSERT_INVALID(s, -EINVAL,
		       "compressionLevel applies to format raw, qcow2-compressed, vmdk, gce or ova, "
		       "not vdi (remove it or set format = qcow2-compressed)");
	s->compression_level = 0;
	s->cluster_size = 65536;
	s->threads = 2;
	s->vpc_subformat = FORMAT_VPC_FIXED;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_TRUE(!format_accepts(format_find("vdi"), FORMAT_OPT_CLUSTER_SIZE));
	ASSERT_TRUE(format_accepts(format_find("qcow2"), FORMAT_OPT_CLUSTER_SIZE));
	ASSERT_TRUE(!format_accepts(format_find("qcow2"), FORMAT_OPT_THREADS));
	ASSERT_TRUE(format_accepts(format_find("vpc"), FORMAT_OPT_VPC_SUBFORMAT));
	ASSERT_STR_EQ(format_names_accepting(FORMAT_OPT_CLUSTER_SIZE), "qcow2 or qcow2-compressed");
	ASSERT_STR_EQ(format_names(), "raw, qcow2, qcow2-compressed, vdi, vpc, vmdk, vhdx, gce, ova");
	ASSERT_STR_EQ(format_names_or(), "raw, qcow2, qcow2-compressed, vdi, vpc, vmdk, vhdx, gce or ova");
	/* whole-file compression and double extensions */
	ASSERT_TRUE(format_from_file_name("out/nixos.img.zst") == format_find("raw"));
	ASSERT_TRUE(format_from_file_name("nixos.raw.XZ") == format_find("raw"));
	ASSERT_TRUE(format_from_file_name("nixos.qcow2.gz") == NULL);
	ASSERT_TRUE(format_from_file_name("nixos-image.raw.tar.gz") == format_find("gce"));
	ASSERT_TRUE(format_from_file_name("x.tar.gz/disk.gz") == NULL);
	ASSERT_EQ(format_file_compress_from_name("nixos.img.zst"), FORMAT_FILE_COMPRESS_ZSTD);
	ASSERT_EQ(format_file_compress_from_name("nixos.img.gz"), FORMAT_FILE_COMPRESS_GZIP);
	ASSERT_EQ(format_file_compress_from_name("nixos.img.xz"), FORMAT_FILE_COMPRESS_XZ);
	ASSERT_EQ(format_file_compress_from_name("nixos.raw.tar.gz"), FORMAT_FILE_COMPRESS_NONE);
	ASSERT_EQ(format_file_compress_from_name("nixos.img"), FORMAT_FILE_COMPRESS_NONE);
	ASSERT_TRUE(format_from_file_name("a/disk.VHD") == format_find("vpc"));
	ASSERT_TRUE(format_from_file_name("disk.vhdx") == format_find("vhdx"));
	ASSERT_TRUE(format_accepts(format_find("vhdx"), FORMAT_OPT_VHDX_BLOCK_SIZE));
	ASSERT_TRUE(format_from_file_name("disk.qcow2") == format_find("qcow2"));
	ASSERT_TRUE(format_from_file_name("disk.raw") == format_find("raw"));
	ASSERT_TRUE(format_from_file_name("dir.vdi/disk") == NULL);
}

static struct spec_partition *add_partition(struct image_spec *s, const char *type)
{
	struct spec_partition *p;

	s->partitions = xreallocarray(s->partitions, s->n_partitions + 1, sizeof(*s->partitions));
	p = &s->partitions[s->n_partitions++];
	*p = (struct spec_partition){ .type = xstrdup(type) };
	return p;
}

TEST(partitions_need_gpt_or_mbr)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	struct diag d = { 0 };

	s->partition_table = PART_TABLE_GPT;
	ASSERT_INVALID(s, -EINVAL, "partitionTableType gpt: needs a \"partitions\" list");
	s->partition_table = PART_TABLE_MBR;
	ASSERT_INVALID(s, -EINVAL, "partitionTableType mbr: needs a \"partitions\" list");
	add_partition(s, "root");
	ASSERT_OK(spec_validate(s, &d));
	s->partition_table = PART_TABLE_EFI;
	ASSERT_INVALID(s, -EINVAL, "partitions: needs partitionTableType gpt or mbr, not "
				   "partitionTableType efi (a preset has its own partitions)");
	s->partition_table = PART_TABLE_LEGACY;
	ASSERT_INVALID(s, -EINVAL, "partitions: needs partitionTableType gpt or mbr, not "
				   "partitionTableType legacy (a preset has its own partitions)");
}

TEST(partitions_fit_the_table)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	struct diag d = { 0 };

	s->partition_table = PART_TABLE_MBR;
	for (int i = 0; i < 4; i++)
		add_partition(s, i ? "linux" : "root");
	ASSERT_OK(spec_validate(s, &d));
	add_partition(s, "linux");
	ASSERT_INVALID(s, -EINVAL,
		       "partitions: 5 partitions; an MBR holds at most 4 (extended partitions are "
		       "not supported: use partitionTableType gpt)");
	s->partition_table = PART_TABLE_GPT;
	while (s->n_partitions < 128)
		add_partition(s, "linux");
	ASSERT_OK(spec_validate(s, &d));
	add_partition(s, "linux");
	ASSERT_INVALID(s, -EINVAL, "partitions: 129 partitions; a GPT holds at most 128");
}

TEST(partitions_checks)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	static const char *const fs[] = { "ext4", "vfat", "swap", "raw", "none" };
	struct spec_partition *esp, *root, *data;
	struct diag d = { 0 };

	s->partition_table = PART_TABLE_GPT;
	esp = add_partition(s, "esp");
	root = add_partition(s, "root");
	data = add_partition(s, "linux");
	(void)esp;
	(void)root;
	for (size_t i = 0; i < ARRAY_SIZE(fs); i++) {
		free(data->fs);
		data->fs = xstrdup(fs[i]);
		ASSERT_OK(spec_validate(s, &d));
	}
	free(data->fs);
	data->fs = xstrdup("btrfs");
	ASSERT_INVALID(s, -EINVAL,
		       "partitions[2].fs \"btrfs\": unknown (use ext4, vfat, erofs, swap, raw or "
		       "none)");
	free(data->fs);
	data->fs = NULL;

	data->min_bytes = 2 << 20;
	data->max_bytes = 1 << 20;
	ASSERT_INVALID(s, -EINVAL, "partitions[2]: minSize is larger than maxSize");
	data->min_bytes = data->max_bytes = 0;

	s->partitions[1].size_kind = SPEC_PART_SIZE_REST;
	ASSERT_OK(spec_validate(s, &d));
	s->partitions[2].size_kind = SPEC_PART_SIZE_REST;
	ASSERT_INVALID(s, -EINVAL,
		       "partitions[2].size \"rest\": only one partition may take the rest "
		       "(partitions[1] does)");
	s->partitions[2].size_kind = SPEC_PART_SIZE_AUTO;

	add_partition(s, "root");
	ASSERT_INVALID(s, -EINVAL,
		       "partitions[3]: a second root partition (partitions[1] is one; at most one)");
	free(s->partitions[3].type);
	s->partitions[3].type = xstrdup("esp");
	ASSERT_INVALID(s, -EINVAL,
		       "partitions[3]: a second esp partition (partitions[0] is one; at most one)");
	free(s->partitions[3].type);
	s->partitions[3].type = xstrdup("home");
	ASSERT_OK(spec_validate(s, &d));
}

/* A list gets the loaders its partitions allow, and is told which partition to add. */
TEST(partitions_bootloaders_by_what_the_list_has)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	struct diag d = { 0 };

	s->kernel = xstrdup("/boot/vmlinuz");
	s->partition_table = PART_TABLE_GPT;
	add_partition(s, "root");
	s->bootloader = SPEC_BOOTLOADER_SYSTEMD_BOOT;
	ASSERT_INVALID(s, -EINVAL, "bootloader systemd-boot: the partitions have no ESP; add "
				   "{\"type\": \"esp\", \"size\": \"512M\"}");
	s->bootloader = SPEC_BOOTLOADER_GRUB;
	s->grub_dir = xstrdup("/usr/lib/grub/i386-pc");
	ASSERT_INVALID(s, -EINVAL, "bootloader grub: GRUB for BIOS needs a BIOS boot partition; "
				   "add {\"type\": \"bios-boot\", \"size\": \"1M\"} (or grubEfiDir "
				   "for GRUB on UEFI)");
	add_partition(s, "bios-boot");
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_GRUB);
	/* on MBR the gap before partition 1 is GRUB's */
	s->partition_table = PART_TABLE_MBR;
	free(s->partitions[1].type);
	s->partitions[1].type = xstrdup("swap");
	ASSERT_OK(spec_validate(s, &d));
	/* an ESP: systemd-boot by default */
	s->partition_table = PART_TABLE_GPT;
	free(s->partitions[1].type);
	s->partitions[1].type = xstrdup("esp");
	s->bootloader = SPEC_BOOTLOADER_SYSTEMD_BOOT;
	s->systemd_boot_efi = xstrdup("/sdboot.efi");
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_SYSTEMD_BOOT);
}

/* What a partition asks for that would be dropped silently is refused. */
TEST(partitions_nothing_dropped)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();
	struct spec_partition *root, *data;
	struct diag d = { 0 };

	s->partition_table = PART_TABLE_GPT;
	add_partition(s, "root");
	data = add_partition(s, "linux");
	root = &s->partitions[0]; /* add_partition() moves the array */
	data->uuid_set = true;
	data->uuid[0] = 1;
	data->required = data->no_auto = data->read_only = data->grow_fs = true;
	ASSERT_OK(spec_validate(s, &d));
	/* PARTUUIDs differ */
	data->required = data->no_auto = data->read_only = data->grow_fs = false;
	root->uuid_set = data->uuid_set = true;
	root->uuid[0] = 1;
	ASSERT_INVALID(s, -EINVAL, "partitions[1].uuid: the same as partitions[0]'s (PARTUUIDs "
				   "must differ)");
	data->uuid[15] = 1;
	ASSERT_OK(spec_validate(s, &d));
	/* minSize bounds auto and rest (maxSize off rest: build/model.c) */
	data->size_kind = SPEC_PART_SIZE_FIXED;
	data->size_bytes = 4 << 20;
	data->min_bytes = 8 << 20;
	ASSERT_INVALID(s, -EINVAL, "partitions[1].minSize: bounds a size \"auto\" or \"rest\"; "
				   "this partition's size is fixed (drop it, or use \"auto\")");
	data->min_bytes = 0;
	ASSERT_OK(spec_validate(s, &d));
	/* contents need a filesystem that takes them */
	data->contents = xstrdup("blob.bin");
	data->fs = xstrdup("none");
	ASSERT_INVALID(s, -EINVAL, "partitions[1].contents: fs none takes no contents (use fs "
				   "raw for a file, ext4, vfat or erofs for a directory)");
	free(data->fs);
	data->fs = xstrdup("swap");
	ASSERT_INVALID(s, -EINVAL, "partitions[1].contents: fs swap takes no contents (use fs "
				   "raw for a file, ext4, vfat or erofs for a directory)");
	free(data->fs);
	data->fs = xstrdup("raw");
	ASSERT_OK(spec_validate(s, &d));
}

/* --help states the defaults: every place boot/find.c tries is in the help of its key (the
 * systemd-boot binary's with ARCH for x64 and aa64). */
TEST(help_names_every_default_place)
{
	static const struct {
		const char *key;
		enum boot_find_kind kind;
		enum part_arch arch;
	} cases[] = {
		{ "systemdBootEfi", BOOT_FIND_SDBOOT, PART_ARCH_X86_64 },
		{ "systemdBootEfi", BOOT_FIND_SDBOOT, PART_ARCH_AARCH64 },
		{ "grubDir", BOOT_FIND_GRUB_BIOS, PART_ARCH_X86_64 },
		{ "grubEfiDir", BOOT_FIND_GRUB_EFI, PART_ARCH_X86_64 },
		{ "efiVariables", BOOT_FIND_EFI_VARS, PART_ARCH_X86_64 },
		{ "efiVariables", BOOT_FIND_EFI_VARS, PART_ARCH_AARCH64 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct spec_option *o = spec_option_by_key(cases[i].key);
		const char *const *p = boot_find_places(cases[i].kind, cases[i].arch);

		ASSERT_TRUE(o && o->help && p && *p);
		for (; *p; p++) {
			_cleanup_free_ char *sub = NULL;
			const char *want = *p, *a = strstr(*p, "systemd-boot");

			if (cases[i].kind == BOOT_FIND_SDBOOT && a) { /* systemd-boot<arch>.efi */
				sub = xasprintf("%.*ssystemd-bootARCH.efi", (int)(a - *p), *p);
				want = sub;
			}
			if (!strstr(o->help, want)) {
				fprintf(stderr, "  %s's help does not name %s\n", cases[i].key, want);
				ASSERT_TRUE(false);
			}
		}
	}
}

TEST(grub_efi_bootloader_id_checks)
{
	_cleanup_(image_spec_freep) struct image_spec *s = spec_with_output();

	s->grub_efi_no_nvram = true;
	ASSERT_INVALID(s, -EINVAL,
		       "grubEfiNoNvram: needs grubEfiBootloaderId (the removable path has no Boot "
		       "entry anyway)");
	s->grub_efi_no_nvram = false;
	s->grub_efi_id = xstrdup("../x");
	ASSERT_INVALID(s, -EINVAL,
		       "grubEfiBootloaderId \"../x\": give 1 to 64 letters, digits, '.', '_' or "
		       "'-', not starting with '.' (e.g. NixOS-boot)");
	free(s->grub_efi_id);
	s->grub_efi_id = xstrdup("NixOS-boot");
	ASSERT_INVALID(s, -EINVAL,
		       "grubEfiBootloaderId: needs bootloader grub with grubEfiDir (GRUB for UEFI)");
}
