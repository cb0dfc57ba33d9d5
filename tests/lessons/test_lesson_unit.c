/* test_lesson_unit - core/auth.c (SHA-256, tokens file), core/audit.c and
 * the pure parts of core/lesson.c (Markdown checks, composing). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "doc.h"
#include "lesson.h"

#include "harness.h"

static char dir[64];

static void put(const char *name, const char *text)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
}

static void test_sha256(void)
{
  char hex[OB_SHA256_HEX];
  ob_sha256_hex("", 0, hex);
  EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 ''");
  ob_sha256_hex("abc", 3, hex);
  EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 abc");
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  ob_sha256_hex(m, strlen(m), hex);
  EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
         "sha256 two blocks");
}

static void test_names(void)
{
  OK(ob_auth_name_valid("alice"), "alice");
  OK(ob_auth_name_valid("审核员-王"), "CJK name");
  OK(!ob_auth_name_valid(""), "empty");
  OK(!ob_auth_name_valid("a b"), "space");
  OK(!ob_auth_name_valid("a\tb"), "tab");
  OK(!ob_auth_name_valid("#x"), "leading #");
  OK(!ob_auth_name_valid("\xff"), "invalid UTF-8");
  char long_name[80];
  memset(long_name, 'a', 65);
  long_name[65] = '\0';
  OK(!ob_auth_name_valid(long_name), "65 bytes");
  long_name[64] = '\0';
  OK(ob_auth_name_valid(long_name), "64 bytes");
}

static void test_tokens(void)
{
  char path[128], err[OB_ERR_SIZE], tok[OB_TOKEN_HEX], tok2[OB_TOKEN_HEX];
  char name[OB_REVIEWER_MAX + 1];
  size_t n = 99;
  struct stat sb;
  snprintf(path, sizeof path, "%s/tokens", dir);
  EQ_INT(ob_auth_load(path, &n, err), OB_EIO, "missing file");
  EQ_INT(ob_auth_new_token(path, "alice", tok, err), OB_OK, "new token: %s", err);
  EQ_INT(strlen(tok), 64, "64 hex digits");
  OK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "created 0600");
  EQ_INT(ob_auth_new_token(path, "bob", tok2, err), OB_OK, "second token");
  OK(strcmp(tok, tok2) != 0, "tokens differ");
  EQ_INT(ob_auth_new_token(path, "alice", tok2, err), OB_EINPUT, "duplicate name");
  EQ_INT(ob_auth_new_token(path, "a b", tok2, err), OB_EINPUT, "bad name");
  EQ_INT(ob_auth_load(path, &n, err), OB_OK, "load");
  EQ_INT(n, 2, "two reviewers");
  EQ_INT(ob_auth_check(path, tok, strlen(tok), name, err), OB_OK, "alice's token");
  EQ_STR(name, "alice", "reviewer name");
  EQ_INT(ob_auth_check(path, tok2, 0, name, err), OB_EAUTH, "empty token");
  tok[0] = tok[0] == 'a' ? 'b' : 'a';
  EQ_INT(ob_auth_check(path, tok, strlen(tok), name, err), OB_EAUTH, "wrong token");
  EQ_STR(name, "", "no name on failure");

  char h[OB_SHA256_HEX], line[256];
  ob_sha256_hex("secret", 6, h);
  for (char *p = h; *p; p++)
    if (*p >= 'a' && *p <= 'f')
      *p = (char)(*p - 32); /* upper-case hex is accepted */
  snprintf(line, sizeof line, "# reviewers\n\n  carol\t%s  \r\n", h);
  put("tokens2", line);
  snprintf(path, sizeof path, "%s/tokens2", dir);
  EQ_INT(ob_auth_check(path, "secret", 6, name, err), OB_OK, "comments, CRLF, tabs, upper hex");
  EQ_STR(name, "carol", "carol");
  put("tokens3", "dave 1234\n");
  snprintf(path, sizeof path, "%s/tokens3", dir);
  EQ_INT(ob_auth_load(path, &n, err), OB_EINPUT, "short hash");
  OK(strstr(err, "tokens3:1:") != NULL, "file:line in the message: %s", err);
  snprintf(line, sizeof line, "dave %s extra\n", h);
  put("tokens3", line);
  EQ_INT(ob_auth_load(path, &n, err), OB_EINPUT, "extra field");
}

