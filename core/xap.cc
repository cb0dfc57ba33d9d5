// xap.cc - the Xapian shim. Every entry point catches everything.
#include "xap.h"

#include <libdeflate.h>
#include <xapian.h>

#include "mindex.h"
#include "wtable.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
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

// A copy of a larger index in memory, without its records, made once by
// the loader thread and shared by every handle on the folder at that
// revision (see ob_xdb_share in xap.h); past the size of a whole copy,
// the table of its most common terms' wdf (wtable.h) that the two-stage
// match scores its second stage with. One of m and wt is set.
struct shared_copy {
  Xapian::rev rev = 0;
  ob_mindex *m = nullptr;
  ob_wtable *wt = nullptr;
  // with wt: every entry's collapse value in value slot s (the slots
  // mindex.h keeps) as key[s][docid], an index into the values, -1 for
  // none (key[s] empty: no entry has one); value k is
  // key_text[key_at[k] .. key_at[k + 1]). Stage two then ranks and
  // collapses its candidates without reading a value from disk
  // (rank_table).
  std::vector<int32_t> key[OB_MINDEX_SLOTS];
  std::string key_text;
  std::vector<size_t> key_at;
  size_t key_bytes() const
  {
    size_t n = key_text.capacity() + key_at.capacity() * sizeof(size_t);
    for (const auto &k : key)
      n += k.capacity() * sizeof(int32_t);
    return n;
  }
  ~shared_copy()
  {
    ob_mindex_free(m);
    ob_wtable_free(wt);
  }
};

// The table holds the terms in at least 1/table_share of the entries,
// the most common first, in at most table_cap bytes: at 490,000 entries,
// 475 of those 854 terms (59 MB; 1.2-1.7 s to make), every term stage one
// leaves to stage two (more common than ob_xprune.common, 10 %) and a
// few more. The cap keeps the server within its 150 MB at 100,000 files
// (docs/performance.md).
static const Xapian::doccount table_share = 20;
static const size_t table_cap = (size_t)56 << 20;
// Stage one keeps a search's postings (stage_one_table) up to this many
// between searches; a longer query's are freed after it.
static const size_t postings_kept = (size_t)1 << 17;

