/* The firmware's non-volatile variable store (edk2/OVMF): a firmware volume holding a variable
 * store (MdeModulePkg/Include/Guid/VariableFormat.h) followed by the fault-tolerant-write
 * working block and spare area. We read a template (OVMF_VARS.fd), keep its variables byte for
 * byte, and append or replace variables as the firmware's own SetVariable leaves them. The
 * template is hostile: every length and offset is checked. Little-endian; GUIDs mixed-endian.
 * See docs/formats/efivars.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cleanup.h"

struct diag;

#define EFIVARS_MAX_SIZE (128u << 20) /* AAVMF's 64 MiB stores, with room */

/* EFI_FIRMWARE_VOLUME_HEADER (PI 1.7 vol. 3 §3.2.1). */
enum {
	EFIVARS_FV_FS_GUID = 16,      /* gEfiSystemNvDataFvGuid */
	EFIVARS_FV_LENGTH = 32,       /* le64, whole volume */
	EFIVARS_FV_SIGNATURE = 40,    /* "_FVH" */
	EFIVARS_FV_ATTRIBUTES = 44,   /* le32 */
	EFIVARS_FV_HEADER_LENGTH = 48, /* le16 */
	EFIVARS_FV_CHECKSUM = 50,     /* le16: the header's 16-bit words sum to 0 */
	EFIVARS_FV_EXT_HEADER = 52,   /* le16 */
	EFIVARS_FV_REVISION = 55,     /* 2 */
	EFIVARS_FV_BLOCK_MAP = 56,    /* {NumBlocks le32, Length le32}..., {0, 0} */
	EFIVARS_FV_MIN_SIZE = 72,     /* one block map entry and the terminator */
};

/* VARIABLE_STORE_HEADER (VariableFormat.h): at the volume's HeaderLength. */
enum {
	EFIVARS_STORE_SIGNATURE = 0, /* gEfiAuthenticatedVariableGuid or gEfiVariableGuid */
	EFIVARS_STORE_SIZE = 16,     /* le32: header and variables, not the FV header */
	EFIVARS_STORE_FORMAT = 20,   /* 0x5a: formatted */
	EFIVARS_STORE_STATE = 21,    /* 0xfe: healthy */
	EFIVARS_STORE_HDR_SIZE = 28,
};
#define EFIVARS_STORE_FORMATTED 0x5a
#define EFIVARS_STORE_HEALTHY 0xfe

/* EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER (MdeModulePkg/Include/Guid/SystemNvDataGuid.h). */
enum {
	EFIVARS_FTW_SIGNATURE = 0, /* gEdkiiWorkingBlockSignatureGuid */
	EFIVARS_FTW_CRC = 16,      /* le32: CRC-32 of the header, Crc and flags erased */
	EFIVARS_FTW_FLAGS = 20,    /* bit 0 WorkingBlockValid, bit 1 Invalid; 0 = programmed */
	EFIVARS_FTW_QUEUE = 24,    /* le64 WriteQueueSize: the working block less this header */
	EFIVARS_FTW_HEADER = 32,
};

/* AUTHENTICATED_VARIABLE_HEADER; VARIABLE_HEADER lacks MonotonicCount, TimeStamp and
 * PubKeyIndex, so NameSize, DataSize and VendorGuid sit at 8, 12, 16 there. */
enum {
	EFIVARS_VAR_START_ID = 0,   /* le16 0x55aa */
	EFIVARS_VAR_STATE = 2,
	EFIVARS_VAR_ATTRIBUTES = 4, /* le32 */
	EFIVARS_AVAR_MONOTONIC_COUNT = 8, /* le64 */
	EFIVARS_AVAR_TIMESTAMP = 16,      /* EFI_TIME, 16 bytes */
	EFIVARS_AVAR_PUBKEY_INDEX = 32,   /* le32 */
	EFIVARS_AVAR_NAME_SIZE = 36,      /* le32, bytes with the NUL */
	EFIVARS_AVAR_DATA_SIZE = 40,      /* le32 */
	EFIVARS_AVAR_VENDOR = 44,
	EFIVARS_AVAR_HDR_SIZE = 60,
	EFIVARS_VAR_NAME_SIZE = 8,
	EFIVARS_VAR_DATA_SIZE = 12,
	EFIVARS_VAR_VENDOR = 16,
	EFIVARS_VAR_HDR_SIZE = 32,
	EFIVARS_HEADER_ALIGNMENT = 4,
};

#define EFIVARS_START_ID 0x55aa
#define EFIVARS_STATE_ADDED 0x3f             /* VAR_ADDED */
#define EFIVARS_STATE_IN_DELETED_TRANSITION 0xfe
#define EFIVARS_STATE_DELETED 0xfd
#define EFIVARS_STATE_HEADER_VALID_ONLY 0x7f

