/*
 * stop.c - a stop request: an atomic counter and a self-pipe.
 */
#define _GNU_SOURCE
#include "stop.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* A signal handler may touch an atomic object only if it is lock-free. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int must be lock-free");
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "atomic_ulong must be lock-free");

bool
qp_stop_init(qp_stop *s, qp_error *err)
{
	int fd[2];

	atomic_init(&s->why, 0);
	atomic_init(&s->count, 0);
	atomic_init(&s->abandon, 0);
	atomic_init(&s->commits, 0);
	s->rfd = s->wfd = -1;
	/* Non-blocking both ways: a full pipe already says "stop", and
	 * consuming it must not wait. */
	if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) != 0)
		return qp_fail(err, "cannot make a pipe: %s", strerror(errno));
	/* Above the standard descriptors, so that a zeroed qp_stop (0, 0)
	 * is recognisably one without a pipe (a duplicate shares the
	 * O_NONBLOCK of its open file description). */
	for (int i = 0; i < 2; i++)
		if (fd[i] < 3) {
			int hi = fcntl(fd[i], F_DUPFD_CLOEXEC, 3);
			close(fd[i]);
			fd[i] = hi;
		}
	if (fd[0] < 0 || fd[1] < 0) {
		int e = errno;
		if (fd[0] >= 0)
			close(fd[0]);
		if (fd[1] >= 0)
			close(fd[1]);
		return qp_fail(err, "cannot make a pipe: %s", strerror(e));
	}
	s->rfd = fd[0];
	s->wfd = fd[1];
	return true;
}

void
qp_stop_destroy(qp_stop *s)
{
	if (s == NULL)
		return;
	if (s->rfd > 2)
		close(s->rfd);
	if (s->wfd > 2)
		close(s->wfd);
	s->rfd = s->wfd = -1;
}

void
qp_stop_request(qp_stop *s, int why)
{
	int e = errno; /* a handler must leave errno as it found it */
	int expect = 0;

	if (s == NULL)
		return;
	atomic_compare_exchange_strong(&s->why, &expect, why > 0 ? why : 1);
	atomic_fetch_add(&s->count, 1);
	if (s->wfd > 2)
		(void)!write(s->wfd, "s", 1);
	errno = e;
}

int
qp_stop_why(const qp_stop *s)
{
	return s ? atomic_load(&s->why) : 0;
}

int
qp_stop_count(const qp_stop *s)
{
	return s ? atomic_load(&s->count) : 0;
}

int
qp_stop_fd(const qp_stop *s)
{
	return s && s->rfd > 2 ? s->rfd : -1;
}

int
qp_stop_consume(qp_stop *s)
{
	char buf[64];

	if (s == NULL)
		return 0;
	if (s->rfd > 2)
		while (read(s->rfd, buf, sizeof buf) > 0)
			;
	return atomic_load(&s->count);
}

void
qp_stop_allow_abandon(qp_stop *s, int at)
{
	if (s == NULL)
		return;
	atomic_store(&s->commits, qp_outfile_commits());
	atomic_store(&s->abandon, at);
}

bool
qp_stop_may_abandon(const qp_stop *s)
{
	int at;

	return s && (at = atomic_load(&s->abandon)) > 0 &&
	    atomic_load(&s->count) >= at &&
	    atomic_load(&s->commits) == qp_outfile_commits();
}
