/*
 * prepress.c - a print shop's preflight of a poster's CMYK print file
 * (see prepress.h for what is measured where).
 *
 * Why by hand: no Debian package preflights PDF/X (veraPDF covers
 * PDF/A and PDF/UA only; FIELD.md §4), so the file is read with libqpdf
 * and its plates rendered by Ghostscript, and the few rules a press
 * applies are counted here.
 */
#include "prepress.h"

#include <errno.h>
#include <math.h>
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pdftok.h"
#include "render.h"

/* Pages of a file Ghostscript renders at a time (8 MB each, Letter). */
#define PAGES_PER_RASTER 16
/* A pixel is over the limit when its inks exceed it by more than 8-bit
 * rounding can (four inks, half a step of 255 each). */
#define INK_SLACK (4 * 0.5 / 2.55)

static qp_diag_in
where(const qp_item *it)
{
	qp_diag_in in = {0};

	if (it && it->block) {
		in.block = it->block->id;
		in.line = it->block->line;
		in.col = it->block->col;
		in.caption = it->kind == QP_ITEM_TEXT &&
		    it->block->kind == QP_BLOCK_QR;
	}
	return in;
}

static double
item_h(const qp_item *it)
{
	return it->kind == QP_ITEM_QR && it->h <= 0 ? it->w : it->h;
}

static bool
item_holds(const qp_item *it, double x, double y, double tol)
{
	return x >= it->x - tol && x < it->x + it->w + tol &&
	    y >= it->y - tol && y < it->y + item_h(it) + tol;
}

/* The topmost item whose box holds (x, y) (points, top-left; tol: the
 * slack a raster's pixel edges need), or -1. */
static long
item_at(const qp_page *page, double x, double y, double tol)
{
	if (page == NULL)
		return -1;
	for (size_t i = page->nitems; i-- > 0;)
		if (item_holds(&page->items[i], x, y, tol))
			return (long)i;
	return -1;
}

static bool
same_inks(const qp_color *c, const unsigned char p[4])
{
	const double v[4] = {c->c, c->m, c->y, c->k};

	for (int k = 0; k < 4; k++)
		if (fabs(v[k] * 255 - p[k]) > 1.5)
			return false;
	return true;
}

/*
 * The block that painted a pixel of inks p: the topmost whose box holds
 * it, but a text block's box is mostly what lies under its letters, so
 * a text block only when its colour is those inks (a cmyk() colour) or
 * nothing else is there.
 */
static long
painter_at(const qp_page *page, double x, double y, double tol,
    const unsigned char p[4])
{
	long text = -1;

	if (page == NULL)
		return -1;
	for (size_t i = page->nitems; i-- > 0;) {
		const qp_item *it = &page->items[i];

		if (!item_holds(it, x, y, tol))
			continue;
		if (it->kind != QP_ITEM_TEXT)
			return (long)i;
		if (it->color.cmyk && same_inks(&it->color, p))
			return (long)i;
		if (text < 0)
			text = (long)i;
	}
	return text;
}

/* ---- the laid-out page ---------------------------------------------------- */

static void
hairline(const qp_item *it, const char *what, double width,
    qp_diag_list *out)
{
	qp_diag_in in = where(it);

	in.n[0] = width;
	in.n[1] = QP_PRINT_HAIRLINE;
	in.s[0] = what;
	qp_diag_push(out, QP_D_PRINT_HAIRLINE, &in);
}

/* The smallest size of a run with ink in a text item, or INFINITY. */
static double
smallest_run(const qp_item *it)
{
	PangoLayoutIter *iter = pango_layout_get_iter(it->layout);
	double least = INFINITY;

	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(iter);
		PangoFontDescription *fd;
		PangoRectangle ink;
		double size;

		if (run == NULL)
			continue;
		pango_layout_iter_get_run_extents(iter, &ink, NULL);
		if (ink.width <= 0 || ink.height <= 0)
			continue; /* spaces: nothing prints */
		fd = pango_font_describe_with_absolute_size(
		    run->item->analysis.font);
		size = pango_font_description_get_size(fd) / (double)PANGO_SCALE;
		pango_font_description_free(fd);
		if (size < least)
			least = size;
	} while (pango_layout_iter_next_run(iter));
	pango_layout_iter_free(iter);
	return least;
}

