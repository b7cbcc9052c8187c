/*
 * test_hostile.c - hostile and broken input: a table of command lines
 * over spreadsheets and templates written to misbehave, each with the
 * exit status and message it must get, none writing outside its output
 * folder; the escapers by context (markup, URL, file name, terminal) on
 * a table of hostile values; symbolic links, inputs named as outputs, a
 * full disk and stop signals.
 *
 * Each row of the command-line and escaper tables is its own test case,
 * named after the row, so one failure does not hide the others.
 *
 * Every case runs in a fresh directory DIR holding its inputs and an
 * output folder DIR/out; afterwards DIR may hold nothing new but what is
 * inside DIR/out (the check that nothing is written beside it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "batch.h"
#include "data.h"
#include "helpers.h"
#include "suite.h"
#include "util.h"
#include "vars.h"

/* ---- the command-line table ----------------------------------------- */

typedef struct hcase {
	const char *name;
	const char *csv;    /* written to DIR/in.csv (csv_len bytes if set) */
	size_t csv_len;
	const char *tpl;    /* written to DIR/t.yaml */
	char *(*gen)(void); /* or a generated DIR/in.csv */
	const char *argv[14]; /* "@" at the start stands for DIR */
	int status;
	const char *msg;  /* in stderr */
	const char *file; /* then exists under DIR/out */
	const char *text; /* and its text (pdftotext) holds this */
} hcase;

static char *
gen_long_field(void)
{
	size_t n = 70000;
	char *s = malloc(n + 32);

	strcpy(s, "code,name\nA1,");
	memset(s + 13, 'x', n);
	strcpy(s + 13 + n, "\n");
	return s;
}

static char *
gen_long_code(void)
{
	char *s = malloc(400);

	strcpy(s, "code,name\n");
	memset(s + 10, 'c', 300);
	strcpy(s + 310, ",x\n");
	return s;
}

static char *
gen_deep(void)
{
	char *s = malloc(200);

	memset(s, '[', 100);
	s[100] = '\0';
	return s;
}

/* A template that prints no variable, so any value fits. */
#define TPL(size) "qrposter: 1\npage:\n  size: " size "\nvariables:\n" \
	"  code:\n    description: c\nblocks:\n  - type: text\n" \
	"    text: hi\n    box: {x: 1in, y: 1in, w: 2in, h: 1in}\n"

#define B "batch", "-q", "-d", "@/in.csv"
#define OUT "-o", "@/out/{{code}}.pdf"
#define R "render", "-s", "code=A1"

