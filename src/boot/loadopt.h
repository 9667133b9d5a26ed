/* EFI_LOAD_OPTION (UEFI 2.10 §3.1.3): the data of a Boot#### variable. Little-endian.
 * See docs/formats/efivars.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag;

/* EFI_LOAD_OPTION (§3.1.3): Attributes le32, FilePathListLength le16, Description (UTF-16,
 * NUL-terminated), FilePathList, OptionalData. */
enum {
	LOADOPT_ATTRIBUTES = 0,
	LOADOPT_PATH_LENGTH = 4,
	LOADOPT_DESCRIPTION = 6,
};

#define LOADOPT_ACTIVE 0x00000001u

/* An active EFI_LOAD_OPTION with description desc (ASCII) and the device path, no optional
 * data. */
int loadopt_encode(const char *desc, const uint8_t *path, size_t path_len, struct diag *d,
		   uint8_t **ret, size_t *ret_len);
/* Split a load option (hostile input): -EBADMSG naming the field. The description is
 * returned as UTF-8 with non-ASCII code units as '?'; path points into p. */
struct loadopt {
	uint32_t attributes;
	char *description;
	const uint8_t *path;
	size_t path_len;
	const uint8_t *optional_data;
	size_t optional_len;
};
int loadopt_decode(const uint8_t *p, size_t len, struct diag *d, struct loadopt *ret);
void loadopt_done(struct loadopt *o);

