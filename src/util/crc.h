/* Checksums: CRC-32C (Castagnoli, ext4 metadata_csum) and CRC-32 (IEEE, GPT). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Raw CRC-32C register update, no pre/post inversion: Linux's crc32c_le(), which ext4 uses
 * as ext4_chksum(seed, buf, len). */
uint32_t crc32c_le(uint32_t crc, const void *buf, size_t len);
/* The standard CRC-32C of buf: ~crc32c_le(~0, buf, len). */
uint32_t crc32c(const void *buf, size_t len);
/* The standard CRC-32 (IEEE 802.3, zlib's crc32) of buf, continuing from crc (0 to start). */
uint32_t crc32_ieee(uint32_t crc, const void *buf, size_t len);
