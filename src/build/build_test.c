#include "build/build.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/test-spawn.h"
#include "util/test.h"
#include "util/uuid.h"
#include "util/xalloc.h"

#define MIB (1ull << 20)
#define SDBOOT_EFI "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"

static const struct build_env test_env = {
	.has_epoch = true, .source_date_epoch = 1700000000, .tmp_dir = "/tmp"
};

/* A small staging root (and a kernel file beside it) in a fresh directory. */
static char *make_dir(void)
{
	char *dir = xstrdup("/tmp/build_test.XXXXXX");
	char *p;
	FILE *f;

	if (!mkdtemp(dir))
		abort();
	p = xasprintf("%s/root", dir);
	if (mkdir(p, 0755) < 0)
		abort();
	free(p);
	p = xasprintf("%s/root/hello", dir);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs("hello, image\n", f);
	fclose(f);
	free(p);
	p = xasprintf("%s/kernel", dir);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs("not really a kernel\n", f);
	fclose(f);
	free(p);
	return dir;
}

static void rm_dir(const char *dir)
{
	char *const argv[] = { (char *)"rm", (char *)"-rf", (char *)dir, NULL };

	(void)test_run(argv, NULL);
}

static struct image_spec *spec_for(const char *dir, enum part_table t, uint64_t boot_mib)
{
	struct image_spec *s = image_spec_new();

	s->root = xasprintf("%s/root", dir);
	s->output = xasprintf("%s/disk.img", dir);
	s->partition_table = t;
	s->additional_space_bytes = MIB;
	if (boot_mib)
		s->boot_size_bytes = boot_mib * MIB;
	return s;
}

static const struct part_entry *find(const struct build_plan *p, enum part_role role)
{
	return part_layout_find(&p->layout, role);
}

/* Partition `role` at [off_mib, off_mib + size_mib) (size 0: not checked). */
#define ASSERT_PART(p, role, off_mib, size_mib)                                          \
	do {                                                                             \
		const struct part_entry *e_ = find(p, role);                             \
		ASSERT_TRUE(e_ != NULL);                                                 \
		ASSERT_EQ(e_->first_lba * 512, (uint64_t)(off_mib) * MIB);                \
		if (size_mib)                                                            \
			ASSERT_EQ(e_->n_lba * 512, (uint64_t)(size_mib) * MIB);          \
	} while (0)

/* What every auto-sized plan promises: whole MiB, the breakdown adds up, the root filesystem
 * fills its partition, the identifiers come from the spec. */
#define ASSERT_PLAN_SANE(p, s)                                                             \
	do {                                                                               \
		uint64_t off_, len_;                                                       \
		uint8_t want_[16];                                                         \
		ASSERT_EQ((p)->layout.disk_bytes % MIB, 0u);                               \
		ASSERT_TRUE((p)->auto_sized);                                              \
		ASSERT_EQ((p)->auto_size.disk_bytes, (p)->layout.disk_bytes);              \
		ASSERT_EQ((p)->auto_size.root_bytes + (p)->auto_size.other_bytes,          \
			  (p)->layout.disk_bytes);                                         \
		ASSERT_EQ((p)->auto_size.additional_bytes, MIB);                           \
		ASSERT_EQ((p)->auto_size.contents_bytes, 13u);                             \
		part_layout_root(&(p)->layout, &off_, &len_);                              \
		ASSERT_TRUE((p)->root_stats.size_bytes <= len_ &&                          \
			    len_ - (p)->root_stats.size_bytes < 4096); /* whole blocks */    \
		ASSERT_TRUE(len_ >= (p)->auto_size.root_bytes);                            \
		ASSERT_OK(uuid_parse(SPEC_DEFAULT_ROOT_GPUID, want_));                     \
		ASSERT_MEM_EQ((p)->root_fs_uuid, want_, 16);                               \
		ASSERT_STR_EQ((p)->output, (s)->output);                                   \
		ASSERT_TRUE((p)->emit_bytes > 0 && (p)->emit_files >= 2);                  \
		ASSERT_EQ((p)->n_warnings, 0u);                                            \
	} while (0)