void
qp_prepress_layout(const qp_page *page, qp_diag_list *out)
{
	for (size_t i = 0; i < page->nitems; i++) {
		const qp_item *it = &page->items[i];

		if (it->kind == QP_ITEM_RECT) {
			double thin = fmin(it->w, it->h);

			if (it->has_stroke && it->stroke.a > 0 &&
			    it->stroke_width > 0 &&
			    it->stroke_width < QP_PRINT_HAIRLINE - 1e-6)
				hairline(it, "stroke", it->stroke_width, out);
			/* A filled rectangle this thin is a rule. */
			if (it->color.a > 0 && thin > 0 &&
			    thin < QP_PRINT_HAIRLINE - 1e-6)
				hairline(it, "rule", thin, out);
		} else if (it->kind == QP_ITEM_TEXT && it->layout) {
			double least = smallest_run(it);

			if (least < QP_PRINT_MIN_TEXT - 0.01) {
				qp_diag_in in = where(it);
				in.n[0] = least;
				in.n[1] = QP_PRINT_MIN_TEXT;
				qp_diag_push(out, QP_D_PRINT_TEXT_SMALL, &in);
			}
		}
	}
}

/* ---- the file: RGB and pictures ------------------------------------------- */

/*
 * A small reader of PDF content (ISO 32000 7.8.2): operators with their
 * operands, skipping strings, arrays, dictionaries, comments and inline
 * image data. (print.c's rewriter copies content through; this one only
 * reads it, and follows the transformation matrix.)
 */
typedef enum { OP_NUM, OP_NAME, OP_OTHER } op_kind;

typedef struct operand {
	op_kind kind;
	double v;
	char name[64]; /* with its '/' */
} operand;

#define MAX_OPERANDS 8
#define MAX_DEPTH 16
#define MAX_SAVE 64

typedef struct fscan {
	qpdf_data q;
	const qp_page *lp;  /* what the page was drawn from, or NULL */
	qp_diag_list *out;
	int page;           /* 1-based */
	double llx, lly, ph; /* the page's MediaBox origin and height */
	size_t nrgb;
	char first[128];    /* the first RGB use, for the message */
} fscan;

/* Count one use of RGB: what it is ("the image") and its name or NULL. */
static void
rgb_use(fscan *sc, const char *what, const char *name)
{
	if (sc->nrgb++ == 0)
		snprintf(sc->first, sizeof sc->first, "%s%s%s", what,
		    name ? " " : "", name ? name : "");
}

/* Whether a colour space (a name or an array) is, or rests on, RGB. */
static bool
space_is_rgb(qpdf_data q, qpdf_oh cs, int depth)
{
	qpdf_oh head;
	const char *h;

	if (depth > 4)
		return false;
	if (qpdf_oh_is_name(q, cs)) {
		h = qpdf_oh_get_name(q, cs);
		return strcmp(h, "/DeviceRGB") == 0 || strcmp(h, "/RGB") == 0 ||
		    strcmp(h, "/CalRGB") == 0;
	}
	if (!qpdf_oh_is_array(q, cs) || qpdf_oh_get_array_n_items(q, cs) < 1)
		return false;
	head = qpdf_oh_get_array_item(q, cs, 0);
	if (!qpdf_oh_is_name(q, head))
		return false;
	h = qpdf_oh_get_name(q, head);
	if (strcmp(h, "/CalRGB") == 0)
		return true;
	if (strcmp(h, "/ICCBased") == 0) {
		qpdf_oh st = qpdf_oh_get_array_item(q, cs, 1);
		qpdf_oh d = qpdf_oh_is_stream(q, st) ? qpdf_oh_get_dict(q, st) :
		    st;
		qpdf_oh nn = qpdf_oh_get_key(q, d, "/N");
		return qpdf_oh_is_number(q, nn) &&
		    qpdf_oh_get_numeric_value(q, nn) == 3;
	}
	if (strcmp(h, "/Indexed") == 0 || strcmp(h, "/Pattern") == 0)
		return space_is_rgb(q, qpdf_oh_get_array_item(q, cs, 1),
		    depth + 1);
	if (strcmp(h, "/Separation") == 0 || strcmp(h, "/DeviceN") == 0)
		return space_is_rgb(q, qpdf_oh_get_array_item(q, cs, 2),
		    depth + 1);
	return false;
}

