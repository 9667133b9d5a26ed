/* make-disk-image's partitionTableType layouts as presets of the disk model: each a short list
 * of partition requests. Names are what make-disk-image's `parted mkpart` gives them; the
 * numbers, offsets and types are docs/formats/gpt.md's and mbr.md's. */
#include "part/part.h"

#include <errno.h>
#include <string.h>

#include "part/gpt.h"
#include "part/mbr.h"
#include "util/cleanup.h"
#include "util/uuid.h"

#define MIB_LBA (PART_MIB / PART_SECTOR)

/* The partitions before the root, by table: role, name, first sector, and where the
 * partition ends (a sector count, or "at bootSize"). The root follows, sized to fit. */
struct preset_part {
	enum part_role role;
	const char *name;
	uint64_t start_lba;
	uint64_t n_lba;       /* 0: up to bootSize */
	bool bootable;
	uint8_t mbr_type;
};

static const struct preset {
	enum part_table table;
	const char *root_name;
	size_t n;
	struct preset_part parts[PART_PRESET_MAX - 1];
} presets[] = {
	{ PART_TABLE_NONE, NULL, 0, { { 0 } } },
	{ PART_TABLE_LEGACY, "primary", 0, { { 0 } } },
	/* parted's `mkpart primary fat32` on msdos: W95 FAT32 (LBA) */
	{ PART_TABLE_LEGACY_BOOT, "primary", 1,
	  { { PART_ROLE_BOOT, "primary", MIB_LBA, 0, true, MBR_TYPE_FAT32_LBA } } },
	{ PART_TABLE_LEGACY_GPT, "primary", 1,
	  { { PART_ROLE_BIOS_BOOT, "no-fs", MIB_LBA, MIB_LBA, false, 0 } } },
	{ PART_TABLE_EFI, "primary", 1, { { PART_ROLE_ESP, "ESP", 8 * MIB_LBA, 0, false, 0 } } },
	{ PART_TABLE_EFIXBOOTLDR, "ROOT", 2,
	  { { PART_ROLE_ESP, "ESP", 8 * MIB_LBA, 92 * MIB_LBA, false, 0 },
	    { PART_ROLE_XBOOTLDR, "BOOT", 100 * MIB_LBA, 0, false, 0 } } },
	/* the BIOS boot partition is number 2 but sits in the gap before the ESP */
	{ PART_TABLE_HYBRID, "primary", 2,
	  { { PART_ROLE_ESP, "ESP", 8 * MIB_LBA, 0, false, 0 },
	    { PART_ROLE_BIOS_BOOT, "no-fs", GPT_FIRST_USABLE_LBA, MIB_LBA - GPT_FIRST_USABLE_LBA,
	      false, 0 } } },
};

static const char *role_key(enum part_role role)
{
	switch (role) {
	case PART_ROLE_ROOT:
		return "root";
	case PART_ROLE_ESP:
		return "esp";
	case PART_ROLE_XBOOTLDR:
		return "xbootldr";
	case PART_ROLE_BIOS_BOOT:
		return "bios-boot";
	case PART_ROLE_SWAP:
		return "swap";
	case PART_ROLE_BOOT:
		return "boot";
	case PART_ROLE_OTHER:
		break;
	}
	return "other";
}

int part_preset(const struct part_params *p, struct part_request ret[PART_PRESET_MAX],
		size_t *ret_n)
{
	const struct preset *t = NULL;
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(presets); i++)
		if (presets[i].table == p->table)
			t = &presets[i];
	if (!t)
		return -EINVAL;
	for (size_t i = 0; i < t->n; i++) {
		const struct preset_part *pp = &t->parts[i];
		uint64_t end = p->boot_bytes / PART_SECTOR;

		ret[n++] = (struct part_request){
			.role = pp->role,
			.name = pp->name,
			.uuid_key = role_key(pp->role),
			.type_set = pp->mbr_type != 0,
			.mbr_type = pp->mbr_type,
			.start_lba = pp->start_lba,
			.size_rule = PART_SIZE_FIXED,
			.size_bytes = (pp->n_lba ? pp->n_lba : end - pp->start_lba) * PART_SECTOR,
			.bootable = pp->bootable,
		};
	}
	if (t->root_name) {
		ret[n] = (struct part_request){
			.role = PART_ROLE_ROOT,
			.name = t->root_name,
			.uuid_key = "root",
			.uuid_set = !uuid_is_null(p->root_uuid),
			.size_rule = PART_SIZE_REST,
			.min_bytes = p->root_min_bytes,
			.attributes = part_table_is_gpt(p->table) ? p->root_attributes : 0,
		};
		memcpy(ret[n].uuid, p->root_uuid, 16);
		n++;
	}
	*ret_n = n;
	return 0;
}

const char *part_role_key(enum part_role role)
{
	return role_key(role);
}

bool part_params_has_role(const struct part_params *p, enum part_role role)
{
	struct part_request preset[PART_PRESET_MAX];
	const struct part_request *r = p->parts;
	size_t n = p->n_parts;

	if (p->table != PART_TABLE_GPT && p->table != PART_TABLE_MBR) {
		r = preset;
		if (p->table == PART_TABLE_NONE || part_preset(p, preset, &n) < 0)
			return false;
	}
	for (size_t i = 0; i < n; i++)
		if (r[i].role == role)
			return true;
	return false;
}

bool part_params_bios_place(const struct part_params *p)
{
	return part_table_is_mbr(p->table) || part_params_has_role(p, PART_ROLE_BIOS_BOOT);
}
