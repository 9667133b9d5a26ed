/* Fuzzing the tar reader (src/tree/tar.c, --root-tar) through libarchive from memory: the
 * input is an archive, plain or compressed. What it adds is finalized, dumped, and every
 * regular file's bytes are read back from the spill file, so a node pointing outside what
 * was spilled shows as a failed read. */
#include "fuzz.h"

#include <stdlib.h>

#include "tree/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tree *t = tree_new();
	struct diag d = { 0 };
	uint8_t buf[4096];
	int r;

	fuzz_begin(data, size);
	r = tree_add_tar_memory(t, data, size, "fuzz.tar", "/", NULL, NULL, &d);
	fuzz_check_error(&d, r);
	if (r == 0)
		r = tree_finalize(t, NULL, &d);
	fuzz_check_error(&d, r);
	if (r == 0) {
		free(tree_dump(t));
		for (size_t i = 0; i < t->n_nodes; i++) {
			const struct tree_node *n = t->nodes[i];
			size_t len = n->size < sizeof(buf) ? (size_t)n->size : sizeof(buf);

			if (n->type != TREE_REG || n->hardlink)
				continue;
			if (tree_node_pread(n, buf, len, n->size - len) < 0)
				abort(); /* the spill file is shorter than the nodes say */
		}
	}
	tree_free(t);
	return 0;
}
