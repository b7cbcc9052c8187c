/*
 * pdfjoin.c - the joiner's writer: the joined file, object by object,
 * plain or in object streams, with the pages finished (links and print
 * boxes) for a combined run; the reader is pdfjoin_read.c.
 */
#include "pdfjoin_int.h"

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <libdeflate.h>
#include <zlib.h>

/* ---- writing ---------------------------------------------------------- */

/* The integer value of /Length: direct, or an object of its own. */
static bool
stream_length(qp_pdfjoin *j, input *in, const value *v, long long *len,
    qp_error *err)
{
	value got = {0};
	bool found;

	if (v->type != T_INT)
		return qp_fail(err, "'%s': a stream has no /Length", in->path);
	if (!v->ref) {
		*len = v->num;
	} else {
		/* A second handle, as in->f is in the middle of the stream. */
		if (in->x == NULL && (in->x = fopen(in->path, "rb")) == NULL)
			return qp_fail(err, "cannot read '%s': %s", in->path,
			    strerror(errno));
		if (!pj_read_object(j, in, in->x, v->num, NULL, &got, &found,
		    NULL, err))
			return false;
		if (!found || got.type != T_INT || got.ref)
			return qp_fail(err, "'%s': a stream's /Length (object "
			    "%lld) is not a number", in->path, v->num);
		*len = got.num;
	}
	if (*len < 0)
		return qp_fail(err, "'%s': a stream's /Length is negative",
		    in->path);
	return true;
}

static bool
copy_stream_data(qp_pdfjoin *j, lexer *l, long long len, qp_error *err)
{
	char buf[65536];
	int c = pj_lx_getc(l);

	/* "stream" is followed by CR LF or LF, then the data. */
	if (c == '\r')
		c = pj_lx_getc(l);
	if (c != '\n')
		return pj_lx_fail(l, err, "'stream' is not followed by a line "
		    "end");
	pj_out_str(j, "\nstream\n");
	while (len > 0) {
		size_t want = len < (long long)sizeof buf ? (size_t)len :
		    sizeof buf;
		size_t got = fread(buf, 1, want, l->f);
		if (got == 0)
			return pj_lx_fail(l, err, "the file ends inside a "
			    "stream");
		pj_out_bytes(j, buf, got);
		l->pos += (long long)got;
		len -= (long long)got;
	}
	pj_out_str(j, "\nendstream");
	return true;
}

/* One entry of the output's cross-reference: 0 free, 1 at an offset,
 * 2 the index-th object of object stream f2. */
typedef struct xentry {
	int type;
	long long f2;
	long long index;
} xentry;

/* Compact output: add the object just copied (in j->obj) to the object
 * stream being filled, writing that out when it is full. */
static bool flush_objstm(qp_pdfjoin *j, qp_error *err);

static bool
pack_object(qp_pdfjoin *j, long long num, xentry *e, qp_error *err)
{
	if (j->stm_n == 0)
		j->stm_num = j->next_stm++;
	qp_buf_printf(&j->stm_head, "%lld %zu ", num, j->stm_body.len);
	qp_buf_add(&j->stm_body, j->obj.data, j->obj.len);
	qp_buf_addc(&j->stm_body, '\n');
	e->type = 2;
	e->f2 = j->stm_num;
	e->index = (long long)j->stm_n++;
	if (j->stm_n == OBJSTM_OBJECTS || j->stm_body.len > OBJSTM_BYTES)
		return flush_objstm(j, err);
	return true;
}

/* ---- finishing pages: links and print boxes (qp_pdfjoin_finish) -------- */

/* What finishing one input's pages needs while it is copied. */
typedef struct page_fin {
	const qp_pdf_finish *f;  /* NULL: nothing to add */
	long long *page_of;      /* object number -> page index, or -1 */
	size_t *first;           /* page p's links: first[p] .. first[p + 1] */
	double *rect;            /* each link's /Rect, once its page is seen */
	size_t seen;             /* links whose page has been copied */
	long long ann;           /* the output number of link 0's annotation */
} page_fin;

static void
page_fin_free(page_fin *pf)
{
	free(pf->page_of);
	free(pf->first);
	free(pf->rect);
	memset(pf, 0, sizeof *pf);
}

