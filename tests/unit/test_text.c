/* test_text - the text pipeline (core/text.h), with the language
 * resources of the source tree (ob_text_new(NULL, ...) uses OB_LANG_DIR). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "text.h"
#include "utf8.h"

static ob_text *T;

/* Normalises s; returns the text (caller frees) or NULL on error. */
static char *norm(const char *s, size_t n, ob_buf *map, ob_status *stp, char *err)
{
  ob_buf out;
  ob_buf_init(&out, 1 << 20);
  ob_status st = ob_text_normalize(T, s, n, &out, map, err);
  if (stp)
    *stp = st;
  if (st) {
    ob_buf_free(&out);
    return NULL;
  }
  return ob_buf_detach(&out, NULL);
}

static void unescape(char *s)
{
  char *o = s;
  for (char *p = s; *p; p++) {
    if (p[0] == '\\' && (p[1] == 's' || p[1] == 't')) {
      *o++ = p[1] == 's' ? ' ' : '\t';
      p++;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
}

static char *trim(char *s)
{
  while (*s == ' ')
    s++;
  char *e = s + strlen(s);
  while (e > s && e[-1] == ' ')
    *--e = '\0';
  return s;
}

static void test_normalize_table(void)
{
  char *data = ob_t_slurp("normalize.test", NULL);
  int cases = 0;
  for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '#')
      continue;
    char *b1 = strchr(line, '|');
    char *b2 = b1 ? strchr(b1 + 1, '|') : NULL;
    if (!OK(b2 != NULL, "normalize.test: malformed line '%s'", line))
      continue;
    *b1 = *b2 = '\0';
    char *in = trim(line), *want = trim(b1 + 1), *what = trim(b2 + 1);
    unescape(in);
    unescape(want);
    char err[OB_ERR_SIZE] = "";
    char *got = norm(in, strlen(in), NULL, NULL, err);
    EQ_STR(got, want, "normalize '%s' (%s) %s", in, what, err);
    free(got);
    cases++;
  }
  OK(cases >= 15, "normalize.test has its cases (%d)", cases);
  free(data);

  /* Phrase-level Taiwan -> mainland wording (寬頻 -> 宽带) would need
   * OpenCC tw2sp; text.h documents t2s, which maps characters only. The
   * word 断线 still comes out, so the query still meets the handbook. */
  char err[OB_ERR_SIZE];
  char *got = norm("寬頻斷線", strlen("寬頻斷線"), NULL, NULL, err);
  OK(got && strstr(got, "断线") && !strstr(got, "寬") && !strstr(got, "斷"),
     "traditional 寬頻斷線 comes out simplified: %s", got ? got : "(null)");
  free(got);
}

static void test_normalize_errors(void)
{
  static const struct {
    const char *s;
    size_t n;
  } bad[] = {
      {"\xFF", 1},     {"ab\xC0\x80", 4},       {"\xED\xA0\x80", 3},
      {"\xE4\xB8", 2}, {"\xF4\x90\x80\x80", 4}, {"a\0b", 3},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ob_status st;
    char err[OB_ERR_SIZE] = "";
    ob_buf out;
    ob_buf_init(&out, 100);
    st = ob_text_normalize(T, bad[i].s, bad[i].n, &out, NULL, err);
    EQ_INT(st, OB_EINPUT, "invalid UTF-8 case %zu is OB_EINPUT", i);
    OK(strstr(err, "invalid UTF-8") != NULL, "message: %s", err);
    ob_buf_free(&out);
  }
  char err[OB_ERR_SIZE];
  ob_status st;
  char *got = norm("", 0, NULL, &st, err);
  EQ_INT(st, OB_OK, "empty input");
  EQ_STR(got, "", "empty output");
  free(got);

  ob_buf small;
  ob_buf_init(&small, 4);
  EQ_INT(ob_text_normalize(T, "abcdef", 6, &small, NULL, err), OB_ETOOBIG,
         "output past the buffer's max");
  ob_buf_free(&small);
}

