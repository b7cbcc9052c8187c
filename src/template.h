/*
 * template.h - parse and validate a YAML poster template into a plain C
 * model. Every error names file:line:column. The format is documented in
 * templates/README.md.
 */
#ifndef QP_TEMPLATE_H
#define QP_TEMPLATE_H

#include "util.h"
#include "vars.h"

typedef enum qp_block_kind {
	QP_BLOCK_RECT,
	QP_BLOCK_TEXT,
	QP_BLOCK_QR,
	QP_BLOCK_IMAGE,
} qp_block_kind;

typedef enum qp_halign {
	QP_ALIGN_LEFT,
	QP_ALIGN_CENTER,
	QP_ALIGN_RIGHT,
	QP_ALIGN_START, /* left, or right when the block is right-to-left */
	QP_ALIGN_END,   /* the other side */
} qp_halign;

typedef enum qp_valign {
	QP_VALIGN_TOP,
	QP_VALIGN_MIDDLE,
	QP_VALIGN_BOTTOM,
} qp_valign;

/* A box on the trimmed page, resolved to points at load time. */
typedef struct qp_box {
	double x, y, w, h;
	bool has_h; /* false: a QR block sizes its own height */
} qp_box;

/*
 * Languages. A template may declare `languages: [en, es, ar]` and
 * `strings: {en: {headline: ...}, es: {...}}`; a text is then compiled
 * once per language, with each {{string}} reference replaced by that
 * language's string. l10n arrays have qp_template_nlocales(t) entries
 * (t->nlangs, or 1 for a template without languages); an entry is NULL
 * when a string the text uses has no version in that language.
 */
typedef struct qp_text_spec {
	qp_tstr *markup; /* == l10n[0]; kept for callers that want one */
	qp_tstr **l10n;
	char *font; /* Pango font description, e.g. "Noto Sans Bold" */
	double size_max, size_min; /* points */
	qp_color color;
	qp_halign align;
	qp_valign valign;
	double line_spacing; /* factor; 0 = font default */
	bool wrap;
	char *lang; /* the block's language as written, or NULL: the page's */
	qp_tstr *lang_tstr; /* the same compiled ("es" or "{{lang2}}") */
} qp_text_spec;

struct qp_image;

/* A logo's side as a fraction of the code's, when logo_size is not set. */
#define QP_QR_LOGO_DEFAULT 0.22

typedef struct qp_qr_spec {
	qp_tstr *data;
	int ecc; /* 0..3 = L M Q H, or QP_QR_ECC_AUTO (qr.h) */
	double scan_distance; /* metres; 0 = not declared */
	double min_module;    /* points */
	int quiet_zone;       /* modules, >= 4 */
	qp_color color, background;
	bool link;
	qp_tstr *caption; /* plain text under the code, or NULL (== */
	qp_tstr **caption_l10n; /* caption_l10n[0]) */
	char *caption_font;
	double caption_size_max, caption_size_min;
	qp_color caption_color;
	/* A logo in the middle of the code: the modules under it are
	 * cleared (layout.c); its side is logo_size of the code's. */
	struct qp_image *logo;
	char *logo_file;  /* as the template writes it */
	double logo_size; /* fraction of the code's width, 0 < s < 1 */
	bool ecc_given;   /* ecc: written (else H with a logo, M without) */
} qp_qr_spec;

typedef struct qp_rect_spec {
	qp_color fill;
	bool has_stroke;
	qp_color stroke;
	double stroke_width;
} qp_rect_spec;

/* How a picture fills its box: all of it inside (contain), all of the box
 * covered and the rest cut off (cover), or both sides to the box's
 * (stretch, which may distort it). */
typedef enum qp_fit {
	QP_FIT_CONTAIN,
	QP_FIT_COVER,
	QP_FIT_STRETCH,
} qp_fit;

struct qp_image;

