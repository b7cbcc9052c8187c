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
	int version;     /* 10 * major + minor of %PDF-M.m */
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

/* ---- values --------------------------------------------------------- */

/* What copy_value saw, for the keys the joiner needs. */
typedef struct value {
	int type;        /* T_INT, a reference (T_KW "R"), or other */
	long long num;   /* the integer, or the object referred to */
	bool ref;
	long long pos;   /* where it starts (for /Kids) */
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
	/* Where the top-level /Length value went in j->sink. */
	size_t len_from, len_to;
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

static bool
copy_dict(copy *c, tok *t, int depth, qp_error *err)
{
	out_tok(c, t, "<<");
	for (;;) {
		bool saved = c->emit, noted = false;
		value v = {0};
		size_t w = 0;

		if (!lx_next(c->l, t, err))
			return false;
		if (t->type == T_DCLOSE)
			break;
		if (t->type != T_NAME)
			return lx_fail(c->l, err, "a dictionary key is not a "
			    "name");
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
		if (c->l->nback) /* a key is never a look-ahead */
			return lx_fail(c->l, err, "a dictionary key is not a "
			    "name");
		if (depth == 0 && strcmp(t->text.data, "/Type") == 0) {
			if (!copy_value(c, t, depth + 1, &v, err))
				return false;
			if (t->type == T_NAME && strcmp(t->text.data,
			    "/Pages") == 0)
				c->pages_node = true;
		} else {
			bool len = depth == 0 && c->emit && c->j && c->j->sink &&
			    strcmp(t->text.data, "/Length") == 0;
			if (len)
				c->len_from = c->j->sink->len;
			v.pos = c->l->pos;
			if (!copy_value(c, t, depth + 1, &v, err))
				return false;
			if (len)
				c->len_to = c->j->sink->len;
		}
		if (noted)
			c->got[w] = v;
		c->emit = saved;
	}
	out_tok(c, t, ">>");
	return true;
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
	long long off;
	bool used, ok = false;
	copy c = {j, in, &l, false, NULL, want, got, false, 0, 0};

	*found = false;
	if (!xref_entry(in, f, n, &off, &used, err))
		return false;
	if (!used)
		return true;
	lx_init(&l, f, in->path);
	qp_buf_init(&t.text);
	if (!object_header(&l, &t, off, n, found, err))
		goto done;
	ok = true;
	if (*found) {
		value v = {0};
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
	copy c = {NULL, in, &l, false, NULL, want, got, false, 0, 0};

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
	if (!is_kw(&t, "xref")) {
		qp_fail(err, "'%s' has a cross-reference stream (or a damaged "
		    "table) where merge needs a classic table: it was not "
		    "written by this qrposter's Cairo or libqpdf", in->path);
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
	/* Count the kids: a page tree of one level has /Count of them. */
	lx_init(&l, in->f, in->path);
	qp_buf_init(&t.text);
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

/*
 * Copy object n of in under its new number (catalog: only the keys in
 * keep), filling *e. With pack, an object that is not a stream goes into
 * an object stream and a stream's /Length is made direct. An object the
 * table lists but the file does not hold there becomes a free entry:
 * Cairo 1.16 lists the structure element of a link tag that it never
 * writes (issue 11); a reference to it is a reference to the null object
 * (ISO 32000-2, 7.3.10).
 */
static bool
copy_object(qp_pdfjoin *j, input *in, long long n, long long newnum,
    long long off, const char *const *keep, bool pack, xentry *e,
    qp_error *err)
{
	static const char *const want[] = {"/Length", NULL};
	value got[1] = {{0}}, v = {0};
	lexer l;
	tok t = {0};
	copy c = {j, in, &l, true, keep, want, got, false, 0, 0};
	char head[64];
	bool ok = false, found;

	memset(e, 0, sizeof *e);
	lx_init(&l, in->f, in->path);
	qp_buf_init(&t.text);
	if (!object_header(&l, &t, off, n, &found, err))
		goto done;
	if (!found) {
		ok = true;
		goto done;
	}
	snprintf(head, sizeof head, "%lld 0 obj", newnum);
	if (pack) {
		/* Held until it is known whether it is a stream. */
		qp_buf_reset(&j->obj);
		j->sink = &j->obj;
	} else {
		e->type = 1;
		e->f2 = j->opos;
		out_str(j, head);
	}
	j->nlpending = true;
	if (!copy_value(&c, &t, 0, &v, err))
		goto done;
	j->sink = NULL;
	if (c.pages_node && n != in->pages) {
		qp_fail(err, "'%s': its page tree has more than one level, "
		    "which merge does not read", in->path);
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
		if (pack) {
			qp_buf d;
			qp_buf_init(&d);
			qp_buf_add(&d, j->obj.data, c.len_from);
			if (got[0].ref)
				qp_buf_printf(&d, " %lld", len);
			else
				qp_buf_add(&d, j->obj.data + c.len_from,
				    c.len_to - c.len_from);
			qp_buf_add(&d, j->obj.data + c.len_to, j->obj.len -
			    c.len_to);
			e->type = 1;
			e->f2 = j->opos;
			out_str(j, head);
			out_bytes(j, d.data, d.len);
			qp_buf_free(&d);
		}
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
		lx_init(&ls[i], j->in[i].f, j->in[i].path);
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
	size = j->in[j->n - 1].base + j->in[j->n - 1].size;
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
		long long off;
		bool used;
		if (!xref_entry(&j->in[0], j->in[0].f, j->in[0].root, &off,
		    &used, err) ||
		    !copy_object(j, &j->in[0], j->in[0].root, OBJ_CATALOG, off,
		    keep, false, &own[OBJ_CATALOG], err))
			goto done;
	}
	own[OBJ_PAGES].type = 1;
	own[OBJ_PAGES].f2 = j->opos;
	if (!write_pages(j, next, arg, &count, err))
		goto done;
	if (j->in[0].info > 0) {
		long long off;
		bool used;
		if (!xref_entry(&j->in[0], j->in[0].f, j->in[0].info, &off,
		    &used, err))
			goto done;
		if (used && !copy_object(j, &j->in[0], j->in[0].info, OBJ_INFO,
		    off, NULL, false, &own[OBJ_INFO], err))
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
		for (long long n = 1; n < in->size; n++) {
			xentry e = {0, 0, 0};
			long long off;
			bool used;

			if (!xref_entry(in, in->x, n, &off, &used, err))
				goto done;
			if (n == in->root || n == in->pages || n == in->info)
				used = false;
			if (used && !copy_object(j, in, n, in->base + n, off,
			    NULL, compact, &e, err))
				goto done;
			if (!xentry_put(j, xf, &e, err))
				goto done;
		}
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
