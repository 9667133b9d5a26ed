#include "spec/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/test.h"
#include "util/uuid.h"
#include "util/xalloc.h"

/* spec_parse_args over "build" and the given words (NULL-terminated); getopt may permute
 * argv, so it gets a copy of the pointers. */
static int parse_argv(struct image_spec *s, struct diag *d, const char *const *words)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = (char *)"build";
	while (*words && argc < 63)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	*d = (struct diag){ 0 };
	return spec_parse_args(s, argc, argv, d);
}

#define PARSE(s, d, ...) parse_argv(s, d, (const char *const[]){ __VA_ARGS__, NULL })

#define ASSERT_PARSE_FAILS(want_err, want_msg, ...)                                    \
	do {                                                                          \
		_cleanup_(image_spec_freep) struct image_spec *_s = image_spec_new(); \
		struct diag _d;                                                       \
		ASSERT_ERR(PARSE(_s, &_d, __VA_ARGS__), want_err);                    \
		ASSERT_STR_EQ(_d.msg, want_msg);                                      \
	} while (0)

static char *spec_file(const char *json)
{
	char path[] = "/tmp/spec-flags-test.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f)
		abort();
	fputs(json, f);
	fclose(f);
	return xstrdup(path);
}

TEST(flags_every_flag)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d;
	char u[UUID_STR_LEN];

	ASSERT_OK(PARSE(s, &d, "--root", "rel/root", "--contents", "/a:/etc/a", "--contents",
			"src:/b:0644:root:wheel", "--partition-table", "hybrid", "--fs", "ext4",
			"--label", "L", "--disk-size", "4096", "--additional-space", "1G",
			"--boot-size", "300M", "--format", "vdi", "--base-name", "img", "-o",
			"out.img", "--no-deterministic", "--seed", "abc", "--root-gpuid",
			"00112233-4455-6677-8899-AABBCCDDEEFF", "--root-fsuid",
			"ffeeddcc-bbaa-9988-7766-554433221100", "--owner", "0:0", "--arch",
			"riscv64", "--generic-root-type", "--reserved-percent", "1", "--json",
			"--no-progress", "--cluster-size", "128K", "--compression", "zstd",
			"--threads", "3", "--vpc-subformat", "fixed"));
	ASSERT_STR_EQ(s->root, "rel/root"); /* relative to the working directory: kept */
	ASSERT_EQ(s->n_contents, 2);
	ASSERT_STR_EQ(s->contents[0].source, "/a");
	ASSERT_STR_EQ(s->contents[0].target, "/etc/a");
	ASSERT_TRUE(!s->contents[0].mode && !s->contents[0].user && !s->contents[0].group);
	ASSERT_STR_EQ(s->contents[1].source, "src");
	ASSERT_STR_EQ(s->contents[1].mode, "0644");
	ASSERT_STR_EQ(s->contents[1].user, "root");
	ASSERT_STR_EQ(s->contents[1].group, "wheel");
	ASSERT_EQ(s->partition_table, PART_TABLE_HYBRID);
	ASSERT_STR_EQ(s->fs_type, "ext4");
	ASSERT_STR_EQ(s->label, "L");
	ASSERT_TRUE(!s->disk_size_auto);
	ASSERT_EQ(s->disk_size_bytes, 4096ull << 20);
	ASSERT_EQ(s->additional_space_bytes, 1ull << 30);
	ASSERT_EQ(s->boot_size_bytes, 300ull << 20);
	ASSERT_STR_EQ(s->format, "vdi");
	ASSERT_STR_EQ(s->base_name, "img");
	ASSERT_STR_EQ(s->output, "out.img");
	ASSERT_TRUE(!s->deterministic);
	ASSERT_STR_EQ(s->seed, "abc");
	uuid_format(s->root_gpuid, u);
	ASSERT_STR_EQ(u, "00112233-4455-6677-8899-aabbccddeeff");
	uuid_format(s->root_fsuid, u);
	ASSERT_STR_EQ(u, "ffeeddcc-bbaa-9988-7766-554433221100");
	ASSERT_TRUE(s->root_gpuid_set && s->root_fsuid_set);
	ASSERT_TRUE(s->owner_set && s->owner_uid == 0 && s->owner_gid == 0);
	ASSERT_EQ(s->arch, PART_ARCH_RISCV64);
	ASSERT_TRUE(s->generic_root_type);
	ASSERT_EQ(s->reserved_percent, 1);
	ASSERT_EQ(s->cluster_size, 128u << 10);
	ASSERT_EQ(s->compression, FORMAT_COMPRESSION_ZSTD);
	ASSERT_EQ(s->threads, 3);
	ASSERT_EQ(s->vpc_subformat, FORMAT_VPC_FIXED);
	ASSERT_TRUE(s->json);
	ASSERT_TRUE(s->progress_set && !s->progress);
	ASSERT_TRUE(!s->help);
}

