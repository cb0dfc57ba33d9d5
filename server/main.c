/* opsbook-serve: the HTTP JSON server. Parses flags, starts the server
 * library (srv.h), waits for SIGINT/SIGTERM and stops it cleanly. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "srv.h"

#define DRAIN_MS 10000

static void usage(FILE *f)
{
  fputs("usage: opsbook-serve --db DIR --handbook DIR [--listen ADDR:PORT] [--web DIR]\n"
        "                     [--threads N] [--cache N] [--memory-index N]\n"
        "                     [--memory-shared N] [--lang DIR]\n"
        "                     [--tokens FILE [--audit FILE]]\n"
        "Serves the Opsbook handbook search as HTTP JSON (see docs/api.md).\n"
        "  --db DIR            index folder built by opsbook-index (required)\n"
        "  --handbook DIR      handbook folder the index was built from (required;\n"
        "                      documents are read from it for /api/docs)\n"
        "  --listen ADDR:PORT  address to listen on (default " OB_SRV_LISTEN_DEFAULT ");\n"
        "                      port 0 picks a free port; IPv6 as [::1]:8080\n"
        "  --web DIR           static files for / (default: the source tree's web/)\n"
        "  --threads N         worker threads, 1-256 (default: number of cores)\n"
        "  --cache N           keep up to N rendered search replies (default 2048;\n"
        "                      0 turns the reply cache off)\n"
        "  --memory-index N    search a copy of the index in memory while it has at\n"
        "                      most N entries (default 1000; 0 = always from disk)\n"
        "  --memory-shared N   a larger index of at most N entries: one copy in memory\n"
        "                      (records deflated) shared by the workers, made in the\n"
        "                      background after each write (default 200000; 0 = never);\n"
        "                      past N, a table of its common terms (56 MiB at most)\n"
        "  --lang DIR          language resources: ops.dic, synonyms.txt\n"
        "  --tokens FILE       reviewers' tokens ('NAME SHA256-HEX' lines): enables the\n"
        "                      write routes (POST lessons, faults); without it they are\n"
        "                      refused (403, read-only)\n"
        "  --audit FILE        audit log of writes (JSON Lines; default: audit.jsonl\n"
        "                      next to the tokens file)\n"
        "  --help              this text\n"
        "Prints 'listening on http://ADDR:PORT' to stderr when ready, then one access\n"
        "log line per request. SIGINT/SIGTERM: finish requests in flight, exit 0.\n",
        f);
}

/* A whole number in [lo, hi] for option opt; says what is wanted if not. */
static int count_arg(const char *opt, const char *s, long lo, long hi, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) {
    fprintf(stderr, "opsbook-serve: %s must be %ld-%ld\n", opt, lo, hi);
    return 0;
  }
  *out = v;
  return 1;
}

#ifdef OB_JEMALLOC
/* jemalloc's options, read when it starts: one arena for every thread.
 * Its default (four per core) kept each worker's freed pages apart: at
 * 100,000 files the server held 126-131 MB under search load and 147-155
 * MB after the first /api/categories, against 117-121 and 135-140 MB with
 * one arena, at the same speed (docs/performance.md, session 18). */
const char *malloc_conf = "narenas:1";
#endif

int main(int argc, char **argv)
{
  ob_srv_opts o;
  ob_srv *srv = NULL;
  char err[OB_ERR_SIZE];
  sigset_t stop;
  int sig = 0;
  memset(&o, 0, sizeof o);
  o.log = stderr;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **dst = !strcmp(a, "--db")         ? &o.db
                       : !strcmp(a, "--handbook") ? &o.handbook
                       : !strcmp(a, "--listen")   ? &o.listen
                       : !strcmp(a, "--web")      ? &o.web
                       : !strcmp(a, "--lang")     ? &o.lang
                       : !strcmp(a, "--tokens")   ? &o.tokens
                       : !strcmp(a, "--audit")    ? &o.audit
                                                  : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (dst && i + 1 < argc) {
      *dst = argv[++i];
    } else if (!strcmp(a, "--threads") && i + 1 < argc) {
      long v;
      if (!count_arg(a, argv[++i], 1, OB_SRV_THREADS_MAX, &v))
        return 2;
      o.threads = (unsigned)v;
    } else if (!strcmp(a, "--cache") && i + 1 < argc) {
      long v;
      if (!count_arg(a, argv[++i], 0, 1000000, &v))
        return 2;
      o.cache = (size_t)v;
      o.no_cache = v == 0;
    } else if (!strcmp(a, "--memory-index") && i + 1 < argc) {
      long v;
      if (!count_arg(a, argv[++i], 0, 10000000, &v))
        return 2;
      o.memory_index = (unsigned long)v;
      o.no_memory_index = v == 0;
    } else if (!strcmp(a, "--memory-shared") && i + 1 < argc) {
      long v;
      if (!count_arg(a, argv[++i], 0, 100000000, &v))
        return 2;
      o.memory_shared = (unsigned long)v;
      o.no_memory_shared = v == 0;
    } else {
      fprintf(stderr, "opsbook-serve: unknown or incomplete option '%s' (see --help)\n", a);
      return 2;
    }
  }
  if (!o.db || !o.handbook) {
    fprintf(stderr, "opsbook-serve: --db and --handbook are required (see --help)\n");
    return 2;
  }
  if (o.audit && !o.tokens) {
    fprintf(stderr, "opsbook-serve: --audit needs --tokens (see --help)\n");
    return 2;
  }
  ob_index_process_init(); /* start-up catch-up runs write through the indexer */
  /* block the stop signals before any thread starts: the workers inherit
   * the mask and only sigwait() below sees them */
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (ob_srv_start(&o, &srv, err) != OB_OK) {
    fprintf(stderr, "opsbook-serve: %s\n", err);
    return 1;
  }
  fprintf(stderr, "listening on %s\n", ob_srv_url(srv));
  fflush(stderr);
  while (sigwait(&stop, &sig) != 0)
    ;
  fprintf(stderr, "opsbook-serve: %s: finishing requests in flight\n",
          sig == SIGINT ? "SIGINT" : "SIGTERM");
  ob_srv_stop(srv, DRAIN_MS);
  return 0;
}
