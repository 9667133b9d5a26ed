/* part_probe: round trip of every layout, and hostile images. */
#include "part/part.h"

#include <stdlib.h>
#include <unistd.h>

#include "image/plan.h"
#include "part/gpt.h"
#include "part/mbr.h"
#include "util/cleanup.h"
#include "util/crc.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/test.h"
#include "util/uuid.h"
#include "util/xalloc.h"

static int make_image(enum part_table t, struct part_layout *l)
{
	struct part_params p = {
		.table = t,
		.arch = PART_ARCH_AARCH64,
		.boot_bytes = 256 * PART_MIB,
		.disk_bytes = 300 * PART_MIB,
		.seed = "probe-seed",
	};
	char path[] = "/tmp/part-probe-XXXXXX";
	struct diag d = { 0 };
	struct image_plan *plan;
	int fd;

	if (part_layout_plan(&p, &d, l) < 0)
		abort();
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, (off_t)l->disk_bytes) < 0)
		abort();
	(void)unlink(path);
	plan = image_plan_new(l->disk_bytes);
	part_plan_ranges(l, plan);
	for (size_t i = 0; i < plan->n_ranges; i++) {
		const struct image_range *r = &plan->ranges[i];
		_cleanup_free_ uint8_t *buf = xcalloc(1, r->len);

		if (image_range_fill(plan, r, 0, buf, r->len, &d) < 0 ||
		    pwrite_full(fd, buf, r->len, r->off) < 0)
			abort();
	}
	image_plan_free(plan);
	return fd;
}

/* Change a le32/le64 field of the GPT header at lba and restamp its CRC. */
static void poke_header(int fd, uint64_t lba, unsigned field, uint64_t v, unsigned width)
{
	uint8_t s[512];

	if (pread_full(fd, s, sizeof(s), lba * 512) < 0)
		abort();
	if (width == 4)
		le32_put(s + field, (uint32_t)v);
	else
		le64_put(s + field, v);
	le32_put(s + GPT_HDR_CRC, 0);
	le32_put(s + GPT_HDR_CRC, crc32_ieee(0, s, GPT_HDR_LEN));
	if (pwrite_full(fd, s, sizeof(s), lba * 512) < 0)
		abort();
}

static void zero_sector(int fd, uint64_t lba)
{
	uint8_t s[512] = { 0 };

	if (pwrite_full(fd, s, sizeof(s), lba * 512) < 0)
		abort();
}

TEST(probe_round_trips_every_layout)
{
	static const enum part_table tables[] = { PART_TABLE_LEGACY, PART_TABLE_LEGACY_GPT,
						  PART_TABLE_EFI, PART_TABLE_EFIXBOOTLDR,
						  PART_TABLE_HYBRID };

	for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
		_cleanup_(part_probe_freep) struct part_probe *p = NULL;
		_cleanup_close_ int fd = -EBADF;
		struct diag d = { 0 };
		struct part_layout l;

		fd = make_image(tables[t], &l);
		ASSERT_OK(part_probe(fd, l.disk_bytes, &d, &p));
		ASSERT_EQ(p->layout, tables[t]);
		ASSERT_EQ(p->kind,
			  tables[t] == PART_TABLE_LEGACY ? PART_PROBE_MBR : PART_PROBE_GPT);
		ASSERT_EQ(p->n_parts, l.n_parts);
		ASSERT_TRUE(!p->backup_used && !p->backup_bad);
		ASSERT_STR_EQ(p->gpt_problem, "");
		for (size_t i = 0; i < l.n_parts; i++) {
			ASSERT_EQ(p->parts[i].number, l.parts[i].number);
			ASSERT_EQ(p->parts[i].first_lba, l.parts[i].first_lba);
			ASSERT_EQ(p->parts[i].n_lba, l.parts[i].n_lba);
			if (p->kind == PART_PROBE_MBR) {
				ASSERT_EQ(p->parts[i].mbr_type, 0x83);
				continue;
			}
			ASSERT_MEM_EQ(p->parts[i].type_uuid, l.parts[i].type_uuid, 16);
			ASSERT_MEM_EQ(p->parts[i].uuid, l.parts[i].uuid, 16);
			ASSERT_STR_EQ(p->parts[i].name, l.parts[i].name);
		}
		if (p->kind == PART_PROBE_GPT)
			ASSERT_MEM_EQ(p->disk_uuid, l.disk_uuid, 16);
		else
			ASSERT_EQ(p->mbr_signature, l.mbr_signature);
	}
}

