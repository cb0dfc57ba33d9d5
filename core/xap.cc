// xap.cc - the Xapian shim. Every entry point catches everything.
#include "xap.h"

#include <xapian.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

struct ob_xdoc {
  Xapian::Document doc;
};

struct ob_xwriter {
  Xapian::WritableDatabase db;
  bool in_txn = false;
  void txn()
  {
    if (!in_txn) { // one transaction per writer session: the commit is atomic
      db.begin_transaction();
      in_txn = true;
    }
  }
};

struct ob_xdb {
  Xapian::Database db;
  std::string path;
  double k1 = 1.2, b = 0.75;
};

struct clause {
  std::vector<std::string> terms;
  double scale;
};

struct ob_xquery {
  std::vector<clause> clauses;
  std::map<int, std::vector<std::string>> filters;
};

static ob_status map_error(char *err, const char *what)
{
  try {
    throw;
  } catch (const Xapian::DatabaseLockError &e) {
    return ob_fail(err, OB_ELOCKED, "%s: the index is locked by another writer (%s)", what,
                   e.get_msg().c_str());
  } catch (const Xapian::DatabaseOpeningError &e) {
    return ob_fail(err, OB_EINDEX, "%s: cannot open the index: %s", what,
                   e.get_msg().c_str());
  } catch (const Xapian::DatabaseError &e) {
    return ob_fail(err, OB_EINDEX, "%s: %s: %s", what, e.get_type(), e.get_msg().c_str());
  } catch (const Xapian::Error &e) {
    return ob_fail(err, OB_EINTERNAL, "%s: %s: %s", what, e.get_type(), e.get_msg().c_str());
  } catch (const std::bad_alloc &) {
    return ob_fail(err, OB_ENOMEM, "%s: out of memory", what);
  } catch (const std::exception &e) {
    return ob_fail(err, OB_EINTERNAL, "%s: %s", what, e.what());
  } catch (...) {
    return ob_fail(err, OB_EINTERNAL, "%s: unknown exception", what);
  }
}

#define GUARD_BEGIN try {
#define GUARD_END(what)                                                                       \
  }                                                                                           \
  catch (...) { return map_error(err, what); }

// Documents. Failures here can only be bad_alloc; they are swallowed into
// an empty document rather than thrown into C.
extern "C" ob_xdoc *ob_xdoc_new(void)
{
  try {
    return new ob_xdoc;
  } catch (...) {
    std::fprintf(stderr, "opsbook: out of memory\n");
    std::abort();
  }
}

extern "C" void ob_xdoc_free(ob_xdoc *d) { delete d; }

extern "C" void ob_xdoc_add_term(ob_xdoc *d, const char *term, size_t len, unsigned wdf)
{
  try {
    if (len > 0 && len <= 240)
      d->doc.add_term(std::string(term, len), wdf);
  } catch (...) {
  }
}

extern "C" void ob_xdoc_add_boolean(ob_xdoc *d, const char *term, size_t len)
{
  try {
    if (len > 0 && len <= 240)
      d->doc.add_boolean_term(std::string(term, len));
  } catch (...) {
  }
}

extern "C" void ob_xdoc_set_value(ob_xdoc *d, unsigned slot, const char *v, size_t len)
{
  try {
    d->doc.add_value(slot, std::string(v, len));
  } catch (...) {
  }
}

extern "C" void ob_xdoc_set_data(ob_xdoc *d, const char *data, size_t len)
{
  try {
    d->doc.set_data(std::string(data, len));
  } catch (...) {
  }
}

// Writer.
extern "C" ob_status ob_xwriter_open(const char *path, ob_xwriter **out, char *err)
{
  *out = nullptr;
  GUARD_BEGIN
  ob_xwriter *w = new ob_xwriter;
  try {
    w->db = Xapian::WritableDatabase(path, Xapian::DB_CREATE_OR_OPEN);
  } catch (...) {
    delete w;
    throw;
  }
  *out = w;
  return OB_OK;
  GUARD_END("open for writing")
}

extern "C" void ob_xwriter_close(ob_xwriter *w)
{
  if (!w)
    return;
  try {
    // Closing would commit pending changes outside a transaction; we only
    // ever change inside one, so cancel it: uncommitted work is discarded.
    if (w->in_txn)
      w->db.cancel_transaction();
  } catch (...) {
  }
  try {
    delete w;
  } catch (...) {
  }
}

