/*
 * pdfjoin.c - join PDF files object by object through their
 * cross-reference tables (see pdfjoin.h for why not libqpdf).
 *
 * The reader knows the object syntax of ISO 32000 section 7.3 (numbers,
 * strings, names, arrays, dictionaries, streams, references) and the
 * classic cross-reference table of 7.5.4, no more: it copies what it
 * reads, renumbering references, and never interprets content streams.
 */
#include "pdfjoin.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

/* Hostile or broken input must not exhaust memory or the stack. */
#define MAX_TOKEN (1 << 20)
#define MAX_DEPTH 64

/* The output's own objects; input i's object n becomes base_i + n. */
#define OBJ_CATALOG 1
#define OBJ_PAGES 2
#define OBJ_INFO 3
#define FIRST_FREE 4

/* Compact output: objects per object stream (qpdf's choice too), and a
 * bound on its size; bytes per cross-reference stream entry (W 1 8 2). */
#define OBJSTM_OBJECTS 100
#define OBJSTM_BYTES (256 * 1024)
#define XREC 11

enum {
	T_EOF, T_INT, T_NUM, T_NAME, T_STR, T_HEX, T_DOPEN, T_DCLOSE,
	T_AOPEN, T_ACLOSE, T_KW
};

typedef struct tok {
	int type;
	qp_buf text;   /* the bytes as written (names with their '/') */
	long long ival; /* T_INT */
	bool nl;       /* a line break came before it */
} tok;

typedef struct lexer {
	FILE *f;
	const char *path;
	long long pos; /* offset of the next byte read */
	tok back[2];   /* pushed-back tokens, a stack */
	int nback;
} lexer;

typedef struct input {
	char *path;
	FILE *f;         /* objects, then the page list */
	FILE *x;         /* table lines and /Length objects, while copying */
	long long xref;  /* offset of the table's first line */
	long long size;  /* trailer /Size: objects 0 .. size-1 */
	long long root, info, pages; /* object numbers (info 0: none) */
	long long npages;
	long long kids;  /* offset just before the page tree's /Kids array */
	long long base;
	long long nann;  /* link annotations added to its pages */
	int version;     /* 10 * major + minor of %PDF-M.m */
	/* A cross-reference stream (xref < 0): its entries, inflated, as
	 * fixed records of w[0] + w[1] + w[2] bytes in an unlinked file. */
	FILE *xtab;
	int w[3];
	long long kids_stm;  /* the page tree's object stream, or -1 */
	/* The object stream read last (objects in one are copied one after
	 * another, so one is kept). */
	long long stm_num;   /* -1: none */
	char *stm_data;
	size_t stm_len;
	long long stm_n, stm_first;
	long long *stm_nums, *stm_offs;
	FILE *stm_fp;        /* stm_data as a stream, for the lexer */
} input;

struct qp_pdfjoin {
	input *in;
	size_t n;
	/* writing */
	qp_outfile *out;
	GChecksum *sum;
	long long opos;
	bool nlpending;
	/* compact output */
	bool compact;
	qp_buf *sink;               /* where out_bytes goes, if not out */
	qp_buf obj;                 /* the object being copied */
	qp_buf stm_head, stm_body;  /* the object stream being filled */
	size_t stm_n;
	long long stm_num, next_stm, nstm;
	FILE *xs;                   /* the object streams' offsets */
	/* finishing pages (qp_pdfjoin_finish) */
	qp_pdfjoin_finish_fn fin_fn;
	void *fin_arg;
};

/* ---- reading tokens ---------------------------------------------------- */

static void
lx_init(lexer *l, FILE *f, const char *path)
{
	memset(l, 0, sizeof *l);
	l->f = f;
	l->path = path;
	qp_buf_init(&l->back[0].text);
	qp_buf_init(&l->back[1].text);
}

static void
lx_free(lexer *l)
{
	qp_buf_free(&l->back[0].text);
	qp_buf_free(&l->back[1].text);
}

