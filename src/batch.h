/*
 * batch.h - rows of a CSV -> posters: one file per row, or one combined
 * (optionally imposed) PDF; a manifest; resume; shards; worker processes.
 *
 * The CSV is streamed, never loaded whole. Before anything is written the
 * whole shard is checked (every row laid out, every output name made and
 * compared with the others), unless keep_going asks for the good rows
 * whatever the bad ones. Every file is written under a temporary name and
 * renamed when complete. A stop request (qp_batch_hooks.stop) finishes
 * the rows in hand and commits a manifest of exactly the files made (a
 * combined PDF is all or nothing: the previous one stays); a second
 * request stops at once, still leaving no partial file. A worker process
 * that dies is an error naming it, its signal and its row.
 */
#ifndef QP_BATCH_H
#define QP_BATCH_H

#include "profile.h"
#include "render.h"
#include "stop.h"

struct qp_law;

typedef struct qp_batch_opts {
	const char *template_path; /* a template file */
	const char *data;          /* CSV file, or "-" for standard input */
	const qp_profile *profile; /* values for every row under the CSV's
	                            * and sets (its logo too), or NULL */
	const char *const *sets;   /* "KEY=VALUE" for every row */
	size_t nsets;
	const char *pattern; /* per-row output, e.g. "output/{{code}}.pdf" */
	const char *combine; /* or one multi-page PDF */
	const char *manifest; /* NULL: beside the outputs */
	qp_render_opts render;
	qp_impose impose;     /* cols == 0: one poster per page */
	long shard_k, shard_n; /* rows whose index % n == k - 1 */
	int jobs;              /* worker processes for per-row files */
	bool force;      /* redo rows the manifest says are done */
	bool keep_going; /* make the good rows, report the bad */
	bool check;      /* lay out every row before writing anything */
	bool verify;     /* decode every QR code back and compare */
	bool no_links;   /* no clickable link on the QR codes (print runs) */
	const struct qp_law *const *laws; /* posting laws every row must
	                                   * meet (law.h), or none */
	size_t nlaws;
	/* Only the rows whose cell in column select_column is select_value
	 * (an empty cell too when select_empty): one template's rows of a
	 * CSV whose "template" column picks each row's (qp_batch_products).
	 * NULL: every row. Row numbers stay the CSV's. */
	const char *select_column;
	const char *select_value;
	bool select_empty;
} qp_batch_opts;

typedef struct qp_batch_hooks {
	void *arg;
	/* A bad row, "FILE:LINE: message"; called in CSV order. */
	void (*row_error)(void *arg, const char *msg);
	/* A remark for the user (e.g. posters scaled to fit a sheet). */
	void (*note)(void *arg, const char *msg);
	/* Rows finished so far out of total (in the checking phase, phase
	 * is "checking", then "rendering"). */
	void (*progress)(void *arg, const char *phase, size_t done,
	    size_t total);
	/* Asked (by a signal handler, or another thread) for a clean stop:
	 * the rows in hand are finished, the manifest lists what is done.
	 * A second request stops at once, still leaving no partial file.
	 * NULL: the run cannot be stopped. */
	qp_stop *stop;
} qp_batch_hooks;

typedef struct qp_batch_stats {
	size_t rows;    /* rows in this shard */
	size_t written; /* rows rendered now */
	size_t skipped; /* rows already done, output unchanged */
	size_t failed;  /* bad rows (keep_going) */
	size_t pages;   /* pages (or sheets) in a combined PDF */
	bool interrupted;
	char manifest[4096]; /* the manifest written */
} qp_batch_stats;

/*
 * Run a batch. False with err set when nothing could be done or a check
 * failed (a bad template, CSV syntax, a row error without keep_going, two
 * rows writing one file): nothing is written then. True otherwise: with
 * keep_going, stats->failed says how many rows were left out; a stop
 * request sets stats->interrupted.
 */
bool qp_batch_run(const qp_batch_opts *o, const qp_batch_hooks *h,
    qp_batch_stats *stats, qp_error *err);

/*
 * Product sets: several products (templates) for every location in one
 * run (batch_products.c). Each product is a batch of its own (its own
 * print-run PDF, or files per row; its own manifest, which resume and
 * shards use as for any batch), and the run's manifest joins theirs in
 * row order with a last column "product".
 */
