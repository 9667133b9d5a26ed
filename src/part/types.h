/* Partition type GUIDs (UEFI 2.10 §5.3.3, the Discoverable Partitions Specification) and the
 * names of tables, architectures and types. See docs/formats/gpt.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "part/part.h"

/* The GPT type GUID (RFC 4122 byte order) of a partition with this role. */
void part_type_uuid(enum part_role role, enum part_arch arch, bool generic_root, uint8_t out[16]);
/* A DPS root type of any architecture, or the generic Linux data type. */
bool part_type_is_linux_root(const uint8_t type_uuid[16]);
/* The role of an ESP, XBOOTLDR or BIOS boot type; -ENOENT for other types. */
int part_type_role(const uint8_t type_uuid[16], enum part_role *ret);

/* systemd's GPT type names (systemd-repart's Type=; systemd 252 src/shared/gpt.c). */
enum part_dps_kind {
	PART_DPS_ROOT, /* the first six: dps_arches' columns */
	PART_DPS_ROOT_VERITY,
	PART_DPS_ROOT_VERITY_SIG,
	PART_DPS_USR,
	PART_DPS_USR_VERITY,
	PART_DPS_USR_VERITY_SIG,
	PART_DPS_ESP,
	PART_DPS_XBOOTLDR,
	PART_DPS_SWAP,
	PART_DPS_HOME,
	PART_DPS_SRV,
	PART_DPS_VAR,
	PART_DPS_TMP,
	PART_DPS_OTHER, /* user-home, linux-generic, any other GUID */
};

struct part_dps_type {
	uint8_t uuid[16];      /* RFC 4122 byte order */
	char name[40];         /* systemd's canonical name ("root-x86-64"), "" for other GUIDs */
	enum part_dps_kind kind;
};

/* A Type= value: a name ("esp", "root" = the native root, "root-arm64-verity", aliases such
 * as "root-aarch64") or a GUID (not all zero). -EINVAL when neither. */
int part_dps_type_from_name(const char *name, enum part_arch native, struct part_dps_type *ret);
void part_dps_type_from_uuid(const uint8_t uuid[16], struct part_dps_type *ret);
/* The types systemd-repart 252 sets ReadOnly=/GrowFileSystem=/NoAuto= on (others: ignored). */
bool part_dps_knows_read_only(enum part_dps_kind k);
bool part_dps_knows_growfs(enum part_dps_kind k);
bool part_dps_knows_no_auto(enum part_dps_kind k);
