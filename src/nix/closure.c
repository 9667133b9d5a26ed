/* nixpkgs' closureInfo: `store-paths` (one store path a line) and `registration` (records of
 * path, narHash, narSize, deriver, reference count, references, one field a line, as
 * `nix-store --register-validity` reads them). See docs/formats/nix-db.md. */
#include "nix/nix.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define NIX_CLOSURE_FILE_MAX (1ull << 32)

struct nix_closure *nix_closure_free(struct nix_closure *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_paths; i++) {
		free(c->paths[i].path);
		free(c->paths[i].deriver);
		free(c->paths[i].refs);
		nix_drv_outputs_free(c->paths[i].outputs, c->paths[i].n_outputs);
	}
	free(c->paths);
	free(c);
	return NULL;
}

const char *nix_path_name(const char *path)
{
	return path + strlen(NIX_STORE_DIR "/");
}

/* The next line of [*p, end) without its '\n'; false at the end of the text. A last line
 * without '\n' counts. */
static bool next_line(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*ret = *p;
	*ret_len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p = nl ? nl + 1 : end;
	return true;
}

/* "/nix/store/<name>" with a name Nix accepts: no '/', not "." or "..", no NUL. */
static bool store_path_valid(const char *s, size_t len)
{
	static const size_t plen = sizeof(NIX_STORE_DIR "/") - 1;
	const char *name = s + plen;
	size_t nlen = len - plen;

	if (len <= plen || memcmp(s, NIX_STORE_DIR "/", plen) != 0)
		return false;
	if (memchr(name, '/', nlen) || memchr(name, '\0', nlen))
		return false;
	return !(nlen == 1 && name[0] == '.') && !(nlen == 2 && name[0] == '.' && name[1] == '.');
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct nix_path *)a)->path, ((const struct nix_path *)b)->path);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

