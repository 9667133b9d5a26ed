/* Partition type GUIDs and names. Values cross-checked against util-linux 2.38's
 * `sfdisk --label gpt -T` and systemd's docs/DISCOVERABLE_PARTITIONS.md. */
#include "part/types.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/uuid.h"

struct type_name {
	const char *uuid;
	const char *name;
};

#define TYPE_ESP "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define TYPE_BIOS_BOOT "21686148-6449-6E6F-744E-656564454649"
#define TYPE_XBOOTLDR "BC13C2FF-59E6-4262-A352-B275FD6F7172"
#define TYPE_LINUX_DATA "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#define TYPE_SWAP "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
#define TYPE_BASIC_DATA "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"

/* Indexed by enum part_arch. */
static const struct type_name root_types[] = {
	[PART_ARCH_X86_64] = { "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)" },
	[PART_ARCH_X86] = { "44479540-F297-41B2-9AF7-D131D5F0458A", "Linux root (x86)" },
	[PART_ARCH_AARCH64] = { "B921B045-1DF0-41C3-AF44-4C6F280D3FAE", "Linux root (ARM-64)" },
	[PART_ARCH_ARM] = { "69DAD710-2CE4-4E3C-B16C-21A1D49ABED3", "Linux root (ARM)" },
	[PART_ARCH_RISCV64] = { "72EC70A6-CF74-40E6-BD49-4BDA08E8F224", "Linux root (RISC-V-64)" },
	[PART_ARCH_RISCV32] = { "60D5A7FE-8E7D-435C-B714-3DD8162144E1", "Linux root (RISC-V-32)" },
	[PART_ARCH_LOONGARCH64] = { "77055800-792C-4F94-B39A-98C91B762BB6",
				    "Linux root (LoongArch-64)" },
	[PART_ARCH_PPC64LE] = { "C31C45E6-3F39-412E-80FB-4809C4980599", "Linux root (PPC64LE)" },
	[PART_ARCH_S390X] = { "5EEAD9A9-FE09-4A1E-A1D7-520D00531306", "Linux root (S390X)" },
};

static const struct type_name other_types[] = {
	{ TYPE_ESP, "EFI System" },
	{ TYPE_BIOS_BOOT, "BIOS boot" },
	{ TYPE_XBOOTLDR, "Linux extended boot" },
	{ TYPE_LINUX_DATA, "Linux filesystem" },
	{ TYPE_SWAP, "Linux swap" },
	{ "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux home" },
	{ "E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM" },
	{ "A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID" },
	{ "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data" },
	{ "E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved" },
};

static void parse_const(const char *s, uint8_t out[16])
{
	int r = uuid_parse(s, out);

	assert(r == 0);
	(void)r;
}

void part_type_uuid(enum part_role role, enum part_arch arch, bool generic_root, uint8_t out[16])
{
	switch (role) {
	case PART_ROLE_ESP:
		parse_const(TYPE_ESP, out);
		return;
	case PART_ROLE_BIOS_BOOT:
		parse_const(TYPE_BIOS_BOOT, out);
		return;
	case PART_ROLE_XBOOTLDR:
		parse_const(TYPE_XBOOTLDR, out);
		return;
	case PART_ROLE_SWAP:
		parse_const(TYPE_SWAP, out);
		return;
	case PART_ROLE_BOOT:
	case PART_ROLE_OTHER:
		parse_const(TYPE_LINUX_DATA, out);
		return;
	case PART_ROLE_ROOT:
		break;
	}
	assert((size_t)arch < ARRAY_SIZE(root_types));
	parse_const(generic_root ? TYPE_LINUX_DATA : root_types[arch].uuid, out);
}

const char *part_type_name(const uint8_t type_uuid[16])
{
	uint8_t u[16];

	for (size_t i = 0; i < ARRAY_SIZE(root_types); i++) {
		parse_const(root_types[i].uuid, u);
		if (memcmp(u, type_uuid, 16) == 0)
			return root_types[i].name;
	}
	for (size_t i = 0; i < ARRAY_SIZE(other_types); i++) {
		parse_const(other_types[i].uuid, u);
		if (memcmp(u, type_uuid, 16) == 0)
			return other_types[i].name;
	}
	return NULL;
}

static const char *const table_names[] = {
	[PART_TABLE_NONE] = "none",
	[PART_TABLE_LEGACY] = "legacy",
	[PART_TABLE_LEGACY_GPT] = "legacy+gpt",
	[PART_TABLE_EFI] = "efi",
	[PART_TABLE_EFIXBOOTLDR] = "efixbootldr",
	[PART_TABLE_HYBRID] = "hybrid",
	[PART_TABLE_LEGACY_BOOT] = "legacy+boot",
	[PART_TABLE_GPT] = "gpt",
	[PART_TABLE_MBR] = "mbr",
};

int part_table_from_name(const char *name, enum part_table *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(table_names); i++)
		if (strcmp(name, table_names[i]) == 0) {
			*ret = (enum part_table)i;
			return 0;
		}
	return -EINVAL;
}

const char *part_table_name(enum part_table t)
{
	if ((size_t)t >= ARRAY_SIZE(table_names))
		return NULL;
	return table_names[t];
}