static const hcase cases[] = {
	/* Encoding in the data. */
	{"CSV field with ESC", "code,name\nA1,esc\x1b[31mred\n", 0, NULL, NULL,
	    {B, OUT}, 1, "in.csv:2: column 'name': a control character "
	    "(\\x1B) at byte 4 of the value", NULL, NULL},
	{"CSV field with NUL", "code,name\nA1,a\0b\n", 17, NULL, NULL,
	    {B, OUT}, 1, "in.csv:2: column 'name': a NUL byte at byte 2",
	    NULL, NULL},
	{"CSV field in Latin-1", "code,name\nA1,caf\xe9\n", 0, NULL, NULL,
	    {B, OUT}, 1, "in.csv:2: column 'name': invalid UTF-8 (byte "
	    "0xE9 at byte 4", NULL, NULL},
	{"CSV field with a C1 control", "code,name\nA1,a\xc2\x85z\n", 0, NULL,
	    NULL, {B, OUT}, 1, "in.csv:2: column 'name': a control character "
	    "(U+0085)", NULL, NULL},
	{"CSV with CR line ends, error on line 3",
	    "code,name\rA1,x\rB2,caf\xe9\r", 0, NULL, NULL, {B, OUT}, 1,
	    "in.csv:3: column 'name': invalid UTF-8", NULL, NULL},
	{"CSV field of 70000 bytes", NULL, 0, NULL, gen_long_field,
	    {B, OUT}, 1, "in.csv:2: column 'name': the value is 70000 bytes "
	    "long; the limit is 4096", NULL, NULL},
	{"CSV quote never closed", "code,name\nA1,\"open\nB2,x\n", 0, NULL,
	    NULL, {B, OUT}, 1, "in.csv:2: column 'name': a quoted field is "
	    "never closed", NULL, NULL},
	{"--set value with ESC", NULL, 0, NULL, NULL,
	    {R, "-s", "name=a\x1b[2Jb", "-o", "@/out/x.pdf"}, 2,
	    "--set name: a control character (\\x1B) at byte 2", NULL, NULL},
	{"--set key with ESC, shown escaped", NULL, 0, NULL, NULL,
	    {R, "-s", "nam\x1b[2Je=x", "-o", "@/out/x.pdf"}, 2,
	    "--set nam\\x1B[2Je=x", NULL, NULL},
	/* File names from data. */
	{"code with U+202E", "code,name\n\xe2\x80\xae" "fdp.exe,x\n", 0, NULL,
	    NULL, {B, OUT}, 0, NULL, "_fdp.exe.pdf", NULL},
	{"code ../../etc/x", "code,name\n../../etc/x,x\n", 0, NULL, NULL,
	    {B, OUT}, 0, NULL, "_._.._etc_x.pdf", NULL},
	{"code /abs", "code,name\n/abs,x\n", 0, NULL, NULL, {B, OUT}, 0, NULL,
	    "_abs.pdf", NULL},
	{"code con", "code,name\ncon,x\n", 0, NULL, NULL, {B, OUT}, 0, NULL,
	    "_con.pdf", NULL},
	{"code ...hidden", "code,name\n...hidden,x\n", 0, NULL, NULL,
	    {B, OUT}, 0, NULL, "_..hidden.pdf", NULL},
	{"code of 300 characters", NULL, 0, TPL("letter"), gen_long_code,
	    {B, "-t", "@/t.yaml", OUT}, 0,
	    NULL, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	    "cccccccccccccccccccc.pdf", NULL},
	{"code empty", "code,name\n,x\n", 0, NULL, NULL, {B, OUT}, 1,
	    "in.csv:2: column 'code' is empty", NULL, NULL},
	{"codes that clash once cleaned", "code,name\nA/B,x\nA_B,y\n", 0, NULL,
	    NULL, {B, OUT}, 1, "in.csv:3: writes the same file as line 2",
	    NULL, NULL},
	{"codes that differ only in case", "code,name\nab,x\nAB,y\n", 0, NULL,
	    NULL, {B, OUT}, 1, "in.csv:3: writes the same file as line 2",
	    NULL, NULL},
	/* Markup in printed text prints literally. */
	{"name with Pango markup",
	    "code,name\nM1,\"<span foreground=\"\"red\"\">Red</span> &amp; "
	    "<b\"\n", 0,
	    NULL, NULL, {B, OUT}, 0, NULL, "M1.pdf",
	    "<span foreground=\"red\">Red</span> &amp; <b"},
	/* Templates. */
	{"template nested 100 deep", NULL, 0, NULL, NULL,
	    {"render", "-t", "@/t.yaml", "-o", "@/out/x.pdf"}, 1,
	    "t.yaml:1:65: nested more than 64 levels", NULL, NULL},
	/* Rasters that would need gigabytes. */
	{"46x60in PNG at 300 DPI (render)", NULL, 0,
	    TPL("46x60in"),
	    NULL, {"render", "-t", "@/t.yaml", "-o", "@/out/x.png"}, 1,
	    "13800x18000 pixels (994 MB in memory); the limit is 100 "
	    "megapixels and 32767 pixels a side: use --dpi 190 or lower",
	    NULL, NULL},
	{"46x60in PNG at 300 DPI (batch)", "code,name\nA1,x\n", 0,
	    TPL("46x60in"),
	    NULL, {"batch", "-t", "@/t.yaml", "-d", "@/in.csv", "-o",
	    "@/out/{{code}}.png"}, 1, "use --dpi 190 or lower", NULL, NULL},
	{"46in QR code PNG at 300 DPI (qr)", NULL, 0, NULL, NULL,
	    {"qr", "--size", "46in", "-o", "@/out/q.png", "https://x.test/"},
	    1, "use --dpi 217 or lower", NULL, NULL},
	/* An output named like an input. */
	{"--manifest over the CSV", "code,name\nA1,x\n", 0, NULL, NULL,
	    {B, OUT, "--manifest", "@/in.csv"}, 1, "in.csv' is the CSV data: "
	    "an output must not replace an input", NULL, NULL},
};

