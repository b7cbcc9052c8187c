/*
 * print.c - CMYK PDF/X-3 through Ghostscript (see print.h for the why).
 *
 * Steps: (1) libqpdf rewrites the RGB PDF's colours (neutral -> DeviceGray,
 * cmyk() codes -> DeviceCMYK), removes links and page groups and refuses
 * transparency; (2) Ghostscript's pdfwrite makes PDF/X-3 of it, a run of
 * pages at a time (its memory grows by about 1.5 MB a page while it
 * converts colour, measured with 10.0 even on empty pages); (3) libqpdf
 * joins the runs and checks that the PDF/X marks are there.
 */
#include "pdftok.h"
#include "print.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <qpdf/qpdf-c.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Pages per Ghostscript run: about 110 MB at most (gs 10.0, Letter). */
#define PAGES_PER_RUN 50

/* ---- ink codes ----------------------------------------------------------- */

/*
 * A cmyk() colour is drawn as RGB (i+1)/1000, CODE_G, CODE_B: Cairo
 * writes those numbers as they are ("0.003 0.0123 0.9876 rg"), and no
 * colour of a real design has exactly that green and blue.
 */
#define CODE_G 0.0123
#define CODE_B 0.9876
#define MAX_INKS 999

struct qp_inks {
	qp_color *v;
	size_t n;
	bool overflow;
};

qp_inks *
qp_inks_new(void)
{
	return qp_xcalloc(1, sizeof(qp_inks));
}

void
qp_inks_free(qp_inks *inks)
{
	if (inks == NULL)
		return;
	free(inks->v);
	free(inks);
}

void
qp_inks_code(qp_inks *inks, const qp_color *c, double rgb[3])
{
	size_t i;

	for (i = 0; i < inks->n; i++)
		if (inks->v[i].c == c->c && inks->v[i].m == c->m &&
		    inks->v[i].y == c->y && inks->v[i].k == c->k)
			break;
	if (i == inks->n) {
		if (inks->n == MAX_INKS) {
			inks->overflow = true;
			i = 0;
		} else {
			inks->v = qp_xrealloc(inks->v, (inks->n + 1) *
			    sizeof *inks->v);
			inks->v[inks->n++] = *c;
		}
	}
	rgb[0] = (double)(i + 1) / 1000;
	rgb[1] = CODE_G;
	rgb[2] = CODE_B;
}

/* The ink entry an RGB triple codes for, or NULL. */
static const qp_color *
inks_lookup(const qp_inks *inks, const double v[3])
{
	long i;

	if (inks == NULL || fabs(v[1] - CODE_G) > 5e-5 ||
	    fabs(v[2] - CODE_B) > 5e-5)
		return NULL;
	i = lround(v[0] * 1000) - 1;
	return i >= 0 && (size_t)i < inks->n ? &inks->v[i] : NULL;
}

/* A number in [0, 1] with up to 4 decimals, whatever the locale. */
static void
put_unit(qp_buf *b, double v)
{
	long n = lround(fmin(fmax(v, 0), 1) * 10000);
	char frac[8];
	int len = 4;

	if (n % 10000 == 0) {
		qp_buf_printf(b, "%ld", n / 10000);
		return;
	}
	snprintf(frac, sizeof frac, "%04ld", n % 10000);
	while (len > 0 && frac[len - 1] == '0')
		len--;
	qp_buf_printf(b, "%ld.%.*s", n / 10000, len, frac);
}

/* ---- ICC profiles -------------------------------------------------------- */

static unsigned long
be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	    (unsigned long)p[2] << 8 | p[3];
}

/* Largest profile read: press profiles are a few MB. */
#define MAX_PROFILE (64L * 1024 * 1024)

static unsigned char *
read_profile(const char *path, size_t *len, qp_error *err)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *d;
	struct stat st;
	const unsigned char *h;

	if (fp == NULL) {
		qp_fail(err, "cannot read the ICC profile '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_PROFILE) {
		fclose(fp);
		qp_fail(err, "the ICC profile '%s' is not a regular file of at "
		    "most %ld MB", path, MAX_PROFILE / 1024 / 1024);
		return NULL;
	}
	d = qp_xmalloc((size_t)st.st_size + 1);
	*len = fread(d, 1, (size_t)st.st_size, fp);
	fclose(fp);
	h = d;
	if (*len < 132 || memcmp(h + 36, "acsp", 4) != 0) {
		qp_fail(err, "'%s' is not an ICC profile (no 'acsp' signature "
		    "in its header)", path);
		goto bad;
	}
	if (be32(h) > *len || be32(h) < 132) {
		qp_fail(err, "the ICC profile '%s' is cut short (its header "
		    "says %lu bytes, the file has %zu)", path, be32(h), *len);
		goto bad;
	}
	if (memcmp(h + 16, "CMYK", 4) != 0) {
		qp_fail(err, "the ICC profile '%s' is for '%.4s' data, not "
		    "CMYK: give the press's CMYK output profile", path,
		    (const char *)h + 16);
		goto bad;
	}
	if (memcmp(h + 12, "prtr", 4) != 0) {
		qp_fail(err, "the ICC profile '%s' is a '%.4s' profile, not an "
		    "output (printer) profile", path, (const char *)h + 12);
		goto bad;
	}
	return d;
bad:
	free(d);
	return NULL;
}

