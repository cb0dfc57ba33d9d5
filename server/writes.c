/* writes.c - POST /api/docs/{id}/lessons and POST /api/faults; see writes.h.
 *
 * Linear like every route: authorise -> parse -> act (core/lesson.c) ->
 * render -> queue. Nothing is written unless every check passed; the
 * core takes the writer lock and writes file, audit line and index.
 */
#define _POSIX_C_SOURCE 200809L
#include "writes.h"

#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "json.h"
#include "lesson.h"
#include "reply.h"
#include "utf8.h"

#define TOKEN_MAX 512
#define LIST_MAX 64 /* items read from a JSON list; the core allows fewer */

/* A write re-indexes its whole document: a few MB of short-lived memory
 * in this worker's malloc arena, which glibc would otherwise keep at its
 * peak (the soak test saw VmRSS climb under fast appends while the heap
 * in use stayed flat). Writes are rare; give the peak back. */
static void release_peak(void)
{
#ifdef __GLIBC__
  (void)malloc_trim(0);
#endif
}

/* ---- helpers ---- */

static int lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* The token of an "Authorization: Bearer <token>" header, or NULL. */
static const char *bearer(const char *h, size_t *n)
{
  static const char scheme[] = "bearer";
  if (!h)
    return NULL;
  while (*h == ' ' || *h == '\t')
    h++;
  for (size_t i = 0; i < sizeof scheme - 1; i++)
    if (lower((unsigned char)h[i]) != scheme[i])
      return NULL;
  h += sizeof scheme - 1;
  if (*h != ' ' && *h != '\t')
    return NULL;
  while (*h == ' ' || *h == '\t')
    h++;
  size_t len = strcspn(h, " \t");
  const char *rest = h + len;
  while (*rest == ' ' || *rest == '\t')
    rest++;
  if (len == 0 || len > TOKEN_MAX || *rest)
    return NULL;
  *n = len;
  return h;
}

/* Checks the bearer token; name receives the reviewer. Returns 0, or -1
 * after replying 401, 403 or 500. */
static int authorise(struct ob_req *rq, char *name)
{
  char err[OB_ERR_SIZE];
  size_t n = 0;
  const char *tok = bearer(
      MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION), &n);
  if (!tok) {
    rq->www_auth = "Bearer realm=\"opsbook\"";
    ob_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                   "需要审核人令牌:请在请求头带上 Authorization: Bearer <令牌>");
    return -1;
  }
  if (!rq->srv->tokens) {
    ob_reply_error(rq, MHD_HTTP_FORBIDDEN, "read_only",
                   "服务器以只读方式运行(没有配置审核人令牌文件 --tokens),不能写入");
    return -1;
  }
  ob_status st = ob_auth_check(rq->srv->tokens, tok, n, name, err);
  if (st == OB_EAUTH) {
    rq->www_auth = "Bearer realm=\"opsbook\", error=\"invalid_token\"";
    ob_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized", "审核人令牌无效");
    return -1;
  }
  if (st) {
    fprintf(stderr, "opsbook-serve: %s: %s\n", rq->path, err);
    ob_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "服务器内部错误,请稍后重试");
    return -1;
  }
  return 0;
}

/* The request body as a JSON object, or NULL after replying 400. */
static json_t *body_json(struct ob_req *rq)
{
  const char *b = rq->body.data ? rq->body.data : "";
  json_error_t je;
  char msg[160];
  if (!ob_utf8_valid(b, rq->body.len)) {
    ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_json", "请求体不是有效的 UTF-8 文本");
    return NULL;
  }
  if (rq->body.len == 0) {
    ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_json", "请求体为空:需要一个 JSON 对象");
    return NULL;
  }
  json_t *j = json_loadb(b, rq->body.len, JSON_REJECT_DUPLICATES, &je);
  if (!j) {
    snprintf(msg, sizeof msg, "请求体不是有效的 JSON(第 %d 行第 %d 列)", je.line, je.column);
    ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_json", msg);
    return NULL;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_json", "请求体必须是一个 JSON 对象");
    return NULL;
  }
  return j;
}

/* An optional string field (null counts as absent). Returns 0, or -1
 * after replying 400 when it has another type. */
