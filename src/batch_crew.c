/*
 * batch_crew.c - the worker processes of a batch and how the parent talks
 * to them: start, hear results, pass a stop on, reap.
 *
 * Each worker has one socketpair with the parent: results go up as
 * length-prefixed messages, and the parent's word comes down as single
 * bytes ('g' go on after the checking phase, 's' stop after the row in
 * hand). A socket rather than two pipes because send() takes
 * MSG_NOSIGNAL: a worker that died gives the parent EPIPE, not a SIGPIPE
 * that would kill it silently.
 *
 * Who decides to stop. A stop sent to the main process alone (kill PID,
 * docker stop, a Kubernetes pod deletion, systemd) and one sent to the
 * whole process group (Ctrl-C in a terminal) must end the same way, so
 * only the parent hears signals, and it passes the stop on, once, over
 * the sockets. Workers ignore SIGINT, SIGTERM and SIGHUP, and each is a
 * process group of its own, so that the terminal's signals do not reach
 * the programs a worker runs either (Ghostscript for a print file, which
 * would die in the middle of the row in hand). A second stop request
 * makes the parent send SIGUSR1 ("abandon"): a worker then ends what it
 * runs, removes its temporary file and leaves at once, unless it has
 * completed a file it has not yet reported, in which case it leaves
 * right after the report, so that the manifest still lists every file
 * there is. A worker whose parent dies gets the same SIGUSR1
 * (PR_SET_PDEATHSIG).
 *
 * Every wait is stop-aware: the parent polls the worker's socket together
 * with the stop request's pipe (stop.h), and a worker waiting for the
 * go-ahead polls its socket, on which the parent's stop arrives as a byte
 * (or its death as end of file). No wait relies on a signal interrupting
 * a system call at the right moment.
 */
#define _GNU_SOURCE
#include "batch_int.h"

#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/socket.h>

/* ---- in a worker --------------------------------------------------------- */

/*
 * The abandon handler's state: it can reach nothing else. A worker is a
 * process of its own, so these are per-worker, not shared.
 */
static atomic_ulong reported;             /* commits accounted for */
static volatile sig_atomic_t abandon_due; /* abandon after the report */

static void
on_abandon(int sig)
{
	(void)sig;
	if (qp_outfile_commits() != atomic_load(&reported)) {
		abandon_due = 1;
		return;
	}
	/* Programs it runs are in its group (it ignores SIGTERM): end them
	 * before their output's temporary goes, or one could make it anew. */
	if (getpgrp() == getpid()) {
		kill(0, SIGTERM);
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
	}
	qp_outfile_unlink_all();
	_exit(0);
}

/* Set up a worker just forked (with every signal still blocked; mask is
 * the parent's mask to restore). */
static void
worker_init(pid_t parent, sigset_t *mask)
{
	struct sigaction sa;

	qp_outfile_forget_all();
	atomic_store(&reported, qp_outfile_commits());
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	/* Out of the terminal's foreground group: writing to it must not
	 * stop the worker (stty tostop), reading fails rather than stops. */
	sigaction(SIGTTOU, &sa, NULL);
	sigaction(SIGTTIN, &sa, NULL);
	(void)setpgid(0, 0);
	sa.sa_handler = on_abandon;
	sigaction(SIGUSR1, &sa, NULL);
	(void)prctl(PR_SET_PDEATHSIG, SIGUSR1);
	sigdelset(mask, SIGUSR1);
	pthread_sigmask(SIG_SETMASK, mask, NULL);
	if (getppid() != parent) /* it died before prctl took effect */
		raise(SIGUSR1);
}

static bool
send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

/* Send one message to the parent (false if it has gone); a worker told
 * to abandon while it had a file unreported leaves here, reported. */
bool
bt_crew_send(int fd, const qp_buf *m)
{
	uint32_t len = (uint32_t)m->len;
	bool ok = send_all(fd, &len, sizeof len) &&
	    send_all(fd, m->data, m->len);

	/* Whatever this message said, the files made so far are now
	 * accounted for (or the parent is gone, and nobody counts). */
	atomic_store(&reported, qp_outfile_commits());
	if (abandon_due) {
		/* A finished file still listed as a temporary (a part of a
		 * combined PDF) is the parent's to remove once reported;
		 * with the parent gone, nobody else will. */
		if (!ok)
			qp_outfile_unlink_all();
		_exit(0);
	}
	return ok;
}

/* The parent's word: 'g', or 's' (also when it has gone); 0 when it has
 * said nothing and wait is false. */
