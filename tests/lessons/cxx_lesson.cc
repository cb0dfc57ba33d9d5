// cxx_lesson - the write-path headers compile as C++ and link from C++.
#include "audit.h"
#include "auth.h"
#include "lesson.h"

#include "harness.h"

int main()
{
  char hex[OB_SHA256_HEX];
  ob_sha256_hex("abc", 3, hex);
  EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 from C++");
  OK(ob_auth_name_valid("alice"), "ob_auth from C++");
  ob_lesson_result r = {};
  ob_lesson_result_clear(&r);
  char *p = ob_audit_default_path("/x/tokens");
  EQ_STR(p, "/x/audit.jsonl", "ob_audit from C++");
  free(p);
  EQ_STR(ob_strerror(OB_EEXIST), "already exists", "OB_EEXIST");
  return ob_t_done();
}