TEST(flags_toggles_last_wins)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d;

	ASSERT_OK(PARSE(s, &d, "--no-deterministic", "--deterministic", "--no-progress",
			"--progress", "--output=x", "--disk-size=8", "--disk-size", "auto"));
	ASSERT_TRUE(s->deterministic);
	ASSERT_TRUE(s->progress_set && s->progress);
	ASSERT_STR_EQ(s->output, "x");
	ASSERT_TRUE(s->disk_size_auto);
}

TEST(flags_override_spec_in_any_order)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	char *path = spec_file("{\"label\": \"fromspec\", \"diskSize\": 100, \"seed\": \"x\", "
			       "\"deterministic\": false, "
			       "\"contents\": [{\"source\": \"/s\", \"target\": \"/s\"}]}");
	struct diag d;

	/* The flags come before --spec on the line and still win. */
	ASSERT_OK(PARSE(s, &d, "--label", "fromflag", "--contents", "/f:/f", "--deterministic",
			"--spec", path));
	(void)unlink(path);
	free(path);
	ASSERT_STR_EQ(s->label, "fromflag");
	ASSERT_EQ(s->disk_size_bytes, 100ull << 20); /* the spec's, not overridden */
	ASSERT_STR_EQ(s->seed, "x");
	ASSERT_TRUE(s->deterministic);
	ASSERT_EQ(s->n_contents, 1); /* --contents replaces the spec's list */
	ASSERT_STR_EQ(s->contents[0].source, "/f");
}

TEST(flags_spec_contents_kept_without_contents_flag)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	char *path = spec_file("{\"contents\": [{\"source\": \"/s\", \"target\": \"/s\"}]}");
	struct diag d;

	ASSERT_OK(PARSE(s, &d, "--spec", path, "--label", "x"));
	(void)unlink(path);
	free(path);
	ASSERT_EQ(s->n_contents, 1);
	ASSERT_STR_EQ(s->contents[0].source, "/s");
}

TEST(flags_contents_split_rule)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d;

	ASSERT_OK(PARSE(s, &d, "--contents", "a\\:b:/t\\\\x:755", "--contents", "/x:/y:::",
			"--contents", "/p:/q::1000:100"));
	ASSERT_EQ(s->n_contents, 3);
	ASSERT_STR_EQ(s->contents[0].source, "a:b");
	ASSERT_STR_EQ(s->contents[0].target, "/t\\x");
	ASSERT_STR_EQ(s->contents[0].mode, "755");
	ASSERT_TRUE(!s->contents[1].mode && !s->contents[1].user && !s->contents[1].group);
	ASSERT_TRUE(!s->contents[2].mode);
	ASSERT_STR_EQ(s->contents[2].user, "1000");
	ASSERT_STR_EQ(s->contents[2].group, "100");
}

