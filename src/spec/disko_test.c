/* spec/disko.c: disko.devices JSON → "partitions" (order, defaults, sizes, roles, refusals). */
#include "spec/spec-internal.h"

#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/test.h"

#define MIB (1ull << 20)

static int parse(struct image_spec *s, const char *json, struct diag *d)
{
	return spec_disko_parse(s, "t.json", json, strlen(json), d);
}

/* The message of a refused JSON. */
#define ASSERT_REFUSED(json, want)                                             \
	do {                                                                   \
		_cleanup_(image_spec_freep) struct image_spec *_s = image_spec_new(); \
		struct diag _d = { 0 };                                        \
		ASSERT_ERR(parse(_s, json, &_d), -EINVAL);                     \
		ASSERT_STR_EQ(_d.msg, want);                                   \
		ASSERT_EQ(_s->n_partitions, 0);                                \
	} while (0)

/* hybrid.nix as written (the module's defaults left out, plus internal keys): disko's order
 * (priority: EF02 100, others 1000, "100%" 9001), its labels, our roles. */
TEST(gpt_hybrid_order_and_defaults)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d = { 0 };
	const struct spec_partition *p;

	ASSERT_OK(parse(s, "{\"disk\": {\"main\": {\"type\": \"disk\", \"device\": \"/dev/vda\","
			   " \"imageSize\": \"3G\", \"_meta\": {}, \"content\": {\"type\": \"gpt\","
			   " \"partitions\": {"
			   "  \"root\": {\"size\": \"100%\", \"_index\": 3, \"content\": {\"type\":"
			   "   \"filesystem\", \"format\": \"ext4\", \"mountpoint\": \"/\"}},"
			   "  \"ESP\": {\"size\": \"512M\", \"type\": \"EF00\", \"content\": {\"type\":"
			   "   \"filesystem\", \"format\": \"vfat\", \"mountpoint\": \"/boot\","
			   "   \"mountOptions\": [\"umask=0077\"]}},"
			   "  \"boot\": {\"size\": \"1M\", \"type\": \"EF02\", \"attributes\": [0]}"
			   "}}}}, \"zpool\": {}, \"_x\": 1}", &d));
	ASSERT_EQ(s->partition_table, PART_TABLE_GPT);
	ASSERT_EQ(s->n_partitions, 3);
	ASSERT_TRUE(!s->disk_size_auto);
	ASSERT_EQ(s->disk_size_bytes, 3072 * MIB);
	ASSERT_TRUE(s->generic_root_type); /* 8300 stays Linux filesystem data */
	p = &s->partitions[0];
	ASSERT_STR_EQ(p->type, "bios-boot");
	ASSERT_STR_EQ(p->fs, "none");
	ASSERT_STR_EQ(p->label, "disk-main-boot");
	ASSERT_EQ(p->size_kind, SPEC_PART_SIZE_FIXED);
	ASSERT_EQ(p->size_bytes, MIB);
	ASSERT_TRUE(p->required && !p->bootable);
	p = &s->partitions[1];
	ASSERT_STR_EQ(p->type, "esp");
	ASSERT_STR_EQ(p->fs, "vfat");
	ASSERT_STR_EQ(p->label, "disk-main-ESP");
	ASSERT_STR_EQ(p->fs_label, "ESP");
	ASSERT_EQ(p->size_bytes, 512 * MIB);
	p = &s->partitions[2];
	ASSERT_STR_EQ(p->type, "root");
	ASSERT_STR_EQ(p->fs, "ext4");
	ASSERT_STR_EQ(p->fs_label, "nixos");
	ASSERT_EQ(p->size_kind, SPEC_PART_SIZE_REST);
}

/* An explicit priority, an explicit diskSize (wins over imageSize), labels from extraArgs,
 * a UUID, a type GUID, a long default label (gpt.nix: sha256 prefix). */
