/*
 * fuzz_pdfjoin.c - libFuzzer harness for the PDF joiner behind
 * `qrposter merge` (src/pdfjoin.h), which reads shard files that may
 * have been damaged or tampered with.
 *
 * Input: the bytes of one PDF file. It is joined with itself (pages
 * alternating), compact or plain as the input's length is odd or even;
 * the reader and the writers must fail cleanly or succeed, never crash,
 * hang or leak. Property checked when a join succeeds: the joined file
 * is one the joiner reads back, with twice the input's pages.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pdfjoin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct order {
	size_t left[2];
	size_t turn;
} order;

static int
alternate(void *arg, size_t *input, qp_error *err)
{
	order *o = arg;

	(void)err;
	for (size_t i = 0; i < 2; i++) {
		size_t k = (o->turn + i) % 2;
		if (o->left[k]) {
			o->left[k]--;
			o->turn = k + 1;
			*input = k;
			return 1;
		}
	}
	return 0;
}

static char *
temp_path(const char *what)
{
	const char *dir = getenv("TMPDIR");

	return qp_xasprintf("%s/fuzz-pdfjoin-%ld-%s.pdf", dir && *dir ? dir :
	    "/tmp", (long)getpid(), what);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = temp_path("in"), *out = temp_path("out");
	const char *paths[2] = {in, in};
	qp_pdfjoin *j, *back;
	qp_outfile of;
	qp_error err;
	order o = {{0, 0}, 0};
	char sha[65];
	FILE *fp = fopen(in, "wb");

	if (fp == NULL || fwrite(data, 1, size, fp) != size)
		abort();
	fclose(fp);
	if ((j = qp_pdfjoin_open(paths, 2, &err)) != NULL) {
		/* Both writers, the input's length choosing. */
		bool compact = size % 2 == 1;

		o.left[0] = qp_pdfjoin_npages(j, 0);
		o.left[1] = qp_pdfjoin_npages(j, 1);
		if (!qp_outfile_open(&of, out, &err))
			abort();
		if (!qp_pdfjoin_write(j, &of, compact, alternate, &o, sha,
		    &err)) {
			qp_outfile_abort(&of);
		} else {
			const char *one[1] = {out};
			if (!qp_outfile_commit(&of, &err))
				abort();
			back = qp_pdfjoin_open(one, 1, &err);
			if (back == NULL || qp_pdfjoin_npages(back, 0) !=
			    2 * qp_pdfjoin_npages(j, 0))
				abort();
			qp_pdfjoin_free(back);
			unlink(out);
		}
		qp_pdfjoin_free(j);
	}
	unlink(in);
	free(in);
	free(out);
	return 0;
}
