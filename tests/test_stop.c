/*
 * test_stop.c - a batch stopped by a signal, whoever sends it and
 * whenever: the signal matrix {INT, TERM, HUP} x {the main process alone,
 * the whole process group} x {checking, rendering per-row files, writing
 * a combined PDF}, a second signal while stopping, a worker killed
 * outright, and the main process killed under its workers.
 *
 * Nothing here depends on timing for its verdict. The batch is stopped at
 * a known point with the pause hook (QRPOSTER_TEST_PAUSE/FIFO, batch.c:
 * bt_test_pause): each process reaching the point says so on a FIFO and
 * stops itself; the test then sends its signals (pending until the
 * process continues, so they land exactly there) and continues it. Each
 * cell runs at several points (the first, a middle and the last row).
 * Time appears only as a hang detector: a run that has not ended after
 * HANG_S seconds fails the test.
 *
 * What a user cares about is asserted: the exit status (128+N, or 1 with
 * a message naming the dead worker, its pid, its signal and its row), no
 * ".NAME.XXXXXX" temporary, a manifest that lists exactly the files on
 * disk with their real SHA-256, and a second run that finishes the job
 * with every byte (files and manifest) as an uninterrupted run makes it.
 *
 * Runs from the top of the source tree; $QRPOSTER names the binary.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "data.h"
#include "helpers.h"

#define NROWS 6
#define HANG_S 10
#define MAXP 8

static const size_t pause_rows[] = {1, 4, NROWS};
#define NREPS (sizeof pause_rows / sizeof pause_rows[0])

/* PH_CLOSE: finishing the combined PDF after its last row. */
typedef enum { PH_CHECK, PH_RENDER, PH_COMBINE, PH_CLOSE } phase;
typedef enum { TO_MAIN, TO_GROUP } target;
typedef enum {
	K_STOP,        /* one signal */
	K_SECOND,      /* a second signal while stopping */
	K_KILL_WORKER, /* SIGKILL a worker */
	K_KILL_MAIN,   /* SIGKILL the main process under its workers */
} kind;

typedef struct cell {
	kind k;
	int sig;
	target to;
	phase ph;
	char name[64];
} cell;

static const char *const phase_names[] = {"check", "render", "combine",
    "close"};
/* Processes that reach a pause point of each phase: the main process and
 * the worker whose row it is (-j 2; a combined run's workers lay rows
 * out for the main process to draw). */
static const int pausers[] = {2, 2, 2, 1};

static char bin[PATH_MAX], top[PATH_MAX];

static bool
combined(phase ph)
{
	return ph == PH_COMBINE || ph == PH_CLOSE;
}
static char *refdir; /* uninterrupted runs: files/ and combined/ */

/* ---- running the batch --------------------------------------------------- */

/* The command line, relative to the run's directory so that manifests
 * of different runs can be compared byte for byte. */
static void
batch_argv(phase ph, const char **argv)
{
	int n = 0;

	argv[n++] = bin;
	argv[n++] = "batch";
	argv[n++] = "-q";
	argv[n++] = "-j";
	argv[n++] = "2";
	argv[n++] = "-d";
	argv[n++] = "in.csv";
	if (combined(ph)) {
		argv[n++] = "--combine";
		argv[n++] = "out/run.pdf";
	} else {
		argv[n++] = "-o";
		argv[n++] = "out/{{code}}.pdf";
	}
	argv[n] = NULL;
}

static void
make_rundir(const char *dir)
{
	char *csv = th_path(dir, "in.csv"), *out = th_path(dir, "out");
	GString *s = g_string_new("code,name\n");

	for (int i = 1; i <= NROWS; i++)
		g_string_append_printf(s, "S%02d,Station %d\n", i, i);
	assert_true(th_write_file(csv, s->str, s->len));
	assert_int_equal(mkdir(out, 0777), 0);
	g_string_free(s, TRUE);
	free(csv);
	free(out);
}

/* Start the batch in dir, in a process group of its own; pause, if not
 * NULL, is QRPOSTER_TEST_PAUSE. */