typedef struct qp_image_spec {
	char *file;            /* as the template writes it */
	struct qp_image *img;  /* read and checked at load (image.h) */
	qp_fit fit;
	qp_halign align;       /* left, center, right */
	qp_valign valign;
	double opacity;        /* 0..1 */
} qp_image_spec;

/*
 * A condition (`when:`, template_when.c): every term must hold. A term
 * holds when the variable's value is the same as value (compared as
 * phone numbers when both are: 1-888-373-7888 is (888) 373-7888), or,
 * with negate, when it is not; no value counts as "". No terms: it
 * always holds.
 */
typedef struct qp_cond_term {
	size_t var;
	char *value;
	bool negate;
} qp_cond_term;

typedef struct qp_cond {
	qp_cond_term *terms;
	size_t n;
} qp_cond;

typedef struct qp_block {
	qp_block_kind kind;
	char *id;    /* name for messages: the block's id or "blocks[3]" */
	int line, col;
	qp_box box;
	qp_cond when; /* drawn only when it holds */
	union {
		qp_rect_spec rect;
		qp_text_spec text;
		qp_qr_spec qr;
		qp_image_spec image;
	} u;
} qp_block;

typedef struct qp_var {
	char *name;
	char *def;  /* default value, or NULL: must be given */
	char *desc; /* help text, or NULL */
	char **choices; /* allowed values, or NULL: any */
	size_t nchoices;
	qp_cond when;   /* the default applies only when it holds */
	bool required;  /* an empty value is refused (value-empty) */
} qp_var;

/*
 * Link and number policy (`policy:` in a template; checked by policy.c
 * in the preflight). Without `policy:` only the number check runs.
 */
typedef struct qp_policy_spec {
	bool declared;    /* the template has a policy: mapping */
	bool https;       /* code payloads must be https links */
	char **domains;   /* hosts a payload may open (or their subdomains);
	                   * none: any host */
	size_t ndomains;
	bool shorteners;  /* refuse link shorteners and dynamic-QR redirects */
	bool caption;     /* the caption (or, without one, the page's text)
	                   * shows the payload's domain */
	bool numbers;     /* phone and text numbers near an official one */
	int line, col;    /* where policy: is, for messages */
} qp_policy_spec;

typedef struct qp_template {
	char *path;
	char *name;        /* human name */
	char *description; /* or NULL */
	qp_tstr *title;    /* PDF title (== title_l10n[0]) */
	qp_tstr *subject;  /* PDF subject (the location) */
	qp_tstr **title_l10n;
	qp_tstr **subject_l10n;
	char **langs;   /* BCP 47 tags the template carries strings for */
	size_t nlangs;  /* 0: a template without languages */
	long lang_var;  /* index of the variable 'lang' (the page's language), or -1 */
	double page_w, page_h; /* trim size, points */
	double margin;         /* safe area inset, points */
	qp_color background;
	double min_text_size; /* points; 0 = none */
	qp_var *vars;
	size_t nvars;
	const char **var_names; /* nvars names, for vars.h */
	qp_block *blocks;
	size_t nblocks;
	char **font_files; /* fonts the template brings (resolved paths) */
	size_t nfont_files;
	qp_policy_spec policy;
} qp_template;

/*
 * Load and validate a template file. NULL on error, err says file:l:c.
 * Loading has no side effects: the fonts it lists (font_files) are not
 * registered and the file is not protected from being overwritten; see
 * qp_fonts_add_template (fonts.h) for a template about to be laid out.
 */
qp_template *qp_template_load(const char *path, qp_error *err);
/* Parse from memory; path is used in messages only. */
qp_template *qp_template_parse(const char *path, const char *text,
    size_t len, qp_error *err);
void qp_template_free(qp_template *t);

/* Index of variable name, or -1. */
long qp_template_var(const qp_template *t, const char *name);