int
bt_crew_heard(int fd, bool wait)
{
	char c;

	for (;;) {
		ssize_t r = recv(fd, &c, 1, wait ? 0 : MSG_DONTWAIT);
		if (r == 1)
			return (unsigned char)c;
		if (r == 0)
			return 's'; /* the parent has gone: stop */
		if (errno == EINTR)
			continue;
		if (!wait && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return 's';
	}
}

int
bt_crew_word(int fd)
{
	char c;

	for (;;) {
		ssize_t r = recv(fd, &c, 1, 0);
		if (r == 1)
			return (unsigned char)c;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

/* ---- in the parent ------------------------------------------------------- */

/* Start n workers, each running fn(b, its id, its socket). False with
 * err set if one cannot be started (those started are in c, to finish). */
bool
bt_crew_start(crew *c, batch *b, int n, bt_crew_main fn, qp_error *err)
{
	pid_t parent = getpid();
	sigset_t all, saved;
	bool ok = true;

	memset(c, 0, sizeof *c);
	c->b = b;
	c->span = 1;
	for (int i = 0; i < MAX_JOBS; i++)
		c->fd[i] = -1;
	fflush(NULL);
	/* No handler may run in a child before it has its own. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	for (int i = 0; i < n && ok; i++) {
		int sv[2];
		pid_t pid;

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			ok = qp_fail(err, "cannot start workers: %s",
			    strerror(errno));
		else if ((pid = fork()) < 0) {
			ok = qp_fail(err, "cannot start workers: %s",
			    strerror(errno));
			close(sv[0]);
			close(sv[1]);
		} else if (pid == 0) {
			close(sv[0]);
			for (int k = 0; k < i; k++)
				close(c->fd[k]);
			if (qp_stop_fd(b->h->stop) >= 0)
				qp_stop_destroy(b->h->stop); /* the parent's */
			worker_init(parent, &saved);
			fn(b, i, sv[1]);
			_exit(0);
		} else {
			close(sv[1]);
			c->fd[i] = sv[0];
			c->pid[i] = pid;
			c->owed[i] = (size_t)i;
			c->n = i + 1;
		}
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return ok;
}

int
bt_crew_owner(size_t pos, size_t span, int n)
{
	return (int)(pos / span % (size_t)n);
}

int
bt_crew_whose(const crew *c, size_t pos)
{
	return bt_crew_owner(pos, c->span, c->n);
}

void
bt_crew_span(crew *c, size_t span)
{
	c->span = span;
	for (int i = 0; i < c->n; i++)
		c->owed[i] = (size_t)i * span;
}

/* Say what (a byte) to every worker still there. */
void
bt_crew_tell(crew *c, char what)
{
	for (int i = 0; i < c->n; i++)
		if (!c->eof[i])
			(void)send(c->fd[i], &what, 1, MSG_NOSIGNAL);
}

/* Pass on the stop requests made so far: the first as 's', the second
 * as SIGUSR1. Called by every wait; safe to call again. */
void
bt_crew_heed(crew *c)
{
	int asked = qp_stop_count(c->b->h->stop);

	if (asked >= 1 && c->told < 1) {
		c->told = 1;
		bt_crew_tell(c, 's');
		bt_test_pause(c->b, "main", "stopping", 0);
		asked = qp_stop_count(c->b->h->stop);
	}
	if (asked >= 2 && c->told < 2) {
		c->told = 2;
		for (int i = 0; i < c->n; i++)
			if (!c->reaped[i])
				kill(c->pid[i], SIGUSR1);
	}
}

/* Wait until worker i has something to read (or has left), passing on
 * any stop request meanwhile. False on a poll error. */
static bool
wait_for(crew *c, int i)
{
	qp_stop *stop = c->b->h->stop;
	struct pollfd p[2] = {
		{c->fd[i], POLLIN, 0},
		{qp_stop_fd(stop), POLLIN, 0},
	};

	for (;;) {
		bt_crew_heed(c);
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (p[1].revents) {
			qp_stop_consume(stop);
			continue; /* heed it at the top */
		}
		if (p[0].revents)
			return true;
	}
}

static bool
read_all(crew *c, int i, void *p, size_t n)
{
	char *s = p;

	while (n > 0) {
		ssize_t r;

		if (!wait_for(c, i))
			return false;
		r = recv(c->fd[i], s, n, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return false;
		s += r;
		n -= (size_t)r;
	}
	return true;
}

/* Worker i's next message, into buf; false when it has left (end of its
 * socket). The wait heeds stop requests but does not end on one: a
 * stopped worker sends the row in hand, then leaves. */
bool
bt_crew_recv(crew *c, int i, qp_buf *buf)
{
	uint32_t len;

	if (c->eof[i] || !read_all(c, i, &len, sizeof len)) {
		c->eof[i] = true;
		return false;
	}
	qp_buf_reset(buf);
	if (buf->cap < (size_t)len + 1) {
		buf->data = qp_xrealloc(buf->data, (size_t)len + 1);
		buf->cap = (size_t)len + 1;
	}
	if (!read_all(c, i, buf->data, len)) {
		c->eof[i] = true;
		return false;
	}
	buf->len = len;
	buf->data[len] = '\0';
	/* One message per row of its share (bt_crew_owner): the next row of
	 * its block, or the first of its next block. */
	if (++c->owed[i] % c->span == 0)
		c->owed[i] += (size_t)(c->n - 1) * c->span;
	return true;
}

/* Stop the workers after the rows in hand, read what they still send
 * (each message to keep, if not NULL) until each has left, and reap them.
 * Safe to call again. */
void
bt_crew_finish(crew *c, bt_crew_keep keep, void *arg, qp_buf *buf)
{
	/* Nothing more is asked of them: a worker still waiting for the
	 * go-ahead leaves, one at work leaves after the row in hand. One
	 * worker at a time: each leaves whatever the others do, so reading
	 * them in turn cannot deadlock. */
	if (c->told < 1)
		c->told = 1;
	bt_crew_tell(c, 's');
	for (int i = 0; i < c->n; i++)
		while (bt_crew_recv(c, i, buf))
			if (keep)
				keep(arg, i, buf);
	for (int i = 0; i < c->n; i++) {
		if (c->fd[i] >= 0) {
			close(c->fd[i]);
			c->fd[i] = -1;
		}
		while (!c->reaped[i] && c->pid[i] > 0) {
			if (waitpid(c->pid[i], &c->status[i], 0) == c->pid[i])
				c->reaped[i] = true;
			else if (errno != EINTR)
				break;
		}
	}
	for (size_t i = 0; i < c->nnoted; i++)
		free(c->noted[i]);
	free(c->noted);
	c->noted = NULL;
	c->nnoted = 0;
}

void
bt_crew_note(crew *c, const char *notes)
{
	const char *p = notes, *sep, *nl;

	/* Each worker sees only its own rows; the parent sees them all, so
	 * a warning is noted once whichever worker met it first. */
	for (; p && *p && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		size_t k;
		char *key;

		if ((sep = memchr(p, '\x1f', (size_t)(nl - p))) == NULL)
			continue;
		key = qp_xstrndup(p, (size_t)(sep - p));
		for (k = 0; k < c->nnoted; k++)
			if (strcmp(c->noted[k], key) == 0)
				break;
		if (k < c->nnoted) {
			free(key);
			continue;
		}
		c->noted = qp_xrealloc(c->noted, (c->nnoted + 1) *
		    sizeof *c->noted);
		c->noted[c->nnoted++] = key;
		{
			char *msg = qp_xstrndup(sep + 1, (size_t)(nl - sep - 1));
			bt_note(c->b, "%s", msg);
			free(msg);
		}
	}
}

/* The first worker, once reaped, that was killed by a signal or failed
 * (unless the parent abandoned them), described in msg; or -1. */
int
bt_crew_casualty(const crew *c, char *msg, size_t n)
{
	for (int i = 0; i < c->n; i++) {
		int st = c->status[i];

		if (!c->reaped[i] || c->told >= 2)
			continue;
		if (WIFSIGNALED(st)) {
			snprintf(msg, n, "worker %d of %d (pid %ld) was killed by "
			    "signal %d (%s)", i + 1, c->n, (long)c->pid[i],
			    WTERMSIG(st), strsignal(WTERMSIG(st)));
			return i;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
			snprintf(msg, n, "worker %d of %d (pid %ld) failed (exit "
			    "status %d)", i + 1, c->n, (long)c->pid[i],
			    WEXITSTATUS(st));
			return i;
		}
	}
	return -1;
}

/* What a message says about a row a worker had in hand. */
typedef struct row_info {
	size_t line, index;
	char *code, *file;
} row_info;

/* The row at position pos of the shard (read again from the CSV, for a
 * message about a worker that died with it in hand). */
static bool
row_at(const batch *b, size_t pos, row_info *ri)
{
	qp_error err;
	qp_data *d = bt_open_data(b, &err);
	qp_record rec;
	size_t n = 0;
	bool found = false;

	memset(ri, 0, sizeof *ri);
	while (d && !found && qp_data_next(d, &rec, &err) == 1) {
		row rw;

		if (!bt_row_in_run(b, &rec) || n++ != pos)
			continue;
		if ((found = bt_row_prepare(b, &rec, pos, &rw, &err))) {
			ri->line = rw.line;
			ri->index = rw.index;
			ri->code = qp_xstrdup(bt_row_code(b, &rw));
			ri->file = qp_xstrdup(rw.file);
		}
		bt_row_free(&rw, b->nqr);
	}
	bt_close_data(d);
	return found;
}

/*
 * A worker left that should not have (bt_crew_casualty, or left: the one
 * whose socket ended): say which, how, and which row it had in hand,
 * "... while DOING FILE:LINE (row N, code 'C'); AFTER", into err; the
 * file of that row, malloc'd, in *file if asked.
 */
void
bt_crew_lost(crew *c, int left, const char *doing, const char *after,
    char **file, qp_error *err)
{
	const batch *b = c->b;
	char how[256];
	int i = bt_crew_casualty(c, how, sizeof how);
	row_info ri;

	if (i < 0) {
		i = left;
		snprintf(how, sizeof how, "worker %d of %d (pid %ld) left "
		    "early", i + 1, c->n, (long)c->pid[i]);
	}
	if (c->owed[i] < b->total && row_at(b, c->owed[i], &ri)) {
		qp_fail(err, "%s while %s %s:%zu (row %zu, code '%s'); %s", how,
		    doing, b->data_name, ri.line, ri.index + 1, ri.code, after);
		free(ri.code);
		if (file)
			*file = ri.file;
		else
			free(ri.file);
	} else
		qp_fail(err, "%s; %s", how, after);
}