/* A copy of argv with "@" expanded to dir. */
static void
expand_argv(const char *dir, const char *const *in, const char **out,
    char **owned)
{
	size_t n = 0;

	out[n++] = th_bin();
	for (size_t i = 0; in[i]; i++) {
		if (in[i][0] == '@') {
			owned[i] = malloc(strlen(dir) + strlen(in[i]) + 1);
			sprintf(owned[i], "%s%s", dir, in[i] + 1);
			out[n++] = owned[i];
		} else
			out[n++] = in[i];
	}
	out[n] = NULL;
}

static bool
has_raw_controls(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == 0x1b || *p == '\r' || *p == 0x7f)
			return true;
		if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa &&
		    p[2] <= 0xae)
			return true;
	}
	return false;
}

/* One row of cases[]: state is the row. */
static void
test_case(void **state)
{
	const hcase *c = *state;
	char *dir = th_tmpdir_new();
	char *out = th_path(dir, "out");
	const char *argv[20];
	char *owned[16] = {0};
	const char *allowed[] = {"in.csv", "t.yaml", "out", NULL};
	char stray[256] = "";
	th_run r;

	assert_int_equal(mkdir(out, 0777), 0);
	if (c->csv || c->gen) {
		char *p = th_path(dir, "in.csv");
		char *g = c->gen ? c->gen() : NULL;
		const char *data = g ? g : c->csv;
		assert_true(th_write_file(p, data, c->csv_len ? c->csv_len :
		    strlen(data)));
		free(g);
		free(p);
	}
	if (c->tpl || strstr(c->name, "nested")) {
		char *p = th_path(dir, "t.yaml");
		char *g = c->tpl ? NULL : gen_deep();
		const char *text = g ? g : c->tpl;
		assert_true(th_write_file(p, text, strlen(text)));
		free(g);
		free(p);
	}
	expand_argv(dir, c->argv, argv, owned);
	th_run_argv(&r, argv, NULL);
	if (r.status != c->status || (c->msg && !strstr(r.err, c->msg)))
		print_error("%s: status %d, stderr:\n%s\n", c->name, r.status,
		    r.err);
	assert_int_equal(r.status, c->status);
	if (c->msg)
		assert_non_null(strstr(r.err, c->msg));
	assert_false(has_raw_controls(r.err));
	if (c->file) {
		char *f = th_path(out, c->file);
		if (!th_exists(f))
			print_error("%s: no %s\n", c->name, f);
		assert_true(th_exists(f));
		if (c->text) {
			char *t = th_pdftotext(f);
			assert_non_null(t);
			assert_non_null(strstr(t, c->text));
			free(t);
		}
		free(f);
	} else if (c->status != 0) {
		/* A refused run writes nothing at all. */
		assert_true(th_dir_only(out, NULL, stray, sizeof stray));
	}
	/* Nothing beside the output folder. */
	if (!th_dir_only(dir, allowed, stray, sizeof stray))
		print_error("%s: stray '%s' beside out/\n", c->name, stray);
	assert_true(th_dir_only(dir, allowed, stray, sizeof stray));
	for (size_t i = 0; i < 16; i++)
		free(owned[i]);
	th_run_free(&r);
	free(out);
	th_tmpdir_remove(dir);
}

/* ---- escapers by context -------------------------------------------- */

