#include "util/uuid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "util/hash.h"
#include "util/hex.h"

void uuid_derive_bytes(const char *seed, const char *purpose, void *out, size_t len)
{
	uint8_t mac[SHA256_LEN];

	hmac_sha256(seed, strlen(seed), purpose, strlen(purpose), mac);
	memcpy(out, mac, len < SHA256_LEN ? len : SHA256_LEN);
}

static void stamp_v4(uint8_t u[UUID_LEN])
{
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
}

void uuid_derive(const char *seed, const char *purpose, uint8_t out[UUID_LEN])
{
	uuid_derive_bytes(seed, purpose, out, UUID_LEN);
	stamp_v4(out);
}

int uuid_random(uint8_t out[UUID_LEN])
{
	size_t got = 0;

	while (got < UUID_LEN) {
		ssize_t n = getrandom(out + got, UUID_LEN - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	stamp_v4(out);
	return 0;
}

int uuid_parse(const char *s, uint8_t out[UUID_LEN])
{
	uint8_t u[UUID_LEN];
	size_t i = 0, n = 0;

	if (strlen(s) != 36)
		return -EINVAL;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		int hi = hex_digit_value(s[i]), lo = hex_digit_value(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		u[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	memcpy(out, u, UUID_LEN);
	return 0;
}

void uuid_format(const uint8_t u[UUID_LEN], char out[UUID_STR_LEN])
{
	snprintf(out, UUID_STR_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
}

void uuid_to_guid(const uint8_t u[UUID_LEN], uint8_t out[UUID_LEN])
{
	uint8_t t[UUID_LEN];

	t[0] = u[3];
	t[1] = u[2];
	t[2] = u[1];
	t[3] = u[0];
	t[4] = u[5];
	t[5] = u[4];
	t[6] = u[7];
	t[7] = u[6];
	memcpy(t + 8, u + 8, 8);
	memcpy(out, t, UUID_LEN);
}

bool uuid_is_null(const uint8_t u[UUID_LEN])
{
	for (size_t i = 0; i < UUID_LEN; i++)
		if (u[i])
			return false;
	return true;
}
