/*
 * fonts.h - the bundled fonts, and the fonts a template brings.
 *
 * The bundled fonts are added to fontconfig's current configuration at
 * start-up (the one process-wide piece of state, set once before any
 * rendering), so a poster looks the same on any machine.
 */
#ifndef QP_FONTS_H
#define QP_FONTS_H

#include "util.h"

/* Register <datadir>/fonts with fontconfig. Call once, before layout. */
bool qp_fonts_init(qp_error *err);

/*
 * Register font files a template brings (its `fonts:` list) with
 * fontconfig, before any layout context is made. A file fontconfig cannot
 * read as a font is an error naming it.
 */
bool qp_fonts_add_files(const char *const *files, size_t n, qp_error *err);

/* True if fontconfig knows a font whose family is exactly family. */
bool qp_font_family_exists(const char *family);

/*
 * True if family is one of qrposter's own: registered by qrposter (the
 * bundled fonts/ and the files templates bring) or a Noto family (the
 * Debian packages `make deps` installs). Text is only ever drawn with
 * these or with a font its block names.
 */
bool qp_font_family_ours(const char *family);

/*
 * The family of one of qrposter's own fonts (as above) that has a glyph
 * for c, or NULL. Deterministic for a given set of installed fonts:
 * registered fonts first, then "Noto Sans ..." before other Noto
 * families, then the shorter name, then by name. Returns a malloc'd name.
 */
char *qp_font_family_for(unsigned long c);

#endif