/* A named resource of a category, or a null handle. */
static qpdf_oh
resource(fscan *sc, qpdf_oh res, const char *cat, const char *name)
{
	qpdf_oh c = qpdf_oh_get_key(sc->q, res, cat);

	return qpdf_oh_get_key(sc->q, c, name);
}

/* A colour space operand of cs/CS or an inline image's /CS. */
static void
check_space_name(fscan *sc, qpdf_oh res, const char *name, const char *what)
{
	qpdf_oh cs;

	if (strcmp(name, "/DeviceRGB") == 0 || strcmp(name, "/RGB") == 0) {
		rgb_use(sc, what, name + 1);
		return;
	}
	cs = resource(sc, res, "/ColorSpace", name);
	if (space_is_rgb(sc->q, cs, 0))
		rgb_use(sc, what, name + 1);
}

static void
check_group(fscan *sc, qpdf_oh dict, const char *what)
{
	qpdf_oh g = qpdf_oh_get_key(sc->q, dict, "/Group");

	if (qpdf_oh_is_dictionary(sc->q, g) &&
	    space_is_rgb(sc->q, qpdf_oh_get_key(sc->q, g, "/CS"), 0))
		rgb_use(sc, what, NULL);
}

typedef struct matrix {
	double a, b, c, d, e, f;
} matrix;

/* m then t: the matrix cm m makes of the current one t. */
static matrix
concat(matrix m, matrix t)
{
	matrix r;

	r.a = m.a * t.a + m.b * t.c;
	r.b = m.a * t.b + m.b * t.d;
	r.c = m.c * t.a + m.d * t.c;
	r.d = m.c * t.b + m.d * t.d;
	r.e = m.e * t.a + m.f * t.c + t.e;
	r.f = m.e * t.b + m.f * t.d + t.f;
	return r;
}

static double
num_key(qpdf_data q, qpdf_oh d, const char *key, double dflt)
{
	qpdf_oh v = qpdf_oh_get_key(q, d, key);

	return qpdf_oh_is_number(q, v) ? qpdf_oh_get_numeric_value(q, v) : dflt;
}

/* An image XObject placed with ctm: its colour space and resolution. */
static void
check_image(fscan *sc, qpdf_oh d, const char *name, matrix ctm)
{
	qpdf_data q = sc->q;
	qpdf_oh im = qpdf_oh_get_key(q, d, "/ImageMask");
	double pw = num_key(q, d, "/Width", 0), ph = num_key(q, d, "/Height", 0);
	double wi = hypot(ctm.a, ctm.b) / 72, hi = hypot(ctm.c, ctm.d) / 72;
	double ppi;

	if (space_is_rgb(q, qpdf_oh_get_key(q, d, "/ColorSpace"), 0))
		rgb_use(sc, "the image", name + 1);
	/* Image masks and 1-bit images are line art (the QR code): sharp
	 * at any size. */
	if ((qpdf_oh_is_bool(q, im) && qpdf_oh_get_bool_value(q, im)) ||
	    num_key(q, d, "/BitsPerComponent", 8) <= 1 || pw < 1 || ph < 1 ||
	    wi <= 0 || hi <= 0)
		return;
	ppi = fmin(pw / wi, ph / hi);
	if (ppi < QP_PRINT_MIN_PPI - 0.5) {
		/* Its centre on the page, top-left points. */
		double cx = ctm.e + (ctm.a + ctm.c) / 2 - sc->llx;
		double cy = sc->ph - (ctm.f + (ctm.b + ctm.d) / 2 - sc->lly);
		long at = item_at(sc->lp, cx, cy, 0);
		qp_diag_in in = where(at >= 0 ? &sc->lp->items[at] : NULL);

		in.n[0] = floor(ppi);
		in.n[1] = pw;
		in.n[2] = ph;
		in.n[3] = wi;
		in.n[4] = hi;
		in.n[5] = QP_PRINT_MIN_PPI;
		in.n[6] = sc->lp ? 0 : sc->page;
		qp_diag_push(sc->out, QP_D_PRINT_IMAGE_PPI, &in);
	}
}

static void scan_content(fscan *sc, const unsigned char *s, size_t n,
    qpdf_oh res, matrix ctm, int depth);