typedef struct qp_product {
	char *name;         /* in file names and the manifest: "stall-sticker" */
	char *template_arg; /* a template file, or a bundled name */
	char *select;       /* only the rows whose template column says this
	                     * (a CSV "template" column), or NULL: every row */
	bool select_empty;  /* an empty cell counts as this product too */
	/* What the job file sets for this product alone (else the run's). */
	bool has_impose, has_bleed, has_marks;
	qp_impose impose;
	double bleed;
	bool marks;
} qp_product;

typedef struct qp_product_set {
	qp_product *v;
	size_t n;
} qp_product_set;

/* "restroom-letter,stall-sticker,car-card": every row gets each. */
bool qp_products_from_list(const char *list, qp_product_set *ps,
    qp_error *err);
/*
 * A job file (YAML, described in templates/README.md):
 *   products:
 *     - template: restroom-letter
 *     - {template: wallet-card, impose: 2x5, sheet: letter, bleed: 0.125in}
 * Mistakes name file:line:column.
 */
bool qp_products_load(const char *path, qp_product_set *ps, qp_error *err);
/*
 * The products a CSV's "template" column asks for: each value (in the
 * order they first appear) is a product for its rows, and an empty cell
 * means fallback. Returns 1 with ps filled, 0 when the CSV has no such
 * column, -1 on an error.
 */
int qp_products_from_column(const char *data, const char *fallback,
    qp_product_set *ps, qp_error *err);
void qp_products_free(qp_product_set *ps);

/* What each product of a set did. */
typedef struct qp_products_stats {
	qp_batch_stats *each; /* ps->n of them */
	char manifest[4096];  /* the run's manifest, or "" */
	bool interrupted;
} qp_products_stats;

/*
 * Run every product of ps with the options of base (its template_path
 * unused): with base->combine "run.pdf", product P goes to "run-P.pdf";
 * with base->pattern, the pattern must hold "{{product}}" (it becomes
 * P). Stops at the first product that fails (err says which); a stop
 * request ends the set after the product in hand. st->each is allocated
 * (free it). The run's manifest: base->manifest, else "run.manifest.csv"
 * or the pattern's "manifest.csv" (each product's: "run-P.manifest.csv",
 * "manifest-P.csv"), with shards' "-K-of-N".
 */
bool qp_batch_products(const qp_batch_opts *base, const qp_product_set *ps,
    const qp_batch_hooks *h, qp_products_stats *st, qp_error *err);

/*
 * Make a variable's value safe as part of a file name: no '/', '\' or
 * other characters some file systems reject (":*?\"<>|"), no control
 * characters, no leading dot (so no "..", no hidden files), no leading or
 * trailing space, at most QP_NAME_PART_MAX bytes (cut at a UTF-8
 * boundary); an empty value becomes "_". Appends to out.
 */
#define QP_NAME_PART_MAX 80
void qp_batch_safe_name(const char *value, qp_buf *out);

/*
 * The manifest's columns, one line per row of the shard:
 * row,line,code,file,page,payload,sha256,status,inputs_sha256,shard,run_sha256.
 * The last two are the run's: shard is "K/N" ("1/1" unsharded) and
 * run_sha256 covers the template, the options, the whole CSV and the
 * --set values, so it is the same on every line of a run and of each of
 * its shards.
 */
#define QP_MANIFEST_NCOLS 11
extern const char *const qp_manifest_cols[QP_MANIFEST_NCOLS];
/* Append s to out as one CSV field (quoted when it must be), then a
 * comma, or a line feed if last. */
void qp_manifest_field(qp_buf *out, const char *s, bool last);

/* Parse "2x2" into cols and rows (1..20 each). */
bool qp_batch_parse_impose(const char *s, int *cols, int *rows,
    qp_error *err);
/* Parse "K/N" (1 <= K <= N). */
bool qp_batch_parse_shard(const char *s, long *k, long *n, qp_error *err);

/* The SHA-256 of the file at path, in hexadecimal (what the manifest
 * records and merge compares). */
bool qp_file_sha256(const char *path, char out[65], qp_error *err);

#endif
