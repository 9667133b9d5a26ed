#include "boot/grub.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/reed-solomon.h"
#include "image/plan.h"
#include "part/part.h"
#include "tree/tree.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/test.h"
#include "util/xalloc.h"

/* A boot.img-shaped sector: every byte set, so what the patch leaves alone is
 * visible. */
static void fake_boot_img(uint8_t b[GRUB_BOOT_SIZE])
{
	for (size_t i = 0; i < GRUB_BOOT_SIZE; i++)
		b[i] = (uint8_t)(0xa0 + i % 7);
	b[GRUB_BOOT_DRIVE_CHECK] = 0x74; /* jz */
	b[510] = 0x55;
	b[511] = 0xaa;
}

TEST(boot_img_patch_sets_core_sector_drive_and_nops_the_check)
{
	uint8_t b[GRUB_BOOT_SIZE];

	fake_boot_img(b);
	grub_boot_img_patch(b, 2048);

	ASSERT_MEM_EQ(b + GRUB_BOOT_KERNEL_SECTOR, "\x00\x08\x00\x00\x00\x00\x00\x00", 8);
	ASSERT_EQ(le64_get(b + 0x5c), 2048);
	ASSERT_EQ(b[0x64], 0xff);
	ASSERT_EQ(b[0x66], 0x90);
	ASSERT_EQ(b[0x67], 0x90);
}

TEST(boot_img_patch_keeps_the_jump_and_code_and_zeroes_the_bpb)
{
	uint8_t orig[GRUB_BOOT_SIZE], b[GRUB_BOOT_SIZE];

	fake_boot_img(orig);
	memcpy(b, orig, sizeof(b));
	grub_boot_img_patch(b, 1);

	ASSERT_MEM_EQ(b, orig, 3); /* jmp + nop */
	for (size_t i = 3; i < 0x5a; i++)
		ASSERT_EQ(b[i], 0);
	ASSERT_MEM_EQ(b + 0x5a, orig + 0x5a, 2);
	ASSERT_MEM_EQ(b + 0x68, orig + 0x68, 0x1b8 - 0x68);
	/* nothing from 0x1b8 on (signature, table, 55 aa) is ever emitted from
	 * boot.img */
	for (size_t i = 0x1b8; i < GRUB_BOOT_SIZE; i++)
		ASSERT_EQ(b[i], 0);
}

static uint8_t *fake_core(size_t n_sect)
{
	uint8_t *c = xcalloc(n_sect, GRUB_BOOT_SIZE);

	/* as grub-mkimage leaves diskboot.img's list: start 2, its own length,
	 * segment 0x820 */
	le64_put(c + 0x1f4, 2);
	le16_put(c + 0x1fc, (uint16_t)(n_sect - 1));
	le16_put(c + 0x1fe, 0x820);
	memset(c + GRUB_BOOT_SIZE, 0xcc, (n_sect - 1) * GRUB_BOOT_SIZE);
	return c;
}

TEST(core_img_blocklist_points_past_the_first_sector)
{
	struct diag d = {0};
	uint8_t *c = fake_core(288);

	ASSERT_OK(grub_core_img_patch(c, 288 * GRUB_BOOT_SIZE, 2048, &d));
	ASSERT_MEM_EQ(c + 0x1f4, "\x01\x08\x00\x00\x00\x00\x00\x00", 8); /* LBA 2049 */
	ASSERT_MEM_EQ(c + 0x1fc, "\x1f\x01", 2);			 /* 287 sectors */
	ASSERT_MEM_EQ(c + 0x1fe, "\x20\x08", 2);			 /* segment 0x820 */
	/* the terminator below stays zero; the rest of the core is untouched */
	for (size_t i = 0x1e8; i < 0x1f4; i++)
		ASSERT_EQ(c[i], 0);
	ASSERT_EQ(c[GRUB_BOOT_SIZE], 0xcc);
	free(c);
}

TEST(core_img_legacy_gap_starts_at_lba_2)
{
	struct diag d = {0};
	uint8_t *c = fake_core(3);

	ASSERT_OK(grub_core_img_patch(c, 3 * GRUB_BOOT_SIZE, 1, &d));
	ASSERT_EQ(le64_get(c + 0x1f4), 2);
	ASSERT_EQ(le16_get(c + 0x1fc), 2);
	free(c);
}

TEST(core_img_patch_refuses_odd_sizes_and_foreign_images)
{
	struct diag d = {0};
	uint8_t *c = fake_core(4);

	ASSERT_ERR(grub_core_img_patch(c, 3 * GRUB_BOOT_SIZE + 1, 1, &d), -EBADMSG);
	ASSERT_ERR(grub_core_img_patch(c, GRUB_BOOT_SIZE, 1, &d), -EBADMSG);
	c[0x1e8] = 1; /* a second block list entry: not diskboot.img's layout */
	ASSERT_ERR(grub_core_img_patch(c, 4 * GRUB_BOOT_SIZE, 1, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "block list") != NULL);
	free(c);
}