static void
scan_stream(fscan *sc, qpdf_oh st, qpdf_oh res, matrix ctm, int depth)
{
	unsigned char *data = NULL;
	size_t len = 0;
	QPDF_BOOL filtered = QPDF_FALSE;

	if (depth > MAX_DEPTH)
		return;
	if (!(qpdf_oh_get_stream_data(sc->q, st, qpdf_dl_generalized,
	    &filtered, &data, &len) & QPDF_ERRORS) && filtered)
		scan_content(sc, data, len, res, ctm, depth);
	free(data);
}

static void
do_xobject(fscan *sc, qpdf_oh res, const char *name, matrix ctm, int depth)
{
	qpdf_data q = sc->q;
	qpdf_oh xo = resource(sc, res, "/XObject", name), d, sub, fres;

	if (!qpdf_oh_is_stream(q, xo))
		return;
	d = qpdf_oh_get_dict(q, xo);
	sub = qpdf_oh_get_key(q, d, "/Subtype");
	if (qpdf_oh_is_name_and_equals(q, sub, "/Image")) {
		check_image(sc, d, name, ctm);
		return;
	}
	if (!qpdf_oh_is_name_and_equals(q, sub, "/Form"))
		return;
	{
		qpdf_oh mx = qpdf_oh_get_key(q, d, "/Matrix");
		matrix m = {1, 0, 0, 1, 0, 0};
		double v[6];

		if (qpdf_oh_is_array(q, mx) &&
		    qpdf_oh_get_array_n_items(q, mx) == 6) {
			for (int k = 0; k < 6; k++)
				v[k] = qpdf_oh_get_numeric_value(q,
				    qpdf_oh_get_array_item(q, mx, k));
			m = (matrix){v[0], v[1], v[2], v[3], v[4], v[5]};
		}
		check_group(sc, d, "a form's transparency group");
		fres = qpdf_oh_get_key(q, d, "/Resources");
		scan_stream(sc, xo, qpdf_oh_is_dictionary(q, fres) ? fres : res,
		    concat(m, ctm), depth + 1);
	}
}

/* A shading (sh) or a pattern (scn with a name): its colour space; a
 * tiling pattern's own content. */
static void
do_paint(fscan *sc, qpdf_oh res, const char *cat, const char *name,
    int depth)
{
	qpdf_data q = sc->q;
	qpdf_oh o = resource(sc, res, cat, name);
	qpdf_oh d = qpdf_oh_is_stream(q, o) ? qpdf_oh_get_dict(q, o) : o;
	qpdf_oh sh;

	if (!qpdf_oh_is_dictionary(q, d))
		return;
	if (strcmp(cat, "/Shading") == 0)
		sh = d;
	else if (num_key(q, d, "/PatternType", 0) == 2) {
		sh = qpdf_oh_get_key(q, d, "/Shading");
		if (qpdf_oh_is_stream(q, sh))
			sh = qpdf_oh_get_dict(q, sh);
	} else {
		qpdf_oh pres = qpdf_oh_get_key(q, d, "/Resources");
		matrix none = {0, 0, 0, 0, 0, 0}; /* no pictures measured */
		if (qpdf_oh_is_stream(q, o))
			scan_stream(sc, o, qpdf_oh_is_dictionary(q, pres) ?
			    pres : res, none, depth + 1);
		return;
	}
	if (space_is_rgb(q, qpdf_oh_get_key(q, sh, "/ColorSpace"), 0))
		rgb_use(sc, "the shading", name + 1);
}

/* An inline image from just after BI: its colour space; returns where
 * its data ends (after EI). */
static size_t
inline_image(fscan *sc, const unsigned char *s, size_t n, size_t i,
    qpdf_oh res)
{
	bool want_cs = false;

	while (i < n) {
		size_t e;

		if (qp_pdftok_space(s[i])) {
			i++;
			continue;
		}
		e = qp_pdftok_end(s, n, i);
		if (e - i == 2 && memcmp(s + i, "ID", 2) == 0) {
			size_t k = e + 1;
			while (k + 2 <= n && !(qp_pdftok_space(s[k - 1]) &&
			    s[k] == 'E' && s[k + 1] == 'I' &&
			    (k + 2 == n || qp_pdftok_space(s[k + 2]))))
				k++;
			return k + 2 <= n ? k + 2 : n;
		}
		if (want_cs && s[i] == '/' && e - i < 64) {
			char name[64];
			memcpy(name, s + i, e - i);
			name[e - i] = '\0';
			check_space_name(sc, res, name, "an inline image in");
		}
		want_cs = (e - i == 3 && memcmp(s + i, "/CS", 3) == 0) ||
		    (e - i == 11 && memcmp(s + i, "/ColorSpace", 11) == 0);
		i = e;
	}
	return n;
}