static int str_field(struct ob_req *rq, json_t *o, const char *key, const char **out, size_t *len)
{
  json_t *v = json_object_get(o, key);
  char msg[128];
  *out = NULL;
  if (len)
    *len = 0;
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_string(v)) {
    snprintf(msg, sizeof msg, "字段 %s 必须是字符串", key);
    ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_json", msg);
    return -1;
  }
  *out = json_string_value(v);
  if (len)
    *len = json_string_length(v);
  return 0;
}

/* An optional list of strings (borrowed from o) into v, at most LIST_MAX
 * (the core refuses more than it allows). Returns 0 or -1 after a 400. */
static int list_field(struct ob_req *rq, json_t *o, const char *key, const char **v, size_t *n)
{
  json_t *a = json_object_get(o, key);
  char msg[128];
  *n = 0;
  if (!a || json_is_null(a))
    return 0;
  if (!json_is_array(a))
    goto bad;
  if (json_array_size(a) > LIST_MAX) {
    snprintf(msg, sizeof msg, "字段 %s 的项数过多", key);
    ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_field", msg);
    return -1;
  }
  for (size_t i = 0; i < json_array_size(a); i++) {
    json_t *s = json_array_get(a, i);
    if (!json_is_string(s))
      goto bad;
    v[(*n)++] = json_string_value(s);
  }
  return 0;
bad:
  snprintf(msg, sizeof msg, "字段 %s 必须是字符串数组", key);
  ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_json", msg);
  return -1;
}

/* Queues the error for a failed write. err is user-facing Chinese for
 * the input statuses; server-side details go to the log only. */
static void reply_write_status(struct ob_req *rq, ob_status st, const char *err)
{
  switch (st) {
  case OB_EINPUT:
    ob_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_field", err);
    return;
  case OB_ETOOBIG:
    ob_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", err);
    return;
  case OB_ENOTFOUND:
    ob_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", err);
    return;
  case OB_EEXIST:
    ob_reply_error(rq, MHD_HTTP_CONFLICT, "conflict", err);
    return;
  case OB_ELOCKED:
    fprintf(stderr, "opsbook-serve: %s: %s\n", rq->path, err);
    ob_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "手册正在被其他写入者更新,请稍后重试");
    return;
  case OB_EINDEX:
    fprintf(stderr, "opsbook-serve: %s: %s\n", rq->path, err);
    ob_reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "index_unavailable",
                   "索引或文档文件暂时不可用,请稍后重试");
    return;
  default:
    fprintf(stderr, "opsbook-serve: %s: %s: %s\n", rq->path, ob_strerror(st), err);
    ob_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "服务器内部错误,请稍后重试");
    return;
  }
}

static ob_write_env write_env(struct ob_req *rq, const char *reviewer)
{
  ob_write_env e = {rq->srv->text, rq->srv->handbook, rq->srv->db, rq->srv->audit, reviewer, 0};
  return e;
}

/* ---- routes ---- */

/* POST /api/docs/{id}/lessons {"author","text","date"?,"incident"?} */
void ob_route_lessons(struct ob_req *rq)
{
  char err[OB_ERR_SIZE], reviewer[OB_REVIEWER_MAX + 1], id[OB_ID_MAX + 1], url[OB_ID_MAX + 64];
  const char *idp = rq->url + 10; /* after "/api/docs/" */
  size_t idn = strlen(idp) - 8;   /* before "/lessons" */
  ob_lesson l;
  ob_lesson_result r;
  json_t *j = NULL;
  ob_buf body;
  ob_jw w;
  ob_status st;
  memset(&l, 0, sizeof l);
  memset(&r, 0, sizeof r);
  ob_buf_init(&body, 4 * OB_LESSON_TEXT_MAX);

  if (idn > OB_ID_MAX) {
    ob_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "没有这篇文档:编号无效");
    goto out;
  }
  memcpy(id, idp, idn);
  id[idn] = '\0';
  if (!ob_doc_id_valid(id)) {
    ob_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "没有这篇文档:编号无效");
    goto out;
  }
  if (authorise(rq, reviewer) || !(j = body_json(rq)) ||
      str_field(rq, j, "author", &l.author, NULL) ||
      str_field(rq, j, "text", &l.text, &l.text_len) || str_field(rq, j, "date", &l.date, NULL) ||
      str_field(rq, j, "incident", &l.incident, NULL))
    goto out;
  ob_write_env e = write_env(rq, reviewer);
  st = ob_lesson_append(&e, id, &l, &r, err);
  release_peak();
  if (st) {
    reply_write_status(rq, st, err);
    goto out;
  }

  snprintf(url, sizeof url, "/api/docs/%s#%s", r.doc, r.anchor);
  ob_jw_init(&w, &body);
  ob_jw_obj(&w);
  ob_jw_kstr(&w, "doc", r.doc);
  ob_jw_kstr(&w, "path", r.path);
  ob_jw_kstr(&w, "url", url);
  ob_jw_key(&w, "lesson");
  ob_jw_obj(&w);
  ob_jw_kstr(&w, "heading", r.heading);
  ob_jw_kstr(&w, "date", r.date);
  ob_jw_kstr(&w, "author", r.author);
  ob_jw_kstr(&w, "incident", r.incident);
  ob_jw_kstr(&w, "text", r.text);
  ob_jw_kstr(&w, "anchor", r.anchor);
  ob_jw_obj_end(&w);
  ob_jw_obj_end(&w);
  if (ob_jw_status(&w)) { /* cannot happen: the text is capped far below */
    reply_write_status(rq, OB_EINTERNAL, "lesson reply too large");
    goto out;
  }
  ob_reply_json(rq, MHD_HTTP_CREATED, &body, NULL);
