/*
 * template_page.c - paper sizes (presets and WxHunit) and the `page:` map.
 */
#include "template_int.h"


static const struct preset {
	const char *name;
	double w, h; /* points */
} presets[] = {
	{"letter", 8.5 * 72, 11 * 72},
	{"legal", 8.5 * 72, 14 * 72},
	{"tabloid", 11 * 72, 17 * 72},
	{"11x17", 11 * 72, 17 * 72},
	{"ledger", 17 * 72, 11 * 72},
	{"car-card", 28 * 72, 11 * 72},
	{"22x28", 22 * 72, 28 * 72},
	{"24x36", 24 * 72, 36 * 72},
	{"one-sheet", 46 * 72, 60 * 72},
	{"a0", 841 * QP_PT_PER_MM, 1189 * QP_PT_PER_MM},
	{"a1", 594 * QP_PT_PER_MM, 841 * QP_PT_PER_MM},
	{"a2", 420 * QP_PT_PER_MM, 594 * QP_PT_PER_MM},
	{"a3", 297 * QP_PT_PER_MM, 420 * QP_PT_PER_MM},
	{"a4", 210 * QP_PT_PER_MM, 297 * QP_PT_PER_MM},
	{"a5", 148 * QP_PT_PER_MM, 210 * QP_PT_PER_MM},
	{"a6", 105 * QP_PT_PER_MM, 148 * QP_PT_PER_MM},
};

bool
qp_page_size_parse(const char *s, double *w, double *h, qp_error *err)
{
	const char *names[NKEYS(presets)];
	const char *x;
	size_t i;

	for (i = 0; i < NKEYS(presets); i++) {
		names[i] = presets[i].name;
		if (strcasecmp(s, presets[i].name) == 0) {
			*w = presets[i].w;
			*h = presets[i].h;
			return true;
		}
	}
	/* "WxHunit", e.g. 11x17in or 300x200mm: one unit for both. */
	x = strchr(s, 'x');
	if (x && x > s) {
		const char *u = x + 1;
		double a, b;
		qp_error e;
		char *first;
		bool ok;

		while (*u && ((*u >= '0' && *u <= '9') || *u == '.'))
			u++;
		first = qp_xasprintf("%.*s%s", (int)(x - s), s, u);
		ok = *u && qp_parse_points(first, &a, &e) &&
		    qp_parse_points(x + 1, &b, &e);
		free(first);
		if (ok && a > 0 && b > 0) {
			*w = a;
			*h = b;
			return true;
		}
	}
	{
		const char *near = qp_nearest(s, names, NKEYS(presets));
		if (near)
			return qp_fail(err, "unknown page size '%s' (did you "
			    "mean '%s'?)", s, near);
	}
	return qp_fail(err, "unknown page size '%s' (use letter, legal, "
	    "tabloid, car-card, 22x28, 24x36, one-sheet, a0-a6, or WxH with "
	    "a unit, e.g. 300x200mm)", s);
}

#define MAX_PAGE_PT (200 * 72.0) /* 200 in: larger than any poster frame */

bool
tp_parse_page(parser *p, yaml_node_t *n)
{
	static const char *const keys[] = {"size", "orientation", "width",
	    "height", "margin", "background"};
	static const char *const orients[] = {"portrait", "landscape"};
	qp_template *t = p->t;
	const char *size;
	yaml_node_t *sv;
	int orient = -1;
	bool has_w = false, has_h = false;
	qp_error e;

	if (!tp_check_map(p, n, "page", keys, NKEYS(keys)))
		return false;
	if (!tp_get_str(p, n, "size", "page", &size, &sv, false))
		return false;
	if (size && !qp_page_size_parse(size, &t->page_w, &t->page_h, &e))
		return tp_perr(p, sv, 0, "size: %s", e.msg);
	if (!tp_get_len(p, n, "width", "page", false, 0, &t->page_w, &has_w) ||
	    !tp_get_len(p, n, "height", "page", false, 0, &t->page_h, &has_h))
		return false;
	if (size && (has_w || has_h))
		return tp_perr(p, n, 0, "page has both 'size' and "
		    "'width'/'height'; give one or the other");
	if (!size && !(has_w && has_h))
		return tp_perr(p, n, 0, "page needs 'size' (e.g. letter) or both "
		    "'width' and 'height'");
	if (t->page_w <= 0 || t->page_h <= 0 || t->page_w > MAX_PAGE_PT ||
	    t->page_h > MAX_PAGE_PT)
		return tp_perr(p, n, 0, "page size must be between 0 and 200in "
		    "on each side");
	if (!tp_get_enum(p, n, "orientation", orients, 2, &orient))
		return false;
	if ((orient == 0 && t->page_w > t->page_h) ||
	    (orient == 1 && t->page_w < t->page_h)) {
		double tmp = t->page_w;
		t->page_w = t->page_h;
		t->page_h = tmp;
	}
	if (!tp_get_len(p, n, "margin", "page", false, 0, &t->margin, NULL))
		return false;
	if (t->margin < 0 || 2 * t->margin >= t->page_w ||
	    2 * t->margin >= t->page_h)
		return tp_perr(p, tp_get(p, n, "margin"), 0, "margin must leave "
		    "room on the page");
	return tp_get_color(p, n, "background", &t->background);
}