/*
 * Input i's finish from the caller, and where its pages are: the page
 * index of each page object, from the page tree's /Kids (the pages are
 * copied in object order, which need not be page order).
 */
static bool
page_fin_start(qp_pdfjoin *j, input *in, size_t i, page_fin *pf,
    qp_error *err)
{
	const qp_pdf_finish *f;
	lexer l;
	tok t = {0};
	bool ok = false;
	size_t k = 0;

	page_fin_free(pf);
	if (j->fin_fn == NULL)
		return true;
	if (!j->fin_fn(j->fin_arg, i, &f, err))
		return false;
	if (f->nlinks != (size_t)in->nann)
		return qp_fail(err, "'%s': %zu links, where %lld were "
		    "announced", in->path, f->nlinks, in->nann);
	for (k = 0; k < f->nlinks; k++)
		if (f->links[k].page >= (size_t)in->npages ||
		    (k > 0 && f->links[k].page < f->links[k - 1].page))
			return qp_fail(err, "'%s': a link for page %zu of %lld, "
			    "or out of page order", in->path,
			    f->links[k].page + 1, in->npages);
	pf->f = f;
	pf->ann = in->base + in->size;
	pf->page_of = qp_xmalloc((size_t)in->size * sizeof *pf->page_of);
	for (long long n = 0; n < in->size; n++)
		pf->page_of[n] = -1;
	pf->first = qp_xcalloc((size_t)in->npages + 1, sizeof *pf->first);
	k = 0;
	for (long long p = 0; p <= in->npages; p++) {
		while (k < f->nlinks && f->links[k].page < (size_t)p)
			k++;
		pf->first[p] = k;
	}
	pf->rect = qp_xcalloc(4 * f->nlinks + 1, sizeof *pf->rect);
	pj_lx_init(&l, pj_kids_file(in, err), in->path);
	qp_buf_init(&t.text);
	if (l.f == NULL || !pj_lx_seek(&l, in->kids) ||
	    !pj_lx_next(&l, &t, err))
		goto done;
	for (long long p = 0; p < in->npages; p++) {
		if (!pj_lx_next(&l, &t, err) || t.type != T_INT) {
			qp_fail(err, "'%s' changed while it was read",
			    in->path);
			goto done;
		}
		if (t.ival > 0 && t.ival < in->size)
			pf->page_of[t.ival] = p;
		if (!pj_lx_next(&l, &t, err) || !pj_lx_next(&l, &t, err))
			goto done;
	}
	ok = true;
done:
	qp_buf_free(&t.text);
	pj_lx_free(&l);
	return ok;
}

/* A number as libqpdf writes a real of 3 decimals (pdfbox.c): rounded,
 * trailing zeros dropped. The C locale's '.': nothing calls setlocale. */
