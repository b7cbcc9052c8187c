/*
 * fonts.h - the bundled fonts, and the fonts a template brings.
 *
 * Fontconfig's configuration is the one piece of process-wide state.
 * It is never changed while anyone may be reading it: qp_fonts_init
 * sets it up once at start-up, before any thread or layout, and adding
 * a template's font files later builds a new configuration (the
 * system's, the bundled fonts, every file added so far) that replaces
 * the current one only when complete. Each replacement starts a new
 * generation. A layout context keeps the configuration it was made with
 * (qp_fonts_config) and is rebuilt when the generation has moved on, so
 * every thread sees the fonts added since, and none sees them change
 * under it.
 */
#ifndef QP_FONTS_H
#define QP_FONTS_H

#include "util.h"

struct _FcConfig;
struct qp_template;

/* Register <datadir>/fonts with fontconfig. Call once, at start-up,
 * before any other thread or layout. */
bool qp_fonts_init(qp_error *err);

/*
 * Register font files a template brings (its `fonts:` list). Each file
 * is registered once per process, however often it is asked for (by its
 * real path); asking again is a cheap look-up. Thread-safe. A file that
 * fontconfig cannot read as a font is an error naming it, and none of
 * the list is registered.
 */
bool qp_fonts_add_files(const char *const *files, size_t n, qp_error *err);

/*
 * qp_fonts_add_files for the fonts template t brings (its font_files);
 * an error names the template. What every caller that lays a template
 * out does first: loading a template registers nothing.
 */
bool qp_fonts_add_template(const struct qp_template *t, qp_error *err);

/* The current generation: it grows by one whenever fonts are added. */
unsigned long qp_fonts_generation(void);

/*
 * The current configuration, with a reference the caller gives back with
 * FcConfigDestroy, and its generation in *gen.
 */
struct _FcConfig *qp_fonts_config(unsigned long *gen);

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
