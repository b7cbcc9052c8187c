/*
 * cmd_batch.c - "qrposter batch": a CSV of locations in, posters out.
 */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "datadir.h"
#include "fonts.h"

#define DEFAULT_PATTERN "output/{{code}}.pdf"
#define DEFAULT_SET_PATTERN "output/{{code}}-{{product}}.pdf"
#define MAX_LISTED 1000

enum {
	OPT_COMBINE = 256,
	OPT_MANIFEST,
	OPT_IMPOSE,
	OPT_SHEET,
	OPT_BLEED,
	OPT_MARKS,
	OPT_DPI,
	OPT_SHARD,
	OPT_FORCE,
	OPT_KEEP_GOING,
	OPT_NO_CHECK,
	OPT_VERIFY,
	OPT_NO_LINKS,
	OPT_PRINT,
	OPT_ICC,
	OPT_LAW,
	OPT_PRODUCTS,
	OPT_PROFILE,
};

/* The run's stop request: a signal handler can reach only a static. */
static qp_stop stop_req;

/*
 * SIGINT, SIGTERM, SIGHUP: the first asks the batch to finish the rows in
 * hand and stop; a second stops at once. The batch decides how, or lets
 * this handler end the process where only temporaries are at stake.
 */
static void
on_signal(int sig)
{
	qp_stop_request(&stop_req, sig);
	if (qp_stop_may_abandon(&stop_req)) {
		qp_outfile_unlink_all();
		_exit(128 + qp_stop_why(&stop_req));
	}
}

static void
batch_usage(FILE *fp)
{
	fputs("usage: qrposter batch [-t TEMPLATE] -d LOCATIONS.csv "
	    "[-o PATTERN | --combine FILE.pdf] [options]\n\n"
	    "Make a poster for every row of a CSV file. The header row names "
	    "the columns;\n"
	    "each column is a template variable for its row (code, name, "
	    "...).\n\n"
	    "  -t, --template T     template file or bundled name (default: "
	    "restroom-letter)\n"
	    "  -d, --data FILE      the CSV (UTF-8, RFC 4180); '-' reads "
	    "standard input\n"
	    "  -o, --output PAT     one file per row, e.g. "
	    "'output/{{code}}.pdf' (.pdf, .png\n"
	    "                       or .svg); values are made safe for file "
	    "names\n"
	    "                       (default: " DEFAULT_PATTERN ")\n"
	    "      --combine FILE   all posters in one PDF, in CSV order\n"
	    "      --impose CxR     C x R posters per sheet with cut marks "
	    "(with --combine)\n"
	    "      --sheet SIZE     sheet for --impose: letter, tabloid, a4, "
	    "a3 or WxHunit\n"
	    "                       such as 12x18in (default letter)\n"
	    "  -s, --set K=V        give variable K the value V on every row "
	    "(overrides\n"
	    "                       a column of that name)\n"
	    "      --profile FILE   the agency's profile: hotline, its name, "
	    "text number,\n"
	    "                       reporting URL, logo (a column or -s "
	    "overrides it)\n"
	    "      --bleed LEN      background past the trim, e.g. 0.125in or "
	    "3mm\n"
	    "      --marks          crop marks outside the bleed\n"
	    "      --print cmyk     CMYK " QP_PDFX_VERSION " print files (PDF "
	    "only; no links)\n"
	    "      --icc FILE       the press's CMYK profile (default: "
	    "Ghostscript's own)\n"
	    "      --dpi N          PNG resolution (default 300)\n"
	    "      --manifest FILE  where the manifest goes (default: "
	    "manifest.csv beside\n"
	    "                       the files, or FILE.manifest.csv for "
	    "--combine)\n"
	    "      --shard K/N      only rows whose index modulo N is K-1 "
	    "(for spreading\n"
	    "                       a run over machines)\n"
	    "  -j, --jobs N         worker processes (default: the number of "
	    "cores)\n"
	    "      --verify         decode every QR code back and compare it "
	    "with its payload\n"
	    "      --no-links       no clickable link on the QR codes (paper "
	    "needs none; a\n"
	    "                       combined PDF is smaller and needs less "
	    "memory)\n"
	    "      --products LIST  several products for every row, each its "
	    "own print-run\n"
	    "                       PDF or files: restroom-letter,stall-sticker,"
	    "car-card,\n"
	    "                       or a job file (JOB.yaml) with options per "
	    "product;\n"
	    "                       one manifest with a product column. "
	    "Without it, a\n"
	    "                       CSV column 'template' picks each row's "
	    "template\n"
	    "      --law CODE[,..]  every row must meet these posting laws "
	    "(templates/LAWS.md);\n"
	    "                       a row that fails one is a bad row\n"
	    "      --keep-going     make the good rows despite bad ones (exit "
	    "status 3)\n"
	    "      --no-check       do not lay out every row before writing "
	    "the first\n"
	    "      --force          redo rows the manifest says are done\n"
	    "  -q, --quiet          no progress bar or summary\n"
	    "  -h, --help           show this help\n\n"
	    "Exit status: 0 all rows made; 1 an error, nothing written; 2 a "
	    "bad command\n"
	    "line; 3 --keep-going left bad rows out; 128+N stopped by signal "
	    "N (run\n"
	    "the same command again to resume).\n\n"
	    "SIGINT, SIGTERM or SIGHUP, to the main process or its whole "
	    "group, finishes\n"
	    "the rows in hand and stops; a second one stops at once. Either "
	    "way no partial\n"
	    "file is left and the manifest lists exactly the files made.\n",
	    fp);
}

