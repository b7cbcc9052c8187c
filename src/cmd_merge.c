/*
 * cmd_merge.c - "qrposter merge": the shards of a print run back into
 * the one PDF and manifest a single run would have made.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "merge.h"

enum { OPT_MANIFEST = 256 };

static void
merge_usage(FILE *fp)
{
	fputs("usage: qrposter merge [-o FILE.pdf] [--manifest FILE] "
	    "SHARD.pdf...\n\n"
	    "Put the shards of one print run (batch --combine FILE.pdf --shard "
	    "K/N, for K\n"
	    "from 1 to N) back into the print run a single run would have "
	    "made: the\n"
	    "pages in CSV order, and one manifest. Each shard's manifest is "
	    "beside it\n"
	    "(FILE-K-of-N.manifest.csv). Shards of different runs, a missing "
	    "or\n"
	    "repeated shard, or a PDF that is not its manifest's are refused, "
	    "and\n"
	    "nothing is written.\n\n"
	    "  -o, --output FILE    the merged PDF (default: the shards' name "
	    "without\n"
	    "                       -K-of-N, e.g. out/run.pdf for "
	    "out/run-1-of-8.pdf)\n"
	    "      --manifest FILE  its manifest (default: FILE.manifest.csv "
	    "beside it)\n"
	    "  -q, --quiet          no summary\n"
	    "  -h, --help           show this help\n\n"
	    "Exit status: 0 merged; 1 an error, nothing written; 2 a bad "
	    "command line;\n"
	    "3 merged, but some rows are errors in their shards' manifests "
	    "(--keep-going).\n", fp);
}

int
qp_cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"manifest", required_argument, NULL, OPT_MANIFEST},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	qp_merge_opts o = {0};
	qp_merge_stats st;
	qp_error err;
	char *def = NULL;
	bool quiet = false, ok;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.output = optarg; break;
		case OPT_MANIFEST: o.manifest = optarg; break;
		case 'q': quiet = true; break;
		case 'h': merge_usage(stdout); return QP_EXIT_OK;
		default:
			qp_cli_bad_option("merge", argv, c);
			return QP_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		qp_cli_error("merge: give the shards' PDFs, e.g. 'qrposter "
		    "merge out/run-*-of-8.pdf'");
		return QP_EXIT_USAGE;
	}
	/* Written as batch --combine writes a print run (pdfrun.h). */
	o.compact = true;
	o.shards = (const char *const *)argv + optind;
	o.nshards = (size_t)(argc - optind);
	if (o.output == NULL) {
		if ((def = qp_merge_run_name(argv[optind])) == NULL) {
			qp_cli_error("merge: '%s' is not named FILE-K-of-N.pdf, "
			    "so the print run's name is not known; give it with "
			    "-o FILE.pdf", argv[optind]);
			return QP_EXIT_USAGE;
		}
		o.output = def;
	}
	ok = qp_merge_run(&o, &st, &err);
	if (!ok) {
		qp_cli_error("merge: %s", err.msg);
		free(def);
		return QP_EXIT_ERROR;
	}
	if (!quiet) {
		fprintf(stderr, "qrposter: merged %zu shard%s: %zu row%s, %zu "
		    "page%s in %s", st.shards, st.shards == 1 ? "" : "s",
		    st.rows, st.rows == 1 ? "" : "s", st.pages,
		    st.pages == 1 ? "" : "s", o.output);
		if (st.failed)
			fprintf(stderr, "; %zu row%s failed in %s shard", st.failed,
			    st.failed == 1 ? "" : "s", st.failed == 1 ? "its" :
			    "their");
		fprintf(stderr, "; manifest %s\n", st.manifest);
	}
	free(def);
	return st.failed ? QP_EXIT_PARTIAL : QP_EXIT_OK;
}