struct ob_xdb {
  Xapian::Database disk; // the index on disk
  std::string path;
  unsigned long mem_max = 0; // copy into memory up to this many entries
  ob_mindex *mem = nullptr;  // that copy, searched instead of db (mindex.h)
  unsigned long share_max = 0;        // larger: share one copy up to this many
  std::shared_ptr<shared_copy> big;   // that copy, when it is of disk's revision
  ob_mwork *work = nullptr;           // for searching either, kept between searches
  libdeflate_decompressor *inflater = nullptr; // the shared copy's records
  // stage one from the table's lengths (stage_one_table), per docid: the
  // score so far and whether it was met; zero between searches
  std::vector<double> acc;
  std::vector<bool> met;
  // and the postings (docid, wdf) of one search's terms, read before they
  // are scored, and of one synonym group, merged
  std::vector<Xapian::docid> pd, md;
  std::vector<Xapian::termcount> pw, mw;
  std::vector<unsigned> seen; // rank_table's count per collapse value
  double k1 = 1.2, b = 0.75;
  ~ob_xdb()
  {
    ob_mindex_free(mem);
    ob_mwork_free(work);
    if (inflater)
      libdeflate_free_decompressor(inflater);
  }
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

extern "C" ob_status ob_xwriter_add(ob_xwriter *w, const ob_xdoc *d, char *err)
{
  GUARD_BEGIN
  w->txn();
  w->db.add_document(d->doc);
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

extern "C" ob_status ob_xdb_compact(const char *const *srcs, size_t n, const char *dst,
                                   char *err)
{
  GUARD_BEGIN
  Xapian::Database db;
  for (size_t i = 0; i < n; i++)
    db.add_database(Xapian::Database(srcs[i]));
  db.compact(dst, n == 1 ? Xapian::DBCOMPACT_NO_RENUMBER : 0);
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
    db->disk = Xapian::Database(path);
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

// Copies the disk index into an ob_mindex when it is small enough:
// document ids, terms, wdf, lengths, values and data as they are, so the
// scores are Xapian's (mindex.h); what goes is the matcher's fixed cost
// per query term, the block reads and the inflating of data records.
static void load_copy(ob_xdb *x)
{
  ob_mindex_free(x->mem);
  x->mem = nullptr;
  if (!x->mem_max || x->disk.get_doccount() > x->mem_max)
    return;
  for (int attempt = 0;; attempt++) {
    ob_mindex *m = ob_mindex_new();
    try {
      for (Xapian::PostingIterator it = x->disk.postlist_begin("");
           it != x->disk.postlist_end(""); ++it) {
        Xapian::Document doc = x->disk.get_document(*it);
        std::string data = doc.get_data();
        ob_mindex_add_doc(m, *it, x->disk.get_doclength(*it), data.data(), data.size());
        for (Xapian::ValueIterator v = doc.values_begin(); v != doc.values_end(); ++v)
          ob_mindex_add_value(m, v.get_valueno(), (*v).data(), (*v).size());
        for (Xapian::TermIterator t = doc.termlist_begin(); t != doc.termlist_end(); ++t)
          ob_mindex_add_term(m, (*t).data(), (*t).size(), t.get_wdf());
      }
      ob_mindex_seal(m);
      x->mem = m;
      return;
    } catch (const Xapian::DatabaseModifiedError &) {
      ob_mindex_free(m);
      if (attempt > 0)
        throw;
      x->disk.reopen();
    } catch (...) {
      ob_mindex_free(m);
      throw;
    }
  }
}

// The loader: one thread, started on the first request, making the
// shared copies asked for one at a time; told to stop and joined when the
// program exits (a copy half made is dropped).
namespace {
struct loader {
  std::mutex mu;
  std::condition_variable work;  // a copy wanted, or stop
  std::condition_variable done;  // a copy made or given up (ob_xdb_share_wait)
  std::map<std::string, std::shared_ptr<shared_copy>> ready; // the latest per key
  std::map<std::string, Xapian::rev> asked;  // the latest revision asked for
  std::map<std::string, unsigned long> wanted; // key -> at most this many entries
  std::string making; // the key being made, "" when none
  std::thread th;
  std::atomic<bool> stop{false};
  ~loader()
  {
    {
      std::lock_guard<std::mutex> g(mu);
      stop = true;
    }
    work.notify_all();
    if (th.joinable())
      th.join();
  }
  void run();
  // key: the folder for a whole copy, the folder, a NUL and "table" for
  // the wdf table (find_shared)
  void request(const std::string &key, Xapian::rev rev, unsigned long max,
               std::shared_ptr<shared_copy> &out);
};
loader g_loader;
} // namespace

// The wdf table of the index (see shared_copy): every entry's length,
// then the common terms' postings. NULL if the loader stops, or when no
// term would fit (the lengths alone take 4 bytes a docid: past ≈ 7 M
// docids, half the cap).
static std::shared_ptr<shared_copy> make_table(const Xapian::Database &db,
                                               const std::atomic<bool> &stop)
{
  if (((size_t)db.get_lastdocid() + 1) * sizeof(uint32_t) > table_cap / 2)
    return nullptr;
  auto c = std::make_shared<shared_copy>();
  c->rev = db.get_revision();
  c->wt = ob_wtable_new(db.get_lastdocid());
  if (!c->wt)
    throw std::bad_alloc();
  size_t seen = 0;
  for (Xapian::PostingIterator it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
    if (++seen % 4096 == 0 && stop.load(std::memory_order_relaxed))
      return nullptr;
    ob_wtable_set_length(c->wt, *it, it.get_doclength());
  }
  // the values, each kept once (an open-addressing set of their indexes:
  // a map of strings took 7 MB more while it was made, at 100,000 files)
  std::vector<int32_t> set(1024, -1);
  size_t nkeys = 0;
  auto value = [&](int32_t k) {
    return std::string_view(c->key_text).substr(c->key_at[(size_t)k],
                                                c->key_at[(size_t)k + 1] - c->key_at[(size_t)k]);
  };
  auto place = [&](std::vector<int32_t> &in, std::string_view v) -> int32_t & {
    size_t mask = in.size() - 1;
    for (size_t i = std::hash<std::string_view>()(v) & mask;; i = (i + 1) & mask)
      if (in[i] < 0 || value(in[i]) == v)
        return in[i];
  };
  c->key_at.push_back(0);
  for (unsigned s = 0; s < OB_MINDEX_SLOTS; s++) {
    if (!db.get_value_freq(s))
      continue;
    c->key[s].assign((size_t)db.get_lastdocid() + 1, -1);
    for (Xapian::ValueIterator v = db.valuestream_begin(s); v != db.valuestream_end(s); ++v) {
      if (++seen % 4096 == 0 && stop.load(std::memory_order_relaxed))
        return nullptr;
      const std::string &val = *v;
      if (val.empty() || v.get_docid() >= c->key[s].size())
        continue; // (Xapian does not collapse on an empty value either)
      int32_t &slot = place(set, val);
      int32_t k = slot;
      if (k < 0) {
        slot = k = (int32_t)nkeys++;
        c->key_text += val;
        c->key_at.push_back(c->key_text.size());
        if (nkeys * 2 > set.size()) { // grow: every value placed again
          std::vector<int32_t> more(set.size() * 2, -1);
          for (size_t i = 0; i < nkeys; i++)
            place(more, value((int32_t)i)) = (int32_t)i;
          set.swap(more);
        }
      }
      c->key[s][v.get_docid()] = k;
    }
  }
  std::vector<int32_t>().swap(set);
  c->key_text.shrink_to_fit();
  c->key_at.shrink_to_fit();
  Xapian::doccount n = db.get_doccount();
  std::vector<std::pair<Xapian::doccount, std::string>> common;
  for (Xapian::TermIterator t = db.allterms_begin(); t != db.allterms_end(); ++t) {
    if (++seen % 4096 == 0 && stop.load(std::memory_order_relaxed))
      return nullptr;
    Xapian::doccount tf = t.get_termfreq();
    // (a boolean term, wdf 0 wherever it occurs, weighs nothing)
    if ((unsigned long long)tf * table_share >= n && db.get_collection_freq(*t))
      common.emplace_back(tf, *t);
  }
  std::sort(common.begin(), common.end(),
            [](const auto &x, const auto &y) { return x.first > y.first; });
  std::vector<unsigned> ids, wdfs;
  for (const auto &ct : common) {
    if (stop.load(std::memory_order_relaxed))
      return nullptr;
    if (ob_wtable_bytes(c->wt) + ob_wtable_cost(c->wt, ct.first) > table_cap)
      continue; // a rarer term may still fit
    ids.clear();
    wdfs.clear();
    for (Xapian::PostingIterator p = db.postlist_begin(ct.second);
         p != db.postlist_end(ct.second); ++p) {
      ids.push_back(*p);
      wdfs.push_back(p.get_wdf());
    }
    if (ob_wtable_add(c->wt, ct.second.data(), ct.second.size(), ids.data(), wdfs.data(),
                      ids.size()))
      throw std::bad_alloc(); // the postings come sorted and in range: out of memory
  }
  return ob_wtable_terms(c->wt) ? c : nullptr;
}

// A record as the shared copy keeps it: a byte 1 and the length (4 bytes,
// little-endian) before the raw DEFLATE of it, or a byte 0 before the
// record as it is when that is not smaller. At 98,000 entries the copy
// keeps ≈ 30 MB of records: a hit's then costs ≈ 2 µs to inflate, where
// Xapian's B-tree read (block copies out of the page cache) and zlib's
// inflate cost ≈ 15 µs (docs/performance.md, session 16).
static const int record_level = 1;

static void pack_record(libdeflate_compressor *z, const std::string &data, std::string &out)
{
  size_t n = data.size();
  out.resize(5 + libdeflate_deflate_compress_bound(z, n));
  size_t c = n >= 64 && n <= UINT32_MAX
                 ? libdeflate_deflate_compress(z, data.data(), n, &out[5], out.size() - 5)
                 : 0;
  if (c == 0 || c + 5 >= n + 1) {
    out.assign(1, '\0');
    out += data;
    return;
  }
  out[0] = 1;
  for (int i = 0; i < 4; i++)
    out[1 + i] = (char)(n >> (8 * i) & 0xff);
  out.resize(5 + c);
}

// The record packed in p[0..n) as a malloc'd string (NUL-terminated;
// *len its length); nullptr when it does not inflate.
static char *unpack_record(libdeflate_decompressor *z, const char *p, size_t n, size_t *len)
{
  if (n >= 1 && p[0] == 0) {
    *len = n - 1;
    return ob_xstrndup(p + 1, n - 1);
  }
  if (n < 5 || p[0] != 1)
    return nullptr;
  size_t raw = 0;
  for (int i = 0; i < 4; i++)
    raw |= (size_t)(unsigned char)p[1 + i] << (8 * i);
  char *out = (char *)ob_xmalloc(raw + 1);
  size_t got = 0;
  if (libdeflate_deflate_decompress(z, p + 5, n - 5, out, raw, &got) != LIBDEFLATE_SUCCESS ||
      got != raw) {
    std::free(out);
    return nullptr;
  }
  out[raw] = '\0';
  *len = raw;
  return out;
}

// Copies the index at path by term: the postings of each term in one
// piece (ob_mindex_add_postings), lengths, values and packed records per
// document (pack_record); past max entries, makes its wdf table instead
// (make_table).
// NULL if the loader stops.
static std::shared_ptr<shared_copy> make_copy(const std::string &path, unsigned long max,
                                              const std::atomic<bool> &stop)
{
  for (int attempt = 0; attempt < 3; attempt++) {
    ob_mindex *m = ob_mindex_new();
    try {
      Xapian::Database db(path);
      if (db.get_doccount() > max) {
        ob_mindex_free(m);
        m = nullptr; // (a write meanwhile: the catch below frees nothing)
        return make_table(db, stop);
      }
      auto c = std::make_shared<shared_copy>();
      c->rev = db.get_revision();
      size_t seen = 0;
      std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor *)> z(
          libdeflate_alloc_compressor(record_level), libdeflate_free_compressor);
      if (!z)
        throw std::bad_alloc();
      std::string rec;
      for (Xapian::PostingIterator it = db.postlist_begin(""); it != db.postlist_end("");
           ++it) {
        if (++seen % 4096 == 0 && stop.load(std::memory_order_relaxed)) {
          ob_mindex_free(m);
          return nullptr;
        }
        Xapian::Document doc = db.get_document(*it);
        pack_record(z.get(), doc.get_data(), rec);
        ob_mindex_add_doc(m, *it, it.get_doclength(), rec.data(), rec.size());
        for (Xapian::ValueIterator v = doc.values_begin(); v != doc.values_end(); ++v)
          ob_mindex_add_value(m, v.get_valueno(), (*v).data(), (*v).size());
      }
      std::vector<unsigned> ids, wdfs;
      for (Xapian::TermIterator t = db.allterms_begin(); t != db.allterms_end(); ++t) {
        if (stop.load(std::memory_order_relaxed)) {
          ob_mindex_free(m);
          return nullptr;
        }
        const std::string term = *t;
        ids.clear();
        wdfs.clear();
        for (Xapian::PostingIterator p = db.postlist_begin(term); p != db.postlist_end(term);
             ++p) {
          ids.push_back(*p);
          wdfs.push_back(p.get_wdf());
        }
        ob_mindex_add_postings(m, term.data(), term.size(), ids.data(), wdfs.data(),
                               ids.size());
      }
      ob_mindex_seal(m);
      c->m = m;
      return c;
    } catch (const Xapian::DatabaseModifiedError &) {
      ob_mindex_free(m); // written meanwhile: again, at the new revision
    } catch (...) {
      ob_mindex_free(m);
      throw;
    }
  }
  return nullptr;
}

void loader::run()
{
  std::unique_lock<std::mutex> lk(mu);
  for (;;) {
    work.wait(lk, [this] { return stop || !wanted.empty(); });
    if (stop)
      return;
    std::string key = wanted.begin()->first;
    std::string path = key.substr(0, key.find('\0'));
    unsigned long max = wanted.begin()->second;
    wanted.erase(wanted.begin());
    making = key;
    lk.unlock();
    std::shared_ptr<shared_copy> c;
    try {
      c = make_copy(path, max, stop);
    } catch (...) {
      // the folder went away (a rebuild swapped it) or memory ran out:
      // the handles go on with Xapian, and ask again at a new revision
    }
    lk.lock();
    making.clear();
    if (c)
      ready[key] = c;
    done.notify_all();
  }
}

void loader::request(const std::string &key, Xapian::rev rev, unsigned long max,
                     std::shared_ptr<shared_copy> &out)
{
  std::lock_guard<std::mutex> g(mu);
  auto r = ready.find(key);
  if (r != ready.end() && r->second->rev == rev) {
    out = r->second;
    return;
  }
  // an older revision's: the handles that still hold it let it go when
  // they move on (find_shared), so the old and the new one are not both
  // kept while the new one is made
  if (r != ready.end() && r->second->rev < rev)
    ready.erase(r);
  // a copy of another folder that no handle holds: a rebuild moved on
  for (auto it = ready.begin(); it != ready.end();)
    if (it->first != key && it->second.use_count() == 1)
      it = ready.erase(it);
    else
      ++it;
  // and what was asked for such a folder, unless it is still wanted or
  // being made (the maps stay as small as the folders in use)
  for (auto it = asked.begin(); it != asked.end();)
    if (it->first != key && !ready.count(it->first) && !wanted.count(it->first) &&
        it->first != making)
      it = asked.erase(it);
    else
      ++it;
  auto a = asked.find(key);
  if (a != asked.end() && a->second >= rev)
    return; // being made, or given up at this revision
  asked[key] = rev;
  wanted[key] = max;
  if (!th.joinable())
    th = std::thread([this] { run(); });
  work.notify_one();
}

// Points x->big at the shared copy of its revision if there is one (and
// asks for one if not); clears it when the index is not to be shared.
static void find_shared(ob_xdb *x)
{
  if (!x->share_max) {
    x->big.reset();
    return;
  }
  Xapian::rev rev = x->disk.get_revision();
  if (x->big && x->big->rev == rev)
    return;
  x->big.reset();
  Xapian::doccount n = x->disk.get_doccount();
  if (x->mem || n <= x->mem_max)
    return;
  // a whole copy up to share_max entries, the wdf table past it: each
  // under a key of its own, so handles sharing with other limits agree
  if (n <= x->share_max)
    g_loader.request(x->path, rev, x->share_max, x->big);
  else
    g_loader.request(x->path + std::string(1, '\0') + "table", rev, 0, x->big);
}

extern "C" ob_status ob_xdb_share(ob_xdb *db, unsigned long max_docs, char *err)
{
  GUARD_BEGIN
  db->share_max = max_docs;
  find_shared(db);
  return OB_OK;
  GUARD_END("share index in memory")
}

extern "C" int ob_xdb_share_wait(ob_xdb *db, double seconds)
{
  try {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      find_shared(db);
      if (db->big)
        return 1;
      std::unique_lock<std::mutex> lk(g_loader.mu);
      if (g_loader.done.wait_until(lk, until) == std::cv_status::timeout)
        break;
    }
    find_shared(db);
    return db->big ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

extern "C" size_t ob_xdb_shared_folders(void)
{
  std::lock_guard<std::mutex> g(g_loader.mu);
  std::set<std::string> all;
  auto folder = [](const std::string &key) { return key.substr(0, key.find('\0')); };
  for (const auto &r : g_loader.ready)
    all.insert(folder(r.first));
  for (const auto &a : g_loader.asked)
    all.insert(folder(a.first));
  for (const auto &w : g_loader.wanted)
    all.insert(folder(w.first));
  return all.size();
}

extern "C" size_t ob_xdb_shared_bytes(ob_xdb *db)
{
  if (!db->big)
    return 0;
  return db->big->m ? ob_mindex_bytes(db->big->m)
                    : ob_wtable_bytes(db->big->wt) + db->big->key_bytes();
}

extern "C" int ob_xdb_shared_state(ob_xdb *db)
{
  try {
    find_shared(db);
    if (db->big)
      return 2;
    Xapian::doccount n = db->disk.get_doccount();
    return db->share_max && !db->mem && n > db->mem_max ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

extern "C" ob_status ob_xdb_preload(ob_xdb *db, unsigned long max_docs, char *err)
{
  GUARD_BEGIN
  db->mem_max = max_docs;
  load_copy(db);
  return OB_OK;
  GUARD_END("copy index into memory")
}

extern "C" int ob_xdb_in_memory(ob_xdb *db) { return db->mem || (db->big && db->big->m); }

extern "C" void **ob_xdb_doc_scratch(ob_xdb *db, unsigned docid)
{
  return db->mem ? ob_mindex_scratch(db->mem, docid) : nullptr;
}

extern "C" ob_status ob_xdb_reopen(ob_xdb *db, int *changed, char *err)
{
  *changed = 0;
  GUARD_BEGIN
  *changed = db->disk.reopen() ? 1 : 0;
  if (*changed) {
    load_copy(db);
    find_shared(db);
  }
  return OB_OK;
  GUARD_END("reopen index")
}

extern "C" unsigned long ob_xdb_doc_count(ob_xdb *db)
{
  try {
    return db->disk.get_doccount();
  } catch (...) {
    return 0;
  }
}

extern "C" unsigned long ob_xdb_revision(ob_xdb *db)
{
  try {
    return (unsigned long)db->disk.get_revision();
  } catch (...) {
    return 0;
  }
}

extern "C" ob_status ob_xdb_get_meta(ob_xdb *db, const char *key, ob_buf *out, char *err)
{
  GUARD_BEGIN
  std::string v = db->disk.get_metadata(key);
  return ob_buf_append(out, v.data(), v.size());
  GUARD_END("get metadata")
}

extern "C" unsigned long ob_xdb_termfreq(ob_xdb *db, const char *term)
{
  try {
    return db->disk.get_termfreq(term);
  } catch (...) {
    return 0;
  }
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

static Xapian::Query clause_query(const clause &c)
{
  Xapian::Query sub;
  if (c.terms.size() == 1)
    sub = Xapian::Query(c.terms[0]);
  else
    sub = Xapian::Query(Xapian::Query::OP_SYNONYM, c.terms.begin(), c.terms.end());
  if (c.scale != 1.0)
    sub = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, sub, c.scale);
  return sub;
}

// The OR of the clauses whose bit is set in `keep` (all when keep is
// empty), with the filters.
static Xapian::Query build(const ob_xquery *q, const std::vector<bool> &keep = {})
{
  std::vector<Xapian::Query> parts;
  parts.reserve(q->clauses.size());
  for (size_t i = 0; i < q->clauses.size(); i++)
    if (keep.empty() || keep[i])
      parts.push_back(clause_query(q->clauses[i]));
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

// Documents with fixed weights as a posting list: stage two's candidates,
// with their full scores when the wdf table scored them (score_common),
// or all 0 to filter the full query by them.
class Scored : public Xapian::PostingSource {
  std::vector<std::pair<Xapian::docid, double>> v; // by docid
  size_t pos = 0;
  bool started = false;
  double most = 0;

public:
  explicit Scored(std::vector<std::pair<Xapian::docid, double>> x) : v(std::move(x))
  {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end(),
                        [](const auto &a, const auto &b) { return a.first == b.first; }),
            v.end());
    for (const auto &d : v)
      most = std::max(most, d.second);
  }
  Xapian::doccount get_termfreq_min() const override { return v.size(); }
  Xapian::doccount get_termfreq_est() const override { return v.size(); }
  Xapian::doccount get_termfreq_max() const override { return v.size(); }
  void init(const Xapian::Database &) override
  {
    pos = 0;
    started = false;
    set_maxweight(most);
  }
  void next(double) override
  {
    if (started)
      pos++;
    started = true;
  }
  void skip_to(Xapian::docid did, double) override
  {
    started = true;
    pos = std::lower_bound(v.begin() + pos, v.end(), did,
                           [](const auto &a, Xapian::docid d) { return a.first < d; }) -
          v.begin();
  }
  bool at_end() const override { return started && pos >= v.size(); }
  Xapian::docid get_docid() const override { return v[pos].first; }
  double get_weight() const override { return v[pos].second; }
  Scored *clone() const override { return new Scored(v); }
  std::string get_description() const override { return "Scored"; }
};

// The clauses stage one keeps: those no more common than the threshold
// (at most p->clauses of them, the rarest), or the 3 rarest when none is.
// Empty = not worth pruning. tf gets every term's frequency, clause by
// clause (stage two reuses them).
static std::vector<bool> rare_clauses(const Xapian::Database &db, const ob_xquery *q,
                                      const ob_xprune *p, std::vector<Xapian::doccount> &tf)
{
  size_t n = q->clauses.size();
  std::vector<bool> keep(n, false);
  std::vector<std::pair<Xapian::doccount, size_t>> df(n);
  double limit = p->common * db.get_doccount();
  size_t kept = 0;
  tf.clear();
  for (size_t i = 0; i < n; i++) {
    Xapian::doccount f = 0;
    for (const std::string &t : q->clauses[i].terms) {
      tf.push_back(db.get_termfreq(t));
      f += tf.back();
    }
    df[i] = {f, i};
    if (f <= limit) {
      keep[i] = true;
      kept++;
    }
  }
  if (kept == n && (!p->clauses || kept <= p->clauses))
    return {}; // every clause is rare: the full query is cheap already
  if (p->clauses && kept > p->clauses) {
    // a long query: its rarest clauses pick the candidates, the others
    // are scored on them in stage two (cheaper per posting they read)
    std::vector<std::pair<Xapian::doccount, size_t>> rare;
    for (size_t i = 0; i < n; i++)
      if (keep[i])
        rare.push_back(df[i]);
    std::sort(rare.begin(), rare.end());
    for (size_t i = p->clauses; i < rare.size(); i++)
      keep[rare[i].second] = false;
  }
  if (kept == 0) {
    std::sort(df.begin(), df.end());
    for (size_t i = 0; i < n && i < 3; i++)
      keep[df[i].second] = true;
  }
  return keep;
}

// A hit as ranked: its weight (the prior applied) and docid.
typedef std::pair<double, Xapian::docid> ranked_hit;

// Copies hits [offset, offset + limit) of the ranked list, with their data.
static void fill(const Xapian::Database &db, const std::vector<ranked_hit> &ranked,
                 Xapian::doccount estimate, size_t offset, size_t limit, ob_xresults *res)
{
  res->total = estimate;
  res->n = 0;
  size_t n = ranked.size() > offset ? std::min(ranked.size() - offset, limit) : 0;
  res->hits = static_cast<ob_xhit *>(ob_xcalloc(n ? n : 1, sizeof(ob_xhit)));
  for (size_t i = 0; i < n; i++) {
    std::string data = db.get_document(ranked[offset + i].second).get_data();
    ob_xhit &h = res->hits[res->n++];
    h.docid = ranked[offset + i].second;
    h.score = ranked[offset + i].first;
    h.data = ob_xstrndup(data.data(), data.size());
    h.data_len = data.size();
  }
}

// The prior applied to a ranked list (factor where the value starts with
// the prefix, by key_of(i): the value of hit i), then a stable sort: it
// keeps Xapian's order among equal scores.
template <class K>
static void apply_prior(const ob_xsearch_opts *o, std::vector<ranked_hit> &out, K key_of)
{
  const ob_xprior *prior = o ? o->prior : nullptr;
  if (!prior)
    return;
  size_t plen = std::strlen(prior->prefix);
  for (size_t i = 0; i < out.size(); i++)
    if (key_of(i, prior->prefix, plen))
      out[i].first *= prior->factor;
  std::stable_sort(out.begin(), out.end(),
                   [](const ranked_hit &x, const ranked_hit &y) { return x.first > y.first; });
}

// The mset as a ranked list, with the prior applied.
static void rank(const Xapian::MSet &mset, const ob_xsearch_opts *o, std::vector<ranked_hit> &out)
{
  out.clear();
  std::vector<std::string> keys;
  for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it) {
    out.emplace_back(it.get_weight(), *it);
    if (o && o->prior)
      keys.push_back(o->collapse_max ? it.get_collapse_key()
                                     : it.get_document().get_value(o->collapse_slot));
  }
  apply_prior(o, out, [&](size_t i, const char *prefix, size_t plen) {
    return keys[i].compare(0, plen, prefix) == 0;
  });
}

// Stage two's candidates (docid, full score) ranked as an Enquire ranks
// them as a posting list (Scored): by score, equal scores by docid, at
// most collapse_max per collapse value (an entry without one is never
// collapsed), ranks [first, want) into out with the prior applied as
// rank() applies it, the value of each read from c (shared_copy::key)
// instead of from disk: at 100,000 files an Enquire read ≈ 95 blocks of
// values a search, ≈ 10 % of its time (docs/performance.md, session 18).
// Returns how many of the candidates the collapse keeps, or
// -1 when c has no values of the slot asked for (Enquire then). seen is
// scratch, zero between calls.
static long rank_table(const shared_copy &c, std::vector<std::pair<Xapian::docid, double>> &cand,
                       const ob_xsearch_opts *o, size_t first, size_t want,
                       std::vector<unsigned> &seen, std::vector<ranked_hit> &out)
{
  bool keyed = o->collapse_max || o->prior;
  if (keyed && (o->collapse_slot >= OB_MINDEX_SLOTS || c.key[o->collapse_slot].empty()))
    return -1;
  const std::vector<int32_t> *key = keyed ? &c.key[o->collapse_slot] : nullptr;
  auto key_of = [&](Xapian::docid d) { return d < key->size() ? (*key)[d] : -1; };
  std::sort(cand.begin(), cand.end(), [](const auto &x, const auto &y) {
    return x.second > y.second || (x.second == y.second && x.first < y.first);
  });
  out.clear();
  std::vector<int32_t> keys; // of out's hits
  long kept = 0;
  if (o->collapse_max && seen.size() < c.key_at.size())
    seen.resize(c.key_at.size(), 0);
  for (const auto &d : cand) {
    int32_t k = keyed ? key_of(d.first) : -1;
    if (o->collapse_max && k >= 0 && seen[(size_t)k]++ >= o->collapse_max)
      continue;
    if ((size_t)kept >= first && (size_t)kept < want) {
      out.emplace_back(d.second, d.first);
      keys.push_back(k);
    }
    kept++;
  }
  if (o->collapse_max)
    for (const auto &d : cand) {
      int32_t k = key_of(d.first);
      if (k >= 0)
        seen[(size_t)k] = 0;
    }
  apply_prior(o, out, [&](size_t i, const char *prefix, size_t plen) {
    if (keys[i] < 0)
      return plen == 0;
    size_t at = c.key_at[(size_t)keys[i]], len = c.key_at[(size_t)keys[i] + 1] - at;
    return len >= plen && c.key_text.compare(at, plen, prefix) == 0;
  });
  return kept;
}

// What stage one found: the candidates with their weights over the rare
// clauses, which clauses those were, and the term frequency of every
// term of every clause, in order.
struct stage {
  std::vector<std::pair<Xapian::docid, double>> cand;
  std::vector<bool> keep;
  std::vector<Xapian::doccount> tf;
};

// The candidates of stage one (see ob_xprune in xap.h), or false when the
// full query should run as it is.
static bool stage_one(const Xapian::Database &db, const ob_xquery *q, const ob_xprune *p,
                      double k1, double b, stage &out)
{
  if (!p || !p->min_docs || db.get_doccount() < p->min_docs || q->clauses.empty())
    return false;
  out.keep = rare_clauses(db, q, p, out.tf);
  if (out.keep.empty())
    return false;
  Xapian::Enquire enq(db);
  enq.set_query(build(q, out.keep));
  enq.set_weighting_scheme(Xapian::BM25Weight(k1, 0, 1, b, 0.5));
  Xapian::MSet mset = enq.get_mset(0, p->pool);
  out.cand.clear();
  for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it)
    out.cand.emplace_back(*it, it.get_weight());
  // fewer candidates than asked: the rare clauses match too little for
  // the common ones to be left out safely
  return out.cand.size() >= p->pool;
}

// Clause c's terms that occur (tf[k]: term k's frequency, as
// rare_clauses() read it) into present, and the clause's frequency with
// Xapian's statistics: its term's, or a synonym group's OR estimate
// (mindex.h's formula); 0 when none occurs. freqs is scratch.
static double clause_freq(const clause &c, const Xapian::doccount *tf, double N,
                          std::vector<double> &freqs, std::vector<const std::string *> &present)
{
  freqs.clear();
  present.clear();
  for (size_t k = 0; k < c.terms.size(); k++)
    if (tf[k]) {
      freqs.push_back((double)tf[k]);
      present.push_back(&c.terms[k]);
    }
  if (present.empty())
    return 0;
  return c.terms.size() == 1 ? freqs[0] : ob_mindex_or_estimate(freqs.data(), freqs.size(), N);
}

// The same, and the clause's BM25 term weight from that frequency.
static double clause_terms(const clause &c, const Xapian::doccount *tf, double N, double k1,
                           std::vector<double> &freqs, std::vector<const std::string *> &present)
{
  double freq = clause_freq(c, tf, N, freqs, present);
  return present.empty() ? 0 : ob_mindex_clause_weight(N, freq, c.scale, k1);
}

// Calls fn(clause, its BM25 term weight, its terms that occur, their
// frequencies) for each clause of q whose keep flag in s is `kept` (stage
// one's clauses, or those stage two adds) and that has a term in the
// index.
template <class F>
static void each_clause(const ob_xquery *q, const stage &s, bool kept, double N, double k1, F fn)
{
  std::vector<double> freqs;
  std::vector<const std::string *> present;
  size_t first = 0; // the clause's terms' frequencies: s.tf[first..]
  for (size_t ci = 0; ci < q->clauses.size(); first += q->clauses[ci++].terms.size()) {
    if (s.keep[ci] != kept)
      continue;
    double tw = clause_terms(q->clauses[ci], &s.tf[first], N, k1, freqs, present);
    if (!present.empty())
      fn(q->clauses[ci], tw, present, freqs);
  }
}

// How many entries the full query (an OR of the clauses, no filters)
// matches, estimated from the term frequencies stage one read (s.tf) with
// Xapian's formula for an OR (ob_mindex_or_estimate): a synonym group's
// frequency first, then the OR of all clauses. Asking Xapian instead
// (get_mset(0, 0)) opens every posting list: 7 % of a search at 100k, for
// an estimate it then rounds to one digit (400,000 for most bench queries
// at 100k). mindex.c estimates its clauses with the same formula.
static Xapian::doccount full_estimate(const ob_xquery *q, const stage &s, double N)
{
  std::vector<double> freqs, all;
  std::vector<const std::string *> present;
  size_t first = 0;
  for (size_t ci = 0; ci < q->clauses.size(); first += q->clauses[ci++].terms.size()) {
    double freq = clause_freq(q->clauses[ci], &s.tf[first], N, freqs, present);
    if (!present.empty())
      all.push_back(freq);
  }
  if (all.empty())
    return 0;
  return (Xapian::doccount)(all.size() == 1 ? all[0]
                                            : ob_mindex_or_estimate(all.data(), all.size(), N));
}

// Stage one as stage_one() runs it in Xapian, accumulated here instead:
// each rare clause's postings read once, in docid order, the BM25 part
// added per entry with the entry's length from the table (Xapian's
// matcher reads the length from its own table, and walks an OR tree per
// posting), then the best `pool` by weight, ties by docid, as an MSet
// ranks them. Only without filters (false: stage_one() then).
static bool stage_one_table(ob_xdb *db, const ob_wtable *wt, const ob_xquery *q,
                            const ob_xprune *p, stage &out)
{
  const Xapian::Database &xdb = db->disk;
  if (!p || !p->min_docs || xdb.get_doccount() < p->min_docs || q->clauses.empty() ||
      !q->filters.empty())
    return false;
  out.keep = rare_clauses(xdb, q, p, out.tf);
  if (out.keep.empty())
    return false;
  double N = xdb.get_doccount(), k1 = db->k1, b = db->b;
  double avlen = xdb.get_avlength();
  double len_factor = avlen != 0 ? 1 / avlen : 0;
  size_t last = (size_t)xdb.get_lastdocid() + 1;
  if (db->acc.size() < last) {
    db->acc.assign(last, 0.0);
    db->met.assign(last, false);
  }
  double *acc = db->acc.data();
  std::vector<bool> &met = db->met;
  std::vector<Xapian::docid> hits;
  // Each term's postings are read once per search into pd / pw (a
  // two-character word is also its bigram's clause, and a synonym group
  // may hold a term that has a clause of its own: 16 % of stage one's
  // postings were read twice), and a clause's postings are scored apart
  // from the read: scoring within it left each posting's division and
  // accumulator load waiting on Xapian's decoding (a call per posting),
  // while apart they overlap from one posting to the next.
  std::vector<Xapian::docid> &pd = db->pd;
  std::vector<Xapian::termcount> &pw = db->pw;
  std::vector<Xapian::docid> &md = db->md; // a synonym group's merged postings
  std::vector<Xapian::termcount> &mw = db->mw;
  pd.clear();
  pw.clear();
  struct slice {
    const std::string *term;
    size_t off, n;
  };
  std::vector<slice> read;
  // (room for the term frequency's worth first: a push per posting cost
  // 5 % of a search at 100k)
  auto postings = [&](const std::string &t, size_t tf) -> slice {
    for (const slice &r : read)
      if (*r.term == t)
        return r;
    size_t off = pd.size(), at = off;
    pd.resize(off + tf);
    pw.resize(off + tf);
    for (Xapian::PostingIterator it = xdb.postlist_begin(t); it != xdb.postlist_end(t); ++it) {
      if (at == pd.size()) { // more than the frequency said (never in one database)
        pd.push_back(0);
        pw.push_back(0);
      }
      pd[at] = *it;
      pw[at++] = it.get_wdf();
    }
    pd.resize(at);
    pw.resize(at);
    read.push_back({&t, off, at - off});
    return read.back();
  };
  unsigned max_len_docid;
  const uint32_t *lens = ob_wtable_lengths(wt, &max_len_docid);
  auto score = [&](double tw, const Xapian::docid *dp, const Xapian::termcount *wp, size_t n) {
    size_t nh = hits.size();
    hits.resize(nh + n);
    Xapian::docid *h = hits.data();
    for (size_t i = 0; i < n; i++) {
      if (i + 16 < n) {
        __builtin_prefetch(&acc[dp[i + 16]], 1);
        __builtin_prefetch(&lens[std::min(dp[i + 16], max_len_docid)]);
      }
      Xapian::docid d = dp[i];
      double len = d <= max_len_docid ? (double)lens[d] : 0;
      double normlen = std::max(len * len_factor, 0.5);
      double w = (double)wp[i];
      if (w > len)
        w = len; // SynonymPostList caps the wdf at the length
      h[nh] = d; // kept when d is met for the first time
      nh += !met[d];
      met[d] = true;
      acc[d] += tw * (w / (k1 * (normlen * b + (1 - b)) + w));
    }
    hits.resize(nh);
  };
  std::vector<slice> group;
  std::vector<size_t> at;
  // the accumulators back at rest however stage one ends: an exception
  // (Xapian's, or bad_alloc, up to the candidates' copy) leaves them set
  struct rest_guard {
    const std::vector<Xapian::docid> &hits;
    double *acc;
    std::vector<bool> &met;
    bool armed;
    ~rest_guard()
    {
      if (armed)
        for (Xapian::docid d : hits) {
          acc[d] = 0;
          met[d] = false;
        }
    }
  } guard{hits, acc, met, true};
  {
    each_clause(q, out, true, N, k1, [&](const clause &, double tw,
                                         const std::vector<const std::string *> &present,
                                         const std::vector<double> &freqs) {
      group.clear();
      for (size_t k = 0; k < present.size(); k++)
        group.push_back(postings(*present[k], (size_t)freqs[k]));
      if (group.size() == 1) {
        score(tw, pd.data() + group[0].off, pw.data() + group[0].off, group[0].n);
        return;
      }
      // a synonym group: its terms' postings merged in docid order, the
      // wdf summed per entry, then one part
      md.clear();
      mw.clear();
      at.assign(group.size(), 0);
      for (;;) {
        Xapian::docid d = 0;
        for (size_t k = 0; k < group.size(); k++)
          if (at[k] < group[k].n && (d == 0 || pd[group[k].off + at[k]] < d))
            d = pd[group[k].off + at[k]];
        if (d == 0)
          break;
        Xapian::termcount w = 0;
        for (size_t k = 0; k < group.size(); k++)
          if (at[k] < group[k].n && pd[group[k].off + at[k]] == d)
            w += pw[group[k].off + at[k]++];
        md.push_back(d);
        mw.push_back(w);
      }
      score(tw, md.data(), mw.data(), md.size());
    });
  }
  // a long query's postings are not kept past it: 8 bytes a posting, a
  // few MB for the longest bench queries, in each worker (server RSS)
  if (pd.capacity() > postings_kept) {
    std::vector<Xapian::docid>().swap(pd);
    std::vector<Xapian::termcount>().swap(pw);
  }
  if (md.capacity() > postings_kept) {
    std::vector<Xapian::docid>().swap(md);
    std::vector<Xapian::termcount>().swap(mw);
  }
  // (the accumulators fetched ahead: the hits are in the order first met,
  // each a cache miss when read in turn)
  size_t nh = hits.size();
  out.cand.resize(nh);
  for (size_t i = 0; i < nh; i++) {
    if (i + 16 < nh)
      __builtin_prefetch(&acc[hits[i + 16]], 1);
    Xapian::docid d = hits[i];
    out.cand[i] = {d, acc[d]};
    acc[d] = 0;
    met[d] = false;
  }
  guard.armed = false;
  auto better = [](const std::pair<Xapian::docid, double> &x,
                   const std::pair<Xapian::docid, double> &y) {
    return x.second > y.second || (x.second == y.second && x.first < y.first);
  };
  if (out.cand.size() > p->pool) {
    std::nth_element(out.cand.begin(), out.cand.begin() + (ptrdiff_t)p->pool, out.cand.end(),
                     better);
    out.cand.resize(p->pool);
  }
  std::sort(out.cand.begin(), out.cand.end(), better);
  return out.cand.size() >= p->pool;
}

// Stage two from the wdf table: adds to each candidate's stage-one weight
// what the clauses stage one left out give it, as Xapian's BM25 does
// (BM25Weight::init and get_sumpart with min_normlen 0.5; a synonym's
// term frequency is its OR estimate and its wdf the sum, capped at the
// length: mindex.h scores the same way). A term the table does not hold
// is read from its posting list, skipping to the candidates. Sorts the
// candidates by docid.
static void score_common(const Xapian::Database &db, const ob_wtable *wt, const ob_xquery *q,
                         stage &s1, double k1, double b)
{
  std::vector<std::pair<Xapian::docid, double>> &cand = s1.cand;
  std::sort(cand.begin(), cand.end());
  size_t nc = cand.size();
  double N = db.get_doccount();
  double avlen = db.get_avlength();
  double len_factor = avlen != 0 ? 1 / avlen : 0;
  std::vector<double> kd(nc), dlen(nc);
  for (size_t i = 0; i < nc; i++) {
    dlen[i] = (double)ob_wtable_length(wt, cand[i].first);
    double normlen = std::max(dlen[i] * len_factor, 0.5);
    kd[i] = k1 * (normlen * b + (1 - b));
  }
  std::vector<unsigned long> x(nc);
  // each term's wdf in the candidates, looked up once per search (terms
  // recur across clauses: 16 % of the lookups, 22 % of the postings read)
  std::vector<std::pair<const std::string *, size_t>> seen; // term, offset in wd
  std::vector<unsigned> wd;
  each_clause(q, s1, false, N, k1, [&](const clause &, double tw,
                                       const std::vector<const std::string *> &present,
                                       const std::vector<double> &) {
    std::fill(x.begin(), x.end(), 0);
    for (const std::string *t : present) {
      size_t off = wd.size();
      for (const auto &e : seen)
        if (*e.first == *t) {
          off = e.second;
          break;
        }
      if (off == wd.size()) {
        wd.resize(off + nc, 0);
        const ob_wterm *w = ob_wtable_find(wt, t->data(), t->size());
        if (w) {
          for (size_t i = 0; i < nc; i++)
            wd[off + i] = ob_wtable_wdf(w, cand[i].first);
        } else {
          Xapian::PostingIterator p = db.postlist_begin(*t), end = db.postlist_end(*t);
          for (size_t i = 0; i < nc && p != end; i++) {
            p.skip_to(cand[i].first);
            if (p != end && *p == cand[i].first)
              wd[off + i] = p.get_wdf();
          }
        }
        seen.emplace_back(t, off);
      }
      for (size_t i = 0; i < nc; i++)
        x[i] += wd[off + i];
    }
    for (size_t i = 0; i < nc; i++)
      if (x[i]) {
        double w = (double)x[i];
        if (w > dlen[i])
          w = dlen[i]; // SynonymPostList caps the wdf at the length
        cand[i].second += tw * (w / (kd[i] + w));
      }
  });
}

// The query in mindex.h's terms, searched in the copy in memory.
static ob_status mem_search(ob_xdb *db, const ob_mindex *m, const ob_xquery *q,
                            const ob_xsearch_opts *o, ob_xresults *res, char *err)
{
  std::vector<std::vector<const char *>> ptrs;
  std::vector<ob_mclause> clauses;
  std::vector<ob_mfilter> filters;
  ptrs.reserve(q->clauses.size() + q->filters.size());
  for (const clause &c : q->clauses) {
    ptrs.emplace_back();
    for (const std::string &t : c.terms)
      ptrs.back().push_back(t.c_str());
    clauses.push_back({ptrs.back().data(), ptrs.back().size(), c.scale});
  }
  for (const auto &g : q->filters) {
    ptrs.emplace_back();
    for (const std::string &t : g.second)
      ptrs.back().push_back(t.c_str());
    filters.push_back({ptrs.back().data(), ptrs.back().size()});
  }
  if (!db->work)
    db->work = ob_mwork_new();
  return ob_mindex_search(m, db->work, clauses.data(), clauses.size(), filters.data(),
                          filters.size(), db->k1, db->b, o, res, err);
}

extern "C" ob_status ob_xdb_search(ob_xdb *db, const ob_xquery *q, const ob_xsearch_opts *o,
                                   ob_xresults *res, char *err)
{
  res->total = 0;
  res->n = 0;
  res->hits = nullptr;
  res->pruned = 0;
  GUARD_BEGIN
  if (db->mem) {
    ob_status st = mem_search(db, db->mem, q, o, res, err);
    if (st != OB_EINPUT) // EINPUT: a value slot not kept; Xapian below
      return st;
  } else if (db->share_max) {
    find_shared(db);
    std::shared_ptr<shared_copy> c = db->big;
    ob_status st = c && c->m ? mem_search(db, c->m, q, o, res, err) : OB_EINPUT;
    if (st != OB_OK && st != OB_EINPUT)
      return st;
    if (st == OB_OK) {
      // the copy keeps its records packed (pack_record)
      if (!db->inflater)
        db->inflater = libdeflate_alloc_decompressor(); // none: read from the index below
      for (size_t i = 0; i < res->n; i++) {
        char *packed = res->hits[i].data;
        size_t len = 0;
        res->hits[i].data = packed && db->inflater ? unpack_record(db->inflater, packed,
                                                                   res->hits[i].data_len, &len)
                                                   : nullptr;
        res->hits[i].data_len = len;
        std::free(packed);
      }
      try { // one that did not unpack (never seen): read it from the index
        for (size_t i = 0; i < res->n; i++) {
          if (res->hits[i].data)
            continue;
          std::string data = db->disk.get_document(res->hits[i].docid).get_data();
          res->hits[i].data = ob_xstrndup(data.data(), data.size());
          res->hits[i].data_len = data.size();
        }
        return OB_OK;
      } catch (const Xapian::DatabaseModifiedError &) {
        ob_xresults_free(res); // overwritten meanwhile: Xapian below, which reopens
      }
    }
  }
  // past a whole copy: the wdf table, when it is of this revision
  std::shared_ptr<shared_copy> table = db->big && db->big->wt ? db->big : nullptr;
  Xapian::Query query = build(q);
  // with a prior, the best `pool` hits are ranked again before the cut
  size_t want = o->offset + o->limit;
  if (o->prior && o->prior->pool > want)
    want = o->prior->pool;
  size_t first = o->prior ? 0 : o->offset;
  for (int attempt = 0;; attempt++) {
    try {
      Xapian::Enquire enq(db->disk);
      enq.set_weighting_scheme(Xapian::BM25Weight(db->k1, 0, 1, db->b, 0.5));
      if (o->collapse_max)
        enq.set_collapse_key(o->collapse_slot, o->collapse_max);
      stage s1;
      Xapian::doccount estimate = 0;
      Xapian::MSet mset;
      bool fresh = table && table->rev == db->disk.get_revision();
      if (fresh && q->filters.empty() ? stage_one_table(db, table->wt, q, o->prune, s1)
                                      : stage_one(db->disk, q, o->prune, db->k1, db->b, s1)) {
        if (q->filters.empty()) {
          estimate = full_estimate(q, s1, (double)db->disk.get_doccount());
        } else {
          // the estimate of the full query costs no matching (no items asked)
          enq.set_query(query);
          estimate = enq.get_mset(0, 0).get_matches_estimated();
        }
        if (fresh) {
          // the candidates scored in full from the table, then ranked
          // and collapsed as Xapian would rank the full query
          score_common(db->disk, table->wt, q, s1, db->k1, db->b);
          std::vector<ranked_hit> ranked;
          long kept = rank_table(*table, s1.cand, o, first, want, db->seen, ranked);
          if (kept >= 0) {
            res->pruned = 2;
            fill(db->disk, ranked, std::max(estimate, (Xapian::doccount)kept),
                 o->offset - first, o->limit, res);
            return OB_OK;
          }
          Scored cand(std::move(s1.cand));
          enq.set_query(Xapian::Query(&cand));
          mset = enq.get_mset((Xapian::doccount)first, (Xapian::doccount)(want - first));
          res->pruned = 2;
        } else {
          for (auto &d : s1.cand)
            d.second = 0;
          Scored cand(std::move(s1.cand));
          enq.set_query(
              Xapian::Query(Xapian::Query::OP_FILTER, query, Xapian::Query(&cand)));
          mset = enq.get_mset((Xapian::doccount)first, (Xapian::doccount)(want - first));
          res->pruned = 1;
        }
      } else {
        enq.set_query(query);
        mset = enq.get_mset((Xapian::doccount)first, (Xapian::doccount)(want - first));
      }
      if (mset.get_matches_estimated() > estimate)
        estimate = mset.get_matches_estimated();
      std::vector<ranked_hit> ranked;
      rank(mset, o, ranked);
      fill(db->disk, ranked, estimate, o->offset - first, o->limit, res);
      return OB_OK;
    } catch (const Xapian::DatabaseModifiedError &) {
      if (attempt > 0)
        throw;
      ob_xresults_free(res);
      db->disk.reopen();
      load_copy(db);
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
      Xapian::Enquire enq(db->disk);
      enq.set_query(Xapian::Query(term));
      enq.set_weighting_scheme(Xapian::BoolWeight());
      enq.set_docid_order(Xapian::Enquire::ASCENDING);
      Xapian::MSet mset = enq.get_mset(0, (Xapian::doccount)limit);
      std::vector<ranked_hit> ranked;
      rank(mset, nullptr, ranked);
      fill(db->disk, ranked, mset.get_matches_estimated(), 0, limit, res);
      return OB_OK;
    } catch (const Xapian::DatabaseModifiedError &) {
      if (attempt > 0)
        throw;
      ob_xresults_free(res);
      db->disk.reopen();
      load_copy(db);
    }
  }
  GUARD_END("lookup")
}

extern "C" ob_status ob_xdb_count_terms(ob_xdb *db, const char *prefix, size_t *n, char *err)
{
  *n = 0;
  GUARD_BEGIN
  for (int attempt = 0;; attempt++) {
    try {
      size_t k = 0;
      for (Xapian::TermIterator t = db->disk.allterms_begin(prefix);
           t != db->disk.allterms_end(prefix); ++t)
        k++;
      *n = k;
      return OB_OK;
    } catch (const Xapian::DatabaseModifiedError &) {
      if (attempt > 0)
        throw;
      db->disk.reopen();
      load_copy(db);
    }
  }
  GUARD_END("count terms")
}

extern "C" ob_status ob_xdb_first_records(ob_xdb *db, const char *prefix, size_t max,
                                          ob_xrecord_fn each, void *ctx, char *err)
{
  GUARD_BEGIN
  for (int attempt = 0;; attempt++) {
    try {
      size_t k = 0;
      for (Xapian::TermIterator t = db->disk.allterms_begin(prefix);
           t != db->disk.allterms_end(prefix) && k < max; ++t, ++k) {
        const std::string term = *t;
        Xapian::PostingIterator p = db->disk.postlist_begin(term);
        if (p == db->disk.postlist_end(term))
          continue;
        std::string data = db->disk.get_document(*p).get_data();
        each(ctx, data.data(), data.size());
      }
      return OB_OK;
    } catch (const Xapian::DatabaseModifiedError &) {
      if (attempt > 0)
        throw;
      each(ctx, nullptr, 0);
      db->disk.reopen();
      load_copy(db);
    }
  }
  GUARD_END("read records")
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
