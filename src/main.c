/*
 * main.c - qrposter's entry point: dispatch to a subcommand.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "fonts.h"

static const qp_cmd cmds[] = {
	{"render", "render one poster to PDF, PNG or SVG", qp_cmd_render},
	{"qr", "write a bare QR code to PDF, PNG or SVG", qp_cmd_qr},
	{"batch", "posters for every row of a CSV, with a manifest", qp_cmd_batch},
	{"merge", "shards of a print run back into one PDF and manifest",
	    qp_cmd_merge},
	{"check", "preflight: report what would fail on the wall", qp_cmd_check},
	{"serve", "open the poster editor in a web browser", qp_cmd_serve},
	{"audit", "check installers' photos against a print run", qp_cmd_audit},
};

#define NCMDS (sizeof cmds / sizeof cmds[0])

void
qp_cli_puts(const char *prefix, const char *msg)
{
	qp_buf b;

	qp_buf_init(&b);
	qp_buf_adds(&b, prefix);
	qp_visible(msg, &b);
	qp_buf_addc(&b, '\n');
	fputs(b.data, stderr);
	qp_buf_free(&b);
}

/* The hint of an error in the words of command cmd. */
static void
hint_words(const char *cmd, const qp_error *err, qp_buf *b)
{
	switch (err->hint) {
	case QP_HINT_UNSET:
		if (strcmp(cmd, "render") == 0)
			qp_buf_printf(b, " (give it with -s %s=VALUE)",
			    err->name);
		else
			qp_buf_printf(b, " (add a column '%s' or give -s "
			    "%s=VALUE)", err->name, err->name);
		break;
	case QP_HINT_MAX_DPI:
		qp_buf_printf(b, ": use --dpi %ld or lower", err->num);
		break;
	case QP_HINT_KEEP_GOING:
		qp_buf_adds(b, " (--keep-going makes the good rows)");
		break;
	case QP_HINT_PATTERN:
		qp_buf_adds(b, "; use e.g. -o 'output/{{code}}.pdf', or "
		    "--combine FILE.pdf");
		break;
	case QP_HINT_NONE:
	case QP_HINT_SET:
		break;
	}
}

void
qp_cli_fail(const char *cmd, const char *where, const qp_error *err)
{
	/* A finding's code stays last: the hint goes before it. */
	size_t at = qp_diag_code_at(err->msg);
	qp_buf b;

	qp_buf_init(&b);
	if (err->hint == QP_HINT_SET)
		qp_buf_adds(&b, "--set ");
	if (where)
		qp_buf_printf(&b, "%s: ", where);
	qp_buf_add(&b, err->msg, at);
	hint_words(cmd, err, &b);
	qp_buf_adds(&b, err->msg + at);
	qp_cli_puts("qrposter: ", b.data);
	qp_buf_free(&b);
}

int
qp_cli_status(const qp_error *err)
{
	return err->hint == QP_HINT_SET ? QP_EXIT_USAGE : QP_EXIT_ERROR;
}

void
qp_cli_error(const char *fmt, ...)
{
	va_list ap;
	char msg[8192];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	qp_cli_puts("qrposter: ", msg);
}

/* A stop signal outside a batch (which stops cleanly on its own): remove
 * the temporary files in flight, then die of the signal as usual. */
static void
on_fatal_signal(int sig)
{
	qp_outfile_unlink_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* Past a file size limit (ulimit -f), write() must fail with EFBIG
	 * and be reported, not kill the process mid-file. */
	signal(SIGXFSZ, SIG_IGN);
}

void
qp_cli_bad_option(const char *cmd, char **argv, int c)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		qp_cli_error("%s: option '%s' needs a value (see 'qrposter %s "
		    "--help')", cmd, arg, cmd);
	else if (optopt && (arg == NULL || strncmp(arg, "--", 2) != 0))
		qp_cli_error("%s: unknown option '-%c' (see 'qrposter %s "
		    "--help')", cmd, optopt, cmd);
	else
		qp_cli_error("%s: unknown option '%s' (see 'qrposter %s "
		    "--help')", cmd, arg, cmd);
}

void
qp_cli_default_dir(const char *dir)
{
	/* EEXIST (or a file of that name) is reported by the output check. */
	(void)mkdir(dir, 0777);
}