TEST(gpt_priority_labels_uuid)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d = { 0 };

	s->disk_size_auto = false;
	s->disk_size_bytes = 700 * MIB;
	ASSERT_OK(parse(s, "{\"disk\": {\"a-rather-long-disk-name\": {\"imageSize\": \"2G\","
			   " \"content\": {\"type\": \"gpt\", \"partitions\": {"
			   "  \"z\": {\"priority\": 1, \"size\": \"64M\", \"type\": \"ef00\","
			   "   \"uuid\": \"11111111-2222-3333-4444-555555555555\", \"content\":"
			   "   {\"type\": \"filesystem\", \"format\": \"vfat\", \"extraArgs\":"
			   "   [\"-n\", \"FIRMWARE\"]}},"
			   "  \"a-long-partition-name\": {\"size\": \"100%\", \"type\":"
			   "   \"4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709\", \"content\": {\"type\":"
			   "   \"filesystem\", \"format\": \"ext4\", \"mountpoint\": \"/\","
			   "   \"extraArgs\": [\"-L\", \"system\", \"-U\","
			   "   \"01234567-89ab-cdef-0123-456789abcdef\"]}}}}}}}", &d));
	ASSERT_EQ(s->disk_size_bytes, 700 * MIB);
	ASSERT_TRUE(!s->generic_root_type);
	ASSERT_STR_EQ(s->partitions[0].type, "esp");
	ASSERT_STR_EQ(s->partitions[0].fs_label, "FIRMWARE");
	ASSERT_TRUE(s->partitions[0].uuid_set);
	ASSERT_EQ(s->partitions[0].uuid[0], 0x11);
	/* sha256("disk-a-rather-long-disk-name-a-long-partition-name")[0..36) */
	ASSERT_EQ(strlen(s->partitions[1].label), 36);
	ASSERT_TRUE(strspn(s->partitions[1].label, "0123456789abcdef") == 36);
	ASSERT_STR_EQ(s->partitions[1].type, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709");
	ASSERT_STR_EQ(s->partitions[1].fs_label, "system");
	ASSERT_TRUE(!s->partitions[1].fs_uuid_set); /* the root's: rootFSUID */
	ASSERT_TRUE(s->root_fsuid_set);
	ASSERT_EQ(s->root_fsuid[15], 0xef);
}

/* swap.nix: root ends 1G before the disk's end, the "100%" swap after it gets that 1G;
 * randomEncryption's swap is left empty (NixOS formats it at boot). */
TEST(gpt_swap_tail)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d = { 0 };

	ASSERT_OK(parse(s, "{\"disk\": {\"main\": {\"content\": {\"type\": \"gpt\", \"partitions\": {"
			   " \"ESP\": {\"size\": \"500M\", \"type\": \"EF00\", \"content\": {\"type\":"
			   "  \"filesystem\", \"format\": \"vfat\", \"mountpoint\": \"/boot\"}},"
			   " \"root\": {\"end\": \"-1G\", \"content\": {\"type\": \"filesystem\","
			   "  \"format\": \"ext4\", \"mountpoint\": \"/\"}},"
			   " \"encryptedSwap\": {\"size\": \"10M\", \"content\": {\"type\": \"swap\","
			   "  \"randomEncryption\": true, \"priority\": 100}},"
			   " \"plainSwap\": {\"size\": \"100%\", \"content\": {\"type\": \"swap\","
			   "  \"discardPolicy\": \"both\", \"resumeDevice\": true}}}}}}}", &d));
	ASSERT_EQ(s->n_partitions, 4);
	ASSERT_TRUE(s->disk_size_auto); /* no imageSize: auto */
	ASSERT_STR_EQ(s->partitions[1].label, "disk-main-encryptedSwap");
	ASSERT_STR_EQ(s->partitions[1].type, "swap");
	ASSERT_STR_EQ(s->partitions[1].fs, "none");
	ASSERT_STR_EQ(s->partitions[2].type, "root");
	ASSERT_EQ(s->partitions[2].size_kind, SPEC_PART_SIZE_REST);
	ASSERT_STR_EQ(s->partitions[3].type, "swap");
	ASSERT_STR_EQ(s->partitions[3].fs, "swap");
	ASSERT_STR_EQ(s->partitions[3].fs_label, "");
	ASSERT_EQ(s->partitions[3].size_kind, SPEC_PART_SIZE_FIXED);
	ASSERT_EQ(s->partitions[3].size_bytes, 1024 * MIB);
}