out:
  json_decref(j);
  ob_lesson_result_clear(&r);
  ob_buf_free(&body);
}

/* POST /api/faults {"title","severity","symptoms","timeline","cause","handling","result",
 *                   "impact"?,"id"?,"category"?,"date"?,"tags"?,"wordings"?,"related"?} */
void ob_route_faults(struct ob_req *rq)
{
  char err[OB_ERR_SIZE], reviewer[OB_REVIEWER_MAX + 1], url[OB_ID_MAX + 64];
  const char *tags[LIST_MAX], *wordings[LIST_MAX], *related[LIST_MAX];
  ob_fault f;
  ob_fault_result r;
  json_t *j = NULL;
  ob_buf body;
  ob_jw w;
  ob_status st;
  memset(&f, 0, sizeof f);
  memset(&r, 0, sizeof r);
  ob_buf_init(&body, 4096);

  if (authorise(rq, reviewer) || !(j = body_json(rq)) || str_field(rq, j, "id", &f.id, NULL) ||
      str_field(rq, j, "title", &f.title, NULL) ||
      str_field(rq, j, "severity", &f.severity, NULL) ||
      str_field(rq, j, "category", &f.category, NULL) || str_field(rq, j, "date", &f.date, NULL) ||
      str_field(rq, j, "symptoms", &f.symptoms, NULL) ||
      str_field(rq, j, "impact", &f.impact, NULL) ||
      str_field(rq, j, "timeline", &f.timeline, NULL) ||
      str_field(rq, j, "cause", &f.cause, NULL) ||
      str_field(rq, j, "handling", &f.handling, NULL) ||
      str_field(rq, j, "result", &f.result, NULL) || list_field(rq, j, "tags", tags, &f.ntags) ||
      list_field(rq, j, "wordings", wordings, &f.nwordings) ||
      list_field(rq, j, "related", related, &f.nrelated))
    goto out;
  f.tags = tags;
  f.wordings = wordings;
  f.related = related;
  ob_write_env e = write_env(rq, reviewer);
  st = ob_lesson_new_fault(&e, &f, &r, err);
  release_peak();
  if (st) {
    reply_write_status(rq, st, err);
    goto out;
  }

  snprintf(url, sizeof url, "/api/docs/%s", r.id);
  ob_jw_init(&w, &body);
  ob_jw_obj(&w);
  ob_jw_kstr(&w, "id", r.id);
  ob_jw_kstr(&w, "path", r.path);
  ob_jw_kstr(&w, "url", url);
  ob_jw_obj_end(&w);
  if (ob_jw_status(&w)) {
    reply_write_status(rq, OB_EINTERNAL, "fault reply too large");
    goto out;
  }
  ob_reply_json(rq, MHD_HTTP_CREATED, &body, NULL);
out:
  json_decref(j);
  ob_fault_result_clear(&r);
  ob_buf_free(&body);
}
