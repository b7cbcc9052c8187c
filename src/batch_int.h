#ifndef QP_BATCH_INT_H
#define QP_BATCH_INT_H

/*
 * batch_int.h - what the files of the batch module share (not part of
 * the library's interface; that is batch.h):
 *
 *   batch.c           setting up a run, one row's values and file name
 *   batch_names.c     file names made from data, --impose and --shard
 *   batch_manifest.c  hashes, the manifest and the previous run's
 *   batch_crew.c      worker processes: start, hear, stop, reap
 *   batch_worker.c    per-row files: the workers and the parent's loop
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

#include "bind.h"
#include "data.h"
#include "poster.h"
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
	qp_binding *bind;      /* defaults, -s, the CSV's columns */
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
	long select_col;       /* the select_column's index, or -1 */
	size_t total;          /* rows in the shard */
	int jobs;
	/* The test suite's pause points (bt_test_pause), or NULL. */
	const char *pause_at, *pause_fifo;
	size_t test_part_rows; /* its part length, or 0 (batch.c) */
} batch;

/* One row, ready to lay out. */
typedef struct row {
	size_t pos;   /* position in the shard */
	size_t index; /* record index in the CSV */
	size_t line;
	qp_values vals;       /* bound (bind.h) */
	const char **values;  /* == vals.v */
	char *file;
	char **payloads;
	char key[65];
	qp_diag_list warn;    /* the binding's warnings (value-unused...) */
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
	int out; /* the socket to the parent */
	/* Warnings already noted, "code block" (each is noted once). */
	char **warned;
	size_t nwarned;
	/* In a worker process: the warnings of the row in hand, for the
	 * parent to note ("code block\x1fmessage\n" each), since only the
	 * parent sees every row; NULL: note them here (one process). */
	qp_buf *notes;
} worker;

/* The parent's side of the worker processes (batch_crew.c). */
typedef struct crew {
	batch *b;
	int n;
	pid_t pid[MAX_JOBS];
	int fd[MAX_JOBS];      /* the parent's end of each worker's socket */
	bool eof[MAX_JOBS];    /* it has left (or its socket failed) */
	bool reaped[MAX_JOBS];
	int status[MAX_JOBS];  /* from waitpid, once reaped */
	size_t owed[MAX_JOBS]; /* the row (shard position) each sends next */
	size_t span;           /* rows per share (bt_crew_span) */
	int told;              /* stop requests passed on: 1 stop, 2 abandon */
	char **noted;          /* warnings noted, "code block" (once each) */
	size_t nnoted;
} crew;
/* A worker's life: never returns (returning ends the process). */
typedef void (*bt_crew_main)(batch *b, int id, int fd);
/* A message a worker sent after the parent stopped reading in order. */
typedef void (*bt_crew_keep)(void *arg, int worker, const qp_buf *msg);

/* batch.c */
bool bt_stopping(const batch *b);
/* True if record rec is one of this run's: in its shard, and selected
 * (qp_batch_opts.select_column). */
bool bt_row_in_run(const batch *b, const qp_record *rec);
void bt_test_pause(const batch *b, const char *role, const char *phase,
    size_t n);
void bt_note(const batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
qp_data * bt_open_data(const batch *b, qp_error *err);
void bt_close_data(qp_data *d);
void bt_row_free(row *r, size_t nqr);
bool bt_row_prepare(const batch *b, const qp_record *rec, size_t pos, row *r, qp_error *err);
/* err = "FILE:LINE: " and the summary of a row's findings (diag.h). */
void bt_row_fail(const batch *b, size_t line, const qp_diag_list *dl, qp_error *err);
/* batch_manifest.c */
/*
 * Write path: the rows of the product manifests parts[0..n) (NULL: a
 * product without rows) merged in row order, each with its product's
 * name in a last column "product".
 */
bool bt_manifest_join(const char *path, const char *const *parts,
    const char *const *products, size_t n, qp_error *err);
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
/* batch_crew.c: in the parent */
bool bt_crew_start(crew *c, batch *b, int n, bt_crew_main fn,
    qp_error *err);
/* The share rule: of n workers, the one whose row pos is (shard
 * positions) when each takes blocks of span rows in turn (span 1: rows
 * in turn). Workers ask it of their rows, the parent (bt_crew_whose) of
 * the row it reads next. */
int bt_crew_owner(size_t pos, size_t span, int n);
int bt_crew_whose(const crew *c, size_t pos);
/* The crew's span (default 1), said right after the start. */
void bt_crew_span(crew *c, size_t span);
bool bt_crew_recv(crew *c, int i, qp_buf *buf);
void bt_crew_tell(crew *c, char what);
void bt_crew_heed(crew *c);
void bt_crew_finish(crew *c, bt_crew_keep keep, void *arg, qp_buf *buf);
/* Note the warnings a worker sent with a row (worker.notes), each
 * "code block" once for the whole run. */
void bt_crew_note(crew *c, const char *notes);
int bt_crew_casualty(const crew *c, char *msg, size_t n);
void bt_crew_lost(crew *c, int left, const char *doing, const char *after,
    char **file, qp_error *err);
/* batch_crew.c: in a worker */
bool bt_crew_send(int fd, const qp_buf *m);
int bt_crew_heard(int fd, bool wait);
/* Wait for the parent's word: the byte, or -1 if it has gone. */
int bt_crew_word(int fd);
/* batch_worker.c */
const char * bt_row_code(const batch *b, const row *r);
/* A row's page (poster.h), verified if asked; checked: laid out again
 * from what a worker found, its checks made and reported there
 * (qp_poster_relayout). */
qp_page * bt_row_layout(worker *w, const row *r, bool verify, bool checked,
    qp_error *err);
void bt_worker_clear(worker *w);
void bt_row_error(const batch *b, const char *msg);
void bt_progress(const batch *b, const char *phase, size_t done);
bool bt_run_files(batch *b, qp_error *err);
/* batch_combined.c */
bool bt_run_combined(batch *b, qp_error *err);

#endif
