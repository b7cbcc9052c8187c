/*
 * pdftok.h - tokens of a PDF content stream (ISO 32000-1 §7.2), for the
 * two readers of Cairo's and Ghostscript's page content: print.c, which
 * rewrites neutral RGB colours before Ghostscript, and prepress.c, which
 * looks for RGB left in a print file. Both walk a stream token by token
 * and must agree on where one ends.
 */
#ifndef QP_PDFTOK_H
#define QP_PDFTOK_H

#include <stdbool.h>
#include <stddef.h>

/* PDF white space (NUL, tab, LF, FF, CR, space). */
bool qp_pdftok_space(unsigned char c);
/* A PDF delimiter: ( ) < > [ ] { } / %. */
bool qp_pdftok_delim(unsigned char c);
/*
 * The end of the token that starts at s[i] (i < n, s[i] not white
 * space): a comment, a literal string with its nesting and escapes, a
 * hex string, << or >>, a bracket or brace, a stray delimiter alone, a
 * name, or a run of regular characters (a number or an operator). A
 * string cut off at the end of the data ends at n.
 */
size_t qp_pdftok_end(const unsigned char *s, size_t n, size_t i);

#endif