bool
qp_print_profile_ok(const char *path, qp_error *err)
{
	size_t len;
	unsigned char *d = read_profile(path, &len, err);

	free(d);
	return d != NULL;
}

/* The profile's description ('desc' tag, ICC v2 text or v4 mluc) as
 * printable ASCII, into b; nothing if it has none. */
static void
profile_desc(const unsigned char *d, size_t len, qp_buf *b)
{
	unsigned long count = be32(d + 128);

	for (unsigned long i = 0; i < count && 132 + 12 * (i + 1) <= len;
	    i++) {
		const unsigned char *t = d + 132 + 12 * i;
		unsigned long off = be32(t + 4), sz = be32(t + 8);
		const unsigned char *v;

		if (memcmp(t, "desc", 4) != 0 || off > len || sz > len - off ||
		    sz < 12)
			continue;
		v = d + off;
		if (memcmp(v, "desc", 4) == 0) {
			unsigned long n = be32(v + 8);
			for (unsigned long k = 0; k < n && 12 + k < sz &&
			    b->len < 120; k++)
				if (v[12 + k] >= 0x20 && v[12 + k] < 0x7f)
					qp_buf_addc(b, (char)v[12 + k]);
		} else if (memcmp(v, "mluc", 4) == 0 && sz >= 28) {
			unsigned long n = be32(v + 20), o = be32(v + 24);
			for (unsigned long k = 0; k + 1 < n && o + k + 1 < sz &&
			    b->len < 120; k += 2) {
				unsigned c = (unsigned)v[o + k] << 8 | v[o + k + 1];
				if (c >= 0x20 && c < 0x7f)
					qp_buf_addc(b, (char)c);
			}
		}
		return;
	}
}

/* A PostScript string literal of s (printable ASCII). */
static void
put_ps_string(qp_buf *b, const char *s)
{
	qp_buf_addc(b, '(');
	for (; *s; s++) {
		if (*s == '(' || *s == ')' || *s == '\\')
			qp_buf_addc(b, '\\');
		qp_buf_addc(b, *s);
	}
	qp_buf_addc(b, ')');
}

/*
 * The PDF/X definition Ghostscript runs before the document (after its
 * lib/PDFX_def.ps): the version and trapping keys, and the output intent
 * with the profile embedded. The profile's bytes are inline, hex-encoded
 * and read with currentfile, so -dSAFER needs no file permission for it.
 */
static bool
write_pdfx_def(FILE *fp, const char *icc_path, qp_error *err)
{
	size_t len;
	unsigned char *d = read_profile(icc_path, &len, err);
	qp_buf b, desc;
	bool ok;

	if (d == NULL)
		return false;
	qp_buf_init(&b);
	qp_buf_init(&desc);
	profile_desc(d, len, &desc);
	if (desc.len == 0) {
		const char *base = strrchr(icc_path, '/');
		qp_visible(base ? base + 1 : icc_path, &desc);
	}
	qp_buf_adds(&b, "%!\n[ /GTS_PDFXVersion (" QP_PDFX_VERSION ") "
	    "/Trapped /False /DOCINFO pdfmark\n"
	    "[/_objdef {icc_PDFX} /type /stream /OBJ pdfmark\n"
	    "[{icc_PDFX} << /N 4 >> /PUT pdfmark\n"
	    "[{icc_PDFX} currentfile /ASCIIHexDecode filter /PUT pdfmark\n");
	for (size_t i = 0; i < len; i++)
		qp_buf_printf(&b, "%02x%s", d[i], i % 40 == 39 ? "\n" : "");
	qp_buf_adds(&b, ">\n[/_objdef {OutputIntent_PDFX} /type /dict /OBJ "
	    "pdfmark\n[{OutputIntent_PDFX} << /Type /OutputIntent /S "
	    "/GTS_PDFX /OutputConditionIdentifier (Custom) /OutputCondition ");
	put_ps_string(&b, desc.data ? desc.data : "CMYK");
	qp_buf_adds(&b, " /Info ");
	put_ps_string(&b, desc.data ? desc.data : "CMYK");
	qp_buf_adds(&b, " /RegistryName (http://www.color.org) "
	    "/DestOutputProfile {icc_PDFX} >> /PUT pdfmark\n"
	    "[{Catalog} << /OutputIntents [ {OutputIntent_PDFX} ] >> /PUT "
	    "pdfmark\n");
	ok = fwrite(b.data, 1, b.len, fp) == b.len && fflush(fp) == 0;
	if (!ok)
		qp_fail(err, "cannot write Ghostscript's PDF/X definition: %s",
		    strerror(errno));
	qp_buf_free(&b);
	qp_buf_free(&desc);
	free(d);
	return ok;
}