TEST(flags_format_option_errors)
{
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--cluster-size 3000: not a power of two from 0.5K to 2M (use e.g. 64K; "
			   "a number without a suffix is MiB)",
			   "--cluster-size", "3000");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--cluster-size 4M: not a power of two from 0.5K to 2M (use e.g. 64K; a "
			   "number without a suffix is MiB)",
			   "--cluster-size", "4M");
	ASSERT_PARSE_FAILS(-EINVAL, "--compression xz: unknown (use deflate or zstd for "
			   "qcow2-compressed, lz4 or lz4hc for erofs)", "--compression", "xz");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--threads -1: not a number of threads from 0 to 1024 (0: one per core)",
			   "--threads=-1");
	ASSERT_PARSE_FAILS(-EINVAL, "--vpc-subformat static: unknown (use dynamic or fixed)",
			   "--vpc-subformat", "static");
}

TEST(flags_contents_errors)
{
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--contents /a: expected SRC:TARGET[:MODE[:USER:GROUP]] (write ':' in a "
			   "path as '\\:')",
			   "--contents", "/a");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--contents /a:/b:644:root: user set without group (use "
			   "SRC:TARGET:MODE:USER:GROUP)",
			   "--contents", "/a:/b:644:root");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--contents /a:/b:644::wheel: group set without user (use "
			   "SRC:TARGET:MODE:USER:GROUP)",
			   "--contents", "/a:/b:644::wheel");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--contents /a:/b:6:u:g:x: expected SRC:TARGET[:MODE[:USER:GROUP]] "
			   "(write ':' in a path as '\\:')",
			   "--contents", "/a:/b:6:u:g:x");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--contents /a\\n:/b: expected SRC:TARGET[:MODE[:USER:GROUP]] (write ':' "
			   "in a path as '\\:')",
			   "--contents", "/a\\n:/b");
}

TEST(flags_bad_values_name_the_flag)
{
	ASSERT_PARSE_FAILS(-EINVAL, "--disk-size 12X: not a size (use \"auto\" or MiB, e.g. 2048)",
			   "--disk-size", "12X");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--root-gpuid xyz: not a UUID (expected 8-4-4-4-12 hex digits)",
			   "--root-gpuid", "xyz");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--partition-table msdos: unknown (use none, legacy, legacy+boot, "
			   "legacy+gpt, efi, efixbootldr or hybrid; gpt or mbr with partitions)",
			   "--partition-table", "msdos");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--additional-space 5m: not a size (use a number of MiB, or one with a K, "
			   "M, G, T, P or E suffix, e.g. 512M)",
			   "--additional-space", "5m");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--owner 0: not an owner (use numeric UID:GID, e.g. 0:0)", "--owner",
			   "0");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--label abcdefghijklmnopq: 17 bytes long; a label holds at most 16 "
			   "bytes",
			   "--label", "abcdefghijklmnopq");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--format qcow3: unknown (use raw, qcow2, qcow2-compressed, vdi, vpc, "
			   "vmdk, vhdx, gce or ova)",
			   "--format", "qcow3");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--reserved-percent -1: not a whole percentage from 0 to 50 (mke2fs's -m "
			   "limit)",
			   "--reserved-percent=-1");
	/* issue #11: sizes past what the disk can hold are refused, not wrapped */
	ASSERT_PARSE_FAILS(-ERANGE,
			   "--additional-space 18446744073709551615: too large (at most 16T: an "
			   "ext4 root holds at most 16 TiB)",
			   "--additional-space", "18446744073709551615");
	ASSERT_PARSE_FAILS(-ERANGE,
			   "--additional-space 99999999999999999999999: too large (at most 16T: an "
			   "ext4 root holds at most 16 TiB)",
			   "--additional-space", "99999999999999999999999");
	ASSERT_PARSE_FAILS(-ERANGE,
			   "--boot-size 3T: too large (at most 2T: a FAT boot partition holds at "
			   "most 2 TiB)",
			   "--boot-size", "3T");
	ASSERT_PARSE_FAILS(-EINVAL, "label: not valid UTF-8 (byte 2 is 0xff); use UTF-8 text",
			   "--label", "ab\xff");
	ASSERT_PARSE_FAILS(-EINVAL, "label: not valid UTF-8 (byte 0 is 0xed); use UTF-8 text",
			   "--label", "\xed\xa0\x80"); /* a UTF-16 surrogate */
}

