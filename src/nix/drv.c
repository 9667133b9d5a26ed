/* Derivation outputs from a .drv file, for the DerivationOutputs table: Nix fills it when it
 * registers a path ending in ".drv" (local-store.cc, cacheDrvOutputMapping). The file is the
 * ATerm Nix writes (derivations.cc): Derive([("name","path","hashAlgo","hash"),...],...).
 * Only the output list is read. */
#include "nix/nix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define NIX_DRV_MAX_SIZE (256u << 20)

struct drv_reader {
	const char *p, *end;
};

static bool drv_expect(struct drv_reader *r, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
		return false;
	r->p += n;
	return true;
}

/* A quoted string with Nix's escapes (\n \r \t, and \x for any other x). */
static int drv_string(struct drv_reader *r, char **ret)
{
	_cleanup_free_ char *s = NULL;
	size_t n = 0;

	if (!drv_expect(r, "\""))
		return -EBADMSG;
	s = xmalloc((size_t)(r->end - r->p) + 1);
	while (r->p < r->end && *r->p != '"') {
		char c = *r->p++;

		if (c == '\\') {
			if (r->p >= r->end)
				return -EBADMSG;
			c = *r->p++;
			c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
		}
		s[n++] = c;
	}
	if (!drv_expect(r, "\""))
		return -EBADMSG;
	s[n] = '\0';
	*ret = TAKE_PTR(s);
	return 0;
}

void nix_drv_outputs_free(struct nix_drv_output *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(o[i].name);
		free(o[i].path);
	}
	free(o);
}

static int cmp_output(const void *a, const void *b)
{
	return strcmp(((const struct nix_drv_output *)a)->name,
		      ((const struct nix_drv_output *)b)->name);
}

int nix_drv_parse_outputs(const char *text, size_t len, struct nix_drv_output **ret,
			  size_t *ret_n)
{
	struct drv_reader r = { text, text + len };
	struct nix_drv_output *o = NULL;
	size_t n = 0;

	if (!drv_expect(&r, "Derive(["))
		return -EBADMSG;
	while (!drv_expect(&r, "]")) {
		_cleanup_free_ char *name = NULL, *path = NULL, *algo = NULL, *hash = NULL;

		if (n > 0 && !drv_expect(&r, ","))
			goto fail;
		if (!drv_expect(&r, "(") || drv_string(&r, &name) < 0 || !drv_expect(&r, ",") ||
		    drv_string(&r, &path) < 0 || !drv_expect(&r, ",") ||
		    drv_string(&r, &algo) < 0 || !drv_expect(&r, ",") ||
		    drv_string(&r, &hash) < 0 || !drv_expect(&r, ")"))
			goto fail;
		o = xreallocarray(o, n + 1, sizeof(*o));
		/* floating content-addressed outputs have no path yet: no row */
		o[n++] = (struct nix_drv_output){ .name = TAKE_PTR(name), .path = TAKE_PTR(path) };
	}
	{
		size_t k = 0;

		for (size_t i = 0; i < n; i++) {
			if (o[i].path[0]) {
				o[k++] = o[i];
				continue;
			}
			free(o[i].name);
			free(o[i].path);
		}
		n = k;
	}
	if (n)
		qsort(o, n, sizeof(*o), cmp_output);
	for (size_t i = 1; i < n; i++)
		if (strcmp(o[i - 1].name, o[i].name) == 0)
			goto fail;
	*ret = o;
	*ret_n = n;
	return 0;
fail:
	nix_drv_outputs_free(o, n);
	return -EBADMSG;
}

static bool is_drv(const char *path)
{
	size_t n = strlen(path);

	return n > 4 && strcmp(path + n - 4, ".drv") == 0;
}

int nix_closure_load_drv_outputs(struct nix_closure *c, struct diag *d)
{
	for (size_t i = 0; i < c->n_paths; i++) {
		struct nix_path *p = &c->paths[i];
		_cleanup_free_ uint8_t *buf = NULL;
		size_t len;
		int r;

		if (!is_drv(p->path))
			continue;
		r = read_file(p->path, NIX_DRV_MAX_SIZE, &buf, &len);
		if (r < 0)
			return diag_fail(d, r, "%s: cannot read the derivation: %s", p->path,
					 strerror(-r));
		nix_drv_outputs_free(p->outputs, p->n_outputs);
		p->outputs = NULL;
		p->n_outputs = 0;
		r = nix_drv_parse_outputs((const char *)buf, len, &p->outputs, &p->n_outputs);
		if (r < 0)
			return diag_fail(d, r, "%s: not a derivation Nix can read (expected "
					 "Derive([(\"out\",...)],...))", p->path);
	}
	return 0;
}
