/* Partition type GUIDs and names. Values cross-checked against util-linux 2.38's
 * `sfdisk --label gpt -T` and systemd's docs/DISCOVERABLE_PARTITIONS.md. */
#include "part/types.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
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

/* systemd's partition type names (systemd 252 src/shared/gpt.c, sd-gpt.h; the Discoverable
 * Partitions Specification): root/usr of each architecture with their -verity and -verity-sig
 * types, in the order of enum part_dps_kind's first six. */
static const struct {
	const char *arch;
	const char *uuid[6];
} dps_arches[] = {
	{ "alpha",
	  { "6523F8AE-3EB1-4E2A-A05A-18B695AE656F", "FC56D9E9-E6E5-4C06-BE32-E74407CE09A5",
	    "D46495B7-A053-414F-80F7-700C99921EF8", "E18CF08C-33EC-4C0D-8246-C6C6FB3DA024",
	    "8CCE0D25-C0D0-4A44-BD87-46331BF1DF67", "5C6E1C76-076A-457A-A0FE-F3B4CD21CE6E" } },
	{ "arc",
	  { "D27F46ED-2919-4CB8-BD25-9531F3C16534", "24B2D975-0F97-4521-AFA1-CD531E421B8D",
	    "143A70BA-CBD3-4F06-919F-6C05683A78BC", "7978A683-6316-4922-BBEE-38BFF5A2FECC",
	    "FCA0598C-D880-4591-8C16-4EDA05C7347C", "94F9A9A1-9971-427A-A400-50CB297F0F35" } },
	{ "arm",
	  { "69DAD710-2CE4-4E3C-B16C-21A1D49ABED3", "7386CDF2-203C-47A9-A498-F2ECCE45A2D6",
	    "42B0455F-EB11-491D-98D3-56145BA9D037", "7D0359A3-02B3-4F0A-865C-654403E70625",
	    "C215D751-7BCD-4649-BE90-6627490A4C05", "D7FF812F-37D1-4902-A810-D76BA57B975A" } },
	{ "arm64",
	  { "B921B045-1DF0-41C3-AF44-4C6F280D3FAE", "DF3300CE-D69F-4C92-978C-9BFB0F38D820",
	    "6DB69DE6-29F4-4758-A7A5-962190F00CE3", "B0E01050-EE5F-4390-949A-9101B17104E9",
	    "6E11A4E7-FBCA-4DED-B9E9-E1A512BB664E", "C23CE4FF-44BD-4B00-B2D4-B41B3419E02A" } },
	{ "ia64",
	  { "993D8D3D-F80E-4225-855A-9DAF8ED7EA97", "86ED10D5-B607-45BB-8957-D350F23D0571",
	    "E98B36EE-32BA-4882-9B12-0CE14655F46A", "4301D2A6-4E3B-4B2A-BB94-9E0B2C4225EA",
	    "6A491E03-3BE7-4545-8E38-83320E0EA880", "8DE58BC2-2A43-460D-B14E-A76E4A17B47F" } },
	{ "loongarch64",
	  { "77055800-792C-4F94-B39A-98C91B762BB6", "F3393B22-E9AF-4613-A948-9D3BFBD0C535",
	    "5AFB67EB-ECC8-4F85-AE8E-AC1E7C50E7D0", "E611C702-575C-4CBE-9A46-434FA0BF7E3F",
	    "F46B2C26-59AE-48F0-9106-C50ED47F673D", "B024F315-D330-444C-8461-44BBDE524E99" } },
	{ "mips",
	  { "E9434544-6E2C-47CC-BAE2-12D6DEAFB44C", "7A430799-F711-4C7E-8E5B-1D685BD48607",
	    "BBA210A2-9C5D-45EE-9E87-FF2CCBD002D0", "773B2ABC-2A99-4398-8BF5-03BAAC40D02B",
	    "6E5A1BC8-D223-49B7-BCA8-37A5FCCEB996", "97AE158D-F216-497B-8057-F7F905770F54" } },
	{ "mips64",
	  { "D113AF76-80EF-41B4-BDB6-0CFF4D3D4A25", "579536F8-6A33-4055-A95A-DF2D5E2C42A8",
	    "43CE94D4-0F3D-4999-8250-B9DEAFD98E6E", "57E13958-7331-4365-8E6E-35EEEE17C61B",
	    "81CF9D90-7458-4DF4-8DCF-C8A3A404F09B", "05816CE2-DD40-4AC6-A61D-37D32DC1BA7D" } },
	{ "mips-le",
	  { "37C58C8A-D913-4156-A25F-48B1B64E07F0", "D7D150D2-2A04-4A33-8F12-16651205FF7B",
	    "C919CC1F-4456-4EFF-918C-F75E94525CA5", "0F4868E9-9952-4706-979F-3ED3A473E947",
	    "46B98D8D-B55C-4E8F-AAB3-37FCA7F80752", "3E23CA0B-A4BC-4B4E-8087-5AB6A26AA8A9" } },
	{ "mips64-le",
	  { "700BDA43-7A34-4507-B179-EEB93D7A7CA3", "16B417F8-3E06-4F57-8DD2-9B5232F41AA6",
	    "904E58EF-5C65-4A31-9C57-6AF5FC7C5DE7", "C97C1F32-BA06-40B4-9F22-236061B08AA8",
	    "3C3D61FE-B5F3-414D-BB71-8739A694A4EF", "F2C2C7EE-ADCC-4351-B5C6-EE9816B66E16" } },
	{ "parisc",
	  { "1AACDB3B-5444-4138-BD9E-E5C2239B2346", "D212A430-FBC5-49F9-A983-A7FEEF2B8D0E",
	    "15DE6170-65D3-431C-916E-B0DCD8393F25", "DC4A4480-6917-4262-A4EC-DB9384949F25",
	    "5843D618-EC37-48D7-9F12-CEA8E08768B2", "450DD7D1-3224-45EC-9CF2-A43A346D71EE" } },
	{ "ppc",
	  { "1DE3F1EF-FA98-47B5-8DCD-4A860A654D78", "98CFE649-1588-46DC-B2F0-ADD147424925",
	    "1B31B5AA-ADD9-463A-B2ED-BD467FC857E7", "7D14FEC5-CC71-415D-9D6C-06BF0B3C3EAF",
	    "DF765D00-270E-49E5-BC75-F47BB2118B09", "7007891D-D371-4A80-86A4-5CB875B9302E" } },
	{ "ppc64",
	  { "912ADE1D-A839-4913-8964-A10EEE08FBD2", "9225A9A3-3C19-4D89-B4F6-EEFF88F17631",
	    "F5E2C20C-45B2-4FFA-BCE9-2A60737E1AAF", "2C9739E2-F068-46B3-9FD0-01C5A9AFBCCA",
	    "BDB528A5-A259-475F-A87D-DA53FA736A07", "0B888863-D7F8-4D9E-9766-239FCE4D58AF" } },
	{ "ppc64-le",
	  { "C31C45E6-3F39-412E-80FB-4809C4980599", "906BD944-4589-4AAE-A4E4-DD983917446A",
	    "D4A236E7-E873-4C07-BF1D-BF6CF7F1C3C6", "15BB03AF-77E7-4D4A-B12B-C0D084F7491C",
	    "EE2B9983-21E8-4153-86D9-B6901A54D1CE", "C8BFBD1E-268E-4521-8BBA-BF314C399557" } },
	{ "riscv32",
	  { "60D5A7FE-8E7D-435C-B714-3DD8162144E1", "AE0253BE-1167-4007-AC68-43926C14C5DE",
	    "3A112A75-8729-4380-B4CF-764D79934448", "B933FB22-5C3F-4F91-AF90-E2BB0FA50702",
	    "CB1EE4E3-8CD0-4136-A0A4-AA61A32E8730", "C3836A13-3137-45BA-B583-B16C50FE5EB4" } },
	{ "riscv64",
	  { "72EC70A6-CF74-40E6-BD49-4BDA08E8F224", "B6ED5582-440B-4209-B8DA-5FF7C419EA3D",
	    "EFE0F087-EA8D-4469-821A-4C2A96A8386A", "BEAEC34B-8442-439B-A40B-984381ED097D",
	    "8F1056BE-9B05-47C4-81D6-BE53128E5B54", "D2F9000A-7A18-453F-B5CD-4D32F77A7B32" } },
	{ "s390",
	  { "08A7ACEA-624C-4A20-91E8-6E0FA67D23F9", "7AC63B47-B25C-463B-8DF8-B4A94E6C90E1",
	    "3482388E-4254-435A-A241-766A065F9960", "CD0F869B-D0FB-4CA0-B141-9EA87CC78D66",
	    "B663C618-E7BC-4D6D-90AA-11B756BB1797", "17440E4F-A8D0-467F-A46E-3912AE6EF2C5" } },
	{ "s390x",
	  { "5EEAD9A9-FE09-4A1E-A1D7-520D00531306", "B325BFBE-C7BE-4AB8-8357-139E652D2F6B",
	    "C80187A5-73A3-491A-901A-017C3FA953E9", "8A4F5770-50AA-4ED3-874A-99B710DB6FEA",
	    "31741CC4-1A2A-4111-A581-E00B447D2D06", "3F324816-667B-46AE-86EE-9B0C0C6C11B4" } },
	{ "tilegx",
	  { "C50CDD70-3862-4CC3-90E1-809A8C93EE2C", "966061EC-28E4-4B2E-B4A5-1F0A825A1D84",
	    "B3671439-97B0-4A53-90F7-2D5A8F3AD47B", "55497029-C7C1-44CC-AA39-815ED1558630",
	    "2FB4BF56-07FA-42DA-8132-6B139F2026AE", "4EDE75E2-6CCC-4CC8-B9C7-70334B087510" } },
	{ "x86",
	  { "44479540-F297-41B2-9AF7-D131D5F0458A", "D13C5D3B-B5D1-422A-B29F-9454FDC89D76",
	    "5996FC05-109C-48DE-808B-23FA0830B676", "75250D76-8CC6-458E-BD66-BD47CC81A812",
	    "8F461B0D-14EE-4E81-9AA9-049B6FB97ABD", "974A71C0-DE41-43C3-BE5D-5C5CCD1AD2C0" } },
	{ "x86-64",
	  { "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5",
	    "41092B05-9FC8-4523-994F-2DEF0408B176", "8484680C-9521-48C6-9C11-B0720656F69E",
	    "77FF5F63-E7B6-4633-ACF4-1565B864C0E6", "E7BB33FB-06CF-4E81-8273-E543B413E2E2" } },
};

