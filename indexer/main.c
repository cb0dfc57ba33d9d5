/* opsbook-index: handbook folder -> Xapian index. Arguments and reporting
 * only; the work is ob_index_run() in core/index.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "text.h"

static void usage(FILE *f)
{
  fputs("usage: opsbook-index --handbook DIR --db DIR [--rebuild] [--lang DIR] [--writers N]\n"
        "                     [--verbose]\n"
        "\n"
        "Indexes every Markdown file under --handbook into the index folder --db.\n"
        "Unchanged files are skipped, changed ones replaced, deleted ones removed,\n"
        "all in one atomic commit.\n"
        "  --rebuild   build a fresh index beside the old one and swap it in\n"
        "  --lang DIR  language resources (ops.dic, synonyms.txt)\n"
        "  --writers N writer threads of a fresh build (first run or --rebuild),\n"
        "              1 to 8; default 2 from 1,000 files on a machine of two\n"
        "              cores or more, else 1\n"
        "Exit status: 0 ok, 1 some files were rejected, 2 usage, 3 failure.\n",
        f);
}

int main(int argc, char **argv)
{
  ob_index_opts o = {.log = stderr, .lang_check = 1};
  const char *lang = NULL;
  char err[OB_ERR_SIZE];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--handbook") && i + 1 < argc)
      o.handbook = argv[++i];
    else if (!strcmp(a, "--db") && i + 1 < argc)
      o.db = argv[++i];
    else if (!strcmp(a, "--lang") && i + 1 < argc)
      lang = argv[++i];
    else if (!strcmp(a, "--rebuild"))
      o.rebuild = 1;
    else if (!strcmp(a, "--verbose"))
      o.verbose = 1;
    else if (!strcmp(a, "--writers") && i + 1 < argc) {
      char *end;
      unsigned long n = strtoul(argv[++i], &end, 10);
      if (*end || n < 1 || n > OB_WRITERS_MAX) {
        fprintf(stderr, "opsbook-index: --writers takes 1 to %d\n", OB_WRITERS_MAX);
        return 2;
      }
      o.writers = (unsigned)n;
    }
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "opsbook-index: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (!o.handbook || !o.db) {
    usage(stderr);
    return 2;
  }
  o.lang = lang; /* loaded by the run, and only when some file changed */
  ob_index_process_init();
  ob_index_report r;
  ob_status st = ob_index_run(NULL, &o, &r, err);
  if (st != OB_OK) {
    fprintf(stderr, "opsbook-index: %s\n", err);
    return 3;
  }
  fprintf(stderr,
          "opsbook-index: %zu files: %zu added, %zu updated, %zu unchanged, %zu deleted, "
          "%zu rejected (%zu entries written)\n",
          r.scanned, r.added, r.updated, r.unchanged, r.deleted, r.rejected, r.entries);
  return r.rejected ? 1 : 0;
}