extern "C" ob_status ob_xwriter_replace(ob_xwriter *w, const char *unique_term,
                                        const ob_xdoc *d, char *err)
{
  GUARD_BEGIN
  w->txn();
  w->db.replace_document(unique_term, d->doc);
  return OB_OK;
  GUARD_END("replace document")
}

extern "C" ob_status ob_xwriter_delete(ob_xwriter *w, const char *term, char *err)
{
  GUARD_BEGIN
  w->txn();
  w->db.delete_document(term);
  return OB_OK;
  GUARD_END("delete documents")
}

extern "C" ob_status ob_xwriter_set_meta(ob_xwriter *w, const char *key, const char *val,
                                         char *err)
{
  GUARD_BEGIN
  w->txn();
  w->db.set_metadata(key, val);
  return OB_OK;
  GUARD_END("set metadata")
}

extern "C" ob_status ob_xwriter_get_meta(ob_xwriter *w, const char *key, ob_buf *out,
                                         char *err)
{
  GUARD_BEGIN
  std::string v = w->db.get_metadata(key);
  return ob_buf_append(out, v.data(), v.size());
  GUARD_END("get metadata")
}

extern "C" ob_status ob_xwriter_meta_each(ob_xwriter *w, const char *prefix, ob_meta_fn fn,
                                          void *ctx, char *err)
{
  GUARD_BEGIN
  for (auto it = w->db.metadata_keys_begin(prefix); it != w->db.metadata_keys_end(prefix);
       ++it) {
    std::string k = *it;
    std::string v = w->db.get_metadata(k);
    if (fn(k.c_str(), v.c_str(), ctx))
      break;
  }
  return OB_OK;
  GUARD_END("list metadata")
}

extern "C" ob_status ob_xwriter_commit(ob_xwriter *w, char *err)
{
  GUARD_BEGIN
  if (w->in_txn) {
    w->in_txn = false;
    w->db.commit_transaction();
  } else {
    w->db.commit();
  }
  return OB_OK;
  GUARD_END("commit")
}

extern "C" ob_status ob_xwriter_cancel(ob_xwriter *w, char *err)
{
  GUARD_BEGIN
  if (w->in_txn) {
    w->in_txn = false;
    w->db.cancel_transaction();
  }
  return OB_OK;
  GUARD_END("cancel")
}

extern "C" ob_status ob_xdb_compact(const char *src, const char *dst, char *err)
{
  GUARD_BEGIN
  Xapian::Database db(src);
  db.compact(dst, Xapian::DBCOMPACT_NO_RENUMBER);
  return OB_OK;
  GUARD_END("compact")
}

// Reader.
extern "C" ob_status ob_xdb_open(const char *path, ob_xdb **out, char *err)
{
  *out = nullptr;
  GUARD_BEGIN
  ob_xdb *db = new ob_xdb;
  try {
    db->db = Xapian::Database(path);
    db->path = path;
  } catch (...) {
    delete db;
    throw;
  }
  *out = db;
  return OB_OK;
  GUARD_END("open index")
}

extern "C" void ob_xdb_close(ob_xdb *db)
{
  try {
    delete db;
  } catch (...) {
  }
}

extern "C" ob_status ob_xdb_reopen(ob_xdb *db, int *changed, char *err)
{
  *changed = 0;
  GUARD_BEGIN
  *changed = db->db.reopen() ? 1 : 0;
  return OB_OK;
  GUARD_END("reopen index")
}

extern "C" unsigned long ob_xdb_doc_count(ob_xdb *db)
{
  try {
    return db->db.get_doccount();
  } catch (...) {
    return 0;
  }
}

extern "C" unsigned long ob_xdb_revision(ob_xdb *db)
{
  try {
    return (unsigned long)db->db.get_revision();
  } catch (...) {
    return 0;
  }
}

extern "C" ob_status ob_xdb_get_meta(ob_xdb *db, const char *key, ob_buf *out, char *err)
{
  GUARD_BEGIN
  std::string v = db->db.get_metadata(key);
  return ob_buf_append(out, v.data(), v.size());
  GUARD_END("get metadata")
}

extern "C" void ob_xdb_set_bm25(ob_xdb *db, double k1, double b)
{
  db->k1 = k1;
  db->b = b;
}

// Queries.
extern "C" ob_xquery *ob_xquery_new(void)
{
  try {
    return new ob_xquery;
  } catch (...) {
    std::fprintf(stderr, "opsbook: out of memory\n");
    std::abort();
  }
}

extern "C" void ob_xquery_free(ob_xquery *q) { delete q; }

