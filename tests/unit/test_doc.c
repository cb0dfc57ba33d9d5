/* test_doc - the document model (ob_doc_parse, ob_doc_render_html,
 * ob_doc_id_valid in core/doc.c). */
#include "doc.h"
#include "harness.h"

static ob_doc *parse(const char *relpath, const char *src, ob_status want, char *err)
{
  ob_doc *d = (ob_doc *)1;
  err[0] = '\0';
  ob_status st = ob_doc_parse(relpath, src, strlen(src), &d, err);
  EQ_INT(st, want, "parse %s (%s)", relpath, err);
  if (st != OB_OK)
    OK(d == NULL, "parse %s: *out is NULL on failure", relpath);
  return st == OB_OK ? d : NULL;
}

static void test_path_defaults(void)
{
  static const struct {
    const char *path, *type, *id;
  } cases[] = {
      {"sop/machine-room.md", "sop", "machine-room"},
      {"phrase/apology.md", "phrase", "apology"},
      {"fault/f-2024-01.md", "fault", "f-2024-01"},
      {"phrase/sub/deep.md", "phrase", "deep"},
      {"other/x1.md", "sop", "x1"},
      {"top.md", "sop", "top"},
      {"phrases/p.md", "sop", "p"}, /* only the exact folder names count */
      {"phrase.md", "sop", "phrase"},
      {"fault-old/f.md", "sop", "f"},
  };
  char err[OB_ERR_SIZE];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ob_doc *d = parse(cases[i].path, "# 标题\n正文\n", OB_OK, err);
    if (!d)
      continue;
    EQ_STR(d->type, cases[i].type, "type of %s", cases[i].path);
    EQ_STR(d->id, cases[i].id, "id of %s", cases[i].path);
    EQ_STR(d->path, cases[i].path, "path of %s", cases[i].path);
    ob_doc_free(d);
  }
  /* front matter wins over the path */
  ob_doc *d = parse("sop/file-name.md", "---\nid: other-id\ntype: fault\n---\n# T\n", OB_OK, err);
  if (d) {
    EQ_STR(d->id, "other-id", "id from front matter");
    EQ_STR(d->type, "fault", "type from front matter");
    ob_doc_free(d);
  }
  ob_doc_free(NULL);
}

static void test_title(void)
{
  char err[OB_ERR_SIZE];
  ob_doc *d = parse("sop/a.md", "引言\n\n# 第一个 *标题* `code`\n\n# 第二个\n", OB_OK, err);
  if (d) {
    EQ_STR(d->title, "第一个 标题 code", "title is the first # heading as plain text");
    ob_doc_free(d);
  }
  d = parse("sop/a.md", "---\ntitle: 来自前言\n---\n# 标题\n", OB_OK, err);
  if (d) {
    EQ_STR(d->title, "来自前言", "front matter title wins");
    OK(d->nsections == 1 && !strstr(d->sections[0].text, "标题"),
       "the # heading is not section text: '%s'", d->nsections ? d->sections[0].text : "");
    ob_doc_free(d);
  }
  d = parse("sop/setext.md", "Setext 标题\n======\n\n正文\n", OB_OK, err);
  if (d) {
    EQ_STR(d->title, "Setext 标题", "setext level-1 heading is a title");
    ob_doc_free(d);
  }
  d = parse("sop/no-title.md", "## 只有二级\n正文\n", OB_OK, err);
  if (d) {
    EQ_STR(d->title, "no-title", "no # heading: the title is the id");
    ob_doc_free(d);
  }
  d = parse("sop/empty.md", "", OB_OK, err);
  if (d) {
    EQ_STR(d->title, "empty", "empty file: title is the id");
    EQ_INT(d->nsections, 1, "empty file: one (lead) section");
    EQ_STR(d->nsections ? d->sections[0].text : NULL, "", "empty lead text");
    ob_doc_free(d);
  }
}

