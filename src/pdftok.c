/*
 * pdftok.c - tokens of a PDF content stream (pdftok.h). Written here:
 * libqpdf tokenizes whole files (QPDFTokenizer is C++ only; its C API
 * gives objects, not a stream's tokens), and these readers need only
 * where each token ends, over a buffer they already hold.
 */
#include "pdftok.h"

#include <string.h>

bool
qp_pdftok_space(unsigned char c)
{
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' ||
	    c == ' ';
}

bool
qp_pdftok_delim(unsigned char c)
{
	return c != 0 && strchr("()<>[]{}/%", c) != NULL;
}

size_t
qp_pdftok_end(const unsigned char *s, size_t n, size_t i)
{
	if (s[i] == '%') {
		while (i < n && s[i] != '\n' && s[i] != '\r')
			i++;
		return i;
	}
	if (s[i] == '(') {
		int depth = 0;
		for (; i < n; i++) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && --depth == 0)
				return i + 1;
		}
		return n;
	}
	if ((s[i] == '<' || s[i] == '>') && i + 1 < n && s[i + 1] == s[i])
		return i + 2;
	if (s[i] == '<') {
		while (i < n && s[i] != '>')
			i++;
		return i < n ? i + 1 : n;
	}
	if (strchr("[]{}>)", s[i]))
		return i + 1; /* a bracket, or a stray delimiter alone */
	if (s[i] == '/')
		i++;
	while (i < n && !qp_pdftok_space(s[i]) && !qp_pdftok_delim(s[i]))
		i++;
	return i;
}