typedef struct ui {
	bool bar;
	bool quiet;
	bool keep_going;
	bool drawn;
	const char *phase;
	double start, last, phase_start;
	char **listed;
	size_t nlisted, nmore;
} ui;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
clear_bar(ui *u)
{
	if (u->drawn) {
		fputs("\r\033[K", stderr);
		u->drawn = false;
	}
}

static void
on_row_error(void *arg, const char *msg)
{
	ui *u = arg;

	clear_bar(u);
	if (u->keep_going) {
		/* Listed together at the end. */
		if (u->nlisted < MAX_LISTED) {
			u->listed = qp_xrealloc(u->listed, (u->nlisted + 1) *
			    sizeof *u->listed);
			u->listed[u->nlisted++] = qp_xstrdup(msg);
		} else
			u->nmore++;
		return;
	}
	qp_cli_puts("", msg);
}

static void
on_note(void *arg, const char *msg)
{
	ui *u = arg;

	if (u->quiet)
		return;
	clear_bar(u);
	qp_cli_puts("qrposter: note: ", msg);
}

static void
on_progress(void *arg, const char *phase, size_t done, size_t total)
{
	ui *u = arg;
	double t = now(), rate, left;
	int width = 24, fill;
	char bar[32];

	if (u->phase != phase) {
		/* Checking and rendering go at different speeds. */
		u->phase = phase;
		u->phase_start = t;
	}
	if (!u->bar || (t - u->last < 0.1 && done < total))
		return;
	u->last = t;
	rate = t > u->phase_start ? done / (t - u->phase_start) : 0;
	left = rate > 0 ? (total - done) / rate : 0;
	fill = total ? (int)((double)done * width / total) : width;
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	fprintf(stderr, "\r\033[K%-9s [%s] %zu/%zu  %.0f rows/s  %d:%02d left",
	    phase, bar, done, total, rate, (int)left / 60, (int)left % 60);
	u->drawn = true;
}

static bool
install_signals(qp_error *err)
{
	struct sigaction sa;

	if (!qp_stop_init(&stop_req, err))
		return false;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked read returns, and the stop is seen. */
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return true;
}

