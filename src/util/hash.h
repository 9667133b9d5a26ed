/* SHA-256 and HMAC-SHA256 (wrapping nettle). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

void sha256(const void *buf, size_t len, uint8_t out[SHA256_LEN]);
void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
		 uint8_t out[SHA256_LEN]);

/* SHA-256 of data that arrives in pieces (the OVA manifest's disk). */
struct hash_sha256;
struct hash_sha256 *hash_sha256_new(void);
void hash_sha256_feed(struct hash_sha256 *h, const void *buf, size_t len);
/* The digest; frees h. */
void hash_sha256_end(struct hash_sha256 *h, uint8_t out[SHA256_LEN]);