static pid_t
spawn(const char *dir, phase ph, const char *pause)
{
	const char *argv[16];
	pid_t pid;

	batch_argv(ph, argv);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *fifo = th_path(dir, "fifo");
		int in = open("/dev/null", O_RDONLY), err;

		setpgid(0, 0);
		if (chdir(dir) != 0)
			_exit(126);
		err = open("stderr", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(in, 0);
		dup2(err, 1);
		dup2(err, 2);
		setenv("QRPOSTER_DATADIR", top, 0);
		/* A combined run in parts of two rows: each worker draws a
		 * part (rows 1-2 and 5-6 the first's, 3-4 the second's). */
		setenv("QRPOSTER_TEST_PART_ROWS", "2", 1);
		if (pause) {
			setenv("QRPOSTER_TEST_FIFO", fifo, 1);
			setenv("QRPOSTER_TEST_PAUSE", pause, 1);
		} else {
			unsetenv("QRPOSTER_TEST_FIFO");
			unsetenv("QRPOSTER_TEST_PAUSE");
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

/* Wait (at most HANG_S seconds) for pid; its exit status, 128+N for a
 * signal. A hang kills its group and fails. */
static int
wait_exit(pid_t pid)
{
	struct timespec t0, now, tick = {0, 2000000};
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		assert_true(r == 0 || errno == EINTR);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > HANG_S) {
			kill(-pid, SIGKILL);
			kill(-pid, SIGCONT);
			fail_msg("pid %ld did not end within %d s", (long)pid,
			    HANG_S);
		}
		nanosleep(&tick, NULL);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
}

/* Every other process of the run, orphaned to us (the subreaper), has
 * left: a worker that was not paused cleans up on its own, and the
 * verdict must not depend on whether it has finished. */
static void
wait_orphans(void)
{
	struct timespec t0, now, tick = {0, 2000000};

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r < 0 && errno == ECHILD)
			return;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > HANG_S)
			fail_msg("a worker did not end within %d s", HANG_S);
		if (r == 0)
			nanosleep(&tick, NULL);
	}
}

static int
run_plain(const char *dir, phase ph)
{
	return wait_exit(spawn(dir, ph, NULL));
}

/* ---- the pause points ------------------------------------------------------ */

typedef struct pauser {
	char role[16], phase[16];
	size_t row;
	pid_t pid;
} pauser;

typedef struct fifo {
	int rfd, wfd; /* wfd: ours, so the FIFO never reads as hung up */
	char buf[1024];
	size_t len;
} fifo;

static void
fifo_open(fifo *f, const char *dir)
{
	char *path = th_path(dir, "fifo");

	assert_int_equal(mkfifo(path, 0600), 0);
	f->rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(f->rfd >= 0);
	f->wfd = open(path, O_WRONLY);
	assert_true(f->wfd >= 0);
	f->len = 0;
	free(path);
}

static void
fifo_close(fifo *f)
{
	close(f->rfd);
	close(f->wfd);
}

/* Until pid has stopped itself: it announces itself just before it
 * raises SIGSTOP, and a SIGCONT sent in between would be lost. */
static void
await_stopped(pid_t pid)
{
	struct timespec tick = {0, 1000000};
	char path[64], buf[512];

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	for (long i = 0; i < HANG_S * 1000L; i++) {
		FILE *fp = fopen(path, "r");
		size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
		char *paren;

		if (fp)
			fclose(fp);
		buf[n] = '\0';
		/* "pid (comm) S ...": the state follows the last ')'. */
		if ((paren = strrchr(buf, ')')) != NULL && paren[1] == ' ' &&
		    (paren[2] == 'T' || paren[2] == 't'))
			return;
		nanosleep(&tick, NULL);
	}
	fail_msg("pid %ld did not stop at its pause point", (long)pid);
}

/* The next n announcements (in order of arrival), each process stopped
 * when it returns; fails after HANG_S. */