TEST(probe_no_table)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct part_layout l;
	struct diag d = { 0 };

	fd = make_image(PART_TABLE_NONE, &l);
	ASSERT_OK(part_probe(fd, l.disk_bytes, &d, &p));
	ASSERT_EQ(p->kind, PART_PROBE_NONE);
	ASSERT_EQ(p->n_parts, 0);
	p = part_probe_free(p);
	ASSERT_OK(part_probe(fd, 100, &d, &p)); /* shorter than a sector */
	ASSERT_EQ(p->kind, PART_PROBE_NONE);
}

TEST(probe_truncated_image)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct part_layout l;
	struct diag d = { 0 };

	fd = make_image(PART_TABLE_EFI, &l);
	ASSERT_ERR(part_probe(fd, 20 * 1024, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "usable LBAs") != NULL);
	ASSERT_ERR(part_probe(fd, 600, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "past the 1-sector image") != NULL);
	ASSERT_TRUE(p == NULL);
}

TEST(probe_bad_primary_crc_falls_back_to_backup)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct part_layout l;
	struct diag d = { 0 };
	uint8_t b = 0xff;

	fd = make_image(PART_TABLE_EFI, &l);
	ASSERT_OK(pwrite_full(fd, &b, 1, 512 + GPT_HDR_DISK_GUID));
	ASSERT_OK(part_probe(fd, l.disk_bytes, &d, &p));
	ASSERT_TRUE(p->backup_used);
	ASSERT_EQ(p->n_parts, 2);
	ASSERT_TRUE(strstr(p->gpt_problem, "primary GPT: GPT header: header CRC32") != NULL);
	p = part_probe_free(p);

	zero_sector(fd, l.disk_bytes / 512 - 1);
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "header CRC32") != NULL);
}

TEST(probe_bad_backup_is_reported)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct part_layout l;
	struct diag d = { 0 };
	uint8_t b = 0x01;

	fd = make_image(PART_TABLE_HYBRID, &l);
	/* a flipped bit in the backup entry array: its CRC no longer matches */
	ASSERT_OK(pwrite_full(fd, &b, 1, l.disk_bytes - 33 * 512 + 100));
	ASSERT_OK(part_probe(fd, l.disk_bytes, &d, &p));
	ASSERT_TRUE(!p->backup_used && p->backup_bad);
	ASSERT_TRUE(strstr(p->gpt_problem, "backup GPT at LBA") != NULL);
	ASSERT_TRUE(strstr(p->gpt_problem, "PartitionEntryArrayCRC32") != NULL);
}

TEST(probe_bad_primary_array_falls_back_to_backup)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct part_layout l;
	struct diag d = { 0 };
	uint8_t b = 0x01;

	fd = make_image(PART_TABLE_EFI, &l);
	ASSERT_OK(pwrite_full(fd, &b, 1, 2 * 512 + 100));
	ASSERT_OK(part_probe(fd, l.disk_bytes, &d, &p));
	ASSERT_TRUE(p->backup_used);
	ASSERT_EQ(p->n_parts, 2);
	ASSERT_TRUE(strstr(p->gpt_problem, "primary GPT") != NULL);
	ASSERT_TRUE(strstr(p->gpt_problem, "PartitionEntryArrayCRC32") != NULL);
}

TEST(probe_backup_missing_or_misplaced)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct part_layout l;
	struct diag d = { 0 };

	fd = make_image(PART_TABLE_EFI, &l);
	/* truncated by one sector: the backup header is gone */
	ASSERT_OK(part_probe(fd, l.disk_bytes - 512, &d, &p));
	ASSERT_TRUE(!p->backup_used && p->backup_bad);
	ASSERT_TRUE(strstr(p->gpt_problem, "truncated?") != NULL);
	p = part_probe_free(p);
	/* grown by 1 MiB: the backup is sound but not in the last sector */
	ASSERT_TRUE(ftruncate(fd, (off_t)(l.disk_bytes + PART_MIB)) == 0);
	ASSERT_OK(part_probe(fd, l.disk_bytes + PART_MIB, &d, &p));
	ASSERT_TRUE(!p->backup_used && p->backup_bad);
	ASSERT_TRUE(strstr(p->gpt_problem, "not in the last sector") != NULL);
	ASSERT_EQ(p->n_parts, 2);
}

