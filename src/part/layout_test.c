/* Layout arithmetic, and an oracle test: every layout written to a sparse file and judged by
 * gdisk's sgdisk -v and util-linux's sfdisk --dump. */
#include "part/part.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/plan.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/test.h"
#include "util/uuid.h"
#include "util/xalloc.h"

extern char **environ;

static int toupper_ascii(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

#define MIB_LBA 2048ull
#define ROOT_GUID "F222513B-DED1-49FA-B591-20CE86A2FE7F"

static struct part_params params(enum part_table t, uint64_t disk_mib)
{
	struct part_params p = {
		.table = t,
		.arch = PART_ARCH_X86_64,
		.boot_bytes = 256 * PART_MIB,
		.disk_bytes = disk_mib * PART_MIB,
		.seed = "test-seed",
	};

	(void)uuid_parse(ROOT_GUID, p.root_uuid);
	return p;
}

TEST(layout_offsets_match_make_disk_image)
{
	static const struct {
		enum part_table t;
		size_t n;
		uint32_t number[3];
		uint64_t first[3], last[3];
		const char *name[3];
	} want[] = {
		{ PART_TABLE_LEGACY, 1, { 1 }, { 2048 }, { 614399 }, { "primary" } },
		{ PART_TABLE_LEGACY_BOOT,
		  2,
		  { 1, 2 },
		  { 2048, 524288 },
		  { 524287, 614399 },
		  { "primary", "primary" } },
		{ PART_TABLE_LEGACY_GPT,
		  2,
		  { 1, 2 },
		  { 2048, 4096 },
		  { 4095, 614366 },
		  { "no-fs", "primary" } },
		{ PART_TABLE_EFI,
		  2,
		  { 1, 2 },
		  { 16384, 524288 },
		  { 524287, 614366 },
		  { "ESP", "primary" } },
		{ PART_TABLE_EFIXBOOTLDR,
		  3,
		  { 1, 2, 3 },
		  { 16384, 204800, 524288 },
		  { 204799, 524287, 614366 },
		  { "ESP", "BOOT", "ROOT" } },
		{ PART_TABLE_HYBRID,
		  3,
		  { 1, 2, 3 },
		  { 16384, 34, 524288 },
		  { 524287, 2047, 614366 },
		  { "ESP", "no-fs", "primary" } },
	};
	struct diag d = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		struct part_params p = params(want[i].t, 300);
		struct part_layout l;

		ASSERT_OK(part_layout_plan(&p, &d, &l));
		ASSERT_EQ(l.n_parts, want[i].n);
		for (size_t k = 0; k < l.n_parts; k++) {
			ASSERT_EQ(l.parts[k].number, want[i].number[k]);
			ASSERT_EQ(l.parts[k].first_lba, want[i].first[k]);
			ASSERT_EQ(l.parts[k].first_lba + l.parts[k].n_lba - 1, want[i].last[k]);
			ASSERT_STR_EQ(l.parts[k].name, want[i].name[k]);
		}
	}
}

TEST(layout_none_root_is_whole_disk)
{
	struct part_params p = params(PART_TABLE_NONE, 64);
	struct diag d = { 0 };
	struct part_layout l;
	uint64_t off, len;

	ASSERT_OK(part_layout_plan(&p, &d, &l));
	part_layout_root(&l, &off, &len);
	ASSERT_EQ(off, 0);
	ASSERT_EQ(len, 64 * PART_MIB);
	ASSERT_EQ(l.n_parts, 0);
}