static void
await(fifo *f, pauser *p, int n)
{
	for (int got = 0; got < n;) {
		char *nl = memchr(f->buf, '\n', f->len);
		struct pollfd pf = {f->rfd, POLLIN, 0};
		ssize_t r;

		if (nl) {
			long pid;

			*nl = '\0';
			assert_int_equal(sscanf(f->buf, "%15s %15s %zu %ld",
			    p[got].role, p[got].phase, &p[got].row, &pid), 4);
			p[got].pid = (pid_t)pid;
			await_stopped(p[got].pid);
			got++;
			f->len -= (size_t)(nl + 1 - f->buf);
			memmove(f->buf, nl + 1, f->len);
			continue;
		}
		if (poll(&pf, 1, HANG_S * 1000) <= 0)
			fail_msg("no pause point reached within %d s (%d of %d)",
			    HANG_S, got, n);
		r = read(f->rfd, f->buf + f->len, sizeof f->buf - f->len);
		assert_true(r > 0 || (r < 0 && errno == EAGAIN));
		if (r > 0)
			f->len += (size_t)r;
	}
}

static pid_t
find_role(const pauser *p, int n, const char *role)
{
	for (int i = 0; i < n; i++)
		if (strcmp(p[i].role, role) == 0)
			return p[i].pid;
	fail_msg("no %s among the paused processes", role);
	return -1;
}

static void
send_to(target to, pid_t main_pid, int sig)
{
	assert_int_equal(to == TO_GROUP ? kill(-main_pid, sig) :
	    kill(main_pid, sig), 0);
}

static void
cont_all(const pauser *p, int n)
{
	for (int i = 0; i < n; i++)
		kill(p[i].pid, SIGCONT);
}

/* ---- what is left on disk -------------------------------------------------- */

static char *
sha256_file(const char *path)
{
	size_t len;
	char *data = th_read_file(path, &len);
	char *hex;

	if (data == NULL)
		return NULL;
	hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
	    (const guchar *)data, len);
	free(data);
	return hex;
}