static void
fmt_num(char *buf, size_t n, double v)
{
	char *dot;

	snprintf(buf, n, "%.3f", v);
	if ((dot = strchr(buf, '.')) != NULL) {
		char *e = dot + strlen(dot) - 1;
		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	if (strcmp(buf, "-0") == 0)
		snprintf(buf, n, "0");
}

static void
add_box(qp_buf *b, const char *key, const double v[4])
{
	char num[64];

	qp_buf_printf(b, " %s [", key);
	for (int i = 0; i < 4; i++) {
		fmt_num(num, sizeof num, v[i]);
		qp_buf_printf(b, " %s", num);
	}
	qp_buf_adds(b, " ]");
}

/*
 * Page object n, just read into j->obj ("<< ... >>"; got: its /MediaBox,
 * /Annots, /TrimBox, /BleedBox): its /Annots and print boxes added
 * before the closing ">>", and its links' rectangles noted for
 * write_annots. The arithmetic is qp_pdfbox_write's.
 */
static bool
finish_page(qp_pdfjoin *j, input *in, long long n, page_fin *pf,
    const value *got, qp_error *err)
{
	const qp_pdf_finish *f = pf->f;
	long long p = pf->page_of[n];
	size_t a, b;
	const double *m = got[1].nums;

	if (p < 0)
		return true; /* not in the page tree: copied as it is */
	a = pf->first[p];
	b = pf->first[p + 1];
	if (a == b && !f->boxes)
		return true;
	if (got[1].type != T_AOPEN || got[1].nitems != 4 ||
	    got[1].nnums != 4)
		return qp_fail(err, "'%s': page %lld has no MediaBox", in->path,
		    p + 1);
	if (got[2].type || (f->boxes && (got[3].type || got[4].type)))
		return qp_fail(err, "'%s': page %lld already has links or "
		    "print boxes", in->path, p + 1);
	if (j->obj.len < 2 || memcmp(j->obj.data + j->obj.len - 2, ">>",
	    2) != 0)
		return qp_fail(err, "'%s': page %lld is not a dictionary",
		    in->path, p + 1);
	j->obj.len -= 2;
	j->obj.data[j->obj.len] = '\0';
	if (a < b) {
		qp_buf_adds(&j->obj, "/Annots [");
		for (size_t k = a; k < b; k++) {
			const qp_pdf_link *l = &f->links[k];
			double *r = &pf->rect[4 * k];
			r[0] = m[0] + l->x0;
			r[1] = m[3] - l->y1;
			r[2] = m[0] + l->x1;
			r[3] = m[3] - l->y0;
			qp_buf_printf(&j->obj, " %lld 0 R", pf->ann +
			    (long long)k);
		}
		qp_buf_adds(&j->obj, " ]");
		pf->seen += b - a;
	}
	if (f->boxes) {
		double trim[4], bleed[4], ti = f->trim_inset,
		    bi = f->bleed_inset;
		if (m[2] - m[0] <= 2 * ti || m[3] - m[1] <= 2 * ti)
			return qp_fail(err, "'%s': page %lld is too small for a "
			    "trim inset of %.2fpt", in->path, p + 1, ti);
		trim[0] = m[0] + ti;
		trim[1] = m[1] + ti;
		trim[2] = m[2] - ti;
		trim[3] = m[3] - ti;
		bleed[0] = m[0] + bi;
		bleed[1] = m[1] + bi;
		bleed[2] = m[2] - bi;
		bleed[3] = m[3] - bi;
		add_box(&j->obj, "/TrimBox", trim);
		add_box(&j->obj, "/BleedBox", bleed);
	}
	qp_buf_adds(&j->obj, "\n>>");
	return true;
}

/*
 * Copy object n of in, found at lc, under its new number (catalog: only
 * the keys in keep), filling *e. Its value is read into j->obj first,
 * to know what it is: an object stream or a cross-reference stream of
 * the input is not copied (its objects are, one by one); with pack, an
 * object that is not a stream goes into an object stream and a stream's
 * /Length is made direct. An object the table lists but the file does
 * not hold there becomes a free entry: Cairo 1.16 lists the structure
 * element of a link tag that it never writes (issue 11); a reference to
 * it is a reference to the null object (ISO 32000-2, 7.3.10).
 */
static bool
copy_object(qp_pdfjoin *j, input *in, long long n, long long newnum,
    const loc *lc, const char *const *keep, bool pack, page_fin *pf,
    xentry *e, qp_error *err)
{
	static const char *const want[] = {"/Length", "/MediaBox", "/Annots",
	    "/TrimBox", "/BleedBox", NULL};
	value got[5] = {{0}}, v = {0};
	lexer l;
	tok t = {0};
	copy c = {.j = j, .in = in, .l = &l, .emit = true, .keep = keep,
	    .want = want, .got = got};
	char head[64];
	bool ok = false, found;

	memset(e, 0, sizeof *e);
	pj_lx_init(&l, in->f, in->path);
	qp_buf_init(&t.text);
	if (!pj_seek_object(in, &l, in->f, &t, n, lc, &found, err))
		goto done;
	if (!found) {
		ok = true;
		goto done;
	}
	snprintf(head, sizeof head, "%lld 0 obj", newnum);
	qp_buf_reset(&j->obj);
	j->sink = &j->obj;
	j->nlpending = true;
	if (!pj_copy_value(&c, &t, 0, &v, err))
		goto done;
	j->sink = NULL;
	if (c.pages_node && n != in->pages) {
		qp_fail(err, "'%s': its page tree has more than one level, "
		    "which merge does not read", in->path);
		goto done;
	}
	if (c.container) {
		ok = true; /* a free entry */
		goto done;
	}
	if (c.page_node && pf && pf->f && !finish_page(j, in, n, pf, got,
	    err))
		goto done;
	if (lc->type == 2) {
		/* An object stream holds no streams and no 'endobj'. */
		ok = pack ? pack_object(j, newnum, e, err) : true;
		if (ok && !pack) {
			e->type = 1;
			e->f2 = j->opos;
			pj_out_str(j, head);
			pj_out_bytes(j, j->obj.data, j->obj.len);
			pj_out_str(j, "\nendobj\n");
		}
		goto done;
	}
	if (!pj_lx_next(&l, &t, err))
		goto done;
	if (pj_is_kw(&t, "stream")) {
		long long len = 0;
		if (v.type != T_DOPEN) {
			pj_lx_fail(&l, err, "a stream without a dictionary");
			goto done;
		}
		if (!stream_length(j, in, &got[0], &len, err))
			goto done;
		e->type = 1;
		e->f2 = j->opos;
		pj_out_str(j, head);
		if (pack && got[0].ref) {
			char num[32];
			snprintf(num, sizeof num, " %lld", len);
			pj_out_bytes(j, j->obj.data, c.len_from);
			pj_out_str(j, num);
			pj_out_bytes(j, j->obj.data + c.len_to, j->obj.len -
			    c.len_to);
		} else
			pj_out_bytes(j, j->obj.data, j->obj.len);
		if (!copy_stream_data(j, &l, len, err) ||
		    !pj_lx_next(&l, &t, err))
			goto done;
		if (!pj_is_kw(&t, "endstream")) {
			pj_lx_fail(&l, err, "a stream's data does not end "
			    "where its /Length says");
			goto done;
		}
		if (!pj_lx_next(&l, &t, err))
			goto done;
		pack = false;
	} else if (!pack) {
		e->type = 1;
		e->f2 = j->opos;
		pj_out_str(j, head);
		pj_out_bytes(j, j->obj.data, j->obj.len);
	}
	if (!pj_is_kw(&t, "endobj")) {
		pj_lx_fail(&l, err, "an object does not end with 'endobj'");
		goto done;
	}
	if (pack)
		ok = pack_object(j, newnum, e, err);
	else {
		pj_out_str(j, "\nendobj\n");
		ok = true;
	}
done:
	j->sink = NULL;
	qp_buf_free(&t.text);
	pj_lx_free(&l);
	return ok;
}

/*
 * In the zlib format, as Flate streams are, by libdeflate (already a
 * dependency, for PNG): an object stream is compressed whole, which is
 * libdeflate's case, in about half zlib's time at its level 6 for a
 * smaller stream (measured on 540-page runs: the joiner's compression
 * went from 17 % of its instructions to 9 %).
 */
static bool
deflate_buf(qp_pdfjoin *j, const char *s, size_t n, unsigned char **out,
    size_t *outlen, qp_error *err)
{
	size_t bound, len;

	if (j->zc == NULL && (j->zc = libdeflate_alloc_compressor(6)) == NULL)
		return qp_fail(err, "cannot compress an object stream: out of "
		    "memory");
	bound = libdeflate_zlib_compress_bound(j->zc, n);
	*out = qp_xmalloc(bound);
	if ((len = libdeflate_zlib_compress(j->zc, s, n, *out, bound)) == 0) {
		free(*out);
		*out = NULL;
		return qp_fail(err, "cannot compress an object stream");
	}
	*outlen = len;
	return true;
}

static bool
flush_objstm(qp_pdfjoin *j, qp_error *err)
{
	unsigned char *z;
	size_t zlen = 0;
	long long at = j->opos;
	char buf[160];
	size_t first = j->stm_head.len;

	if (j->stm_n == 0)
		return true;
	qp_buf_add(&j->stm_head, j->stm_body.data, j->stm_body.len);
	if (!deflate_buf(j, j->stm_head.data, j->stm_head.len, &z, &zlen, err))
		return false;
	snprintf(buf, sizeof buf, "%lld 0 obj\n<< /Type /ObjStm /N %zu "
	    "/First %zu /Filter /FlateDecode /Length %zu >>\nstream\n",
	    j->stm_num, j->stm_n, first, zlen);
	pj_out_str(j, buf);
	pj_out_bytes(j, (const char *)z, zlen);
	pj_out_str(j, "\nendstream\nendobj\n");
	free(z);
	if (fwrite(&at, sizeof at, 1, j->xs) != 1)
		return qp_fail(err, "cannot write a temporary file: %s",
		    strerror(errno));
	j->nstm++;
	j->stm_n = 0;
	qp_buf_reset(&j->stm_head);
	qp_buf_reset(&j->stm_body);
	return true;
}

/* An entry of the temporary table: a 20-byte line of the classic table,
 * or (compact) the 1 + 8 + 2 bytes of a cross-reference stream's. */
static void
xentry_bytes(const xentry *e, unsigned char r[XREC])
{
	r[0] = (unsigned char)e->type;
	for (int i = 0; i < 8; i++)
		r[1 + i] = (unsigned char)((unsigned long long)e->f2 >>
		    (8 * (7 - i)));
	r[9] = (unsigned char)(e->index >> 8);
	r[10] = (unsigned char)e->index;
}

static bool
xentry_put(const qp_pdfjoin *j, FILE *xf, const xentry *e, qp_error *err)
{
	bool ok;

	if (j->compact) {
		unsigned char r[XREC];
		xentry_bytes(e, r);
		ok = fwrite(r, 1, XREC, xf) == XREC;
	} else
		ok = fprintf(xf, e->type ? "%010lld 00000 n \n" :
		    "%010lld 65535 f \n", e->type ? e->f2 : 0LL) == 20;
	if (!ok)
		return qp_fail(err, "cannot write a temporary file: %s",
		    strerror(errno));
	return true;
}

/* A PDF literal string: the URI is 7-bit ASCII (render.c), and what
 * PDF treats specially is escaped. */
static void
add_string(qp_buf *b, const char *s)
{
	qp_buf_addc(b, '(');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '(' || *p == ')' || *p == '\\') {
			qp_buf_addc(b, '\\');
			qp_buf_addc(b, (char)*p);
		} else if (*p < 0x20 || *p > 0x7e)
			qp_buf_printf(b, "\\%03o", *p);
		else
			qp_buf_addc(b, (char)*p);
	}
	qp_buf_addc(b, ')');
}

