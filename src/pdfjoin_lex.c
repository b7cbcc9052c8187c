/*
 * pdfjoin_lex.c - the joiner's lexer (pdfjoin.h says why not libqpdf):
 * the tokens of ISO 32000 section 7.2 read from a file or an object
 * stream held in memory, with a byte count for messages and two tokens
 * of push-back; bounded by MAX_TOKEN (pdfjoin_int.h).
 */
#include "pdfjoin_int.h"

#include <stdlib.h>
#include <string.h>

void
pj_lx_init(lexer *l, FILE *f, const char *path)
{
	memset(l, 0, sizeof *l);
	l->f = f;
	l->path = path;
	qp_buf_init(&l->back[0].text);
	qp_buf_init(&l->back[1].text);
}

void
pj_lx_free(lexer *l)
{
	qp_buf_free(&l->back[0].text);
	qp_buf_free(&l->back[1].text);
}

bool
pj_lx_seek(lexer *l, long long off)
{
	l->nback = 0;
	l->pos = off;
	return fseeko(l->f, (off_t)off, SEEK_SET) == 0;
}

int
pj_lx_getc(lexer *l)
{
	/* Unlocked: a lexer's stream is read by one thread only, and the
	 * lock was an eighth of the joiner's instructions (callgrind). */
	int c = getc_unlocked(l->f);

	if (c != EOF)
		l->pos++;
	return c;
}

void
pj_lx_ungetc(lexer *l, int c)
{
	if (c != EOF) {
		ungetc(c, l->f);
		l->pos--;
	}
}

bool
pj_lx_space(int c)
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

bool
pj_lx_fail(lexer *l, qp_error *err, const char *what)
{
	return qp_fail(err, "'%s' at byte %lld: %s", l->path, l->pos, what);
}

static bool
tok_add(lexer *l, tok *t, int c, qp_error *err)
{
	if (t->text.len >= MAX_TOKEN)
		return pj_lx_fail(l, err, "a string or name longer than 1 MiB");
	qp_buf_addc(&t->text, (char)c);
	return true;
}

/* A literal string, its '(' read: balanced parentheses, '\' escapes. */
static bool
lex_string(lexer *l, tok *t, qp_error *err)
{
	int depth = 1, c;

	while ((c = pj_lx_getc(l)) != EOF) {
		if (!tok_add(l, t, c, err))
			return false;
		if (c == '\\') {
			if ((c = pj_lx_getc(l)) == EOF)
				break;
			if (!tok_add(l, t, c, err))
				return false;
		} else if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return true;
	}
	return pj_lx_fail(l, err, "a string is not closed");
}

/* The next token into t (its text replaced). */
bool
pj_lx_next(lexer *l, tok *t, qp_error *err)
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
		c = pj_lx_getc(l);
		if (c == '%') {
			while ((c = pj_lx_getc(l)) != EOF && c != '\n' &&
			    c != '\r')
				;
		}
		if (c == '\n' || c == '\r')
			t->nl = true;
		if (!pj_lx_space(c))
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
		if ((c = pj_lx_getc(l)) == '<') {
			t->type = T_DOPEN;
			return tok_add(l, t, c, err);
		}
		t->type = T_HEX;
		for (; c != EOF && c != '>'; c = pj_lx_getc(l))
			if (!tok_add(l, t, c, err))
				return false;
		if (c == EOF)
			return pj_lx_fail(l, err, "a hexadecimal string is not "
			    "closed");
		return tok_add(l, t, c, err);
	case '>':
		if (pj_lx_getc(l) != '>')
			return pj_lx_fail(l, err, "a lone '>'");
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
		return pj_lx_fail(l, err, "an unexpected delimiter");
	default:
		break;
	}
	/* A name, a number or a keyword: regular characters. */
	while ((c = pj_lx_getc(l)) != EOF && !pj_lx_space(c) && !is_delim(c))
		if (!tok_add(l, t, c, err))
			return false;
	pj_lx_ungetc(l, c);
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
void
pj_lx_push(lexer *l, tok *t)
{
	tok tmp = l->back[l->nback];

	l->back[l->nback++] = *t;
	*t = tmp;
}

bool
pj_is_kw(const tok *t, const char *kw)
{
	return t->type == T_KW && strcmp(t->text.data, kw) == 0;
}