TEST(layout_guids_root_type_and_derivation)
{
	struct part_params p = params(PART_TABLE_EFI, 300);
	uint8_t want[UUID_LEN];
	struct diag d = { 0 };
	struct part_layout l, l2;
	const struct part_entry *root, *esp;

	ASSERT_OK(part_layout_plan(&p, &d, &l));
	root = part_layout_find(&l, PART_ROLE_ROOT);
	esp = part_layout_find(&l, PART_ROLE_ESP);
	ASSERT_TRUE(root && esp);
	ASSERT_OK(uuid_parse(ROOT_GUID, want));
	ASSERT_MEM_EQ(root->uuid, want, UUID_LEN);
	ASSERT_OK(uuid_parse("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", want));
	ASSERT_MEM_EQ(root->type_uuid, want, UUID_LEN);
	uuid_derive("test-seed", "gpt-partition:esp", want);
	ASSERT_MEM_EQ(esp->uuid, want, UUID_LEN);
	uuid_derive("test-seed", "gpt-disk", want);
	ASSERT_MEM_EQ(l.disk_uuid, want, UUID_LEN);
	ASSERT_STR_EQ(part_type_name(esp->type_uuid), "EFI System");
	ASSERT_STR_EQ(part_type_name(root->type_uuid), "Linux root (x86-64)");

	p.generic_root_type = true;
	ASSERT_OK(part_layout_plan(&p, &d, &l2));
	ASSERT_OK(uuid_parse("0FC63DAF-8483-4772-8E79-3D69D8477DE4", want));
	ASSERT_MEM_EQ(part_layout_find(&l2, PART_ROLE_ROOT)->type_uuid, want, UUID_LEN);

	p.generic_root_type = false;
	p.arch = PART_ARCH_S390X;
	ASSERT_OK(part_layout_plan(&p, &d, &l2));
	ASSERT_OK(uuid_parse("5EEAD9A9-FE09-4A1E-A1D7-520D00531306", want));
	ASSERT_MEM_EQ(part_layout_find(&l2, PART_ROLE_ROOT)->type_uuid, want, UUID_LEN);
}

TEST(layout_auto_size_is_smallest_whole_mib)
{
	static const enum part_table tables[] = { PART_TABLE_NONE,	  PART_TABLE_LEGACY,
						  PART_TABLE_LEGACY_GPT,  PART_TABLE_EFI,
						  PART_TABLE_EFIXBOOTLDR, PART_TABLE_HYBRID };
	static const uint64_t roots[] = {
		1, 1000 * 1000, PART_MIB, 100 * PART_MIB - 17408, 100 * PART_MIB - 17407, 123456789
	};
	struct diag d = { 0 };

	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
			struct part_params p = params(tables[t], 0);
			struct part_layout l, smaller;
			uint64_t off, len;

			p.root_min_bytes = roots[i];
			ASSERT_OK(part_layout_plan(&p, &d, &l));
			ASSERT_EQ(l.disk_bytes % PART_MIB, 0);
			part_layout_root(&l, &off, &len);
			ASSERT_TRUE(len >= roots[i]);
			ASSERT_EQ(off + len,
				  l.disk_bytes -
					  (tables[t] >= PART_TABLE_LEGACY_GPT ? 33 * 512 : 0));
			/* one MiB less must not hold it */
			p.disk_bytes = l.disk_bytes - PART_MIB;
			p.root_min_bytes = roots[i];
			if (p.disk_bytes > 0 && part_layout_plan(&p, &d, &smaller) == 0) {
				part_layout_root(&smaller, &off, &len);
				ASSERT_TRUE(len < roots[i] || len < PART_MIB);
			}
		}
}

TEST(layout_errors_name_the_fix)
{
	struct part_params p = params(PART_TABLE_EFI, 100);
	struct diag d = { 0 };
	struct part_layout l;

	p.root_min_bytes = 200 * PART_MIB;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -ENOSPC);
	ASSERT_TRUE(strstr(d.msg, "diskSize 100 MiB too small") != NULL);
	ASSERT_TRUE(strstr(d.msg, "needs at least 457 MiB") != NULL);

	p = params(PART_TABLE_EFI, 200); /* ESP ends at 256 MiB: no room */
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -ENOSPC);
	ASSERT_TRUE(strstr(d.msg, "needs at least 258 MiB") != NULL);

	p = params(PART_TABLE_EFIXBOOTLDR, 300);
	p.boot_bytes = 100 * PART_MIB;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "must exceed 100 MiB") != NULL);

	p = params(PART_TABLE_EFI, 300);
	p.boot_bytes = 256 * PART_MIB + 512;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -EINVAL);

	p = params(PART_TABLE_EFI, 300);
	p.disk_bytes += 512;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "whole number of MiB") != NULL);

	p = params(PART_TABLE_LEGACY, 3 * 1024 * 1024);
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -EOVERFLOW);
	p.table = PART_TABLE_LEGACY_GPT;
	ASSERT_OK(part_layout_plan(&p, &d, &l));
}

