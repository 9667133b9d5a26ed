/* Where systemd-repart 252 puts new partitions on an empty disk, and the identifiers it gives
 * them: a transcription of its context_allocate_partitions(), context_grow_partitions(),
 * context_place_partitions(), determine_auto_size(), partition_acquire_uuid(),
 * partition_acquire_label() and derive_uuid() (src/partition/repart.c) for the one free area
 * of --empty=create: no existing partitions, a 512-byte-sector image, libfdisk's first usable
 * byte at 1 MiB and its last before the 33-sector backup GPT. */
#include "spec/repart.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/diag.h"
#include "util/endian.h"
#include "util/hash.h"
#include "util/xalloc.h"

#define GRAIN 4096ull
#define DEFAULT_MIN_SIZE (10ull << 20)
#define HARD_MIN_SIZE 4096ull
#define GPT_METADATA_SIZE (1044ull * 1024) /* what --size=auto adds for the tables */
#define FIRST_BYTE (2048ull * 512)         /* libfdisk's first LBA */
#define BACKUP_SECTORS 33ull               /* backup GPT header + 128 entries */

static uint64_t round_down(uint64_t v, uint64_t p)
{
	return v / p * p;
}

static uint64_t round_up(uint64_t v, uint64_t p)
{
	v = v / p + (v % p != 0);
	return v > UINT64_MAX / p ? UINT64_MAX : v * p;
}

static uint64_t less_by(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* minimal_size_by_fs_name(): ext4's 1 MiB (xfs and btrfs are not formats we take). */
static uint64_t fs_min(const char *format)
{
	return strcmp(format, "ext4") == 0 ? 1ull << 20 : UINT64_MAX;
}

static uint64_t min_size(const struct repart_part *p)
{
	uint64_t sz = HARD_MIN_SIZE;

	if (p->format) {
		uint64_t f = fs_min(p->format);

		f = f == UINT64_MAX ? GRAIN : round_up(f, GRAIN);
		sz = f > sz ? f : sz;
	}
	/* Minimize=: what the contents need (our addition: repart 253 measures them) */
	if (p->content_bytes > sz)
		sz = round_up(p->content_bytes, GRAIN);
	{
		uint64_t m = round_up(p->size_min != REPART_UNSET
					      ? p->size_min
					      : p->minimize != REPART_MINIMIZE_OFF ? 0
										  : DEFAULT_MIN_SIZE,
				      GRAIN);

		return m > sz ? m : sz;
	}
}

static uint64_t max_size(const struct repart_part *p)
{
	uint64_t sm, mn;

	if (p->minimize != REPART_MINIMIZE_OFF && p->size_max == REPART_UNSET)
		return min_size(p); /* minimized: exactly what the contents need */
	if (p->size_max == REPART_UNSET)
		return UINT64_MAX;
	sm = round_down(p->size_max, GRAIN);
	mn = min_size(p);
	return mn > sm ? mn : sm;
}

static uint64_t min_padding(const struct repart_part *p)
{
	return p->padding_min != REPART_UNSET ? p->padding_min : 0;
}

static uint64_t min_with_padding(const struct repart_part *p)
{
	return round_up(min_size(p) + min_padding(p), GRAIN);
}

static uint64_t scale_by_weight(uint64_t value, uint64_t weight, uint64_t sum)
{
	for (;;) {
		if (weight == 0)
			return 0;
		if (weight == sum)
			return value;
		if (value <= UINT64_MAX / weight)
			return value * weight / sum;
		sum = sum / 2 + sum % 2;
		weight /= 2;
	}
}

static uint64_t charge_size(uint64_t total, uint64_t amount)
{
	return less_by(total, round_up(amount, GRAIN));
}

enum phase { PHASE_OVERCHARGE, PHASE_UNDERCHARGE, PHASE_DISTRIBUTE, PHASE_MAX };

/* One pass of context_grow_partitions_phase(): false when something was charged and the
 * phase starts over. */
static bool grow_phase(struct repart_part *p, size_t n, enum phase phase, uint64_t *span,
		       uint64_t *wsum)
{
	bool again = false;

	for (size_t i = 0; i < n; i++) {
		if (p[i].dropped)
			continue;
		if (p[i].new_size == REPART_UNSET) {
			uint64_t share = scale_by_weight(*span, p[i].weight, *wsum);
			uint64_t rsz = min_size(&p[i]), xsz = max_size(&p[i]);
			bool charge = false;

			if (phase == PHASE_OVERCHARGE && rsz > share) {
				p[i].new_size = rsz;
				charge = again = true;
			} else if (phase == PHASE_UNDERCHARGE && xsz < share) {
				p[i].new_size = xsz;
				charge = again = true;
			} else if (phase == PHASE_DISTRIBUTE) {
				uint64_t v = round_down(share, GRAIN);

				p[i].new_size = v < rsz ? rsz : v > xsz ? xsz : v;
				charge = true;
			}
			if (charge) {
				*span = charge_size(*span, p[i].new_size);
				*wsum -= p[i].weight;
			}
		}
		if (p[i].new_padding == REPART_UNSET) {
			uint64_t share = scale_by_weight(*span, p[i].padding_weight, *wsum);
			uint64_t rsz = min_padding(&p[i]), xsz = p[i].padding_max;
			bool charge = false;

			if (phase == PHASE_OVERCHARGE && rsz > share) {
				p[i].new_padding = rsz;
				charge = again = true;
			} else if (phase == PHASE_UNDERCHARGE && xsz < share) {
				p[i].new_padding = xsz;
				charge = again = true;
			} else if (phase == PHASE_DISTRIBUTE) {
				uint64_t v = round_down(share, GRAIN);

				p[i].new_padding = v < rsz ? rsz : v > xsz ? xsz : v;
				charge = true;
			}
			if (charge) {
				*span = charge_size(*span, p[i].new_padding);
				*wsum -= p[i].padding_weight;
			}
		}
	}
	return !again;
}

static bool fits(const struct repart_part *p, size_t n, uint64_t area)
{
	uint64_t need = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t m;

		if (p[i].dropped)
			continue;
		m = min_with_padding(&p[i]);
		if (m > area - need)
			return false;
		need += m;
	}
	return true;
}

