#include "util/hash.h"

#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <stdlib.h>

#include "util/xalloc.h"

void sha256(const void *buf, size_t len, uint8_t out[SHA256_LEN])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, buf);
	sha256_digest(&ctx, SHA256_LEN, out);
}

void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
		 uint8_t out[SHA256_LEN])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_set_key(&ctx, key_len, key);
	hmac_sha256_update(&ctx, msg_len, msg);
	hmac_sha256_digest(&ctx, SHA256_LEN, out);
}

struct hash_sha256 {
	struct sha256_ctx ctx;
};

struct hash_sha256 *hash_sha256_new(void)
{
	struct hash_sha256 *h = xmalloc(sizeof(*h));

	sha256_init(&h->ctx);
	return h;
}

void hash_sha256_feed(struct hash_sha256 *h, const void *buf, size_t len)
{
	sha256_update(&h->ctx, len, buf);
}

void hash_sha256_end(struct hash_sha256 *h, uint8_t out[SHA256_LEN])
{
	sha256_digest(&h->ctx, SHA256_LEN, out);
	free(h);
}