extern "C" void ob_xquery_add(ob_xquery *q, const char *const *terms, size_t n, double scale)
{
  try {
    clause c;
    for (size_t i = 0; i < n; i++)
      c.terms.emplace_back(terms[i]);
    c.scale = scale;
    q->clauses.push_back(std::move(c));
  } catch (...) {
  }
}

extern "C" void ob_xquery_filter(ob_xquery *q, const char *term, int group)
{
  try {
    q->filters[group].emplace_back(term);
  } catch (...) {
  }
}

extern "C" size_t ob_xquery_size(const ob_xquery *q) { return q->clauses.size(); }

static Xapian::Query build(const ob_xquery *q)
{
  std::vector<Xapian::Query> parts;
  parts.reserve(q->clauses.size());
  for (const clause &c : q->clauses) {
    Xapian::Query sub;
    if (c.terms.size() == 1)
      sub = Xapian::Query(c.terms[0]);
    else
      sub = Xapian::Query(Xapian::Query::OP_SYNONYM, c.terms.begin(), c.terms.end());
    if (c.scale != 1.0)
      sub = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, sub, c.scale);
    parts.push_back(sub);
  }
  Xapian::Query query(Xapian::Query::OP_OR, parts.begin(), parts.end());
  if (!q->filters.empty()) {
    std::vector<Xapian::Query> groups;
    for (const auto &g : q->filters)
      groups.emplace_back(Xapian::Query::OP_OR, g.second.begin(), g.second.end());
    Xapian::Query filter(Xapian::Query::OP_AND, groups.begin(), groups.end());
    if (parts.empty())
      query = filter; // browse: every document that passes the filter
    else
      query = Xapian::Query(Xapian::Query::OP_FILTER, query, filter);
  }
  return query;
}

static void fill(const Xapian::MSet &mset, ob_xresults *res)
{
  res->total = mset.get_matches_estimated();
  res->n = 0;
  res->hits = static_cast<ob_xhit *>(ob_xcalloc(mset.size() ? mset.size() : 1, sizeof(ob_xhit)));
  for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it) {
    std::string data = it.get_document().get_data();
    ob_xhit &h = res->hits[res->n++];
    h.docid = *it;
    h.score = it.get_weight();
    h.data = ob_xstrndup(data.data(), data.size());
    h.data_len = data.size();
  }
}

extern "C" ob_status ob_xdb_search(ob_xdb *db, const ob_xquery *q, size_t offset, size_t limit,
                                   unsigned collapse_slot, unsigned collapse_max,
                                   ob_xresults *res, char *err)
{
  res->total = 0;
  res->n = 0;
  res->hits = nullptr;
  GUARD_BEGIN
  Xapian::Query query = build(q);
  for (int attempt = 0;; attempt++) {
    try {
      Xapian::Enquire enq(db->db);
      enq.set_query(query);
      enq.set_weighting_scheme(Xapian::BM25Weight(db->k1, 0, 1, db->b, 0.5));
      if (collapse_max)
        enq.set_collapse_key(collapse_slot, collapse_max);
      Xapian::MSet mset = enq.get_mset((Xapian::doccount)offset, (Xapian::doccount)limit);
      fill(mset, res);
      return OB_OK;
    } catch (const Xapian::DatabaseModifiedError &) {
      if (attempt > 0)
        throw;
      ob_xresults_free(res);
      db->db.reopen();
    }
  }
  GUARD_END("search")
}

extern "C" ob_status ob_xdb_by_term(ob_xdb *db, const char *term, size_t limit,
                                    ob_xresults *res, char *err)
{
  res->total = 0;
  res->n = 0;
  res->hits = nullptr;
  GUARD_BEGIN
  for (int attempt = 0;; attempt++) {
    try {
      Xapian::Enquire enq(db->db);
      enq.set_query(Xapian::Query(term));
      enq.set_weighting_scheme(Xapian::BoolWeight());
      enq.set_docid_order(Xapian::Enquire::ASCENDING);
      Xapian::MSet mset = enq.get_mset(0, (Xapian::doccount)limit);
      fill(mset, res);
      return OB_OK;
    } catch (const Xapian::DatabaseModifiedError &) {
      if (attempt > 0)
        throw;
      ob_xresults_free(res);
      db->db.reopen();
    }
  }
  GUARD_END("lookup")
}

extern "C" void ob_xresults_free(ob_xresults *res)
{
  if (!res->hits)
    return;
  for (size_t i = 0; i < res->n; i++)
    std::free(res->hits[i].data);
  std::free(res->hits);
  res->hits = nullptr;
  res->n = 0;
}
