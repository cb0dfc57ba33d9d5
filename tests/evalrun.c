/* evalrun: runs a query set (JSON Lines) against an index and writes the
 * run file the scorer (tests/quality/evaluate.py) reads: one line per
 * query, {"id","results":[{"text":...}]} in rank order.
 *
 *   evalrun --db DIR --queries Q.jsonl [--limit N] [--weights u,b,w,s,l,k1,b,perdoc,stop,fault]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "index.h"
#include "json.h"
#include "search.h"

int main(int argc, char **argv)
{
  const char *db = NULL, *queries = NULL, *lang = NULL;
  size_t limit = 10;
  ob_weights w = ob_weights_default;
  char err[OB_ERR_SIZE], path[4096];
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--db"))
      db = argv[i + 1];
    else if (!strcmp(argv[i], "--queries"))
      queries = argv[i + 1];
    else if (!strcmp(argv[i], "--lang"))
      lang = argv[i + 1];
    else if (!strcmp(argv[i], "--limit"))
      limit = (size_t)strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--weights")) {
      if (sscanf(argv[i + 1], "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%u,%d,%lf", &w.uni, &w.bi, &w.word,
                 &w.syn, &w.latin, &w.k1, &w.b, &w.per_doc, &w.stop, &w.fault) != 10) {
        fprintf(stderr, "evalrun: --weights needs 10 comma-separated numbers\n");
        return 2;
      }
    }
  }
  if (!db || !queries) {
    fprintf(stderr, "usage: evalrun --db DIR --queries Q.jsonl [--limit N] [--weights ...]\n");
    return 2;
  }
  ob_text *t = NULL;
  ob_xdb *x = NULL;
  if (ob_index_resolve(db, path, sizeof path, err) || ob_xdb_open(path, &x, err) ||
      ob_text_new(lang, &t, err)) {
    fprintf(stderr, "evalrun: %s\n", err);
    return 1;
  }
  FILE *f = fopen(queries, "r");
  if (!f) {
    perror(queries);
    return 1;
  }
  char line[8192];
  int rc = 0;
  while (fgets(line, sizeof line, f)) {
    json_error_t je;
    json_t *q = json_loads(line, 0, &je);
    if (!q)
      continue;
    const char *id = json_string_value(json_object_get(q, "id"));
    const char *qs = json_string_value(json_object_get(q, "q"));
    ob_search_opts o;
    memset(&o, 0, sizeof o);
    o.limit = limit;
    o.weights = &w;
    o.want_text = 1;
    ob_search_result r;
    ob_buf b;
    ob_jw jw;
    ob_buf_init(&b, (size_t)64 << 20);
    ob_jw_init(&jw, &b);
    ob_jw_obj(&jw);
    ob_jw_kstr(&jw, "id", id ? id : "");
    ob_jw_key(&jw, "results");
    ob_jw_arr(&jw);
    if (qs && ob_search_run(x, t, qs, strlen(qs), &o, &r, err) == OB_OK) {
      for (size_t i = 0; i < r.n; i++) {
        ob_jw_obj(&jw);
        ob_jw_kstr(&jw, "text", r.hits[i].text);
        ob_jw_kstr(&jw, "doc", r.hits[i].id);
        ob_jw_obj_end(&jw);
      }
      ob_search_result_free(&r);
    } else {
      fprintf(stderr, "evalrun: %s: %s\n", id ? id : "?", err);
      rc = 1;
    }
    ob_jw_arr_end(&jw);
    ob_jw_obj_end(&jw);
    if (ob_jw_status(&jw) == OB_OK)
      printf("%s\n", b.data);
    ob_buf_free(&b);
    json_decref(q);
  }
  fclose(f);
  ob_xdb_close(x);
  ob_text_free(t);
  return rc;
}
