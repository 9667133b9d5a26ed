#include "boot/devpath.h"

#include <stdlib.h>

#include "util/diag.h"
#include "util/strbuf.h"
#include "util/test.h"
#include "util/uuid.h"

/* HD(1,GPT,01234567-89AB-CDEF-0123-456789ABCDEF,0x4000,0x7c000)/\EFI\systemd\x.efi, laid out
 * by hand from UEFI 2.10 §10.3.5.1 and §10.3.5.4. */
static const uint8_t want_hd[42] = {
	0x04, 0x01, 42, 0x00,                           /* media, hard drive, length 42 */
	0x01, 0x00, 0x00, 0x00,                         /* partition number */
	0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* start LBA 0x4000 */
	0x00, 0xc0, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, /* size 0x7c000 */
	0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd, /* GUID, mixed-endian */
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0x02, 0x02, /* GPT, GUID signature */
};

static void hd_fixture(struct devpath_hd *hd)
{
	*hd = (struct devpath_hd){ .part_number = 1, .start_lba = 0x4000, .n_lba = 0x7c000 };
	(void)uuid_parse("01234567-89ab-cdef-0123-456789abcdef", hd->part_uuid);
}

TEST(esp_file_path_bytes_follow_the_spec)
{
	struct devpath_hd hd;
	struct diag d = { 0 };
	uint8_t *p = NULL;
	size_t len = 0;
	const char *f = "\\EFI\\systemd\\x.efi";
	size_t flen = 4 + 2 * (strlen(f) + 1);

	hd_fixture(&hd);
	ASSERT_OK(devpath_esp_file(&hd, "/EFI/systemd/x.efi", &d, &p, &len));
	ASSERT_EQ(len, 42 + flen + 4);
	ASSERT_MEM_EQ(p, want_hd, 42);
	ASSERT_EQ(p[42], 0x04);
	ASSERT_EQ(p[43], 0x04);
	ASSERT_EQ(p[44] | p[45] << 8, flen);
	for (size_t i = 0; i <= strlen(f); i++) {
		ASSERT_EQ(p[46 + 2 * i], (uint8_t)f[i]);
		ASSERT_EQ(p[47 + 2 * i], 0);
	}
	ASSERT_MEM_EQ(p + 42 + flen, "\x7f\xff\x04\x00", 4);
	free(p);
}

TEST(device_path_text_matches_the_firmware_form)
{
	struct devpath_hd hd;
	struct diag d = { 0 };
	uint8_t *p = NULL;
	char *s = NULL;
	size_t len = 0;

	hd_fixture(&hd);
	ASSERT_OK(devpath_esp_file(&hd, "EFI/systemd/systemd-bootx64.efi", &d, &p, &len));
	ASSERT_OK(devpath_to_text(p, len, &d, &s));
	ASSERT_STR_EQ(s, "HD(1,GPT,01234567-89ab-cdef-0123-456789abcdef,0x4000,0x7c000)/"
			 "\\EFI\\systemd\\systemd-bootx64.efi");
	free(s);
	free(p);
}

TEST(device_path_decoder_rejects_bad_lengths)
{
	struct devpath_hd hd;
	struct diag d = { 0 };
	uint8_t *p = NULL;
	char *s = NULL;
	size_t len = 0;

	hd_fixture(&hd);
	ASSERT_OK(devpath_esp_file(&hd, "x.efi", &d, &p, &len));
	ASSERT_ERR(devpath_to_text(p, len - 4, &d, &s), -EBADMSG); /* no End node */
	ASSERT_TRUE(strstr(d.msg, "no End node") != NULL);
	p[2] = 3; /* HD length below the header */
	ASSERT_ERR(devpath_to_text(p, len, &d, &s), -EBADMSG);
	p[2] = 0xff; /* past the end */
	ASSERT_ERR(devpath_to_text(p, len, &d, &s), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "Length") != NULL);
	free(p);
}

TEST(non_ascii_file_path_is_refused)
{
	struct devpath_hd hd;
	struct diag d = { 0 };
	uint8_t *p = NULL;
	size_t len = 0;

	hd_fixture(&hd);
	ASSERT_ERR(devpath_esp_file(&hd, "/EFI/\xc3\xa9.efi", &d, &p, &len), -EINVAL);
}

/* A path of n 4-byte nodes Path(5,1) and an End node; the work (bytes written and moved by the
 * text builder) to render it. */
static uint64_t render_work(size_t n, int *failed_)
{
	size_t len = 4 * n + 4;
	uint8_t *p = malloc(len);
	struct diag d = { 0 };
	char *s = NULL;
	uint64_t before = strbuf_bytes_moved;

	for (size_t i = 0; i < n; i++)
		memcpy(p + 4 * i, "\x05\x01\x04\x00", 4);
	memcpy(p + 4 * n, "\x7f\xff\x04\x00", 4);
	if (devpath_to_text(p, len, &d, &s) < 0 || strlen(s) != 10 * n - 1 ||
	    strncmp(s, "Path(5,1)/Path(5,1)", 19) != 0)
		*failed_ = 1;
	free(s);
	free(p);
	return strbuf_bytes_moved - before;
}

/* Rendering is linear in the nodes: 4x the nodes costs about 4x, not 16x (it was quadratic:
 * each node re-formatted the whole string). Counts work, not time. */
TEST(device_path_text_is_linear_in_nodes)
{
	int bad = 0;
	uint64_t w1 = render_work(4000, &bad), w4 = render_work(16000, &bad);

	ASSERT_TRUE(!bad);
	ASSERT_TRUE(w1 >= 10 * 4000 - 1);
	ASSERT_TRUE(w4 <= 5 * w1);
	ASSERT_TRUE(w4 <= 3 * (10 * 16000)); /* text plus amortised growth */
}

/* Variable names and descriptions come out of the store printable: controls and non-ASCII
 * code units as '?', so an ESC in a Boot#### description never reaches a terminal. */
TEST(ucs2_decode_keeps_controls_out)
{
	static const uint8_t s[] = { 0x1b, 0, '[', 0, '2', 0, 'J', 0, 0x07, 0, 0xe9, 0, 0x2e, 0x20, 0, 0 };
	char *t = devpath_ucs2_decode(s, sizeof(s));

	ASSERT_STR_EQ(t, "?[2J???");
	free(t);
}