TEST(embedded_core_takes_twice_its_sectors_below_0x78000)
{
	ASSERT_EQ(grub_core_embed_sectors(146831), 574); /* Debian 12's core: 287 sectors */
	ASSERT_EQ(grub_core_embed_sectors(2 * GRUB_BOOT_SIZE), 4);
	ASSERT_EQ(grub_core_embed_sectors(2 * GRUB_BOOT_SIZE + 1), 6);
	ASSERT_EQ(grub_core_embed_sectors(500 * GRUB_BOOT_SIZE), 888);
	ASSERT_EQ(GRUB_CORE_MAX_SECT, 888);
}

/* The parity goes after the raw image (not after its padding), its length into the kernel
 * header at 0x210; the first sector and the unprotected head are outside the code. */
TEST(core_redundancy_covers_the_kernel_past_its_head)
{
	struct diag d = {0};
	size_t raw = 3 * GRUB_BOOT_SIZE + 100, len = 8 * GRUB_BOOT_SIZE;
	uint8_t *c = fake_core(8), *want = fake_core(8);

	memset(c + raw, 0, len - raw);
	memset(want + raw, 0, len - raw);
	le16_put(c + GRUB_BOOT_SIZE + 0x14, 0x40);
	le16_put(want + GRUB_BOOT_SIZE + 0x14, 0x40);
	ASSERT_OK(grub_core_img_add_redundancy(c, raw, len, &d));
	ASSERT_EQ(le32_get(c + 0x210), len - raw);
	ASSERT_OK(reed_solomon_add(want + GRUB_BOOT_SIZE + 0x40, raw - GRUB_BOOT_SIZE - 0x40,
				   len - raw));
	ASSERT_MEM_EQ(c + raw, want + raw, len - raw);
	ASSERT_TRUE(c[raw] != 0 || c[raw + 1] != 0);
	ASSERT_MEM_EQ(c + GRUB_BOOT_SIZE + 0x40, want + GRUB_BOOT_SIZE + 0x40,
		      raw - GRUB_BOOT_SIZE - 0x40);
	free(want);
	free(c);
}

TEST(core_redundancy_refuses_a_core_without_the_kernel_header)
{
	struct diag d = {0};
	uint8_t *c = fake_core(4);

	le16_put(c + GRUB_BOOT_SIZE + 0x14, 0xffff); /* older cores: no such field */
	ASSERT_ERR(grub_core_img_add_redundancy(c, 3 * GRUB_BOOT_SIZE, 4 * GRUB_BOOT_SIZE, &d),
		   -EBADMSG);
	le16_put(c + GRUB_BOOT_SIZE + 0x14, 2 * GRUB_BOOT_SIZE); /* head past the image */
	ASSERT_ERR(grub_core_img_add_redundancy(c, 3 * GRUB_BOOT_SIZE, 4 * GRUB_BOOT_SIZE, &d),
		   -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "kernel header") != NULL);
	ASSERT_ERR(grub_core_img_add_redundancy(c, GRUB_BOOT_SIZE + 8, 4 * GRUB_BOOT_SIZE, &d),
		   -EBADMSG);
	free(c);
}

static void layout(enum part_table t, struct part_layout *l)
{
	struct diag d = {0};
	struct part_params p = {
		.table = t,
		.boot_bytes = 256ull << 20,
		.root_min_bytes = 64ull << 20,
		.seed = "grub-test",
	};

	if (part_layout_plan(&p, &d, l) < 0)
		abort();
}

TEST(location_legacy_is_the_gap_gpt_the_bios_boot_partition)
{
	struct part_layout l;
	struct diag d = {0};
	uint64_t lba, n;

	layout(PART_TABLE_LEGACY, &l);
	ASSERT_OK(grub_bios_location(&l, &d, &lba, &n));
	ASSERT_EQ(lba, 1);
	ASSERT_EQ(n, 2047);

	layout(PART_TABLE_LEGACY_BOOT, &l); /* the same gap before BOOT */
	ASSERT_OK(grub_bios_location(&l, &d, &lba, &n));
	ASSERT_EQ(lba, 1);
	ASSERT_EQ(n, 2047);

	layout(PART_TABLE_LEGACY_GPT, &l);
	ASSERT_OK(grub_bios_location(&l, &d, &lba, &n));
	ASSERT_EQ(lba, 2048);
	ASSERT_EQ(n, 2048);

	layout(PART_TABLE_HYBRID, &l);
	ASSERT_OK(grub_bios_location(&l, &d, &lba, &n));
	ASSERT_EQ(lba, part_layout_find(&l, PART_ROLE_BIOS_BOOT)->first_lba);

	layout(PART_TABLE_EFI, &l);
	ASSERT_ERR(grub_bios_location(&l, &d, &lba, &n), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "GRUB for BIOS needs a BIOS boot partition: use legacy, "
				  "legacy+gpt or hybrid") != NULL);
}