/* ---- content streams ----------------------------------------------------- */

/*
 * Colour operators rewritten in a content stream. A small tokenizer of
 * PDF content (ISO 32000 7.8.2): the stream is copied byte for byte but
 * for "r g b rg" / "r g b RG" with three numbers, which become
 *   - "C M Y K k" for an ink code (the template's cmyk() colour),
 *   - "v g" when r, g and b are the same grey (within 8-bit rounding),
 *   - unchanged otherwise (Ghostscript converts it with the profile).
 * Strings, names, comments, dictionaries and inline image data are
 * skipped over as tokens, so nothing inside them is touched.
 */
typedef struct rewrite {
	const qp_inks *inks;
	size_t gray, cmyk, rgb; /* colours seen, by what they became */
} rewrite;

static bool
is_number(const unsigned char *s, size_t n, double *v)
{
	return n > 0 && n < 32 && qp_parse_number((const char *)s, n, v);
}

static void
put_color(qp_buf *out, rewrite *rw, const double v[3], bool stroke,
    const unsigned char *orig, size_t origlen)
{
	const qp_color *ink = inks_lookup(rw->inks, v);
	double hi = fmax(v[0], fmax(v[1], v[2]));
	double lo = fmin(v[0], fmin(v[1], v[2]));

	if (ink) {
		put_unit(out, ink->c);
		qp_buf_addc(out, ' ');
		put_unit(out, ink->m);
		qp_buf_addc(out, ' ');
		put_unit(out, ink->y);
		qp_buf_addc(out, ' ');
		put_unit(out, ink->k);
		qp_buf_adds(out, stroke ? " K" : " k");
		rw->cmyk++;
	} else if (hi - lo <= 0.5 / 255) {
		put_unit(out, (v[0] + v[1] + v[2]) / 3);
		qp_buf_adds(out, stroke ? " G" : " g");
		rw->gray++;
	} else {
		qp_buf_add(out, (const char *)orig, origlen);
		rw->rgb++;
	}
}

static void
rewrite_content(const unsigned char *s, size_t n, rewrite *rw, qp_buf *out)
{
	size_t i = 0, copied = 0;
	size_t start[3] = {0};
	double val[3];
	int nnum = 0;     /* numbers among the operands, the last three kept */
	bool other = false; /* an operand that is not a number */

	while (i < n) {
		size_t e;

		if (qp_pdftok_space(s[i])) {
			i++;
			continue;
		}
		e = qp_pdftok_end(s, n, i);
		if (s[i] == '%') {
			i = e;
			continue;
		}
		{
			double v;
			bool num = !qp_pdftok_delim(s[i]) && is_number(s + i, e - i,
			    &v);
			bool op = !num && !qp_pdftok_delim(s[i]);

			if (num) {
				if (nnum == 3) {
					memmove(start, start + 1, 2 * sizeof *start);
					memmove(val, val + 1, 2 * sizeof *val);
					nnum = 2;
					other = true; /* more than three */
				}
				start[nnum] = i;
				val[nnum++] = v;
			} else if (!op)
				other = true;
			if (op) {
				bool fill = e - i == 2 && memcmp(s + i, "rg",
				    2) == 0;
				bool stroke = e - i == 2 && memcmp(s + i, "RG",
				    2) == 0;

				if ((fill || stroke) && nnum == 3 && !other) {
					qp_buf_add(out, (const char *)s + copied,
					    start[0] - copied);
					put_color(out, rw, val, stroke,
					    s + start[0], e - start[0]);
					copied = e;
				}
				if (e - i == 2 && memcmp(s + i, "ID", 2) == 0) {
					/* Inline image data: up to EI alone. */
					size_t k = e + 1;
					while (k + 2 <= n && !(qp_pdftok_space(s[k - 1]) &&
					    s[k] == 'E' && s[k + 1] == 'I' &&
					    (k + 2 == n || qp_pdftok_space(s[k + 2]))))
						k++;
					e = k + 2 <= n ? k + 2 : n;
				}
				nnum = 0;
				other = false;
			}
		}
		i = e;
	}
	qp_buf_add(out, (const char *)s + copied, n - copied);
}

/* ---- step 1: the RGB PDF made ready for Ghostscript ---------------------- */

typedef struct prep {
	qpdf_data q;
	rewrite rw;
	unsigned char *seen; /* by object id: content already rewritten */
	size_t nseen;
	int page;            /* 1-based, for messages */
	qp_error *err;
	bool failed;
} prep;