/* --products: a job file (*.yaml) or a list. 1, or -1 with err. */
static int
load_products(const char *arg, qp_product_set *ps, qp_error *err)
{
	size_t n = strlen(arg);
	bool file = (n > 5 && strcmp(arg + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(arg + n - 4, ".yml") == 0);

	char *path = NULL;
	bool ok;

	/* A bundled job file by name: templates/products/NAME.yaml. */
	if (file && strchr(arg, '/') == NULL && access(arg, F_OK) != 0)
		path = qp_xasprintf("%s/templates/products/%s", qp_datadir(),
		    arg);
	ok = file ? qp_products_load(path ? path : arg, ps, err) :
	    qp_products_from_list(arg, ps, err);
	free(path);
	if (!ok) {
		qp_error_prefix(err, "--products");
		return -1;
	}
	return 1;
}

/*
 * A CSV column "template" picks each row's template (an empty cell: -t's)
 * unless the template has a variable of that name. 1 with ps filled, 0
 * when there is no such column, -1 with err.
 */
static int
column_products(const qp_batch_opts *o, const char *tpath,
    const char *tmpl_arg, qp_product_set *ps, qp_error *err)
{
	qp_error e;
	qp_template *t;
	bool var;

	if (strcmp(o->data, "-") == 0)
		return 0;
	if ((t = qp_template_load(tpath, &e)) == NULL)
		return 0; /* the batch says what is wrong with it */
	var = qp_template_var(t, "template") >= 0;
	qp_template_free(t);
	if (var)
		return 0;
	return qp_products_from_column(o->data, tmpl_arg, ps, err);
}

/* A pattern for per-row files of several templates: "-{{product}}"
 * before the extension, so they do not write each other's files. */
static const char *
pattern_with_product(const char *pattern, char **owned)
{
	const char *dot = strrchr(pattern, '.');
	const char *slash = strrchr(pattern, '/');

	if (dot == NULL || (slash && dot < slash))
		*owned = qp_xasprintf("%s-{{product}}", pattern);
	else
		*owned = qp_xasprintf("%.*s-{{product}}%s",
		    (int)(dot - pattern), pattern, dot);
	return *owned;
}

/* Run a product set and report it as one batch: a line per product. */
static int
run_set(qp_batch_opts *o, const qp_product_set *ps, qp_batch_hooks *hooks,
    ui *u)
{
	qp_products_stats st;
	qp_error err;
	bool ok;
	size_t failed = 0;

	ok = qp_batch_products(o, ps, hooks, &st, &err);
	clear_bar(u);
	for (size_t i = 0; i < u->nlisted; i++)
		qp_cli_puts("", u->listed[i]);
	if (u->nmore)
		fprintf(stderr, "... and %zu more bad rows (see the "
		    "manifest)\n", u->nmore);
	if (!ok) {
		free(st.each);
		qp_cli_fail("batch", NULL, &err);
		return qp_stop_why(&stop_req) ? 128 + qp_stop_why(&stop_req) :
		    qp_cli_status(&err);
	}
	for (size_t i = 0; i < ps->n; i++) {
		const qp_batch_stats *s = &st.each[i];

		failed += s->failed;
		if (u->quiet)
			continue;
		fprintf(stderr, "qrposter: %s: %zu row%s: %zu made, %zu "
		    "unchanged", ps->v[i].name, s->rows, s->rows == 1 ? "" :
		    "s", s->written, s->skipped);
		if (s->failed)
			fprintf(stderr, ", %zu failed", s->failed);
		if (o->combine && s->rows)
			fprintf(stderr, "; %zu page%s", s->pages,
			    s->pages == 1 ? "" : "s");
		fputc('\n', stderr);
	}
	if (st.interrupted || qp_stop_why(&stop_req)) {
		int sig = qp_stop_why(&stop_req);
		qp_cli_error("stopped by signal %d (%s); complete files are "
		    "kept and listed in %s; run the same command to resume",
		    sig, strsignal(sig), st.manifest);
		free(st.each);
		return 128 + sig;
	}
	if (!u->quiet)
		fprintf(stderr, "qrposter: %zu products in %.1fs; manifest "
		    "%s\n", ps->n, now() - u->start, st.manifest);
	free(st.each);
	return failed ? QP_EXIT_PARTIAL : QP_EXIT_OK;
}

int
qp_cmd_batch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"template", required_argument, NULL, 't'},
		{"data", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"set", required_argument, NULL, 's'},
		{"combine", required_argument, NULL, OPT_COMBINE},
		{"manifest", required_argument, NULL, OPT_MANIFEST},
		{"impose", required_argument, NULL, OPT_IMPOSE},
		{"sheet", required_argument, NULL, OPT_SHEET},
		{"bleed", required_argument, NULL, OPT_BLEED},
		{"marks", no_argument, NULL, OPT_MARKS},
		{"dpi", required_argument, NULL, OPT_DPI},
		{"shard", required_argument, NULL, OPT_SHARD},
		{"jobs", required_argument, NULL, 'j'},
		{"force", no_argument, NULL, OPT_FORCE},
		{"keep-going", no_argument, NULL, OPT_KEEP_GOING},
		{"no-check", no_argument, NULL, OPT_NO_CHECK},
		{"verify", no_argument, NULL, OPT_VERIFY},
		{"no-links", no_argument, NULL, OPT_NO_LINKS},
		{"print", required_argument, NULL, OPT_PRINT},
		{"icc", required_argument, NULL, OPT_ICC},
		{"law", required_argument, NULL, OPT_LAW},
		{"products", required_argument, NULL, OPT_PRODUCTS},
		{"profile", required_argument, NULL, OPT_PROFILE},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	qp_batch_opts o = {0};
	qp_batch_stats st;
	qp_batch_hooks hooks = {0};
	qp_sets sets = {0};
	qp_laws laws = {0};
	qp_product_set ps = {0};
	const char *products = NULL;
	char *owned_pattern = NULL;
	bool tmpl_given = false;
	const char *tmpl_arg = "restroom-letter", *sheet = "letter";
	char *tpath = NULL, *owned_icc = NULL;
	const char *print_mode = NULL, *icc = NULL, *profile_path = NULL;
	qp_profile *profile = NULL;
	qp_print_opts po = {0};
	ui u = {0};
	qp_error err;
	long v;
	int c, rc = QP_EXIT_USAGE;
	bool ok;

	o.render = (qp_render_opts)QP_RENDER_OPTS_DEFAULT;
	o.shard_k = o.shard_n = 1;
	o.check = true;
	v = sysconf(_SC_NPROCESSORS_ONLN);
	o.jobs = v > 0 ? (int)v : 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:d:o:s:j:qh", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 't': tmpl_arg = optarg; tmpl_given = true; break;
		case 'd': o.data = optarg; break;
		case 'o': o.pattern = optarg; break;
		case 's': qp_sets_add(&sets, optarg); break;
		case OPT_COMBINE: o.combine = optarg; break;
		case OPT_MANIFEST: o.manifest = optarg; break;
		case OPT_IMPOSE:
			if (!qp_batch_parse_impose(optarg, &o.impose.cols,
			    &o.impose.rows, &err)) {
				qp_cli_error("--impose %s", err.msg);
				goto done;
			}
			break;
		case OPT_SHEET: sheet = optarg; break;
		case OPT_BLEED:
			if (!qp_cli_length("--bleed", optarg, &o.render.bleed))
				goto done;
			break;
		case OPT_MARKS: o.render.marks = true; break;
		case OPT_DPI:
			if (!qp_cli_dpi(optarg, &o.render.dpi))
				goto done;
			break;
		case OPT_SHARD:
			if (!qp_batch_parse_shard(optarg, &o.shard_k,
			    &o.shard_n, &err)) {
				qp_cli_error("--shard %s", err.msg);
				goto done;
			}
			break;
		case 'j':
			if (!qp_parse_int(optarg, 1, 64, &v)) {
				qp_cli_error("--jobs '%s': a whole number from 1 "
				    "to 64", optarg);
				goto done;
			}
			o.jobs = (int)v;
			break;
		case OPT_FORCE: o.force = true; break;
		case OPT_KEEP_GOING: o.keep_going = true; break;
		case OPT_NO_CHECK: o.check = false; break;
		case OPT_VERIFY: o.verify = true; break;
		case OPT_NO_LINKS: o.no_links = true; break;
		case OPT_PRINT: print_mode = optarg; break;
		case OPT_ICC: icc = optarg; break;
		case OPT_LAW:
			if (!qp_cli_laws_add(&laws, optarg))
				goto done;
			break;
		case OPT_PRODUCTS: products = optarg; break;
		case OPT_PROFILE: profile_path = optarg; break;
		case 'q': u.quiet = true; break;
		case 'h':
			batch_usage(stdout);
			rc = QP_EXIT_OK;
			goto done;
		default:
			qp_cli_bad_option("batch", argv, c);
			goto done;
		}
	}
	if (optind < argc) {
		qp_cli_error("batch: unexpected argument '%s'", argv[optind]);
		goto done;
	}
	if (o.data == NULL) {
		qp_cli_error("batch: give the locations with -d FILE.csv (or "
		    "-d - for standard input)");
		goto done;
	}
	if (o.pattern && o.combine) {
		qp_cli_error("batch: give either -o PATTERN or --combine FILE, "
		    "not both (run twice for both)");
		goto done;
	}
	if (products && tmpl_given) {
		qp_cli_error("batch: give either -t TEMPLATE or --products, "
		    "not both");
		goto done;
	}
	if (o.pattern == NULL && o.combine == NULL) {
		o.pattern = products ? DEFAULT_SET_PATTERN : DEFAULT_PATTERN;
		qp_cli_default_dir("output");
	}
	if (o.impose.cols) {
		if (o.combine == NULL) {
			qp_cli_error("--impose: needs --combine FILE.pdf");
			goto done;
		}
		if (!qp_page_size_parse(sheet, &o.impose.sheet_w,
		    &o.impose.sheet_h, &err)) {
			qp_cli_error("--sheet: %s", err.msg);
			goto done;
		}
	}
	if (o.combine) {
		char ext[16];
		if (strcmp(qp_path_ext(o.combine, ext, sizeof ext), "pdf")) {
			qp_cli_error("--combine '%s': the combined file is a "
			    "PDF; name it FILE.pdf", o.combine);
			goto done;
		}
	}
	if (print_mode && o.pattern) {
		qp_format f;
		if (!qp_format_from_path(o.pattern, &f, &err) ||
		    f != QP_FMT_PDF) {
			qp_cli_error("--print: print files are PDFs; name them "
			    "'....pdf' in -o");
			goto done;
		}
	}
	if (!qp_cli_print(print_mode, icc, &po, &owned_icc))
		goto done;
	if (print_mode) {
		po.jobs = o.jobs; /* -j: Ghostscript runs at a time too */
		o.render.print = &po;
	}
	rc = QP_EXIT_ERROR;
	if ((tpath = qp_template_find(tmpl_arg, &err)) == NULL) {
		qp_cli_error("%s", err.msg);
		goto done;
	}
	o.template_path = tpath;
	if (profile_path &&
	    (profile = qp_profile_load(profile_path, &err)) == NULL) {
		qp_cli_puts("qrposter: ", err.msg);
		goto done;
	}
	o.profile = profile;
	o.sets = sets.v;
	o.nsets = sets.n;
	o.laws = (const struct qp_law *const *)laws.v;
	o.nlaws = laws.n;
	qp_cli_laws_stale("batch", &laws, false);
	u.bar = !u.quiet && isatty(STDERR_FILENO);
	u.keep_going = o.keep_going;
	u.start = now();
	hooks.arg = &u;
	hooks.row_error = on_row_error;
	hooks.note = on_note;
	hooks.progress = on_progress;
	hooks.stop = &stop_req;
	if (!install_signals(&err)) {
		qp_cli_error("%s", err.msg);
		goto done;
	}
	/*
	 * A batch makes and frees the same buffers page after page; Cairo
	 * opens a zlib stream (a quarter of a megabyte, cleared) for every
	 * PDF stream. glibc gave that memory back to the system at each free
	 * and faulted it in anew at each page: 8,300 page faults and a tenth
	 * of a 540-page combined run's CPU time. Keeping up to 32 MB free
	 * (the peak is the same; the peak-memory target is 32 MB) makes it
	 * 1,700. glibc only (Debian's C library).
	 */
	mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	if (products || o.combine || o.pattern) {
		int got = products ? load_products(products, &ps, &err) :
		    column_products(&o, tpath, tmpl_arg, &ps, &err);
		if (got < 0) {
			qp_cli_error("%s", err.msg);
			goto done;
		}
		if (got > 0) {
			if (!products && o.pattern && strstr(o.pattern,
			    "{{product}}") == NULL)
				o.pattern = pattern_with_product(o.pattern,
				    &owned_pattern);
			rc = run_set(&o, &ps, &hooks, &u);
			goto done;
		}
	}
	ok = qp_batch_run(&o, &hooks, &st, &err);
	clear_bar(&u);
	for (size_t i = 0; i < u.nlisted; i++)
		qp_cli_puts("", u.listed[i]);
	if (u.nmore)
		fprintf(stderr, "... and %zu more bad rows (see the "
		    "manifest)\n", u.nmore);
	if (!ok) {
		qp_cli_fail("batch", NULL, &err);
		/* A failure a stop caused (a Ghostscript run that the same
		 * Ctrl-C ended, say) is still the stop's. */
		rc = qp_stop_why(&stop_req) ? 128 + qp_stop_why(&stop_req) :
		    qp_cli_status(&err);
		goto done;
	}
	if (st.interrupted || qp_stop_why(&stop_req)) {
		/* A stop that came after the last row still says so. */
		int sig = qp_stop_why(&stop_req);
		qp_cli_error("stopped by signal %d (%s) after %zu of %zu rows; "
		    "complete files are kept%s%s; run the same command to "
		    "resume", sig, strsignal(sig), st.written + st.skipped,
		    st.rows, st.manifest[0] ? " and listed in " : "",
		    st.manifest);
		rc = 128 + sig;
		goto done;
	}
	if (!u.quiet) {
		fprintf(stderr, "qrposter: %zu row%s: %zu made, %zu unchanged",
		    st.rows, st.rows == 1 ? "" : "s", st.written, st.skipped);
		if (st.failed)
			fprintf(stderr, ", %zu failed", st.failed);
		if (o.combine)
			fprintf(stderr, "; %zu page%s", st.pages,
			    st.pages == 1 ? "" : "s");
		fprintf(stderr, " in %.1fs; manifest %s\n", now() - u.start,
		    st.manifest);
	}
	rc = st.failed ? QP_EXIT_PARTIAL : QP_EXIT_OK;
done:
	for (size_t i = 0; i < u.nlisted; i++)
		free(u.listed[i]);
	free(u.listed);
	free(tpath);
	free(owned_icc);
	free(owned_pattern);
	qp_profile_free(profile);
	qp_sets_free(&sets);
	qp_cli_laws_free(&laws);
	qp_products_free(&ps);
	return rc;
}
