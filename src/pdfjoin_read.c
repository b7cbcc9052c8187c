/*
 * pdfjoin_read.c - the joiner's reader (pdfjoin.h says why not
 * libqpdf): cross-reference tables and streams, object streams, and
 * values copied with their references renumbered; the tokens come from
 * pdfjoin_lex.c.
 *
 * The reader knows the object syntax of ISO 32000 section 7.3 (numbers,
 * strings, names, arrays, dictionaries, streams, references) and the
 * cross-reference tables and streams of 7.5.4 and 7.5.8, no more: it
 * copies what it reads, renumbering references, and never interprets
 * content streams.
 */
#include "pdfjoin_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <libdeflate.h>
#include <zlib.h>

/* ---- the cross-reference table ---------------------------------------- */

/* Lines of the table read at once (20 bytes each). */
#define XBLK 256

/* Entry n of in's table: *off, and whether it is in use. */
static bool
xref_entry(input *in, FILE *f, long long n, long long *off, bool *used,
    qp_error *err)
{
	char e[21];
	long long v = 0;

	if (n < 0 || n >= in->size) {
		*used = false;
		return true;
	}
	if (in->xblk == NULL || n < in->xblk_first ||
	    n >= in->xblk_first + in->xblk_n) {
		/* The block of XBLK lines from n (or to the table's end). */
		long long want = in->size - n < XBLK ? in->size - n : XBLK;
		if (in->xblk == NULL)
			in->xblk = qp_xmalloc(20 * XBLK);
		in->xblk_n = 0;
		if (fseeko(f, (off_t)(in->xref + 20 * n), SEEK_SET) != 0 ||
		    fread(in->xblk, 20, (size_t)want, f) != (size_t)want)
			return qp_fail(err, "'%s': cannot read its "
			    "cross-reference table: %s", in->path,
			    strerror(errno ? errno : EIO));
		in->xblk_first = n;
		in->xblk_n = want;
	}
	memcpy(e, in->xblk + 20 * (n - in->xblk_first), 20);
	e[20] = '\0';
	for (int i = 0; i < 10; i++) {
		if (e[i] < '0' || e[i] > '9')
			goto bad;
		v = v * 10 + (e[i] - '0');
	}
	if (e[10] != ' ' || e[16] != ' ' || (e[17] != 'n' && e[17] != 'f'))
		goto bad;
	*off = v;
	*used = e[17] == 'n';
	return true;
bad:
	return qp_fail(err, "'%s': cross-reference entry %lld is not a "
	    "20-byte line ('%.18s')", in->path, n, e);
}


static unsigned long long
be_field(const unsigned char *p, int w)
{
	unsigned long long v = 0;

	for (int i = 0; i < w; i++)
		v = v << 8 | p[i];
	return v;
}

bool
pj_locate(input *in, FILE *f, long long n, loc *lc, qp_error *err)
{
	memset(lc, 0, sizeof *lc);
	if (n < 0 || n >= in->size)
		return true;
	if (in->xtab == NULL) {
		bool used = false;
		if (!xref_entry(in, f, n, &lc->off, &used, err))
			return false;
		lc->type = used ? 1 : 0;
		return true;
	}
	{
		int rec = in->w[0] + in->w[1] + in->w[2];
		unsigned char r[64];
		unsigned long long t, f2, f3;

		if (fseeko(in->xtab, (off_t)((long long)rec * n), SEEK_SET) != 0 ||
		    fread(r, 1, (size_t)rec, in->xtab) != (size_t)rec)
			return qp_fail(err, "'%s': cannot read its cross-reference "
			    "stream back: %s", in->path, strerror(errno));
		t = in->w[0] ? be_field(r, in->w[0]) : 1;
		f2 = be_field(r + in->w[0], in->w[1]);
		f3 = be_field(r + in->w[0] + in->w[1], in->w[2]);
		if (t == 1 && f2 < (1ULL << 62)) {
			lc->type = 1;
			lc->off = (long long)f2;
		} else if (t == 2 && f2 < (1ULL << 62)) {
			lc->type = 2;
			lc->stm = (long long)f2;
			lc->idx = (long long)f3;
		}
	}
	return true;
}

/* ---- values --------------------------------------------------------- */


void
pj_out_bytes(qp_pdfjoin *j, const char *s, size_t n)
{
	if (j->sink) {
		qp_buf_add(j->sink, s, n);
		return;
	}
	qp_outfile_write(j->out, s, n);
	g_checksum_update(j->sum, (const guchar *)s, (gssize)n);
	j->opos += (long long)n;
}

void
pj_out_str(qp_pdfjoin *j, const char *s)
{
	pj_out_bytes(j, s, strlen(s));
}