static bool
seen(prep *p, qpdf_oh oh)
{
	int id = qpdf_oh_get_object_id(p->q, oh);

	if (id <= 0)
		return false;
	if ((size_t)id >= p->nseen) {
		size_t nn = (size_t)id * 2 + 64;
		p->seen = qp_xrealloc(p->seen, nn);
		memset(p->seen + p->nseen, 0, nn - p->nseen);
		p->nseen = nn;
	}
	if (p->seen[id])
		return true;
	p->seen[id] = 1;
	return false;
}

static bool
transparency(prep *p, const char *what)
{
	if (!p->failed)
		qp_fail(p->err, "page %d uses transparency (%s), which PDF/X-3 "
		    "does not allow: make every colour and image opaque",
		    p->page, what);
	p->failed = true;
	return false;
}

static double
num_key(prep *p, qpdf_oh d, const char *key, double dflt)
{
	qpdf_oh v = qpdf_oh_get_key(p->q, d, key);

	return qpdf_oh_is_number(p->q, v) ? qpdf_oh_get_numeric_value(p->q, v) :
	    dflt;
}

/* Keys of a dictionary (qpdf iterates one dictionary at a time). */
static size_t
dict_keys(qpdf_data q, qpdf_oh d, char ***keys)
{
	size_t n = 0, cap = 0;

	*keys = NULL;
	if (!qpdf_oh_is_dictionary(q, d))
		return 0;
	qpdf_oh_begin_dict_key_iter(q, d);
	while (qpdf_oh_dict_more_keys(q)) {
		*keys = qp_grow(*keys, &cap, n + 1, sizeof **keys);
		(*keys)[n++] = qp_xstrdup(qpdf_oh_dict_next_key(q));
	}
	return n;
}

static void
free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

static bool prep_resources(prep *p, qpdf_oh res, int depth);

/* Rewrite one content stream (a Form XObject or a tiling pattern). */
static bool
prep_stream(prep *p, qpdf_oh st, int depth)
{
	unsigned char *data = NULL;
	size_t len = 0;
	QPDF_BOOL filtered = QPDF_FALSE;
	qp_buf out;
	qpdf_oh dict = qpdf_oh_get_dict(p->q, st);

	if (seen(p, st))
		return true;
	if (qpdf_oh_get_stream_data(p->q, st, qpdf_dl_generalized, &filtered,
	    &data, &len) & QPDF_ERRORS || !filtered) {
		free(data);
		return qp_fail(p->err, "page %d: cannot read a content stream",
		    p->page);
	}
	qp_buf_init(&out);
	rewrite_content(data, len, &p->rw, &out);
	free(data);
	qpdf_oh_replace_stream_data(p->q, st, (const unsigned char *)
	    (out.data ? out.data : ""), out.len, qpdf_oh_new_null(p->q),
	    qpdf_oh_new_null(p->q));
	qp_buf_free(&out);
	/* A group without transparency inside changes nothing: PDF 1.3 has
	 * none (Ghostscript would drop it too). */
	qpdf_oh_remove_key(p->q, dict, "/Group");
	return prep_resources(p, qpdf_oh_get_key(p->q, dict, "/Resources"),
	    depth + 1);
}

static bool
prep_resources(prep *p, qpdf_oh res, int depth)
{
	qpdf_data q = p->q;
	static const char *const cats[] = {"/ExtGState", "/XObject",
	    "/Pattern"};

	if (depth > 32)
		return qp_fail(p->err, "page %d: forms nested too deep",
		    p->page);
	if (!qpdf_oh_is_dictionary(q, res))
		return true;
	for (size_t c = 0; c < 3; c++) {
		qpdf_oh cat = qpdf_oh_get_key(q, res, cats[c]);
		char **keys;
		size_t n = dict_keys(q, cat, &keys);
		bool ok = true;

		for (size_t i = 0; i < n && ok; i++) {
			qpdf_oh o = qpdf_oh_get_key(q, cat, keys[i]);
			qpdf_oh d = qpdf_oh_is_stream(q, o) ?
			    qpdf_oh_get_dict(q, o) : o;
			qpdf_oh sm;

			if (c == 0) {
				sm = qpdf_oh_get_key(q, d, "/SMask");
				qpdf_oh bm = qpdf_oh_get_key(q, d, "/BM");
				if (num_key(p, d, "/CA", 1) < 1 - 1e-6 ||
				    num_key(p, d, "/ca", 1) < 1 - 1e-6)
					ok = transparency(p, "an opacity below "
					    "1");
				else if (qpdf_oh_is_dictionary(q, sm))
					ok = transparency(p, "a soft mask");
				else if (qpdf_oh_is_name(q, bm) &&
				    !qpdf_oh_is_name_and_equals(q, bm,
				    "/Normal") &&
				    !qpdf_oh_is_name_and_equals(q, bm,
				    "/Compatible"))
					ok = transparency(p, "a blend mode");
				continue;
			}
			if (!qpdf_oh_is_stream(q, o))
				continue;
			if (c == 1 && qpdf_oh_is_name_and_equals(q,
			    qpdf_oh_get_key(q, d, "/Subtype"), "/Image")) {
				sm = qpdf_oh_get_key(q, d, "/SMask");
				if (qpdf_oh_is_stream(q, sm) || num_key(p, d,
				    "/SMaskInData", 0) != 0)
					ok = transparency(p, "an image with an "
					    "alpha channel");
				continue;
			}
			if ((c == 1 && qpdf_oh_is_name_and_equals(q,
			    qpdf_oh_get_key(q, d, "/Subtype"), "/Form")) ||
			    (c == 2 && num_key(p, d, "/PatternType", 0) == 1))
				ok = prep_stream(p, o, depth);
		}
		free_keys(keys, n);
		if (!ok)
			return false;
	}
	return true;
}

