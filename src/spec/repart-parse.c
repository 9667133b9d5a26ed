/* One repart.d definition file, parsed as systemd 252's conf-parser reads it for
 * systemd-repart: "[Partition]" only, '#' and ';' comments, whitespace around keys and
 * values stripped, a trailing backslash continuing the line, the last assignment of a key
 * winning (CopyFiles= and MakeDirectories= add up). Values as repart's parsers take them:
 * booleans as parse_boolean(), sizes as parse_size(..., 1024). Where repart only warns and
 * ignores a line (an unknown key, a bad value), we stop with the file, line and key. */
#include "spec/repart.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/diag.h"
#include "util/uuid.h"
#include "util/xalloc.h"

#define WS " \t\n\r"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void repart_part_init(struct repart_part *p)
{
	*p = (struct repart_part){
		.weight = 1000,
		.size_min = REPART_UNSET,
		.size_max = REPART_UNSET,
		.padding_min = REPART_UNSET,
		.padding_max = REPART_UNSET,
		.read_only = -1,
		.no_auto = -1,
		.growfs = -1,
	};
}

void repart_part_free(struct repart_part *p)
{
	free(p->file);
	free(p->label);
	free(p->format);
	contents_entries_free(p->copies, p->n_copies);
	strings_free(p->mkdirs, p->n_mkdirs);
	free(p->new_label);
	repart_part_init(p);
}

/* Where a message points: "FILE:LINE: Key=value". */
struct where {
	const char *file;
	unsigned line;
	const char *key, *value;
};

#define FAIL(w, err, fmt, ...)                                                                 \
	diag_fail(d, err, "%s:%u: %s=%s: " fmt, (w)->file, (w)->line, (w)->key, (w)->value,   \
		  ##__VA_ARGS__)

/* systemd's parse_boolean(). */
static int parse_bool(const char *v)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	return -EINVAL;
}

/* systemd's parse_size(v, 1024): "1G", "1.5M", "1G 512M" (descending suffixes, summed),
 * suffixes E P T G M K B or none. */
static int parse_size(const char *v, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		uint64_t factor;
	} table[] = {
		{ "E", 1ull << 60 }, { "P", 1ull << 50 }, { "T", 1ull << 40 }, { "G", 1ull << 30 },
		{ "M", 1ull << 20 }, { "K", 1ull << 10 }, { "B", 1 },	       { "", 1 },
	};
	const char *p = v;
	uint64_t sum = 0;
	size_t start = 0;

	p += strspn(p, WS);
	if (!*p)
		return -EINVAL;
	do {
		uint64_t whole = 0, frac = 0, scale = 1, add;
		size_t i;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (whole > (UINT64_MAX - 9) / 10)
				return -ERANGE;
			whole = whole * 10 + (uint64_t)(*p - '0');
		}
		if (*p == '.') {
			p++;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			for (; *p >= '0' && *p <= '9'; p++)
				if (scale < 1000000000000000000ull) { /* further digits are noise */
					frac = frac * 10 + (uint64_t)(*p - '0');
					scale *= 10;
				}
		}
		p += strspn(p, WS);
		for (i = start; i < sizeof(table) / sizeof(table[0]); i++)
			if (strncmp(p, table[i].suffix, strlen(table[i].suffix)) == 0)
				break;
		if (i == sizeof(table) / sizeof(table[0]))
			return -EINVAL;
		if (whole > UINT64_MAX / table[i].factor)
			return -ERANGE;
		add = whole * table[i].factor;
		/* frac / scale of the factor; frac < scale <= 10^18 */
		add += (uint64_t)((unsigned __int128)frac * table[i].factor / scale);
		if (add > UINT64_MAX - sum)
			return -ERANGE;
		sum += add;
		p += strlen(table[i].suffix);
		start = i + 1;
		p += strspn(p, WS);
	} while (*p);
	*ret = sum;
	return 0;
}

static int parse_u64(const char *v, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long x;

	if (!*v || *v == '-' || *v == '+' || *v == ' ')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || *end)
		return -EINVAL;
	if (x > max)
		return -ERANGE;
	*ret = x;
	return 0;
}

