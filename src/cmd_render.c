/*
 * cmd_render.c - "qrposter render" (one poster) and "qrposter qr" (a bare
 * code).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "datadir.h"
#include "fonts.h"
#include "poster.h"
#include "qr.h"

#define DEFAULT_TEMPLATE "restroom-letter"
#define DEFAULT_OUTPUT "output/poster.pdf"

enum {
	OPT_DPI = 256,
	OPT_BLEED,
	OPT_MARKS,
	OPT_ECC,
	OPT_SIZE,
	OPT_QUIET,
	OPT_PRINT,
	OPT_ICC,
	OPT_LAW,
	OPT_PROFILE,
};

bool
qp_cli_print(const char *mode, const char *icc, qp_print_opts *po,
    char **owned)
{
	qp_error err;

	*owned = NULL;
	{
		/* Ghostscript runs side by side: one a core, at most 4. */
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		po->jobs = n < 1 ? 1 : n > 4 ? 4 : (int)n;
	}
	if (mode == NULL) {
		if (icc)
			qp_cli_error("--icc: goes with --print cmyk");
		return icc == NULL;
	}
	if (strcmp(mode, "cmyk") != 0) {
		qp_cli_error("--print '%s': the one print mode is 'cmyk' (a "
		    "CMYK " QP_PDFX_VERSION " file)", mode);
		return false;
	}
	if (icc) {
		if (!qp_print_profile_ok(icc, &err)) {
			qp_cli_error("--icc: %s", err.msg);
			return false;
		}
		po->icc_path = icc;
		return true;
	}
	if ((*owned = qp_print_default_profile(&err)) == NULL) {
		qp_cli_error("--print: %s", err.msg);
		return false;
	}
	po->icc_path = *owned;
	return true;
}

static void
render_usage(FILE *fp)
{
	fputs("usage: qrposter render [-t TEMPLATE] [--profile FILE] "
	    "[-s KEY=VALUE]... [-o OUT] [--dpi N]\n\n"
	    "Render one poster. The format follows OUT's extension: .pdf, "
	    ".png or .svg.\n\n"
	    "  -t, --template T   a template file, or the name of a bundled "
	    "one\n"
	    "                     (default: " DEFAULT_TEMPLATE ")\n"
	    "  -s, --set K=V      give variable K the value V (repeatable), "
	    "e.g.\n"
	    "                     -s code=NYP-R1 -s name='New York Penn'\n"
	    "  -o, --output OUT   output file (default: " DEFAULT_OUTPUT ")\n"
	    "      --profile FILE the agency's profile: its hotline, name, "
	    "text number,\n"
	    "                     reporting URL and logo (-s overrides it)\n"
	    "      --dpi N        PNG resolution (default 300)\n"
	    "      --bleed LEN    extend the background LEN past the trim "
	    "(e.g. 0.125in)\n"
	    "      --marks        draw crop marks outside the bleed\n"
	    "      --print cmyk   a CMYK " QP_PDFX_VERSION " print file: black in "
	    "black\n"
	    "                     ink only, cmyk() colours as given, no "
	    "links\n"
	    "      --icc FILE     the press's CMYK output profile (default:\n"
	    "                     Ghostscript's default_cmyk.icc)\n"
	    "      --law CODE[,CODE...]\n"
	    "                     refuse a poster that fails these posting "
	    "laws\n"
	    "                     (templates/LAWS.md)\n"
	    "  -h, --help         show this help\n", fp);
}

static int
finish_render(const qp_page *page, const char *out, qp_format fmt,
    const qp_render_opts *o)
{
	qp_error err;

	if (!qp_render_file(page, out, fmt, o, &err)) {
		qp_cli_fail("render", NULL, &err);
		return QP_EXIT_ERROR;
	}
	return QP_EXIT_OK;
}