/* map[i] is the offset of the source byte normalised byte i came from */
static void test_map(void)
{
  static const struct {
    const char *in;
    const char *out;
    size_t map[16];
  } cases[] = {
      {"Ａ中b", "a中b", {0, 3, 3, 3, 6}},   {"ﬁx", "fix", {0, 0, 3}},
      {"機房", "机房", {0, 0, 0, 3, 3, 3}}, {"ｕｐｓ!", "ups!", {0, 3, 6, 9}},
      {"a⽹b", "a网b", {0, 1, 1, 1, 4}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ob_buf map;
    ob_buf_init(&map, 1 << 20);
    char err[OB_ERR_SIZE] = "";
    char *got = norm(cases[i].in, strlen(cases[i].in), &map, NULL, err);
    EQ_STR(got, cases[i].out, "map case %zu text", i);
    size_t n = got ? strlen(got) : 0;
    EQ_INT(map.len, n * sizeof(size_t), "map has one entry per normalised byte (%zu)", i);
    if (got && map.len == n * sizeof(size_t)) {
      const size_t *m = (const size_t *)map.data;
      int same = 1;
      for (size_t k = 0; k < n; k++)
        if (m[k] != cases[i].map[k])
          same = 0;
      OK(same, "map case %zu offsets", i);
    }
    free(got);
    ob_buf_free(&map);
  }
  /* a long mixed text: the map is monotonic and inside the source */
  const char *s = "ＵＰＳ不间断电源(UPS)在機房里,⽹络设备 Straße ﬁ 123";
  ob_buf map;
  ob_buf_init(&map, 1 << 20);
  char err[OB_ERR_SIZE];
  char *got = norm(s, strlen(s), &map, NULL, err);
  size_t n = got ? strlen(got) : 0;
  const size_t *m = (const size_t *)map.data;
  int mono = map.len == n * sizeof(size_t);
  for (size_t k = 0; mono && k < n; k++)
    if (m[k] >= strlen(s) || (k && m[k] < m[k - 1]))
      mono = 0;
  OK(mono, "map of a mixed text is monotonic and in range");
  free(got);
  ob_buf_free(&map);
}

/* ---- tokens ---- */

struct toks {
  char line[64][80];
  size_t n;
  int stop_after;
};

static int collect(const ob_token *tok, void *vctx)
{
  struct toks *c = vctx;
  static const char *kind[] = {"uni", "bi", "word", "latin"};
  if (c->n < 64)
    snprintf(c->line[c->n], sizeof c->line[0], "%s %.*s %zu-%zu", kind[tok->kind], (int)tok->len,
             tok->s, tok->start, tok->end);
  c->n++;
  return c->stop_after && (int)c->n >= c->stop_after;
}

static int has(const struct toks *c, const char *line)
{
  for (size_t i = 0; i < c->n && i < 64; i++)
    if (strcmp(c->line[i], line) == 0)
      return 1;
  return 0;
}

static void tokenize(const char *text, struct toks *c)
{
  char err[OB_ERR_SIZE];
  char *n = norm(text, strlen(text), NULL, NULL, err);
  c->n = 0;
  if (!n)
    return;
  if (ob_text_tokenize(T, n, strlen(n), collect, c) != OB_OK)
    c->n = 0;
  free(n);
}

static void test_tokens(void)
{
  struct toks c = {.stop_after = 0};
  tokenize("ABC光猫坏了def 123", &c);
  static const char *want[] = {
      "latin abc 0-3", "uni 光 3-6",   "uni 猫 6-9",   "bi 光猫 3-9",
      "uni 坏 9-12",   "bi 猫坏 6-12", "uni 了 12-15", "bi 坏了 9-15",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    EQ_STR(i < c.n ? c.line[i] : NULL, want[i], "token %zu of ABC光猫坏了def 123", i);
  OK(has(&c, "word 光猫 3-9"), "friso word 光猫 from the ops lexicon");
  OK(has(&c, "latin def 15-18") && has(&c, "latin 123 19-22"), "Latin words after CJK");
  OK(!has(&c, "word 猫坏 6-12"), "n-grams are not words");

  tokenize("不间断电源UPS坏了", &c);
  OK(has(&c, "word 不间断电源 0-15"), "lexicon word of five characters");
  OK(has(&c, "latin ups 15-18"), "Latin run between CJK runs");
  OK(has(&c, "bi 断电 6-12"), "every bigram of the run");

  tokenize("ISO17799标准", &c);
  OK(has(&c, "latin iso17799 0-8") && has(&c, "latin iso 0-3") && has(&c, "latin 17799 3-8"),
     "a name and a number: the run and its parts");
  tokenize("24h值班 raid5", &c);
  OK(has(&c, "latin 24h 0-3") && has(&c, "latin 24 0-2") && has(&c, "latin h 2-3") &&
         has(&c, "latin raid5 10-15") && has(&c, "latin raid 10-14") && has(&c, "latin 5 14-15"),
     "a number and a unit, a name and a number: the run and its parts");
  tokenize("zs00001q a1b2", &c);
  EQ_INT(c.n, 2, "runs that change between letters and digits more than once stay whole");
  tokenize("raid 2024", &c);
  EQ_INT(c.n, 2, "a run of one kind has no parts");

  tokenize("e01 光猫、机顶盒和路由器", &c);
  OK(has(&c, "word 机顶盒 13-22") && has(&c, "word 路由器 25-34"), "lexicon words");
  OK(!has(&c, "bi 猫、 7-13") && !has(&c, "bi 猫机 7-16"), "no bigram across punctuation");

  tokenize("断", &c);
  EQ_INT(c.n, 1, "one character: one unigram, no words");
  tokenize("", &c);
  EQ_INT(c.n, 0, "empty text: no tokens");
  tokenize("，。!?  -- ", &c);
  EQ_INT(c.n, 0, "punctuation only: no tokens");
  tokenize("カタカナ", &c);
  OK(has(&c, "uni カ 0-3") && has(&c, "bi カタ 0-6"), "kana are n-grammed");

  c.stop_after = 2;
  tokenize("机房温度很高", &c);
  EQ_INT(c.n, 2, "a non-zero return from the callback stops tokenising");
  c.stop_after = 0;
}

struct one {
  size_t n, len, start, end;
  int valid;
};

static int record(const ob_token *tok, void *vctx)
{
  struct one *o = vctx;
  o->n++;
  o->len = tok->len;
  o->start = tok->start;
  o->end = tok->end;
  o->valid = tok->kind == OB_TOK_LATIN && ob_utf8_valid(tok->s, tok->len);
  return 0;
}

/* A 300-character Latin run: one token, cut below OB_TOKEN_MAX bytes on a
 * character boundary, its offsets still covering the whole run. */
static void test_long_latin(void)
{
  static const struct {
    const char *ch;
    size_t maxlen;
  } runs[] = {
      {"a", OB_TOKEN_MAX - 1}, {"é", OB_TOKEN_MAX - 2},  {"aé", OB_TOKEN_MAX - 1},
      {"ж", OB_TOKEN_MAX - 2}, {"Ａ", OB_TOKEN_MAX - 1}, {"ǆ", OB_TOKEN_MAX - 2},
  };
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
    ob_buf in;
    ob_buf_init(&in, 1 << 16);
    for (int k = 0; k < 300; k++)
      if (ob_buf_puts(&in, runs[i].ch))
        exit(2);
    char err[OB_ERR_SIZE] = "";
    char *n = norm(in.data, in.len, NULL, NULL, err);
    struct one o = {0, 0, 0, 0, 0};
    if (n && ob_text_tokenize(T, n, strlen(n), record, &o) != OB_OK)
      o.n = 0;
    EQ_INT(o.n, 1, "300 x '%s': one token", runs[i].ch);
    OK(o.len < OB_TOKEN_MAX && o.len >= runs[i].maxlen - 1,
       "300 x '%s': truncated below OB_TOKEN_MAX (len %zu)", runs[i].ch, o.len);
    OK(o.valid, "300 x '%s': cut on a character boundary", runs[i].ch);
    EQ_INT(o.start, 0, "300 x '%s': start", runs[i].ch);
    EQ_INT(o.end, n ? strlen(n) : 0, "300 x '%s': end is the end of the run", runs[i].ch);
    free(n);
    ob_buf_free(&in);
  }
}

static void test_synonyms(void)
{
  const char *const *g = ob_text_synonyms(T, "断网", strlen("断网"));
  if (OK(g != NULL, "断网 has a synonym group")) {
    int self = 0, other = 0;
    for (size_t i = 0; g[i]; i++) {
      self |= !strcmp(g[i], "断网");
      other |= !strcmp(g[i], "掉线");
    }
    OK(self && other, "group of 断网 holds itself and 掉线");
  }
  g = ob_text_synonyms(T, "ups", 3);
  int ok = 0;
  for (size_t i = 0; g && g[i]; i++)
    ok |= !strcmp(g[i], "不间断电源");
  OK(ok, "ups <-> 不间断电源 (resource words are normalised: lower case)");
  OK(ob_text_synonyms(T, "UPS", 3) == NULL, "lookup takes normalised words");
  OK(ob_text_synonyms(T, "idc", 3) == ob_text_synonyms(T, "机房", strlen("机房")),
     "机房 and idc share one group");
  OK(ob_text_synonyms(T, "不存在的词", strlen("不存在的词")) == NULL, "unknown word: NULL");
  OK(ob_text_synonyms(T, "断网x", strlen("断网")) != NULL, "length is respected");
  OK(ob_text_synonyms(T, "", 0) == NULL, "empty word: NULL");
}

static void test_stamp(void)
{
  char a[17] = "", b[17] = "", err[OB_ERR_SIZE] = "";
  EQ_INT(ob_text_lang_stamp(NULL, a, err), OB_OK, "stamp of the default lang dir");
  OK(strlen(a) == 16 && strspn(a, "0123456789abcdef") == 16, "16 hex digits: %s", a);
  OK(!strcmp(a, ob_text_stamp(T)), "a loaded text carries the same stamp");
  EQ_INT(ob_text_lang_stamp(NULL, b, err), OB_OK, "again");
  OK(!strcmp(a, b), "the stamp is stable");
  OK(ob_text_lang_stamp("/nonexistent-lang-dir", b, err) != OB_OK, "missing folder: an error");
  OK(strstr(err, "/nonexistent-lang-dir/ops.dic") != NULL, "naming the file: %s", err);
}

static void test_new(void)
{
  ob_text *t = (ob_text *)1;
  char err[OB_ERR_SIZE] = "";
  EQ_INT(ob_text_new("/nonexistent-lang-dir", &t, err), OB_EIO, "missing lang dir");
  OK(t == NULL, "no handle on failure");
  OK(strstr(err, "/nonexistent-lang-dir/") != NULL, "message names the file: %s", err);
  ob_text_free(NULL);
}

static int put_file(const char *dir, const char *name, const char *content)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f)
    return 0;
  fputs(content, f);
  return fclose(f) == 0;
}