/*
 * Input's link annotations, after its own objects (numbers pf->ann ...):
 * a /Link with a /URI action and no border each, as qp_pdfbox_write
 * makes them; in object streams when the output is compact.
 */
static bool
write_annots(qp_pdfjoin *j, input *in, page_fin *pf, FILE *xf,
    qp_error *err)
{
	char head[64];

	if (pf->f == NULL)
		return true;
	if (pf->seen != pf->f->nlinks)
		return qp_fail(err, "'%s': a link for a page not in its page "
		    "tree", in->path);
	for (size_t k = 0; k < pf->f->nlinks; k++) {
		long long num = pf->ann + (long long)k;
		xentry e = {0, 0, 0};

		qp_buf_reset(&j->obj);
		qp_buf_adds(&j->obj, "\n<< /Type /Annot /Subtype /Link");
		add_box(&j->obj, "/Rect", &pf->rect[4 * k]);
		qp_buf_adds(&j->obj, " /Border [ 0 0 0 ]\n/A << /Type /Action "
		    "/S /URI /URI ");
		add_string(&j->obj, pf->f->links[k].uri);
		qp_buf_adds(&j->obj, " >>\n>>");
		if (j->compact) {
			if (!pack_object(j, num, &e, err))
				return false;
		} else {
			e.type = 1;
			e.f2 = j->opos;
			snprintf(head, sizeof head, "%lld 0 obj", num);
			pj_out_str(j, head);
			pj_out_bytes(j, j->obj.data, j->obj.len);
			pj_out_str(j, "\nendobj\n");
		}
		if (!xentry_put(j, xf, &e, err))
			return false;
	}
	return true;
}