int repart_place(struct repart_part *p, size_t n, uint64_t disk_bytes, struct diag *d,
		 uint64_t *ret_disk_bytes)
{
	uint64_t start, end, area, span, wsum = 0, off;

	for (size_t i = 0; i < n; i++) {
		p[i].dropped = false;
		p[i].new_size = p[i].new_padding = REPART_UNSET;
	}
	if (disk_bytes == 0) {
		/* determine_auto_size(), then whole MiB (our disks are) */
		uint64_t sum = round_up(GPT_METADATA_SIZE, GRAIN);

		for (size_t i = 0; i < n; i++) {
			uint64_t m = min_with_padding(&p[i]);

			if (m > UINT64_MAX / 2 - sum)
				return diag_fail(d, -EOVERFLOW, "definitions: the partitions' "
						 "minimum sizes add up past 2^63 bytes");
			sum += m;
		}
		disk_bytes = round_up(sum, 1ull << 20);
	}
	if (disk_bytes < FIRST_BYTE + (BACKUP_SECTORS + 1) * 512 + GRAIN)
		return diag_fail(d, -ENOSPC, "definitions: a %llu-byte disk has no room for "
				 "partitions", (unsigned long long)disk_bytes);
	start = round_up(FIRST_BYTE, GRAIN);
	end = round_down((disk_bytes / 512 - BACKUP_SECTORS) * 512, GRAIN);
	area = end > start ? end - start : 0;

	/* drop the highest priority (> 0) until the rest fit, as repart */
	while (!fits(p, n, area)) {
		int32_t top = 0;

		for (size_t i = 0; i < n; i++)
			if (!p[i].dropped && p[i].priority > top)
				top = p[i].priority;
		if (top <= 0) {
			uint64_t need = round_up(GPT_METADATA_SIZE, GRAIN);

			for (size_t i = 0; i < n; i++)
				if (!p[i].dropped)
					need += min_with_padding(&p[i]);
			return diag_fail(d, -ENOSPC, "definitions: the partitions need at least "
					 "%llu bytes; the disk is %llu (raise diskSize, or use "
					 "\"auto\")", (unsigned long long)need,
					 (unsigned long long)disk_bytes);
		}
		for (size_t i = 0; i < n; i++)
			if (p[i].priority >= top)
				p[i].dropped = true;
	}

	for (size_t i = 0; i < n; i++)
		if (!p[i].dropped)
			wsum += (uint64_t)p[i].weight + p[i].padding_weight;
	span = area;
	for (enum phase ph = 0; ph < PHASE_MAX;)
		if (grow_phase(p, n, ph, &span, &wsum))
			ph++;
	/* left over: to whoever still grows (context_grow_partition_one) */
	for (size_t i = 0; i < n && span > 0; i++) {
		uint64_t m, x;

		if (p[i].dropped)
			continue;
		m = round_down(p[i].new_size + span, GRAIN);
		if (m < p[i].new_size)
			m = p[i].new_size;
		x = max_size(&p[i]);
		if (m > x)
			m = x;
		span = charge_size(span, m - p[i].new_size);
		p[i].new_size = m;
	}
	off = start;
	for (size_t i = 0; i < n; i++) {
		if (p[i].dropped)
			continue;
		p[i].offset = off;
		off += p[i].new_size + p[i].new_padding;
	}
	*ret_disk_bytes = disk_bytes;
	return 0;
}

