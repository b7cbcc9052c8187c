/*
 * cli.h - subcommands. Each lives in its own cmd_<name>.c and returns an
 * exit status; only this layer prints to the user or picks exit codes.
 */
#ifndef QP_CLI_H
#define QP_CLI_H

#include "bind.h"
#include "check.h"
#include "layout.h"
#include "render.h"
#include "util.h"

/* Exit statuses. */
enum {
	QP_EXIT_OK = 0,
	QP_EXIT_ERROR = 1,   /* bad input or a failed render */
	QP_EXIT_USAGE = 2,   /* bad command line */
	QP_EXIT_PARTIAL = 3, /* batch --keep-going: some rows failed */
	QP_EXIT_ATTENTION = 4, /* audit: locations missing, photos unreadable */
	QP_EXIT_ALARM = 5,     /* audit: a foreign code, wrong place, conflict */
};

typedef struct qp_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} qp_cmd;

int qp_cmd_render(int argc, char **argv);
int qp_cmd_qr(int argc, char **argv);
int qp_cmd_batch(int argc, char **argv);
int qp_cmd_merge(int argc, char **argv);
int qp_cmd_check(int argc, char **argv);
int qp_cmd_serve(int argc, char **argv);
int qp_cmd_audit(int argc, char **argv);

/* Print "qrposter: message" to stderr, control and direction characters
 * made visible (qp_visible): data quoted in a message never reaches the
 * terminal raw. */
void qp_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for a ready message: prefix, then msg made visible. */
void qp_cli_puts(const char *prefix, const char *msg);
/*
 * Print a library error as one "qrposter: " line ("where: " first when
 * where is not NULL), with its hint in the words of command cmd: the
 * flag that gets past it ("use --dpi 190 or lower", "--set ..."). The
 * library's messages name no flag; this is where they are added.
 */
void qp_cli_fail(const char *cmd, const char *where, const qp_error *err);
/* The exit status for a library error: a bad --set is a bad command
 * line (2), anything else a failure (1). */
int qp_cli_status(const qp_error *err);

/*
 * Report getopt_long's '?' (unknown option) or ':' (missing argument) as
 * one line naming the option; call with opterr = 0 and optstring ":...".
 */
void qp_cli_bad_option(const char *cmd, char **argv, int c);

/*
 * Make dir (one level, in the working directory) when a command writes to
 * its default place there and it is missing. An -o the user gives must
 * name an existing folder instead: a typo must not create a tree.
 */
void qp_cli_default_dir(const char *dir);

/* Growable list of --set values. */
typedef struct qp_sets {
	const char **v;
	size_t n;
} qp_sets;

void qp_sets_add(qp_sets *s, const char *kv);
void qp_sets_free(qp_sets *s);

/*
 * Give b every -s value; a bad one (set-syntax, unknown-variable, the
 * value rule) is printed as "qrposter: --set NAME: ... [code]", the
 * same line in every command (qp_cli_fail), and false returned: the
 * command exits with QP_EXIT_USAGE.
 */
bool qp_cli_bind_sets(const char *cmd, qp_binding *b, const qp_sets *s);

/*
 * --profile FILE (profile.h): read it, put its logo in t's place for one
 * and give b its values (under the CSV and -s). A mistake is printed as
 * "qrposter: FILE:LINE:COL: ..." and false returned (exit 1); the keys t
 * does not use are profile-unused warnings added to warn.
 */
bool qp_cli_profile(const char *path, qp_template *t, qp_binding *b,
    qp_diag_list *warn);

/*
 * Print findings to stderr, one line each: "qrposter: WHERE: error: MSG"
 * (or "warning: "), with what to type added where the finding is about
 * a value (a variable with no value: the hint qp_cli_fail gives for
 * it). where may be NULL.
 */
void qp_cli_findings(const char *cmd, const char *where,
    const qp_diag_list *l);

/* The posting-law packs --law names (cmd_law.c). */
struct qp_law;
typedef struct qp_laws {
	struct qp_law **v;
	size_t n;
} qp_laws;

/* Load the packs of one --law argument (CODE[,CODE...] or files), once
 * each; false with a message printed (the command exits 2). */
bool qp_cli_laws_add(qp_laws *l, const char *arg);
void qp_cli_laws_free(qp_laws *l);
/* Point co at l's packs, for the poster step. */
void qp_cli_laws_opts(const qp_laws *l, qp_check_opts *co);
/* Print a law-stale warning for each pack checked over a year ago, to
 * stdout as check prints findings, or as "qrposter: warning: ..." lines
 * on stderr; returns how many. */
size_t qp_cli_laws_stale(const char *cmd, const qp_laws *l, bool to_stdout);

/*
 * --print MODE (only "cmyk") and --icc FILE (either may be NULL): fill po
 * with the press profile, FILE or Ghostscript's own CMYK profile; *owned
 * is what to free after the run. False with a message printed.
 */
bool qp_cli_print(const char *mode, const char *icc, qp_print_opts *po,
    char **owned);

/* Parse --dpi / --bleed values strictly; false with a message printed. */
bool qp_cli_dpi(const char *s, double *dpi);
bool qp_cli_length(const char *opt, const char *s, double *pt);

#endif