/* Later names of the same architectures (gpt.c lists them after the canonical one). */
static const struct {
	const char *alias, *arch;
} dps_aliases[] = {
	{ "armv7l", "arm" },	  { "aarch64", "arm64" },   { "loong64", "loongarch64" },
	{ "mipsel", "mips-le" },  { "mips64el", "mips64-le" }, { "hppa", "parisc" },
	{ "ppc64le", "ppc64-le" }, { "ppc64el", "ppc64-le" }, { "i386", "x86" },
	{ "i486", "x86" },	  { "i586", "x86" },	     { "i686", "x86" },
	{ "x86_64", "x86-64" },	  { "amd64", "x86-64" },
};

static const char *const dps_suffixes[] = { "", "-verity", "-verity-sig", "", "-verity",
					    "-verity-sig" };

static const struct {
	const char *name;
	const char *uuid;
	enum part_dps_kind kind;
} dps_others[] = {
	{ "esp", TYPE_ESP, PART_DPS_ESP },
	{ "xbootldr", TYPE_XBOOTLDR, PART_DPS_XBOOTLDR },
	{ "swap", TYPE_SWAP, PART_DPS_SWAP },
	{ "home", "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", PART_DPS_HOME },
	{ "srv", "3B8F8425-20E0-4F3B-907F-1A25A76F98E8", PART_DPS_SRV },
	{ "var", "4D21B016-B534-45C2-A9FB-5C16E091FD2D", PART_DPS_VAR },
	{ "tmp", "7EC6F557-3BC5-4ACA-B293-16EF5DF639D1", PART_DPS_TMP },
	{ "user-home", "773F91EF-66D4-49B5-BD83-D683BF40AD16", PART_DPS_OTHER },
	{ "linux-generic", TYPE_LINUX_DATA, PART_DPS_OTHER },
};