void repart_derive_uuid(const uint8_t key[16], const char *token, uint8_t out[16])
{
	uint8_t md[SHA256_LEN];

	hmac_sha256(key, 16, token, strlen(token), md);
	memcpy(out, md, 16);
	out[6] = (out[6] & 0x0f) | 0x40; /* id128_make_v4_uuid() */
	out[8] = (out[8] & 0x3f) | 0x80;
}

static bool label_taken(const struct repart_part *p, size_t before, const char *l)
{
	for (size_t j = 0; j < before; j++)
		if (p[j].new_label && strcmp(p[j].new_label, l) == 0)
			return true;
	return false;
}

void repart_ids(struct repart_part *p, size_t n, const uint8_t seed[16], uint8_t disk_uuid[16])
{
	repart_derive_uuid(seed, "disk-uuid", disk_uuid);
	for (size_t i = 0; i < n; i++) {
		struct repart_part *q = &p[i];
		uint64_t k = 0;
		uint8_t plain[24], md[SHA256_LEN];
		const char *prefix = q->type.name[0] ? q->type.name : "linux";
		uint64_t f = q->flags;

		for (size_t j = 0; j < i; j++)
			k += memcmp(p[j].type.uuid, q->type.uuid, 16) == 0;
		if (q->uuid_set) {
			memcpy(q->new_uuid, q->uuid, 16);
		} else {
			memcpy(plain, q->type.uuid, 16);
			le64_put(plain + 16, k);
			hmac_sha256(seed, 16, plain, k == 0 ? 16 : 24, md);
			memcpy(q->new_uuid, md, 16);
			q->new_uuid[6] = (q->new_uuid[6] & 0x0f) | 0x40;
			q->new_uuid[8] = (q->new_uuid[8] & 0x3f) | 0x80;
		}
		free(q->new_label);
		if (q->label) {
			q->new_label = xstrdup(q->label);
		} else {
			unsigned c = 1;

			q->new_label = xstrdup(prefix);
			while (label_taken(p, i, q->new_label)) {
				free(q->new_label);
				q->new_label = xasprintf("%s-%u", prefix, ++c);
			}
		}
		repart_derive_uuid(q->new_uuid, "file-system-uuid", q->fs_uuid);
		/* partition_merge_flags() */
		if (q->no_auto >= 0 && part_dps_knows_no_auto(q->type.kind))
			f = q->no_auto ? f | PART_ATTR_NO_AUTO : f & ~PART_ATTR_NO_AUTO;
		if (q->read_only >= 0 && part_dps_knows_read_only(q->type.kind))
			f = q->read_only ? f | PART_ATTR_READ_ONLY : f & ~PART_ATTR_READ_ONLY;
		if (q->growfs >= 0 && part_dps_knows_growfs(q->type.kind))
			f = q->growfs ? f | PART_ATTR_GROWFS : f & ~PART_ATTR_GROWFS;
		q->attributes = f;
	}
}
