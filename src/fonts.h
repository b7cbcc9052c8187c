/*
 * fonts.h - where qrposter's data lives, and the bundled fonts.
 *
 * The bundled fonts are added to fontconfig's current configuration at
 * start-up (the one process-wide piece of state, set once before any
 * rendering), so a poster looks the same on any machine.
 */
#ifndef QP_FONTS_H
#define QP_FONTS_H

#include "util.h"

/*
 * The data directory holding templates/ and fonts/: $QRPOSTER_DATADIR if
 * set; else the directory of the running binary when it holds both (a
 * source tree); else <bindir>/../share/qrposter (an installed copy,
 * wherever the prefix is); else <bindir>/.. (a build directory inside
 * a source tree); else the compile-time QP_DATADIR. Returns a static
 * string.
 */
const char *qp_datadir(void);

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
 * Resolve a template argument: an existing file path is used as is; a
 * bare name ("restroom-letter" or "restroom-letter.yaml") is looked up in
 * <datadir>/templates. Returns a malloc'd path, or NULL with err set.
 */
char *qp_template_find(const char *arg, qp_error *err);

/*
 * qp_template_find() then qp_template_load(): the template a command's
 * -t argument names, or NULL with err set.
 */
struct qp_template *qp_template_open(const char *arg, qp_error *err);

#endif