static void
scan_content(fscan *sc, const unsigned char *s, size_t n, qpdf_oh res,
    matrix ctm, int depth)
{
	operand ops[MAX_OPERANDS];
	matrix saved[MAX_SAVE];
	int nops = 0, nsaved = 0;
	size_t i = 0;

	while (i < n) {
		size_t e, len;
		operand *o;
		double v;

		if (qp_pdftok_space(s[i])) {
			i++;
			continue;
		}
		e = qp_pdftok_end(s, n, i);
		len = e - i;
		if (s[i] == '%') {
			i = e;
			continue;
		}
		if (nops == MAX_OPERANDS) {
			memmove(ops, ops + 1, (MAX_OPERANDS - 1) * sizeof *ops);
			nops--;
		}
		o = &ops[nops];
		if (!qp_pdftok_delim(s[i]) && len < 32 &&
		    qp_parse_number((const char *)s + i, len, &v)) {
			o->kind = OP_NUM;
			o->v = v;
			nops++;
		} else if (s[i] == '/') {
			o->kind = OP_NAME;
			snprintf(o->name, sizeof o->name, "%.*s",
			    (int)(len < 63 ? len : 63), (const char *)s + i);
			nops++;
		} else if (qp_pdftok_delim(s[i])) {
			o->kind = OP_OTHER;
			nops++;
		} else {
			/* An operator. */
			const operand *last = nops ? &ops[nops - 1] : NULL;
#define IS(op) (len == sizeof(op) - 1 && memcmp(s + i, op, len) == 0)
			if (IS("q")) {
				if (nsaved < MAX_SAVE)
					saved[nsaved] = ctm;
				nsaved++;
			} else if (IS("Q")) {
				if (nsaved > 0 && --nsaved < MAX_SAVE)
					ctm = saved[nsaved];
			} else if (IS("cm") && nops >= 6) {
				const operand *m = &ops[nops - 6];
				bool ok = true;
				for (int k = 0; k < 6; k++)
					ok = ok && m[k].kind == OP_NUM;
				if (ok)
					ctm = concat((matrix){m[0].v, m[1].v,
					    m[2].v, m[3].v, m[4].v, m[5].v}, ctm);
			} else if (IS("rg") || IS("RG")) {
				rgb_use(sc, "the colour operator",
				    IS("rg") ? "rg" : "RG");
			} else if ((IS("cs") || IS("CS")) && last &&
			    last->kind == OP_NAME) {
				check_space_name(sc, res, last->name,
				    "the colour space");
			} else if (IS("Do") && last && last->kind == OP_NAME) {
				do_xobject(sc, res, last->name, ctm, depth);
			} else if (IS("sh") && last && last->kind == OP_NAME) {
				do_paint(sc, res, "/Shading", last->name, depth);
			} else if ((IS("scn") || IS("SCN")) && last &&
			    last->kind == OP_NAME) {
				do_paint(sc, res, "/Pattern", last->name, depth);
			} else if (IS("BI")) {
				e = inline_image(sc, s, n, e, res);
			}
#undef IS
			nops = 0;
		}
		i = e;
	}
}