/* An absolute, normalised path: "/a/b" (no "..", no "." components, no empty ones). */
static bool path_ok(const char *p)
{
	const char *c = p;

	if (p[0] != '/' || strlen(p) >= PATH_MAX)
		return false;
	while (*c) {
		const char *e;
		size_t n;

		c += strspn(c, "/");
		e = c + strcspn(c, "/");
		n = (size_t)(e - c);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = e;
	}
	return true;
}

/* "/a//b/" → "/a/b" */
static char *path_clean(const char *p)
{
	char *r = xmalloc(strlen(p) + 2), *o = r;

	for (const char *c = p; *c; c++) {
		if (*c == '/' && o > r && o[-1] == '/')
			continue;
		*o++ = *c;
	}
	if (o > r + 1 && o[-1] == '/')
		o--;
	*o = '\0';
	return r;
}

static int set_size(const struct where *w, uint64_t *field, int round, struct diag *d)
{
	uint64_t v;
	int r = parse_size(w->value, &v);

	if (r < 0)
		return FAIL(w, -EINVAL, "not a size (bytes, or with K, M, G, T: 512M)");
	if (round > 0) {
		if (v > UINT64_MAX - 4095)
			return FAIL(w, -EINVAL, "too large");
		v = (v + 4095) / 4096 * 4096;
	} else if (round < 0)
		v = v / 4096 * 4096;
	*field = v;
	return 0;
}

static int set_tristate(const struct where *w, int *field, struct diag *d)
{
	int b;

	if (!*w->value) {
		*field = -1;
		return 0;
	}
	b = parse_bool(w->value);
	if (b < 0)
		return FAIL(w, -EINVAL, "not a boolean (use yes or no)");
	*field = b;
	return 0;
}

static int set_copy_files(const struct where *w, struct repart_part *p, struct diag *d)
{
	const char *v = w->value, *colon = strchr(v, ':');
	_cleanup_free_ char *src = NULL, *dst = NULL;
	struct contents_entry *e;

	if (!*v)
		return 0; /* repart: "No argument specified", ignored */
	if (strchr(v, '%') || strchr(v, '\\'))
		return FAIL(w, -ENOTSUP, "specifiers (%%) and escapes are not supported; write the "
			    "paths out");
	src = colon ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);
	dst = xstrdup(colon ? colon + 1 : v);
	if (strchr(dst, ':'))
		return FAIL(w, -EINVAL, "too many ':' (use SOURCE:TARGET)");
	if (!path_ok(src) || !path_ok(dst))
		return FAIL(w, -EINVAL, "SOURCE and TARGET must be absolute paths without "
			    "\".\" or \"..\"");
	if (p->n_copies >= REPART_LIST_MAX)
		return FAIL(w, -EINVAL, "more than %u CopyFiles= lines", REPART_LIST_MAX);
	p->copies = xrealloc(p->copies, (p->n_copies + 1) * sizeof(*p->copies));
	e = &p->copies[p->n_copies++];
	*e = (struct contents_entry){ .source = path_clean(src), .target = path_clean(dst) };
	return 0;
}

static int set_make_dirs(const struct where *w, struct repart_part *p, struct diag *d)
{
	const char *c = w->value;

	if (strpbrk(c, "%\\\"'"))
		return FAIL(w, -ENOTSUP, "quotes, escapes and specifiers (%%) are not supported; "
			    "write the paths out");
	for (;;) {
		size_t n;
		_cleanup_free_ char *word = NULL;

		c += strspn(c, WS);
		if (!*c)
			return 0;
		n = strcspn(c, WS);
		word = xstrndup(c, n);
		c += n;
		if (!path_ok(word))
			return FAIL(w, -EINVAL, "\"%s\": not an absolute path without \".\" or "
				    "\"..\"", word);
		if (p->n_mkdirs >= REPART_LIST_MAX)
			return FAIL(w, -EINVAL, "more than %u directories", REPART_LIST_MAX);
		p->mkdirs = xrealloc(p->mkdirs, (p->n_mkdirs + 1) * sizeof(*p->mkdirs));
		p->mkdirs[p->n_mkdirs++] = path_clean(word);
	}
}