void
qp_sets_add(qp_sets *s, const char *kv)
{
	s->v = qp_xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	s->v[s->n++] = kv;
}

void
qp_sets_free(qp_sets *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

bool
qp_cli_bind_sets(const char *cmd, qp_binding *b, const qp_sets *s)
{
	qp_error err;

	for (size_t i = 0; i < s->n; i++)
		if (!qp_binding_set_err(b, s->v[i], &err)) {
			qp_cli_fail(cmd, NULL, &err);
			return false;
		}
	return true;
}

bool
qp_cli_profile(const char *path, qp_template *t, qp_binding *b,
    qp_diag_list *warn)
{
	qp_profile *p;
	qp_diag_list dl;
	qp_error err;
	bool ok;

	if ((p = qp_profile_load(path, &err)) == NULL) {
		qp_cli_puts("qrposter: ", err.msg);
		return false;
	}
	qp_diag_list_init(&dl);
	ok = qp_profile_logo(p, t, &err) &&
	    qp_binding_profile(b, p, &dl, &err);
	if (!ok)
		qp_cli_puts("qrposter: ", err.msg);
	else
		qp_diag_list_move(warn, &dl); /* only warnings are left */
	qp_diag_list_clear(&dl);
	qp_profile_free(p);
	return ok;
}

void
qp_cli_findings(const char *cmd, const char *where, const qp_diag_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const qp_diag *d = &l->v[i];
		qp_error err;
		qp_buf b;

		/* A variable with no value: what to type, as for a library
		 * error with that hint. */
		if (d->code == QP_D_VALUE_MISSING && d->nvars && !d->column) {
			qp_fail(&err, "%s: %s", qp_severity_name(d->sev),
			    d->msg);
			qp_error_hint(&err, QP_HINT_UNSET, 0, d->vars[0]);
			qp_cli_fail(cmd, where, &err);
			continue;
		}
		qp_buf_init(&b);
		if (where)
			qp_buf_printf(&b, "%s: ", where);
		qp_buf_printf(&b, "%s: %s", qp_severity_name(d->sev), d->msg);
		qp_cli_puts("qrposter: ", b.data);
		qp_buf_free(&b);
	}
}

bool
qp_cli_dpi(const char *s, double *dpi)
{
	if (!qp_parse_number(s, strlen(s), dpi) || *dpi < 10 || *dpi > 2400) {
		qp_cli_error("--dpi '%s': expected a number from 10 to 2400", s);
		return false;
	}
	return true;
}

bool
qp_cli_length(const char *opt, const char *s, double *pt)
{
	qp_error err;

	if (!qp_parse_points(s, pt, &err)) {
		qp_cli_error("%s: %s", opt, err.msg);
		return false;
	}
	if (*pt < 0) {
		qp_cli_error("%s '%s': must not be negative", opt, s);
		return false;
	}
	return true;
}

static void
usage(FILE *fp)
{
	fputs("usage: qrposter COMMAND [OPTIONS]\n\n"
	    "Make print-ready posters with location-specific QR codes.\n\n"
	    "commands:\n", fp);
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(fp, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fputs("\n'qrposter COMMAND --help' describes a command's options.\n"
	    "  -h, --help     show this help\n"
	    "  -V, --version  show the version\n", fp);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return QP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return QP_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("qrposter %s\n", QP_VERSION);
		return QP_EXIT_OK;
	}
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(argv[1], cmds[i].name) == 0) {
			qp_error err;

			install_signals();
			/* Fonts first: every command lays out or draws. */
			if (!qp_fonts_init(&err)) {
				qp_cli_error("%s", err.msg);
				return QP_EXIT_ERROR;
			}
			return cmds[i].run(argc - 1, argv + 1);
		}
	{
		const char *names[NCMDS];
		const char *near;

		for (size_t i = 0; i < NCMDS; i++)
			names[i] = cmds[i].name;
		near = qp_nearest(argv[1], names, NCMDS);
		if (near)
			qp_cli_error("unknown command '%s' (did you mean "
			    "'%s'?)", argv[1], near);
		else
			qp_cli_error("unknown command '%s'; try 'qrposter "
			    "--help'", argv[1]);
	}
	return QP_EXIT_USAGE;
}
