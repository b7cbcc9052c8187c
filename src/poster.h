/*
 * poster.h - the one way to make a poster: bind its values, lay it out,
 * run every check, and return the page with its findings.
 *
 * render, check, batch (per-row files, combined and imposed) and every
 * web endpoint (preview, download, print run) make their pages here, so
 * they keep the same promises: a poster with an error finding is never
 * drawn; warnings come with the page. What a command does with the
 * findings (print them, list them in a manifest, show them beside a
 * form field) is up to it.
 *
 *   defaults + CSV row + -s/form  --bind.h-->  values
 *   values  --layout.h-->  page  --check.h-->  findings (diag.h)
 */
#ifndef QP_POSTER_H
#define QP_POSTER_H

#include "bind.h"
#include "check.h"
#include "layout.h"

/*
 * Make one poster: bind b's values with rec (NULL: no CSV row) into v
 * (qp_values_init()ed for b's template), lay the page out and check it
 * (o may be NULL: no bleed, no laws), against each of o's posting laws
 * too (law.h) when every block could be laid out. Every finding goes to out; a finding about
 * a block names the variables that block uses. Returns the page when no
 * error was found (the caller frees it), else NULL. v keeps the bound
 * values either way.
 */
qp_page *qp_poster_make(qp_layout_ctx *ctx, const qp_binding *b,
    const qp_record *rec, const qp_check_opts *o, qp_values *v,
    qp_diag_list *out);

/*
 * The second half, for values already bound (a batch binds a row first,
 * to name its file and see whether a previous run made it): lay out and
 * check. Returns the page when no error was found, else NULL.
 */
qp_page *qp_poster_page(qp_layout_ctx *ctx, const qp_template *t,
    const qp_values *v, const qp_check_opts *o, qp_diag_list *out);

/*
 * Lay out once more a page that qp_poster_page has already made from the
 * same values and checked, with no error, in another process: a combined
 * run's workers lay out and check every row, and the one process that
 * draws lays it out again from what they found (qp_layout_ctx_known,
 * batch_combined.c). Layout is deterministic, so the checks would find
 * what they found, and they have reported it; running them again was
 * the drawing process's third largest cost. NULL (out says why) only if
 * the layout fails.
 */
qp_page *qp_poster_relayout(qp_layout_ctx *ctx, const qp_template *t,
    const qp_values *v, qp_diag_list *out);

#endif