/* Feed n bytes through z into the temporary file zf. */
static bool
zfeed(z_stream *z, FILE *zf, const unsigned char *s, size_t n, int flush,
    qp_error *err)
{
	unsigned char out[65536];

	z->next_in = (Bytef *)(uintptr_t)s;
	z->avail_in = (uInt)n;
	do {
		z->next_out = out;
		z->avail_out = sizeof out;
		if (deflate(z, flush) == Z_STREAM_ERROR)
			return qp_fail(err, "cannot compress the "
			    "cross-reference stream");
		if (fwrite(out, 1, sizeof out - z->avail_out, zf) !=
		    sizeof out - z->avail_out)
			return qp_fail(err, "cannot write a temporary file: %s",
			    strerror(errno));
	} while (z->avail_out == 0);
	return true;
}

/*
 * Compact ending: the cross-reference stream, its entries compressed
 * into a temporary file first (its /Length comes before its data).
 */
static bool
write_xref_stream(qp_pdfjoin *j, FILE *xf, const xentry *own,
    long long size, qp_error *err)
{
	long long xnum = size + j->nstm, at = j->opos;
	unsigned char r[XREC], lines[XREC * 4096];
	z_stream z;
	FILE *zf = tmpfile();
	char buf[256];
	size_t got;
	long zlen;
	bool ok = false;

	memset(&z, 0, sizeof z);
	if (zf == NULL || deflateInit(&z, 6) != Z_OK) {
		if (zf)
			fclose(zf);
		return qp_fail(err, "cannot make a temporary file: %s",
		    strerror(errno));
	}
	for (int k = 0; k < FIRST_FREE; k++) {
		xentry e = own[k];
		if (k == 0) {
			e.type = 0;
			e.f2 = 0;
			e.index = 65535;
		}
		xentry_bytes(&e, r);
		if (!zfeed(&z, zf, r, XREC, Z_NO_FLUSH, err))
			goto done;
	}
	if (fflush(xf) != 0 || fseeko(xf, 0, SEEK_SET) != 0)
		goto rd;
	while ((got = fread(lines, 1, sizeof lines, xf)) > 0)
		if (!zfeed(&z, zf, lines, got, Z_NO_FLUSH, err))
			goto done;
	if (ferror(xf) || fflush(j->xs) != 0 || fseeko(j->xs, 0, SEEK_SET) != 0)
		goto rd;
	for (long long i = 0; i < j->nstm; i++) {
		xentry e = {1, 0, 0};
		if (fread(&e.f2, sizeof e.f2, 1, j->xs) != 1)
			goto rd;
		xentry_bytes(&e, r);
		if (!zfeed(&z, zf, r, XREC, Z_NO_FLUSH, err))
			goto done;
	}
	{
		xentry e = {1, at, 0};
		xentry_bytes(&e, r);
		if (!zfeed(&z, zf, r, XREC, Z_FINISH, err))
			goto done;
	}
	if (fflush(zf) != 0 || (zlen = ftell(zf)) < 0 ||
	    fseeko(zf, 0, SEEK_SET) != 0)
		goto rd;
	snprintf(buf, sizeof buf, "%lld 0 obj\n<< /Type /XRef /Size %lld "
	    "/W [ 1 8 2 ] /Root %d 0 R%s /Filter /FlateDecode /Length %ld >>"
	    "\nstream\n", xnum, xnum + 1, OBJ_CATALOG, own[OBJ_INFO].type ?
	    " /Info 3 0 R" : "", zlen);
	pj_out_str(j, buf);
	while ((got = fread(lines, 1, sizeof lines, zf)) > 0)
		pj_out_bytes(j, (const char *)lines, got);
	if (ferror(zf))
		goto rd;
	snprintf(buf, sizeof buf, "\nendstream\nendobj\nstartxref\n%lld\n"
	    "%%%%EOF\n", at);
	pj_out_str(j, buf);
	ok = true;
	goto done;
rd:
	qp_fail(err, "cannot read back a temporary file: %s",
	    strerror(errno));
done:
	deflateEnd(&z);
	fclose(zf);
	return ok;
}