typedef struct evalue {
	const char *in, *markup, *url, *name, *visible;
} evalue;

static const evalue values[] = {
	{"<span foreground=\"red\">", "&lt;span foreground=&quot;red&quot;&gt;",
	    "%3Cspan%20foreground%3D%22red%22%3E", "_span foreground=_red__",
	    "<span foreground=\"red\">"},
	{"&amp;", "&amp;amp;", "%26amp%3B", "&amp;", "&amp;"},
	{"</b>", "&lt;/b&gt;", "%3C%2Fb%3E", "__b_", "</b>"},
	{"a b#c?d&e", "a b#c?d&amp;e", "a%20b%23c%3Fd%26e", "a b#c_d&e",
	    "a b#c?d&e"},
	{"caf\xc3\xa9", "caf\xc3\xa9", "caf%C3%A9", "caf\xc3\xa9",
	    "caf\xc3\xa9"},
	{"../x", "../x", "..%2Fx", "_._x", "../x"},
	{"/abs", "/abs", "%2Fabs", "_abs", "/abs"},
	{"", "", "", "_", ""},
	{"..", "..", "..", "_", ".."},
	{".hidden", ".hidden", ".hidden", "_hidden", ".hidden"},
	{"  x  ", "  x  ", "%20%20x%20%20", "x", "  x  "},
	{"CON", "CON", "CON", "_CON", "CON"},
	{"lpt1.txt", "lpt1.txt", "lpt1.txt", "_lpt1.txt", "lpt1.txt"},
	{"a\x1b[31m", "a\x1b[31m", "a%1B%5B31m", "a_[31m", "a\\x1B[31m"},
	{"x\xe2\x80\xaey", "x\xe2\x80\xaey", "x%E2%80%AEy", "x_y",
	    "x<U+202E>y"},
	{"x\xe2\x81\xa6y", "x\xe2\x81\xa6y", "x%E2%81%A6y", "x_y",
	    "x<U+2066>y"},
	{"a\rb", "a\rb", "a%0Db", "a_b", "a\\rb"},
	{"a:b*c|d\\e", "a:b*c|d\\e", "a%3Ab%2Ac%7Cd%5Ce", "a_b_c_d_e",
	    "a:b*c|d\\e"},
};

/* One row of values[]: each escaper on the same hostile value. */
static void
test_escapers(void **state)
{
	const evalue *v = *state;
	qp_buf b;

	qp_buf_init(&b);
	qp_markup_escape(v->in, &b);
	assert_string_equal(b.data ? b.data : "", v->markup);
	qp_buf_reset(&b);
	qp_url_encode(v->in, &b);
	assert_string_equal(b.data ? b.data : "", v->url);
	qp_buf_reset(&b);
	qp_batch_safe_name(v->in, &b);
	assert_string_equal(b.data, v->name);
	qp_buf_reset(&b);
	qp_visible(v->in, &b);
	assert_string_equal(b.data ? b.data : "", v->visible);
	qp_buf_free(&b);
}

static void
test_name_limits(void **state)
{
	qp_buf b;
	char v[400];

	(void)state;
	/* 300 bytes cut to the limit, at a character boundary. */
	for (int i = 0; i < 150; i++)
		memcpy(v + 2 * i, "\xc3\xa9", 2);
	v[300] = '\0';
	qp_buf_init(&b);
	qp_batch_safe_name(v, &b);
	assert_true(b.len <= QP_NAME_PART_MAX && b.len >= QP_NAME_PART_MAX - 1);
	assert_true(qp_utf8_valid(b.data, b.len, NULL));
	/* Truncated UTF-8 (not reachable from the CLI, which validates):
	 * the bad byte becomes '_' and nothing past the end is read. */
	qp_buf_reset(&b);
	qp_batch_safe_name("caf\xc3", &b);
	assert_string_equal(b.data, "caf_");
	qp_buf_free(&b);
}

