/*
 * util_file.c - outputs written to a temporary and renamed when complete,
 * removed on a stop signal; inputs an output must never replace; paths.
 */
#define _GNU_SOURCE
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
qp_check_output_dir(const char *path, qp_error *err)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	struct stat st;
	bool ok;

	if (slash == NULL)
		return true;
	dir = slash == path ? qp_xstrdup("/") :
	    qp_xstrndup(path, (size_t)(slash - path));
	ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
	if (!ok)
		qp_fail(err, "output directory '%s' does not exist", dir);
	free(dir);
	return ok;
}

/*
 * Temporary files in flight, for a signal handler to remove: those of
 * open qp_outfiles, and finished files that are still temporaries
 * (qp_outfile_list: the parts of a combined PDF, up to a thousand of
 * them on a long run, hence the size). A slot is claimed under the lock,
 * its path (malloc'd) set, then marked used; it is marked unused before
 * its path is freed. The handler reads only used slots and calls only
 * unlink(); it interrupts the thread that changes the list (a batch is
 * one thread), so it never sees a path being freed.
 */
#define NTEMPS 1024
static struct {
	volatile sig_atomic_t used;
	char *path;
} temps[NTEMPS];
static pthread_mutex_t temps_lock = PTHREAD_MUTEX_INITIALIZER;

static int
temp_register(const char *path)
{
	int slot = 0;
	char *p = strdup(path);

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&temps_lock);
	for (int i = 0; i < NTEMPS; i++)
		if (!temps[i].used) {
			temps[i].path = p;
			temps[i].used = 1;
			slot = i + 1;
			break;
		}
	pthread_mutex_unlock(&temps_lock);
	if (slot == 0)
		free(p);
	return slot; /* 0: the registry is full; the file is just not listed */
}

static void
temp_unregister_slot(int slot)
{
	char *p;

	if (slot <= 0 || slot > NTEMPS)
		return;
	pthread_mutex_lock(&temps_lock);
	temps[slot - 1].used = 0;
	p = temps[slot - 1].path;
	temps[slot - 1].path = NULL;
	pthread_mutex_unlock(&temps_lock);
	free(p);
}

static void
temp_unregister(qp_outfile *o)
{
	temp_unregister_slot(o->slot);
	o->slot = 0;
}

/* Files renamed into place by this process: a handler that ends the
 * process compares it with what has been accounted for (stop.h). */
static atomic_ulong commits;

/*
 * Hold the signals whose handlers remove temporaries or end the process
 * (SIGINT, SIGTERM, SIGHUP: a stop; SIGUSR1: a batch worker told to
 * abandon its row) across a step that must not be cut in two; release
 * re-delivers them.
 */
static void
stop_signals_hold(sigset_t *saved)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, saved);
}