static void test_sections(void)
{
  const char *src = "---\n"                             /* 1 */
                    "id: room\n"                        /* 2 */
                    "---\n"                             /* 3 */
                    "# 机房管理规范\n"                  /* 4 */
                    "\n"                                /* 5 */
                    "本规范适用于所有机房。\n"          /* 6 */
                    "\n"                                /* 7 */
                    "## 1. 温度和湿度控制\n"            /* 8 */
                    "\n"                                /* 9 */
                    "机房温度应保持在 18~25 摄氏度。\n" /* 10 */
                    "- 每日巡检\n"                      /* 11 */
                    "- 记录温湿度\n"                    /* 12 */
                    "\n"                                /* 13 */
                    "### 1.1 超温处理\n"                /* 14 */
                    "立即报告。\n"                      /* 15 */
                    "\n"                                /* 16 */
                    "## 2. 用电安全\n"                  /* 17 */
                    "\n"                                /* 18 */
                    "```\n"                             /* 19 */
                    "ups status\n"                      /* 20 */
                    "```\n"                             /* 21 */
                    "#### 2.1 深层\n"                   /* 22 */
                    "四级标题也是一节。\n";             /* 23 */
  char err[OB_ERR_SIZE];
  ob_doc *d = parse("sop/room.md", src, OB_OK, err);
  if (!d)
    return;
  EQ_STR(d->title, "机房管理规范", "title");
  if (EQ_INT(d->nsections, 5, "lead + 4 sections")) {
    struct ob_section *s = d->sections;
    EQ_STR(s[0].heading, NULL, "lead has no heading");
    EQ_INT(s[0].level, 0, "lead level");
    EQ_STR(s[0].anchor, "", "lead anchor");
    EQ_STR(s[0].text, "本规范适用于所有机房。", "lead text (title excluded)");

    EQ_STR(s[1].heading, "1. 温度和湿度控制", "## heading");
    EQ_INT(s[1].level, 2, "## level");
    EQ_STR(s[1].anchor, "s1", "## anchor");
    EQ_INT(s[1].line, 8, "## line in the file (front matter counted)");
    EQ_STR(s[1].text, "机房温度应保持在 18~25 摄氏度。\n每日巡检\n记录温湿度", "## text");

    EQ_STR(s[2].heading, "1.1 超温处理", "### heading");
    EQ_INT(s[2].level, 3, "### level");
    EQ_STR(s[2].anchor, "s2", "### anchor");
    EQ_INT(s[2].line, 14, "### line");
    EQ_STR(s[2].text, "立即报告。", "### text");

    EQ_STR(s[3].heading, "2. 用电安全", "second ## heading");
    EQ_INT(s[3].line, 17, "second ## line");
    EQ_STR(s[3].text, "ups status", "code block text is section text");

    EQ_INT(s[4].level, 4, "#### is a section too");
    EQ_INT(s[4].line, 22, "#### line");
  }
  EQ_STR(d->markdown, strstr(src, "# 机房"), "markdown is the body without front matter");
  ob_doc_free(d);

  d = parse("sop/none.md", "# 标题\n\n只有引言。\n\n第二段。\n", OB_OK, err);
  if (d) {
    EQ_INT(d->nsections, 1, "no ## headings: only the lead");
    EQ_STR(d->sections[0].text, "只有引言。\n第二段。", "lead of paragraphs");
    EQ_INT(d->sections[0].line, 1, "lead line without front matter");
    ob_doc_free(d);
  }
  d = parse("sop/lines.md", "# 标题\n\n## 第一节\n正文\n\n\n### 第二节\n", OB_OK, err);
  if (d && EQ_INT(d->nsections, 3, "sections without front matter")) {
    EQ_INT(d->sections[1].line, 3, "## line without front matter");
    EQ_INT(d->sections[2].line, 7, "### line without front matter");
  }
  ob_doc_free(d);
}

/* An ordered item's number is the source's text: "2) 损害…" is found
 * as written (and a snippet shows it); bullets add nothing. */
static void test_list_numbers(void)
{
  char err[OB_ERR_SIZE];
  ob_doc *d = parse("sop/lists.md",
                    "# 纪律\n\n1) 影响用户使用的事不做\n2) 损害用户权益的事不做\n\n"
                    "段落\n\n3. 变更管理\n4. 性能优化\n\n- 巡检\n- 记录\n\n"
                    "7. 第一层\n   1. 嵌套\n\n   续段\n\n分隔\n\n998. 九九八\n999. 九九九\n1000. 一千\n",
                    OB_OK, err);
  if (d && EQ_INT(d->nsections, 1, "one section")) {
    EQ_STR(d->sections[0].text,
           "1) 影响用户使用的事不做\n2) 损害用户权益的事不做\n段落\n3. 变更管理\n4. 性能优化\n"
           "巡检\n记录\n7. 第一层\n1. 嵌套\n续段\n分隔\n998. 九九八\n999. 九九九\n一千",
           "numbers from the list's start and delimiter; none for bullets, a second "
           "paragraph or past 999");
  }
  ob_doc_free(d);
}