static bool
lx_seek(lexer *l, long long off)
{
	l->nback = 0;
	l->pos = off;
	return fseeko(l->f, (off_t)off, SEEK_SET) == 0;
}

static int
lx_getc(lexer *l)
{
	int c = getc(l->f);

	if (c != EOF)
		l->pos++;
	return c;
}

static void
lx_ungetc(lexer *l, int c)
{
	if (c != EOF) {
		ungetc(c, l->f);
		l->pos--;
	}
}

static bool
is_space(int c)
{
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' ||
	    c == ' ';
}

static bool
is_delim(int c)
{
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' ||
	    c == ']' || c == '{' || c == '}' || c == '/' || c == '%';
}

static bool
lx_fail(lexer *l, qp_error *err, const char *what)
{
	return qp_fail(err, "'%s' at byte %lld: %s", l->path, l->pos, what);
}

static bool
tok_add(lexer *l, tok *t, int c, qp_error *err)
{
	if (t->text.len >= MAX_TOKEN)
		return lx_fail(l, err, "a string or name longer than 1 MiB");
	qp_buf_addc(&t->text, (char)c);
	return true;
}

/* A literal string, its '(' read: balanced parentheses, '\' escapes. */
static bool
lex_string(lexer *l, tok *t, qp_error *err)
{
	int depth = 1, c;

	while ((c = lx_getc(l)) != EOF) {
		if (!tok_add(l, t, c, err))
			return false;
		if (c == '\\') {
			if ((c = lx_getc(l)) == EOF)
				break;
			if (!tok_add(l, t, c, err))
				return false;
		} else if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return true;
	}
	return lx_fail(l, err, "a string is not closed");
}

/* The next token into t (its text replaced). */
static bool
lx_next(lexer *l, tok *t, qp_error *err)
{
	int c;

	if (l->nback > 0) {
		tok tmp = *t;
		*t = l->back[--l->nback];
		l->back[l->nback] = tmp;
		return true;
	}
	qp_buf_reset(&t->text);
	t->nl = false;
	for (;;) {
		c = lx_getc(l);
		if (c == '%') {
			while ((c = lx_getc(l)) != EOF && c != '\n' && c != '\r')
				;
		}
		if (c == '\n' || c == '\r')
			t->nl = true;
		if (!is_space(c))
			break;
	}
	if (c == EOF) {
		t->type = T_EOF;
		return true;
	}
	if (!tok_add(l, t, c, err))
		return false;
	switch (c) {
	case '(':
		t->type = T_STR;
		return lex_string(l, t, err);
	case '<':
		if ((c = lx_getc(l)) == '<') {
			t->type = T_DOPEN;
			return tok_add(l, t, c, err);
		}
		t->type = T_HEX;
		for (; c != EOF && c != '>'; c = lx_getc(l))
			if (!tok_add(l, t, c, err))
				return false;
		if (c == EOF)
			return lx_fail(l, err, "a hexadecimal string is not "
			    "closed");
		return tok_add(l, t, c, err);
	case '>':
		if (lx_getc(l) != '>')
			return lx_fail(l, err, "a lone '>'");
		t->type = T_DCLOSE;
		return tok_add(l, t, '>', err);
	case '[':
		t->type = T_AOPEN;
		return true;
	case ']':
		t->type = T_ACLOSE;
		return true;
	case ')':
	case '{':
	case '}':
		return lx_fail(l, err, "an unexpected delimiter");
	default:
		break;
	}
	/* A name, a number or a keyword: regular characters. */
	while ((c = lx_getc(l)) != EOF && !is_space(c) && !is_delim(c))
		if (!tok_add(l, t, c, err))
			return false;
	lx_ungetc(l, c);
	if (t->text.data[0] == '/') {
		t->type = T_NAME;
		return true;
	}
	{
		const char *s = t->text.data;
		bool digits = *s != '\0', num = true;
		char *end;

		if (*s == '+' || *s == '-')
			s++;
		digits = *s != '\0';
		for (const char *p = s; *p; p++)
			if (*p < '0' || *p > '9')
				digits = false;
		if (digits) {
			errno = 0;
			t->ival = strtoll(t->text.data, &end, 10);
			if (errno == 0 && *end == '\0') {
				t->type = T_INT;
				return true;
			}
		}
		for (const char *p = s; *p; p++)
			if ((*p < '0' || *p > '9') && *p != '.')
				num = false;
		t->type = num && *s ? T_NUM : T_KW;
	}
	return true;
}

