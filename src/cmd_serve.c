/*
 * cmd_serve.c - "qrposter serve": the local web editor. Starts the
 * server, says where to point the browser, and runs until SIGINT,
 * SIGTERM or SIGHUP.
 */
#include <getopt.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "serve.h"

enum {
	OPT_PORT = 256,
	OPT_BIND,
	OPT_TEMPLATES,
	OPT_WORKERS,
	OPT_TIMEOUT,
	OPT_TOKEN,
};

static void
serve_usage(FILE *fp)
{
	fputs("usage: qrposter serve [--port N] [--bind ADDR] "
	    "[--templates DIR] [--token]\n\n"
	    "Serve the poster editor: a page where you pick a template, fill "
	    "in the\nlocation and hotline text, see the poster as you type, "
	    "and download it.\nOpen the address it prints in a browser; "
	    "Ctrl-C stops it.\n\n"
	    "      --port N         port to listen on (default 8080; 0 picks "
	    "a free one)\n"
	    "      --bind ADDR      address to listen on (default 127.0.0.1: "
	    "this computer\n"
	    "                       only; anything else lets other machines "
	    "connect)\n"
	    "      --templates DIR  offer the templates in DIR (default: the "
	    "bundled ones)\n"
	    "      --workers N      posters rendered at once (default: one "
	    "per CPU, up to 4)\n"
	    "      --timeout SECS   cut off a render after SECS seconds "
	    "(default 30)\n"
	    "      --token          require the access token it prints even "
	    "on 127.0.0.1\n"
	    "                       (always required on any other "
	    "address)\n"
	    "  -h, --help           show this help\n", fp);
}

int
qp_cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"port", required_argument, NULL, OPT_PORT},
		{"bind", required_argument, NULL, OPT_BIND},
		{"templates", required_argument, NULL, OPT_TEMPLATES},
		{"workers", required_argument, NULL, OPT_WORKERS},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"token", no_argument, NULL, OPT_TOKEN},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	qp_serve_opts o = {.port = 8080};
	qp_server *s;
	qp_error err;
	sigset_t set;
	long v;
	int c, sig;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PORT:
			if (!qp_parse_int(optarg, 0, 65535, &v)) {
				qp_cli_error("--port '%s': a number from 0 to "
				    "65535", optarg);
				return QP_EXIT_USAGE;
			}
			o.port = (unsigned)v;
			break;
		case OPT_BIND: o.bind = optarg; break;
		case OPT_TEMPLATES: o.templates = optarg; break;
		case OPT_WORKERS:
			if (!qp_parse_int(optarg, 1, 64, &v)) {
				qp_cli_error("--workers '%s': a number from 1 "
				    "to 64", optarg);
				return QP_EXIT_USAGE;
			}
			o.workers = (unsigned)v;
			break;
		case OPT_TIMEOUT:
			if (!qp_parse_number(optarg, strlen(optarg),
			    &o.timeout) || o.timeout <= 0 ||
			    o.timeout > 3600) {
				qp_cli_error("--timeout '%s': seconds, more "
				    "than 0 and at most 3600", optarg);
				return QP_EXIT_USAGE;
			}
			break;
		case OPT_TOKEN: o.token = true; break;
		case 'h':
			serve_usage(stdout);
			return QP_EXIT_OK;
		default:
			qp_cli_bad_option("serve", argv, c);
			return QP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		qp_cli_error("serve: unexpected argument '%s'", argv[optind]);
		return QP_EXIT_USAGE;
	}
	/*
	 * Block the stop signals before any thread starts, so every server
	 * thread inherits the mask and this thread alone takes them with
	 * sigwait. A closed client socket must not kill the server.
	 */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((s = qp_server_start(&o, &err)) == NULL) {
		qp_cli_error("serve: %s", err.msg);
		return QP_EXIT_ERROR;
	}
	printf("qrposter: serving the poster editor at http://%s%s%s:%u/%s%s\n",
	    strchr(qp_server_bind(s), ':') ? "[" : "", qp_server_bind(s),
	    strchr(qp_server_bind(s), ':') ? "]" : "", qp_server_port(s),
	    qp_server_token(s) ? "?token=" : "",
	    qp_server_token(s) ? qp_server_token(s) : "");
	if (qp_server_loopback(s))
		printf("qrposter: listening on loopback only: reachable from "
		    "this computer, not from the network\n");
	else
		printf("qrposter: warning: listening on %s: other machines "
		    "that can reach this address can use the editor with "
		    "the address above\n", qp_server_bind(s));
	if (qp_server_token(s))
		printf("qrposter: the token in that address is needed for "
		    "every request (scripts: \"Authorization: Bearer "
		    "TOKEN\"); keep it to people who may print\n");
	printf("qrposter: templates from %s; press Ctrl-C to stop\n",
	    qp_server_templates(s));
	fflush(stdout);
	sigwait(&set, &sig);
	printf("qrposter: stopping (%s)\n", sig == SIGINT ? "interrupt" :
	    sig == SIGHUP ? "hangup" : "terminate");
	fflush(stdout);
	qp_server_stop(s);
	return QP_EXIT_OK;
}
