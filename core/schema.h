/* schema.h - the index schema, written down once (docs/index-schema.md).
 *
 * One Xapian document per section ("entry") of a handbook file.
 * Prefixes follow Omega's conventions where they exist, X... our own.
 */
#ifndef OB_SCHEMA_H
#define OB_SCHEMA_H

/* Boolean (filter) terms. There is no per-entry unique term: a document's
 * entries are replaced together, found by XD. */
#define OB_P_DOC "XD"      /* XD<doc id>: every entry of a document */
#define OB_P_TYPE "XT"     /* XTsop, XTphrase, XTfault */
#define OB_P_CATEGORY "XC" /* XC<category> */
#define OB_P_TAG "K"       /* K<tag> */
/* No path term: the path is in the data record, and the metadata maps a
 * path to its document (OB_M_FILE). */

/* Probabilistic terms: CJK unigrams, bigrams and Latin words carry no
 * prefix; friso words of three or more characters carry W so they can be
 * weighted apart. A two-character word is not indexed again: its bigram
 * is the same term, and a query adds the word's weight to that bigram. */
#define OB_P_WORD "W"

/* Within-document frequency added per occurrence, by field. */
#define OB_WDF_TITLE 1
#define OB_WDF_HEADING 2
#define OB_WDF_SYMPTOM 3     /* a section's own symptoms (an HTML comment in it) */
#define OB_WDF_DOC_SYMPTOM 1 /* front-matter (document) symptoms, on each entry of the doc */
#define OB_WDF_TAG 2 /* on the sections that name the tag when only some do (tag_local) */
#define OB_WDF_BODY 1
#define OB_WDF_LESSON 1

/* Value slots */
#define OB_V_DOC 0     /* "<type>:<doc id>": the collapse key, and the type for the
                          ranking prior without a value lookup */

/* Metadata keys */
#define OB_M_FILE "ob:file:"   /* + path -> "<size> <mtime_ns> <fnv64> <doc id>" */
#define OB_M_SCHEMA "ob:schema"
#define OB_M_LANG "ob:lang" /* ob_text_lang_stamp of the resources it was cut with */
#define OB_SCHEMA_VERSION "8" /* an index of another version is rebuilt */

/* The document data record: fields separated by '\0', in this order. */
enum ob_rec_field {
  OB_R_ID, OB_R_TYPE, OB_R_TITLE, OB_R_SECTION, OB_R_ANCHOR, OB_R_CATEGORY,
  OB_R_PATH, OB_R_TEXT, OB_R_SLOTS, OB_R_NFIELDS
};

#endif
