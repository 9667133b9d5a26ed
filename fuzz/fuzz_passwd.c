/* Fuzzing the passwd/group reader (src/tree/passwd.c), which maps contents' user and group
 * names to ids through the image's own /etc/passwd: the input is the name, a newline, where
 * /etc/passwd links to (empty line: it is the file itself), a newline, then the file's text,
 * which lies at /etc/passwd or /etc/real. */
#include "fuzz.h"

#include <stdlib.h>

#include "tree/tree-internal.h"
#include "tree/tree.h"

static const uint8_t *line(const uint8_t **p, const uint8_t *end, size_t *ret_len)
{
	const uint8_t *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));

	*ret_len = (size_t)((nl ? nl : end) - s);
	*p = nl ? nl + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *n, *l;
	struct tree *t = tree_new();
	struct diag d = { 0 };
	char *name, *link, *norm = NULL;
	size_t n_len, l_len;
	uint32_t id;
	int r;

	fuzz_begin(data, size);
	n = line(&p, end, &n_len);
	l = line(&p, end, &l_len);
	name = fuzz_strndup(n, n_len);
	link = fuzz_strndup(l, l_len);
	if (tree_path_normalize(link, &norm) == 0)
		free(norm);
	(void)passwd_parse_id(name, &id);
	if (*link) {
		r = tree_add_symlink(t, "/etc/passwd", link, 0, 0, 0, &d);
		if (r == 0)
			r = tree_add_data(t, "/etc/real", p, (size_t)(end - p), 0644, 0, 0, 0, &d);
	} else
		r = tree_add_data(t, "/etc/passwd", p, (size_t)(end - p), 0644, 0, 0, 0, &d);
	if (r == 0)
		(void)passwd_lookup_id(t, "/etc/passwd", name, &id);
	free(name);
	free(link);
	tree_free(t);
	return 0;
}
