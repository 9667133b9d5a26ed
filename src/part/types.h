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
