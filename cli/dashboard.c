/*
 * dashboard.c: `quant dashboard`: serve the read-only web dashboard until
 * Ctrl-C.  It parses --host/--port, warns when listening beyond loopback,
 * starts the server (lib/web) and waits for SIGINT/SIGTERM with sigwait, so
 * no handler runs inside civetweb's threads and shutdown is an ordinary stop.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"
#include "quant/web.h"
#include "core/banned.h"

static int is_loopback(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0 ||
           strcmp(host, "::1") == 0;
}

static int parse(struct cli_ctx *ctx, int argc, char **argv, const char **host, int *port)
{
    const struct cli_opt opts[] = {
        {"--host", NULL, CLI_OPT_STRING, host, 0, 0, "an address"},
        {"--port", NULL, CLI_OPT_INT, port, 0, 65535, NULL},
    };
    return cli_parse(ctx, &cmd_dashboard, argc, argv, opts, CLI_NOPTS(opts), NULL);
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 8501;
    int rc = parse(ctx, argc, argv, &host, &port);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!is_loopback(host))
        fprintf(ctx->err, "quant dashboard: warning: listening on %s, not just this machine: "
                          "anyone who can reach it can read the stores (read-only)\n", host);
    /* Block the stop signals before civetweb starts its threads, so they inherit
     * the mask and only sigwait below ever sees SIGINT/SIGTERM. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    /* A shell starts background jobs with SIGINT ignored, and an ignored
     * signal never reaches sigwait: this server is meant to stop on it. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    struct quant_err err;
    quant_err_clear(&err);
    struct quant_web_server *srv = NULL;
    if (quant_web_server_start(&ctx->cfg, host, port, &srv, &err)) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return cli_fail(ctx, "dashboard", &err);
    }
    int shown = quant_web_server_port(srv);
    if (strchr(host, ':'))
        fprintf(ctx->out, "Dashboard: http://[%s]:%d/ (Ctrl-C to stop)\n", host, shown);
    else
        fprintf(ctx->out, "Dashboard: http://%s:%d/ (Ctrl-C to stop)\n", host, shown);
    fflush(ctx->out);
    int sig = 0;
    sigwait(&stop, &sig);
    quant_web_server_stop(srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    fprintf(ctx->err, "quant dashboard: stopped\n");
    return CLI_EXIT_OK;
}

const struct cli_command cmd_dashboard = {
    .name = "dashboard",
    .summary = "serve a read-only web dashboard of the stores on localhost",
    .usage =
        "usage: quant dashboard [--host 127.0.0.1] [--port 8501]\n"
        "\n"
        "Serves the dashboard (symbols, charts, predictions, models) at\n"
        "http://HOST:PORT/ until Ctrl-C. It only reads the stores, opening them\n"
        "read-only per request; while an ingest or training run holds the store the\n"
        "page shows \"store busy\" and retries. It listens on 127.0.0.1 unless --host\n"
        "says otherwise (then it warns: anyone who can reach the address can read the\n"
        "data). --port 0 picks a free port.\n",
    .run = run,
    .open = CLI_OPEN_READ,
};