int nix_closure_find(const struct nix_closure *c, const char *path, size_t len)
{
	size_t lo = 0, hi = c->n_paths;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = c->paths[mid].path;
		size_t plen = strlen(p);
		int r = memcmp(p, path, MIN(plen, len));

		if (r == 0)
			r = plen < len ? -1 : plen > len;
		if (r == 0)
			return (int)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

static int parse_store_paths(struct nix_closure *c, const char *text, size_t len,
			     const char *what, struct diag *d)
{
	const char *p = text, *end = text + len, *line;
	size_t n, cap = 0;

	while (next_line(&p, end, &line, &n)) {
		if (n == 0 && p == end)
			break;
		if (!store_path_valid(line, n))
			return diag_fail(d, -EBADMSG,
					 "%s/store-paths: \"%.*s\" is not a path in " NIX_STORE_DIR,
					 what, (int)MIN(n, 200), line);
		if (c->n_paths == cap) {
			cap = cap ? cap * 2 : 64;
			c->paths = xreallocarray(c->paths, cap, sizeof(*c->paths));
		}
		c->paths[c->n_paths++] = (struct nix_path){ .path = xstrndup(line, n) };
	}
	if (c->n_paths > INT32_MAX)
		return diag_fail(d, -EOVERFLOW, "%s/store-paths: too many paths", what);
	if (c->n_paths)
		qsort(c->paths, c->n_paths, sizeof(*c->paths), cmp_path);
	for (size_t i = 1; i < c->n_paths; i++)
		if (strcmp(c->paths[i - 1].path, c->paths[i].path) == 0)
			return diag_fail(d, -EBADMSG, "%s/store-paths: %s is listed twice", what,
					 c->paths[i].path);
	return 0;
}

static int parse_u64(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* One record; `x` is the path's entry, already found. */
static int parse_record_fields(struct nix_closure *c, struct nix_path *x, const char **p,
			       const char *end, const char *what, struct diag *d)
{
	const char *line;
	size_t n;
	uint64_t n_refs;
	char buf[128];

	if (!next_line(p, end, &line, &n))
		goto truncated;
	snprintf(buf, sizeof(buf), "%.*s", (int)MIN(n, sizeof(buf) - 1), line);
	if (n >= sizeof(buf) || nix_hash_parse(buf, x->nar_hash) < 0)
		return diag_fail(d, -EBADMSG, "%s/registration: %s: narHash \"%s\" is not a sha256 "
				 "hash", what, x->path, buf);
	if (!next_line(p, end, &line, &n))
		goto truncated;
	if (parse_u64(line, n, &x->nar_size) < 0)
		return diag_fail(d, -EBADMSG,
				 "%s/registration: %s: narSize \"%.*s\" is not a number",
				 what, x->path, (int)MIN(n, 40), line);
	if (!next_line(p, end, &line, &n))
		goto truncated;
	if (n > 0) {
		if (!store_path_valid(line, n))
			return diag_fail(d, -EBADMSG,
					 "%s/registration: %s: deriver \"%.*s\" is not a "
					 "store path", what, x->path, (int)MIN(n, 200), line);
		x->deriver = xstrndup(line, n);
	}
	if (!next_line(p, end, &line, &n))
		goto truncated;
	if (parse_u64(line, n, &n_refs) < 0 || n_refs > c->n_paths)
		return diag_fail(d, -EBADMSG,
				 "%s/registration: %s: reference count \"%.*s\" is not "
				 "a number of paths in the closure", what, x->path, (int)MIN(n, 40),
				 line);
	x->refs = xreallocarray(NULL, n_refs ? n_refs : 1, sizeof(*x->refs));
	for (uint64_t i = 0; i < n_refs; i++) {
		int k;

		if (!next_line(p, end, &line, &n))
			goto truncated;
		k = nix_closure_find(c, line, n);
		if (k < 0)
			return diag_fail(d, -EBADMSG,
					 "%s/registration: %s references %.*s, which is not "
					 "in store-paths", what, x->path, (int)MIN(n, 200), line);
		x->refs[x->n_refs++] = (size_t)k;
	}
	qsort(x->refs, x->n_refs, sizeof(*x->refs), cmp_size);
	for (size_t i = 1; i < x->n_refs; i++)
		if (x->refs[i] == x->refs[i - 1])
			return diag_fail(d, -EBADMSG,
					 "%s/registration: %s lists reference %s twice",
					 what, x->path, c->paths[x->refs[i]].path);
	return 0;
truncated:
	return diag_fail(d, -EBADMSG, "%s/registration: truncated in the record of %s; regenerate "
			 "the closure info", what, x->path);
}

static int parse_registration(struct nix_closure *c, const char *text, size_t len,
			      const char *what, struct diag *d)
{
	_cleanup_free_ bool *seen = xcalloc(c->n_paths ? c->n_paths : 1, sizeof(bool));
	const char *p = text, *end = text + len, *line;
	size_t n;
	int r;

	while (next_line(&p, end, &line, &n)) {
		int k;

		if (n == 0 && p == end)
			break;
		k = nix_closure_find(c, line, n);
		if (k < 0)
			return diag_fail(d, -EBADMSG,
					 "%s/registration: registers %.*s, which store-paths "
					 "does not list", what, (int)MIN(n, 200), line);
		if (seen[k])
			return diag_fail(d, -EBADMSG,
					 "%s/registration: %s is registered twice", what,
					 c->paths[k].path);
		seen[k] = true;
		r = parse_record_fields(c, &c->paths[k], &p, end, what, d);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < c->n_paths; i++)
		if (!seen[i])
			return diag_fail(d, -EBADMSG, "%s/registration: %s (in store-paths) is not "
					 "registered", what, c->paths[i].path);
	return 0;
}

int nix_closure_parse(const char *store_paths, size_t store_paths_len, const char *registration,
		      size_t registration_len, const char *what, struct diag *d,
		      struct nix_closure **ret)
{
	_cleanup_(nix_closure_freep) struct nix_closure *c = xcalloc(1, sizeof(*c));
	int r;

	r = parse_store_paths(c, store_paths, store_paths_len, what, d);
	if (r < 0)
		return r;
	r = parse_registration(c, registration, registration_len, what, d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

int nix_closure_load(const char *dir, struct diag *d, struct nix_closure **ret)
{
	_cleanup_free_ char *sp_path = xasprintf("%s/store-paths", dir);
	_cleanup_free_ char *reg_path = xasprintf("%s/registration", dir);
	_cleanup_free_ uint8_t *sp = NULL, *reg = NULL;
	size_t sp_len, reg_len;
	int r;

	r = read_file(sp_path, NIX_CLOSURE_FILE_MAX, &sp, &sp_len);
	if (r < 0)
		return diag_fail(d, r, "%s: cannot read (closureInfo must hold store-paths and "
				 "registration): %s", sp_path, strerror(-r));
	r = read_file(reg_path, NIX_CLOSURE_FILE_MAX, &reg, &reg_len);
	if (r < 0)
		return diag_fail(d, r, "%s: cannot read: %s", reg_path, strerror(-r));
	return nix_closure_parse((const char *)sp, sp_len, (const char *)reg, reg_len, dir, d,
				 ret);
}