/* A token, after a line break or a space as the input had. */
static void
out_tok(copy *c, const tok *t, const char *text)
{
	if (!c->emit)
		return;
	pj_out_str(c->j, t->nl || c->j->nlpending ? "\n" : " ");
	c->j->nlpending = false;
	pj_out_str(c->j, text);
}

/* The output number of input object n. */
long long
pj_renumber(const input *in, long long n)
{
	if (n == in->root)
		return OBJ_CATALOG;
	if (n == in->pages)
		return OBJ_PAGES;
	if (n == in->info && in->info > 0)
		return OBJ_INFO;
	return in->base + n;
}

bool pj_copy_value(copy *c, tok *t, int depth, value *v, qp_error *err);

static bool
keep_key(const copy *c, const char *key)
{
	if (c->keep == NULL)
		return true;
	for (const char *const *k = c->keep; *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

/* Whether key is in the NUL-separated list seen; added if not. */
static bool
seen_key(qp_buf *seen, const char *key, size_t len)
{
	for (size_t i = 0; i < seen->len; i += strlen(seen->data + i) + 1)
		if (strcmp(seen->data + i, key) == 0)
			return true;
	qp_buf_add(seen, key, len + 1);
	return false;
}

/*
 * A dictionary. A key that comes again is dropped: Cairo 1.16 writes a
 * page's /XObject entry once per use of the form (/x10 13 0 R three
 * times on an imposed sheet), which readers take as a damaged
 * dictionary (qpdf warns, and keeps the last; Cairo's are the same
 * pair, so keeping the first is the same).
 */
static bool
copy_dict(copy *c, tok *t, int depth, qp_error *err)
{
	qp_buf seen;
	bool ok = false;

	qp_buf_init(&seen);
	out_tok(c, t, "<<");
	for (;;) {
		bool saved = c->emit, noted = false;
		value v = {0};
		size_t w = 0;

		if (!pj_lx_next(c->l, t, err))
			goto done;
		if (t->type == T_DCLOSE)
			break;
		if (t->type != T_NAME) {
			pj_lx_fail(c->l, err, "a dictionary key is not a name");
			goto done;
		}
		if (c->emit && seen_key(&seen, t->text.data, t->text.len))
			c->emit = false;
		if (depth == 0) {
			if (!keep_key(c, t->text.data))
				c->emit = false;
			for (w = 0; c->want && c->want[w]; w++)
				if (strcmp(c->want[w], t->text.data) == 0) {
					noted = true;
					break;
				}
		}
		out_tok(c, t, t->text.data);
		if (c->l->nback) { /* a key is never a look-ahead */
			pj_lx_fail(c->l, err, "a dictionary key is not a name");
			goto done;
		}
		if (depth == 0 && strcmp(t->text.data, "/Type") == 0) {
			if (!pj_copy_value(c, t, depth + 1, &v, err))
				goto done;
			if (t->type == T_NAME && strcmp(t->text.data,
			    "/Pages") == 0)
				c->pages_node = true;
			if (t->type == T_NAME && strcmp(t->text.data,
			    "/Page") == 0)
				c->page_node = true;
			if (t->type == T_NAME && (strcmp(t->text.data,
			    "/ObjStm") == 0 || strcmp(t->text.data, "/XRef") == 0))
				c->container = true;
		} else {
			bool len = depth == 0 && c->emit && c->j && c->j->sink &&
			    strcmp(t->text.data, "/Length") == 0;
			if (len)
				c->len_from = c->j->sink->len;
			v.pos = c->l->pos;
			if (!pj_copy_value(c, t, depth + 1, &v, err))
				goto done;
			if (len)
				c->len_to = c->j->sink->len;
		}
		if (noted)
			c->got[w] = v;
		c->emit = saved;
	}
	out_tok(c, t, ">>");
	ok = true;
done:
	qp_buf_free(&seen);
	return ok;
}

/*
 * Copy one value whose first token is read now (t is scratch, and holds
 * the value's last token on return), references renumbered.
 */
bool
pj_copy_value(copy *c, tok *t, int depth, value *v, qp_error *err)
{
	char buf[64];

	if (depth > MAX_DEPTH)
		return pj_lx_fail(c->l, err, "arrays or dictionaries nested "
		    "too deep");
	if (!pj_lx_next(c->l, t, err))
		return false;
	v->type = t->type;
	switch (t->type) {
	case T_DOPEN:
		return copy_dict(c, t, depth, err);
	case T_AOPEN:
		out_tok(c, t, "[");
		for (;;) {
			value item = {0};
			if (!pj_lx_next(c->l, t, err))
				return false;
			if (t->type == T_ACLOSE)
				break;
			pj_lx_push(c->l, t);
			if (!pj_copy_value(c, t, depth + 1, &item, err))
				return false;
			if (v->nitems++ < 4 && ((item.type == T_INT &&
			    !item.ref) || item.type == T_NUM)) {
				double d = (double)item.num;
				if (item.type == T_INT || qp_parse_number(
				    t->text.data, t->text.len, &d))
					v->nums[v->nnums++] = d;
			}
		}
		out_tok(c, t, "]");
		return true;
	case T_INT: {
		/* "N G R" is a reference: look two tokens ahead. */
		tok g = {0}, r = {0};
		long long n = t->ival;
		bool nl = t->nl, ref = false;

		qp_buf_init(&g.text);
		qp_buf_init(&r.text);
		if (!pj_lx_next(c->l, &g, err))
			goto int_fail;
		if (g.type == T_INT) {
			if (!pj_lx_next(c->l, &r, err))
				goto int_fail;
			if (pj_is_kw(&r, "R"))
				ref = true;
			else
				pj_lx_push(c->l, &r);
		}
		if (!ref)
			pj_lx_push(c->l, &g);
		qp_buf_free(&g.text);
		qp_buf_free(&r.text);
		v->num = n;
		v->ref = ref;
		if (ref) {
			if (n < 1 || n >= c->in->size)
				snprintf(buf, sizeof buf, "null");
			else
				snprintf(buf, sizeof buf, "%lld 0 R",
				    pj_renumber(c->in, n));
		} else
			snprintf(buf, sizeof buf, "%lld", n);
		t->nl = nl;
		out_tok(c, t, buf);
		return true;
	int_fail:
		qp_buf_free(&g.text);
		qp_buf_free(&r.text);
		return false;
	}
	case T_NUM:
	case T_NAME:
	case T_STR:
	case T_HEX:
		out_tok(c, t, t->text.data);
		return true;
	case T_KW:
		if (pj_is_kw(t, "true") || pj_is_kw(t, "false") ||
		    pj_is_kw(t, "null")) {
			out_tok(c, t, t->text.data);
			return true;
		}
		return pj_lx_fail(c->l, err, "an unexpected keyword where a "
		    "value belongs");
	default:
		return pj_lx_fail(c->l, err, t->type == T_EOF ? "the file ends "
		    "inside an object" : "an unexpected token where a value "
		    "belongs");
	}
}

/* Read "N G obj" at off: false if another object (or none) is there. */
static bool
object_header(lexer *l, tok *t, long long off, long long n, bool *found,
    qp_error *err)
{
	*found = false;
	if (!pj_lx_seek(l, off))
		return qp_fail(err, "'%s': cannot seek: %s", l->path,
		    strerror(errno));
	if (!pj_lx_next(l, t, err))
		return false;
	if (t->type != T_INT || t->ival != n)
		return true;
	if (!pj_lx_next(l, t, err))
		return false;
	if (t->type != T_INT)
		return true;
	if (!pj_lx_next(l, t, err))
		return false;
	*found = pj_is_kw(t, "obj");
	return true;
}

/* ---- compressed data ---------------------------------------------------- */

/* Rows of a cross-reference stream, PNG predictors undone (ISO 32000
 * 7.4.4.4), written to a file as they complete. */
typedef struct rows {
	FILE *to;
	bool png;
	size_t cols;
	unsigned char *cur, *prev; /* cols + 1 bytes each */
	size_t have;
	long long n;
} rows;

static int
paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

static bool
rows_feed(rows *r, const unsigned char *s, size_t n)
{
	size_t row = r->cols + (r->png ? 1 : 0);

	for (size_t i = 0; i < n; i++) {
		r->cur[r->have++] = s[i];
		if (r->have < row)
			continue;
		if (r->png) {
			unsigned char *x = r->cur + 1, *up = r->prev + 1;
			for (size_t k = 0; k < r->cols; k++) {
				int left = k ? x[k - 1] : 0, u = up[k],
				    ul = k ? up[k - 1] : 0, v;
				switch (r->cur[0]) {
				case 0: v = 0; break;
				case 1: v = left; break;
				case 2: v = u; break;
				case 3: v = (left + u) / 2; break;
				case 4: v = paeth(left, u, ul); break;
				default: return false;
				}
				x[k] = (unsigned char)(x[k] + v);
			}
			if (fwrite(x, 1, r->cols, r->to) != r->cols)
				return false;
			memcpy(r->prev, r->cur, row);
		} else if (fwrite(r->cur, 1, r->cols, r->to) != r->cols)
			return false;
		r->have = 0;
		r->n++;
	}
	return true;
}

/*
 * Inflate len bytes of FlateDecode data read from f at its position:
 * into out (at most max bytes) or through rs.
 */
static bool
inflate_data(FILE *f, long long len, qp_buf *out, size_t max, rows *rs,
    const char *path, qp_error *err)
{
	unsigned char in[16384], o[65536];
	z_stream z;
	int zr = Z_OK;
	bool ok = false;

	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		return qp_fail(err, "cannot start zlib");
	while (len > 0 && zr != Z_STREAM_END) {
		size_t want = len < (long long)sizeof in ? (size_t)len :
		    sizeof in;
		size_t got = fread(in, 1, want, f);
		if (got == 0) {
			qp_fail(err, "'%s': the file ends inside a stream", path);
			goto done;
		}
		len -= (long long)got;
		z.next_in = in;
		z.avail_in = (uInt)got;
		do {
			z.next_out = o;
			z.avail_out = sizeof o;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				qp_fail(err, "'%s': a compressed stream is "
				    "damaged", path);
				goto done;
			}
			{
				size_t n = sizeof o - z.avail_out;
				if (out) {
					if (out->len + n > max) {
						qp_fail(err, "'%s': an object stream "
						    "inflates past %zu MB", path,
						    max >> 20);
						goto done;
					}
					qp_buf_add(out, (const char *)o, n);
				} else if (!rows_feed(rs, o, n)) {
					qp_fail(err, "'%s': its cross-reference "
					    "stream is damaged", path);
					goto done;
				}
			}
		} while (z.avail_out == 0 && zr != Z_STREAM_END);
	}
	ok = true;
done:
	inflateEnd(&z);
	return ok;
}

/* ---- objects ------------------------------------------------------------ */

bool pj_read_object(qp_pdfjoin *j, input *in, FILE *f, long long n,
    const char *const *want, value *got, bool *found, bool *pages_node,
    qp_error *err);

static FILE *
aux_file(input *in, qp_error *err)
{
	if (in->x == NULL && (in->x = fopen(in->path, "rb")) == NULL)
		qp_fail(err, "cannot read '%s': %s", in->path, strerror(errno));
	return in->x;
}

/* Object stream s of in, inflated into in->stm_*, read through in->x. */
static bool
load_objstm(input *in, long long s, qp_error *err)
{
	static const char *const want[] = {"/Type", "/N", "/First",
	    "/Filter", "/DecodeParms", "/Length", NULL};
	value got[6] = {{0}};
	lexer l;
	tok t = {0};
	loc lc;
	bool found, ok = false;
	long long data, len;
	FILE *x;
	copy c = {.in = in, .l = &l, .want = want, .got = got};

	if (in->stm_num == s)
		return true;
	if ((x = aux_file(in, err)) == NULL || !pj_locate(in, x, s, &lc, err))
		return false;
	if (lc.type != 1)
		return qp_fail(err, "'%s': object stream %lld is not in the "
		    "file", in->path, s);
	in->stm_num = -1;
	if (in->stm_fp)
		fclose(in->stm_fp);
	in->stm_fp = NULL;
	pj_lx_init(&l, x, in->path);
	qp_buf_init(&t.text);
	if (!object_header(&l, &t, lc.off, s, &found, err))
		goto done;
	if (!found) {
		qp_fail(err, "'%s': object stream %lld is not where its table "
		    "says", in->path, s);
		goto done;
	}
	{
		value v = {0};
		if (!pj_copy_value(&c, &t, 0, &v, err) ||
		    !pj_lx_next(&l, &t, err))
			goto done;
		if (v.type != T_DOPEN || !pj_is_kw(&t, "stream")) {
			pj_lx_fail(&l, err, "an object stream is not a stream");
			goto done;
		}
	}
	{
		int ch = pj_lx_getc(&l);
		if (ch == '\r')
			ch = pj_lx_getc(&l);
		if (ch != '\n') {
			pj_lx_fail(&l, err, "'stream' is not followed by a "
			    "line end");
			goto done;
		}
		data = l.pos;
	}
	if (got[1].type != T_INT || got[1].ref || got[1].num < 1 ||
	    got[1].num > 100000 || got[2].type != T_INT || got[2].ref ||
	    got[2].num < 0 || got[4].type || got[3].type != T_NAME) {
		qp_fail(err, "'%s': object stream %lld is not one merge reads "
		    "(/N, /First, /FlateDecode without parameters)", in->path,
		    s);
		goto done;
	}
	if (got[5].type == T_INT && got[5].ref) {
		value lv = {0};
		if (!pj_read_object(NULL, in, x, got[5].num, NULL, &lv, &found,
		    NULL, err))
			goto done;
		if (!found || lv.type != T_INT || lv.ref) {
			qp_fail(err, "'%s': object stream %lld has no length",
			    in->path, s);
			goto done;
		}
		len = lv.num;
	} else if (got[5].type == T_INT)
		len = got[5].num;
	else {
		qp_fail(err, "'%s': object stream %lld has no length", in->path,
		    s);
		goto done;
	}
	/* /Filter's name: checked by re-reading it is not worth it; the
	 * one filter merge reads is Flate, and inflate refuses the rest. */
	if (fseeko(x, (off_t)data, SEEK_SET) != 0) {
		qp_fail(err, "'%s': cannot seek: %s", in->path, strerror(errno));
		goto done;
	}
	{
		qp_buf d;
		qp_buf_init(&d);
		if (!inflate_data(x, len, &d, 64u << 20, NULL, in->path, err)) {
			qp_buf_free(&d);
			goto done;
		}
		free(in->stm_data);
		in->stm_len = d.len;
		in->stm_data = d.data ? d.data : qp_xstrdup("");
	}
	in->stm_n = got[1].num;
	in->stm_first = got[2].num;
	free(in->stm_nums);
	free(in->stm_offs);
	in->stm_nums = qp_xcalloc((size_t)in->stm_n, sizeof *in->stm_nums);
	in->stm_offs = qp_xcalloc((size_t)in->stm_n, sizeof *in->stm_offs);
	if ((in->stm_fp = fmemopen(in->stm_data, in->stm_len ? in->stm_len :
	    1, "rb")) == NULL) {
		qp_fail(err, "cannot read an object stream: %s",
		    strerror(errno));
		goto done;
	}
	{
		lexer h;
		tok ht = {0};
		bool hok = true;

		pj_lx_init(&h, in->stm_fp, in->path);
		qp_buf_init(&ht.text);
		for (long long i = 0; i < in->stm_n && hok; i++) {
			hok = pj_lx_next(&h, &ht, err) && ht.type == T_INT &&
			    (in->stm_nums[i] = ht.ival) >= 0 &&
			    pj_lx_next(&h, &ht, err) && ht.type == T_INT &&
			    (in->stm_offs[i] = ht.ival) >= 0 &&
			    in->stm_first + in->stm_offs[i] <=
			    (long long)in->stm_len;
		}
		qp_buf_free(&ht.text);
		pj_lx_free(&h);
		if (!hok) {
			qp_fail(err, "'%s': the header of object stream %lld is "
			    "damaged", in->path, s);
			goto done;
		}
	}
	in->stm_num = s;
	ok = true;
done:
	qp_buf_free(&t.text);
	pj_lx_free(&l);
	return ok;
}

/*
 * Put l at the value of object n, found at lc: after "N G obj" in the
 * file (l reading f), or at its place in its object stream (l reading
 * that). *found is false if another object, or none, is there.
 */
bool
pj_seek_object(input *in, lexer *l, FILE *f, tok *t, long long n,
    const loc *lc, bool *found, qp_error *err)
{
	*found = false;
	if (lc->type == 1) {
		l->f = f;
		return object_header(l, t, lc->off, n, found, err);
	}
	if (lc->type != 2)
		return true;
	if (!load_objstm(in, lc->stm, err))
		return false;
	if (lc->idx >= in->stm_n || in->stm_nums[lc->idx] != n)
		return true;
	l->f = in->stm_fp;
	if (!pj_lx_seek(l, in->stm_first + in->stm_offs[lc->idx]))
		return qp_fail(err, "cannot read an object stream");
	*found = true;
	return true;
}

/*
 * Parse (without writing) object n of in, noting the top-level keys in
 * want (values into got). *found is false for an object the table lists
 * but the file does not hold.
 */
bool
pj_read_object(qp_pdfjoin *j, input *in, FILE *f, long long n,
    const char *const *want, value *got, bool *found, bool *pages_node,
    qp_error *err)
{
	lexer l;
	tok t = {0};
	loc lc;
	bool ok = false;
	copy c = {.j = j, .in = in, .l = &l, .want = want, .got = got};

	*found = false;
	if (!pj_locate(in, f, n, &lc, err))
		return false;
	if (lc.type == 0)
		return true;
	pj_lx_init(&l, f, in->path);
	qp_buf_init(&t.text);
	if (!pj_seek_object(in, &l, f, &t, n, &lc, found, err))
		goto done;
	ok = true;
	if (*found) {
		value v = {0};
		v.pos = l.pos;
		ok = pj_copy_value(&c, &t, 0, &v, err);
		if (pages_node)
			*pages_node = c.pages_node;
		if (want == NULL && got)
			*got = v;
	}
done:
	qp_buf_free(&t.text);
	pj_lx_free(&l);
	return ok;
}

/* ---- opening ---------------------------------------------------------- */

/* The values of a small array of integers at pos ("[ 1 8 2 ]"). */
static bool
int_array(lexer *l, tok *t, long long pos, long long *v, int n,
    qp_error *err)
{
	if (!pj_lx_seek(l, pos) || !pj_lx_next(l, t, err) || t->type != T_AOPEN)
		return false;
	for (int i = 0; i < n; i++) {
		if (!pj_lx_next(l, t, err) || t->type != T_INT)
			return false;
		v[i] = t->ival;
	}
	return pj_lx_next(l, t, err) && t->type == T_ACLOSE;
}

/*
 * A cross-reference stream at sx (its first token, the object number,
 * in t): the trailer's keys from its dictionary, its entries inflated
 * into in->xtab.
 */
static bool
read_xref_stream(input *in, lexer *l, tok *t, long long sx, qp_error *err)
{
	static const char *const want[] = {"/Size", "/Root", "/Info", "/Prev",
	    "/Encrypt", "/W", "/Index", "/DecodeParms", "/Length", "/Filter",
	    NULL};
	static const char *const pwant[] = {"/Predictor", "/Columns",
	    "/Colors", "/BitsPerComponent", NULL};
	value got[10] = {{0}}, pgot[4] = {{0}}, v = {0};
	copy c = {.in = in, .l = l, .want = want, .got = got};
	long long w[3], idx[2], data;
	rows rs;
	bool found;

	memset(&rs, 0, sizeof rs);
	if (!object_header(l, t, sx, t->ival, &found, err))
		return false;
	if (!found || !pj_copy_value(&c, t, 0, &v, err) || v.type != T_DOPEN ||
	    !pj_lx_next(l, t, err) || !pj_is_kw(t, "stream"))
		return qp_fail(err, "'%s': no cross-reference table or stream "
		    "where 'startxref' points", in->path);
	{
		int ch = pj_lx_getc(l);
		if (ch == '\r')
			ch = pj_lx_getc(l);
		if (ch != '\n')
			return pj_lx_fail(l, err, "'stream' is not followed "
			    "by a line end");
		data = l->pos;
	}
	if (got[3].type || got[4].type)
		return qp_fail(err, "'%s' is %s: merge reads files as qrposter "
		    "writes them", in->path, got[4].type ? "encrypted" :
		    "incrementally updated");
	if (got[0].type != T_INT || got[0].ref || got[0].num < 1 ||
	    !got[1].ref || got[5].type != T_AOPEN || got[8].type != T_INT ||
	    got[8].ref || got[9].type != T_NAME)
		return qp_fail(err, "'%s': its cross-reference stream lacks "
		    "/Size, /Root, /W, a direct /Length or /Filter", in->path);
	in->size = got[0].num;
	in->root = got[1].num;
	in->info = got[2].ref ? got[2].num : 0;
	if (!int_array(l, t, got[5].pos, w, 3, err) || w[0] < 0 || w[0] > 4 ||
	    w[1] < 1 || w[1] > 8 || w[2] < 0 || w[2] > 4)
		return qp_fail(err, "'%s': its cross-reference stream's /W is "
		    "not one merge reads", in->path);
	if (got[6].type && (!int_array(l, t, got[6].pos, idx, 2, err) ||
	    idx[0] != 0 || idx[1] != in->size))
		return qp_fail(err, "'%s': its cross-reference stream has "
		    "sections (/Index), which merge does not read", in->path);
	for (int i = 0; i < 3; i++)
		in->w[i] = (int)w[i];
	rs.cols = (size_t)(w[0] + w[1] + w[2]);
	if (got[7].type == T_DOPEN) {
		copy pc = {.in = in, .l = l, .want = pwant, .got = pgot};
		value pv = {0};
		if (!pj_lx_seek(l, got[7].pos) ||
		    !pj_copy_value(&pc, t, 0, &pv, err))
			return false;
		if (pgot[0].type == T_INT && pgot[0].num >= 10) {
			if (pgot[1].type != T_INT || pgot[1].num !=
			    (long long)rs.cols || (pgot[2].type && pgot[2].num !=
			    1) || (pgot[3].type && pgot[3].num != 8))
				return qp_fail(err, "'%s': its cross-reference "
				    "stream's predictor is not one merge reads",
				    in->path);
			rs.png = true;
		} else if (pgot[0].type == T_INT && pgot[0].num != 1)
			return qp_fail(err, "'%s': its cross-reference stream's "
			    "predictor is not one merge reads", in->path);
	}
	if ((rs.to = in->xtab = tmpfile()) == NULL)
		return qp_fail(err, "cannot make a temporary file: %s",
		    strerror(errno));
	rs.cur = qp_xcalloc(rs.cols + 1, 1);
	rs.prev = qp_xcalloc(rs.cols + 1, 1);
	{
		bool ok = fseeko(l->f, (off_t)data, SEEK_SET) == 0 &&
		    inflate_data(l->f, got[8].num, NULL, 0, &rs, in->path, err);
		free(rs.cur);
		free(rs.prev);
		if (!ok)
			return false;
	}
	if (rs.n != in->size || fflush(in->xtab) != 0)
		return qp_fail(err, "'%s': its cross-reference stream has %lld "
		    "entries, its /Size says %lld", in->path, rs.n, in->size);
	in->xref = -1;
	return true;
}

static bool
read_trailer(input *in, qp_error *err)
{
	char tail[1025], head[16];
	long long end, sx = -1, first, count;
	size_t n;
	lexer l;
	tok t = {0};
	bool ok = false;
	static const char *const want[] = {"/Size", "/Root", "/Info", "/Prev",
	    "/Encrypt", "/XRefStm", NULL};
	value got[6] = {{0}};
	copy c = {.in = in, .l = &l, .want = want, .got = got};

	if (fread(head, 1, 8, in->f) != 8 || memcmp(head, "%PDF-", 5) != 0 ||
	    head[5] < '1' || head[5] > '9' || head[6] != '.' ||
	    head[7] < '0' || head[7] > '9')
		return qp_fail(err, "'%s' is not a PDF file", in->path);
	in->version = (head[5] - '0') * 10 + (head[7] - '0');
	if (fseeko(in->f, 0, SEEK_END) != 0 || (end = ftello(in->f)) < 0)
		return qp_fail(err, "'%s': cannot seek: %s", in->path,
		    strerror(errno));
	n = end < 1024 ? (size_t)end : 1024;
	if (fseeko(in->f, (off_t)(end - (long long)n), SEEK_SET) != 0 ||
	    fread(tail, 1, n, in->f) != n)
		return qp_fail(err, "'%s': cannot read: %s", in->path,
		    strerror(errno));
	tail[n] = '\0';
	for (size_t i = n; i-- > 0;)
		if (n - i >= 9 && memcmp(tail + i, "startxref", 9) == 0) {
			char *e;
			sx = strtoll(tail + i + 9, &e, 10);
			break;
		}
	if (sx <= 0 || sx >= end)
		return qp_fail(err, "'%s' has no 'startxref' at its end: not a "
		    "complete PDF file", in->path);
	pj_lx_init(&l, in->f, in->path);
	qp_buf_init(&t.text);
	if (!pj_lx_seek(&l, sx) || !pj_lx_next(&l, &t, err))
		goto done;
	if (t.type == T_INT) {
		ok = read_xref_stream(in, &l, &t, sx, err);
		goto done;
	}
	if (!pj_is_kw(&t, "xref")) {
		qp_fail(err, "'%s': no cross-reference table or stream where "
		    "'startxref' points", in->path);
		goto done;
	}
	if (!pj_lx_next(&l, &t, err) || t.type != T_INT ||
	    (first = t.ival) != 0 || !pj_lx_next(&l, &t, err) ||
	    t.type != T_INT || (count = t.ival) < 1) {
		qp_fail(err, "'%s': its cross-reference table does not start "
		    "at object 0", in->path);
		goto done;
	}
	/* The lines start after the end of line that follows the count. */
	{
		int ch;
		while ((ch = pj_lx_getc(&l)) != EOF && pj_lx_space(ch))
			;
		pj_lx_ungetc(&l, ch);
	}
	in->xref = l.pos;
	if (!pj_lx_seek(&l, in->xref + 20 * count) || !pj_lx_next(&l, &t, err))
		goto done;
	if (!pj_is_kw(&t, "trailer")) {
		qp_fail(err, "'%s' has more than one cross-reference section "
		    "(an incrementally updated file): merge reads files as "
		    "qrposter writes them", in->path);
		goto done;
	}
	{
		value v = {0};
		if (!pj_copy_value(&c, &t, 0, &v, err))
			goto done;
		if (v.type != T_DOPEN) {
			pj_lx_fail(&l, err, "the trailer is not a dictionary");
			goto done;
		}
	}
	if (got[3].type || got[4].type || got[5].type) {
		qp_fail(err, "'%s' is %s: merge reads files as qrposter writes "
		    "them", in->path, got[4].type ? "encrypted" :
		    "incrementally updated");
		goto done;
	}
	if (got[0].type != T_INT || got[0].ref || got[0].num != count ||
	    !got[1].ref) {
		qp_fail(err, "'%s': its trailer's /Size or /Root is missing or "
		    "does not match its table", in->path);
		goto done;
	}
	in->size = count;
	in->root = got[1].num;
	in->info = got[2].ref ? got[2].num : 0;
	ok = true;
done:
	qp_buf_free(&t.text);
	pj_lx_free(&l);
	return ok;
}

/* What the page tree's /Kids is read from: the file, or its object
 * stream (kept loaded while the kids are read). */
FILE *
pj_kids_file(input *in, qp_error *err)
{
	if (in->kids_stm < 0)
		return in->f;
	if (!load_objstm(in, in->kids_stm, err))
		return NULL;
	return in->stm_fp;
}

static bool
read_pages(qp_pdfjoin *j, input *in, qp_error *err)
{
	static const char *const cwant[] = {"/Pages", NULL};
	static const char *const pwant[] = {"/Kids", "/Count", "/Resources",
	    "/MediaBox", "/CropBox", "/Rotate", NULL};
	value cgot[1] = {{0}}, pgot[6] = {{0}};
	bool found, node = false;
	lexer l;
	tok t = {0};
	long long nkids = 0;
	bool ok = false;

	if (!pj_read_object(j, in, in->f, in->root, cwant, cgot, &found, NULL,
	    err))
		return false;
	if (!found || !cgot[0].ref)
		return qp_fail(err, "'%s': its catalog has no page tree",
		    in->path);
	in->pages = cgot[0].num;
	if (!pj_read_object(j, in, in->f, in->pages, pwant, pgot, &found, &node,
	    err))
		return false;
	if (!found || !node || pgot[0].type != T_AOPEN ||
	    pgot[1].type != T_INT || pgot[1].ref)
		return qp_fail(err, "'%s': its page tree has no /Kids array or "
		    "no /Count", in->path);
	for (int i = 2; i < 6; i++)
		if (pgot[i].type)
			return qp_fail(err, "'%s': its pages inherit %s from the "
			    "page tree, which merge does not carry over",
			    in->path, pwant[i]);
	in->kids = pgot[0].pos;
	{
		loc lc;
		if (!pj_locate(in, in->f, in->pages, &lc, err))
			return false;
		in->kids_stm = lc.type == 2 ? lc.stm : -1;
	}
	/* Count the kids: a page tree of one level has /Count of them. */
	pj_lx_init(&l, pj_kids_file(in, err), in->path);
	qp_buf_init(&t.text);
	if (l.f == NULL)
		goto done;
	if (!pj_lx_seek(&l, in->kids) || !pj_lx_next(&l, &t, err))
		goto done;
	for (;;) {
		if (!pj_lx_next(&l, &t, err))
			goto done;
		if (t.type == T_ACLOSE)
			break;
		if (t.type != T_INT || !pj_lx_next(&l, &t, err) ||
		    t.type != T_INT || !pj_lx_next(&l, &t, err) ||
		    !pj_is_kw(&t, "R")) {
			qp_fail(err, "'%s': its page tree's /Kids is not a list "
			    "of references", in->path);
			goto done;
		}
		nkids++;
	}
	if (nkids != pgot[1].num) {
		qp_fail(err, "'%s': its page tree has more than one level "
		    "(/Count %lld, %lld kids), which merge does not read",
		    in->path, pgot[1].num, nkids);
		goto done;
	}
	in->npages = nkids;
	ok = true;
done:
	qp_buf_free(&t.text);
	pj_lx_free(&l);
	return ok;
}

qp_pdfjoin *
qp_pdfjoin_open(const char *const *paths, size_t n, qp_error *err)
{
	qp_pdfjoin *j = qp_xcalloc(1, sizeof *j);
	long long base = FIRST_FREE - 1;

	j->in = qp_xcalloc(n ? n : 1, sizeof *j->in);
	j->n = n;
	qp_buf_init(&j->obj);
	qp_buf_init(&j->stm_head);
	qp_buf_init(&j->stm_body);
	for (size_t i = 0; i < n; i++) {
		input *in = &j->in[i];

		in->path = qp_xstrdup(paths[i]);
		in->kids_stm = -1;
		in->stm_num = -1;
		if ((in->f = fopen(in->path, "rb")) == NULL) {
			qp_fail(err, "cannot read '%s': %s", in->path,
			    strerror(errno));
			goto fail;
		}
		if (!read_trailer(in, err) || !read_pages(j, in, err))
			goto fail;
		if (in->size - 1 > LLONG_MAX / 4 - base) {
			qp_fail(err, "'%s': too many objects", in->path);
			goto fail;
		}
		in->base = base;
		base += in->size - 1;
	}
	return j;
fail:
	qp_pdfjoin_free(j);
	return NULL;
}

size_t
qp_pdfjoin_npages(const qp_pdfjoin *j, size_t i)
{
	return (size_t)j->in[i].npages;
}


void
qp_pdfjoin_free(qp_pdfjoin *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->n; i++) {
		if (j->in[i].f)
			fclose(j->in[i].f);
		if (j->in[i].x)
			fclose(j->in[i].x);
		if (j->in[i].xtab)
			fclose(j->in[i].xtab);
		if (j->in[i].stm_fp)
			fclose(j->in[i].stm_fp);
		free(j->in[i].stm_data);
		free(j->in[i].stm_nums);
		free(j->in[i].stm_offs);
		free(j->in[i].xblk);
		free(j->in[i].path);
	}
	free(j->in);
	qp_buf_free(&j->obj);
	qp_buf_free(&j->stm_head);
	qp_buf_free(&j->stm_body);
	libdeflate_free_compressor(j->zc);
	free(j);
}