TEST(layout_names_parse)
{
	enum part_table t;
	enum part_arch a;

	ASSERT_OK(part_table_from_name("legacy+gpt", &t));
	ASSERT_EQ(t, PART_TABLE_LEGACY_GPT);
	ASSERT_STR_EQ(part_table_name(PART_TABLE_EFIXBOOTLDR), "efixbootldr");
	ASSERT_ERR(part_table_from_name("msdos", &t), -EINVAL);
	ASSERT_OK(part_table_from_name("legacy+boot", &t));
	ASSERT_EQ(t, PART_TABLE_LEGACY_BOOT);
	ASSERT_OK(part_arch_from_name("aarch64", &a));
	ASSERT_EQ(a, PART_ARCH_AARCH64);
	ASSERT_ERR(part_arch_from_name("mips", &a), -EINVAL);
}

/* Write the table ranges of l into a fresh sparse file; returns its fd. */
static int write_layout(const struct part_layout *l, char *path)
{
	struct image_plan *plan = image_plan_new(l->disk_bytes);
	struct diag d = { 0 };
	int fd = mkstemps(path, 4); /* ".img": sfdisk adds "p" before numbers after a digit */

	if (fd < 0 || ftruncate(fd, (off_t)l->disk_bytes) < 0)
		abort();
	part_plan_ranges(l, plan);
	if (image_plan_seal(plan, &d) < 0)
		abort();
	for (size_t i = 0; i < plan->n_ranges; i++) {
		const struct image_range *r = &plan->ranges[i];
		_cleanup_free_ uint8_t *buf = xcalloc(1, r->len);

		/* two chunks, to exercise partial fills */
		if (image_range_fill(plan, r, 0, buf, r->len / 2, &d) < 0 ||
		    image_range_fill(plan, r, r->len / 2, buf + r->len / 2, r->len - r->len / 2,
				     &d) < 0 ||
		    pwrite_full(fd, buf, r->len, r->off) < 0)
			abort();
	}
	image_plan_free(plan);
	return fd;
}

/* Run argv, capture stdout (stderr to /dev/null). -ENOENT when the tool is missing. */
static int run_capture(char *const argv[], char **ret)
{
	posix_spawn_file_actions_t fa;
	size_t cap = 1 << 16, n = 0;
	char *out = xmalloc(cap);
	int pipefd[2], status;
	ssize_t k;
	pid_t pid;

	if (pipe(pipefd) < 0)
		abort();
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pipefd[0]);
		close(pipefd[1]);
		free(out);
		return -ENOENT;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	while ((k = read(pipefd[0], out + n, cap - n - 1)) > 0) {
		n += (size_t)k;
		if (n + 1 == cap)
			out = xrealloc(out, cap *= 2);
	}
	close(pipefd[0]);
	out[n] = '\0';
	if (waitpid(pid, &status, 0) < 0)
		abort();
	*ret = out;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -ENOENT;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The sfdisk --dump line of partition n, e.g. "/tmp/x1 : start=...". */
static const char *dump_line(const char *dump, const char *path, uint32_t n)
{
	char prefix[256];
	const char *s;

	snprintf(prefix, sizeof(prefix), "%s%u : ", path, n);
	s = strstr(dump, prefix);
	return s ? s + strlen(prefix) : NULL;
}

static uint64_t field_u64(const char *line, const char *key)
{
	const char *s = strstr(line, key);

	return s ? strtoull(s + strlen(key), NULL, 10) : UINT64_MAX;
}