static bool
prep_page(prep *p, qpdf_oh page)
{
	qpdf_data q = p->q;
	qpdf_oh contents = qpdf_oh_get_key(q, page, "/Contents");
	unsigned char *data = NULL;
	size_t len = 0;
	qp_buf out;

	/* Links are annotations, which PDF/X does not allow on the page
	 * (Ghostscript would quietly write plain PDF); paper needs none. */
	qpdf_oh_remove_key(q, page, "/Annots");
	qpdf_oh_remove_key(q, page, "/Group");
	if (qpdf_oh_get_page_content_data(q, page, &data, &len) &
	    QPDF_ERRORS) {
		free(data);
		return qp_fail(p->err, "page %d: cannot read its content",
		    p->page);
	}
	qp_buf_init(&out);
	rewrite_content(data, len, &p->rw, &out);
	free(data);
	if (!qpdf_oh_is_stream(q, contents)) {
		contents = qpdf_oh_new_stream(q);
		qpdf_oh_replace_key(q, page, "/Contents", contents);
	}
	qpdf_oh_replace_stream_data(q, contents, (const unsigned char *)
	    (out.data ? out.data : ""), out.len, qpdf_oh_new_null(q),
	    qpdf_oh_new_null(q));
	qp_buf_free(&out);
	return prep_resources(p, qpdf_oh_get_key(q, page, "/Resources"), 0);
}

static bool
qpdf_fail(qpdf_data q, const char *what, const char *path, qp_error *err)
{
	const char *msg = "unknown error";

	if (qpdf_has_error(q)) {
		const char *d = qpdf_get_error_full_text(q, qpdf_get_error(q));
		if (d)
			msg = d;
	}
	return qp_fail(err, "%s '%s': %s", what, path, msg);
}

static bool
prepare(const char *in, const char *out, const qp_inks *inks, int *npages,
    qp_error *err)
{
	prep p = {.rw = {.inks = inks}, .err = err};
	bool ok = false;
	int n;

	p.q = qpdf_init();
	qpdf_silence_errors(p.q);
	qpdf_set_suppress_warnings(p.q, QPDF_TRUE);
	if (qpdf_read(p.q, in, NULL) & QPDF_ERRORS) {
		qpdf_fail(p.q, "cannot read", in, err);
		goto done;
	}
	if ((n = qpdf_get_num_pages(p.q)) < 1) {
		qpdf_fail(p.q, "no pages in", in, err);
		goto done;
	}
	for (int i = 0; i < n; i++) {
		p.page = i + 1;
		if (!prep_page(&p, qpdf_get_page_n(p.q, (size_t)i)))
			goto done;
		qpdf_oh_release_all(p.q);
	}
	qpdf_oh_remove_key(p.q, qpdf_get_root(p.q), "/AcroForm");
	if (qpdf_init_write(p.q, out) & QPDF_ERRORS) {
		qpdf_fail(p.q, "cannot write", out, err);
		goto done;
	}
	qpdf_set_stream_data_mode(p.q, qpdf_s_preserve);
	qpdf_set_object_stream_mode(p.q, qpdf_o_disable);
	if (qpdf_write(p.q) & QPDF_ERRORS) {
		qpdf_fail(p.q, "cannot write", out, err);
		goto done;
	}
	*npages = n;
	ok = true;
done:
	free(p.seen);
	qpdf_cleanup(&p.q);
	return ok;
}

/* ---- step 2: Ghostscript ------------------------------------------------- */

/* Ghostscript's own words, the last few lines (what it ended on). */
static void
gs_tail(const qp_buf *log, qp_buf *out)
{
	const char *s = log->data ? log->data : "";
	size_t n = log->len, start = n;
	int lines = 0;

	while (start > 0 && lines < 4) {
		start--;
		if (s[start] == '\n' && start + 1 < n && s[start + 1] != '\n')
			lines++;
	}
	if (start < n && s[start] == '\n')
		start++;
	{
		char *t = qp_xstrndup(s + start, n - start);
		for (char *c = t; *c; c++)
			if (*c == '\n')
				*c = ' ';
		qp_visible(t, out);
		free(t);
	}
}