static void test_phrase(void)
{
  const char *src = "# 客户抱怨故障重复发生时\n\n"
                    "> 非常抱歉给您带来不便,{{技术员}}会在{{时间}}前上门。\n"
                    "> 我们会彻底排查。\n"
                    ">\n"
                    "> 第二段。\n\n"
                    "使用说明:语气要诚恳。\n\n"
                    "> 另一种说法:{{时间}}前处理好。\n";
  char err[OB_ERR_SIZE];
  ob_doc *d = parse("phrase/repeat.md", src, OB_OK, err);
  if (d) {
    EQ_STR(d->phrase,
           "非常抱歉给您带来不便,{{技术员}}会在{{时间}}前上门。\n我们会彻底排查。\n第二段。",
           "phrase is the first blockquote");
    if (EQ_INT(d->slots.n, 2, "slots from the body, de-duplicated")) {
      EQ_STR(d->slots.v[0], "技术员", "first slot in order");
      EQ_STR(d->slots.v[1], "时间", "second slot");
    }
    OK(strstr(d->sections[0].text, "使用说明") != NULL, "notes are lead text");
    ob_doc_free(d);
  }
  d = parse("sop/quote.md", "# T\n\n> 引用\n", OB_OK, err);
  if (d) {
    EQ_STR(d->phrase, NULL, "only phrase documents have a phrase");
    ob_doc_free(d);
  }
  d = parse("phrase/no-quote.md", "# T\n\n没有引用。\n", OB_OK, err);
  if (d) {
    EQ_STR(d->phrase, NULL, "phrase without blockquote");
    ob_doc_free(d);
  }
  d = parse("phrase/fm-slots.md", "---\nslots: [甲, 乙]\n---\n> {{丙}}\n", OB_OK, err);
  if (d) {
    OK(d->slots.n == 2 && !strcmp(d->slots.v[0], "甲") && !strcmp(d->slots.v[1], "乙"),
       "front matter slots win over the body");
    ob_doc_free(d);
  }
}

static void test_slots(void)
{
  static const struct {
    const char *body;
    const char *want;
  } cases[] = {
      {"{{时间}}和{{原因}},再次{{时间}}", "时间|原因"},
      {"{{}} 空名字", ""},
      {"{{有 空格}}", ""},
      {"{{未闭合", ""},
      {"{{一二三四五六七八九十一二三四五六}}", "一二三四五六七八九十一二三四五六"}, /* 16 */
      {"{{一二三四五六七八九十一二三四五六七}}", ""},                               /* 17 */
      {"{{abcdefghijklmnop}}", "abcdefghijklmnop"},                                 /* 16 */
      {"{{abcdefghijklmnopq}}", ""},                                                /* 17 */
      {"{{a}b}}", ""},
      {"{{{x}}", ""},
      {"`{{代码}}` 也算", "代码"},
  };
  char err[OB_ERR_SIZE];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ob_doc *d = parse("phrase/s.md", cases[i].body, OB_OK, err);
    if (!d)
      continue;
    char got[256] = "";
    for (size_t k = 0; k < d->slots.n; k++) {
      if (k)
        strncat(got, "|", sizeof got - strlen(got) - 1);
      strncat(got, d->slots.v[k], sizeof got - strlen(got) - 1);
    }
    EQ_STR(got, cases[i].want, "slots of '%s' (names are 1-16 characters)", cases[i].body);
    ob_doc_free(d);
  }
}