TEST(flags_sizes_at_their_limits)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d;

	ASSERT_OK(PARSE(s, &d, "--additional-space", "16T", "--boot-size", "2T", "--label",
			"\xc3\xa9t\xc3\xa9"));
	ASSERT_EQ(s->additional_space_bytes, 16ull << 40);
	ASSERT_EQ(s->boot_size_bytes, 2ull << 40);
	ASSERT_STR_EQ(s->label, "\xc3\xa9t\xc3\xa9");
}

TEST(flags_usage_errors)
{
	ASSERT_PARSE_FAILS(-EINVAL, "unknown option --bogus (see mkdiskimage build --help)",
			   "--bogus");
	ASSERT_PARSE_FAILS(-EINVAL, "unknown option -x (see mkdiskimage build --help)", "-x");
	ASSERT_PARSE_FAILS(-EINVAL, "--label needs a value (see mkdiskimage build --help)",
			   "--label");
	ASSERT_PARSE_FAILS(-EINVAL, "-o needs a value (see mkdiskimage build --help)", "-o");
	ASSERT_PARSE_FAILS(-EINVAL, "--json takes no value (see mkdiskimage build --help)",
			   "--json=1");
	/* the nearest valid flag, also with a value attached */
	ASSERT_PARSE_FAILS(-EINVAL,
			   "unknown option --partion-table; did you mean --partition-table? (see "
			   "mkdiskimage build --help)", "--partion-table", "efi");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "unknown option --lable; did you mean --label? (see mkdiskimage build "
			   "--help)", "--lable=x");
	ASSERT_PARSE_FAILS(-EINVAL,
			   "unexpected argument \"disk.img\" (the image file goes after -o)",
			   "--label", "x", "disk.img");
}

/* usage_error tells the command line's own mistakes (exit 2) from a spec file's (exit 1). */
TEST(flags_usage_error_or_spec_error)
{
	static const char *const usage[][3] = {
		{ "--bogus", NULL }, { "--label", NULL }, { "--disk-size", "12X" },
		{ "--format", "qcow3" }, { "a.img", NULL },
	};
	_cleanup_free_ char *bad = spec_file("{\"diskSize\": \"12X\"}");

	for (size_t i = 0; i < ARRAY_SIZE(usage); i++) {
		_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
		struct diag d;

		ASSERT_ERR(parse_argv(s, &d, usage[i]), -EINVAL);
		ASSERT_TRUE(s->usage_error);
	}
	{
		_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
		struct diag d;

		ASSERT_ERR(PARSE(s, &d, "--spec", bad), -EINVAL);
		ASSERT_TRUE(!s->usage_error);
		(void)unlink(bad);
		ASSERT_ERR(PARSE(s, &d, "--spec", bad), -ENOENT);
		ASSERT_TRUE(!s->usage_error);
	}
}

TEST(flags_missing_spec_file)
{
	ASSERT_PARSE_FAILS(-ENOENT,
			   "/nonexistent.json: cannot read spec file: No such file or directory",
			   "--spec", "/nonexistent.json");
}

TEST(flags_help_stops_early)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d;

	/* --help wins even over a broken value or a missing spec file. */
	ASSERT_OK(PARSE(s, &d, "--disk-size", "bad", "--spec", "/nonexistent.json", "--help"));
	ASSERT_TRUE(s->help);
}

TEST(flags_usage_lists_every_flag_and_key)
{
	static const char *const words[] = {
		"--spec",	   "--root",	      "[root]",
		"--contents",	   "[contents",	      "--partition-table",
		"[partitionTableType]",		      "--fs",
		"[fsType]",	   "--label",	      "[label]",
		"--disk-size",	   "[diskSize]",      "--additional-space",
		"[additionalSpace]",		      "--boot-size",
		"[bootSize]",	   "--format",	      "[format]",
		"--base-name",	   "[baseName]",      "--output",
		"--deterministic", "--no-deterministic", "[deterministic",
		"--seed",	   "[seed]",	      "--root-gpuid",
		"[rootGPUID]",	   "--root-fsuid",    "[rootFSUID]",
		"--owner",	   "[owner]",	      "--arch",
		"[arch]",	   "--generic-root-type", "[genericRootType",
		"--reserved-percent",		      "[reservedPercent]",
		"--cluster-size", "[clusterSize]", "--compression", "[compression]",
		"--threads", "[threads]", "--vpc-subformat", "[vpcSubformat]",
		"--json",	   "--progress",      "--no-progress", "--output-device",
		"--help",	   "installBootLoader", "touchEFIVars",
		"onlyNixStore",	   "copyChannel",     "additionalPaths",
		"configFile",	   "memSize",
	};

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strstr(spec_usage(), words[i]))
			TEST_FAIL_("usage lacks %s", words[i]);
}