/* Our names first, then the spellings of Nix systems, Debian and the kernel. */
static const struct {
	const char *name;
	enum part_arch arch;
} arch_names[] = {
	{ "x86-64", PART_ARCH_X86_64 },	  { "x86_64", PART_ARCH_X86_64 },
	{ "amd64", PART_ARCH_X86_64 },	  { "x86", PART_ARCH_X86 },
	{ "i686", PART_ARCH_X86 },	  { "i386", PART_ARCH_X86 },
	{ "aarch64", PART_ARCH_AARCH64 }, { "arm64", PART_ARCH_AARCH64 },
	{ "arm", PART_ARCH_ARM },	  { "armv7l", PART_ARCH_ARM },
	{ "armv6l", PART_ARCH_ARM },	  { "riscv64", PART_ARCH_RISCV64 },
	{ "riscv32", PART_ARCH_RISCV32 }, { "loongarch64", PART_ARCH_LOONGARCH64 },
	{ "ppc64le", PART_ARCH_PPC64LE }, { "powerpc64le", PART_ARCH_PPC64LE },
	{ "s390x", PART_ARCH_S390X },
};

int part_arch_from_name(const char *name, enum part_arch *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++)
		if (strcmp(name, arch_names[i].name) == 0) {
			*ret = arch_names[i].arch;
			return 0;
		}
	return -EINVAL;
}

bool part_type_is_linux_root(const uint8_t type_uuid[16])
{
	uint8_t u[16];

	parse_const(TYPE_LINUX_DATA, u);
	if (memcmp(u, type_uuid, 16) == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(root_types); i++) {
		parse_const(root_types[i].uuid, u);
		if (memcmp(u, type_uuid, 16) == 0)
			return true;
	}
	return false;
}

int part_type_role(const uint8_t type_uuid[16], enum part_role *ret)
{
	static const enum part_role roles[] = { PART_ROLE_ESP, PART_ROLE_XBOOTLDR,
						PART_ROLE_BIOS_BOOT };
	uint8_t u[16];

	for (size_t i = 0; i < ARRAY_SIZE(roles); i++) {
		part_type_uuid(roles[i], PART_ARCH_X86_64, false, u);
		if (memcmp(u, type_uuid, 16) == 0) {
			*ret = roles[i];
			return 0;
		}
	}
	return -ENOENT;
}

/* "partitions" type names: systemd-repart's well-known names where they have one. */
static const struct {
	const char *name;
	enum part_role role;
	const char *gpt; /* NULL: the role's type */
} named_types[] = {
	{ "esp", PART_ROLE_ESP, NULL },
	{ "xbootldr", PART_ROLE_XBOOTLDR, NULL },
	{ "bios-boot", PART_ROLE_BIOS_BOOT, NULL },
	{ "swap", PART_ROLE_SWAP, NULL },
	{ "root", PART_ROLE_ROOT, NULL },
	{ "linux", PART_ROLE_OTHER, NULL },
	{ "linux-generic", PART_ROLE_OTHER, NULL },
	{ "home", PART_ROLE_OTHER, "933AC7E1-2EB4-4F13-B844-0E14E2AEF915" },
	{ "srv", PART_ROLE_OTHER, "3B8F8425-20E0-4F3B-907F-1A25A76F98E8" },
	{ "var", PART_ROLE_OTHER, "4D21B016-B534-45C2-A9FB-5C16E091FD2D" },
	{ "tmp", PART_ROLE_OTHER, "7EC6F557-3BC5-4ACA-B293-16EF5DF639D1" },
};

/* Microsoft basic data: FAT data partitions (sgdisk 0700, parted's msftdata flag,
 * systemd-repart and disko for vfat data); on MBR the byte follows the FAT type. */
static const char *const basic_data_names[] = { "basic-data", "msftdata" };

uint8_t part_mbr_type_basic_data(uint32_t fat_bits)
{
	return fat_bits == 12 ? 0x01 : fat_bits == 16 ? 0x0e : fat_bits == 32 ? 0x0c : 0x07;
}

static bool set_basic_data(struct part_request *r, const char *type, bool gpt)
{
	for (size_t i = 0; i < ARRAY_SIZE(basic_data_names); i++) {
		if (strcmp(type, basic_data_names[i]) != 0)
			continue;
		r->role = PART_ROLE_OTHER;
		r->type_set = true;
		r->mbr_type = part_mbr_type_basic_data(0);
		r->mbr_type_by_fs = !gpt;
		if (gpt)
			parse_const(TYPE_BASIC_DATA, r->type_uuid);
		return true;
	}
	return false;
}

int part_request_set_type(struct part_request *r, const char *type, bool gpt, enum part_arch a)
{
	uint8_t u[16];
	unsigned long v;
	char *end;

	(void)a;
	if (set_basic_data(r, type, gpt))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(named_types); i++) {
		if (strcmp(type, named_types[i].name) != 0)
			continue;
		r->role = named_types[i].role;
		r->type_set = gpt && named_types[i].gpt;
		if (r->type_set)
			parse_const(named_types[i].gpt, r->type_uuid);
		return 0;
	}
	if (gpt && uuid_parse(type, u) == 0) {
		enum part_role role;

		uint8_t data[16];

		parse_const(TYPE_LINUX_DATA, data);
		r->role = part_type_role(u, &role) == 0 ? role
			  : memcmp(u, data, 16) != 0 && part_type_is_linux_root(u) ? PART_ROLE_ROOT
										  : PART_ROLE_OTHER;
		if (memcmp(u, (uint8_t[16]){ 0 }, 16) == 0)
			return -EINVAL; /* the unused-entry type */
		r->type_set = true;
		memcpy(r->type_uuid, u, 16);
		return 0;
	}
	if (!gpt && *type) {
		errno = 0;
		v = strtoul(type, &end, 16);
		if (errno || *end || v == 0 || v > 0xff || v == 0xee || v == 0x05 || v == 0x0f ||
		    v == 0x85)
			return -EINVAL; /* empty, protective GPT, extended partitions */
		r->role = v == 0xef ? PART_ROLE_ESP : v == 0x82 ? PART_ROLE_SWAP : PART_ROLE_OTHER;
		r->type_set = true;
		r->mbr_type = (uint8_t)v;
		return 0;
	}
	return -EINVAL;
}