/* legacy-table.nix with format msdos: parted's 1000-based M snaps to 1 MiB boundaries. */
TEST(table_msdos)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d = { 0 };

	ASSERT_OK(parse(s, "{\"disk\": {\"main\": {\"imageSize\": \"1G\", \"content\": {\"type\":"
			   " \"table\", \"format\": \"msdos\", \"partitions\": ["
			   " {\"name\": \"ESP\", \"start\": \"1M\", \"end\": \"500M\", \"flags\":"
			   "  [\"esp\"], \"part-type\": \"primary\", \"fs-type\": null, \"content\":"
			   "  {\"type\": \"filesystem\", \"format\": \"vfat\", \"mountpoint\": \"/boot\"}},"
			   " {\"name\": \"root\", \"start\": \"500M\", \"end\": \"100%\", \"bootable\":"
			   "  true, \"content\": {\"type\": \"filesystem\", \"format\": \"ext4\","
			   "  \"mountpoint\": \"/\"}}]}}}}", &d));
	ASSERT_EQ(s->partition_table, PART_TABLE_MBR);
	ASSERT_EQ(s->n_partitions, 2);
	ASSERT_STR_EQ(s->partitions[0].type, "esp");
	ASSERT_EQ(s->partitions[0].size_bytes, 476 * MIB); /* 1MiB .. 477MiB */
	ASSERT_TRUE(!s->partitions[0].label); /* MBR: no names */
	ASSERT_STR_EQ(s->partitions[1].type, "root");
	ASSERT_TRUE(s->partitions[1].bootable);
	ASSERT_EQ(s->partitions[1].size_kind, SPEC_PART_SIZE_REST);
}

#define DISK(parts) "{\"disk\": {\"main\": {\"content\": {\"type\": \"gpt\", \"partitions\": {" parts "}}}}}"
#define ROOT "\"root\": {\"size\": \"100%\", \"content\": {\"type\": \"filesystem\", \"format\": \"ext4\", \"mountpoint\": \"/\"}}"

