/* Name-to-id resolution against the image's own /etc/passwd and /etc/group, so `contents`
 * owners mean what they will mean on the booted system, not on the build host. */
#include "tree/tree-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define PASSWD_MAX_SIZE (64u << 20)
#define PASSWD_MAX_HOPS 8

int tree_path_normalize(const char *path, char **ret)
{
	_cleanup_free_ char *out = NULL;
	size_t len = 0;
	const char *p = path;

	if (!path || path[0] != '/')
		return -EINVAL;
	out = xmalloc(strlen(path) + 2);
	while (*p) {
		const char *s, *e;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		e = strchrnul(s, '/');
		p = e;
		if (e - s == 1 && s[0] == '.')
			continue;
		if (e - s == 2 && s[0] == '.' && s[1] == '.') {
			if (len == 0)
				return -EXDEV;
			while (len > 0 && out[len - 1] != '/')
				len--;
			len--; /* the slash */
			continue;
		}
		out[len++] = '/';
		memcpy(out + len, s, (size_t)(e - s));
		len += (size_t)(e - s);
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

int passwd_parse_id(const char *s, uint32_t *ret)
{
	uint64_t v = 0;
	bool big = false;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > 4294967294u) { /* (uid_t)-1 means "no change" to chown */
			big = true;
			v = 4294967295u; /* stays bounded: no overflow however many digits */
		}
	}
	if (big)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

/* Follow symlinks inside the image (not on the host) to the file node. */
static const struct tree_node *resolve(const struct tree *t, const char *file)
{
	_cleanup_free_ char *path = xstrdup(file);

	for (int hop = 0; hop <= PASSWD_MAX_HOPS; hop++) {
		const struct tree_node *n = tree_lookup(t, path);
		_cleanup_free_ char *dir = NULL, *joined = NULL;
		char *norm = NULL;

		if (!n || n->type != TREE_SYMLINK)
			return n;
		if (n->link_target[0] == '/')
			joined = xstrdup(n->link_target);
		else {
			dir = tree_node_path(n->parent);
			joined = xasprintf("%s/%s", dir, n->link_target);
		}
		if (tree_path_normalize(joined, &norm) < 0)
			return NULL;
		free(path);
		path = norm;
	}
	return NULL;
}

static int lookup_in(const char *buf, size_t len, const char *name, uint32_t *ret)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < len;) {
		const char *line = buf + i, *end = memchr(line, '\n', len - i), *f2, *f3;
		_cleanup_free_ char *id = NULL;

		if (!end)
			end = buf + len;
		i = (size_t)(end - buf) + 1;
		if ((size_t)(end - line) <= nlen || memcmp(line, name, nlen) != 0 ||
		    line[nlen] != ':')
			continue;
		f2 = memchr(line + nlen + 1, ':', (size_t)(end - line) - nlen - 1);
		if (!f2)
			continue;
		f3 = memchr(f2 + 1, ':', (size_t)(end - f2) - 1);
		id = xstrndup(f2 + 1, (size_t)((f3 ? f3 : end) - f2 - 1));
		if (passwd_parse_id(id, ret) == 0)
			return 0;
		return -EBADMSG;
	}
	return -ESRCH;
}

int passwd_lookup_id(const struct tree *t, const char *file, const char *name, uint32_t *ret_id)
{
	const struct tree_node *n = resolve(t, file);
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *host = NULL;
	size_t len;
	int r;

	if (!n || n->type != TREE_REG)
		return -ENOENT;
	if (n->src_data)
		return lookup_in((const char *)n->src_data, n->size, name, ret_id);
	if (n->src_is_fd) {
		if (n->size > PASSWD_MAX_SIZE)
			return -EFBIG;
		buf = xmalloc((size_t)n->size + 1);
		r = tree_node_pread(n, buf, (size_t)n->size, 0);
		if (r < 0)
			return r;
		return lookup_in((const char *)buf, (size_t)n->size, name, ret_id);
	}
	host = tree_node_src_path(n);
	if (!host)
		return lookup_in("", 0, name, ret_id);
	r = read_file(host, PASSWD_MAX_SIZE, &buf, &len);
	if (r < 0)
		return r;
	return lookup_in((const char *)buf, len, name, ret_id);
}

int passwd_lookup_host(const char *path, const char *name, uint32_t *ret_id)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	r = read_file(path, PASSWD_MAX_SIZE, &buf, &len);
	if (r < 0)
		return r;
	return lookup_in((const char *)buf, len, name, ret_id);
}