static void
scan_page(fscan *sc, qpdf_oh page)
{
	qpdf_data q = sc->q;
	qpdf_oh mb = qpdf_oh_get_key(q, page, "/MediaBox");
	qpdf_oh res = qpdf_oh_get_key(q, page, "/Resources");
	unsigned char *data = NULL;
	size_t len = 0;
	matrix id = {1, 0, 0, 1, 0, 0};

	sc->llx = sc->lly = 0;
	sc->ph = 792;
	if (qpdf_oh_is_array(q, mb) && qpdf_oh_get_array_n_items(q, mb) == 4) {
		double v[4];
		for (int k = 0; k < 4; k++)
			v[k] = qpdf_oh_get_numeric_value(q,
			    qpdf_oh_get_array_item(q, mb, k));
		sc->llx = v[0];
		sc->lly = v[1];
		sc->ph = v[3] - v[1];
	}
	sc->nrgb = 0;
	sc->first[0] = '\0';
	check_group(sc, page, "the page's transparency group");
	if (!(qpdf_oh_get_page_content_data(q, page, &data, &len) &
	    QPDF_ERRORS))
		scan_content(sc, data, len, res, id, 0);
	free(data);
	if (sc->nrgb) {
		qp_diag_in in = {0};
		in.n[0] = sc->lp ? 0 : sc->page;
		in.n[1] = (double)sc->nrgb;
		in.s[0] = sc->first;
		qp_diag_push(sc->out, QP_D_PRINT_RGB, &in);
	}
}

/* ---- the file: the plates ------------------------------------------------- */

/* What over-limit pixels and multi-ink code modules a page has, per item
 * (index nitems: the page, under no block). */
typedef struct ink_acc {
	size_t over;       /* pixels over the limit */
	int most;          /* their largest total, 0..1020 */
	unsigned char at[4];
	size_t dark, mixed; /* a code's dark pixels, those in several inks */
	int most_cmy[3];
} ink_acc;

static bool
read_line(FILE *fp, char *buf, size_t n)
{
	if (fgets(buf, (int)n, fp) == NULL)
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	return true;
}

/* The header of a PAM file of 8-bit CMYK (what pamcmyk32 writes). */
static bool
pam_header(FILE *fp, const char *path, long *w, long *h, qp_error *err)
{
	char line[256];
	long depth = 0, maxval = 0;
	bool cmyk = false;

	*w = *h = 0;
	if (!read_line(fp, line, sizeof line) || strcmp(line, "P7") != 0)
		return qp_fail(err, "'%s' is not Ghostscript's CMYK raster", path);
	while (read_line(fp, line, sizeof line)) {
		if (strcmp(line, "ENDHDR") == 0) {
			if (*w > 0 && *h > 0 && depth == 4 && maxval == 255 &&
			    cmyk)
				return true;
			break;
		}
		if (sscanf(line, "WIDTH %ld", w) == 1 ||
		    sscanf(line, "HEIGHT %ld", h) == 1 ||
		    sscanf(line, "DEPTH %ld", &depth) == 1 ||
		    sscanf(line, "MAXVAL %ld", &maxval) == 1)
			continue;
		if (strcmp(line, "TUPLTYPE CMYK") == 0)
			cmyk = true;
	}
	return qp_fail(err, "'%s' is not an 8-bit CMYK raster", path);
}

/* Whether (x, y) lies on a QR item's modules (not its logo). */
static bool
on_code(const qp_item *it, double x, double y)
{
	if (it->kind != QP_ITEM_QR || x < it->x || y < it->y ||
	    x >= it->x + it->w || y >= it->y + item_h(it))
		return false;
	return !(it->image && x >= it->ix && x < it->ix + it->iw &&
	    y >= it->iy && y < it->iy + it->ih);
}

static void
push_ink(fscan *sc, const qp_item *it, const ink_acc *a, double limit,
    double dpi)
{
	double mm = 25.4 / dpi;
	int page = sc->lp ? 0 : sc->page;

	if (a->over) {
		qp_diag_in in = where(it);
		in.n[0] = a->most / 2.55;
		for (int k = 0; k < 4; k++)
			in.n[1 + k] = a->at[k] / 2.55;
		in.n[5] = limit;
		in.n[6] = (double)a->over * mm * mm;
		in.n[7] = page;
		qp_diag_push(sc->out, QP_D_PRINT_INK_LIMIT, &in);
	}
	/* A few stray pixels at module edges are not a plate: a tenth of
	 * a percent of the dark area. */
	if (it && a->mixed > 0 && a->mixed * 1000 > a->dark) {
		qp_diag_in in = where(it);
		in.n[0] = 100.0 * (double)a->mixed / (double)a->dark;
		for (int k = 0; k < 3; k++)
			in.n[1 + k] = a->most_cmy[k] / 2.55;
		in.n[4] = page;
		qp_diag_push(sc->out, QP_D_PRINT_QR_INKS, &in);
	}
}