/* systemd's architecture name of ours (its "root" means the native one). */
static const char *const dps_native[] = {
	[PART_ARCH_X86_64] = "x86-64",	     [PART_ARCH_X86] = "x86",
	[PART_ARCH_AARCH64] = "arm64",	     [PART_ARCH_ARM] = "arm",
	[PART_ARCH_RISCV64] = "riscv64",     [PART_ARCH_RISCV32] = "riscv32",
	[PART_ARCH_LOONGARCH64] = "loongarch64", [PART_ARCH_PPC64LE] = "ppc64-le",
	[PART_ARCH_S390X] = "s390x",
};

void part_dps_type_from_uuid(const uint8_t uuid[16], struct part_dps_type *ret)
{
	uint8_t u[16];

	*ret = (struct part_dps_type){ .kind = PART_DPS_OTHER };
	memcpy(ret->uuid, uuid, 16);
	for (size_t i = 0; i < ARRAY_SIZE(dps_arches); i++)
		for (size_t k = 0; k < 6; k++) {
			parse_const(dps_arches[i].uuid[k], u);
			if (memcmp(u, uuid, 16) != 0)
				continue;
			ret->kind = (enum part_dps_kind)k;
			snprintf(ret->name, sizeof(ret->name), "%s-%s%s", k < 3 ? "root" : "usr",
				 dps_arches[i].arch, dps_suffixes[k]);
			return;
		}
	for (size_t i = 0; i < ARRAY_SIZE(dps_others); i++) {
		parse_const(dps_others[i].uuid, u);
		if (memcmp(u, uuid, 16) == 0) {
			ret->kind = dps_others[i].kind;
			snprintf(ret->name, sizeof(ret->name), "%s", dps_others[i].name);
			return;
		}
	}
}