#define EFIVARS_ATTR_NON_VOLATILE 0x1u
#define EFIVARS_ATTR_BOOTSERVICE_ACCESS 0x2u
#define EFIVARS_ATTR_RUNTIME_ACCESS 0x4u

/* RFC 4122 byte order: EFI_GLOBAL_VARIABLE, the NV store volume's FileSystemGuid
 * (gEfiSystemNvDataFvGuid), gEfiAuthenticatedVariableGuid, the FTW working block's signature. */
extern const uint8_t efivars_global_guid[16];
extern const uint8_t efivars_nv_fv_guid[16];
extern const uint8_t efivars_auth_store_guid[16];
extern const uint8_t efivars_ftw_guid[16];

struct efivars_var {
	uint64_t off;       /* header, from the start of the file */
	uint8_t state;
	bool live;          /* VAR_ADDED, or in deleted transition without a newer copy */
	uint32_t attributes;
	uint8_t vendor[16]; /* RFC 4122 byte order */
	char *name;         /* printable: non-ASCII code units as '?' */
	uint64_t name_off;
	uint32_t name_size; /* bytes, with the NUL */
	uint64_t data_off;
	uint32_t data_size;
};

struct efivars {
	uint8_t *buf; /* the whole template, modified in place */
	size_t len;
	bool authenticated; /* authenticated variable headers */
	uint64_t fv_len;
	uint64_t store_off, store_end; /* VARIABLE_STORE_HEADER .. its end */
	uint64_t free_off;             /* first byte after the last variable */
	bool has_ftw;                  /* an FTW working block was found after the store */
	uint64_t ftw_off;
	struct efivars_var *vars; /* in store order, deleted ones too */
	size_t n_vars, vars_cap;
};

/* Parse a template (copied). -EBADMSG naming the field when it is not a variable store. */
int efivars_decode(const uint8_t *buf, size_t len, struct diag *d, struct efivars **ret);
/* A firmware volume header's signature in the first EFIVARS_FV_MIN_SIZE bytes: worth decoding
 * as a variable store (which may still refuse it: a firmware code volume has one too). */
bool efivars_probe(const uint8_t *head, size_t len);
/* Load a template; an erased one (efivars_is_erased) is formatted first. */
int efivars_load(const char *path, struct diag *d, struct efivars **ret);
struct efivars *efivars_free(struct efivars *v);
DEFINE_CLEANUP_FUNC(struct efivars, efivars_free)


/* The live variable name (ASCII) of vendor, NULL when there is none. */
const struct efivars_var *efivars_find(const struct efivars *v, const uint8_t vendor[16],
				       const char *name);
/* Set a variable as the firmware does: the new one is appended VAR_ADDED, live copies of
 * the old one are then marked deleted (state &= IN_DELETED_TRANSITION & DELETED). Time stamp,
 * monotonic count and public key index are zero. -ENOSPC when the store is full. */
int efivars_set(struct efivars *v, const uint8_t vendor[16], const char *name,
		uint32_t attributes, const void *data, size_t len, struct diag *d);

/* efivars-format.c. True when every byte is 0x00, or every byte is 0xff (erased flash): a
 * store the firmware formats on first boot (Debian's AAVMF_VARS.fd). */
bool efivars_is_erased(const uint8_t *buf, size_t len);
/* Format an erased template in place as the firmware would on first boot: the volume header,
 * an empty authenticated store and the FTW working block, the spare area erased; bytes past
 * the NV range kept. The layout is chosen by the file size; -EBADMSG for an unknown one. */
int efivars_format_erased(uint8_t *buf, size_t len, struct diag *d);

/* efivars-value.c: the number in PREFIX#### ("Boot0001": 1; uppercase hex only), else
 * -EINVAL. */
int efivars_numbered(const char *name, const char *prefix);

/* A live variable's value decoded, for inspect: load options (Boot####, Driver####,
 * SysPrep####, PlatformRecovery####), the *Order lists, BootCurrent/BootNext/Timeout. Other
 * variables are EFIVARS_VALUE_OTHER. -EBADMSG naming the field when a known one is malformed. */
enum efivars_value_kind {
	EFIVARS_VALUE_OTHER,
	EFIVARS_VALUE_LOAD_OPTION,
	EFIVARS_VALUE_ORDER,
	EFIVARS_VALUE_U16,
};
struct efivars_value {
	enum efivars_value_kind kind;
	uint32_t attributes; /* load option: LOADOPT_ACTIVE & co */
	char *description;
	char *path;          /* device path text */
	size_t optional_len;
	uint16_t *order;
	size_t n_order;
	uint16_t u16;
};
int efivars_value_decode(const struct efivars *v, const struct efivars_var *x, struct diag *d,
			 struct efivars_value *ret);
void efivars_value_done(struct efivars_value *val);
