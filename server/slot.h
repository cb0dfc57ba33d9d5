/* slot.h - what each worker thread owns: its read-only index handle and
 * its reusable gzip compressor (libdeflate).
 *
 * Every request of a connection runs on the same worker thread (one
 * libmicrohttpd daemon each, srv.c), so per-thread state needs no locks. A slot is created on the
 * thread's first request (pthread key) and freed when the thread exits.
 */
#ifndef OB_SRV_SLOT_H
#define OB_SRV_SLOT_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>
#include <libdeflate.h>

#include "status.h"
#include "xap.h"

#define OB_GEN_SIZE 96

/* What a file looked like (stat): device, inode, size and times. */
struct ob_stamp {
  unsigned long long dev, ino;
  long long size;
  struct timespec mtime, ctime;
};

struct ob_slot {
  ob_xdb *db;             /* NULL until ob_slot_db() succeeds */
  char name[64];          /* CURRENT name of the open index folder */
  unsigned long revision; /* its revision after the last refresh */
  char gen[OB_GEN_SIZE];  /* "<name>:<revision>", the index generation */
  struct ob_stamp cur, ver; /* CURRENT and the folder's iamglass at the last full check */
  int stamped;              /* cur and ver are set */
  struct libdeflate_compressor *gz; /* NULL until the first reply is gzipped */
};

/* This thread's slot, created on first use. Borrowed; freed at thread
 * exit by the key's destructor (ob_slot_free). */
struct ob_slot *ob_slot_get(pthread_key_t key);
/* pthread key destructor; NULL is a no-op. */
void ob_slot_free(void *slot);

/* Brings the slot's index up to date. When CURRENT and the open folder's
 * iamglass have the same inode, size and times as at the last full check
 * nothing changed and nothing is read. Else: if CURRENT names another folder
 * (a --rebuild swapped it) the new one is opened; else the handle is
 * reopened to the latest revision. A failed reopen, or a folder deleted
 * between reading CURRENT and opening it, re-resolves and opens afresh.
 * Up to mem_max entries, searches run on the slot's own copy in memory
 * (ob_xdb_preload); up to share_max, on one copy shared by the slots
 * once a thread has made it (ob_xdb_share). */
ob_status ob_slot_db(struct ob_slot *s, const char *db_dir, unsigned long mem_max,
                     unsigned long share_max, char *err) OB_WUR;
/* Closes the handle so the next ob_slot_db() opens afresh. */
void ob_slot_drop(struct ob_slot *s);

/* gzip-compresses n bytes with the slot's reused compressor.
 * On OB_OK *out is malloc'ed (caller frees) and *outlen its size. */
ob_status ob_slot_gzip(struct ob_slot *s, const void *p, size_t n, char **out,
                       size_t *outlen) OB_WUR;

/* One-shot gzip at the given libdeflate level, 1-12 (start-up compression
 * of static files).
 * Same ownership as ob_slot_gzip(). */
ob_status ob_gzip_once(const void *p, size_t n, int level, char **out, size_t *outlen) OB_WUR;

#endif