/* Entries in each l10n array: nlangs, or 1 without languages. */
size_t qp_template_nlocales(const qp_template *t);
/* Index of tag in t->langs (case-insensitive), or -1. */
long qp_template_lang(const qp_template *t, const char *tag);
/*
 * The language of t a value asks for (a CSV cell, -s lang=...), matched
 * as BCP 47 tags (qp_lang_match): "es-MX" picks es, "zh" or "zh-TW" picks
 * zh-Hant when the template has that and no closer one, "tl" picks fil.
 * Index into t->langs, or -1.
 */
long qp_template_lang_match(const qp_template *t, const char *value);
/*
 * The best of have[0..n) for the language tag want, or -1. Tags are
 * compared case-insensitively with '_' read as '-', the language, script
 * and region subtags apart: deprecated codes are replaced (iw he, in id,
 * ji yi, mo ro, tl fil), a Chinese region implies its script (TW, HK, MO
 * Hant; CN, SG, MY Hans); the languages must be the same, and the
 * scripts too where both are known; then the closest script and region
 * win (a plain "zh" prefers Hans), the first listed on a tie.
 */
long qp_lang_match(const char *want, const char *const *have, size_t n);
/* True for tags of right-to-left scripts: ar, he, fa, ur, yi, ps... */
bool qp_lang_is_rtl(const char *tag);
/*
 * The variables this template uses, the one definition every command
 * shares: used[i] (t->nvars entries) is true when the poster can change
 * with variable i: a text, payload, caption, title or subject refers to
 * it in any language's version, or (for 'lang') some text follows the
 * page's language. links (may be NULL) gets the variables used as the
 * URL of a with: filter ({{report_url|with:loc=code}}).
 */
void qp_template_uses(const qp_template *t, bool *used, bool *links);
/* The same for one variable. */
bool qp_template_var_used(const qp_template *t, size_t var);
/* Add to used[] the variables one block uses in any language: a text
 * block's text, a QR block's payload, or its caption when caption. */
void qp_block_uses(const qp_template *t, const qp_block *b, bool caption,
    bool *used);

/*
 * Conditions (template_when.c). values[] holds t->nvars strings (NULL:
 * no value).
 */
bool qp_cond_holds(const qp_template *t, const qp_cond *c,
    const char *const *values);
/* True if block b is drawn with these values (its when: holds). */
bool qp_block_active(const qp_template *t, const qp_block *b,
    const char *const *values);
/* Variable i's default with these values: NULL when it has none, or
 * when its when: does not hold. */
const char *qp_var_default(const qp_template *t, size_t i,
    const char *const *values);
/* True if a and b (NULL: "") are the same value: the same text, or the
 * same phone number written two ways (digits compared, letters on a
 * phone's keypad, a leading 1 for the US ignored). */
bool qp_same_value(const char *a, const char *b);
/* True if s reads as a phone number (digits and -+.() spaces, letters
 * of a vanity number, at least 5 keys and 3 digits). */
bool qp_is_phone(const char *s);
/*
 * The variables this poster uses with these values: those the blocks
 * drawn (their when: holds), the title and the subject refer to; with
 * values NULL, those every poster uses (blocks without when:). What a
 * variable with no value must not be used by (value-missing).
 */
void qp_template_uses_now(const qp_template *t, const char *const *values,
    bool *used);

/* Check a variable's value against its choices; false with err set.
 * A variable that picks a language (the page's lang, or a block's
 * lang: "{{var}}") matches its choices as BCP 47 tags (qp_lang_match). */
bool qp_var_value_ok(const qp_template *t, size_t var, const char *value,
    qp_error *err);
/* The choice a language value stands for ("zh-TW" -> "zh-Hant", owned by
 * t), or value itself for any other value or variable. */
const char *qp_var_value_canon(const qp_template *t, size_t var,
    const char *value);

/* Page size presets ("letter", "a4", "11x17in", "300x200mm"...). Sizes are
 * portrait (w <= h) except where a preset is landscape by nature. */
bool qp_page_size_parse(const char *s, double *w, double *h, qp_error *err);

#define QP_TEMPLATE_MAX_BYTES (1024 * 1024)

#endif
