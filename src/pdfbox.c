/*
 * pdfbox.c - TrimBox, BleedBox and link annotations through libqpdf's C
 * API (see pdfbox.h for why links are not Cairo's).
 */
#include "pdfbox.h"

#include <qpdf/qpdf-c.h>
#include <stdlib.h>
#include <string.h>

void
qp_pdf_links_free(qp_pdf_link *links, size_t n)
{
	for (size_t i = 0; links && i < n; i++)
		free(links[i].uri);
	free(links);
}

/* The message of qpdf's pending error, into err. */
static bool
qpdf_fail(qpdf_data q, const char *what, const char *path, qp_error *err)
{
	const char *msg = "unknown error";

	if (qpdf_has_error(q)) {
		qpdf_error e = qpdf_get_error(q);
		const char *d = qpdf_get_error_full_text(q, e);
		if (d)
			msg = d;
	}
	return qp_fail(err, "%s '%s': %s", what, path, msg);
}

static qpdf_oh
box(qpdf_data q, const double v[4])
{
	qpdf_oh a = qpdf_oh_new_array(q);

	for (int i = 0; i < 4; i++)
		qpdf_oh_append_item(q, a, qpdf_oh_new_real_from_double(q, v[i],
		    3));
	return a;
}

/* Add a /Link annotation with a /URI action to page, in PDF user space
 * (y up from the MediaBox's bottom edge). */
static void
add_link(qpdf_data q, qpdf_oh page, const double m[4], const qp_pdf_link *l)
{
	double r[4] = {m[0] + l->x0, m[3] - l->y1, m[0] + l->x1,
	    m[3] - l->y0};
	qpdf_oh annots = qpdf_oh_get_key(q, page, "/Annots");
	qpdf_oh a = qpdf_oh_new_dictionary(q);
	qpdf_oh act = qpdf_oh_new_dictionary(q);
	qpdf_oh border = qpdf_oh_new_array(q);

	qpdf_oh_replace_key(q, act, "/Type", qpdf_oh_new_name(q, "/Action"));
	qpdf_oh_replace_key(q, act, "/S", qpdf_oh_new_name(q, "/URI"));
	/* qpdf writes the string with (, ) and \ escaped as PDF needs. */
	qpdf_oh_replace_key(q, act, "/URI", qpdf_oh_new_string(q, l->uri));
	for (int i = 0; i < 3; i++)
		qpdf_oh_append_item(q, border, qpdf_oh_new_integer(q, 0));
	qpdf_oh_replace_key(q, a, "/Type", qpdf_oh_new_name(q, "/Annot"));
	qpdf_oh_replace_key(q, a, "/Subtype", qpdf_oh_new_name(q, "/Link"));
	qpdf_oh_replace_key(q, a, "/Rect", box(q, r));
	qpdf_oh_replace_key(q, a, "/Border", border);
	qpdf_oh_replace_key(q, a, "/A", act);
	if (!qpdf_oh_is_array(q, annots)) {
		annots = qpdf_oh_new_array(q);
		qpdf_oh_replace_key(q, page, "/Annots", annots);
	}
	qpdf_oh_append_item(q, annots, qpdf_make_indirect_object(q, a));
}

bool
qp_pdfbox_write(const char *in_path, const char *out_path,
    const qp_pdf_finish *f, qp_error *err)
{
	qpdf_data q = qpdf_init();
	bool ok = false;
	size_t li = 0;
	int n;

	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if (qpdf_read(q, in_path, NULL) & QPDF_ERRORS) {
		qpdf_fail(q, "cannot read", in_path, err);
		goto done;
	}
	n = qpdf_get_num_pages(q);
	if (n < 0) {
		qpdf_fail(q, "cannot list the pages of", in_path, err);
		goto done;
	}
	for (int i = 0; i < n; i++) {
		qpdf_oh page = qpdf_get_page_n(q, (size_t)i);
		qpdf_oh mb = qpdf_oh_get_key(q, page, "/MediaBox");
		double m[4], trim[4], bleed[4];

		if (!qpdf_oh_is_array(q, mb) ||
		    qpdf_oh_get_array_n_items(q, mb) != 4) {
			qp_fail(err, "'%s': page %d has no MediaBox", in_path,
			    i + 1);
			goto done;
		}
		for (int k = 0; k < 4; k++)
			m[k] = qpdf_oh_get_numeric_value(q,
			    qpdf_oh_get_array_item(q, mb, k));
		for (; li < f->nlinks && f->links[li].page == (size_t)i; li++)
			add_link(q, page, m, &f->links[li]);
		if (!f->boxes) {
			qpdf_oh_release_all(q);
			continue;
		}
		if (m[2] - m[0] <= 2 * f->trim_inset ||
		    m[3] - m[1] <= 2 * f->trim_inset) {
			qp_fail(err, "'%s': page %d is too small for a trim "
			    "inset of %.2fpt", in_path, i + 1, f->trim_inset);
			goto done;
		}
		trim[0] = m[0] + f->trim_inset;
		trim[1] = m[1] + f->trim_inset;
		trim[2] = m[2] - f->trim_inset;
		trim[3] = m[3] - f->trim_inset;
		bleed[0] = m[0] + f->bleed_inset;
		bleed[1] = m[1] + f->bleed_inset;
		bleed[2] = m[2] - f->bleed_inset;
		bleed[3] = m[3] - f->bleed_inset;
		qpdf_oh_replace_key(q, page, "/TrimBox", box(q, trim));
		qpdf_oh_replace_key(q, page, "/BleedBox", box(q, bleed));
		qpdf_oh_release_all(q);
	}
	if (li != f->nlinks) {
		qp_fail(err, "'%s': a link for page %zu of %d", in_path,
		    f->links[li].page + 1, n);
		goto done;
	}
	if (qpdf_init_write(q, out_path) & QPDF_ERRORS) {
		qpdf_fail(q, "cannot write", out_path, err);
		goto done;
	}
	/* Keep Cairo's streams as they are (already compressed); a content
	 * hash for the /ID, so the output is reproducible. */
	qpdf_set_stream_data_mode(q, qpdf_s_preserve);
	qpdf_set_object_stream_mode(q, qpdf_o_preserve);
	qpdf_set_deterministic_ID(q, QPDF_TRUE);
	if (qpdf_write(q) & QPDF_ERRORS) {
		qpdf_fail(q, "cannot write", out_path, err);
		goto done;
	}
	ok = true;
done:
	qpdf_cleanup(&q);
	return ok;
}