static bool field_is(const char *line, const char *key, const char *want)
{
	const char *s = strstr(line, key), *eol = strchr(line, '\n');

	return s && (!eol || s < eol) && strncmp(s + strlen(key), want, strlen(want)) == 0;
}

TEST(layout_oracle_sgdisk_and_sfdisk)
{
	static const enum part_table tables[] = { PART_TABLE_LEGACY, PART_TABLE_LEGACY_BOOT,
						  PART_TABLE_LEGACY_GPT, PART_TABLE_EFI,
						  PART_TABLE_EFIXBOOTLDR, PART_TABLE_HYBRID };
	struct diag d = { 0 };

	for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
		struct part_params p = params(tables[t], 301);
		char path[] = "/tmp/part-oracle-XXXXXX.img";
		_cleanup_free_ char *dump = NULL, *verify = NULL;
		struct part_layout l;
		char *sgdisk[] = { "sgdisk", "-v", path, NULL };
		char *sfdisk[] = { "sfdisk", "--dump", path, NULL };
		char want[128];
		int fd, r, rv;

		ASSERT_OK(part_layout_plan(&p, &d, &l));
		fd = write_layout(&l, path);
		r = run_capture(sfdisk, &dump);
		/* sgdisk reads an MBR as a GPT to convert: its verdict is for GPTs only */
		rv = part_table_is_mbr(tables[t]) ? -ENOENT : run_capture(sgdisk, &verify);
		close(fd);
		(void)unlink(path);
		if (r == -ENOENT) {
			TEST_SKIP("sfdisk not installed");
		}
		ASSERT_EQ(r, 0);
		if (part_table_is_mbr(tables[t])) {
			snprintf(want, sizeof(want), "label-id: 0x%08x\n", l.mbr_signature);
			ASSERT_TRUE(strstr(dump, "label: dos\n") != NULL);
		} else {
			char u[UUID_STR_LEN];

			uuid_format(l.disk_uuid, u);
			for (char *c = u; *c; c++)
				*c = (char)toupper_ascii(*c);
			snprintf(want, sizeof(want), "label-id: %s\n", u);
			ASSERT_TRUE(strstr(dump, "label: gpt\n") != NULL);
			ASSERT_TRUE(strstr(dump, "first-lba: 34\n") != NULL);
			snprintf(u, sizeof(u), "last-lba: %llu\n",
				 (unsigned long long)(l.disk_bytes / 512 - 34));
			ASSERT_TRUE(strstr(dump, u) != NULL);
		}
		ASSERT_TRUE(strstr(dump, want) != NULL);
		for (size_t i = 0; i < l.n_parts; i++) {
			const struct part_entry *e = &l.parts[i];
			const char *line = dump_line(dump, path, e->number);
			char u[UUID_STR_LEN];

			ASSERT_TRUE(line != NULL);
			ASSERT_EQ(field_u64(line, "start="), e->first_lba);
			ASSERT_EQ(field_u64(line, "size="), e->n_lba);
			if (part_table_is_mbr(tables[t])) {
				snprintf(want, sizeof(want), "%x%s", e->mbr_type,
					 e->bootable ? ", bootable\n" : "\n");
				ASSERT_TRUE(field_is(line, "type=", want));
				continue;
			}
			uuid_format(e->type_uuid, u);
			for (char *c = u; *c; c++)
				*c = (char)toupper_ascii(*c);
			ASSERT_TRUE(field_is(line, "type=", u));
			uuid_format(e->uuid, u);
			for (char *c = u; *c; c++)
				*c = (char)toupper_ascii(*c);
			ASSERT_TRUE(field_is(line, "uuid=", u));
			snprintf(want, sizeof(want), "\"%s\"", e->name);
			ASSERT_TRUE(field_is(line, "name=", want));
		}
		ASSERT_TRUE(dump_line(dump, path, (uint32_t)l.n_parts + 1) == NULL);

		if (rv != -ENOENT) {
			if (!strstr(verify, "No problems found"))
				fprintf(stderr, "%s: %s\n", part_table_name(tables[t]), verify);
			ASSERT_TRUE(strstr(verify, "No problems found") != NULL);
		}
	}
}

