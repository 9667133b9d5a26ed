#include "spec/repart.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/diag.h"
#include "util/test.h"
#include "util/uuid.h"

static int parse(const char *text, struct repart_part *p, struct diag *d)
{
	repart_part_init(p);
	*d = (struct diag){ 0 };
	return repart_parse("x.conf", text, strlen(text), PART_ARCH_X86_64, p, d);
}

/* The error for one file: its message must contain want. */
static void bad(const char *text, int err, const char *want)
{
	struct repart_part p;
	struct diag d;
	int r = parse(text, &p, &d);

	if (r != err || !strstr(d.msg, want)) {
		fprintf(stderr, "text: %s\ngot %d '%s', want %d '%s'\n", text, r, d.msg, err, want);
		abort();
	}
	repart_part_free(&p);
}

TEST(repart_every_key)
{
	struct repart_part p;
	struct diag d;
	char u[UUID_STR_LEN];

	ASSERT_OK(parse("# comment\n; another\n\n  [Partition]  \n"
			"Type = root-arm64\n"
			"Label=my root\n"
			"UUID=0123456789abcdef0123456789ABCDEF\n"
			"Priority=-5\n"
			"Weight=250\n"
			"PaddingWeight=10\n"
			"SizeMinBytes=1.5M 1B\n"
			"SizeMaxBytes=1G 1\n"
			"PaddingMinBytes=100\n"
			"PaddingMaxBytes=8K\n"
			"Format=vfat\n"
			"CopyFiles=/a//b/:/c\n"
			"CopyFiles=/d\n"
			"MakeDirectories=/x /y\\\n"
			"  /z\n"
			"Minimize=guess\n"
			"ReadOnly=on\n"
			"NoAuto=FALSE\n"
			"GrowFileSystem=1\n"
			"FactoryReset=yes\n"
			"Flags=0x4000000000000\n"
			"Encrypt=off\n"
			"Verity=off\n"
			"SplitName=-\n",
			&p, &d));
	ASSERT_EQ(p.type.kind, PART_DPS_ROOT);
	ASSERT_STR_EQ(p.type.name, "root-arm64");
	uuid_format(p.type.uuid, u);
	ASSERT_STR_EQ(u, "b921b045-1df0-41c3-af44-4c6f280d3fae");
	ASSERT_STR_EQ(p.label, "my root");
	ASSERT_TRUE(p.uuid_set);
	uuid_format(p.uuid, u);
	ASSERT_STR_EQ(u, "01234567-89ab-cdef-0123-456789abcdef");
	ASSERT_EQ(p.priority, -5);
	ASSERT_EQ(p.weight, 250);
	ASSERT_EQ(p.padding_weight, 10);
	ASSERT_EQ(p.size_min, 1576960);           /* 1.5M + 1 = 1572865, rounded up to 4K */
	ASSERT_EQ(p.size_max, (1ull << 30));      /* 1G + 1, rounded down */
	ASSERT_EQ(p.padding_min, 4096);
	ASSERT_EQ(p.padding_max, 8192);
	ASSERT_STR_EQ(p.format, "vfat");
	ASSERT_EQ(p.n_copies, 2);
	ASSERT_STR_EQ(p.copies[0].source, "/a/b");
	ASSERT_STR_EQ(p.copies[0].target, "/c");
	ASSERT_STR_EQ(p.copies[1].source, "/d");
	ASSERT_STR_EQ(p.copies[1].target, "/d");
	ASSERT_EQ(p.n_mkdirs, 3);
	ASSERT_STR_EQ(p.mkdirs[2], "/z");
	ASSERT_EQ(p.minimize, REPART_MINIMIZE_GUESS);
	ASSERT_EQ(p.read_only, 1);
	ASSERT_EQ(p.no_auto, 0);
	ASSERT_EQ(p.growfs, 1);
	ASSERT_TRUE(p.factory_reset);
	ASSERT_EQ(p.flags, 1ull << 50);
	repart_part_free(&p);
}

TEST(repart_defaults)
{
	struct repart_part p;
	struct diag d;

	/* CopyFiles= without Format= is ext4; growfs on for home; last Type= wins */
	ASSERT_OK(parse("[Partition]\nType=esp\nType=home\nCopyFiles=/etc\n", &p, &d));
	ASSERT_EQ(p.type.kind, PART_DPS_HOME);
	ASSERT_STR_EQ(p.format, "ext4");
	ASSERT_EQ(p.growfs, 1);
	ASSERT_EQ(p.weight, 1000);
	ASSERT_EQ(p.size_min, REPART_UNSET);
	repart_part_free(&p);
	/* verity: read-only by default, hence no growfs; "root" is the native architecture */
	ASSERT_OK(parse("[Partition]\nType=root-verity\n", &p, &d));
	ASSERT_STR_EQ(p.type.name, "root-x86-64-verity");
	ASSERT_EQ(p.read_only, 1);
	ASSERT_EQ(p.growfs, -1);
	repart_part_free(&p);
	/* aliases resolve to the canonical name; a GUID to its name */
	ASSERT_OK(parse("[Partition]\nType=usr-aarch64-verity-sig\n", &p, &d));
	ASSERT_STR_EQ(p.type.name, "usr-arm64-verity-sig");
	repart_part_free(&p);
	ASSERT_OK(parse("[Partition]\nType=0657fd6d-a4ab-43c4-84e5-0933c84b4f4f\n", &p, &d));
	ASSERT_STR_EQ(p.type.name, "swap");
	repart_part_free(&p);
	ASSERT_OK(parse("[Partition]\nType=11111111-2222-3333-4444-555555555555\n", &p, &d));
	ASSERT_STR_EQ(p.type.name, "");
	repart_part_free(&p);
	/* a continuation ends at an empty line; a file without a final newline */
	ASSERT_OK(parse("[Partition]\nLabel=a\\\n\nType=tmp", &p, &d));
	ASSERT_STR_EQ(p.label, "a");
	ASSERT_EQ(p.type.kind, PART_DPS_TMP);
	repart_part_free(&p);
}

