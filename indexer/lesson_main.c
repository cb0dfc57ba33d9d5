/* opsbook-lesson: appends a lesson learned to a handbook document from a
 * terminal, or adds a reviewer token. Arguments and reporting only; the
 * work is ob_lesson_append() (core/lesson.c) and ob_auth_new_token()
 * (core/auth.c), the same code the server's POST routes use. */
#define _POSIX_C_SOURCE 200809L
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "lesson.h"
#include "text.h"

static void usage(FILE *f)
{
  fputs("usage: opsbook-lesson --handbook DIR --db DIR --doc ID --author NAME [--file F]\n"
        "                      [--date YYYY-MM-DD] [--incident ID] [--audit FILE]\n"
        "                      [--tokens FILE] [--reviewer NAME] [--lang DIR]\n"
        "       opsbook-lesson --tokens FILE --new-token NAME\n"
        "\n"
        "Appends a lesson learned (Markdown, at most 16 KiB, from --file F or standard\n"
        "input) under the document's '## 经验教训' as '### DATE AUTHOR', writes the file\n"
        "atomically and re-indexes the document, like POST /api/docs/{id}/lessons.\n"
        "  --date        the lesson's date (default: today)\n"
        "  --incident    incident id shown in the heading ('· 事件 ID')\n"
        "  --audit FILE  audit log (JSON Lines); default: audit.jsonl next to --tokens;\n"
        "                without either no audit line is written\n"
        "  --reviewer    name in the audit log (default: cli:$USER)\n"
        "  --lang DIR    language resources (ops.dic, synonyms.txt)\n"
        "--new-token NAME adds reviewer NAME to the tokens file (created 0600) and\n"
        "prints the new token, alone, on standard output; only its SHA-256 is stored.\n"
        "Exit status: 0 ok, 1 input rejected (bad text, unknown document, name taken),\n"
        "2 usage, 3 failure (index missing, another writer busy, I/O).\n",
        f);
}

static int exit_code(ob_status st)
{
  switch (st) {
  case OB_OK:
    return 0;
  case OB_EINPUT:
  case OB_ETOOBIG:
  case OB_ENOTFOUND:
  case OB_EEXIST:
    return 1;
  default:
    return 3;
  }
}

int main(int argc, char **argv)
{
  const char *handbook = NULL, *db = NULL, *doc = NULL, *file = NULL, *tokens = NULL;
  const char *audit = NULL, *reviewer = NULL, *lang = NULL, *new_token = NULL;
  ob_lesson l;
  ob_lesson_result r;
  ob_text *t = NULL;
  ob_buf text;
  char err[OB_ERR_SIZE], who[OB_REVIEWER_MAX + 8];
  char *audit_path = NULL;
  int rc = 3;
  memset(&l, 0, sizeof l);
  memset(&r, 0, sizeof r);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **dst = !strcmp(a, "--handbook")    ? &handbook
                       : !strcmp(a, "--db")        ? &db
                       : !strcmp(a, "--doc")       ? &doc
                       : !strcmp(a, "--author")    ? &l.author
                       : !strcmp(a, "--file")      ? &file
                       : !strcmp(a, "--date")      ? &l.date
                       : !strcmp(a, "--incident")  ? &l.incident
                       : !strcmp(a, "--tokens")    ? &tokens
                       : !strcmp(a, "--audit")     ? &audit
                       : !strcmp(a, "--reviewer")  ? &reviewer
                       : !strcmp(a, "--lang")      ? &lang
                       : !strcmp(a, "--new-token") ? &new_token
                                                   : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (dst && i + 1 < argc) {
      *dst = argv[++i];
    } else {
      fprintf(stderr, "opsbook-lesson: unknown or incomplete option '%s' (see --help)\n", a);
      return 2;
    }
  }

  if (new_token) {
    char token[OB_TOKEN_HEX];
    if (!tokens) {
      fprintf(stderr, "opsbook-lesson: --new-token needs --tokens FILE\n");
      return 2;
    }
    ob_status st = ob_auth_new_token(tokens, new_token, token, err);
    if (st) {
      fprintf(stderr, "opsbook-lesson: %s\n", err);
      return exit_code(st);
    }
    printf("%s\n", token);
    fflush(stdout);
    fprintf(stderr, "opsbook-lesson: added reviewer '%s' to %s; the token is shown once\n",
            new_token, tokens);
    return 0;
  }
  if (!handbook || !db || !doc || !l.author) {
    fprintf(stderr, "opsbook-lesson: --handbook, --db, --doc and --author are required "
                    "(see --help)\n");
    return 2;
  }

  ob_buf_init(&text, OB_LESSON_TEXT_MAX);
  if (file) {
    ob_status st = ob_buf_read_file(&text, file, err);
    if (st) {
      fprintf(stderr, "opsbook-lesson: %s\n", err);
      rc = st == OB_ETOOBIG ? 1 : 3;
      goto out;
    }
  } else {
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
      if (ob_buf_append(&text, chunk, n) != OB_OK) {
        fprintf(stderr, "opsbook-lesson: the lesson is longer than %d KiB\n",
                OB_LESSON_TEXT_MAX / 1024);
        rc = 1;
        goto out;
      }
  }
  l.text = text.data ? text.data : "";
  l.text_len = text.len;

  if (!reviewer) {
    const char *user = getenv("USER");
    struct passwd *pw = user && *user ? NULL : getpwuid(getuid());
    snprintf(who, sizeof who, "cli:%s", user && *user ? user : pw ? pw->pw_name : "unknown");
    reviewer = who;
  }
  if (!audit && tokens)
    audit = audit_path = ob_audit_default_path(tokens);
  if (ob_text_new(lang, &t, err) != OB_OK) {
    fprintf(stderr, "opsbook-lesson: %s\n", err);
    goto out;
  }
  ob_write_env e = {t, handbook, db, audit, reviewer, 0};
  ob_index_report rep;
  /* every writer first catches up with files written but not indexed
   * (a writer that died before its commit); a busy writer does it itself */
  ob_status st = ob_lesson_recover(&e, stderr, &rep, err);
  if (st && st != OB_ELOCKED) {
    fprintf(stderr, "opsbook-lesson: %s\n", err);
    rc = exit_code(st);
    goto out;
  }
  st = ob_lesson_append(&e, doc, &l, &r, err);
  if (st) {
    fprintf(stderr, "opsbook-lesson: %s: %s\n", doc, err);
    rc = exit_code(st);
    goto out;
  }
  fprintf(stderr, "opsbook-lesson: added '%s' to %s (%s#%s, %zu bytes)\n", r.heading, r.doc, r.path,
          r.anchor, r.bytes);
  rc = 0;
out:
  ob_lesson_result_clear(&r);
  ob_text_free(t);
  ob_buf_free(&text);
  free(audit_path);
  return rc;
}
