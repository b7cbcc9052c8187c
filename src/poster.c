/*
 * poster.c - bind, lay out, check: one poster and its findings.
 */
#include "poster.h"
#include "law.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* True if value holds the character cp. */
static bool
has_char(const char *value, unsigned long cp)
{
	char u[8];
	int n;

	if (value == NULL || cp == 0 || cp > 0x10FFFF)
		return false;
	n = g_unichar_to_utf8((gunichar)cp, u);
	u[n] = '\0';
	return strstr(value, u) != NULL;
}

/*
 * The variables each block finding from index from on concerns: those
 * its block uses (its caption's, for a caption finding) whose values
 * made the text at fault. A character no font has (glyph-missing) came
 * from the values that hold it, or, when none does, from the template's
 * own text: the finding then names no variable, so the editor does not
 * put it beside a field that is fine. A text about the national
 * hotline's words names none either: they are the template's.
 */
static void
name_variables(const qp_template *t, const char *const *values,
    qp_diag_list *out, size_t from)
{
	bool *used = qp_xcalloc(t->nvars + 1, sizeof *used);

	for (size_t i = from; i < out->n; i++) {
		qp_diag *d = &out->v[i];

		if (d->block == NULL || d->nvars > 0 ||
		    d->code == QP_D_NATIONAL_WORDING)
			continue;
		for (size_t k = 0; k < t->nblocks; k++) {
			if (strcmp(t->blocks[k].id, d->block) != 0)
				continue;
			memset(used, 0, t->nvars * sizeof *used);
			qp_block_uses(t, &t->blocks[k], d->caption, used);
			for (size_t j = 0; j < t->nvars; j++) {
				if (!used[j])
					continue;
				if (d->code == QP_D_GLYPH_MISSING && !has_char(
				    values[j], (unsigned long)d->n[0]))
					continue;
				qp_diag_add_var(d, t->var_names[j]);
			}
			break;
		}
	}
	free(used);
}

qp_page *
qp_poster_page(qp_layout_ctx *ctx, const qp_template *t, const qp_values *v,
    const qp_check_opts *o, qp_diag_list *out)
{
	size_t from = out->n, nerr = out->nerrors;
	qp_page *page;

	page = qp_layout_page_diag(ctx, t, v->v, out);
	/* The blocks that could be laid out are checked too: one bad
	 * block does not hide the others' problems. */
	if (page) {
		/* A law looks at the whole poster: a block that could not be
		 * laid out would make it miss text that is there. */
		bool whole = out->nerrors == nerr;

		qp_check_page(t, page, o, out);
		qp_check_wording(t, page, v->v, v->given, out);
		for (size_t i = 0; whole && o && i < o->nlaws; i++)
			qp_law_check(o->laws[i], page, out, NULL);
	}
	name_variables(t, v->v, out, from);
	if (out->nerrors > nerr) {
		qp_page_free(page);
		return NULL;
	}
	return page;
}

qp_page *
qp_poster_relayout(qp_layout_ctx *ctx, const qp_template *t,
    const qp_values *v, qp_diag_list *out)
{
	size_t from = out->n, nerr = out->nerrors;
	qp_page *page = qp_layout_page_diag(ctx, t, v->v, out);

	name_variables(t, v->v, out, from);
	if (out->nerrors > nerr) {
		qp_page_free(page);
		return NULL;
	}
	return page;
}

qp_page *
qp_poster_make(qp_layout_ctx *ctx, const qp_binding *b,
    const qp_record *rec, const qp_check_opts *o, qp_values *v,
    qp_diag_list *out)
{
	if (!qp_binding_bind(b, rec, v, out))
		return NULL;
	return qp_poster_page(ctx, qp_binding_template(b), v, o, out);
}