int
qp_cmd_render(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"template", required_argument, NULL, 't'},
		{"set", required_argument, NULL, 's'},
		{"output", required_argument, NULL, 'o'},
		{"dpi", required_argument, NULL, OPT_DPI},
		{"bleed", required_argument, NULL, OPT_BLEED},
		{"marks", no_argument, NULL, OPT_MARKS},
		{"print", required_argument, NULL, OPT_PRINT},
		{"icc", required_argument, NULL, OPT_ICC},
		{"law", required_argument, NULL, OPT_LAW},
		{"profile", required_argument, NULL, OPT_PROFILE},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char default_out[] = DEFAULT_OUTPUT;
	const char *profile = NULL;
	const char *print_mode = NULL, *icc = NULL;
	qp_print_opts po = {0};
	char *owned_icc = NULL;
	const char *tmpl_arg = DEFAULT_TEMPLATE, *out = default_out;
	qp_render_opts o = QP_RENDER_OPTS_DEFAULT;
	qp_sets sets = {0};
	qp_template *t = NULL;
	qp_layout_ctx *ctx = NULL;
	qp_page *page = NULL;
	qp_binding *b = NULL;
	qp_values values = {0};
	qp_check_opts co = {0};
	qp_laws laws = {0};
	qp_diag_list dl;
	qp_format fmt;
	qp_error err;
	int c, rc = QP_EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:s:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': tmpl_arg = optarg; break;
		case 's': qp_sets_add(&sets, optarg); break;
		case 'o': out = optarg; break;
		case OPT_DPI:
			if (!qp_cli_dpi(optarg, &o.dpi))
				goto done;
			break;
		case OPT_BLEED:
			if (!qp_cli_length("--bleed", optarg, &o.bleed))
				goto done;
			break;
		case OPT_MARKS: o.marks = true; break;
		case OPT_PRINT: print_mode = optarg; break;
		case OPT_ICC: icc = optarg; break;
		case OPT_LAW:
			if (!qp_cli_laws_add(&laws, optarg))
				goto done;
			break;
		case OPT_PROFILE: profile = optarg; break;
		case 'h':
			render_usage(stdout);
			rc = QP_EXIT_OK;
			goto done;
		default:
			qp_cli_bad_option("render", argv, c);
			goto done;
		}
	}
	if (optind < argc) {
		qp_cli_error("render: unexpected argument '%s'", argv[optind]);
		goto done;
	}
	if (out == default_out)
		qp_cli_default_dir("output");
	co.bleed = o.bleed;
	qp_cli_laws_opts(&laws, &co);
	/* Everything about the output is checked before any work. */
	if (!qp_format_from_path(out, &fmt, &err) ||
	    !qp_check_output_dir(out, &err)) {
		qp_cli_error("--output: %s", err.msg);
		goto done;
	}
	if (print_mode && fmt != QP_FMT_PDF) {
		qp_cli_error("--print: the print file is a PDF; name the "
		    "output FILE.pdf");
		goto done;
	}
	if (!qp_cli_print(print_mode, icc, &po, &owned_icc))
		goto done;
	if (print_mode)
		o.print = &po;
	rc = QP_EXIT_ERROR;
	if ((t = qp_template_open(tmpl_arg, &err)) == NULL ||
	    !qp_fonts_add_template(t, &err)) {
		qp_cli_error("%s", err.msg);
		goto done;
	}
	qp_outfile_protect(t->path, "the template");
	b = qp_binding_new(t);
	qp_diag_list_init(&dl);
	if (profile && !qp_cli_profile(profile, t, b, &dl)) {
		qp_diag_list_clear(&dl);
		goto done;
	}
	qp_cli_findings("render", profile, &dl);
	qp_diag_list_clear(&dl);
	if (!qp_cli_bind_sets("render", b, &sets)) {
		rc = QP_EXIT_USAGE;
		goto done;
	}
	/* The poster step (poster.h) binds, lays out and runs the
	 * preflight: its errors stop the poster, its warnings are
	 * printed. */
	qp_cli_laws_stale("render", &laws, false);
	qp_values_init(&values, t);
	ctx = qp_layout_ctx_new();
	page = qp_poster_make(ctx, b, NULL, &co, &values, &dl);
	qp_cli_findings("render", t->path, &dl);
	qp_diag_list_clear(&dl);
	if (page == NULL)
		goto done;
	rc = finish_render(page, out, fmt, &o);
done:
	qp_page_free(page);
	qp_layout_ctx_free(ctx);
	qp_values_free(&values);
	qp_binding_free(b);
	qp_template_free(t);
	qp_sets_free(&sets);
	free(owned_icc);
	qp_cli_laws_free(&laws);
	return rc;
}