TEST(layout_legacy_boot_is_mbr_with_bootable_fat32)
{
	struct part_params p = params(PART_TABLE_LEGACY_BOOT, 300);
	struct diag d = { 0 };
	struct part_layout l;

	ASSERT_OK(part_layout_plan(&p, &d, &l));
	ASSERT_EQ(l.n_parts, 2);
	ASSERT_EQ(l.parts[0].mbr_type, 0x0c);
	ASSERT_TRUE(l.parts[0].bootable);
	ASSERT_EQ(l.parts[0].role, PART_ROLE_BOOT);
	ASSERT_EQ(l.parts[1].mbr_type, 0x83);
	ASSERT_TRUE(!l.parts[1].bootable);
	ASSERT_TRUE(l.mbr_signature != 0);
	ASSERT_TRUE(part_params_bios_place(&p));
	ASSERT_TRUE(part_params_has_role(&p, PART_ROLE_BOOT));
	ASSERT_TRUE(!part_params_has_role(&p, PART_ROLE_ESP));
	p.boot_bytes = PART_MIB;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "must exceed 1 MiB") != NULL);
}

/* ESP 64M + swap 32M + root fitted to 100 MiB of contents, as a "partitions" list. */
static void custom_list(struct part_request r[3], bool gpt)
{
	r[0] = (struct part_request){ .role = PART_ROLE_ESP, .name = "esp", .uuid_key = "esp",
				      .size_rule = PART_SIZE_FIXED, .size_bytes = 64 * PART_MIB };
	r[1] = (struct part_request){ .role = PART_ROLE_SWAP, .name = "swap", .uuid_key = "swap",
				      .size_rule = PART_SIZE_FIXED, .size_bytes = 32 * PART_MIB };
	r[2] = (struct part_request){ .role = PART_ROLE_ROOT, .name = "root", .uuid_key = "root",
				      .size_rule = PART_SIZE_FIT, .min_bytes = 100 * PART_MIB + 1,
				      .attributes = PART_ATTR_GROWFS };
	(void)gpt;
}

TEST(layout_custom_lists_gpt_and_mbr)
{
	struct part_request r[3];
	struct diag d = { 0 };
	struct part_layout l;
	struct part_params p = params(PART_TABLE_GPT, 0);
	uint8_t want[UUID_LEN];

	custom_list(r, true);
	p.parts = r;
	p.n_parts = 3;
	ASSERT_OK(part_layout_plan(&p, &d, &l));
	ASSERT_EQ(l.n_parts, 3);
	ASSERT_EQ(l.parts[0].first_lba, MIB_LBA);
	ASSERT_EQ(l.parts[0].n_lba, 64 * MIB_LBA);
	ASSERT_EQ(l.parts[1].first_lba, 65 * MIB_LBA);
	ASSERT_EQ(l.parts[2].first_lba, 97 * MIB_LBA);
	/* the smallest whole-MiB disk: root gets 101 MiB less the backup GPT's 33 sectors */
	ASSERT_EQ(l.disk_bytes, 198 * PART_MIB);
	ASSERT_EQ(l.parts[2].n_lba, 101 * MIB_LBA - 33);
	ASSERT_TRUE(l.parts[2].n_lba * 512 >= 100 * PART_MIB + 1);
	ASSERT_EQ(l.parts[2].attributes, PART_ATTR_GROWFS);
	ASSERT_OK(uuid_parse("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", want));
	ASSERT_MEM_EQ(l.parts[1].type_uuid, want, UUID_LEN);
	uuid_derive("test-seed", "gpt-partition:swap", want);
	ASSERT_MEM_EQ(l.parts[1].uuid, want, UUID_LEN);

	/* a fixed disk: the root takes the rest */
	p.disk_bytes = 1024 * PART_MIB;
	ASSERT_OK(part_layout_plan(&p, &d, &l));
	ASSERT_EQ(l.parts[2].first_lba + l.parts[2].n_lba, 1024 * MIB_LBA - 33);
	p.disk_bytes = 150 * PART_MIB;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -ENOSPC);
	ASSERT_TRUE(strstr(diag_message(&d, -ENOSPC), "need at least 198 MiB") != NULL);

	p = params(PART_TABLE_MBR, 0);
	p.parts = r;
	p.n_parts = 3;
	ASSERT_OK(part_layout_plan(&p, &d, &l));
	ASSERT_EQ(l.parts[0].mbr_type, 0xef);
	ASSERT_EQ(l.parts[1].mbr_type, 0x82);
	ASSERT_EQ(l.parts[2].mbr_type, 0x83);
	ASSERT_EQ(l.disk_bytes, 198 * PART_MIB);
	ASSERT_EQ(l.parts[2].n_lba, 101 * MIB_LBA); /* no backup GPT */
	ASSERT_TRUE(part_params_bios_place(&p));
}