static void test_audit(void)
{
  char path[128], err[OB_ERR_SIZE], hex[OB_SHA256_HEX];
  int fd;
  snprintf(path, sizeof path, "%s/audit.jsonl", dir);
  EQ_INT(ob_audit_open(path, &fd, err), OB_OK, "open: %s", err);
  ob_audit_rec r = {"alice", "lesson", "doc-1", "fault/doc-1.md", "2024-01-01 \"张三\"", "正文", 6};
  EQ_INT(ob_audit_write(fd, &r, err), OB_OK, "write");
  r.heading = NULL;
  EQ_INT(ob_audit_write(fd, &r, err), OB_OK, "write again");
  ob_audit_close(fd);
  FILE *f = fopen(path, "r");
  char l1[1024], l2[1024];
  OK(f && fgets(l1, sizeof l1, f) && fgets(l2, sizeof l2, f), "two lines");
  if (f)
    fclose(f);
  ob_sha256_hex("正文", 6, hex);
  OK(strstr(l1, hex) && strstr(l1, "\"size\":6") && strstr(l1, "\"reviewer\":\"alice\""),
     "fields: %s", l1);
  OK(strstr(l1, "\\\"张三\\\"") != NULL, "escaped heading: %s", l1);
  OK(!strstr(l2, "heading"), "no heading when NULL");
  char *p = ob_audit_default_path("/etc/opsbook/tokens");
  EQ_STR(p, "/etc/opsbook/audit.jsonl", "default next to the tokens");
  free(p);
  p = ob_audit_default_path("tokens");
  EQ_STR(p, "audit.jsonl", "default in the working folder");
  free(p);
}

static ob_status md(const char *s, int min_level, ob_buf *out)
{
  char err[OB_ERR_SIZE];
  return ob_lesson_check_markdown(s, strlen(s), 64, min_level, "正文", out, err);
}

static void test_markdown(void)
{
  ob_buf out;
  ob_buf_init(&out, 64);
  EQ_INT(md("\r\n  \r\n  a\r\nb\rc  \n\n", 4, &out), OB_OK, "normalise");
  EQ_STR(out.data, "  a\nb\nc", "CRLF/CR -> LF, leading blank lines and trailing space go");
  EQ_INT(md("#### 小节\n\n内容", 4, &out), OB_OK, "level 4 heading in a lesson");
  EQ_INT(md("### 小节", 4, &out), OB_EINPUT, "level 3 in a lesson");
  EQ_INT(md("### 小节", 3, &out), OB_OK, "level 3 in a fault section");
  EQ_INT(md("# 标题", 3, &out), OB_EINPUT, "level 1");
  EQ_INT(md("标题\n---", 4, &out), OB_EINPUT, "setext heading");
  EQ_INT(md("- 项\n\n  ## 嵌套", 3, &out), OB_EINPUT, "heading in a list");
  EQ_INT(md("> #### 引用", 3, &out), OB_EINPUT, "heading in a quote");
  EQ_INT(md("```\ncode", 4, &out), OB_EINPUT, "unclosed fence");
  EQ_INT(md("```\n## x\n```", 4, &out), OB_OK, "closed fence hides the heading");
  EQ_INT(md("<script>\nx", 4, &out), OB_EINPUT, "unclosed script block");
  EQ_INT(md("<script>x</script>", 4, &out), OB_OK, "closed script block");
  EQ_INT(md("<div>\nx", 4, &out), OB_OK, "div block ends at the blank line");
  EQ_INT(md("<!-- x", 4, &out), OB_EINPUT, "unclosed comment");
  EQ_INT(md(" \n\t ", 4, &out), OB_EINPUT, "blank");
  EQ_INT(md("\xE3\x80\x80", 4, &out), OB_EINPUT, "ideographic space only");
  EQ_INT(md("a\x01", 4, &out), OB_EINPUT, "control character");
  EQ_INT(md("a\xff", 4, &out), OB_EINPUT, "invalid UTF-8");
  char big[80];
  memset(big, 'x', 65);
  big[65] = '\0';
  EQ_INT(md(big, 4, &out), OB_ETOOBIG, "over the cap");
  big[64] = '\0';
  EQ_INT(md(big, 4, &out), OB_OK, "at the cap");
  ob_buf_free(&out);
}

