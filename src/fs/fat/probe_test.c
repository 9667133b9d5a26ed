#include "fs/fat/probe.h"

#include <stdlib.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/test.h"

struct mem {
	uint8_t *buf;
	size_t len;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
	const struct mem *m = ctx;

	if (off + len > m->len)
		return -EIO;
	memcpy(buf, m->buf + off, len);
	return 0;
}

/* A FAT image made by the reference tool, or NULL when mkfs.fat is missing. */
static int make_ref(const char *fat_bits, uint32_t kib, struct mem *ret)
{
	char path[] = "/tmp/fat_probe_test.XXXXXX", cmd[256];
	int fd = mkstemp(path), r;

	if (fd < 0)
		return -errno;
	close(fd);
	unlink(path);
	snprintf(cmd, sizeof(cmd), "mkfs.fat -F %s -n PROBEME -i 12345678 -C %s %u >/dev/null 2>&1",
		 fat_bits, path, kib);
	if (system(cmd) != 0)
		return -ENOENT;
	r = read_file(path, 64u << 20, &ret->buf, &ret->len);
	unlink(path);
	return r;
}

TEST(fat_probe_reads_mkfs_fat_images)
{
	static const struct {
		const char *bits;
		uint32_t kib;
		enum fat_type type;
	} cases[] = { { "12", 2048, FAT_TYPE_12 }, { "16", 20480, FAT_TYPE_16 },
		      { "32", 40960, FAT_TYPE_32 } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mem m;
		struct fat_probe_info info;
		struct diag d = { 0 };

		if (make_ref(cases[i].bits, cases[i].kib, &m) == -ENOENT) {
			TEST_SKIP("mkfs.fat missing");
		}
		ASSERT_OK(fat_probe(mem_read, &m, m.len, &d, &info));
		ASSERT_EQ(info.type, cases[i].type);
		ASSERT_STR_EQ(info.label, "PROBEME");
		ASSERT_EQ(info.volume_id, 0x12345678);
		ASSERT_EQ(info.size_bytes, (uint64_t)cases[i].kib * 1024);
		/* an empty filesystem: everything free but FAT32's root cluster */
		ASSERT_EQ(info.free_clus, info.n_clus - (info.type == FAT_TYPE_32));
		free(m.buf);
	}
}

TEST(fat_probe_rejects_hostile_boot_sectors)
{
	struct mem m;
	struct fat_probe_info info;
	struct diag d = { 0 };
	uint8_t saved[512];

	if (make_ref("32", 40960, &m) == -ENOENT)
		TEST_SKIP("mkfs.fat missing");
	memcpy(saved, m.buf, 512);
	le32_put(m.buf + 0x20, 0xffffffffu); /* total sectors past the partition */
	ASSERT_ERR(fat_probe(mem_read, &m, m.len, &d, &info), -EBADMSG);
	memcpy(m.buf, saved, 512);
	m.buf[0x0d] = 3; /* sectors per cluster not a power of two */
	ASSERT_ERR(fat_probe(mem_read, &m, m.len, &d, &info), -EBADMSG);
	memcpy(m.buf, saved, 512);
	le16_put(m.buf + 0x0b, 0); /* bytes per sector */
	ASSERT_ERR(fat_probe(mem_read, &m, m.len, &d, &info), -ENOENT);
	memcpy(m.buf, saved, 512);
	m.buf[0x1fe] = 0; /* no boot signature: not FAT */
	ASSERT_ERR(fat_probe(mem_read, &m, m.len, &d, &info), -ENOENT);
	memcpy(m.buf, saved, 512);
	le32_put(m.buf + 0x24, 1); /* a FAT too short for its clusters */
	ASSERT_ERR(fat_probe(mem_read, &m, m.len, &d, &info), -EBADMSG);
	ASSERT_ERR(fat_probe(mem_read, &m, 100, &d, &info), -ENOENT);
	free(m.buf);
}