/* Plain ending: the classic table, then the trailer. */
static bool
write_xref_table(qp_pdfjoin *j, FILE *xf, const xentry *own,
    long long size, qp_error *err)
{
	long long at = j->opos;
	char buf[256], lines[65536];
	size_t got;

	snprintf(buf, sizeof buf, "xref\n0 %lld\n", size);
	pj_out_str(j, buf);
	pj_out_str(j, "0000000000 65535 f \n");
	for (int k = 1; k < FIRST_FREE; k++) {
		snprintf(buf, sizeof buf, own[k].type ? "%010lld 00000 n \n" :
		    "%010lld 65535 f \n", own[k].type ? own[k].f2 : 0LL);
		pj_out_str(j, buf);
	}
	if (fflush(xf) != 0 || fseeko(xf, 0, SEEK_SET) != 0)
		return qp_fail(err, "cannot read back a temporary file: %s",
		    strerror(errno));
	while ((got = fread(lines, 1, sizeof lines, xf)) > 0)
		pj_out_bytes(j, lines, got);
	if (ferror(xf))
		return qp_fail(err, "cannot read back a temporary file");
	snprintf(buf, sizeof buf, "trailer\n<< /Size %lld\n   /Root %d 0 R\n"
	    "%s>>\nstartxref\n%lld\n%%%%EOF\n", size, OBJ_CATALOG,
	    own[OBJ_INFO].type ? "   /Info 3 0 R\n" : "", at);
	pj_out_str(j, buf);
	return true;
}