/* UUID=: dashed or 32 hex digits, as sd_id128_from_string(). */
static int parse_id128(const char *v, uint8_t out[16])
{
	char buf[UUID_STR_LEN];

	if (strlen(v) == 32) {
		snprintf(buf, sizeof(buf), "%.8s-%.4s-%.4s-%.4s-%.12s", v, v + 8, v + 12, v + 16,
			 v + 20);
		return uuid_parse(buf, out);
	}
	return uuid_parse(v, out);
}

static int assign(const struct where *w, enum part_arch native, struct repart_part *p,
		  struct diag *d)
{
	const char *k = w->key, *v = w->value;
	uint64_t u;
	int b;

	if (strcmp(k, "Type") == 0) {
		if (part_dps_type_from_name(v, native, &p->type) < 0)
			return FAIL(w, -EINVAL, "unknown partition type (use esp, xbootldr, swap, "
				    "home, srv, var, tmp, linux-generic, root, usr, root-ARCH, "
				    "usr-ARCH[-verity], or a GUID)");
		p->type_set = true;
	} else if (strcmp(k, "Label") == 0) {
		if (strchr(v, '%'))
			return FAIL(w, -ENOTSUP, "specifiers (%%) are not supported; write the "
				    "label out");
		for (const char *c = v; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
				return FAIL(w, -EINVAL, "only printable ASCII is supported in labels");
		if (strlen(v) > REPART_LABEL_MAX)
			return FAIL(w, -EINVAL, "longer than a GPT name's %d characters",
				    REPART_LABEL_MAX);
		free(p->label);
		p->label = xstrdup(v);
	} else if (strcmp(k, "UUID") == 0) {
		if (!*v) {
			p->uuid_set = false;
			return 0;
		}
		if (strcmp(v, "null") == 0)
			return FAIL(w, -ENOTSUP, "a null partition UUID is not supported");
		if (parse_id128(v, p->uuid) < 0 || uuid_is_null(p->uuid))
			return FAIL(w, -EINVAL, "not a UUID");
		p->uuid_set = true;
	} else if (strcmp(k, "Priority") == 0) {
		char *end;
		long x;

		errno = 0;
		x = strtol(v, &end, 10);
		if (!*v || errno || *end || x < INT32_MIN || x > INT32_MAX)
			return FAIL(w, -EINVAL, "not a 32-bit integer");
		p->priority = (int32_t)x;
	} else if (strcmp(k, "Weight") == 0 || strcmp(k, "PaddingWeight") == 0) {
		if (parse_u64(v, 1000000, &u) < 0)
			return FAIL(w, -EINVAL, "not a weight (0..1000000)");
		*(k[0] == 'W' ? &p->weight : &p->padding_weight) = (uint32_t)u;
	} else if (strcmp(k, "SizeMinBytes") == 0) {
		return set_size(w, &p->size_min, 1, d);
	} else if (strcmp(k, "SizeMaxBytes") == 0) {
		return set_size(w, &p->size_max, -1, d);
	} else if (strcmp(k, "PaddingMinBytes") == 0) {
		return set_size(w, &p->padding_min, 1, d);
	} else if (strcmp(k, "PaddingMaxBytes") == 0) {
		return set_size(w, &p->padding_max, -1, d);
	} else if (strcmp(k, "FactoryReset") == 0) {
		b = parse_bool(v);
		if (b < 0)
			return FAIL(w, -EINVAL, "not a boolean (use yes or no)");
		p->factory_reset = b;
	} else if (strcmp(k, "Format") == 0) {
		static const char *const ok[] = { "ext4", "vfat", "swap", "erofs" };
		bool found = false;

		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			found |= strcmp(v, ok[i]) == 0;
		if (!found)
			return FAIL(w, -ENOTSUP, "filesystem not supported (use ext4, vfat, swap "
				    "or erofs)");
		free(p->format);
		p->format = xstrdup(v);
	} else if (strcmp(k, "CopyFiles") == 0) {
		return set_copy_files(w, p, d);
	} else if (strcmp(k, "MakeDirectories") == 0) {
		return set_make_dirs(w, p, d);
	} else if (strcmp(k, "Encrypt") == 0) {
		if (*v && (parse_bool(v) != 0 && strcmp(v, "off") != 0))
			return FAIL(w, -ENOTSUP, "encryption is not supported (use Encrypt=off)");
	} else if (strcmp(k, "Verity") == 0) {
		if (*v && strcmp(v, "off") != 0)
			return FAIL(w, -ENOTSUP, "dm-verity is not supported (use Verity=off)");
	} else if (strcmp(k, "Flags") == 0) {
		if (parse_u64(v, UINT64_MAX, &u) < 0)
			return FAIL(w, -EINVAL, "not a 64-bit number");
		if (u & ((1ull << 48) - 1))
			return FAIL(w, -ENOTSUP, "bits 0..47 are not supported: systemd-repart "
				    "252 (libfdisk) then writes no attributes at all; use bits "
				    "48..63");
		p->flags = u;
	} else if (strcmp(k, "ReadOnly") == 0) {
		return set_tristate(w, &p->read_only, d);
	} else if (strcmp(k, "NoAuto") == 0) {
		return set_tristate(w, &p->no_auto, d);
	} else if (strcmp(k, "GrowFileSystem") == 0) {
		return set_tristate(w, &p->growfs, d);
	} else if (strcmp(k, "Minimize") == 0) {
		b = parse_bool(v);
		if (strcmp(v, "best") == 0 || b == 1)
			p->minimize = REPART_MINIMIZE_BEST;
		else if (strcmp(v, "guess") == 0)
			p->minimize = REPART_MINIMIZE_GUESS;
		else if (strcmp(v, "off") == 0 || b == 0)
			p->minimize = REPART_MINIMIZE_OFF;
		else
			return FAIL(w, -EINVAL, "use off, best or guess");
	} else if (strcmp(k, "SplitName") == 0) {
		/* only for --split=yes, which we do not do: accepted, no effect */
	} else if (strcmp(k, "CopyBlocks") == 0 || strcmp(k, "VerityMatchKey") == 0 ||
		   strcmp(k, "Subvolumes") == 0 || strcmp(k, "VerityDataBlockSizeBytes") == 0 ||
		   strcmp(k, "VerityHashBlockSizeBytes") == 0 || strcmp(k, "ExcludeFiles") == 0 ||
		   strcmp(k, "ExcludeFilesTarget") == 0 || strcmp(k, "Compression") == 0 ||
		   strcmp(k, "CompressionLevel") == 0 || strcmp(k, "SupplementFor") == 0 ||
		   strcmp(k, "DefaultSubvolume") == 0 || strcmp(k, "MountPoint") == 0 ||
		   strcmp(k, "EncryptedVolume") == 0 || strcmp(k, "FileSystemSectorSize") == 0) {
		return FAIL(w, -ENOTSUP, "not supported by mkdiskimage (see docs/repart.md)");
	} else {
		return FAIL(w, -EINVAL, "unknown key in [Partition]");
	}
	return 0;
}

/* The whole file, once read (repart's partition_read_definition checks). */
static int check_file(const char *file, struct repart_part *p, struct diag *d)
{
	if (!p->type_set)
		return diag_fail(d, -EINVAL, "%s: Type= missing (every partition needs a type)",
				 file);
	if (p->size_min != REPART_UNSET && p->size_max != REPART_UNSET &&
	    p->size_min > p->size_max)
		return diag_fail(d, -EINVAL, "%s: SizeMinBytes= larger than SizeMaxBytes=", file);
	if (p->padding_min != REPART_UNSET && p->padding_max != REPART_UNSET &&
	    p->padding_min > p->padding_max)
		return diag_fail(d, -EINVAL, "%s: PaddingMinBytes= larger than PaddingMaxBytes=",
				 file);
	if ((p->n_copies || p->n_mkdirs) && p->format && strcmp(p->format, "swap") == 0)
		return diag_fail(d, -EINVAL, "%s: Format=swap and CopyFiles=/MakeDirectories= "
				 "cannot be combined", file);
	if (!p->format && (p->n_copies || p->n_mkdirs))
		p->format = xstrdup("ext4"); /* as repart: files need a filesystem */
	if (p->minimize != REPART_MINIMIZE_OFF && !p->format)
		return diag_fail(d, -EINVAL, "%s: Minimize= needs Format= (a filesystem to size "
				 "to its contents)", file);
	/* verity partitions are read-only unless said otherwise; growfs by default where it
	 * applies and the partition is writable (repart 252 sets it even over
	 * GrowFileSystem=no) */
	if ((p->type.kind == PART_DPS_ROOT_VERITY || p->type.kind == PART_DPS_USR_VERITY) &&
	    p->read_only < 0)
		p->read_only = 1;
	if (part_dps_knows_growfs(p->type.kind) && p->read_only <= 0)
		p->growfs = 1;
	return 0;
}

int repart_parse(const char *file, const char *text, size_t len, enum part_arch native,
		 struct repart_part *p, struct diag *d)
{
	_cleanup_free_ char *logical = NULL;
	size_t cap = 0, used = 0, pos = 0;
	unsigned lineno = 0, first = 0;
	bool in_section = false, cont = false;
	int r;

