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

#endif