static void
qr_usage(FILE *fp)
{
	fputs("usage: qrposter qr TEXT [-o OUT] [--ecc L|M|Q|H|auto] [--size LEN] "
	    "[--quiet-zone N] [--dpi N]\n\n"
	    "Write a bare QR code for TEXT. The format follows OUT's "
	    "extension.\n\n"
	    "  -o, --output OUT     output file (default: output/qr.pdf)\n"
	    "      --ecc L|M|Q|H    error correction level (default M); auto:\n"
	    "                       the highest that keeps M's size\n"
	    "      --size LEN       width of the whole code, quiet zone "
	    "included\n"
	    "                       (default 2in; e.g. 50mm, 1.5in, 144pt)\n"
	    "      --quiet-zone N   light margin in modules, at least 4 "
	    "(default 4)\n"
	    "      --dpi N          PNG resolution (default 300)\n"
	    "  -h, --help           show this help\n", fp);
}

int
qp_cmd_qr(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"ecc", required_argument, NULL, OPT_ECC},
		{"size", required_argument, NULL, OPT_SIZE},
		{"quiet-zone", required_argument, NULL, OPT_QUIET},
		{"dpi", required_argument, NULL, OPT_DPI},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char default_qr_out[] = "output/qr.pdf";
	const char *out = default_qr_out, *text;
	qp_render_opts o = QP_RENDER_OPTS_DEFAULT;
	double size = 2 * QP_PT_PER_IN;
	int ecc = 1, quiet = 4, c;
	qp_page *page = NULL;
	qp_format fmt;
	qp_error err;
	long v;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case OPT_ECC:
			if ((ecc = qp_qr_ecc_parse(optarg)) < 0) {
				qp_cli_error("--ecc '%s': use L, M, Q, H or auto",
				    optarg);
				return QP_EXIT_USAGE;
			}
			break;
		case OPT_SIZE:
			if (!qp_cli_length("--size", optarg, &size))
				return QP_EXIT_USAGE;
			if (size <= 0 || size > 200 * QP_PT_PER_IN) {
				qp_cli_error("--size '%s': must be more than 0 "
				    "and at most 200in", optarg);
				return QP_EXIT_USAGE;
			}
			break;
		case OPT_QUIET:
			if (!qp_parse_int(optarg, 4, 100, &v)) {
				qp_cli_error("--quiet-zone '%s': a whole number "
				    "of modules from 4 to 100 (scanners need "
				    "4)", optarg);
				return QP_EXIT_USAGE;
			}
			quiet = (int)v;
			break;
		case OPT_DPI:
			if (!qp_cli_dpi(optarg, &o.dpi))
				return QP_EXIT_USAGE;
			break;
		case 'h':
			qr_usage(stdout);
			return QP_EXIT_OK;
		default:
			qp_cli_bad_option("qr", argv, c);
			return QP_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		qp_cli_error("qr: give exactly one TEXT to encode (see "
		    "'qrposter qr --help')");
		return QP_EXIT_USAGE;
	}
	text = argv[optind];
	if (!qp_utf8_valid(text, strlen(text), NULL)) {
		qp_cli_error("qr: TEXT is not valid UTF-8");
		return QP_EXIT_USAGE;
	}
	if (out == default_qr_out)
		qp_cli_default_dir("output");
	if (!qp_format_from_path(out, &fmt, &err) ||
	    !qp_check_output_dir(out, &err)) {
		qp_cli_error("--output: %s", err.msg);
		return QP_EXIT_USAGE;
	}
	if ((page = qp_layout_qr_only(text, ecc, size, quiet, &err)) == NULL) {
		qp_cli_fail("qr", NULL, &err);
		return QP_EXIT_ERROR;
	}
	if (fmt == QP_FMT_PNG) {
		int n = page->items[0].qr->width + 2 * quiet;
		if (size * o.dpi / 72.0 < n) {
			qp_cli_error("--size: a %d-module code needs at least %d "
			    "pixels; at %g DPI that is %.2fin: raise --size or "
			    "--dpi", n, n, o.dpi, n / o.dpi);
			qp_page_free(page);
			return QP_EXIT_ERROR;
		}
	}
	c = finish_render(page, out, fmt, &o);
	qp_page_free(page);
	return c;
}