static void test_errors(void)
{
  char err[OB_ERR_SIZE];
  parse("sop/bad.md", "第一行\n第二行\n第三\xFF行\n", OB_EINPUT, err);
  EQ_STR(err, "3: invalid UTF-8", "invalid UTF-8 reports its line");
  parse("sop/bad.md", "\xC0\x80", OB_EINPUT, err);
  EQ_STR(err, "1: invalid UTF-8", "overlong on line 1");
  parse("sop/bad.md", "---\nid: x\n---\n\n\xED\xA0\x80\n", OB_EINPUT, err);
  EQ_STR(err, "5: invalid UTF-8", "surrogate after front matter");

  ob_doc *d = (ob_doc *)1;
  const char nul[] = "a\nb\0c\n";
  EQ_INT(ob_doc_parse("sop/nul.md", nul, sizeof nul - 1, &d, err), OB_EINPUT, "NUL byte");
  EQ_STR(err, "2: invalid UTF-8", "NUL reports its line");

  parse("sop/bad.md", "---\nid: x\ntitle:\tT\n---\n", OB_EINPUT, err);
  EQ_STR(err, "3: tab characters are not allowed in front matter", "front matter error");

  /* size limit */
  size_t big = OB_DOC_MAX_BYTES;
  char *s = malloc(big + 2);
  memset(s, 'a', big + 1);
  for (size_t i = 80; i < big; i += 81)
    s[i] = '\n';
  s[big + 1] = '\0';
  EQ_INT(ob_doc_parse("sop/big.md", s, big + 1, &d, err), OB_ETOOBIG, "256 KiB + 1 rejected");
  EQ_STR(err, "1: file larger than 256 KiB", "size message");
  OK(d == NULL, "no doc for a rejected file");
  EQ_INT(ob_doc_parse("sop/big.md", s, big, &d, err), OB_OK, "exactly 256 KiB accepted (%s)", err);
  ob_doc_free(d);
  free(s);

  /* invalid ids, from the path or the front matter */
  parse("sop/My File.md", "# T\n", OB_EINPUT, err);
  EQ_STR(err, "1: invalid id 'My File' (use a-z, 0-9 and -)", "id from a bad file name");
  parse("sop/x.md", "---\nid: Bad_ID\n---\n", OB_EINPUT, err);
  EQ_STR(err, "1: invalid id 'Bad_ID' (use a-z, 0-9 and -)", "bad id in front matter");
  parse("sop/x.md", "---\nid: -lead\n---\n", OB_EINPUT, err);
  parse("sop/中文.md", "# T\n", OB_EINPUT, err);
  parse("sop/x.md", "---\nid: \"\"\n---\n", OB_EINPUT, err);
  parse("sop/x.md", "---\ntype: manual\n---\n", OB_EINPUT, err);
  EQ_STR(err, "1: unknown type 'manual' (sop, phrase or fault)", "unknown type");

  static const struct {
    const char *id;
    int ok;
  } ids[] = {
      {"a", 1},
      {"0", 1},
      {"sop-room-1", 1},
      {"a-", 1},
      {"0123456789012345678901234567890123456789012345678901234567890123", 1},  /* 64 */
      {"01234567890123456789012345678901234567890123456789012345678901234", 0}, /* 65 */
      {"", 0},
      {"-a", 0},
      {"A", 0},
      {"a_b", 0},
      {"a b", 0},
      {"a.b", 0},
      {"a/b", 0},
      {"中文", 0},
      {"a\n", 0},
  };
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    EQ_INT(ob_doc_id_valid(ids[i].id), ids[i].ok, "ob_doc_id_valid(\"%s\")", ids[i].id);

  /* the shape check ends lines where cmark does: LF, CRLF and a lone CR */
  const char *ends[] = {"\n", "\r\n", "\r"};
  for (size_t i = 0; i < 3; i++) {
    char deep[256];
    int k = snprintf(deep, sizeof deep, "# T%s文字%s", ends[i], ends[i]);
    for (int j = 0; j < 40; j++)
      deep[k++] = '>';
    snprintf(deep + k, sizeof deep - (size_t)k, " 深%s", ends[i]);
    parse("sop/deep.md", deep, OB_EINPUT, err);
    EQ_STR(err, "3: quotes or lists nested more than 32 deep (Markdown that is slow to parse)",
           "40 nested quotes refused (line end %zu)", i);
  }
  ob_doc_free(parse("sop/ok.md", "# T\r> 引用\r> > 二层\r", OB_OK, err));
}

static void test_render(void)
{
  static const struct {
    const char *md;
    const char *must, *must_not;
  } cases[] = {
      {"# 标题\n\n正文 *强调*\n", "<h1>标题</h1>", NULL},
      {"<script>alert(1)</script>\n", "raw HTML omitted", "<script"},
      {"段落 <b onclick=\"x()\">粗</b> 文字\n", "粗", "<b"},
      {"<div>\n块\n</div>\n", NULL, "<div"},
      {"[链接](javascript:alert(1))\n", "<a href=\"\">", "javascript:"},
      {"![图](vbscript:x)\n", NULL, "vbscript:"},
      {"`<code>`\n", "&lt;code&gt;", "<code><code>"},
      {"a & b < c\n", "a &amp; b &lt; c", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *html = ob_doc_render_html(cases[i].md, strlen(cases[i].md));
    if (!OK(html != NULL, "render %zu", i))
      continue;
    if (cases[i].must)
      OK(strstr(html, cases[i].must) != NULL, "render '%s' contains '%s': %s", cases[i].md,
         cases[i].must, html);
    if (cases[i].must_not)
      OK(strstr(html, cases[i].must_not) == NULL, "render '%s' lacks '%s': %s", cases[i].md,
         cases[i].must_not, html);
    free(html);
  }
  char *html = ob_doc_render_html("", 0);
  EQ_STR(html, "", "render of nothing");
  free(html);
}

int main(void)
{
  test_path_defaults();
  test_title();
  test_sections();
  test_list_numbers();
  test_phrase();
  test_slots();
  test_errors();
  test_render();
  return ob_t_done();
}