/* Push t back (its contents move to the lexer; t gets an empty buffer). */
static void
lx_push(lexer *l, tok *t)
{
	tok tmp = l->back[l->nback];

	l->back[l->nback++] = *t;
	*t = tmp;
}

static bool
is_kw(const tok *t, const char *kw)
{
	return t->type == T_KW && strcmp(t->text.data, kw) == 0;
}

/* ---- the cross-reference table ---------------------------------------- */

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
	if (fseeko(f, (off_t)(in->xref + 20 * n), SEEK_SET) != 0 ||
	    fread(e, 1, 20, f) != 20)
		return qp_fail(err, "'%s': cannot read its cross-reference "
		    "table: %s", in->path, strerror(errno));
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

/* Where object n is: 0 free, 1 at off in the file, 2 the idx-th object
 * of object stream stm. */
typedef struct loc {
	int type;
	long long off, stm, idx;
} loc;

static unsigned long long
be_field(const unsigned char *p, int w)
{
	unsigned long long v = 0;

	for (int i = 0; i < w; i++)
		v = v << 8 | p[i];
	return v;
}

static bool
locate(input *in, FILE *f, long long n, loc *lc, qp_error *err)
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

/* What copy_value saw, for the keys the joiner needs. */
typedef struct value {
	int type;        /* T_INT, a reference (T_KW "R"), or other */
	long long num;   /* the integer, or the object referred to */
	bool ref;
	long long pos;   /* where it starts (for /Kids) */
	/* An array: its items, and the first four if they are numbers
	 * (a /MediaBox). */
	int nitems, nnums;
	double nums[4];
} value;

typedef struct copy {
	qp_pdfjoin *j;
	input *in;
	lexer *l;
	bool emit;             /* write what is read (else only parse) */
	const char *const *keep; /* top-level keys to keep (NULL: all) */
	/* Top-level keys noted while reading, NULL-terminated names. */
	const char *const *want;
	value *got;
	bool pages_node;       /* saw /Type /Pages at the top */
	bool container;        /* saw /Type /ObjStm or /XRef at the top */
	/* Where the top-level /Length value went in j->sink. */
	size_t len_from, len_to;
	bool page_node;        /* saw /Type /Page at the top */
} copy;

static void
out_bytes(qp_pdfjoin *j, const char *s, size_t n)
{
	if (j->sink) {
		qp_buf_add(j->sink, s, n);
		return;
	}
	qp_outfile_write(j->out, s, n);
	g_checksum_update(j->sum, (const guchar *)s, (gssize)n);
	j->opos += (long long)n;
}

static void
out_str(qp_pdfjoin *j, const char *s)
{
	out_bytes(j, s, strlen(s));
}

/* A token, after a line break or a space as the input had. */
static void
out_tok(copy *c, const tok *t, const char *text)
{
	if (!c->emit)
		return;
	out_str(c->j, t->nl || c->j->nlpending ? "\n" : " ");
	c->j->nlpending = false;
	out_str(c->j, text);
}

/* The output number of input object n. */
static long long
renumber(const input *in, long long n)
{
	if (n == in->root)
		return OBJ_CATALOG;
	if (n == in->pages)
		return OBJ_PAGES;
	if (n == in->info && in->info > 0)
		return OBJ_INFO;
	return in->base + n;
}