TEST(probe_backup_disagreeing_with_primary)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct part_layout l;
	struct diag d = { 0 };

	fd = make_image(PART_TABLE_EFI, &l);
	/* a valid backup header (CRC restamped) with another disk GUID */
	poke_header(fd, l.disk_bytes / 512 - 1, GPT_HDR_DISK_GUID, 0x1122334455667788ull, 8);
	ASSERT_OK(part_probe(fd, l.disk_bytes, &d, &p));
	ASSERT_TRUE(!p->backup_used && p->backup_bad);
	ASSERT_TRUE(strstr(p->gpt_problem, "DiskGUID differ") != NULL);
}

TEST(probe_entry_array_past_the_end)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct part_layout l;
	struct diag d = { 0 };
	uint64_t last = 300 * 2048 - 1;

	fd = make_image(PART_TABLE_EFI, &l);
	zero_sector(fd, last);
	poke_header(fd, 1, GPT_HDR_ENTRIES_LBA, last - 3, 8);
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "PartitionEntryLBA") != NULL);
	poke_header(fd, 1, GPT_HDR_ENTRIES_LBA, UINT64_MAX - 1, 8);
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "PartitionEntryLBA") != NULL);
	poke_header(fd, 1, GPT_HDR_ENTRIES_LBA, 100, 8); /* inside the usable area */
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "overlaps usable") != NULL);
}

TEST(probe_absurd_entry_count_and_size)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct part_layout l;
	struct diag d = { 0 };

	fd = make_image(PART_TABLE_EFI, &l);
	zero_sector(fd, 300 * 2048 - 1);
	poke_header(fd, 1, GPT_HDR_N_ENTRIES, UINT32_MAX, 4);
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "NumberOfPartitionEntries") != NULL);
	poke_header(fd, 1, GPT_HDR_N_ENTRIES, 128, 4);
	poke_header(fd, 1, GPT_HDR_ENTRY_SIZE, 100, 4);
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "SizeOfPartitionEntry") != NULL);
	poke_header(fd, 1, GPT_HDR_ENTRY_SIZE, 1u << 31, 4);
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	/* a valid header whose array CRC no longer matches */
	poke_header(fd, 1, GPT_HDR_ENTRY_SIZE, 128, 4);
	poke_header(fd, 1, GPT_HDR_N_ENTRIES, 64, 4);
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "PartitionEntryArrayCRC32") != NULL);
}

TEST(probe_entry_outside_usable_area)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	uint8_t array[GPT_ENTRIES_BYTES];
	struct part_layout l;
	struct diag d = { 0 };

	fd = make_image(PART_TABLE_EFI, &l);
	zero_sector(fd, 300 * 2048 - 1);
	ASSERT_OK(pread_full(fd, array, sizeof(array), 1024));
	le64_put(array + GPT_PE_SIZE + GPT_PE_LAST_LBA, 300 * 2048 - 1);
	ASSERT_OK(pwrite_full(fd, array, sizeof(array), 1024));
	poke_header(fd, 1, GPT_HDR_ENTRIES_CRC, crc32_ieee(0, array, sizeof(array)), 4);
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "GPT entry 2") != NULL);

	/* overlapping partitions */
	le64_put(array + GPT_PE_SIZE + GPT_PE_LAST_LBA, 300 * 2048 - 34);
	le64_put(array + GPT_PE_SIZE + GPT_PE_FIRST_LBA, 20000);
	ASSERT_OK(pwrite_full(fd, array, sizeof(array), 1024));
	poke_header(fd, 1, GPT_HDR_ENTRIES_CRC, crc32_ieee(0, array, sizeof(array)), 4);
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "overlap") != NULL);
}

TEST(probe_mbr_entry_past_the_end)
{
	_cleanup_(part_probe_freep) struct part_probe *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct part_layout l;
	struct diag d = { 0 };
	uint8_t count[4];

	fd = make_image(PART_TABLE_LEGACY, &l);
	le32_put(count, 300 * 2048);
	ASSERT_OK(pwrite_full(fd, count, 4, MBR_PARTITION_TABLE + MBR_PE_LBA_COUNT));
	ASSERT_ERR(part_probe(fd, l.disk_bytes, &d, &p), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "MBR entry 1") != NULL);
}
