// cxx_header - every core header compiles as C++ and links from C++
// (the extern "C" guards are right), after cmark's api_test/cplusplus.cpp.
#include "buf.h"
#include "doc.h"
#include "index.h"
#include "json.h"
#include "mindex.h"
#include "schema.h"
#include "search.h"
#include "status.h"
#include "text.h"
#include "utf8.h"
#include "xap.h"

#include "harness.h"

int main()
{
  ob_buf b;
  ob_buf_init(&b, 64);
  OK(ob_buf_puts(&b, "x") == OB_OK, "ob_buf from C++");
  ob_buf_free(&b);

  OK(ob_utf8_valid("ok", 2), "ob_utf8 from C++");
  OK(ob_doc_id_valid("cxx-1"), "ob_doc from C++");
  EQ_STR(ob_strerror(OB_OK), "ok", "ob_strerror from C++");

  ob_mindex *mi = ob_mindex_new();
  ob_mindex_seal(mi);
  OK(ob_mindex_doc_count(mi) == 0, "ob_mindex from C++");
  ob_mindex_free(mi);

  ob_buf jb;
  ob_jw w;
  ob_buf_init(&jb, 64);
  ob_jw_init(&w, &jb);
  ob_jw_obj(&w);
  ob_jw_kint(&w, "n", 1);
  ob_jw_obj_end(&w);
  EQ_STR(jb.data, "{\"n\":1}", "ob_jw from C++");
  ob_buf_free(&jb);

  ob_xquery *q = ob_xquery_new();
  const char *term = OB_P_DOC "x";
  ob_xquery_add(q, &term, 1, 1.0);
  EQ_INT(ob_xquery_size(q), 1, "ob_xquery from C++");
  ob_xquery_free(q);
  OK(ob_weights_default.k1 > 0, "ob_weights_default from C++");
  OK(OB_R_NFIELDS > 0 && OB_V_DOC == 0, "schema.h from C++");

  ob_index_report r = {};
  OK(r.added == 0, "index.h from C++");
  return ob_t_done();
}