/* A broken resource file is an error naming file and line, never a
 * silently different lexicon: an invalid word, a line longer than the
 * reader's limit (once read as two lines), a NUL byte. */
static void test_bad_lang(void)
{
  char dir[] = "/tmp/ob-lang-XXXXXX", err[OB_ERR_SIZE] = "", cmd[64];
  ob_text *t = NULL;
  if (!OK(mkdtemp(dir) != NULL, "mkdtemp"))
    return;
  OK(put_file(dir, "ops.dic", "光猫\n") && put_file(dir, "stopwords.txt", "的\n") &&
         put_file(dir, "synonyms.txt", "# groups\n宽带 网络\n"),
     "write a small lang folder");
  EQ_INT(ob_text_new(dir, &t, err), OB_OK, "the small folder loads: %s", err);
  ob_text_free(t);
  t = NULL;

  put_file(dir, "synonyms.txt", "宽带 网络\n断网 \xff\xfe\n");
  EQ_INT(ob_text_new(dir, &t, err), OB_EINPUT, "invalid UTF-8 in a group");
  OK(strstr(err, "synonyms.txt:2: invalid word") != NULL, "file and line: %s", err);

  ob_buf long_line;
  ob_buf_init(&long_line, (size_t)-1);
  OK(ob_buf_puts(&long_line, "宽带 网络\n断网") == OB_OK, "buffer");
  int grown = 1;
  for (int i = 0; i < 1500; i++) /* 1,500 x 7 bytes: past the 4,096-byte line limit */
    grown &= ob_buf_puts(&long_line, " 掉线") == OB_OK;
  grown &= ob_buf_putc(&long_line, '\n') == OB_OK;
  OK(grown, "long line built");
  put_file(dir, "synonyms.txt", long_line.data);
  EQ_INT(ob_text_new(dir, &t, err), OB_EINPUT, "an overlong line");
  OK(strstr(err, "synonyms.txt:2: line longer than") != NULL, "names file and line: %s", err);
  OK(t == NULL, "no handle on failure");
  put_file(dir, "synonyms.txt", "宽带 网络\n");
  put_file(dir, "ops.dic", long_line.data + strlen("宽带 网络\n"));
  EQ_INT(ob_text_new(dir, &t, err), OB_EINPUT, "an overlong lexicon line");
  OK(strstr(err, "ops.dic:1: line longer than") != NULL, "names file and line: %s", err);
  ob_buf_free(&long_line);
  /* a NUL byte would cut the word short where C strings end */
  put_file(dir, "ops.dic", "光猫\n");
  char path[512];
  snprintf(path, sizeof path, "%s/stopwords.txt", dir);
  FILE *f = fopen(path, "wb");
  OK(f && fwrite("的\n吗\0呢\n", 1, 11, f) == 11 && fclose(f) == 0, "write a NUL byte");
  EQ_INT(ob_text_new(dir, &t, err), OB_EINPUT, "a NUL byte in a line");
  OK(strstr(err, "stopwords.txt:2: NUL byte") != NULL, "names file and line: %s", err);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  OK(system(cmd) == 0, "clean up");
}

int main(void)
{
  char err[OB_ERR_SIZE] = "";
  if (ob_text_new(NULL, &T, err) != OB_OK) {
    fprintf(stderr, "FAIL ob_text_new: %s\n", err);
    return 1;
  }
  test_bad_lang();
  test_normalize_table();
  test_normalize_errors();
  test_map();
  test_tokens();
  test_long_latin();
  test_synonyms();
  test_stamp();
  test_new();
  ob_text_free(T);
  return ob_t_done();
}