/* Composes entry into src and returns the headings of the result, "|"-separated. */
static char *compose(const char *src, const char *entry, char **text)
{
  static char heads[1024];
  char err[OB_ERR_SIZE];
  ob_doc *d = NULL, *nd = NULL;
  ob_buf out;
  ob_buf_init(&out, 1 << 20);
  heads[0] = '\0';
  if (ob_doc_parse("fault/x.md", src, strlen(src), &d, err) != OB_OK ||
      ob_lesson_compose(src, strlen(src), d, entry, &out, err) != OB_OK ||
      ob_doc_parse("fault/x.md", out.data, out.len, &nd, err) != OB_OK) {
    fprintf(stderr, "compose: %s\n", err);
    goto out;
  }
  for (size_t i = 1; i < nd->nsections; i++) {
    size_t l = strlen(heads);
    snprintf(heads + l, sizeof heads - l, "%s%d %s", i > 1 ? "|" : "", nd->sections[i].level,
             nd->sections[i].heading);
  }
out:
  *text = ob_buf_detach(&out, NULL);
  ob_doc_free(d);
  ob_doc_free(nd);
  return heads;
}

static void test_compose(void)
{
  const char *entry = "### 2024-01-01 王五\n\n新经验\n";
  char *t;
  EQ_STR(
      compose("# T\n\n## 现象\n\nx\n\n## 经验教训\n\n### 2023-01-01 张三\n\n旧\n\n## 附录\n\ny\n",
              entry, &t),
      "2 现象|2 经验教训|3 2023-01-01 张三|3 2024-01-01 王五|2 附录",
      "inserted before the next ## section");
  OK(strstr(t, "旧\n\n### 2024-01-01 王五\n\n新经验\n\n## 附录\n") != NULL, "blank lines: %s", t);
  free(t);
  EQ_STR(compose("# T\n\n## 现象\n\nx", entry, &t), "2 现象|2 经验教训|3 2024-01-01 王五",
         "section created at the end");
  OK(strstr(t, "x\n\n## 经验教训\n\n### 2024-01-01") != NULL, "no trailing newline: %s", t);
  free(t);
  EQ_STR(compose("---\nid: x\n---\n# T\n\n## 经验教训\n\n- 一条旧的列表经验\n", entry, &t),
         "2 经验教训|3 2024-01-01 王五", "after a list, with front matter");
  free(t);
  EQ_STR(compose("# T\n\n## 经验教训\n\n### a\n\n#### 补充\n\nz\n", entry, &t),
         "2 经验教训|3 a|4 补充|3 2024-01-01 王五", "after deeper headings");
  free(t);
}

int main(void)
{
  snprintf(dir, sizeof dir, "/tmp/ob-lesson-unit-XXXXXX");
  if (!mkdtemp(dir))
    return 2;
  test_sha256();
  test_names();
  test_tokens();
  test_audit();
  test_markdown();
  test_compose();
  const char *names[] = {"tokens", "tokens2", "tokens3", "audit.jsonl"};
  for (size_t i = 0; i < 4; i++) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    unlink(p);
  }
  rmdir(dir);
  return ob_t_done();
}