TEST(build_plan_layouts)
{
	_cleanup_free_ char *dir = make_dir();
	static const struct {
		enum part_table t;
		uint64_t boot_mib;
		size_t n_parts;
		uint64_t root_mib; /* root partition's offset */
	} cases[] = {
		{ PART_TABLE_NONE, 0, 0, 0 },
		{ PART_TABLE_LEGACY, 0, 1, 1 },
		{ PART_TABLE_LEGACY_GPT, 0, 2, 2 },
		{ PART_TABLE_EFI, 40, 2, 40 },
		{ PART_TABLE_EFIXBOOTLDR, 120, 3, 120 },
		{ PART_TABLE_HYBRID, 40, 3, 40 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(image_spec_freep) struct image_spec *s =
			spec_for(dir, cases[i].t, cases[i].boot_mib);
		_cleanup_(build_plan_freep) struct build_plan *p = NULL;
		struct diag d = { 0 };
		uint8_t want[16];
		char u[UUID_STR_LEN];

		ASSERT_OK(spec_validate(s, &d));
		ASSERT_OK(build_plan(s, &test_env, &d, &p));
		ASSERT_PLAN_SANE(p, s);
		ASSERT_EQ(p->layout.table, cases[i].t);
		ASSERT_EQ(p->layout.n_parts, cases[i].n_parts);
		ASSERT_TRUE(!p->systemd_boot && !p->grub_bios && !p->grub_efi);
		ASSERT_TRUE(p->efi_vars_out == NULL);
		if (cases[i].t == PART_TABLE_NONE) {
			ASSERT_TRUE(!p->boot_fs[0].present && !p->boot_fs[1].present);
			continue;
		}
		ASSERT_PART(p, PART_ROLE_ROOT, cases[i].root_mib, 0);
		if (cases[i].t == PART_TABLE_LEGACY)
			continue;
		/* GPT: the root's PARTUUID is rootGPUID, the disk GUID derives from the seed */
		ASSERT_OK(uuid_parse(SPEC_DEFAULT_ROOT_GPUID, want));
		ASSERT_MEM_EQ(find(p, PART_ROLE_ROOT)->uuid, want, 16);
		uuid_format(p->layout.disk_uuid, u);
		ASSERT_STR_EQ(u, "528254bb-7b67-4cc1-978a-ede19ab996ef");
		switch (cases[i].t) {
		case PART_TABLE_LEGACY_GPT:
			ASSERT_PART(p, PART_ROLE_BIOS_BOOT, 1, 1);
			break;
		case PART_TABLE_EFIXBOOTLDR:
			ASSERT_PART(p, PART_ROLE_ESP, 8, 92);
			ASSERT_PART(p, PART_ROLE_XBOOTLDR, 100, 20);
			ASSERT_TRUE(p->boot_fs[1].present);
			ASSERT_STR_EQ(p->boot_fs[1].label, "BOOT");
			ASSERT_EQ(p->boot_fs[1].offset, 100 * MIB);
			/* fall through */
		case PART_TABLE_EFI:
		case PART_TABLE_HYBRID:
			if (cases[i].t != PART_TABLE_EFIXBOOTLDR)
				ASSERT_PART(p, PART_ROLE_ESP, 8, 32);
			ASSERT_TRUE(p->boot_fs[0].present);
			ASSERT_STR_EQ(p->boot_fs[0].label, "ESP");
			ASSERT_EQ(p->boot_fs[0].offset, 8 * MIB);
			ASSERT_EQ(p->boot_fs[0].size_bytes, find(p, PART_ROLE_ESP)->n_lba * 512);
			ASSERT_TRUE(p->boot_fs[0].free_clusters > 0 &&
				    p->boot_fs[0].free_clusters <= p->boot_fs[0].n_clusters);
			if (cases[i].t == PART_TABLE_HYBRID)
				ASSERT_TRUE(find(p, PART_ROLE_BIOS_BOOT) != NULL);
			break;
		default:
			break;
		}
	}
	rm_dir(dir);
}

TEST(build_plan_fixed_size_too_small_names_the_fit)
{
	_cleanup_free_ char *dir = make_dir();
	_cleanup_(image_spec_freep) struct image_spec *s = spec_for(dir, PART_TABLE_LEGACY, 0);
	_cleanup_(build_plan_freep) struct build_plan *p = NULL;
	_cleanup_free_ char *big = xasprintf("%s/root/big", dir);
	_cleanup_close_ int fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	_cleanup_free_ uint8_t *data = xmalloc(3 * MIB);
	struct diag d = { 0 };

	memset(data, 'x', 3 * MIB); /* real data: a sparse file would stay a hole */
	ASSERT_TRUE(fd >= 0 && pwrite_full(fd, data, 3 * MIB, 0) == 0);
	s->disk_size_auto = false;
	s->disk_size_bytes = 3 * MIB;
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_ERR(build_plan(s, &test_env, &d, &p), -ENOSPC);
	ASSERT_TRUE(strstr(d.msg, "diskSize 3 MiB is too small: the contents need at least") != NULL);
	ASSERT_TRUE(p == NULL);
	/* a fixed size that fits: not auto-sized, the disk as given */
	s->disk_size_bytes = 16 * MIB;
	ASSERT_OK(build_plan(s, &test_env, &d, &p));
	ASSERT_TRUE(!p->auto_sized);
	ASSERT_EQ(p->layout.disk_bytes, 16 * MIB);
	ASSERT_PART(p, PART_ROLE_ROOT, 1, 15);
	ASSERT_EQ(p->root_stats.size_bytes, 15 * MIB);
	rm_dir(dir);
}

/* Copy [off, off + len) of path into out. */
static int extract(const char *path, uint64_t off, uint64_t len, const char *out)
{
	_cleanup_free_ uint8_t *buf = xmalloc(len);
	_cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r;

	if (in < 0 || o < 0)
		return -errno;
	r = pread_full(in, buf, len, off);
	if (r < 0)
		return r;
	return pwrite_full(o, buf, len, 0);
}

TEST(build_emit_raw_passes_the_oracles)
{
	_cleanup_free_ char *dir = make_dir();
	_cleanup_free_ char *esp = xasprintf("%s/esp.fat", dir);
	_cleanup_free_ char *root = xasprintf("%s/root.ext4", dir);
	_cleanup_(image_spec_freep) struct image_spec *s = spec_for(dir, PART_TABLE_EFI, 40);
	_cleanup_(build_plan_freep) struct build_plan *p = NULL;
	_cleanup_(part_probe_freep) struct part_probe *pr = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct build_result res;
	struct diag d = { 0 };
	const struct part_entry *pe;
	struct stat st;

	ASSERT_OK(spec_validate(s, &d));
	ASSERT_OK(build_plan(s, &test_env, &d, &p));
	ASSERT_TRUE(stat(s->output, &st) < 0); /* planning writes nothing */
	ASSERT_OK(build_emit(p, NULL, &d, &res));
	ASSERT_TRUE(res.committed);
	ASSERT_ERR(build_emit(p, NULL, &d, &res), -EALREADY);

	fd = open(s->output, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(fstat(fd, &st) == 0);
	ASSERT_EQ((uint64_t)st.st_size, p->layout.disk_bytes);
	ASSERT_OK(part_probe(fd, (uint64_t)st.st_size, &d, &pr));
	ASSERT_EQ(pr->kind, PART_PROBE_GPT);
	ASSERT_EQ(pr->layout, PART_TABLE_EFI);
	ASSERT_TRUE(!pr->backup_bad && !pr->backup_used);
	ASSERT_MEM_EQ(pr->disk_uuid, p->layout.disk_uuid, 16);
	ASSERT_EQ(pr->n_parts, 2u);
	for (size_t i = 0; i < 2; i++) {
		ASSERT_EQ(pr->parts[i].first_lba, p->layout.parts[i].first_lba);
		ASSERT_EQ(pr->parts[i].n_lba, p->layout.parts[i].n_lba);
		ASSERT_MEM_EQ(pr->parts[i].uuid, p->layout.parts[i].uuid, 16);
	}

	pe = find(p, PART_ROLE_ESP);
	ASSERT_OK(extract(s->output, pe->first_lba * 512, pe->n_lba * 512, esp));
	pe = find(p, PART_ROLE_ROOT);
	ASSERT_OK(extract(s->output, pe->first_lba * 512, pe->n_lba * 512, root));
	if (test_have("e2fsck")) {
		char *const argv[] = { (char *)"e2fsck", (char *)"-fn", root, NULL };

		ASSERT_EQ(test_run(argv, NULL), 0);
	} else
		test_skip("no e2fsck");
	if (test_have("fsck.fat")) {
		char *const argv[] = { (char *)"fsck.fat", (char *)"-n", esp, NULL };

		ASSERT_EQ(test_run(argv, NULL), 0);
	} else
		test_skip("no fsck.fat");
	rm_dir(dir);
}

TEST(build_hybrid_auto_installs_both_or_warns)
{
	_cleanup_free_ char *dir = make_dir();
	_cleanup_(image_spec_freep) struct image_spec *s = spec_for(dir, PART_TABLE_HYBRID, 40);
	_cleanup_(build_plan_freep) struct build_plan *p = NULL;
	struct diag d = { 0 };

	if (access(SDBOOT_EFI, R_OK) < 0)
		TEST_SKIP("no %s (systemd-boot-efi)", SDBOOT_EFI);
	s->kernel = xasprintf("%s/kernel", dir);
	s->systemd_boot_efi = xstrdup(SDBOOT_EFI);
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_EQ(s->boot_install, SPEC_BOOTLOADER_SYSTEMD_BOOT);
	/* as on a host without GRUB's i386-pc modules */
	s->install_grub_bios = false;
	ASSERT_OK(build_plan(s, &test_env, &d, &p));
	ASSERT_TRUE(p->systemd_boot && !p->grub_bios);
	ASSERT_EQ(p->n_warnings, 1u);
	ASSERT_STR_EQ(p->warnings[0], "the image will not boot under BIOS: no GRUB i386-pc "
				      "modules (give --grub-dir)");
	p = build_plan_free(p);
	/* an explicit systemd-boot does not warn */
	s->bootloader = SPEC_BOOTLOADER_SYSTEMD_BOOT;
	ASSERT_OK(build_plan(s, &test_env, &d, &p));
	ASSERT_EQ(p->n_warnings, 0u);
	p = build_plan_free(p);

	s->bootloader = SPEC_BOOTLOADER_AUTO;
	ASSERT_OK(spec_validate(s, &d));
	if (!s->install_grub_bios) {
		rm_dir(dir);
		TEST_SKIP("no GRUB i386-pc modules (grub-pc-bin)");
	}
	ASSERT_OK(build_plan(s, &test_env, &d, &p));
	ASSERT_TRUE(p->systemd_boot && p->grub_bios && !p->grub_efi);
	ASSERT_EQ(p->n_warnings, 0u);
	rm_dir(dir);
}

/* make-disk-image's example: legacy+gpt with touchEFIVars plans the template with no entry, and
 * says so in one warning. */
TEST(build_legacy_gpt_touch_efi_vars_is_the_template)
{
	_cleanup_free_ char *dir = make_dir();
	_cleanup_(image_spec_freep) struct image_spec *s = spec_for(dir, PART_TABLE_LEGACY_GPT, 0);
	_cleanup_(build_plan_freep) struct build_plan *p = NULL;
	struct diag d = { 0 };
	const char *vars = "/usr/share/OVMF/OVMF_VARS_4M.fd";

	if (access(vars, R_OK) < 0) {
		rm_dir(dir);
		TEST_SKIP("no %s (ovmf)", vars);
	}
	s->touch_efi_vars = true;
	s->efi_vars_template = xstrdup(vars);
	s->efi_vars_out = xasprintf("%s/efi-vars.fd", dir);
	ASSERT_OK(spec_validate(s, &d));
	ASSERT_OK(build_plan(s, &test_env, &d, &p));
	ASSERT_EQ(p->n_warnings, 1u);
	ASSERT_STR_EQ(p->warnings[0], "touchEFIVars: legacy+gpt has no ESP: efi-vars.fd is the "
				      "template, no boot entry added");
	rm_dir(dir);
}

TEST(build_env_read_parses_the_environment)
{
	struct build_env env;
	struct diag d = { 0 };
	char *saved = getenv("SOURCE_DATE_EPOCH") ? xstrdup(getenv("SOURCE_DATE_EPOCH")) : NULL;
	char *saved_tmp = getenv("TMPDIR") ? xstrdup(getenv("TMPDIR")) : NULL;
	char *saved_root = getenv("MKDISKIMAGE_SEARCH_ROOT") ?
				   xstrdup(getenv("MKDISKIMAGE_SEARCH_ROOT")) : NULL;

	setenv("SOURCE_DATE_EPOCH", "1234", 1);
	unsetenv("TMPDIR");
	unsetenv("MKDISKIMAGE_SEARCH_ROOT");
	ASSERT_OK(build_env_read(&env, &d));
	ASSERT_TRUE(env.has_epoch);
	ASSERT_EQ(env.source_date_epoch, 1234);
	ASSERT_STR_EQ(env.tmp_dir, "/tmp");
	ASSERT_TRUE(env.search_root == NULL);
	setenv("MKDISKIMAGE_SEARCH_ROOT", "/fake", 1);
	ASSERT_OK(build_env_read(&env, &d));
	ASSERT_STR_EQ(env.search_root, "/fake");
	if (saved_root)
		setenv("MKDISKIMAGE_SEARCH_ROOT", saved_root, 1);
	else
		unsetenv("MKDISKIMAGE_SEARCH_ROOT");
	free(saved_root);
	setenv("SOURCE_DATE_EPOCH", "", 1);
	setenv("TMPDIR", "/var/tmp", 1);
	ASSERT_OK(build_env_read(&env, &d));
	ASSERT_TRUE(!env.has_epoch);
	ASSERT_STR_EQ(env.tmp_dir, "/var/tmp");
	setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
	ASSERT_ERR(build_env_read(&env, &d), -EINVAL);
	ASSERT_STR_EQ(d.msg, "SOURCE_DATE_EPOCH=yesterday: not a number of seconds since 1970");
	setenv("SOURCE_DATE_EPOCH", "-1", 1);
	ASSERT_ERR(build_env_read(&env, &d), -EINVAL);
	if (saved)
		setenv("SOURCE_DATE_EPOCH", saved, 1);
	else
		unsetenv("SOURCE_DATE_EPOCH");
	if (saved_tmp)
		setenv("TMPDIR", saved_tmp, 1);
	else
		unsetenv("TMPDIR");
	free(saved);
	free(saved_tmp);
}