/* Sorted names in dir. */
static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **
names_in(const char *dir)
{
	GPtrArray *a = g_ptr_array_new();
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			g_ptr_array_add(a, g_strdup(e->d_name));
	closedir(d);
	if (a->len > 1)
		qsort(a->pdata, a->len, sizeof(void *), cmp_names);
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

/* No ".NAME.XXXXXX" temporaries in out/ (but those named in except). */
static void
assert_no_temporaries(const char *out, const char *except)
{
	char **v = names_in(out);

	for (char **p = v; *p; p++)
		if ((*p)[0] == '.' && (except == NULL ||
		    strncmp(*p, except, strlen(except)) != 0))
			fail_msg("a temporary was left behind: %s/%s", out, *p);
	g_strfreev(v);
}

/*
 * The manifest lists exactly the finished files in out/, each with its
 * real SHA-256: every "ok" row's file exists and hashes as listed, and
 * every poster file on disk is listed. A combined run leaves both its
 * PDF and its manifest, or neither.
 */
static void
assert_manifest_exact(const char *dir, phase ph)
{
	char *out = th_path(dir, "out");
	char *man = th_path(out, combined(ph) ? "run.manifest.csv" :
	    "manifest.csv");
	char **v = names_in(out);
	size_t on_disk = 0, listed = 0;
	qp_error err;
	qp_data *d;
	qp_record rec;
	long fcol, scol, hcol;

	for (char **p = v; *p; p++)
		on_disk += (*p)[0] != '.' && g_str_has_suffix(*p, ".pdf");
	g_strfreev(v);
	if (!th_exists(man)) {
		assert_int_equal(on_disk, 0);
		free(man);
		free(out);
		return;
	}
	d = qp_data_open(man, &err);
	assert_non_null(d);
	fcol = qp_data_col_index(d, "file");
	scol = qp_data_col_index(d, "status");
	hcol = qp_data_col_index(d, "sha256");
	assert_true(fcol >= 0 && scol >= 0 && hcol >= 0);
	while (qp_data_next(d, &rec, &err) == 1) {
		char *path, *sha;

		assert_string_equal(rec.fields[scol], "ok");
		path = th_path(dir, rec.fields[fcol]);
		sha = sha256_file(path);
		if (sha == NULL)
			fail_msg("the manifest lists %s, which is not there",
			    rec.fields[fcol]);
		assert_string_equal(sha, rec.fields[hcol]);
		g_free(sha);
		free(path);
		listed++;
	}
	qp_data_close(d);
	if (combined(ph))
		assert_true(listed == NROWS && on_disk == 1);
	else
		assert_int_equal(listed, on_disk);
	free(man);
	free(out);
}

/* out/ holds the same names and bytes as the uninterrupted run's. */
static void
assert_same_as_reference(const char *dir, phase ph)
{
	char *out = th_path(dir, "out");
	char *ref = g_build_filename(refdir, combined(ph) ? "combined" :
	    "files", "out", NULL);
	char **a = names_in(out), **b = names_in(ref);
	size_t i;

	for (i = 0; a[i] && b[i]; i++) {
		char *pa = th_path(out, a[i]), *pb = th_path(ref, b[i]);

		assert_string_equal(a[i], b[i]);
		if (!th_files_equal(pa, pb))
			fail_msg("%s differs from an uninterrupted run's", pa);
		free(pa);
		free(pb);
	}
	assert_null(a[i]);
	assert_null(b[i]);
	g_strfreev(a);
	g_strfreev(b);
	g_free(ref);
	free(out);
}

static char *
read_stderr(const char *dir)
{
	char *p = th_path(dir, "stderr");
	char *s = th_read_file(p, NULL);

	free(p);
	assert_non_null(s);
	return s;
}

/* ---- the cells ------------------------------------------------------------- */

static void
one_run(const cell *c, size_t row)
{
	char *dir = th_tmpdir_new(), *out, *errs;
	char pause[64], want[160];
	pauser p[MAXP];
	int n = pausers[c->ph], rc;
	pid_t pid;
	fifo f;

	assert_non_null(dir);
	out = th_path(dir, "out");
	make_rundir(dir);
	fifo_open(&f, dir);
	if (c->ph == PH_CLOSE)
		snprintf(pause, sizeof pause, "close:*");
	else
		snprintf(pause, sizeof pause, "%s:%zu%s", phase_names[c->ph],
		    row, c->k == K_SECOND ? ",stopping:*" : "");
	pid = spawn(dir, c->ph, pause);
	await(&f, p, n);
	assert_int_equal(find_role(p, n, "main"), pid);
	switch (c->k) {
	case K_STOP:
		send_to(c->to, pid, c->sig);
		cont_all(p, n);
		break;
	case K_SECOND: {
		pauser s;
		send_to(c->to, pid, c->sig);
		kill(pid, SIGCONT); /* the workers stay where they are */
		await(&f, &s, 1);
		assert_string_equal(s.phase, "stopping");
		send_to(c->to, pid, c->sig);
		cont_all(p, n);
		kill(pid, SIGCONT);
		break;
	}
	case K_KILL_WORKER:
		assert_int_equal(kill(find_role(p, n, "worker"), SIGKILL), 0);
		kill(pid, SIGCONT);
		break;
	case K_KILL_MAIN: {
		pid_t w = find_role(p, n, "worker");
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(wait_exit(pid), 128 + SIGKILL);
		kill(w, SIGCONT);
		/* We are its subreaper: it must leave on its own. */
		assert_int_equal(wait_exit(w), 0);
		wait_orphans();
		break;
	}
	}
	if (c->k != K_KILL_MAIN) {
		rc = wait_exit(pid);
		/* The workers may outlive a main process that ended at once
		 * (a second signal): what is left is judged once all have
		 * left. */
		wait_orphans();
		errs = read_stderr(dir);
		if (c->k == K_KILL_WORKER) {
			/* The worker paused at the row is the one killed: its
			 * pid names it (which of the two has the row depends on
			 * how the run shares rows, per row or per part). */
			pid_t w = find_role(p, n, "worker");
			snprintf(want, sizeof want, " of 2 (pid %ld) was killed "
			    "by signal %d", (long)w, SIGKILL);
			if (rc != 1 || strstr(errs, want) == NULL)
				fail_msg("exit %d, wanted 1 and \"%s\": %s", rc,
				    want, errs);
			snprintf(want, sizeof want, "(row %zu, code 'S%02zu')",
			    row, row);
			if (strstr(errs, want) == NULL)
				fail_msg("the message does not name %s: %s",
				    want, errs);
		} else if (rc != 128 + c->sig)
			fail_msg("exit %d, wanted %d: %s", rc, 128 + c->sig,
			    errs);
		free(errs);
		assert_no_temporaries(out, NULL);
		assert_manifest_exact(dir, c->ph);
	} else
		/* Only the main process's own manifest temporary may remain:
		 * nothing can remove a file for a process killed outright. */
		assert_no_temporaries(out, ".manifest.csv.");
	fifo_close(&f);
	/* Run again: it finishes the rest, as if never interrupted. */
	if (c->k == K_KILL_MAIN) {
		char **v = names_in(out);
		for (char **q = v; *q; q++)
			if ((*q)[0] == '.') {
				char *t = th_path(out, *q);
				unlink(t);
				free(t);
			}
		g_strfreev(v);
	}
	{
		char *fp = th_path(dir, "fifo");
		unlink(fp);
		free(fp);
	}
	rc = run_plain(dir, c->ph);
	if (rc != 0) {
		errs = read_stderr(dir);
		fail_msg("the second run exited %d: %s", rc, errs);
	}
	assert_same_as_reference(dir, c->ph);
	free(out);
	th_tmpdir_remove(dir);
}

static void
test_cell(void **state)
{
	const cell *c = *state;

	/* Closing comes once, after the last row. */
	for (size_t i = 0; i < (c->ph == PH_CLOSE ? 1 : NREPS); i++)
		one_run(c, pause_rows[i]);
}

/* ---- setup ----------------------------------------------------------------- */

static int
make_reference(void **state)
{
	(void)state;
	if (realpath(th_bin(), bin) == NULL || getcwd(top, sizeof top) ==
	    NULL)
		return -1;
	/* Workers of a main process killed in a test become ours. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	refdir = th_tmpdir_new();
	for (int ph = PH_RENDER; ph <= PH_COMBINE; ph++) {
		char *d = g_build_filename(refdir, ph == PH_COMBINE ?
		    "combined" : "files", NULL);
		if (mkdir(d, 0777) != 0)
			return -1;
		make_rundir(d);
		if (run_plain(d, (phase)ph) != 0)
			return -1;
		g_free(d);
	}
	return 0;
}

static int
remove_reference(void **state)
{
	(void)state;
	th_tmpdir_remove(refdir);
	return 0;
}

int
main(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	static cell cells[64];
	static struct CMUnitTest tests[64];
	size_t n = 0;

	for (int ph = PH_CHECK; ph <= PH_CLOSE; ph++)
		for (size_t s = 0; s < 3; s++)
			for (int to = TO_MAIN; to <= TO_GROUP; to++)
				cells[n++] = (cell){K_STOP, sigs[s], (target)to,
				    (phase)ph, ""};
	for (int ph = PH_RENDER; ph <= PH_COMBINE; ph++)
		for (int to = TO_MAIN; to <= TO_GROUP; to++)
			cells[n++] = (cell){K_SECOND, SIGTERM, (target)to,
			    (phase)ph, ""};
	cells[n++] = (cell){K_SECOND, SIGINT, TO_GROUP, PH_CHECK, ""};
	cells[n++] = (cell){K_KILL_WORKER, SIGKILL, TO_MAIN, PH_CHECK, ""};
	cells[n++] = (cell){K_KILL_WORKER, SIGKILL, TO_MAIN, PH_RENDER, ""};
	cells[n++] = (cell){K_KILL_WORKER, SIGKILL, TO_MAIN, PH_COMBINE, ""};
	cells[n++] = (cell){K_KILL_MAIN, SIGKILL, TO_MAIN, PH_RENDER, ""};
	for (size_t i = 0; i < n; i++) {
		static const char *const kinds[] = {"stop", "second", "kill",
		    "kill"};
		cell *c = &cells[i];

		snprintf(c->name, sizeof c->name, "%s %s %s %s", kinds[c->k],
		    c->k == K_KILL_WORKER ? "worker" : c->k == K_KILL_MAIN ?
		    "main" : sigabbrev_np(c->sig), c->k >= K_KILL_WORKER ? "" :
		    c->to == TO_MAIN ? "to-main" : "to-group",
		    phase_names[c->ph]);
		tests[i] = (struct CMUnitTest){c->name, test_cell, NULL, NULL, c};
	}
	return _cmocka_run_group_tests("test_stop", tests, n,
	    make_reference, remove_reference);
}