/* "root"/"usr" + optional "-ARCH" + optional "-verity"/"-verity-sig": the uuid. */
static int dps_arch_type(const char *name, enum part_arch native, uint8_t out[16])
{
	size_t plen, k0;
	const char *rest, *arch = NULL;
	char buf[64];

	if (strncmp(name, "root", 4) == 0) {
		plen = 4;
		k0 = 0;
	} else if (strncmp(name, "usr", 3) == 0) {
		plen = 3;
		k0 = 3;
	} else
		return -EINVAL;
	rest = name + plen;
	for (size_t k = 2; k != (size_t)-1; k--) { /* longest suffix first */
		size_t sl = strlen(dps_suffixes[k]), rl = strlen(rest);

		if (rl < sl || strcmp(rest + rl - sl, dps_suffixes[k]) != 0)
			continue;
		if (rl - sl == 0) {
			if ((size_t)native >= ARRAY_SIZE(dps_native))
				return -EINVAL;
			arch = dps_native[native];
		} else {
			if (rest[0] != '-' || rl - sl - 1 >= sizeof(buf))
				continue;
			memcpy(buf, rest + 1, rl - sl - 1);
			buf[rl - sl - 1] = '\0';
			arch = buf;
			for (size_t i = 0; i < ARRAY_SIZE(dps_aliases); i++)
				if (strcmp(buf, dps_aliases[i].alias) == 0)
					arch = dps_aliases[i].arch;
		}
		for (size_t i = 0; i < ARRAY_SIZE(dps_arches); i++)
			if (strcmp(arch, dps_arches[i].arch) == 0) {
				parse_const(dps_arches[i].uuid[k0 + k], out);
				return 0;
			}
	}
	return -EINVAL;
}

int part_dps_type_from_name(const char *name, enum part_arch native, struct part_dps_type *ret)
{
	uint8_t u[16];
	bool found = false;

	for (size_t i = 0; i < ARRAY_SIZE(dps_others) && !found; i++)
		if (strcmp(name, dps_others[i].name) == 0) {
			parse_const(dps_others[i].uuid, u);
			found = true;
		}
	if (!found && dps_arch_type(name, native, u) == 0)
		found = true;
	if (!found && uuid_parse(name, u) == 0)
		found = memcmp(u, (uint8_t[16]){ 0 }, 16) != 0;
	if (!found)
		return -EINVAL;
	part_dps_type_from_uuid(u, ret);
	return 0;
}

bool part_dps_knows_read_only(enum part_dps_kind k)
{
	return k == PART_DPS_ROOT || k == PART_DPS_USR || k == PART_DPS_ROOT_VERITY ||
	       k == PART_DPS_USR_VERITY || k == PART_DPS_HOME || k == PART_DPS_SRV ||
	       k == PART_DPS_VAR || k == PART_DPS_TMP || k == PART_DPS_XBOOTLDR;
}

bool part_dps_knows_growfs(enum part_dps_kind k)
{
	return k == PART_DPS_ROOT || k == PART_DPS_USR || k == PART_DPS_HOME ||
	       k == PART_DPS_SRV || k == PART_DPS_VAR || k == PART_DPS_TMP ||
	       k == PART_DPS_XBOOTLDR;
}

bool part_dps_knows_no_auto(enum part_dps_kind k)
{
	return part_dps_knows_read_only(k) || k == PART_DPS_SWAP;
}