TEST(refusals)
{
	ASSERT_REFUSED(DISK("\"r\": {\"size\": \"100%\", \"content\": {\"type\": \"luks\"}}"),
		       "disko t.json: disko.devices.disk.main.content.partitions.r.content.type "
		       "\"luks\": not supported (supported: filesystem, swap, or no content; LUKS, "
		       "LVM, mdadm, ZFS, btrfs and bcachefs are not)");
	ASSERT_REFUSED("{\"disk\": {\"a\": {}, \"b\": {}}}",
		       "disko t.json: disko.devices.disk: 2 disks (a, b); an image is one disk: "
		       "keep one in the JSON (e.g. jq '.disk |= {NAME: .NAME}')");
	ASSERT_REFUSED("{\"disk\": {}, \"zpool\": {\"zroot\": {}}}",
		       "disko t.json: disko.devices.zpool.zroot: zpool devices are not supported "
		       "(one disk with a gpt or msdos table is)");
	ASSERT_REFUSED("{\"disko\": {}}",
		       "disko t.json: disko.devices.disko: unknown device kind (expected disk; is "
		       "this the JSON of config.disko.devices?)");
	ASSERT_REFUSED("{\"disk\": {\"main\": {\"content\": {\"type\": \"btrfs\"}}}}",
		       "disko t.json: disko.devices.disk.main.content.type \"btrfs\": not supported "
		       "(supported: gpt, or table with format msdos or gpt)");
	ASSERT_REFUSED(DISK("\"x\": {\"size\": \"1M\", \"type\": \"ABCD\"}, " ROOT),
		       "disko t.json: disko.devices.disk.main.content.partitions.x.type \"ABCD\": "
		       "sgdisk code not known here (known: EF00, EF02, EA00, 8200, 8300, 8302, 8304, "
		       "8305, 8306, 8310, 0700, 0C01, 8E00, FD00, 8309; give the type GUID instead)");
	ASSERT_REFUSED(DISK("\"x\": {\"size\": \"1M\", \"attributes\": [1]}, " ROOT),
		       "disko t.json: disko.devices.disk.main.content.partitions.x.attributes[0]: "
		       "bit not supported (use 0, 2, 59, 60, 63)");
	ASSERT_REFUSED(DISK("\"x\": {\"size\": \"8M\", \"start\": \"4M\"}, " ROOT),
		       "disko t.json: disko.devices.disk.main.content.partitions.x.start \"4M\": not "
		       "where the partition goes (1M, after the one before; gaps are not "
		       "supported: use start 0)");
	ASSERT_REFUSED(DISK("\"x\": {\"size\": \"8M\", \"content\": {\"type\": \"filesystem\", "
			    "\"format\": \"ext4\", \"extraArgs\": [\"-O\", \"^has_journal\"]}}, " ROOT),
		       "disko t.json: disko.devices.disk.main.content.partitions.x.extraArgs[0] "
		       "\"-O\": not supported (only -L LABEL and -U UUID are taken: the image's "
		       "filesystem is written natively, not by mkfs)");
	ASSERT_REFUSED(DISK("\"n\": {\"size\": \"8M\", \"content\": {\"type\": \"filesystem\", "
			    "\"format\": \"ext4\", \"mountpoint\": \"/nix\"}}, " ROOT),
		       "disko t.json: disko.devices.disk.main.content.partitions.n.content."
		       "mountpoint \"/nix\": not supported (the Nix closure goes on the filesystem "
		       "mounted at /)");
	ASSERT_REFUSED(DISK("\"b\": {\"size\": \"8M\", \"content\": {\"type\": \"filesystem\", "
			    "\"format\": \"ext4\", \"mountpoint\": \"/boot\"}}, " ROOT),
		       "disko t.json: disko.devices.disk.main.content.partitions.b.content."
		       "mountpoint \"/boot\": only an ESP (type EF00) or XBOOTLDR (EA00) at /boot is "
		       "supported: the boot files go there");
	ASSERT_REFUSED(DISK("\"a\": {\"size\": \"100%\"}, " ROOT),
		       "disko t.json: disko.devices.disk.main.content.partitions.root: after the "
		       "partition that takes the rest of the disk (give it end \"-SIZE\" to leave "
		       "room)");
	ASSERT_REFUSED(DISK("\"r\": {}"),
		       "disko t.json: disko.devices.disk.main.content.partitions.r.size: missing "
		       "(give a size such as 512M, or 100% for the rest)");
	ASSERT_REFUSED(DISK("\"r\": {\"end\": \"-1G\"}"),
		       "disko t.json: disko.devices.disk.main.content.partitions: a partition ends "
		       "before the disk's end and no partition after it takes the room left (free "
		       "space at the end is not supported)");
	ASSERT_REFUSED("{\"disk\": {\"main\": {\"content\": {\"type\": \"table\", \"format\": "
		       "\"msdos\", \"partitions\": [{\"start\": \"1MiB\", \"end\": \"100%\", "
		       "\"part-type\": \"logical\"}]}}}}",
		       "disko t.json: disko.devices.disk.main.content.partitions[0].part-type "
		       "\"logical\": not supported (primary only: at most 4 partitions, no extended "
		       "ones)");
	ASSERT_REFUSED("{\"disk\": {\"main\": {\"content\": {\"type\": \"gpt\", \"partitions\": "
		       "{\"r\": {\"size\": \"9M\", \"content\": {\"type\": \"filesystem\", "
		       "\"format\": \"ext4\", \"_parent\": {}, \"extraArgs\": 7}}}}}}}",
		       "disko t.json: disko.devices.disk.main.content.partitions.r.extraArgs: "
		       "expected a list of strings");
}

/* Formats no fs handler writes are refused naming the ones that exist; JSON errors. */
TEST(refusals_format_and_json)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d = { 0 };

	ASSERT_ERR(parse(s, DISK("\"x\": {\"size\": \"8M\", \"content\": {\"type\": "
				 "\"filesystem\", \"format\": \"xfs\"}}, " ROOT), &d), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "partitions.x.content.format \"xfs\": not supported (use ") != NULL);
	ASSERT_ERR(parse(s, "{\"disk\": {\"a\": 1,}}", &d), -EINVAL);
	ASSERT_TRUE(strncmp(d.msg, "disko: t.json:1:", 16) == 0);
	ASSERT_ERR(parse(s, "{\"disk\": {\"a\": 1, \"a\": 2}}", &d), -EINVAL);
	ASSERT_EQ(s->n_partitions, 0);
}