/* The plan's MBR ranges: GRUB's covers 0..439 only, the table's 440..511 stays
 * the table's. */
TEST(plan_ranges_leave_the_partition_table_bytes_to_the_table)
{
	struct part_layout l;
	struct diag d = {0};
	struct grub_bios g = {.core_lba = 1, .core_len = 2 * GRUB_BOOT_SIZE};
	struct image_plan *p;

	layout(PART_TABLE_LEGACY, &l);
	g.core = xcalloc(2, GRUB_BOOT_SIZE);
	p = image_plan_new(l.disk_bytes);
	part_plan_ranges(&l, p);
	grub_bios_plan_ranges(&g, p);
	ASSERT_OK(image_plan_seal(p, &d));
	ASSERT_EQ(p->ranges[0].off, 0);
	ASSERT_EQ(p->ranges[0].len, 440);
	ASSERT_EQ(p->ranges[1].off, 440);
	ASSERT_EQ(p->ranges[1].len, 72);
	ASSERT_EQ(p->ranges[2].off, 512);
	ASSERT_EQ(p->ranges[2].len, 1024);
	image_plan_free(p);
	free(g.core);
}

TEST(grub_cfg_finds_the_root_by_uuid_and_boots_kernel_and_initrd)
{
	char *t = grub_cfg_text(&(struct grub_cfg_params){
		.fs_uuid = "12345678-1234-4234-8234-123456789abc",
		.title = "NixOS",
		.kernel = "/boot/kernel",
		.initrd = "/boot/initrd",
		.cmdline = "console=ttyS0 init=/init",
	});

	ASSERT_TRUE(strstr(t, "search --no-floppy --fs-uuid --set=root "
			      "12345678-1234-4234-8234-123456789abc\n") != NULL);
	ASSERT_TRUE(strstr(t, "\tlinux /boot/kernel console=ttyS0 init=/init\n") != NULL);
	ASSERT_TRUE(strstr(t, "\tinitrd /boot/initrd\n") != NULL);
	ASSERT_TRUE(strstr(t, "menuentry \"NixOS\" {\n") != NULL);
	ASSERT_TRUE(strstr(t, "set timeout=1\n") != NULL);
	free(t);
}

TEST(missing_boot_img_names_the_directory)
{
	struct diag d = {0};
	struct grub_bios *g = NULL;
	struct grub_bios_params p = {
		.grub_dir = "/",
		.tmp_dir = "/tmp",
		.fs_uuid = "x",
		.core_lba = 1,
		.max_sect = 2047,
	};

	ASSERT_ERR(grub_bios_make(&p, &d, &g), -ENOENT);
	ASSERT_TRUE(strstr(d.msg, "--grub-dir /: no boot.img") != NULL);
	ASSERT_TRUE(g == NULL);
}

/* With Debian's grub-pc-bin installed (CI has it): the core is embedded with its parity, and an
 * area too small for both is refused naming the sizes. */
TEST(real_core_takes_its_parity_or_is_refused)
{
	const char *dir = "/usr/lib/grub/i386-pc";
	struct diag d = {0};
	struct grub_bios *g = NULL;
	struct grub_bios_params p = {
		.grub_dir = dir,
		.tmp_dir = "/tmp",
		.fs_uuid = "0a1b2c3d-0000-4000-8000-000000000000",
		.core_lba = 1,
		.max_sect = 2047,
	};
	char *mk = grub_mkimage_path(dir);
	int have = access(mk, X_OK) == 0;
	size_t red;

	free(mk);
	if (!have)
		TEST_SKIP("no GRUB i386-pc (grub-pc-bin)");
	ASSERT_OK(grub_bios_make(&p, &d, &g));
	red = le32_get(g->core + GRUB_BOOT_SIZE + GRUB_KERNEL_RS_REDUNDANCY);
	ASSERT_TRUE(red > 0);
	ASSERT_EQ(g->core_len / GRUB_BOOT_SIZE, grub_core_embed_sectors(g->core_len - red));
	ASSERT_EQ(le16_get(g->core + 0x1fc), g->core_len / GRUB_BOOT_SIZE - 1);
	p.max_sect = g->core_len / GRUB_BOOT_SIZE - 1;
	g = grub_bios_free(g);
	ASSERT_ERR(grub_bios_make(&p, &d, &g), -ENOSPC);
	ASSERT_TRUE(strstr(d.msg, "with its Reed-Solomon parity needs") != NULL);
	ASSERT_TRUE(g == NULL);
}