	if (len > REPART_FILE_MAX)
		return diag_fail(d, -EFBIG, "%s: larger than %u bytes", file, REPART_FILE_MAX);
	if (memchr(text, '\0', len))
		return diag_fail(d, -EINVAL, "%s: contains a NUL byte (not a text file)", file);
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos, a, b;
		bool escaped;

		pos += n + (nl ? 1 : 0);
		lineno++;
		a = 0; /* the text need not end in NUL: stay within the line */
		while (a < n && is_ws(s[a]))
			a++;
		b = n;
		while (b > a && is_ws(s[b - 1]))
			b--;
		if (b > a && (s[a] == '#' || s[a] == ';'))
			continue; /* comments, also inside a continuation */
		if (b == a && !cont)
			continue; /* an empty line (it ends a continuation) */
		escaped = b > a && s[b - 1] == '\\';
		if (!cont) {
			used = 0;
			first = lineno;
		}
		if (used + (b - a) + 2 > cap) {
			cap = (used + (b - a) + 2) * 2;
			logical = xrealloc(logical, cap);
		}
		memcpy(logical + used, s + a, b - a - (escaped ? 1 : 0));
		used += b - a - (escaped ? 1 : 0);
		logical[used] = '\0';
		if (escaped) {
			logical[used++] = ' ';
			logical[used] = '\0';
			cont = true;
			if (pos < len)
				continue;
		}
		cont = false;
		/* one logical line: logical[0..used) */
		{
			char *l = logical, *eq;
			size_t ln = used;

			while (ln && is_ws(l[ln - 1]))
				l[--ln] = '\0';
			if (l[0] == '[') {
				if (ln < 2 || l[ln - 1] != ']')
					return diag_fail(d, -EINVAL, "%s:%u: \"%s\": a section header "
							 "needs a closing ']'", file, first, l);
				l[ln - 1] = '\0';
				if (strcmp(l + 1, "Partition") != 0)
					return diag_fail(d, -EINVAL, "%s:%u: [%s]: unknown section "
							 "(use [Partition])", file, first, l + 1);
				in_section = true;
				continue;
			}
			eq = strchr(l, '=');
			if (!eq)
				return diag_fail(d, -EINVAL, "%s:%u: \"%s\": not a Key=value line",
						 file, first, l);
			if (!in_section)
				return diag_fail(d, -EINVAL, "%s:%u: \"%s\": assignment outside "
						 "[Partition] (start the file with [Partition])", file,
						 first, l);
			{
				char *k = l, *v = eq + 1, *ke = eq;

				while (ke > k && is_ws(ke[-1]))
					ke--;
				*ke = '\0';
				v += strspn(v, WS);
				if (!*k)
					return diag_fail(d, -EINVAL, "%s:%u: \"=%s\": no key", file,
							 first, v);
				r = assign(&(struct where){ file, first, k, v }, native, p, d);
				if (r < 0)
					return r;
			}
		}
	}
	return check_file(file, p, d);
}
