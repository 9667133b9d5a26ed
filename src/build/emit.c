/* build_emit(): the planned image through its sink, then efi-vars.fd. Output is written under
 * temporary names; the image is committed first, the variable store right after it. */
#include "build/build-internal.h"

#include <errno.h>
#include <string.h>

#include "image/emit.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/progress.h"

/* efi-vars.fd under its temporary name: committed right after the image. */
static int build_efi_vars_write(const char *path, const struct efivars *v, struct diag *d,
				struct outfile **ret)
{
	struct outfile *o = NULL;
	int r;

	*ret = NULL;
	if (!v)
		return 0;
	r = outfile_open(path, d, &o);
	if (r < 0)
		return r;
	r = pwrite_full(o->fd, v->buf, v->len, 0);
	if (r < 0) {
		outfile_abort(o);
		return diag_fail(d, r, "%s: cannot write: %s", path, strerror(-r));
	}
	*ret = o;
	return 0;
}

static int build_emit_image(struct build_plan *p, const struct build_progress *progress,
			    struct diag *d, struct build_result *ret)
{
	struct build_plan_state *st = p->state;
	struct image_emit_progress ep = { progress ? progress->update : NULL,
					  progress ? progress->ctx : NULL };
	struct outfile *out = NULL, *vars_out = NULL;
	struct sink *sink = NULL;
	int r;

	r = p->output_device ? outfile_open_device(p->output, p->layout.disk_bytes, d, &out)
			     : outfile_open(p->output, d, &out);
	if (r < 0)
		return r;
	r = sink_open(st->fmt, &st->fp, out, d, &sink);
	if (r < 0) {
		outfile_abort(out);
		return r;
	}
	r = image_emit(st->ip, sink, ep.update ? &ep : NULL, d);
	if (r < 0) {
		sink_abort(sink);
		return r;
	}
	r = build_efi_vars_write(p->efi_vars_out, st->vars, d, &vars_out);
	if (r < 0) {
		sink_abort(sink);
		return r;
	}
	r = sink_finish(sink, d);
	if (r < 0) {
		outfile_abort(vars_out);
		return r;
	}
	ret->committed = true;
	if (vars_out)
		return outfile_commit(vars_out, d);
	return 0;
}

int build_emit(struct build_plan *p, const struct build_progress *progress, struct diag *d,
	       struct build_result *ret)
{
	double t0 = progress_now();
	int r;

	*ret = (struct build_result){ 0 };
	if (p->state->emitted)
		return diag_fail(d, -EALREADY, "%s: the plan has been emitted already", p->output);
	p->state->emitted = true;
	r = build_emit_image(p, progress, d, ret);
	ret->emit_seconds = progress_now() - t0;
	ret->total_seconds = progress_now() - p->start;
	return r;
}