static void
test_row_limit(void **state)
{
	const char csv[] = "code\nA\nB\nC\n";
	FILE *fp = fmemopen((void *)csv, sizeof csv - 1, "rb");
	qp_error err = {0};
	qp_record rec;
	qp_data *d;

	(void)state;
	d = qp_data_open_stream(fp, "rows.csv", &err);
	assert_non_null(d);
	qp_data_set_limits(d, 0, 2);
	assert_int_equal(qp_data_next(d, &rec, &err), 1);
	assert_int_equal(qp_data_next(d, &rec, &err), 1);
	assert_int_equal(qp_data_next(d, &rec, &err), -1);
	assert_string_equal(err.msg, "rows.csv:4: more than 2 rows; the "
	    "limit is 2 (split the file)");
	qp_data_close(d);
	fclose(fp);
}

/* ---- files ----------------------------------------------------------- */

static void
test_symlink_output_file(void **state)
{
	char *dir = th_tmpdir_new();
	char *out = th_path(dir, "out");
	char *elsewhere = th_path(dir, "elsewhere.pdf");
	char *link = th_path(out, "x.pdf");
	struct stat st;
	th_run r;
	char *text;

	(void)state;
	assert_int_equal(mkdir(out, 0777), 0);
	assert_true(th_write_file(elsewhere, "keep me", 7));
	assert_int_equal(symlink(elsewhere, link), 0);
	th_qrposter(&r, "render", "-s", "code=A1", "-s", "name=x", "-o", link,
	    NULL);
	assert_int_equal(r.status, 0);
	/* The link itself was replaced; its target is untouched. */
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	text = th_read_file(elsewhere, NULL);
	assert_string_equal(text, "keep me");
	free(text);
	th_run_free(&r);
	free(link);
	free(elsewhere);
	free(out);
	th_tmpdir_remove(dir);
}

static void
test_symlink_data_folder(void **state)
{
	char *dir = th_tmpdir_new();
	char *out = th_path(dir, "out");
	char *elsewhere = th_path(dir, "elsewhere");
	char *link = th_path(out, "NY");
	char *csv = th_path(dir, "in.csv");
	char *pattern = th_path(out, "{{hotline}}/{{code}}.pdf");
	const char data[] = "code,name,hotline,hotline_name\nA1,x,NY,X\n";
	th_run r;

	(void)state;
	assert_int_equal(mkdir(out, 0777), 0);
	assert_int_equal(mkdir(elsewhere, 0777), 0);
	assert_int_equal(symlink(elsewhere, link), 0);
	assert_true(th_write_file(csv, data, sizeof data - 1));
	th_qrposter(&r, "batch", "-q", "-d", csv, "-o", pattern, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "/out/NY' is a symbolic link, not a "
	    "directory"));
	assert_true(th_dir_only(elsewhere, NULL, NULL, 0));
	th_run_free(&r);
	free(pattern);
	free(csv);
	free(link);
	free(elsewhere);
	free(out);
	th_tmpdir_remove(dir);
}

static void
test_output_is_template(void **state)
{
	char *dir = th_tmpdir_new();
	char *tpl = th_path(dir, "t.pdf");
	char *before, *after;
	th_run r;

	(void)state;
	before = th_read_file("templates/restroom-letter.yaml", NULL);
	assert_non_null(before);
	assert_true(th_write_file(tpl, before, strlen(before)));
	th_qrposter(&r, "render", "-t", tpl, "-s", "code=A1", "-s", "name=x",
	    "-o", tpl, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "t.pdf' is the template: an output "
	    "must not replace an input"));
	after = th_read_file(tpl, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
	th_run_free(&r);
	free(tpl);
	th_tmpdir_remove(dir);
}

