/*
 * law.h - posting-law packs: what a jurisdiction's law asks of a
 * human-trafficking notice (page size, type size, languages, phrases and
 * numbers, statutory text, bold), as data, and the check of a laid-out
 * poster against them.
 *
 * A pack is a YAML file in templates/laws/ (the format and every bundled
 * pack are described in templates/LAWS.md); `qrposter check --law fl`
 * names it by its code. Parsing reuses the template parser's typed YAML
 * access (template_int.h), so every mistake names file:line:column.
 */
#ifndef QP_LAW_H
#define QP_LAW_H

#include "diag.h"
#include "layout.h"

typedef enum qp_law_kind {
	QP_LAW_PAGE_SIZE,    /* the trimmed page at least min_w x min_h */
	QP_LAW_TYPE_SIZE,    /* every text run at least min_size */
	QP_LAW_LANGUAGES,    /* text in each of langs[] */
	QP_LAW_PHRASE,       /* one of texts[] on the poster */
	QP_LAW_STATUTE_TEXT, /* texts[0], the statute's wording */
	QP_LAW_BY_HAND,      /* texts[0] says what to check by hand */
} qp_law_kind;

typedef struct qp_law_rule {
	qp_law_kind kind;
	int line, col;       /* where the rule is in the pack */
	char *cite;          /* the part of the law, e.g. "§ 787.29(4)";
	                      * the pack's citation when not given */
	bool advisory;       /* a failure is a warning, not an error */
	double min_w, min_h; /* page-size: points, min_w <= min_h */
	double min_size;     /* type-size; phrase, statute-text: 0 = any */
	char **langs;        /* languages: BCP 47 tags */
	size_t nlangs;
	char **texts;        /* phrase: any one of these; statute-text and */
	size_t ntexts;       /* by-hand: exactly one */
	char *lang;          /* phrase, statute-text: in text of this
	                      * language only, or NULL: anywhere */
	bool bold;           /* phrase, statute-text: set in bold */
	bool prominent;      /* phrase: bold, or as large as any text */
	bool verbatim;       /* statute-text: word for word (else
	                      * "substantially": missing is a warning) */
} qp_law_rule;

typedef struct qp_law_source {
	char *url;
	char *note; /* or NULL */
} qp_law_source;

typedef struct qp_law {
	char *path;
	char *code;         /* the name --law takes: "fl" */
	char *jurisdiction; /* "Florida" */
	char *law;          /* the section's title, or NULL */
	char *citation;     /* "Fla. Stat. § 787.29" */
	char checked[11];   /* YYYY-MM-DD: the text was last compared then */
	int checked_y, checked_m, checked_d;
	char *template_name; /* the bundled template made to meet it, or NULL */
	qp_law_source *sources;
	size_t nsources;
	char **applies_to; /* where the law applies, as it says */
	size_t napplies;
	char **missing; /* what could not be found */
	size_t nmissing;
	qp_law_rule *rules;
	size_t nrules;
} qp_law;

#define QP_LAW_MAX_BYTES (256 * 1024)

/* Parse a pack from memory; path is used in messages. NULL with err set
 * (file:line:column) on any mistake. */
qp_law *qp_law_parse(const char *path, const char *text, size_t len,
    qp_error *err);
/* Read and parse a pack file. */
qp_law *qp_law_load(const char *path, qp_error *err);
void qp_law_free(qp_law *law);

/*
 * Resolve a --law argument: an existing file is used as is; a code ("fl",
 * "FL") is looked up as <datadir>/templates/laws/<code>.yaml. An unknown
 * code is an error listing the bundled ones. Returns a malloc'd path.
 */
char *qp_law_find(const char *arg, qp_error *err);
/* qp_law_find() then qp_law_load(). */
qp_law *qp_law_open(const char *arg, qp_error *err);

/* The codes of the bundled packs, sorted, as one ", "-separated string
 * (malloc'd; "" when there are none). */
char *qp_law_codes(void);

/* The name of a rule kind as packs write it: "page-size", ... */
const char *qp_law_kind_name(qp_law_kind k);

/*
 * Check a laid-out poster against law (law_check.c). Adds a finding
 * (law-* codes, diag.h) for each rule that fails: the page smaller than
 * page-size; each block whose text is set below type-size (its smallest
 * run with ink, captions included); each language of languages without
 * a letter tagged with it; a phrase none of whose texts is on the poster
 * (in its language), or is but never in bold / prominent / large enough
 * as the rule asks; a statute text not there word for word (an error
 * when verbatim, a warning when "substantially"), or not bold or large
 * enough. An advisory rule's failure is a law-advisory warning. When
 * failed is not NULL, failed[i] is set for each rule i that failed.
 * Each finding carries the pack's code in s[3] and its rule's place in
 * the pack (1-based) in n[6]. Returns true when it added no error.
 */
bool qp_law_check(const qp_law *law, const qp_page *page, qp_diag_list *out,
    bool *failed);

/* The English name of a language tag for messages ("es": "Spanish"),
 * or the tag itself. */
const char *qp_lang_name(const char *tag);

/* What rule r asks, in a line ("every text at least 16pt", "phrase
 * '1-855-FLA-SAFE' in bold"), appended to out. */
void qp_law_rule_describe(const qp_law_rule *r, qp_buf *out);

/* Today as days since 1970-01-01: SOURCE_DATE_EPOCH's day when it is
 * set (reproducible runs and tests), else the clock's. */
long qp_law_today(void);
/* Add a law-stale warning when law was last checked more than a year
 * (365 days) before today; true if it did. */
bool qp_law_stale(const qp_law *law, long today, qp_diag_list *out);

#endif
