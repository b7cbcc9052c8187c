/*
 * stop.h - a request to stop that a signal handler or another thread can
 * make, and that a poll() can wait for.
 *
 * A flag alone is not enough: a process blocked in read() or poll() when
 * the request comes must wake up, and a signal that lands just before the
 * call (after the flag was checked) would otherwise be slept through.
 * So every request also writes a byte to a pipe (the self-pipe trick),
 * and every wait polls that pipe beside what it waits for. This works the
 * same for a signal (the CLI) and for another thread (the web editor's
 * "cancel"), which signalfd or ppoll with a signal mask would not.
 *
 * The counter tells the first request (finish the rows in hand, then
 * stop) from a second (stop at once). A signal handler may end the
 * process itself where the code in charge has said that is safe
 * (qp_stop_allow_abandon): nothing but this process's temporary files is
 * at stake, and no file has been completed since.
 */
#ifndef QP_STOP_H
#define QP_STOP_H

#include <stdatomic.h>
#include <stdbool.h>

#include "util.h"

typedef struct qp_stop {
	atomic_int why;       /* 0, or the first request's reason (> 0) */
	atomic_int count;     /* requests made so far */
	atomic_int abandon;   /* the request that may end the process, or 0 */
	atomic_ulong commits; /* qp_outfile_commits() when that was allowed */
	int rfd, wfd;         /* the pipe: readable after a request */
} qp_stop;

/* A new request-free stop: false with err set if no pipe can be made. */
bool qp_stop_init(qp_stop *s, qp_error *err);
/* Close its pipe; a zeroed or already destroyed qp_stop is fine. */
void qp_stop_destroy(qp_stop *s);

/*
 * Ask for a stop; why > 0 is what the first request reports (a signal
 * number from a handler; any positive value from a thread). Lock-free and
 * async-signal-safe; may be called from any thread.
 */
void qp_stop_request(qp_stop *s, int why);

/* The first request's reason, or 0 when none was made. NULL: 0. */
int qp_stop_why(const qp_stop *s);
/* How many requests were made. NULL: 0. */
int qp_stop_count(const qp_stop *s);

/* The descriptor to poll for POLLIN: readable after a request not yet
 * consumed by qp_stop_consume(); -1 for NULL. */
int qp_stop_fd(const qp_stop *s);
/*
 * Empty the pipe (without blocking), so that the next poll waits for the
 * next request, and return the request count. The count is read after
 * the pipe is emptied and a request counts before it writes, so no
 * request is ever missed: one made after the read writes a new byte.
 */
int qp_stop_consume(qp_stop *s);

/*
 * From now on, the at-th request (1 or 2; 0: none) may end the process
 * at once (qp_stop_may_abandon says whether it can now). The code that
 * allows it must hold nothing that a sudden end would leave inconsistent
 * but its own temporary files (which the handler removes). For signal
 * handlers, not threads.
 */
void qp_stop_allow_abandon(qp_stop *s, int at);
/* For the signal handler: enough requests have been made, and no file
 * has been committed since the allowing. Async-signal-safe. */
bool qp_stop_may_abandon(const qp_stop *s);

#endif