static void
test_full_disk(void **state)
{
	char *dir = th_tmpdir_new();
	char *out = th_path(dir, "out");
	char *file = th_path(out, "x.pdf");
	const char *argv[] = {"sh", "-c", "ulimit -f 8; exec \"$0\" render "
	    "-s code=A1 -s name=x -o \"$1\"", th_bin(), file, NULL};
	th_run r;

	(void)state;
	assert_int_equal(mkdir(out, 0777), 0);
	th_run_argv(&r, argv, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "cannot write '"));
	assert_non_null(strstr(r.err, "File too large (the disk or the file "
	    "size limit is full; nothing was written)"));
	/* No partial file, no temporary. */
	assert_true(th_dir_only(out, NULL, NULL, 0));
	th_run_free(&r);
	free(file);
	free(out);
	th_tmpdir_remove(dir);
}

/*
 * The same for a combined run, drawn in parts by this process (-j 1) or by
 * its workers (-j 2, parts of 8 rows, so both draw): the message names
 * the file asked for and the reason, and neither it, its parts nor its
 * manifest are left.
 */
static const char *const full_disk_jobs[] = {"1", "2"};

static void
test_full_disk_combined(void **state)
{
	const char *jobs = *state;
	char *dir = th_tmpdir_new();
	char *out = th_path(dir, "out");
	char *file = th_path(out, "run.pdf"), *csv = th_path(dir, "in.csv");
	const char *argv[] = {"sh", "-c", "ulimit -f 64; exec \"$0\" batch -q "
	    "-j \"$3\" -d \"$2\" --combine \"$1\"", th_bin(), file, csv, jobs,
	    NULL};
	GString *rows = g_string_new("code,name\n");
	char want[PATH_MAX + 16];
	th_run r;

	assert_int_equal(mkdir(out, 0777), 0);
	for (int i = 0; i < 40; i++)
		g_string_append_printf(rows, "S%02d,Station %d\n", i, i);
	assert_true(th_write_file(csv, rows->str, rows->len));
	g_string_free(rows, TRUE);
	setenv("QRPOSTER_TEST_PART_ROWS", "8", 1);
	th_run_argv(&r, argv, NULL);
	unsetenv("QRPOSTER_TEST_PART_ROWS");
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof want, "%s: cannot write '", file);
	if (strstr(r.err, want) == NULL || strstr(r.err, "File too large (the "
	    "disk or the file size limit is full; nothing was written)") ==
	    NULL)
		fail_msg("-j %s: %s", jobs, r.err);
	assert_true(th_dir_only(out, NULL, NULL, 0));
	th_run_free(&r);
	free(csv);
	free(file);
	free(out);
	th_tmpdir_remove(dir);
}

/* ---- signals ----------------------------------------------------------- */

static pid_t
spawn(const char *const *argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (getenv("QRPOSTER_DATADIR") == NULL)
			setenv("QRPOSTER_DATADIR", ".", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Wait until dir holds an entry starting with prefix (true) or the
 * process has exited (false, *status set). No timing: either happens. */
static bool
wait_for_entry(const char *dir, const char *prefix, pid_t pid, int *status)
{
	for (;;) {
		DIR *d = opendir(dir);
		struct dirent *e;
		bool found = false;

		while (d && (e = readdir(d)) != NULL)
			if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
				found = true;
		if (d)
			closedir(d);
		if (found)
			return true;
		if (waitpid(pid, status, WNOHANG) == pid)
			return false;
		nanosleep(&(struct timespec){0, 2000000}, NULL);
	}
}

static bool
has_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0)
			found = true;
	if (d)
		closedir(d);
	return found;
}