/* Look at one page's plates: raster path, rendered at dpi. */
static bool
check_plates(fscan *sc, const char *path, double dpi, double limit,
    qp_error *err)
{
	FILE *fp = fopen(path, "rb");
	long w, h;
	size_t nacc = (sc->lp ? sc->lp->nitems : 0) + 1;
	ink_acc *acc;
	unsigned char *row;
	int over = (int)floor((limit + INK_SLACK) * 2.55);
	bool ok = true;

	if (fp == NULL)
		return qp_fail(err, "cannot read Ghostscript's raster '%s': %s",
		    path, strerror(errno));
	if (!pam_header(fp, path, &w, &h, err)) {
		fclose(fp);
		return false;
	}
	acc = qp_xcalloc(nacc, sizeof *acc);
	row = qp_xmalloc((size_t)w * 4);
	for (long y = 0; y < h && ok; y++) {
		double pt_y = (y + 0.5) * 72 / dpi;

		if (fread(row, 4, (size_t)w, fp) != (size_t)w) {
			ok = qp_fail(err, "Ghostscript's raster '%s' is cut "
			    "short", path);
			break;
		}
		for (long x = 0; x < w; x++) {
			const unsigned char *p = row + 4 * x;
			int sum = p[0] + p[1] + p[2] + p[3];
			double pt_x = (x + 0.5) * 72 / dpi;
			long at;
			ink_acc *a;

			if (sum <= over && (sc->lp == NULL || sum < 128))
				continue;
			at = painter_at(sc->lp, pt_x, pt_y, 72 / dpi, p);
			a = &acc[at >= 0 ? (size_t)at : nacc - 1];
			if (sum > over) {
				a->over++;
				if (sum > a->most) {
					a->most = sum;
					memcpy(a->at, p, 4);
				}
			}
			/* A dark module of a code: how many inks. */
			if (at >= 0 && sum >= 128 &&
			    on_code(&sc->lp->items[at], pt_x, pt_y)) {
				int inks = (p[0] > 0) + (p[1] > 0) + (p[2] > 0) +
				    (p[3] > 0);
				a->dark++;
				if (inks > 1) {
					a->mixed++;
					for (int k = 0; k < 3; k++)
						if (p[k] > a->most_cmy[k])
							a->most_cmy[k] = p[k];
				}
			}
		}
	}
	free(row);
	fclose(fp);
	for (size_t i = 0; ok && i < nacc; i++)
		push_ink(sc, i + 1 < nacc ? &sc->lp->items[i] : NULL, &acc[i],
		    limit, dpi);
	free(acc);
	return ok;
}

/* -sOutputFile=DIR/p%d.pam with the directory's own '%' doubled. */
static char *
raster_arg(const char *dir)
{
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, "-sOutputFile=");
	for (const char *p = dir; *p; p++)
		qp_buf_adds(&b, *p == '%' ? "%%" : (char[]){*p, 0});
	qp_buf_adds(&b, "/p%d.pam");
	return qp_buf_steal(&b);
}

/* Render pages [first, last] of pdf into dir and look at each. */
static bool
plates(fscan *sc, const char *pdf, const char *dir, int first, int last,
    double dpi, double limit, qpdf_data q, qp_error *err)
{
	char a_res[32], a_first[32], a_last[32];
	char *a_out = raster_arg(dir);
	char *a_in = qp_xasprintf("%s%s", pdf[0] == '-' ? "./" : "", pdf);
	char *argv[] = {"gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE",
	    "-sDEVICE=pamcmyk32", a_res, a_first, a_last, a_out, a_in, NULL};
	qp_buf log;
	bool ok;

	snprintf(a_res, sizeof a_res, "-r%d", (int)dpi);
	snprintf(a_first, sizeof a_first, "-dFirstPage=%d", first);
	snprintf(a_last, sizeof a_last, "-dLastPage=%d", last);
	qp_buf_init(&log);
	ok = qp_print_run_gs(argv, &log, err);
	qp_buf_free(&log);
	free(a_out);
	free(a_in);
	for (int p = first; p <= last; p++) {
		char *path = qp_xasprintf("%s/p%d.pam", dir, p - first + 1);

		if (ok) {
			sc->page = p;
			scan_page(sc, qpdf_get_page_n(q, (size_t)(p - 1)));
			ok = check_plates(sc, path, dpi, limit, err);
			qpdf_oh_release_all(q);
		}
		unlink(path);
		free(path);
	}
	return ok;
}