TEST(layout_custom_rest_in_the_middle)
{
	struct part_request r[3];
	struct diag d = { 0 };
	struct part_layout l;
	struct part_params p = params(PART_TABLE_GPT, 500);

	custom_list(r, true);
	r[1].size_rule = PART_SIZE_REST; /* swap takes what is left, root after it */
	r[1].min_bytes = PART_MIB;
	r[2].min_bytes = 100 * PART_MIB;
	p.parts = r;
	p.n_parts = 3;
	ASSERT_OK(part_layout_plan(&p, &d, &l));
	ASSERT_EQ(l.parts[2].first_lba + l.parts[2].n_lba <= 500 * MIB_LBA - 33, true);
	ASSERT_EQ(l.parts[2].n_lba, 100 * MIB_LBA);
	ASSERT_EQ(l.parts[1].first_lba + l.parts[1].n_lba, l.parts[2].first_lba);
	ASSERT_EQ(l.parts[2].first_lba % MIB_LBA, 0);
	r[1].max_bytes = 10 * PART_MIB;
	ASSERT_OK(part_layout_plan(&p, &d, &l));
	ASSERT_EQ(l.parts[1].n_lba, 10 * MIB_LBA);
	ASSERT_EQ(l.parts[2].first_lba, 75 * MIB_LBA);
	/* contents over maxSize: refused, not cut to maxSize */
	r[1].min_bytes = 11 * PART_MIB;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -ENOSPC);
	ASSERT_STR_EQ(diag_message(&d, -ENOSPC), "partition 2: its contents need 11534336 bytes, "
						 "more than its maxSize of 10485760 bytes (raise "
						 "maxSize)");
	r[1].min_bytes = PART_MIB;
}

TEST(layout_custom_errors)
{
	struct part_request r[5];
	struct diag d = { 0 };
	struct part_layout l;
	struct part_params p = params(PART_TABLE_MBR, 500);

	custom_list(r, false);
	r[0].size_rule = r[1].size_rule = PART_SIZE_REST;
	p.parts = r;
	p.n_parts = 3;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "at most one may") != NULL);

	custom_list(r, false);
	r[0].role = PART_ROLE_BIOS_BOOT;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "needs a GPT") != NULL);

	custom_list(r, false);
	r[3] = r[4] = r[1];
	p.n_parts = 5;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "no extended partitions") != NULL);
	p.n_parts = 0;
	ASSERT_ERR(part_layout_plan(&p, &d, &l), -EINVAL);
}