static void
test_signal_batch(void **state)
{
	char *dir = th_tmpdir_new();
	char *out = th_path(dir, "out");
	char *csv = th_path(dir, "in.csv");
	char *pattern = th_path(out, "{{code}}.pdf");
	char *manifest = th_path(out, "manifest.csv");
	const char *argv[] = {th_bin(), "batch", "-q", "-j", "2", "-d", csv,
	    "-o", pattern, NULL};
	qp_buf data;
	int status;
	pid_t pid;
	size_t files = 0, rows = 0;

	(void)state;
	assert_int_equal(mkdir(out, 0777), 0);
	qp_buf_init(&data);
	qp_buf_adds(&data, "code,name\n");
	for (int i = 0; i < 300; i++)
		qp_buf_printf(&data, "S%03d,Station %d\n", i, i);
	assert_true(th_write_file(csv, data.data, data.len));
	qp_buf_free(&data);
	pid = spawn(argv);
	assert_true(pid > 0);
	if (wait_for_entry(out, "S", pid, &status)) {
		kill(pid, SIGINT);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	/* Stopped cleanly (or finished first): no temporaries, and the
	 * manifest lists exactly the files there are. */
	assert_true(WIFEXITED(status));
	assert_false(has_temporaries(out));
	{
		qp_error err;
		qp_data *d = qp_data_open(manifest, &err);
		qp_record rec;
		long fcol, scol;
		DIR *dd;
		struct dirent *e;

		assert_non_null(d);
		fcol = qp_data_col_index(d, "file");
		scol = qp_data_col_index(d, "status");
		assert_true(fcol >= 0 && scol >= 0);
		while (qp_data_next(d, &rec, &err) == 1) {
			assert_string_equal(rec.fields[scol], "ok");
			assert_true(th_exists(rec.fields[fcol]));
			rows++;
		}
		qp_data_close(d);
		dd = opendir(out);
		while ((e = readdir(dd)) != NULL)
			files += e->d_name[0] == 'S';
		closedir(dd);
	}
	assert_int_equal(rows, files);
	free(manifest);
	free(pattern);
	free(csv);
	free(out);
	th_tmpdir_remove(dir);
}

static void
test_signal_render_png(void **state)
{
	char *dir = th_tmpdir_new();
	char *out = th_path(dir, "out");
	char *file = th_path(out, "big.png");
	const char *argv[] = {th_bin(), "render", "-t", "station-tabloid",
	    "-s", "code=A1", "-s", "name=x", "--dpi", "600", "-o", file,
	    NULL};
	int status;
	pid_t pid;

	(void)state;
	assert_int_equal(mkdir(out, 0777), 0);
	pid = spawn(argv);
	assert_true(pid > 0);
	if (wait_for_entry(out, ".big.png.", pid, &status)) {
		kill(pid, SIGTERM);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		/* Died of the signal, and removed its temporary first. The
		 * signal may land just after the finished file was renamed
		 * into place: then that whole file is all there is. */
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGTERM);
		assert_false(has_temporaries(out));
		if (!th_dir_only(out, NULL, NULL, 0)) {
			th_png_info info;
			assert_true(th_png_read_info(file, &info));
			assert_int_equal(info.width, 6600);
		}
	} else
		assert_false(has_temporaries(out));
	free(file);
	free(out);
	th_tmpdir_remove(dir);
}

#define NELEM(a) (sizeof (a) / sizeof (a)[0])
#define ADD(s, fn) th_suite_add(s, fn, NULL, NULL, NULL, "%s", #fn)

int
main(void)
{
	th_suite s = {0};

	for (size_t i = 0; i < NELEM(cases); i++)
		th_suite_add(&s, test_case, NULL, NULL, &cases[i], "case: %s",
		    cases[i].name);
	for (size_t i = 0; i < NELEM(values); i++)
		th_suite_add(&s, test_escapers, NULL, NULL, &values[i],
		    "escapers: '%s'", values[i].in);
	ADD(&s, test_name_limits);
	ADD(&s, test_row_limit);
	ADD(&s, test_symlink_output_file);
	ADD(&s, test_symlink_data_folder);
	ADD(&s, test_output_is_template);
	ADD(&s, test_full_disk);
	for (size_t i = 0; i < NELEM(full_disk_jobs); i++)
		th_suite_add(&s, test_full_disk_combined, NULL, NULL,
		    (void *)full_disk_jobs[i], "test_full_disk_combined: -j %s",
		    full_disk_jobs[i]);
	ADD(&s, test_signal_batch);
	ADD(&s, test_signal_render_png);
	return th_suite_run(&s, "hostile", NULL, NULL);
}
