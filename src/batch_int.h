#ifndef QP_BATCH_INT_H
#define QP_BATCH_INT_H

/*
 * batch_int.h - what the files of the batch module share (not part of
 * the library's interface; that is batch.h):
 *
 *   batch.c           setting up a run, one row's values and file name
 *   batch_names.c     file names made from data, --impose and --shard
 *   batch_manifest.c  hashes, the manifest and the previous run's
 *   batch_worker.c    per-row files: the worker processes and the parent
 *   batch_combined.c  one combined (or imposed) print-run PDF
 */
#include "batch.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data.h"
#include "verify.h"

#define MAX_JOBS 64

typedef struct batch {
	const qp_batch_opts *o;
	const qp_batch_hooks *h;
	qp_batch_stats *st;
	qp_template *t;
	char *data_path;       /* what workers open */
	char *data_name;       /* what messages say */
	int spool_fd;          /* standard input copied to an unlinked file */
	long *col;             /* per variable: CSV column, or -1 */
	bool *from_set, *used;
	const char **base;     /* defaults, then --set */
	qp_tstr *pattern;
	size_t fixed_dir; /* bytes of the pattern's directory before any {{ */
	qp_format fmt;
	const qp_tstr **qrdata; /* each QR block's payload, in item order */
	size_t nqr;
	long code_var;
	char sig[65];          /* hash of all that is not the row */
	char run[65];          /* sig, the whole CSV and --set: one run */
	char shard[48];        /* "K/N" */
	char *manifest_path;
	char *combine_path;
	size_t total;          /* rows in the shard */
	int jobs;
} batch;

/* One row, ready to lay out. */
typedef struct row {
	size_t pos;   /* position in the shard */
	size_t index; /* record index in the CSV */
	size_t line;
	const char **values;
	char *file;
	char **payloads;
	char key[65];
} row;
/* The columns a row gives (qp_manifest_cols' first ones); the manifest
 * adds the run's own two, shard and run_sha256, to every line. */
#define NMCOLS 9
typedef struct manifest {
	qp_outfile of;
	qp_buf line;
	bool open;
	/* Combined: offsets of the sha256 fields, filled in at the end. */
	long *sha_off;
	size_t nsha;
	long pos;
	const char *shard, *run; /* the last two columns, the batch's */
} manifest;
typedef struct old_manifest {
	qp_data *d;
	long c[NMCOLS];
	qp_record rec;
	bool have, end;
} old_manifest;
typedef struct worker {
	const batch *b;
	qp_layout_ctx *ctx;
	qp_verifier *ver;
	qp_raster *raster;
	int out; /* result pipe */
} worker;

/* batch.c */
bool bt_stopping(const batch *b);
void bt_note(const batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
qp_data * bt_open_data(const batch *b, qp_error *err);
void bt_close_data(qp_data *d);
void bt_row_free(row *r, size_t nqr);
bool bt_row_prepare(const batch *b, const qp_record *rec, size_t pos, row *r, qp_error *err);
/* batch_manifest.c */
bool bt_sha256_file(const char *path, char out[65], qp_error *err);
bool bt_make_signature(batch *b, qp_error *err);
bool bt_make_run_id(batch *b, qp_error *err);
void bt_row_key(const batch *b, row *r);
bool bt_manifest_open(manifest *m, const batch *b, qp_error *err);
void bt_manifest_add(manifest *m, const char *const *f);
bool bt_manifest_close(manifest *m, const char *sha, qp_error *err);
void bt_manifest_abort(manifest *m);
void bt_old_open(old_manifest *om, const char *path);
const qp_record * bt_old_find(old_manifest *om, size_t index);
void bt_old_close(old_manifest *om);
const char * bt_old_field(const old_manifest *om, const qp_record *r, int i);
/* batch_worker.c */
const char * bt_row_code(const batch *b, const row *r);
qp_page * bt_row_layout(worker *w, const row *r, bool verify, qp_error *err);
void bt_row_error(const batch *b, const char *msg);
void bt_progress(const batch *b, const char *phase, size_t done);
bool bt_run_files(batch *b, qp_error *err);
/* batch_combined.c */
bool bt_run_combined(batch *b, qp_error *err);

#endif