TEST(layout_request_types)
{
	struct part_request r = { 0 };
	uint8_t want[UUID_LEN];

	ASSERT_OK(part_request_set_type(&r, "esp", true, PART_ARCH_X86_64));
	ASSERT_EQ(r.role, PART_ROLE_ESP);
	ASSERT_TRUE(!r.type_set);
	ASSERT_OK(part_request_set_type(&r, "home", true, PART_ARCH_X86_64));
	ASSERT_EQ(r.role, PART_ROLE_OTHER);
	ASSERT_OK(uuid_parse("933AC7E1-2EB4-4F13-B844-0E14E2AEF915", want));
	ASSERT_MEM_EQ(r.type_uuid, want, UUID_LEN);
	ASSERT_OK(part_request_set_type(&r, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", true,
					PART_ARCH_X86_64));
	ASSERT_EQ(r.role, PART_ROLE_ESP);
	ASSERT_OK(part_request_set_type(&r, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", true,
					PART_ARCH_X86_64));
	ASSERT_EQ(r.role, PART_ROLE_ROOT);
	ASSERT_OK(part_request_set_type(&r, "0FC63DAF-8483-4772-8E79-3D69D8477DE4", true,
					PART_ARCH_X86_64));
	ASSERT_EQ(r.role, PART_ROLE_OTHER);
	memset(&r, 0, sizeof(r));
	ASSERT_OK(part_request_set_type(&r, "0x82", false, PART_ARCH_X86_64));
	ASSERT_EQ(r.role, PART_ROLE_SWAP);
	ASSERT_EQ(r.mbr_type, 0x82);
	ASSERT_OK(part_request_set_type(&r, "83", false, PART_ARCH_X86_64));
	ASSERT_EQ(r.mbr_type, 0x83);
	ASSERT_ERR(part_request_set_type(&r, "0xee", false, PART_ARCH_X86_64), -EINVAL);
	ASSERT_ERR(part_request_set_type(&r, "0x05", false, PART_ARCH_X86_64), -EINVAL);
	ASSERT_ERR(part_request_set_type(&r, "0x100", false, PART_ARCH_X86_64), -EINVAL);
	ASSERT_ERR(part_request_set_type(&r, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", false,
					 PART_ARCH_X86_64), -EINVAL);
	ASSERT_ERR(part_request_set_type(&r, "00000000-0000-0000-0000-000000000000", true,
					 PART_ARCH_X86_64), -EINVAL);
	ASSERT_ERR(part_request_set_type(&r, "rooot", true, PART_ARCH_X86_64), -EINVAL);
}

TEST(layout_custom_oracle)
{
	struct part_request r[3];
	struct diag d = { 0 };
	struct part_layout l;
	struct part_params p = params(PART_TABLE_GPT, 0);
	char path[] = "/tmp/part-custom-XXXXXX.img";
	_cleanup_free_ char *dump = NULL, *verify = NULL;
	char *sgdisk[] = { "sgdisk", "-v", path, NULL };
	char *sfdisk[] = { "sfdisk", "--dump", path, NULL };
	const char *line;
	int fd, r1, r2;

	custom_list(r, true);
	r[2].attributes |= PART_ATTR_NO_AUTO;
	r[0].bootable = true;
	p.parts = r;
	p.n_parts = 3;
	ASSERT_OK(part_layout_plan(&p, &d, &l));
	fd = write_layout(&l, path);
	r1 = run_capture(sfdisk, &dump);
	r2 = run_capture(sgdisk, &verify);
	close(fd);
	(void)unlink(path);
	if (r1 == -ENOENT || r2 == -ENOENT)
		TEST_SKIP("sfdisk or sgdisk not installed");
	ASSERT_EQ(r1, 0);
	ASSERT_TRUE(strstr(verify, "No problems found") != NULL);
	line = dump_line(dump, path, 1);
	ASSERT_TRUE(line && field_is(line, "type=", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"));
	ASSERT_TRUE(line && field_is(line, "attrs=", "\"LegacyBIOSBootable\""));
	line = dump_line(dump, path, 2);
	ASSERT_TRUE(line && field_is(line, "type=", "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"));
	ASSERT_TRUE(line && field_is(line, "name=", "\"swap\""));
	line = dump_line(dump, path, 3);
	ASSERT_TRUE(line && field_is(line, "attrs=", "\"GUID:59,63\""));
}