/* The page tree: /Kids in next's order, each input's kids read along. */
static bool
write_pages(qp_pdfjoin *j, qp_pdfjoin_next_fn next, void *arg,
    long long *count, qp_error *err)
{
	lexer *ls = qp_xcalloc(j->n ? j->n : 1, sizeof *ls);
	long long *left = qp_xcalloc(j->n ? j->n : 1, sizeof *left);
	tok t = {0};
	char buf[64];
	size_t k;
	bool ok = false;
	int r;

	qp_buf_init(&t.text);
	for (size_t i = 0; i < j->n; i++) {
		FILE *kf = pj_kids_file(&j->in[i], err);
		pj_lx_init(&ls[i], kf, j->in[i].path);
		if (kf == NULL)
			goto done;
		left[i] = j->in[i].npages;
		/* Past the '['. */
		if (!pj_lx_seek(&ls[i], j->in[i].kids) ||
		    !pj_lx_next(&ls[i], &t, err))
			goto done;
	}
	snprintf(buf, sizeof buf, "%d 0 obj\n<< /Type /Pages\n/Kids [",
	    OBJ_PAGES);
	pj_out_str(j, buf);
	*count = 0;
	while ((r = next(arg, &k, err)) == 1) {
		long long n;
		if (k >= j->n || left[k] == 0) {
			qp_fail(err, "'%s': the page order asks for more pages "
			    "than it has (%lld)", k < j->n ? j->in[k].path :
			    "?", k < j->n ? j->in[k].npages : 0);
			goto done;
		}
		left[k]--;
		if (!pj_lx_next(&ls[k], &t, err))
			goto done;
		n = t.ival;
		if (t.type != T_INT || !pj_lx_next(&ls[k], &t, err) ||
		    t.type != T_INT || !pj_lx_next(&ls[k], &t, err) ||
		    !pj_is_kw(&t, "R")) {
			qp_fail(err, "'%s' changed while it was read",
			    j->in[k].path);
			goto done;
		}
		snprintf(buf, sizeof buf, "%s%lld 0 R", *count % 8 ? " " :
		    "\n", pj_renumber(&j->in[k], n));
		pj_out_str(j, buf);
		++*count;
	}
	if (r < 0)
		goto done;
	for (size_t i = 0; i < j->n; i++)
		if (left[i]) {
			qp_fail(err, "'%s': %lld of its pages are left out of "
			    "the page order", j->in[i].path, left[i]);
			goto done;
		}
	snprintf(buf, sizeof buf, "\n]\n/Count %lld\n>>\nendobj\n", *count);
	pj_out_str(j, buf);
	ok = true;
done:
	for (size_t i = 0; i < j->n; i++)
		pj_lx_free(&ls[i]);
	free(ls);
	free(left);
	qp_buf_free(&t.text);
	return ok;
}