static bool copy_value(copy *c, tok *t, int depth, value *v, qp_error *err);

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

		if (!lx_next(c->l, t, err))
			goto done;
		if (t->type == T_DCLOSE)
			break;
		if (t->type != T_NAME) {
			lx_fail(c->l, err, "a dictionary key is not a name");
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
			lx_fail(c->l, err, "a dictionary key is not a name");
			goto done;
		}
		if (depth == 0 && strcmp(t->text.data, "/Type") == 0) {
			if (!copy_value(c, t, depth + 1, &v, err))
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
			if (!copy_value(c, t, depth + 1, &v, err))
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
static bool
copy_value(copy *c, tok *t, int depth, value *v, qp_error *err)
{
	char buf[64];

	if (depth > MAX_DEPTH)
		return lx_fail(c->l, err, "arrays or dictionaries nested "
		    "too deep");
	if (!lx_next(c->l, t, err))
		return false;
	v->type = t->type;
	switch (t->type) {
	case T_DOPEN:
		return copy_dict(c, t, depth, err);
	case T_AOPEN:
		out_tok(c, t, "[");
		for (;;) {
			value item = {0};
			if (!lx_next(c->l, t, err))
				return false;
			if (t->type == T_ACLOSE)
				break;
			lx_push(c->l, t);
			if (!copy_value(c, t, depth + 1, &item, err))
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
		if (!lx_next(c->l, &g, err))
			goto int_fail;
		if (g.type == T_INT) {
			if (!lx_next(c->l, &r, err))
				goto int_fail;
			if (is_kw(&r, "R"))
				ref = true;
			else
				lx_push(c->l, &r);
		}
		if (!ref)
			lx_push(c->l, &g);
		qp_buf_free(&g.text);
		qp_buf_free(&r.text);
		v->num = n;
		v->ref = ref;
		if (ref) {
			if (n < 1 || n >= c->in->size)
				snprintf(buf, sizeof buf, "null");
			else
				snprintf(buf, sizeof buf, "%lld 0 R",
				    renumber(c->in, n));
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
		if (is_kw(t, "true") || is_kw(t, "false") ||
		    is_kw(t, "null")) {
			out_tok(c, t, t->text.data);
			return true;
		}
		return lx_fail(c->l, err, "an unexpected keyword where a value "
		    "belongs");
	default:
		return lx_fail(c->l, err, t->type == T_EOF ? "the file ends "
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
	if (!lx_seek(l, off))
		return qp_fail(err, "'%s': cannot seek: %s", l->path,
		    strerror(errno));
	if (!lx_next(l, t, err))
		return false;
	if (t->type != T_INT || t->ival != n)
		return true;
	if (!lx_next(l, t, err))
		return false;
	if (t->type != T_INT)
		return true;
	if (!lx_next(l, t, err))
		return false;
	*found = is_kw(t, "obj");
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

static bool read_object(qp_pdfjoin *j, input *in, FILE *f, long long n,
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
	copy c = {NULL, in, &l, false, NULL, want, got, false, false, 0, 0, false};

	if (in->stm_num == s)
		return true;
	if ((x = aux_file(in, err)) == NULL || !locate(in, x, s, &lc, err))
		return false;
	if (lc.type != 1)
		return qp_fail(err, "'%s': object stream %lld is not in the "
		    "file", in->path, s);
	in->stm_num = -1;
	if (in->stm_fp)
		fclose(in->stm_fp);
	in->stm_fp = NULL;
	lx_init(&l, x, in->path);
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
		if (!copy_value(&c, &t, 0, &v, err) || !lx_next(&l, &t, err))
			goto done;
		if (v.type != T_DOPEN || !is_kw(&t, "stream")) {
			lx_fail(&l, err, "an object stream is not a stream");
			goto done;
		}
	}
	{
		int ch = lx_getc(&l);
		if (ch == '\r')
			ch = lx_getc(&l);
		if (ch != '\n') {
			lx_fail(&l, err, "'stream' is not followed by a line "
			    "end");
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
		if (!read_object(NULL, in, x, got[5].num, NULL, &lv, &found,
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

		lx_init(&h, in->stm_fp, in->path);
		qp_buf_init(&ht.text);
		for (long long i = 0; i < in->stm_n && hok; i++) {
			hok = lx_next(&h, &ht, err) && ht.type == T_INT &&
			    (in->stm_nums[i] = ht.ival) >= 0 &&
			    lx_next(&h, &ht, err) && ht.type == T_INT &&
			    (in->stm_offs[i] = ht.ival) >= 0 &&
			    in->stm_first + in->stm_offs[i] <=
			    (long long)in->stm_len;
		}
		qp_buf_free(&ht.text);
		lx_free(&h);
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
	lx_free(&l);
	return ok;
}

/*
 * Put l at the value of object n, found at lc: after "N G obj" in the
 * file (l reading f), or at its place in its object stream (l reading
 * that). *found is false if another object, or none, is there.
 */
static bool
seek_object(input *in, lexer *l, FILE *f, tok *t, long long n,
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
	if (!lx_seek(l, in->stm_first + in->stm_offs[lc->idx]))
		return qp_fail(err, "cannot read an object stream");
	*found = true;
	return true;
}

/*
 * Parse (without writing) object n of in, noting the top-level keys in
 * want (values into got). *found is false for an object the table lists
 * but the file does not hold.
 */
static bool
read_object(qp_pdfjoin *j, input *in, FILE *f, long long n,
    const char *const *want, value *got, bool *found, bool *pages_node,
    qp_error *err)
{
	lexer l;
	tok t = {0};
	loc lc;
	bool ok = false;
	copy c = {j, in, &l, false, NULL, want, got, false, false, 0, 0, false};

	*found = false;
	if (!locate(in, f, n, &lc, err))
		return false;
	if (lc.type == 0)
		return true;
	lx_init(&l, f, in->path);
	qp_buf_init(&t.text);
	if (!seek_object(in, &l, f, &t, n, &lc, found, err))
		goto done;
	ok = true;
	if (*found) {
		value v = {0};
		v.pos = l.pos;
		ok = copy_value(&c, &t, 0, &v, err);
		if (pages_node)
			*pages_node = c.pages_node;
		if (want == NULL && got)
			*got = v;
	}
done:
	qp_buf_free(&t.text);
	lx_free(&l);
	return ok;
}

/* ---- opening ---------------------------------------------------------- */

/* The values of a small array of integers at pos ("[ 1 8 2 ]"). */
static bool
int_array(lexer *l, tok *t, long long pos, long long *v, int n,
    qp_error *err)
{
	if (!lx_seek(l, pos) || !lx_next(l, t, err) || t->type != T_AOPEN)
		return false;
	for (int i = 0; i < n; i++) {
		if (!lx_next(l, t, err) || t->type != T_INT)
			return false;
		v[i] = t->ival;
	}
	return lx_next(l, t, err) && t->type == T_ACLOSE;
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
	copy c = {NULL, in, l, false, NULL, want, got, false, false, 0, 0, false};
	long long w[3], idx[2], data;
	rows rs;
	bool found;

	memset(&rs, 0, sizeof rs);
	if (!object_header(l, t, sx, t->ival, &found, err))
		return false;
	if (!found || !copy_value(&c, t, 0, &v, err) || v.type != T_DOPEN ||
	    !lx_next(l, t, err) || !is_kw(t, "stream"))
		return qp_fail(err, "'%s': no cross-reference table or stream "
		    "where 'startxref' points", in->path);
	{
		int ch = lx_getc(l);
		if (ch == '\r')
			ch = lx_getc(l);
		if (ch != '\n')
			return lx_fail(l, err, "'stream' is not followed by a "
			    "line end");
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
		copy pc = {NULL, in, l, false, NULL, pwant, pgot, false, false, 0, 0, false};
		value pv = {0};
		if (!lx_seek(l, got[7].pos) || !copy_value(&pc, t, 0, &pv, err))
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
	copy c = {NULL, in, &l, false, NULL, want, got, false, false, 0, 0, false};

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
	lx_init(&l, in->f, in->path);
	qp_buf_init(&t.text);
	if (!lx_seek(&l, sx) || !lx_next(&l, &t, err))
		goto done;
	if (t.type == T_INT) {
		ok = read_xref_stream(in, &l, &t, sx, err);
		goto done;
	}
	if (!is_kw(&t, "xref")) {
		qp_fail(err, "'%s': no cross-reference table or stream where "
		    "'startxref' points", in->path);
		goto done;
	}
	if (!lx_next(&l, &t, err) || t.type != T_INT || (first = t.ival) != 0 ||
	    !lx_next(&l, &t, err) || t.type != T_INT || (count = t.ival) < 1) {
		qp_fail(err, "'%s': its cross-reference table does not start "
		    "at object 0", in->path);
		goto done;
	}
	/* The lines start after the end of line that follows the count. */
	{
		int ch;
		while ((ch = lx_getc(&l)) != EOF && is_space(ch))
			;
		lx_ungetc(&l, ch);
	}
	in->xref = l.pos;
	if (!lx_seek(&l, in->xref + 20 * count) || !lx_next(&l, &t, err))
		goto done;
	if (!is_kw(&t, "trailer")) {
		qp_fail(err, "'%s' has more than one cross-reference section "
		    "(an incrementally updated file): merge reads files as "
		    "qrposter writes them", in->path);
		goto done;
	}
	{
		value v = {0};
		if (!copy_value(&c, &t, 0, &v, err))
			goto done;
		if (v.type != T_DOPEN) {
			lx_fail(&l, err, "the trailer is not a dictionary");
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
	lx_free(&l);
	return ok;
}

/* What the page tree's /Kids is read from: the file, or its object
 * stream (kept loaded while the kids are read). */
static FILE *
kids_file(input *in, qp_error *err)
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

	if (!read_object(j, in, in->f, in->root, cwant, cgot, &found, NULL,
	    err))
		return false;
	if (!found || !cgot[0].ref)
		return qp_fail(err, "'%s': its catalog has no page tree",
		    in->path);
	in->pages = cgot[0].num;
	if (!read_object(j, in, in->f, in->pages, pwant, pgot, &found, &node,
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
		if (!locate(in, in->f, in->pages, &lc, err))
			return false;
		in->kids_stm = lc.type == 2 ? lc.stm : -1;
	}
	/* Count the kids: a page tree of one level has /Count of them. */
	lx_init(&l, kids_file(in, err), in->path);
	qp_buf_init(&t.text);
	if (l.f == NULL)
		goto done;
	if (!lx_seek(&l, in->kids) || !lx_next(&l, &t, err))
		goto done;
	for (;;) {
		if (!lx_next(&l, &t, err))
			goto done;
		if (t.type == T_ACLOSE)
			break;
		if (t.type != T_INT || !lx_next(&l, &t, err) ||
		    t.type != T_INT || !lx_next(&l, &t, err) || !is_kw(&t, "R")) {
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
	lx_free(&l);
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
		free(j->in[i].path);
	}
	free(j->in);
	qp_buf_free(&j->obj);
	qp_buf_free(&j->stm_head);
	qp_buf_free(&j->stm_body);
	free(j);
}

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
		if (!read_object(j, in, in->x, v->num, NULL, &got, &found,
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
	int c = lx_getc(l);

	/* "stream" is followed by CR LF or LF, then the data. */
	if (c == '\r')
		c = lx_getc(l);
	if (c != '\n')
		return lx_fail(l, err, "'stream' is not followed by a line "
		    "end");
	out_str(j, "\nstream\n");
	while (len > 0) {
		size_t want = len < (long long)sizeof buf ? (size_t)len :
		    sizeof buf;
		size_t got = fread(buf, 1, want, l->f);
		if (got == 0)
			return lx_fail(l, err, "the file ends inside a stream");
		out_bytes(j, buf, got);
		l->pos += (long long)got;
		len -= (long long)got;
	}
	out_str(j, "\nendstream");
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
		return qp_fail(err, "'%s': %zu links, where %lld were announced",
		    in->path, f->nlinks, in->nann);
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
	lx_init(&l, kids_file(in, err), in->path);
	qp_buf_init(&t.text);
	if (l.f == NULL || !lx_seek(&l, in->kids) || !lx_next(&l, &t, err))
		goto done;
	for (long long p = 0; p < in->npages; p++) {
		if (!lx_next(&l, &t, err) || t.type != T_INT) {
			qp_fail(err, "'%s' changed while it was read", in->path);
			goto done;
		}
		if (t.ival > 0 && t.ival < in->size)
			pf->page_of[t.ival] = p;
		if (!lx_next(&l, &t, err) || !lx_next(&l, &t, err))
			goto done;
	}
	ok = true;
done:
	qp_buf_free(&t.text);
	lx_free(&l);
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
	copy c = {j, in, &l, true, keep, want, got, false, false, 0, 0, false};
	char head[64];
	bool ok = false, found;

	memset(e, 0, sizeof *e);
	lx_init(&l, in->f, in->path);
	qp_buf_init(&t.text);
	if (!seek_object(in, &l, in->f, &t, n, lc, &found, err))
		goto done;
	if (!found) {
		ok = true;
		goto done;
	}
	snprintf(head, sizeof head, "%lld 0 obj", newnum);
	qp_buf_reset(&j->obj);
	j->sink = &j->obj;
	j->nlpending = true;
	if (!copy_value(&c, &t, 0, &v, err))
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
			out_str(j, head);
			out_bytes(j, j->obj.data, j->obj.len);
			out_str(j, "\nendobj\n");
		}
		goto done;
	}
	if (!lx_next(&l, &t, err))
		goto done;
	if (is_kw(&t, "stream")) {
		long long len = 0;
		if (v.type != T_DOPEN) {
			lx_fail(&l, err, "a stream without a dictionary");
			goto done;
		}
		if (!stream_length(j, in, &got[0], &len, err))
			goto done;
		e->type = 1;
		e->f2 = j->opos;
		out_str(j, head);
		if (pack && got[0].ref) {
			char num[32];
			snprintf(num, sizeof num, " %lld", len);
			out_bytes(j, j->obj.data, c.len_from);
			out_str(j, num);
			out_bytes(j, j->obj.data + c.len_to, j->obj.len -
			    c.len_to);
		} else
			out_bytes(j, j->obj.data, j->obj.len);
		if (!copy_stream_data(j, &l, len, err) ||
		    !lx_next(&l, &t, err))
			goto done;
		if (!is_kw(&t, "endstream")) {
			lx_fail(&l, err, "a stream's data does not end where its "
			    "/Length says");
			goto done;
		}
		if (!lx_next(&l, &t, err))
			goto done;
		pack = false;
	} else if (!pack) {
		e->type = 1;
		e->f2 = j->opos;
		out_str(j, head);
		out_bytes(j, j->obj.data, j->obj.len);
	}
	if (!is_kw(&t, "endobj")) {
		lx_fail(&l, err, "an object does not end with 'endobj'");
		goto done;
	}
	if (pack)
		ok = pack_object(j, newnum, e, err);
	else {
		out_str(j, "\nendobj\n");
		ok = true;
	}
done:
	j->sink = NULL;
	qp_buf_free(&t.text);
	lx_free(&l);
	return ok;
}

/* Compressed with zlib, as Flate streams are. */
static bool
deflate_buf(const char *s, size_t n, unsigned char **out, size_t *outlen,
    qp_error *err)
{
	uLongf len = compressBound((uLong)n);

	*out = qp_xmalloc(len);
	if (compress2(*out, &len, (const Bytef *)s, (uLong)n, 6) != Z_OK) {
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
	if (!deflate_buf(j->stm_head.data, j->stm_head.len, &z, &zlen, err))
		return false;
	snprintf(buf, sizeof buf, "%lld 0 obj\n<< /Type /ObjStm /N %zu "
	    "/First %zu /Filter /FlateDecode /Length %zu >>\nstream\n",
	    j->stm_num, j->stm_n, first, zlen);
	out_str(j, buf);
	out_bytes(j, (const char *)z, zlen);
	out_str(j, "\nendstream\nendobj\n");
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
			out_str(j, head);
			out_bytes(j, j->obj.data, j->obj.len);
			out_str(j, "\nendobj\n");
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
	out_str(j, buf);
	while ((got = fread(lines, 1, sizeof lines, zf)) > 0)
		out_bytes(j, (const char *)lines, got);
	if (ferror(zf))
		goto rd;
	snprintf(buf, sizeof buf, "\nendstream\nendobj\nstartxref\n%lld\n"
	    "%%%%EOF\n", at);
	out_str(j, buf);
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
	out_str(j, buf);
	out_str(j, "0000000000 65535 f \n");
	for (int k = 1; k < FIRST_FREE; k++) {
		snprintf(buf, sizeof buf, own[k].type ? "%010lld 00000 n \n" :
		    "%010lld 65535 f \n", own[k].type ? own[k].f2 : 0LL);
		out_str(j, buf);
	}
	if (fflush(xf) != 0 || fseeko(xf, 0, SEEK_SET) != 0)
		return qp_fail(err, "cannot read back a temporary file: %s",
		    strerror(errno));
	while ((got = fread(lines, 1, sizeof lines, xf)) > 0)
		out_bytes(j, lines, got);
	if (ferror(xf))
		return qp_fail(err, "cannot read back a temporary file");
	snprintf(buf, sizeof buf, "trailer\n<< /Size %lld\n   /Root %d 0 R\n"
	    "%s>>\nstartxref\n%lld\n%%%%EOF\n", size, OBJ_CATALOG,
	    own[OBJ_INFO].type ? "   /Info 3 0 R\n" : "", at);
	out_str(j, buf);
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
		FILE *kf = kids_file(&j->in[i], err);
		lx_init(&ls[i], kf, j->in[i].path);
		if (kf == NULL)
			goto done;
		left[i] = j->in[i].npages;
		/* Past the '['. */
		if (!lx_seek(&ls[i], j->in[i].kids) ||
		    !lx_next(&ls[i], &t, err))
			goto done;
	}
	snprintf(buf, sizeof buf, "%d 0 obj\n<< /Type /Pages\n/Kids [",
	    OBJ_PAGES);
	out_str(j, buf);
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
		if (!lx_next(&ls[k], &t, err))
			goto done;
		n = t.ival;
		if (t.type != T_INT || !lx_next(&ls[k], &t, err) ||
		    t.type != T_INT || !lx_next(&ls[k], &t, err) ||
		    !is_kw(&t, "R")) {
			qp_fail(err, "'%s' changed while it was read",
			    j->in[k].path);
			goto done;
		}
		snprintf(buf, sizeof buf, "%s%lld 0 R", *count % 8 ? " " :
		    "\n", renumber(&j->in[k], n));
		out_str(j, buf);
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
	out_str(j, buf);
	ok = true;
done:
	for (size_t i = 0; i < j->n; i++)
		lx_free(&ls[i]);
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
	out_str(j, buf);
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
		if (!locate(&j->in[0], j->in[0].f, j->in[0].root, &lc, err) ||
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
		if (!locate(&j->in[0], j->in[0].f, j->in[0].info, &lc, err) ||
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

			if (!locate(in, in->x, n, &lc, err))
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