TEST(repart_bad_lines)
{
	bad("[Partition]\nType=home\nFoo=1\n", -EINVAL, "x.conf:3: Foo=1: unknown key");
	bad("Type=home\n", -EINVAL, "x.conf:1: \"Type=home\": assignment outside");
	bad("[Partition\nType=home\n", -EINVAL, "x.conf:1: \"[Partition\": a section header");
	bad("[Disk]\n", -EINVAL, "x.conf:1: [Disk]: unknown section");
	bad("[Partition]\nType\n", -EINVAL, "x.conf:2: \"Type\": not a Key=value line");
	bad("[Partition]\n=home\n", -EINVAL, "x.conf:2: \"=home\": no key");
	bad("[Partition]\nLabel=x\n", -EINVAL, "x.conf: Type= missing");
	bad("[Partition]\nType=root-pdp11\n", -EINVAL, "Type=root-pdp11: unknown partition");
	bad("[Partition]\nType=00000000-0000-0000-0000-000000000000\n", -EINVAL, "unknown partition");
	bad("[Partition]\nType=home\nLabel=%m\n", -ENOTSUP, "Label=%m: specifiers");
	bad("[Partition]\nType=home\nLabel=0123456789012345678901234567890123456\n", -EINVAL,
	    "36 characters");
	bad("[Partition]\nType=home\nUUID=null\n", -ENOTSUP, "UUID=null");
	bad("[Partition]\nType=home\nUUID=123\n", -EINVAL, "UUID=123: not a UUID");
	bad("[Partition]\nType=home\nPriority=1x\n", -EINVAL, "Priority=1x");
	bad("[Partition]\nType=home\nWeight=1000001\n", -EINVAL, "Weight=1000001");
	bad("[Partition]\nType=home\nWeight=-1\n", -EINVAL, "Weight=-1");
	bad("[Partition]\nType=home\nSizeMinBytes=1K 1G\n", -EINVAL, "not a size");
	bad("[Partition]\nType=home\nSizeMinBytes=20000000000000000000\n", -EINVAL, "not a size");
	bad("[Partition]\nType=home\nSizeMinBytes=-1\n", -EINVAL, "not a size");
	bad("[Partition]\nType=home\nSizeMinBytes=2M\nSizeMaxBytes=1M\n", -EINVAL,
	    "SizeMinBytes= larger");
	bad("[Partition]\nType=home\nPaddingMinBytes=2M\nPaddingMaxBytes=1M\n", -EINVAL,
	    "PaddingMinBytes= larger");
	bad("[Partition]\nType=home\nFormat=xfs\n", -ENOTSUP, "Format=xfs: filesystem not");
	bad("[Partition]\nType=home\nFormat=squashfs\n", -ENOTSUP, "Format=squashfs");
	bad("[Partition]\nType=home\nCopyFiles=/a:/b:/c\n", -EINVAL, "too many ':'");
	bad("[Partition]\nType=home\nCopyFiles=/a/../b\n", -EINVAL, "absolute paths");
	bad("[Partition]\nType=home\nMakeDirectories=/a b\n", -EINVAL, "\"b\": not an absolute");
	bad("[Partition]\nType=home\nMakeDirectories=\"/a\"\n", -ENOTSUP, "quotes");
	bad("[Partition]\nType=swap\nFormat=swap\nCopyFiles=/a\n", -EINVAL, "Format=swap and");
	bad("[Partition]\nType=home\nMinimize=best\n", -EINVAL, "Minimize= needs Format=");
	bad("[Partition]\nType=home\nMinimize=maybe\n", -EINVAL, "use off, best or guess");
	bad("[Partition]\nType=home\nEncrypt=key-file\n", -ENOTSUP, "Encrypt=key-file");
	bad("[Partition]\nType=home\nVerity=hash\n", -ENOTSUP, "Verity=hash");
	bad("[Partition]\nType=home\nCopyBlocks=auto\n", -ENOTSUP, "CopyBlocks=auto: not supported");
	bad("[Partition]\nType=home\nSubvolumes=/a\n", -ENOTSUP, "Subvolumes=/a");
	bad("[Partition]\nType=home\nFlags=1\n", -ENOTSUP, "Flags=1: bits 0..47");
	bad("[Partition]\nType=home\nFlags=x\n", -EINVAL, "Flags=x: not a 64-bit");
	bad("[Partition]\nType=home\nNoAuto=2\n", -EINVAL, "NoAuto=2: not a boolean");
	bad("[Partition]\nType=home\nFactoryReset=\n", -EINVAL, "FactoryReset=: not a boolean");
	{
		struct repart_part p;
		struct diag d = { 0 };

		repart_part_init(&p);
		ASSERT_EQ(repart_parse("x.conf", "[Partition]\n\0", 13, PART_ARCH_X86_64, &p, &d),
			  -EINVAL);
		ASSERT_TRUE(strstr(d.msg, "NUL byte") != NULL);
		repart_part_free(&p);
	}
}