/* A private directory for the files of one check. */
static char *
private_dir(qp_error *err)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = qp_xasprintf("%s/qrposter-print-XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");

	if (mkdtemp(dir) == NULL) {
		qp_fail(err, "cannot make a temporary directory in %s: %s",
		    tmp && *tmp ? tmp : "/tmp", strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

bool
qp_prepress_file(const char *pdf, const qp_page *page,
    const qp_prepress_opts *o, qp_diag_list *out, qp_error *err)
{
	fscan sc = {.lp = page, .out = out};
	double limit = o && o->ink_limit > 0 ? o->ink_limit :
	    QP_PRINT_INK_LIMIT;
	double dpi = o && o->dpi > 0 ? o->dpi : QP_PRINT_DPI;
	char *dir = NULL;
	bool ok = false;
	int n;

	sc.q = qpdf_init();
	qpdf_silence_errors(sc.q);
	qpdf_set_suppress_warnings(sc.q, QPDF_TRUE);
	if (qpdf_read(sc.q, pdf, NULL) & QPDF_ERRORS) {
		const char *why = qpdf_has_error(sc.q) ?
		    qpdf_get_error_full_text(sc.q, qpdf_get_error(sc.q)) : NULL;
		qp_fail(err, "cannot read '%s' as PDF: %s", pdf, why ? why :
		    "unknown error");
		goto done;
	}
	if ((n = qpdf_get_num_pages(sc.q)) < 1) {
		qp_fail(err, "no pages in '%s'", pdf);
		goto done;
	}
	if (page && n != 1) {
		qp_fail(err, "'%s' has %d pages, not the one poster", pdf, n);
		goto done;
	}
	/* A large page at a lower resolution: the plates stay within
	 * QP_PRINT_MAX_PIXELS (the largest page of the file decides). */
	for (int i = 0; i < n; i++) {
		qpdf_oh mb = qpdf_oh_get_key(sc.q, qpdf_get_page_n(sc.q,
		    (size_t)i), "/MediaBox");
		if (qpdf_oh_is_array(sc.q, mb) &&
		    qpdf_oh_get_array_n_items(sc.q, mb) == 4) {
			double v[4], area;
			for (int k = 0; k < 4; k++)
				v[k] = qpdf_oh_get_numeric_value(sc.q,
				    qpdf_oh_get_array_item(sc.q, mb, k));
			area = fabs(v[2] - v[0]) * fabs(v[3] - v[1]) / 5184;
			if (area > 0 && area * dpi * dpi > QP_PRINT_MAX_PIXELS)
				dpi = floor(sqrt(QP_PRINT_MAX_PIXELS / area));
		}
	}
	qpdf_oh_release_all(sc.q);
	if (dpi < 10)
		dpi = 10;
	if ((dir = private_dir(err)) == NULL)
		goto done;
	ok = true;
	for (int first = 1; ok && first <= n; first += PAGES_PER_RASTER) {
		int last = first + PAGES_PER_RASTER - 1;
		ok = plates(&sc, pdf, dir, first, last < n ? last : n, dpi,
		    limit, sc.q, err);
	}
	rmdir(dir);
done:
	free(dir);
	qpdf_cleanup(&sc.q);
	return ok;
}

bool
qp_prepress_page(const qp_page *page, const qp_prepress_opts *o,
    qp_diag_list *out, qp_error *err)
{
	qp_render_opts ro = QP_RENDER_OPTS_DEFAULT;
	char *dir, *pdf;
	bool ok;

	qp_prepress_layout(page, out);
	if ((dir = private_dir(err)) == NULL)
		return false;
	pdf = qp_xasprintf("%s/poster.pdf", dir);
	ro.print = o->print;
	ok = qp_render_file(page, pdf, QP_FMT_PDF, &ro, err) &&
	    qp_prepress_file(pdf, page, o, out, err);
	unlink(pdf);
	rmdir(dir);
	free(pdf);
	free(dir);
	return ok;
}
