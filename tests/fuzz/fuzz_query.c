/* fuzz_query - the query text pipeline of /api/search and /api/answer:
 * ob_query_check, ob_text_normalize (with the byte map snippets use),
 * ob_text_tokenize, ob_query_build and ob_snippet. The language resources
 * are the source tree's lang/ folder, loaded once.
 *
 * Input: the query, optionally followed by a NUL byte and the section text
 * to cut a snippet from (else a fixed handbook paragraph is used). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "search.h"
#include "text.h"

/* the buffer ob_query_build normalises a query into */
#ifdef OB_NFKC_GROWTH
#define QUERY_NORM_MAX (OB_NFKC_GROWTH * 4 * OB_QUERY_MAX_CHARS)
#else
#define QUERY_NORM_MAX (16 * OB_QUERY_MAX_CHARS)
#endif

static ob_text *T;

static const char SECTION[] =
    "IDC机房应保持恒定的温度和湿度,通常温度控制在22-24摄氏度,湿度40%-60%。"
    "空调故障时应立即启用备用空调,并通知值班工程师 <ops@example.com>; "
    "UPS & PDU 巡检每周一次。寬頻斷線時先檢查光貓指示燈 \"LOS\" 是否閃紅。";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  char err[OB_ERR_SIZE];
  (void)argc;
  (void)argv;
  if (ob_text_new(OB_FUZZ_SRC "/lang", &T, err) != OB_OK) {
    fprintf(stderr, "fuzz_query: %s\n", err);
    abort();
  }
  return 0;
}

struct tokctx {
  size_t norm_len;
  size_t count;
};

static int on_token(const ob_token *tok, void *vctx)
{
  struct tokctx *c = vctx;
  FUZZ_CHECK(tok->len > 0 && tok->len < OB_TOKEN_MAX, "token length %zu", tok->len);
  FUZZ_CHECK(tok->start <= tok->end && tok->end <= c->norm_len, "token %zu..%zu outside %zu",
             tok->start, tok->end, c->norm_len);
  FUZZ_CHECK(ob_utf8_valid(tok->s, tok->len), "token is not UTF-8");
  c->count++;
  return 0;
}

/* The snippet is inserted into the page as HTML: the only markup in it
 * may be balanced <mark> and </mark>. */
static void check_snippet(const char *s, size_t n)
{
  int open = 0;
  FUZZ_CHECK(ob_utf8_valid(s, n), "snippet is not UTF-8");
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '<') {
      if (n - i >= 6 && memcmp(s + i, "<mark>", 6) == 0) {
        FUZZ_CHECK(!open, "nested <mark>");
        open = 1;
        i += 5;
        continue;
      } else if (n - i >= 7 && memcmp(s + i, "</mark>", 7) == 0) {
        FUZZ_CHECK(open, "</mark> without <mark>");
        open = 0;
        i += 6;
        continue;
      } else {
        FUZZ_CHECK(0, "raw '<' in snippet at %zu", i);
      }
    }
    FUZZ_CHECK(s[i] != '>' && s[i] != '"' && s[i] != '\'', "unescaped %c in snippet", s[i]);
  }
  FUZZ_CHECK(!open, "unclosed <mark>");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char err[OB_ERR_SIZE];
  ob_status st;
  if (size > 64 * 1024)
    return 0;
  const uint8_t *nul = memchr(data, 0, size);
  size_t qn = nul ? (size_t)(nul - data) : size;
  char *q = malloc(qn ? qn : 1);
  memcpy(q, data, qn);
  const char *text = SECTION;
  size_t tn = sizeof SECTION - 1;
  char *own = NULL;
  if (nul) {
    tn = size - qn - 1;
    own = malloc(tn ? tn : 1);
    memcpy(own, nul + 1, tn);
    text = own;
  }

  /* the route checks first; the pipeline below is what the check lets in */
  fuzz_err_init(err);
  st = ob_query_check(q, qn, err);
  if (st != OB_OK) {
    FUZZ_CHECK(st == OB_EINPUT || st == OB_ETOOBIG, "check status %d", (int)st);
    FUZZ_CHECK(fuzz_err_ok(err), "check failed without a message");
    FUZZ_CHECK(fuzz_utf8(err), "check message is not UTF-8");
    goto out;
  }

  ob_buf norm, map;
  ob_buf_init(&norm, QUERY_NORM_MAX);
  ob_buf_init(&map, (size_t)-1);
  fuzz_err_init(err);
  st = ob_text_normalize(T, q, qn, &norm, &map, err);
  if (st == OB_OK) {
    FUZZ_CHECK(map.len == norm.len * sizeof(size_t), "map has %zu entries for %zu bytes",
               map.len / sizeof(size_t), norm.len);
    FUZZ_CHECK(ob_utf8_valid(norm.data ? norm.data : "", norm.len), "normalised not UTF-8");
    const size_t *m = (const size_t *)map.data;
    for (size_t i = 0; i < norm.len; i++)
      FUZZ_CHECK(m[i] < qn && (i == 0 || m[i] >= m[i - 1]), "map[%zu] = %zu (query %zu bytes)",
                 i, m[i], qn);
    struct tokctx tc = {norm.len, 0};
    st = ob_text_tokenize(T, norm.data ? norm.data : "", norm.len, on_token, &tc);
    FUZZ_CHECK(st == OB_OK, "tokenize status %d", (int)st);
  } else {
    fuzz_known_bug("normalize-err", fuzz_err_ok(err),
                   "ob_text_normalize failed (%s) without a message", ob_strerror(st));
    /* a checked query must normalise: NFKC grows U+FDFA to 18 characters
     * (3 -> 33 bytes) */
    fuzz_known_bug("nfkc-growth", st == OB_OK, "a checked query does not normalise: %s",
                   ob_strerror(st));
  }
  ob_buf_free(&norm);
  ob_buf_free(&map);

  ob_xquery *xq = ob_xquery_new();
  ob_strv hl = {NULL, 0};
  fuzz_err_init(err);
  st = ob_query_build(T, q, qn, NULL, xq, &hl, err);
  if (st != OB_OK) {
    /* the route sends this message to the client as the 400 text */
    fuzz_known_bug("normalize-err", fuzz_err_ok(err),
                   "ob_query_build failed (%s) without a message: the client gets stack bytes",
                   ob_strerror(st));
    fuzz_known_bug("nfkc-growth", 0, "a checked query does not build: %s", ob_strerror(st));
    ob_xquery_free(xq);
    ob_strv_clear(&hl);
    goto out;
  }
  for (size_t i = 0; i < hl.n; i++)
    FUZZ_CHECK(hl.v[i] && fuzz_utf8(hl.v[i]), "highlight term %zu", i);

  ob_buf snip;
  ob_buf_init(&snip, 64 * 1024);
  fuzz_err_init(err);
  st = ob_snippet(T, text, tn, &hl, 80, &snip, err);
  if (st == OB_OK)
    check_snippet(snip.data ? snip.data : "", snip.len);
  else if (!ob_utf8_valid(text, tn))
    FUZZ_CHECK(st == OB_EINPUT && fuzz_err_ok(err), "snippet of invalid text: %d", (int)st);
  else {
    fuzz_known_bug("normalize-err", fuzz_err_ok(err), "ob_snippet failed (%s) without a message",
                   ob_strerror(st));
    /* one failed snippet fails the whole search */
    fuzz_known_bug("nfkc-growth", 0, "no snippet from valid text: %s", ob_strerror(st));
  }
  ob_buf_free(&snip);
  ob_xquery_free(xq);
  ob_strv_clear(&hl);
out:
  free(q);
  free(own);
  return 0;
}
