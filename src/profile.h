/*
 * profile.h - an agency profile: whose hotline a poster names, set up
 * once and used with every template (render, batch and check take
 * --profile FILE; the web editor's "Save these settings" writes one and
 * "Open settings" reads it). templates/README.md describes the format:
 *
 *   profile: 1                       # optional: the format's version
 *   agency: Example State Department of Transportation
 *   hotline_name: Example State Human Trafficking Hotline
 *   hotline: 1-555-010-0199
 *   text_number: "55155"
 *   text_keyword: SAFE
 *   report_url: https://dot.example.gov/report
 *   hotline_languages: Help in English and Spanish.
 *   logo: example-logo.svg           # relative to the profile's folder
 *   values: {lang2: vi}              # any other variable
 *
 * Each key but logo and values sets the template variable of the same
 * name; values sets any variable. A poster's value comes from the
 * template's default, then the profile, then the CSV row, then -s (or
 * the form): bind.h applies it. A key the template does not use is not
 * an error (one profile serves every template): bind.h notes it as a
 * profile-unused warning. An unknown key is an error at its line and
 * column, with the nearest key suggested.
 */
#ifndef QP_PROFILE_H
#define QP_PROFILE_H

#include "diag.h"
#include "template.h"

/* A profile is at most this big: far more than a few lines need. */
#define QP_PROFILE_MAX_BYTES (64 * 1024)

typedef struct qp_profile_entry {
	char *name;  /* the variable it sets */
	char *value;
	int line, col; /* of the value in the file; 0 if not from a file */
} qp_profile_entry;

typedef struct qp_profile {
	char *path;  /* as given, for messages */
	qp_profile_entry *v;
	size_t n;
	char *logo;      /* the logo's path, resolved against the profile's
	                  * folder, or NULL */
	char *logo_text; /* as written */
	int logo_line, logo_col;
} qp_profile;

/* The keys a profile may have, in the order the editor writes them. */
extern const char *const qp_profile_keys[];
extern const size_t qp_profile_nkeys;

/* Read a profile; NULL with err "FILE:LINE:COL: what" on a mistake. */
qp_profile *qp_profile_load(const char *path, qp_error *err);
/* The same from memory; path is used in messages and to resolve logo. */
qp_profile *qp_profile_parse(const char *path, const char *text, size_t len,
    qp_error *err);
/* An empty profile to fill with qp_profile_add (the web editor's). */
qp_profile *qp_profile_new(const char *name);
/* Set name to value (copied), replacing an earlier value of name. */
void qp_profile_add(qp_profile *p, const char *name, const char *value);
void qp_profile_free(qp_profile *p);

/* The value the profile gives name, or NULL. */
const char *qp_profile_get(const qp_profile *p, const char *name);

/* True if t has a place for a logo: an image block with id 'logo', or a
 * QR block with a logo. */
bool qp_template_has_logo(const qp_template *t);
/*
 * Put the profile's logo (if it has one) in t's place for it: the
 * picture of every image block with id 'logo' and the logo of every QR
 * block that has one. False with err when the picture cannot be read.
 */
bool qp_profile_logo(const qp_profile *p, qp_template *t, qp_error *err);

#endif
