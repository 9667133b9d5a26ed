/* UEFI device paths (UEFI 2.10 §10.2-10.3): the file path of a Boot#### load option as
 * bootctl writes it for systemd-boot. Byte order is little-endian; GUIDs
 * are mixed-endian (uuid_to_guid). See docs/formats/efivars.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag;

/* Device path node header: Type, SubType, Length (le16, whole node). */
enum {
	DEVPATH_TYPE = 0,
	DEVPATH_SUBTYPE = 1,
	DEVPATH_LENGTH = 2,
	DEVPATH_HDR_SIZE = 4,
};

enum {
	DEVPATH_TYPE_MEDIA = 0x04,
	DEVPATH_TYPE_END = 0x7f,
	DEVPATH_MEDIA_HARDDRIVE = 0x01,
	DEVPATH_MEDIA_FILEPATH = 0x04,
	DEVPATH_END_ENTIRE = 0xff,
};

/* Hard Drive Media Device Path (§10.3.5.1): 42 bytes. */
enum {
	DEVPATH_HD_PART_NUMBER = 4, /* le32 */
	DEVPATH_HD_PART_START = 8,  /* le64, LBA */
	DEVPATH_HD_PART_SIZE = 16,  /* le64, LBAs */
	DEVPATH_HD_SIGNATURE = 24,  /* 16 bytes: the GPT partition GUID (mixed-endian) */
	DEVPATH_HD_MBR_TYPE = 40,   /* 0x02: GPT */
	DEVPATH_HD_SIG_TYPE = 41,   /* 0x02: GUID signature */
	DEVPATH_HD_SIZE = 42,
};

#define DEVPATH_HD_MBR_TYPE_GPT 0x02
#define DEVPATH_HD_SIG_TYPE_GUID 0x02

struct devpath_hd {
	uint32_t part_number;
	uint64_t start_lba;
	uint64_t n_lba;
	uint8_t part_uuid[16]; /* PARTUUID, RFC 4122 byte order */
};

/* HD(part, GPT, uuid, start, size)/\file/End: file is an ESP path with '/' or '\'
 * separators, ASCII only (-EINVAL otherwise). Returns a fresh buffer. */
int devpath_esp_file(const struct devpath_hd *hd, const char *file, struct diag *d,
		     uint8_t **ret, size_t *ret_len);
/* UEFI text form of a device path ("HD(1,GPT,<uuid>,0x800,0x7f800)/\EFI\x.efi"), as the
 * firmware's DevicePathToText prints media nodes; other nodes as "Path(T,S)". The input is
 * hostile: -EBADMSG naming the node when a length runs past the end or the End node is
 * missing. */
int devpath_to_text(const uint8_t *p, size_t len, struct diag *d, char **ret);

/* UTF-16LE helpers shared with loadopt.c and efivars.c. ASCII in, NUL-terminated out:
 * 2 * (strlen + 1) bytes. -EINVAL for a non-ASCII byte. */
int devpath_ucs2_encode(const char *s, uint8_t **ret, size_t *ret_len);
/* UTF-16LE (len bytes, NUL-terminated or not) to a printable C string: non-ASCII units '?'. */
char *devpath_ucs2_decode(const uint8_t *p, size_t len);
