/* UUIDs: derivation from the build seed, parsing and formatting.
 *
 * Bytes are kept in RFC 4122 order (as printed); GPT stores the first three fields
 * little-endian, see uuid_to_guid(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;

#define UUID_LEN 16
#define UUID_STR_LEN 37 /* with NUL */

/* HMAC-SHA256(seed, purpose) truncated to 16 bytes, stamped as a version 4 variant 1 UUID. */
void uuid_derive(const char *seed, const char *purpose, uint8_t out[UUID_LEN]);
/* Raw derived bytes (no version stamping), for hash seeds and volume ids. */
void uuid_derive_bytes(const char *seed, const char *purpose, void *out, size_t len);
/* Random version 4 UUID (for --no-deterministic). */
int uuid_random(uint8_t out[UUID_LEN]);
/* Parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case). -EINVAL when malformed. */
int uuid_parse(const char *s, uint8_t out[UUID_LEN]);
void uuid_format(const uint8_t u[UUID_LEN], char out[UUID_STR_LEN]);
/* Mixed-endian GPT/EFI GUID encoding of an RFC 4122 UUID (and back: the swap is symmetric). */
void uuid_to_guid(const uint8_t u[UUID_LEN], uint8_t out[UUID_LEN]);
bool uuid_is_null(const uint8_t u[UUID_LEN]);