/* The environment for Ghostscript: ours, with SOURCE_DATE_EPOCH set so
 * its CreationDate and ModDate are the poster's (reproducible output). */
static char **
gs_env(char *epoch, size_t epochsz)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = qp_xcalloc(n + 2, sizeof *env);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SOURCE_DATE_EPOCH=", 18) != 0)
			env[k++] = environ[i];
	snprintf(epoch, epochsz, "SOURCE_DATE_EPOCH=%lld",
	    qp_source_date_epoch());
	env[k++] = epoch;
	env[k] = NULL;
	return env;
}

/*
 * Start Ghostscript with argv (no shell: posix_spawnp, the arguments as
 * they are), stdin from /dev/null, stdout and stderr into fd.
 */
static bool
gs_spawn(char *const argv[], int fd, int closefd, pid_t *pid, qp_error *err)
{
	posix_spawn_file_actions_t fa;
	char epoch[64], **env;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	if (closefd >= 0)
		posix_spawn_file_actions_addclose(&fa, closefd);
	env = gs_env(epoch, sizeof epoch);
	rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, env);
	free(env);
	posix_spawn_file_actions_destroy(&fa);
	if (rc == ENOENT)
		return qp_fail(err, "Ghostscript ('gs') is not installed; CMYK "
		    "print files need it (Debian package 'ghostscript')");
	if (rc != 0)
		return qp_fail(err, "cannot start Ghostscript: %s",
		    strerror(rc));
	return true;
}

