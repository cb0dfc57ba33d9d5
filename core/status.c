#include "status.h"

#include <stdarg.h>
#include <stdio.h>

const char *ob_strerror(ob_status st)
{
  switch (st) {
  case OB_OK: return "ok";
  case OB_ENOMEM: return "out of memory";
  case OB_EIO: return "input/output error";
  case OB_EINPUT: return "invalid input";
  case OB_ETOOBIG: return "too large";
  case OB_ENOTFOUND: return "not found";
  case OB_EINDEX: return "index unavailable";
  case OB_ELOCKED: return "locked by another writer";
  case OB_EAUTH: return "not authorised";
  case OB_EINTERNAL: return "internal error";
  case OB_EEXIST: return "already exists";
  }
  return "unknown status";
}

ob_status ob_fail(char *err, ob_status st, const char *fmt, ...)
{
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, OB_ERR_SIZE, fmt, ap);
    va_end(ap);
  }
  return st;
}
