/* writes.h - the write routes (docs/api.md, "Writing"):
 *
 *   POST /api/docs/{id}/lessons   append a lesson learned
 *   POST /api/faults              create a fault write-up
 *
 * Both check the reviewer's bearer token against the tokens file (401 /
 * 403 read-only), parse the JSON body with jansson and hand the work to
 * core/lesson.c; like every route they queue their reply and return.
 */
#ifndef OB_SRV_WRITES_H
#define OB_SRV_WRITES_H

#include "srv_int.h"

void ob_route_lessons(struct ob_req *rq);
void ob_route_faults(struct ob_req *rq);

#endif