static void
stop_signals_release(const sigset_t *saved)
{
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

void
qp_outfile_unlink_all(void)
{
	int e = errno;

	for (int i = 0; i < NTEMPS; i++)
		if (temps[i].used)
			(void)unlink(temps[i].path);
	errno = e;
}

void
qp_outfile_forget_all(void)
{
	/* The paths are the parent's copies, in this process's memory
	 * too: freed here, as nothing else will. */
	for (int i = 0; i < NTEMPS; i++) {
		temps[i].used = 0;
		free(temps[i].path);
		temps[i].path = NULL;
	}
}

int
qp_outfile_list(const char *path)
{
	sigset_t saved;
	int slot;

	stop_signals_hold(&saved);
	slot = temp_register(path);
	stop_signals_release(&saved);
	return slot;
}

void
qp_outfile_unlist(int slot)
{
	sigset_t saved;

	stop_signals_hold(&saved);
	temp_unregister_slot(slot);
	stop_signals_release(&saved);
}

unsigned long
qp_outfile_commits(void)
{
	return atomic_load(&commits);
}

/* Inputs an output must never replace. */
#define NPROTECT 16
static struct {
	dev_t dev;
	ino_t ino;
	char what[64];
} protect[NPROTECT];
static size_t nprotect;

void
qp_outfile_protect(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return;
	pthread_mutex_lock(&temps_lock);
	for (size_t i = 0; i < nprotect; i++)
		if (protect[i].dev == st.st_dev && protect[i].ino == st.st_ino)
			goto out;
	if (nprotect < NPROTECT) {
		protect[nprotect].dev = st.st_dev;
		protect[nprotect].ino = st.st_ino;
		snprintf(protect[nprotect].what, sizeof protect[0].what, "%s",
		    what);
		nprotect++;
	}
out:
	pthread_mutex_unlock(&temps_lock);
}

/* The description of the input path resolves to, or NULL. */
static bool
is_protected(const char *path, char *what, size_t n)
{
	struct stat st;
	bool found = false;

	if (stat(path, &st) != 0)
		return false;
	pthread_mutex_lock(&temps_lock);
	for (size_t i = 0; i < nprotect && !found; i++)
		if (protect[i].dev == st.st_dev &&
		    protect[i].ino == st.st_ino) {
			snprintf(what, n, "%s", protect[i].what);
			found = true;
		}
	pthread_mutex_unlock(&temps_lock);
	return found;
}

bool
qp_outfile_open(qp_outfile *o, const char *path, qp_error *err)
{
	const char *slash = strrchr(path, '/');
	char what[64];
	sigset_t saved;
	int fd;

	memset(o, 0, sizeof *o);
	if (!qp_check_output_dir(path, err))
		return false;
	if (is_protected(path, what, sizeof what))
		return qp_fail(err, "'%s' is %s: an output must not replace an "
		    "input (choose another output name)", path, what);
	/* The name is cut to 64 bytes so a long output name still leaves
	 * room for the prefix and suffix within NAME_MAX. */
	if (slash == NULL)
		o->tmp_path = qp_xasprintf(".%.64s.XXXXXX", path);
	else
		o->tmp_path = qp_xasprintf("%.*s/.%.64s.XXXXXX",
		    (int)(slash - path), path, slash + 1);
	/* A stop between creating the file and listing it would leave it
	 * behind: hold the stop signals for those two steps. */
	stop_signals_hold(&saved);
	fd = mkstemp(o->tmp_path);
	if (fd < 0) {
		int e = errno;
		stop_signals_release(&saved);
		qp_fail(err, "cannot create a file beside '%s': %s", path,
		    strerror(e));
		free(o->tmp_path);
		o->tmp_path = NULL;
		return false;
	}
	o->slot = temp_register(o->tmp_path);
	stop_signals_release(&saved);
	/* mkstemp makes 0600; an output file is an ordinary document. */
	{
		mode_t um = umask(0);
		umask(um);
		(void)fchmod(fd, 0666 & ~um);
	}
	o->fp = fdopen(fd, "wb");
	if (o->fp == NULL) {
		close(fd);
		unlink(o->tmp_path);
		temp_unregister(o);
		free(o->tmp_path);
		o->tmp_path = NULL;
		return qp_fail(err, "cannot open '%s': %s", path,
		    strerror(errno));
	}
	o->path = qp_xstrdup(path);
	return true;
}

bool
qp_outfile_write(qp_outfile *o, const void *data, size_t len)
{
	if (o->write_failed)
		return false;
	if (len && fwrite(data, 1, len, o->fp) != len) {
		o->write_failed = true;
		o->saved_errno = errno;
		return false;
	}
	return true;
}

bool
qp_outfile_commit(qp_outfile *o, qp_error *err)
{
	sigset_t saved;
	bool ok = true;
	int e = 0;

	if (o->fp == NULL)
		return qp_fail(err, "'%s' was not opened", o->path);
	if (o->write_failed) {
		ok = false;
		e = o->saved_errno;
	} else if (fflush(o->fp) != 0 ||
	    (!o->no_sync && fsync(fileno(o->fp)) != 0)) {
		ok = false;
		e = errno;
	}
	if (fclose(o->fp) != 0 && ok) {
		ok = false;
		e = errno;
	}
	o->fp = NULL;
	/* Rename and unlist together: a stop in between would unlink a
	 * name that no longer exists, which is harmless, but a stop just
	 * before the rename must find the temporary still listed. */
	stop_signals_hold(&saved);
	if (ok && rename(o->tmp_path, o->path) != 0) {
		ok = false;
		e = errno;
	}
	if (ok)
		atomic_fetch_add(&commits, 1);
	else
		unlink(o->tmp_path);
	temp_unregister(o);
	stop_signals_release(&saved);
	if (!ok)
		qp_fail(err, "cannot write '%s': %s%s", o->path,
		    strerror(e ? e : EIO), qp_write_error_hint(e));
	free(o->tmp_path);
	free(o->path);
	o->tmp_path = o->path = NULL;
	return ok;
}

void
qp_outfile_abort(qp_outfile *o)
{
	if (o->fp) {
		fclose(o->fp);
		o->fp = NULL;
	}
	if (o->tmp_path)
		unlink(o->tmp_path);
	temp_unregister(o);
	free(o->tmp_path);
	free(o->path);
	o->tmp_path = o->path = NULL;
}

const char *
qp_path_ext(const char *path, char *buf, size_t bufsz)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	size_t i;

	if (bufsz == 0)
		return "";
	buf[0] = '\0';
	if (dot == NULL || (slash && dot < slash) || dot == path ||
	    (slash && dot == slash + 1))
		return buf;
	for (i = 0; dot[1 + i] && i + 1 < bufsz; i++) {
		char c = dot[1 + i];
		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[i] = '\0';
	return buf;
}

long long
qp_source_date_epoch(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	long v;

	if (s && qp_parse_int(s, 0, LONG_MAX, &v))
		return v;
	/* 2026-01-01T00:00:00Z: a fixed, honest-looking date. */
	return 1767225600LL;
}

void
qp_outfile_remove_left(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? qp_xstrndup(path, (size_t)(slash - path)) :
	    qp_xstrdup(".");
	/* As qp_outfile_open names them: the name cut to 64 bytes. */
	char *prefix = qp_xasprintf(".%.64s.", slash ? slash + 1 : path);
	size_t pl = strlen(prefix);
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, pl) == 0 &&
		    strlen(e->d_name) == pl + 6) {
			char *p = qp_xasprintf("%s/%s", dir, e->d_name);
			(void)unlink(p);
			free(p);
		}
	if (d)
		closedir(d);
	free(prefix);
	free(dir);
}

const char *
qp_write_error_hint(int e)
{
	return e == ENOSPC || e == EFBIG || e == EDQUOT ? " (the disk or the "
	    "file size limit is full; nothing was written)" : "";
}