TEST(flags_parse_twice)
{
	/* getopt state is reset on each call (the CLI and tests parse more than once). */
	for (int i = 0; i < 3; i++) {
		_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
		struct diag d;

		ASSERT_OK(PARSE(s, &d, "--label", "again", "-o", "x"));
		ASSERT_STR_EQ(s->label, "again");
	}
}

TEST(flags_boot_trees)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d;

	ASSERT_OK(PARSE(s, &d, "--esp", "rel/esp", "--xbootldr", "/boot-tree"));
	ASSERT_STR_EQ(s->esp, "rel/esp");
	ASSERT_STR_EQ(s->xbootldr, "/boot-tree");
	ASSERT_PARSE_FAILS(-EINVAL, "--esp : empty path (omit it for an empty partition)", "--esp",
			   "");
}

TEST(flags_nix_store)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d;

	ASSERT_OK(PARSE(s, &d, "--closure-info", "ci", "--system", "/nix/store/x-system",
			"--config-file", "c.nix", "--channel", "/nix/store/y-channel",
			"--additional-paths", "/nix/store/z", "--passwd", "pw", "--group", "gr",
			"--only-nix-store", "-o", "out.img"));
	ASSERT_STR_EQ(s->closure_info, "ci");
	ASSERT_STR_EQ(s->system, "/nix/store/x-system");
	ASSERT_STR_EQ(s->config_file, "c.nix");
	ASSERT_STR_EQ(s->channel, "/nix/store/y-channel");
	ASSERT_TRUE(s->copy_channel);
	ASSERT_EQ(s->n_additional_paths, 1);
	ASSERT_STR_EQ(s->passwd_file, "pw");
	ASSERT_STR_EQ(s->group_file, "gr");
	ASSERT_TRUE(s->only_nix_store);
	ASSERT_TRUE(!s->label_set);
}

TEST(flags_bootloader)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d;

	ASSERT_EQ(s->bootloader, SPEC_BOOTLOADER_AUTO);
	ASSERT_OK(PARSE(s, &d, "--bootloader", "systemd-boot", "--kernel", "k", "--initrd", "i",
			"--cmdline", "console=ttyS0 ro", "--systemd-boot-efi", "sd.efi"));
	ASSERT_EQ(s->bootloader, SPEC_BOOTLOADER_SYSTEMD_BOOT);
	ASSERT_STR_EQ(s->kernel, "k");
	ASSERT_STR_EQ(s->initrd, "i");
	ASSERT_STR_EQ(s->cmdline, "console=ttyS0 ro");
	ASSERT_STR_EQ(s->systemd_boot_efi, "sd.efi");
	ASSERT_OK(PARSE(s, &d, "--bootloader", "none"));
	ASSERT_EQ(s->bootloader, SPEC_BOOTLOADER_NONE);
	ASSERT_OK(PARSE(s, &d, "--bootloader", "extlinux", "--boot-timeout", "none"));
	ASSERT_EQ(s->bootloader, SPEC_BOOTLOADER_EXTLINUX);
	ASSERT_EQ(s->boot_timeout, -1);
	ASSERT_PARSE_FAILS(-EINVAL,
			   "--bootloader lilo: unknown bootloader (use auto, systemd-boot, grub, "
			   "extlinux or none)",
			   "--bootloader", "lilo");
}
