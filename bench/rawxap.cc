// rawxap - the baselines: Xapian used the plain way, and the HTTP ceiling.
//
//   rawxap index  --corpus DIR --db DB          TermGenerator, FLAG_CJK_NGRAM,
//                                               positions, commit per 10k
//   rawxap update --corpus DIR --db DB --file REL   re-index one file, commit
//   rawxap search --db DB --queries FILE [--n N] [--limit 10] [--no-snippet]
//                 QueryParser (FLAG_CJK_NGRAM), top 10, MSet::snippet per hit
//   rawxap serve  --db DB [--listen 127.0.0.1:0] [--threads 2] [--fixed]
//                 libmicrohttpd: GET /api/search?q= with snippets (gzip when
//                 asked), or with --fixed a fixed 2 KB JSON body for any URL
//
// A benchmark tool, not part of Opsbook: it uses Xapian directly (not the
// shim) because measuring the library used without our layer is its job.
#include <xapian.h>

#include <microhttpd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <pthread.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0)
{
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

const char *arg(int argc, char **argv, const char *name, const char *def)
{
  for (int i = 2; i + 1 < argc; i++)
    if (!std::strcmp(argv[i], name))
      return argv[i + 1];
  return def;
}

bool flag(int argc, char **argv, const char *name)
{
  for (int i = 2; i < argc; i++)
    if (!std::strcmp(argv[i], name))
      return true;
  return false;
}

bool read_file(const std::string &path, std::string &out)
{
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

void walk(const std::string &root, const std::string &rel, std::vector<std::string> &out)
{
  std::string abs = rel.empty() ? root : root + "/" + rel;
  DIR *d = opendir(abs.c_str());
  if (!d)
    return;
  std::vector<std::string> names;
  while (dirent *e = readdir(d))
    if (e->d_name[0] != '.' && e->d_name[0] != '_')
      names.emplace_back(e->d_name);
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string &n : names) {
    std::string r = rel.empty() ? n : rel + "/" + n;
    struct stat sb;
    if (stat((root + "/" + r).c_str(), &sb) != 0)
      continue;
    if (S_ISDIR(sb.st_mode))
      walk(root, r, out);
    else if (n.size() > 3 && n.compare(n.size() - 3, 3, ".md") == 0)
      out.push_back(r);
  }
}

// Front matter off, title from it; the plain way indexes the rest as is.
void split_doc(const std::string &src, std::string &title, std::string &body)
{
  body = src;
  title.clear();
  if (src.compare(0, 4, "---\n") == 0) {
    size_t end = src.find("\n---\n", 4);
    if (end != std::string::npos) {
      std::string fm = src.substr(4, end - 4);
      size_t t = fm.find("title: ");
      if (t != std::string::npos && (t == 0 || fm[t - 1] == '\n'))
        title = fm.substr(t + 7, fm.find('\n', t) - t - 7);
      body = src.substr(end + 5);
    }
  }
}

Xapian::Document make_doc(Xapian::TermGenerator &tg, const std::string &rel,
                          const std::string &src)
{
  std::string title, body;
  split_doc(src, title, body);
  Xapian::Document doc;
  tg.set_document(doc);
  tg.index_text(title, 1, "S");
  tg.index_text(title, 3);
  tg.increase_termpos();
  tg.index_text(body);
  doc.add_boolean_term("Q" + rel);
  doc.set_data(rel + '\n' + title + '\n' + body);
  return doc;
}

int cmd_index(int argc, char **argv, bool update)
{
  const char *corpus = arg(argc, argv, "--corpus", nullptr), *db = arg(argc, argv, "--db", nullptr);
  if (!corpus || !db) {
    std::fprintf(stderr, "rawxap index: --corpus and --db are required\n");
    return 2;
  }
  auto t0 = Clock::now();
  std::vector<std::string> files;
  if (update)
    files.emplace_back(arg(argc, argv, "--file", ""));
  else
    walk(corpus, "", files);
  Xapian::WritableDatabase w(db, Xapian::DB_CREATE_OR_OPEN);
  Xapian::TermGenerator tg;
  tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
  size_t n = 0, bytes = 0;
  std::string src;
  for (const std::string &rel : files) {
    if (!read_file(std::string(corpus) + "/" + rel, src))
      continue;
    bytes += src.size();
    w.replace_document("Q" + rel, make_doc(tg, rel, src));
    if (++n % 10000 == 0)
      w.commit();
  }
  w.commit();
  w.close();
  double ms = ms_since(t0);
  std::printf("rawxap: indexed %zu files, %zu bytes in %.3f s\n", n, bytes, ms / 1e3);
  return 0;
}

std::string snippet_of(const Xapian::MSet &mset, const std::string &data)
{
  // data is "rel\ntitle\nbody": snippets come from the body
  size_t a = data.find('\n'), b = a == std::string::npos ? a : data.find('\n', a + 1);
  std::string body = b == std::string::npos ? data : data.substr(b + 1);
  return mset.snippet(body, 240, Xapian::Stem(),
                      Xapian::MSet::SNIPPET_BACKGROUND_MODEL | Xapian::MSet::SNIPPET_EXHAUSTIVE |
                          Xapian::MSet::SNIPPET_CJK_NGRAM,
                      "<mark>", "</mark>", "…");
}

Xapian::MSet run_query(Xapian::Database &db, const std::string &q, unsigned limit)
{
  Xapian::QueryParser qp;
  qp.set_database(db);
  Xapian::Query query = qp.parse_query(
      q, Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_CJK_NGRAM);
  Xapian::Enquire enq(db);
  enq.set_query(query);
  return enq.get_mset(0, limit);
}

double pct(std::vector<double> v, double p)
{
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t i = (size_t)(p / 100.0 * (double)(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int cmd_search(int argc, char **argv)
{
  const char *dbp = arg(argc, argv, "--db", nullptr), *qf = arg(argc, argv, "--queries", nullptr);
  if (!dbp || !qf) {
    std::fprintf(stderr, "rawxap search: --db and --queries are required\n");
    return 2;
  }
  size_t nmax = std::strtoul(arg(argc, argv, "--n", "1000000"), nullptr, 10);
  unsigned limit = (unsigned)std::strtoul(arg(argc, argv, "--limit", "10"), nullptr, 10);
  int rounds = std::atoi(arg(argc, argv, "--rounds", "1"));
  bool snip = !flag(argc, argv, "--no-snippet");
  std::vector<std::string> qs;
  std::ifstream f(qf);
  for (std::string l; std::getline(f, l) && qs.size() < nmax;)
    if (!l.empty())
      qs.push_back(l);
  Xapian::Database db(dbp);
  std::vector<double> lat;
  double t_match = 0, t_snip = 0;
  size_t hits = 0, with_hits = 0, snip_bytes = 0;
  auto all0 = Clock::now();
  for (int r = 0; r < rounds; r++)
    for (const std::string &q : qs) {
      auto t0 = Clock::now();
      Xapian::MSet mset;
      try {
        mset = run_query(db, q, limit);
      } catch (const Xapian::QueryParserError &) {
      }
      double m = ms_since(t0);
      auto t1 = Clock::now();
      if (snip)
        for (auto it = mset.begin(); it != mset.end(); ++it)
          snip_bytes += snippet_of(mset, it.get_document().get_data()).size();
      double s = ms_since(t1);
      t_match += m;
      t_snip += s;
      lat.push_back(m + s);
      hits += mset.size();
      with_hits += mset.size() > 0;
    }
  double all = ms_since(all0);
  size_t n = lat.size();
  std::printf("rawxap search: %zu queries, p50 %.3f ms, p99 %.3f ms, %.1f q/s; "
              "mean match %.3f ms, snippet %.3f ms; %zu with hits, %.1f hits/query, "
              "%.0f snippet bytes/hit\n",
              n, pct(lat, 50), pct(lat, 99), n / (all / 1e3), t_match / n, t_snip / n,
              with_hits / (size_t)rounds, (double)hits / n,
              hits ? (double)snip_bytes / hits : 0.0);
  return 0;
}

// ---- the HTTP baselines ----

struct server {
  std::string db;
  bool fixed = false;
  std::string body; // the fixed body
  pthread_key_t key;
};

void json_str(std::string &o, const std::string &s)
{
  o += '"';
  for (unsigned char c : s) {
    switch (c) {
    case '"': o += "\\\""; break;
    case '\\': o += "\\\\"; break;
    case '\n': o += "\\n"; break;
    case '\r': o += "\\r"; break;
    case '\t': o += "\\t"; break;
    default:
      if (c < 0x20) {
        char b[8];
        std::snprintf(b, sizeof b, "\\u%04x", c);
        o += b;
      } else {
        o += (char)c;
      }
    }
  }
  o += '"';
}

bool gzip(const std::string &in, std::string &out)
{
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  out.resize(deflateBound(&zs, in.size()));
  zs.next_in = (Bytef *)in.data();
  zs.avail_in = (uInt)in.size();
  zs.next_out = (Bytef *)&out[0];
  zs.avail_out = (uInt)out.size();
  int r = deflate(&zs, Z_FINISH);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  return r == Z_STREAM_END;
}

void free_db(void *p) { delete static_cast<Xapian::Database *>(p); }

MHD_Result send(MHD_Connection *c, unsigned status, const std::string &body, bool gz)
{
  std::string z;
  const std::string *b = &body;
  if (gz && gzip(body, z))
    b = &z;
  else
    gz = false;
  MHD_Response *r = MHD_create_response_from_buffer(b->size(), (void *)b->data(),
                                                    MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
  if (gz)
    MHD_add_response_header(r, "Content-Encoding", "gzip");
  MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

MHD_Result on_request(void *cls, MHD_Connection *c, const char *url, const char *method,
                      const char *, const char *, size_t *, void **req)
{
  server *s = static_cast<server *>(cls);
  if (!*req) { // headers in; answer on the second call
    *req = (void *)1;
    return MHD_YES;
  }
  const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
  bool gz = ae && std::strstr(ae, "gzip");
  if (s->fixed) {
    MHD_Response *r = MHD_create_response_from_buffer(s->body.size(), (void *)s->body.data(),
                                                      MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
  }
  if (std::strcmp(method, "GET") != 0 || std::strcmp(url, "/api/search") != 0)
    return send(c, 404, "{\"error\":\"not found\"}", false);
  const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
  if (!q || !*q)
    return send(c, 400, "{\"error\":\"empty query\"}", false);
  try {
    auto *db = static_cast<Xapian::Database *>(pthread_getspecific(s->key));
    if (!db) {
      db = new Xapian::Database(s->db);
      pthread_setspecific(s->key, db);
    }
    Xapian::MSet mset;
    try {
      mset = run_query(*db, q, 10);
    } catch (const Xapian::QueryParserError &) {
    }
    std::string o = "{\"query\":";
    json_str(o, q);
    o += ",\"total\":" + std::to_string(mset.get_matches_estimated()) + ",\"results\":[";
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      std::string data = it.get_document().get_data();
      size_t a = data.find('\n'), b = data.find('\n', a + 1);
      if (it != mset.begin())
        o += ',';
      o += "{\"path\":";
      json_str(o, data.substr(0, a));
      o += ",\"title\":";
      json_str(o, data.substr(a + 1, b - a - 1));
      o += ",\"snippet\":";
      json_str(o, snippet_of(mset, data));
      o += ",\"score\":" + std::to_string(it.get_weight()) + "}";
    }
    o += "]}";
    return send(c, 200, o, gz);
  } catch (const Xapian::Error &e) {
    return send(c, 500, "{\"error\":\"xapian\"}", false);
  }
}

int cmd_serve(int argc, char **argv)
{
  server s;
  s.fixed = flag(argc, argv, "--fixed");
  const char *db = arg(argc, argv, "--db", nullptr);
  if (!s.fixed && !db) {
    std::fprintf(stderr, "rawxap serve: --db is required (or --fixed)\n");
    return 2;
  }
  if (db)
    s.db = db;
  // a 2 KB JSON body: ten hits of ~200 bytes
  s.body = "{\"query\":\"fixed\",\"total\":10,\"results\":[";
  for (int i = 0; s.body.size() < 2000; i++)
    s.body += std::string(i ? "," : "") + "{\"id\":\"sop-b" + std::to_string(1000000 + i) +
              "\",\"title\":\"机房温度过高告警处理\",\"snippet\":\"机房<mark>温度</mark>应保持在22-24摄氏度,"
              "湿度控制在40%-60%之间。\",\"score\":" + std::to_string(10.5 - i) + "}";
  s.body += "]}";
  s.body.resize(2048, ' ');
  pthread_key_create(&s.key, free_db);
  unsigned threads = (unsigned)std::atoi(arg(argc, argv, "--threads", "2"));
  std::string listen = arg(argc, argv, "--listen", "127.0.0.1:0");
  unsigned port = (unsigned)std::atoi(listen.substr(listen.rfind(':') + 1).c_str());
  MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, nullptr,
      nullptr, on_request, &s, MHD_OPTION_THREAD_POOL_SIZE, threads,
      MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
  if (!d) {
    std::fprintf(stderr, "rawxap serve: cannot start\n");
    return 1;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  std::fprintf(stderr, "listening on http://127.0.0.1:%u\n", info ? info->port : port);
  std::fflush(stderr);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  int sig;
  sigwait(&stop, &sig);
  MHD_stop_daemon(d);
  return 0;
}

} // namespace

int main(int argc, char **argv)
{
  // block the stop signals before any thread starts (serve waits for them)
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::string cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "index")
      return cmd_index(argc, argv, false);
    if (cmd == "update")
      return cmd_index(argc, argv, true);
    if (cmd == "search")
      return cmd_search(argc, argv);
    if (cmd == "serve")
      return cmd_serve(argc, argv);
  } catch (const Xapian::Error &e) {
    std::fprintf(stderr, "rawxap: %s: %s\n", e.get_type(), e.get_msg().c_str());
    return 1;
  }
  std::fprintf(stderr, "usage: rawxap index|update|search|serve ... (see bench/README.md)\n");
  return 2;
}