bool
qp_pdfjoin_write(qp_pdfjoin *j, qp_outfile *out, bool compact,
    qp_pdfjoin_next_fn next, void *arg, char sha256[65], qp_error *err)
{
	/* The catalog keeps what describes the whole document; what indexes
	 * one input's pages or objects (tags, outlines, names, forms) does
	 * not survive a join. */
	static const char *const keep[] = {"/Type", "/Pages", "/Lang",
	    "/ViewerPreferences", "/PageLayout", "/Metadata",
	    "/OutputIntents", NULL};
	FILE *xf = NULL;
	page_fin pf = {0};
	xentry own[FIRST_FREE];
	long long size, count;
	char buf[256];
	bool ok = false;
	int version = compact ? 15 : 14;

	memset(own, 0, sizeof own);
	j->out = out;
	j->compact = compact;
	j->sum = g_checksum_new(G_CHECKSUM_SHA256);
	j->opos = 0;
	j->nstm = 0;
	j->stm_n = 0;
	if (j->n == 0) {
		qp_fail(err, "nothing to join");
		goto done;
	}
	size = j->in[j->n - 1].base + j->in[j->n - 1].size +
	    j->in[j->n - 1].nann;
	j->next_stm = size;
	for (size_t i = 0; i < j->n; i++)
		if (j->in[i].version > version)
			version = j->in[i].version;
	snprintf(buf, sizeof buf, "%%PDF-%d.%d\n%%\xe2\xe3\xcf\xd3\n",
	    version / 10, version % 10);
	pj_out_str(j, buf);
	if ((xf = tmpfile()) == NULL || (compact && (j->xs = tmpfile()) ==
	    NULL)) {
		qp_fail(err, "cannot make a temporary file: %s",
		    strerror(errno));
		goto done;
	}
	/* The catalog and document information of the first input, the
	 * page tree of all, as plain objects. */
	{
		loc lc;
		if (!pj_locate(&j->in[0], j->in[0].f, j->in[0].root, &lc,
		    err) ||
		    !copy_object(j, &j->in[0], j->in[0].root, OBJ_CATALOG, &lc,
		    keep, false, NULL, &own[OBJ_CATALOG], err))
			goto done;
	}
	own[OBJ_PAGES].type = 1;
	own[OBJ_PAGES].f2 = j->opos;
	if (!write_pages(j, next, arg, &count, err))
		goto done;
	if (j->in[0].info > 0) {
		loc lc;
		if (!pj_locate(&j->in[0], j->in[0].f, j->in[0].info, &lc,
		    err) ||
		    !copy_object(j, &j->in[0], j->in[0].info, OBJ_INFO, &lc,
		    NULL, false, NULL, &own[OBJ_INFO], err))
			goto done;
	}
	/* Every other object of every input, in number order, so the
	 * output's table entries are made in order. */
	for (size_t i = 0; i < j->n; i++) {
		input *in = &j->in[i];

		if (in->x == NULL && (in->x = fopen(in->path, "rb")) == NULL) {
			qp_fail(err, "cannot read '%s': %s", in->path,
			    strerror(errno));
			goto done;
		}
		if (!page_fin_start(j, in, i, &pf, err))
			goto done;
		for (long long n = 1; n < in->size; n++) {
			xentry e = {0, 0, 0};
			loc lc;

			if (!pj_locate(in, in->x, n, &lc, err))
				goto done;
			if (n == in->root || n == in->pages || n == in->info)
				lc.type = 0;
			if (lc.type && !copy_object(j, in, n, in->base + n, &lc,
			    NULL, compact, &pf, &e, err))
				goto done;
			if (!xentry_put(j, xf, &e, err))
				goto done;
		}
		if (!write_annots(j, in, &pf, xf, err))
			goto done;
		page_fin_free(&pf);
		fclose(in->x);
		in->x = NULL;
	}
	if (compact) {
		if (!flush_objstm(j, err) ||
		    !write_xref_stream(j, xf, own, size, err))
			goto done;
	} else if (!write_xref_table(j, xf, own, size, err))
		goto done;
	if (j->out->write_failed) {
		qp_fail(err, "cannot write '%s': %s", j->out->path,
		    strerror(j->out->saved_errno));
		goto done;
	}
	ok = true;
done:
	page_fin_free(&pf);
	if (xf)
		fclose(xf);
	if (j->xs)
		fclose(j->xs);
	j->xs = NULL;
	if (ok)
		snprintf(sha256, 65, "%s", g_checksum_get_string(j->sum));
	g_checksum_free(j->sum);
	j->sum = NULL;
	return ok;
}

void
qp_pdfjoin_finish(qp_pdfjoin *j, const size_t *nlinks,
    qp_pdfjoin_finish_fn fn, void *arg)
{
	long long base = FIRST_FREE - 1;

	j->fin_fn = fn;
	j->fin_arg = arg;
	/* Input i's annotations follow its objects: the bases move. */
	for (size_t i = 0; i < j->n; i++) {
		j->in[i].nann = (long long)nlinks[i];
		j->in[i].base = base;
		base += j->in[i].size - 1 + j->in[i].nann;
	}
}
