/* opsbook-search: ranked answers in the terminal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "json.h"
#include "search.h"

static void usage(FILE *f)
{
  fputs("usage: opsbook-search --db DIR [--type T] [--limit N] [--json] [--lang DIR] QUERY\n"
        "  --type T   sop, phrase or fault\n"
        "  --limit N  1-50 results (default 10)\n"
        "  --json     print {\"query\",\"total\",\"results\":[...]}\n",
        f);
}

static void strip_marks(const char *s)
{
  /* terminal output: <mark> as brackets, entities decoded */
  static const struct { const char *from, *to; } rep[] = {
    {"<mark>", "【"}, {"</mark>", "】"}, {"&lt;", "<"}, {"&gt;", ">"},
    {"&amp;", "&"}, {"&quot;", "\""}, {"&#39;", "'"},
  };
  while (*s) {
    size_t k;
    for (k = 0; k < sizeof rep / sizeof rep[0]; k++) {
      size_t n = strlen(rep[k].from);
      if (!strncmp(s, rep[k].from, n)) {
        fputs(rep[k].to, stdout);
        s += n;
        break;
      }
    }
    if (k == sizeof rep / sizeof rep[0])
      putchar(*s++);
  }
}

int main(int argc, char **argv)
{
  const char *db = NULL, *lang = NULL, *query = NULL;
  ob_search_opts o;
  int json = 0, rc = 3;
  char err[OB_ERR_SIZE], path[4096];
  ob_text *t = NULL;
  ob_xdb *x = NULL;
  ob_search_result r = {0, 0, NULL, 0};
  memset(&o, 0, sizeof o);
  o.limit = 10;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--db") && i + 1 < argc)
      db = argv[++i];
    else if (!strcmp(a, "--lang") && i + 1 < argc)
      lang = argv[++i];
    else if (!strcmp(a, "--type") && i + 1 < argc)
      o.type = argv[++i];
    else if (!strcmp(a, "--limit") && i + 1 < argc) {
      char *end;
      errno = 0;
      long v = strtol(argv[++i], &end, 10);
      if (errno || *end || v < 1 || v > OB_LIMIT_MAX) {
        fprintf(stderr, "opsbook-search: --limit must be 1-%d\n", OB_LIMIT_MAX);
        return 2;
      }
      o.limit = (size_t)v;
    } else if (!strcmp(a, "--json"))
      json = 1;
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (a[0] == '-' && a[1] == '-') {
      fprintf(stderr, "opsbook-search: unknown or incomplete option '%s'\n", a);
      return 2;
    } else if (!query)
      query = a;
    else {
      fprintf(stderr, "opsbook-search: quote the query as one argument\n");
      return 2;
    }
  }
  if (!db || !query) {
    usage(stderr);
    return 2;
  }
  if (o.type && strcmp(o.type, "sop") && strcmp(o.type, "phrase") && strcmp(o.type, "fault")) {
    fprintf(stderr, "opsbook-search: --type must be sop, phrase or fault\n");
    return 2;
  }
  if (ob_query_check(query, strlen(query), err) != OB_OK) {
    fprintf(stderr, "opsbook-search: %s\n", err);
    return 2;
  }
  if (ob_index_resolve(db, path, sizeof path, err) || ob_xdb_open(path, &x, err) ||
      ob_text_new(lang, &t, err) || ob_search_run(x, t, query, strlen(query), &o, &r, err)) {
    fprintf(stderr, "opsbook-search: %s\n", err);
    goto out;
  }
  if (json) {
    ob_buf b;
    ob_jw w;
    ob_buf_init(&b, (size_t)64 << 20);
    ob_jw_init(&w, &b);
    ob_jw_obj(&w);
    ob_jw_kstr(&w, "query", query);
    ob_jw_kint(&w, "total", (int64_t)r.total);
    ob_jw_key(&w, "results");
    ob_jw_arr(&w);
    for (size_t i = 0; i < r.n; i++) {
      ob_jw_obj(&w);
      ob_search_hit_fields(&w, &r.hits[i]);
      ob_jw_obj_end(&w);
    }
    ob_jw_arr_end(&w);
    ob_jw_obj_end(&w);
    if (ob_jw_status(&w) == OB_OK)
      printf("%s\n", b.data);
    ob_buf_free(&b);
  } else {
    if (r.n == 0)
      printf("没有找到结果。可以换个说法,或只输入关键词(如「断网」「机房温度」)。\n");
    for (size_t i = 0; i < r.n; i++) {
      const struct ob_hit *h = &r.hits[i];
      printf("%zu. [%s] %s%s%s  (%s, %.2f)\n   ", i + 1, h->type, h->title,
             h->section ? " › " : "", h->section ? h->section : "", h->path, h->score);
      strip_marks(h->snippet);
      printf("\n");
    }
  }
  rc = 0;
out:
  ob_search_result_free(&r);
  ob_xdb_close(x);
  ob_text_free(t);
  return rc;
}