/* The layout of set B in tests/integration/repart.sh, as systemd-repart 252 placed it. */
TEST(repart_place_weights_padding_priority)
{
	static const char *const files[] = {
		"[Partition]\nType=swap\nFormat=swap\nSizeMinBytes=8M\nSizeMaxBytes=8M\n",
		"[Partition]\nType=home\nFormat=ext4\nWeight=2000\n",
		"[Partition]\nType=home\nWeight=500\nSizeMaxBytes=20M\n",
		"[Partition]\nType=srv\nPaddingWeight=500\nPaddingMinBytes=1M\nReadOnly=yes\n"
		"NoAuto=on\nFlags=1125899906842624\n",
		"[Partition]\nType=var\nFormat=ext4\nUUID=4f3a6e2b-1c2d-4e5f-8a9b-0c1d2e3f4a5b\n"
		"SizeMinBytes=12M\n",
		"[Partition]\nType=linux-generic\nSizeMinBytes=1G\nPriority=10\n",
	};
	static const uint64_t start[] = { 2048, 18432, 88496, 108976, 161528 };
	static const uint64_t size[] = { 16384, 70064, 20480, 35032, 35040 };
	struct repart_part p[6];
	struct diag d = { 0 };
	uint8_t seed[16], disk[16];
	uint64_t disk_bytes;
	char u[UUID_STR_LEN];

	for (size_t i = 0; i < 6; i++) {
		repart_part_init(&p[i]);
		ASSERT_OK(repart_parse("f", files[i], strlen(files[i]), PART_ARCH_X86_64, &p[i], &d));
	}
	ASSERT_OK(repart_place(p, 6, 96ull << 20, &d, &disk_bytes));
	ASSERT_EQ(disk_bytes, 96ull << 20);
	ASSERT_TRUE(p[5].dropped);
	for (size_t i = 0; i < 5; i++) {
		ASSERT_TRUE(!p[i].dropped);
		ASSERT_EQ(p[i].offset / 512, start[i]);
		ASSERT_EQ(p[i].new_size / 512, size[i]);
	}
	ASSERT_OK(uuid_parse("0e1b5ad2-7e8a-4b1f-9f6c-1a2b3c4d5e6f", seed));
	repart_ids(p, 6, seed, disk);
	uuid_format(disk, u);
	ASSERT_STR_EQ(u, "f170921a-bc1e-4df6-ba00-7f849a6e7127");
	uuid_format(p[1].new_uuid, u);
	ASSERT_STR_EQ(u, "b21c38c3-abfe-4ecf-8342-8224aceee213");
	uuid_format(p[2].new_uuid, u); /* the second home: the counter */
	ASSERT_STR_EQ(u, "e3fe2499-f8b8-499e-a3aa-c7e27fd63738");
	ASSERT_STR_EQ(p[2].new_label, "home-2");
	uuid_format(p[4].new_uuid, u);
	ASSERT_STR_EQ(u, "4f3a6e2b-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
	ASSERT_EQ(p[3].attributes, (1ull << 50) | (1ull << 60) | (1ull << 63));
	ASSERT_EQ(p[1].attributes, 1ull << 59);
	ASSERT_EQ(p[0].attributes, 0);
	for (size_t i = 0; i < 6; i++)
		repart_part_free(&p[i]);
}

TEST(repart_place_auto_and_full)
{
	static const char *const file = "[Partition]\nType=home\nSizeMinBytes=100M\n";
	struct repart_part p;
	struct diag d = { 0 };
	uint64_t disk;

	repart_part_init(&p);
	ASSERT_OK(repart_parse("f", file, strlen(file), PART_ARCH_X86_64, &p, &d));
	/* --size=auto: 1044 KiB of tables + 100 MiB, whole MiB */
	ASSERT_OK(repart_place(&p, 1, 0, &d, &disk));
	ASSERT_EQ(disk, 102ull << 20);
	ASSERT_EQ(p.offset, 1ull << 20);
	ASSERT_EQ(p.new_size, (102ull << 20) - (1ull << 20) - 20480);
	ASSERT_EQ(repart_place(&p, 1, 64ull << 20, &d, &disk), -ENOSPC);
	ASSERT_TRUE(strstr(d.msg, "need at least") != NULL);
	repart_part_free(&p);
}