/* Wait for pid; its exit status judged, log quoted on failure. */
static bool
gs_wait(pid_t pid, const qp_buf *log, qp_error *err)
{
	int status;
	qp_buf t;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return qp_fail(err, "Ghostscript: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	qp_buf_init(&t);
	gs_tail(log, &t);
	if (WIFSIGNALED(status))
		qp_fail(err, "Ghostscript was stopped by signal %d: %s",
		    WTERMSIG(status), t.data ? t.data : "");
	else
		qp_fail(err, "Ghostscript failed (exit status %d): %s",
		    WEXITSTATUS(status), t.data ? t.data : "");
	qp_buf_free(&t);
	return false;
}

/* Run Ghostscript to the end, its output into log. */
static bool
run_gs(char *const argv[], qp_buf *log, qp_error *err)
{
	int fds[2];
	pid_t pid;
	char chunk[4096];
	ssize_t got;

	if (pipe(fds) != 0)
		return qp_fail(err, "cannot start Ghostscript: %s",
		    strerror(errno));
	if (!gs_spawn(argv, fds[1], fds[0], &pid, err)) {
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	close(fds[1]);
	for (;;) {
		got = read(fds[0], chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (log->len < 65536)
			qp_buf_add(log, chunk, (size_t)got);
	}
	close(fds[0]);
	return gs_wait(pid, log, err);
}

bool
qp_print_run_gs(char *const argv[], qp_buf *log, qp_error *err)
{
	return run_gs(argv, log, err);
}

/* A path as a Ghostscript argument: never taken for an option. */
static char *
path_arg(const char *path)
{
	return qp_xasprintf("%s%s", path[0] == '-' ? "./" : "", path);
}

/* -sOutputFile=PATH with '%' doubled (Ghostscript reads %d as the page
 * number there). */
static char *
output_arg(const char *path)
{
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, "-sOutputFile=");
	for (const char *p = path; *p; p++)
		qp_buf_adds(&b, *p == '%' ? "%%" : (char[]){*p, 0});
	return qp_buf_steal(&b);
}

/* One run of pages [first, last]: Ghostscript writing out, its words
 * going to the log file beside it. */
typedef struct gs_run {
	int first, last;
	qp_outfile out, log;
	pid_t pid;
	bool started;
} gs_run;

static bool
run_start(gs_run *r, const char *def, const char *in, qp_error *err)
{
	char a_first[32], a_last[32];
	char *a_out = output_arg(r->out.tmp_path), *a_def = path_arg(def);
	char *a_in = path_arg(in);
	char *argv[] = {
		"gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE",
		"-sDEVICE=pdfwrite", "-dPDFX",
		"-sColorConversionStrategy=CMYK",
		"-sProcessColorModel=DeviceCMYK",
		/* Pages keep their orientation; images are not downsampled
		 * or recompressed lossily (logos, QR codes). */
		"-dAutoRotatePages=/None",
		"-dDownsampleColorImages=false",
		"-dDownsampleGrayImages=false",
		"-dDownsampleMonoImages=false",
		"-dAutoFilterColorImages=false",
		"-dAutoFilterGrayImages=false",
		"-sColorImageFilter=FlateEncode",
		"-sGrayImageFilter=FlateEncode",
		a_first, a_last, a_out, a_def, a_in, NULL,
	};

	snprintf(a_first, sizeof a_first, "-dFirstPage=%d", r->first);
	snprintf(a_last, sizeof a_last, "-dLastPage=%d", r->last);
	r->started = gs_spawn(argv, fileno(r->log.fp), -1, &r->pid, err);
	free(a_out);
	free(a_def);
	free(a_in);
	return r->started;
}

static bool
run_finish(gs_run *r, qp_error *err)
{
	qp_buf log;
	bool ok;

	r->started = false;
	qp_buf_init(&log);
	{
		FILE *fp = fopen(r->log.tmp_path, "rb");
		char chunk[4096];
		size_t got;

		while (fp && (got = fread(chunk, 1, sizeof chunk, fp)) > 0 &&
		    log.len < 65536)
			qp_buf_add(&log, chunk, got);
		if (fp)
			fclose(fp);
	}
	ok = gs_wait(r->pid, &log, err);
	if (ok && log.data && (strstr(log.data, "reverting to normal PDF") ||
	    strstr(log.data, "not permitted in PDF/X"))) {
		qp_buf t;
		qp_buf_init(&t);
		gs_tail(&log, &t);
		qp_fail(err, "Ghostscript could not make PDF/X of pages %d-%d "
		    "and wrote plain PDF instead, so the file was refused: %s",
		    r->first, r->last, t.data ? t.data : "");
		qp_buf_free(&t);
		ok = false;
	}
	qp_buf_free(&log);
	return ok;
}

/* Stop a run that is no longer wanted. */
static void
run_cancel(gs_run *r)
{
	int status;

	if (!r->started)
		return;
	kill(r->pid, SIGTERM);
	while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
		;
	r->started = false;
}

/* ---- step 3: the runs joined and checked --------------------------------- */

static bool
has_pdfx_marks(qpdf_data q, const char *path, qp_error *err)
{
	const char *v = qpdf_get_info_key(q, "/GTS_PDFXVersion");
	qpdf_oh oi = qpdf_oh_get_key(q, qpdf_get_root(q), "/OutputIntents");

	if (v == NULL || strcmp(v, QP_PDFX_VERSION) != 0 ||
	    !qpdf_oh_is_array(q, oi) || qpdf_oh_get_array_n_items(q, oi) < 1)
		return qp_fail(err, "Ghostscript's output '%s' lacks the PDF/X "
		    "identification or output intent", path);
	return true;
}

static bool
join(char *const *parts, int nparts, int npages, const char *out,
    qp_error *err)
{
	qpdf_data *q = qp_xcalloc((size_t)nparts, sizeof *q);
	bool ok = false;
	int got;

	for (int k = 0; k < nparts; k++) {
		q[k] = qpdf_init();
		qpdf_silence_errors(q[k]);
		qpdf_set_suppress_warnings(q[k], QPDF_TRUE);
		if (qpdf_read(q[k], parts[k], NULL) & QPDF_ERRORS) {
			qpdf_fail(q[k], "cannot read Ghostscript's output",
			    parts[k], err);
			goto done;
		}
		if (!has_pdfx_marks(q[k], parts[k], err))
			goto done;
		if (k == 0)
			continue;
		got = qpdf_get_num_pages(q[k]);
		for (int i = 0; i < got; i++)
			if (qpdf_add_page(q[0], q[k], qpdf_get_page_n(q[k],
			    (size_t)i), QPDF_FALSE) & QPDF_ERRORS) {
				qpdf_fail(q[0], "cannot join", parts[k], err);
				goto done;
			}
	}
	if ((got = qpdf_get_num_pages(q[0])) != npages) {
		qp_fail(err, "Ghostscript wrote %d pages of %d", got, npages);
		goto done;
	}
	for (int i = 0; i < got; i++)
		if (!qpdf_oh_has_key(q[0], qpdf_get_page_n(q[0], (size_t)i),
		    "/TrimBox")) {
			qp_fail(err, "page %d has no TrimBox after conversion",
			    i + 1);
			goto done;
		}
	/* Ghostscript's /ID is random; qpdf would keep its first half. */
	qpdf_oh_remove_key(q[0], qpdf_get_trailer(q[0]), "/ID");
	if (qpdf_init_write(q[0], out) & QPDF_ERRORS) {
		qpdf_fail(q[0], "cannot write", out, err);
		goto done;
	}
	/* PDF 1.3: no object streams; a content hash for the /ID. */
	qpdf_set_stream_data_mode(q[0], qpdf_s_preserve);
	qpdf_set_object_stream_mode(q[0], qpdf_o_disable);
	qpdf_set_deterministic_ID(q[0], QPDF_TRUE);
	if (qpdf_write(q[0]) & QPDF_ERRORS) {
		qpdf_fail(q[0], "cannot write", out, err);
		goto done;
	}
	ok = true;
done:
	for (int k = 0; k < nparts; k++)
		if (q[k])
			qpdf_cleanup(&q[k]);
	free(q);
	return ok;
}

/* ---- the conversion ------------------------------------------------------ */

bool
qp_print_convert(const char *in_path, const char *out_path,
    const qp_inks *inks, const qp_print_opts *o, qp_error *err)
{
	qp_outfile def = {0}, prepped = {0};
	gs_run *runs = NULL;
	char **parts = NULL;
	int npages = 0, nruns = 0, opened = 0, jobs, next = 0, done_runs = 0;
	bool ok = false;

	if (inks && inks->overflow)
		return qp_fail(err, "more than %d different cmyk() colours in "
		    "one print file", MAX_INKS);
	if (!qp_outfile_open(&def, out_path, err))
		return false;
	if (!write_pdfx_def(def.fp, o->icc_path, err) ||
	    !qp_outfile_open(&prepped, out_path, err))
		goto done;
	fclose(prepped.fp); /* libqpdf writes it by name */
	prepped.fp = NULL;
	if (!prepare(in_path, prepped.tmp_path, inks, &npages, err))
		goto done;
	nruns = (npages + PAGES_PER_RUN - 1) / PAGES_PER_RUN;
	runs = qp_xcalloc((size_t)nruns, sizeof *runs);
	parts = qp_xcalloc((size_t)nruns, sizeof *parts);
	for (int k = 0; k < nruns; k++) {
		runs[k].first = k * PAGES_PER_RUN + 1;
		runs[k].last = runs[k].first + PAGES_PER_RUN - 1;
		if (runs[k].last > npages)
			runs[k].last = npages;
		if (!qp_outfile_open(&runs[k].out, out_path, err))
			goto done;
		if (!qp_outfile_open(&runs[k].log, out_path, err)) {
			qp_outfile_abort(&runs[k].out);
			goto done;
		}
		opened++;
		fclose(runs[k].out.fp);
		runs[k].out.fp = NULL;
		parts[k] = runs[k].out.tmp_path;
	}
	/* Runs in order, up to o->jobs at a time; each is waited for in
	 * the order it started (they take about the same time). */
	jobs = o->jobs > 0 ? o->jobs : 1;
	while (done_runs < nruns) {
		while (next < nruns && next - done_runs < jobs)
			if (!run_start(&runs[next++], def.tmp_path,
			    prepped.tmp_path, err))
				goto done;
		if (!run_finish(&runs[done_runs++], err))
			goto done;
	}
	ok = join(parts, nruns, npages, out_path, err);
done:
	for (int k = 0; k < opened; k++) {
		run_cancel(&runs[k]);
		qp_outfile_abort(&runs[k].out);
		qp_outfile_abort(&runs[k].log);
	}
	free(runs);
	free(parts);
	qp_outfile_abort(&prepped);
	qp_outfile_abort(&def);
	return ok;
}

/* ---- Ghostscript's own profile ------------------------------------------- */

char *
qp_print_default_profile(qp_error *err)
{
	char *argv[] = {"gs", "-h", NULL};
	qp_buf log;
	char *found = NULL, *s, *save = NULL;

	qp_buf_init(&log);
	if (!run_gs(argv, &log, err)) {
		qp_buf_free(&log);
		return NULL;
	}
	s = strstr(log.data ? log.data : "", "Search path:");
	/* Entries are separated by " : " and line breaks; the profiles sit
	 * in iccprofiles/ beside lib/ (Debian: /usr/share/ghostscript/
	 * VERSION/{lib,iccprofiles}). */
	for (char *tok = s ? strtok_r(s + 12, ":\n", &save) : NULL; tok &&
	    !found; tok = strtok_r(NULL, ":\n", &save)) {
		char *e, *slash, *cand;

		while (*tok == ' ')
			tok++;
		e = tok + strlen(tok);
		while (e > tok && e[-1] == ' ')
			*--e = '\0';
		if (*tok != '/' || (slash = strrchr(tok, '/')) == NULL)
			continue;
		*slash = '\0';
		if (strcmp(slash + 1, "lib") != 0 &&
		    strcmp(slash + 1, "Init") != 0)
			continue;
		if (strcmp(slash + 1, "Init") == 0 &&
		    (slash = strrchr(tok, '/')) != NULL &&
		    strcmp(slash + 1, "Resource") == 0)
			*slash = '\0';
		cand = qp_xasprintf("%s/iccprofiles/default_cmyk.icc", tok);
		if (access(cand, R_OK) == 0)
			found = cand;
		else
			free(cand);
	}
	if (found == NULL)
		qp_fail(err, "Ghostscript's CMYK profile (iccprofiles/"
		    "default_cmyk.icc) was not found beside its search path; "
		    "give the press's own profile");
	qp_buf_free(&log);
	return found;
}
