/*
 * merge.h - the shards of one print run (batch --combine with --shard
 * K/N, each a PDF and its manifest) back into the one print-run PDF and
 * manifest a single run would have made: the same pages in the same
 * order with the same payloads, and the same manifest lines but for the
 * file's name and hash.
 *
 * The order. A manifest lists every row of its shard, good or bad, by
 * its `row` number (the CSV record, from 1), and shard K of N holds rows
 * K, K+N, K+2N... So the single run's rows 1..T are the shards' lines
 * taken in turn, one from each: row r is the next line of shard
 * ((r - 1) mod N) + 1. A good row's page is the next page of its shard;
 * its page in the merged file is the number of good rows up to and
 * including it. Nothing is sorted or held: the N manifests are read side
 * by side, and so are the N page lists (pdfjoin.h).
 *
 * Refused before anything is written, each with the files named: a
 * manifest that is not of this qrposter's format; shards of different
 * runs (run_sha256 differs: the template, the options, the CSV or the
 * values set for every row are not the same) or of different N; two
 * shards with the same K; a missing K; a manifest whose rows are not K,
 * K+N, ... or whose row counts do not add up; a PDF whose SHA-256 or
 * page count is not its manifest's; imposed shards (rows sharing sheets
 * cannot be put back in the single run's order). Both outputs are
 * written under temporary names and renamed at the end.
 */
#ifndef QP_MERGE_H
#define QP_MERGE_H

#include "util.h"

typedef struct qp_merge_opts {
	/* The shards' PDFs, in any order; each one's manifest is beside it
	 * as batch names it (NAME.pdf: NAME.manifest.csv). */
	const char *const *shards;
	size_t nshards;
	const char *output;   /* the merged PDF */
	const char *manifest; /* NULL: beside it, OUTPUT.manifest.csv */
	bool compact;         /* object streams (qp_pdfjoin_write) */
} qp_merge_opts;

typedef struct qp_merge_stats {
	size_t shards; /* N */
	size_t rows;   /* T, the rows of the run */
	size_t pages;
	size_t failed; /* rows that are errors in their shard's manifest */
	char manifest[4096];
} qp_merge_stats;

bool qp_merge_run(const qp_merge_opts *o, qp_merge_stats *st,
    qp_error *err);

/* The manifest batch writes beside a combined PDF (".pdf" replaced by
 * ".manifest.csv", or that appended). The caller frees it. */
char *qp_merge_manifest_path(const char *pdf);

/* The single run's name for a shard's PDF: "run-2-of-8.pdf" gives
 * "run.pdf"; NULL if the name does not end in -K-of-N.pdf. */
char *qp_merge_run_name(const char *shard_pdf);

#endif
