/* test_wtable.c - the wdf table of common terms (core/wtable.h) against a
 * plain map built beside it. */
#include <stdint.h>

#include "harness.h"
#include "wtable.h"

/* A deterministic generator (xorshift). */
static uint32_t rnd(uint32_t *s)
{
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

#define MAXDOC 5000u
#define NTERMS 40

static void test_random(void)
{
  ob_wtable *t = ob_wtable_new(MAXDOC);
  if (!OK(t != NULL, "table made"))
    return;
  static unsigned truth[NTERMS][MAXDOC + 1];
  static unsigned ids[MAXDOC + 1], wdf[MAXDOC + 1];
  uint32_t seed = 2463534242u;
  size_t before = ob_wtable_bytes(t);
  for (int k = 0; k < NTERMS; k++) {
    char term[16];
    snprintf(term, sizeof term, "t%d", k);
    size_t n = 0;
    /* from a few postings to every docid; wdf mostly small, some on
     * either side of what the table codes in place (under 7), some large */
    unsigned every = 1 + (unsigned)k % 7;
    for (unsigned d = 1; d <= MAXDOC; d++) {
      if (rnd(&seed) % every)
        continue;
      unsigned w = 1 + rnd(&seed) % 4;
      if (rnd(&seed) % 10 == 0)
        w = 5 + rnd(&seed) % 5;
      if (rnd(&seed) % 50 == 0)
        w = 14 + rnd(&seed) % 300;
      ids[n] = d;
      wdf[n] = w;
      truth[k][d] = w;
      n++;
    }
    size_t cost = ob_wtable_cost(t, n);
    size_t had = ob_wtable_bytes(t);
    EQ_INT(ob_wtable_add(t, term, strlen(term), ids, wdf, n), 0, "add %s (%zu postings)", term, n);
    OK(ob_wtable_bytes(t) >= had + cost, "bytes grow by at least the cost of %s", term);
  }
  EQ_INT((long long)ob_wtable_terms(t), NTERMS, "terms");
  OK(ob_wtable_bytes(t) > before, "bytes counted");
  size_t wrong = 0, checked = 0;
  for (int k = 0; k < NTERMS; k++) {
    char term[16];
    snprintf(term, sizeof term, "t%d", k);
    const ob_wterm *w = ob_wtable_find(t, term, strlen(term));
    if (!OK(w != NULL, "find %s", term))
      continue;
    size_t n = 0;
    for (unsigned d = 0; d <= MAXDOC + 70; d++) {
      unsigned want = d <= MAXDOC ? truth[k][d] : 0;
      n += want > 0;
      checked++;
      if (ob_wtable_wdf(w, d) != want && wrong++ < 5)
        OK(0, "%s in %u: wdf %u, want %u", term, d, ob_wtable_wdf(w, d), want);
    }
    EQ_INT((long long)ob_wtable_termfreq(w), (long long)n, "termfreq of %s", term);
  }
  EQ_INT((long long)wrong, 0, "wdf lookups wrong of %zu", checked);
  OK(ob_wtable_find(t, "t", 1) == NULL, "a prefix of a term is not found");
  OK(ob_wtable_find(t, "t400", 4) == NULL, "an absent term is not found");
  OK(ob_wtable_find(t, "", 0) == NULL, "the empty term is not found");
  ob_wtable_free(t);
}

static void test_edges(void)
{
  ob_wtable *t = ob_wtable_new(100);
  if (!OK(t != NULL, "table made"))
    return;
  unsigned ids[] = {3, 5, 100}, w[] = {1, 2, 3};
  unsigned bad_order[] = {5, 3}, bad_range[] = {4, 101}, zero[] = {1, 0};
  EQ_INT(ob_wtable_add(t, "a", 1, bad_order, w, 2), -1, "docids not ascending");
  EQ_INT(ob_wtable_add(t, "a", 1, bad_range, w, 2), -1, "docid past max_docid");
  OK(ob_wtable_find(t, "a", 1) == NULL, "a rejected term is not added");
  EQ_INT(ob_wtable_add(t, "z", 1, ids, zero, 2), 0, "a wdf of 0 (a boolean term)");
  EQ_INT(ob_wtable_wdf(ob_wtable_find(t, "z", 1), 3), 1, "z in 3");
  EQ_INT(ob_wtable_wdf(ob_wtable_find(t, "z", 1), 5), 0, "z in 5: wdf 0");
  EQ_INT(ob_wtable_add(t, "a", 1, ids, w, 3), 0, "add a");
  unsigned other[] = {7};
  EQ_INT(ob_wtable_add(t, "a", 1, other, w, 1), 0, "a second add of a");
  const ob_wterm *a = ob_wtable_find(t, "a", 1);
  if (OK(a != NULL, "find a")) {
    EQ_INT(ob_wtable_wdf(a, 5), 2, "the first postings stay");
    EQ_INT(ob_wtable_wdf(a, 7), 0, "the second postings are not added");
    EQ_INT(ob_wtable_wdf(a, 100), 3, "the last docid");
    EQ_INT(ob_wtable_wdf(a, 0), 0, "docid 0");
    EQ_INT(ob_wtable_wdf(a, 4000000000u), 0, "a docid far past the table");
  }
  /* terms with the same bytes up to a length, and a term with a NUL */
  EQ_INT(ob_wtable_add(t, "ab", 2, ids, w, 1), 0, "add ab");
  EQ_INT(ob_wtable_add(t, "a\0b", 3, ids + 1, w, 1), 0, "add a NUL b");
  OK(ob_wtable_find(t, "ab", 2) != ob_wtable_find(t, "a\0b", 3), "ab and a NUL b differ");
  EQ_INT(ob_wtable_wdf(ob_wtable_find(t, "a\0b", 3), 5), 1, "a NUL b in 5");
  EQ_INT(ob_wtable_add(t, "empty", 5, NULL, NULL, 0), 0, "a term without postings");
  EQ_INT(ob_wtable_wdf(ob_wtable_find(t, "empty", 5), 3), 0, "it occurs nowhere");
  /* lengths */
  ob_wtable_set_length(t, 5, 42);
  ob_wtable_set_length(t, 101, 7); /* out of range: ignored */
  EQ_INT((long long)ob_wtable_length(t, 5), 42, "length of 5");
  EQ_INT((long long)ob_wtable_length(t, 6), 0, "length unset");
  EQ_INT((long long)ob_wtable_length(t, 101), 0, "length out of range");
  {
    unsigned maxd = 0;
    const uint32_t *lens = ob_wtable_lengths(t, &maxd);
    EQ_INT(maxd, 100, "the lengths' last docid");
    EQ_INT(lens[5], 42, "the array's length of 5");
    EQ_INT(lens[6], 0, "the array's length unset");
    EQ_INT(lens[100], 0, "the array's last length");
  }
  /* many terms: the lookup table grows */
  char s[16];
  for (int i = 0; i < 3000; i++) {
    snprintf(s, sizeof s, "g%d", i);
    unsigned d[] = {(unsigned)(i % 100) + 1};
    if (ob_wtable_add(t, s, strlen(s), d, w, 1))
      OK(0, "add %s", s);
  }
  size_t found = 0;
  for (int i = 0; i < 3000; i++) {
    snprintf(s, sizeof s, "g%d", i);
    const ob_wterm *g = ob_wtable_find(t, s, strlen(s));
    found += g && ob_wtable_wdf(g, (unsigned)(i % 100) + 1) == 1;
  }
  EQ_INT((long long)found, 3000, "every term found after the table grew");
  ob_wtable_free(t);
  ob_wtable_free(NULL);
}

int main(void)
{
  test_random();
  test_edges();
  return ob_t_done();
}