TEST(mkimage_path_is_beside_the_module_directory)
{
	char *s = grub_mkimage_path("/usr/lib/grub/i386-pc");

	ASSERT_TRUE(strcmp(s, "/usr/lib/grub/i386-pc/../../../bin/grub-mkimage") == 0);
	free(s);
}

static struct boot_entry *entry(const char *kernel, const char *initrd, const char *init,
				const char *params)
{
	struct boot_entry *e = boot_entry_new(kernel, initrd, params);

	e->init = init ? xstrdup(init) : NULL;
	return e;
}

static char *cfg_of(const struct tree *t)
{
	struct tree_node *n = tree_lookup(t, GRUB_CFG_PATH);

	return n && n->src_data ? xstrndup((const char *)n->src_data, n->size) : NULL;
}

TEST(install_files_boots_store_kernels_where_they_are)
{
	struct diag d = {0};
	struct tree *t = tree_new();
	struct boot_entry *e = entry("/nix/store/aaa-linux/bzImage", "/nix/store/bbb-initrd/initrd",
				     "/nix/store/ccc-system/init", "console=ttyS0 quiet");
	char *cfg;

	ASSERT_OK(tree_add_data(t, "/nix/store/aaa-linux/bzImage", "k", 1, 0444, 0, 0, 0, &d));
	ASSERT_OK(tree_add_data(t, "/nix/store/bbb-initrd/initrd", "i", 1, 0444, 0, 0, 0, &d));
	ASSERT_OK(grub_install_files(t, e, "0123", 7, &d));
	cfg = cfg_of(t);
	ASSERT_TRUE(cfg != NULL);
	ASSERT_TRUE(strstr(cfg,
			   "\tlinux /nix/store/aaa-linux/bzImage init=/nix/store/ccc-system/init "
			   "console=ttyS0 quiet\n") != NULL);
	ASSERT_TRUE(strstr(cfg, "\tinitrd /nix/store/bbb-initrd/initrd\n") != NULL);
	ASSERT_TRUE(strstr(cfg, "menuentry \"NixOS\"") != NULL);
	ASSERT_TRUE(tree_lookup(t, "/boot/kernel") == NULL);
	ASSERT_EQ(tree_lookup(t, GRUB_CFG_PATH)->mode, 0644);
	free(cfg);
	boot_entry_free(e);
	tree_free(t);
}

TEST(install_files_copies_host_kernels_to_boot)
{
	struct diag d = {0};
	struct tree *t = tree_new();
	char host[] = "/tmp/grub-test-kernel.XXXXXX", link[64];
	int fd = mkstemp(host);
	struct boot_entry *e;
	char *cfg;

	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(write(fd, "kernel", 6) == 6);
	close(fd);
	snprintf(link, sizeof(link), "%s.link", host);
	ASSERT_OK(symlink(host, link));
	e = entry(link, NULL, NULL, "console=ttyS0");

	ASSERT_OK(grub_install_files(t, e, "0123", 0, &d));
	cfg = cfg_of(t);
	ASSERT_TRUE(strstr(cfg, "\tlinux /boot/kernel console=ttyS0\n") != NULL);
	ASSERT_TRUE(strstr(cfg, "initrd") == NULL);
	ASSERT_TRUE(strstr(cfg, "menuentry \"Linux\"") != NULL);
	ASSERT_TRUE(tree_lookup(t, "/boot/kernel") != NULL);
	ASSERT_EQ(tree_lookup(t, "/boot/kernel")->uid, 0);
	ASSERT_EQ(tree_lookup(t, "/boot/kernel")->type, TREE_REG);
	ASSERT_EQ(tree_lookup(t, "/boot/kernel")->size, 6);
	(void)unlink(link);
	(void)unlink(host);
	free(cfg);
	boot_entry_free(e);
	tree_free(t);
}

TEST(install_files_refuses_an_existing_grub_cfg_and_unsafe_words)
{
	struct diag d = {0};
	struct tree *t = tree_new();
	struct boot_entry *e = entry("/nix/store/aaa-linux/bzImage", NULL, NULL, "a");
	struct boot_entry *bad = entry("/nix/store/aaa-linux/bzImage", NULL, NULL, "x=\"y\"");

	ASSERT_OK(tree_add_data(t, "/nix/store/aaa-linux/bzImage", "k", 1, 0444, 0, 0, 0, &d));
	ASSERT_ERR(grub_install_files(t, bad, "0123", 0, &d), -EINVAL);
	ASSERT_OK(tree_add_data(t, GRUB_CFG_PATH, "x", 1, 0644, 0, 0, 0, &d));
	ASSERT_ERR(grub_install_files(t, e, "0123", 0, &d), -EEXIST);
	ASSERT_TRUE(strstr(d.msg, "/boot/grub/grub.cfg is already in the root tree") != NULL);
	boot_entry_free(e);
	boot_entry_free(bad);
	tree_free(t);
}
