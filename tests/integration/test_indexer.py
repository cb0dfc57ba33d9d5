#!/usr/bin/env python3
"""Indexer integration test (ctest label `integration`).

Runs the real opsbook-index and opsbook-search on tests/fixtures (copied
to a temporary folder, since the test edits it):

  * first run adds every file; a second run changes nothing and search
    output is identical (idempotence); touching a file changes nothing
  * modify / delete / add one file each -> updated / deleted / added,
    and search reflects it; --rebuild gives the same search results
  * tests/fixtures-bad: exit status 1, "file:line: reason" on stderr,
    the good files still indexed
  * --writers 3 (a fresh build in shards merged by compaction): the same
    hits and scores as one writer; later runs update and delete in it
  * a second writer while the lock is held: a clear message, no crash
  * opsbook-search --json shape; empty, too long and invalid UTF-8
    queries fail cleanly
  * field weights: a section's own symptoms outweigh front-matter ones

Usage: test_indexer.py --index BIN --search BIN --fixtures DIR --bad DIR
Prints "N passed, M failed" last, like the unit tests.
"""
import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

PASSED = 0
FAILED = 0


def check(cond, msg, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        frame = sys._getframe(1)
        print(f"FAIL {os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}: {msg}",
              file=sys.stderr)
        if detail:
            print("    " + str(detail).replace("\n", "\n    "), file=sys.stderr)
    return cond


def run(args, timeout=120):
    """Runs a binary; returns (exit status, stdout, stderr) as bytes/str."""
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


SUMMARY = re.compile(r"(\d+) files: (\d+) added, (\d+) updated, (\d+) unchanged, "
                     r"(\d+) deleted, (\d+) rejected \((\d+) entries written\)")


def index(opt, handbook, db, *extra):
    rc, _, err = run([opt.index, "--handbook", handbook, "--db", db, *extra])
    m = SUMMARY.search(err)
    counts = None
    if m:
        keys = ("scanned", "added", "updated", "unchanged", "deleted", "rejected", "entries")
        counts = dict(zip(keys, map(int, m.groups())))
    return rc, counts, err


def no_crash(rc, what, err=""):
    # a negative status is a signal; ASan/UBSan abort or exit with 1 and a report
    return check(rc >= 0 and "Sanitizer" not in err and "runtime error" not in err,
                 f"{what}: no crash", f"exit {rc}\n{err[-2000:]}")


def search_json(opt, db, query, *extra):
    rc, out, err = run([opt.search, "--db", db, "--json", *extra, query])
    if not check(rc == 0, f"search {query!r} exits 0", err):
        return None
    try:
        return json.loads(out.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        check(False, f"search {query!r}: output is JSON", e)
        return None


QUERIES = ["机房温度", "光猫", "上门迟到", "不间断电源", "鞋套", "UPS", "交换机端口",
           "网老是断", "经验教训 光功率", "宽带"]


def snapshot(opt, db, queries=QUERIES):
    """The ranked (id, section, score) lists of a set of queries."""
    snap = {}
    for q in queries:
        res = search_json(opt, db, q, "--limit", "20")
        snap[q] = None if res is None else [
            (h["id"], h.get("section"), round(h["score"], 4), h["snippet"])
            for h in res["results"]]
    return snap


def ids(res):
    return [] if res is None else [h["id"] for h in res["results"]]


def test_incremental(opt, tmp):
    hb = os.path.join(tmp, "handbook")
    db = os.path.join(tmp, "db")
    shutil.copytree(opt.fixtures, hb)
    nfiles = sum(1 for root, _, files in os.walk(hb) for f in files
                 if f.endswith(".md") and f != "README.md")

    rc, c, err = index(opt, hb, db)
    check(rc == 0, "first run exits 0", err)
    no_crash(rc, "first run", err)
    if check(c is not None, "first run prints the summary", err):
        check(c["scanned"] == nfiles and c["added"] == nfiles, "first run adds every file", c)
        check(c["updated"] == c["unchanged"] == c["deleted"] == c["rejected"] == 0,
              "first run: nothing else", c)
        check(c["entries"] > nfiles, "sections become entries", c)
    check(os.path.exists(os.path.join(db, "LOCK")) and
          open(os.path.join(db, "CURRENT")).read().strip() == "idx-1", "db layout", os.listdir(db))
    before = snapshot(opt, db)

    res = search_json(opt, db, "机房温度")
    if check(res is not None and res["results"], "机房温度 finds something", res):
        top = res["results"][:2]
        check(any(h["id"] == "sop-machine-room" and h.get("section") == "1. 温度和湿度控制"
                  for h in top), "机房温度 hits the temperature clause", top)
        check(any("<mark>机房温度</mark>" in h["snippet"] for h in top),
              "snippet marks the whole term", top)
    check("sop-onsite-etiquette" in ids(search_json(opt, db, "鞋套")), "鞋套 finds the etiquette SOP")
    check("plain-notes" in ids(search_json(opt, db, "交换机端口")),
          "a file without front matter is indexed under its file name")
    res = search_json(opt, db, "技术员", "--type", "phrase")
    check(res is not None and res["results"] and all(h["type"] == "phrase" for h in res["results"]),
          "--type phrase only returns phrases", res)

    # idempotence: nothing changes, search output is identical
    rc, c, err = index(opt, hb, db)
    check(rc == 0, "second run exits 0", err)
    check(c is not None and (c["added"], c["updated"], c["unchanged"], c["deleted"]) ==
          (0, 0, nfiles, 0), f"second run: 0 added, 0 updated, {nfiles} unchanged", err)
    check(re.search(rf"0 added, 0 updated, {nfiles} unchanged", err), "summary wording", err)
    check(snapshot(opt, db) == before, "search output identical after the second run")

    # touched but not changed: still unchanged (content hash)
    f = os.path.join(hb, "sop", "onsite-etiquette.md")
    st = os.stat(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    rc, c, err = index(opt, hb, db)
    check(c is not None and (c["added"], c["updated"], c["unchanged"]) == (0, 0, nfiles),
          "a touched file is unchanged", err)
    rc, c, err = index(opt, hb, db)
    check(c is not None and c["unchanged"] == nfiles, "and stays unchanged", err)

    # the language resources are loaded only when a file has to be parsed:
    # a touched file needs none, a changed one does (and a bad --lang then
    # fails the run before anything is written)
    # (a copy of lang/ without stopwords.txt: the same stamp, no tokeniser)
    partial = os.path.join(tmp, "lang-partial")
    os.mkdir(partial)
    for name in ("ops.dic", "synonyms.txt"):
        shutil.copy(os.path.join(opt.lang, name), partial)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 9_000_000_000))
    rc, c, err = index(opt, hb, db, "--lang", partial)
    check(rc == 0 and c is not None and c["unchanged"] == nfiles,
          "touched only: runs without loading the language resources", err)
    with open(f, "a", encoding="utf-8") as fh:
        fh.write("\n补充:鞋套用后带走。\n")
    rc, c, err = index(opt, hb, db, "--lang", partial)
    check(rc == 3 and "stopwords.txt" in err, "changed file + incomplete --lang: exit 3 naming it", err)
    no_crash(rc, "incomplete --lang", err)
    rc, c, err = index(opt, hb, db, "--lang", os.path.join(tmp, "no-such-lang"))
    check(rc == 3 and "no-such-lang" in err, "missing --lang: exit 3 naming it", err)
    check(snapshot(opt, db) == before, "the failed run changed nothing")
    rc, c, err = index(opt, hb, db)
    check(rc == 0 and c is not None and c["updated"] == 1, "the edit goes in with the default lang", err)

    # modify one, delete one, add one
    with open(os.path.join(hb, "sop", "machine-room.md"), "a", encoding="utf-8") as fh:
        fh.write("\n## 4. 消防\n\n机房必须配备气体灭火器,每季度检查压力表。\n")
    os.remove(os.path.join(hb, "phrase", "arrival-late.md"))
    with open(os.path.join(hb, "phrase", "new-farewell.md"), "w", encoding="utf-8") as fh:
        fh.write("---\nid: phrase-farewell\ntitle: 离开客户家时\n---\n# 离开客户家时\n\n"
                 "> 宽带已经修好了,如果再有问题请拨打{{电话}},祝您生活愉快。\n")
    rc, c, err = index(opt, hb, db)
    check(rc == 0, "third run exits 0", err)
    check(c is not None and (c["added"], c["updated"], c["unchanged"], c["deleted"]) ==
          (1, 1, nfiles - 2, 1), "modify/delete/add: 1 added, 1 updated, 1 deleted", err)
    res = search_json(opt, db, "灭火器")
    check(res is not None and res["results"] and res["results"][0]["id"] == "sop-machine-room"
          and res["results"][0].get("section") == "4. 消防", "the new clause is found", res)
    check("phrase-arrival-late" not in ids(search_json(opt, db, "堵车")),
          "the deleted file is gone")
    check("phrase-arrival-late" not in ids(search_json(opt, db, "上门迟到时", "--limit", "50")),
          "no entry of the deleted file remains")
    res = search_json(opt, db, "祝您生活愉快")
    check(res is not None and res["results"] and res["results"][0]["id"] == "phrase-farewell",
          "the added file is found", res)
    if res is not None and res["results"]:
        check(res["results"][0]["slots"] == ["电话"], "slots of the added phrase", res["results"][0])

    # --rebuild: a fresh index beside the old one, same answers
    incremental = snapshot(opt, db)
    # what a rebuild killed after switching CURRENT would leave behind
    os.makedirs(os.path.join(db, "idx-0", "junk"))
    os.makedirs(os.path.join(db, "idx-7.build"))
    os.makedirs(os.path.join(db, "idx-notmine"))
    rc, c, err = index(opt, hb, db, "--rebuild")
    check(rc == 0, "--rebuild exits 0", err)
    check(c is not None and c["added"] == nfiles and c["deleted"] == 0,
          "--rebuild indexes every file afresh", err)
    check(open(os.path.join(db, "CURRENT")).read().strip() == "idx-2", "CURRENT moved to idx-2")
    check(not os.path.exists(os.path.join(db, "idx-1")), "the old index folder is removed")
    check(not os.path.exists(os.path.join(db, "idx-0")) and
          not os.path.exists(os.path.join(db, "idx-7.build")),
          "index folders left by an interrupted rebuild are removed")
    check(os.path.isdir(os.path.join(db, "idx-notmine")), "other folders are left alone")
    os.makedirs(os.path.join(db, "idx-9.build", "junk"))
    os.makedirs(os.path.join(db, "idx-9.build1", "junk"))  # a second writer's shard
    os.makedirs(os.path.join(db, "idx-9.buildup"))
    rc, c, err = index(opt, hb, db)
    check(rc == 0 and not os.path.exists(os.path.join(db, "idx-9.build")) and
          not os.path.exists(os.path.join(db, "idx-9.build1")),
          "an incremental run removes a killed rebuild's idx-N.build and its shards", err)
    check(os.path.isdir(os.path.join(db, "idx-9.buildup")), "a look-alike folder is left alone")
    rebuilt = snapshot(opt, db)
    for q in QUERIES:
        check(rebuilt[q] == incremental[q], f"--rebuild: same results for {q!r}",
              f"incremental: {incremental[q]}\nrebuilt:     {rebuilt[q]}")
    rc, c, err = index(opt, hb, db)
    check(c is not None and c["unchanged"] == nfiles, "incremental again after --rebuild", err)


def test_bad(opt, tmp):
    hb = os.path.join(tmp, "bad")
    db = os.path.join(tmp, "db-bad")
    shutil.copytree(opt.bad, hb)
    # more kinds of bad files, made here: bytes a source tree should not hold
    with open(os.path.join(hb, "sop", "bad-utf8.md"), "wb") as fh:
        fh.write("# 标题\n\n第一段\n\n坏字节".encode() + b"\xff\xfe\n")
    with open(os.path.join(hb, "sop", "big.md"), "wb") as fh:
        fh.write(("一行文字\n" * 30000).encode())  # 390 KB > 256 KiB
    # after good-backup.md in name order, so this one is refused
    with open(os.path.join(hb, "sop", "x-dup-id.md"), "w", encoding="utf-8") as fh:
        fh.write("---\nid: sop-backup\n---\n# 重复的 id\n")

    rc, c, err = index(opt, hb, db)
    no_crash(rc, "bad folder", err)
    check(rc == 1, "rejected files give exit status 1", f"exit {rc}\n{err}")
    expected = [
        (f"{hb}/sop/bad-tab.md:3: tab characters are not allowed in front matter", "tab"),
        (f"{hb}/sop/bad-utf8.md:5: invalid UTF-8", "invalid UTF-8"),
        (f"{hb}/sop/big.md:1: file larger than 256 KiB", "too large"),
        (f"{hb}/sop/x-dup-id.md:1: duplicate id 'sop-backup' (also sop/good-backup.md)",
         "duplicate id"),
    ]
    for line, what in expected:
        check(line in err, f"file:line: reason on stderr ({what})", err)
    if check(c is not None, "summary after rejections", err):
        check(c["rejected"] == 4 and c["added"] == 1, "4 rejected, the good file added", c)
    res = search_json(opt, db, "备份周期")
    check(res is not None and any(h["id"] == "sop-backup" for h in res["results"]),
          "the good file is searchable", res)
    check(res is not None and all(h["path"] not in ("sop/bad-tab.md",) for h in res["results"]),
          "rejected files are not indexed", res)
    rc, c, err = index(opt, hb, db)
    check(rc == 1 and c is not None and c["rejected"] == 4,
          "rejections are reported again on the next run", err)


def test_writers(opt, tmp):
    """A fresh build with several writer threads, each filling a shard that
    the final compaction merges, gives the index one writer gives."""
    hb = os.path.join(tmp, "hb-writers")
    shutil.copytree(opt.fixtures, hb)
    one, many = os.path.join(tmp, "db-w1"), os.path.join(tmp, "db-w3")
    rc1, c1, err1 = index(opt, hb, one, "--writers", "1")
    rc3, c3, err3 = index(opt, hb, many, "--writers", "3")
    no_crash(rc3, "--writers 3", err3)
    check(rc1 == 0 and rc3 == 0 and c1 is not None and c1 == c3 and c1["added"] >= 6,
          "--writers 3: the same report as one writer", (err1, err3))
    check(sorted(os.listdir(many)) == ["CURRENT", "LOCK", "idx-1"],
          "no shard folder left behind", os.listdir(many))
    s1, s3 = snapshot(opt, one), snapshot(opt, many)
    check(sum(len(v or []) for v in s1.values()) > 20, "the queries find entries", s1)
    for q in QUERIES:
        check(s1[q] is not None and sorted(s1[q], key=str) == sorted(s3[q] or [], key=str),
              f"{q!r}: the same hits and scores from the merged shards", (s1[q], s3[q]))
    # the merged index holds every file's state and id: nothing to do again
    rc, c, err = index(opt, hb, many)
    check(rc == 0 and c is not None and c["unchanged"] == c["scanned"] and c["added"] == 0,
          "a second run over the merged index changes nothing", (err, c))
    # entries written by the third shard (walk order 2 and 5 of 7) are
    # found by their id term: replaced and deleted like any other
    os.remove(os.path.join(hb, "phrase", "apology-repeat.md"))
    path = os.path.join(hb, "sop", "onsite-etiquette.md")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n## 新增条款\n\n鞋柜旁放好工具包再进门。\n")
    rc, c, err = index(opt, hb, many)
    check(rc == 0 and c is not None and c["deleted"] == 1 and c["updated"] == 1,
          "delete and update after a sharded build", (err, c))
    res = search_json(opt, many, "宽带老是断")
    check(res is not None and "phrase-fault-repeated" not in ids(res),
          "the deleted file's entries are gone", res)
    res = search_json(opt, many, "鞋柜旁放好工具包")
    check(res is not None and ids(res)[:1] == ["sop-onsite-etiquette"],
          "the updated file's new clause is found", res)
    sections = [h.get("section") for h in (res or {}).get("results", [])
                if h["id"] == "sop-onsite-etiquette"]
    check(sections.count("新增条款") == 1, "the updated file's clause is there once", res)
    for bad in ("0", "9", "two"):
        rc, _, err = run([opt.index, "--handbook", hb, "--db", many, "--writers", bad])
        check(rc == 2 and "--writers" in err, f"--writers {bad}: usage error", err)


def test_lock(opt, tmp):
    hb = opt.fixtures
    db = os.path.join(tmp, "db-lock")
    os.makedirs(db)
    with open(os.path.join(db, "LOCK"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rc, c, err = index(opt, hb, db)
        no_crash(rc, "second writer", err)
        check(rc != 0, "a second writer fails", f"exit {rc}")
        check("another opsbook writer" in err, "a clear 'another opsbook writer' message", err)
        check(not os.path.exists(os.path.join(db, "CURRENT")), "nothing written while locked")
    rc, c, err = index(opt, hb, db)
    check(rc == 0, "indexing works once the lock is released", err)


def test_search_cli(opt, tmp):
    hb = opt.fixtures
    db = os.path.join(tmp, "db-cli")
    rc, c, err = index(opt, hb, db)
    check(rc == 0, "index for the CLI tests", err)

    res = search_json(opt, db, "机房温度")
    if check(isinstance(res, dict), "--json gives an object", res):
        check(res.get("query") == "机房温度", "query echoed", res.get("query"))
        check(isinstance(res.get("total"), int) and res["total"] >= len(res.get("results", [])),
              "total is a count", res.get("total"))
        check(isinstance(res.get("results"), list) and res["results"], "results is a list")
        for h in res.get("results", []):
            for k, t in (("id", str), ("type", str), ("title", str), ("path", str),
                         ("snippet", str), ("score", (int, float))):
                check(isinstance(h.get(k), t), f"result has {k}", h)
            check(h.get("type") in ("sop", "phrase", "fault"), "result type", h)
            check(os.path.exists(os.path.join(hb, h.get("path", "?"))), "path is relative to the handbook", h)
    # HTML in the query is escaped in the echo, and results stay valid JSON
    res = search_json(opt, db, "<script>机房</script>")
    check(res is not None and res["query"] == "<script>机房</script>", "odd query round-trips")

    bad_queries = [
        (b"", "empty query"),
        ("　 \t".encode(), "blank query"),
        (("断" * 257).encode(), "257-character query"),
        (b"\xff\xfe", "invalid UTF-8 query"),
        ("机房".encode() + b"\xe6\xb8", "truncated UTF-8 query"),
    ]
    for q, what in bad_queries:
        for extra in ([], ["--json"]):
            p = subprocess.run([opt.search.encode(), b"--db", db.encode(), *[e.encode() for e in extra], q],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            err = p.stderr.decode("utf-8", "replace")
            no_crash(p.returncode, what, err)
            check(p.returncode > 0, f"{what} {' '.join(extra)}: non-zero exit", p.returncode)
            check(err.strip().startswith("opsbook-search:") and len(err.strip()) > 16,
                  f"{what}: a message on stderr", err)
            check(p.stdout == b"", f"{what}: nothing on stdout", p.stdout[:200])
    ok = ("断" * 256).encode()
    p = subprocess.run([opt.search.encode(), b"--db", db.encode(), ok], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 0, "256-character query is fine", p.stderr.decode("utf-8", "replace"))

    rc, out, err = run([opt.search, "--db", os.path.join(tmp, "no-such-db"), "机房"])
    no_crash(rc, "missing db", err)
    check(rc != 0 and "no index here" in err, "missing db: non-zero exit with a message", err)


def test_lang_change(opt, tmp):
    """Words are cut with ops.dic and synonyms.txt at index time: when they
    change, the next run rebuilds (beside the live index) instead of
    keeping terms cut with the old ones."""
    hb = os.path.join(tmp, "handbook-lang")
    db = os.path.join(tmp, "db-lang")
    lang = os.path.join(tmp, "lang-copy")
    shutil.copytree(opt.fixtures, hb)
    shutil.copytree(opt.lang, lang)
    nfiles = sum(1 for root, _, files in os.walk(hb) for f in files
                 if f.endswith(".md") and f != "README.md")
    current = lambda: open(os.path.join(db, "CURRENT")).read().strip()

    def edit_lang(name, line):
        with open(os.path.join(lang, name), "a", encoding="utf-8") as fh:
            fh.write("\n" + line + "\n")
        return index(opt, hb, db, "--lang", lang)

    rc, c, err = index(opt, hb, db, "--lang", lang)
    check(rc == 0 and current() == "idx-1", "first run with a copy of lang/", err)
    rc, c, err = index(opt, hb, db, "--lang", lang)
    check(c is not None and c["unchanged"] == nfiles and current() == "idx-1",
          "same resources: nothing to do", err)
    rc, c, err = edit_lang("stopwords.txt", "机房")
    check(c is not None and c["unchanged"] == nfiles and current() == "idx-1",
          "the stop list is query-side only: no rebuild", err)
    rc, c, err = edit_lang("ops.dic", "温湿度控制")
    check(rc == 0 and c is not None and c["added"] == nfiles and current() == "idx-2",
          "ops.dic changed: rebuilt beside the live index", (err, c))
    check(sorted(os.listdir(db)) == ["CURRENT", "LOCK", "idx-2"], "the old index is gone",
          os.listdir(db))
    rc, c, err = index(opt, hb, db, "--lang", lang)
    check(c is not None and c["unchanged"] == nfiles and current() == "idx-2",
          "and the next run has nothing to do", err)
    rc, c, err = edit_lang("synonyms.txt", "鞋套 脚套")
    check(c is not None and c["added"] == nfiles and current() == "idx-3",
          "synonyms.txt changed (its words are lexicon words): rebuilt", (err, c))


def test_symptom_weights(opt, tmp):
    """Schema 8: front-matter symptoms count lightly (x1) on every entry,
    a one-entry document's too; a section's own symptoms count x3. Two
    one-entry phrases alike but for where the wording is written."""
    hb = os.path.join(tmp, "handbook-weights")
    db = os.path.join(tmp, "db-weights")
    os.makedirs(os.path.join(hb, "phrase"))
    docs = {
        "fm": "---\nid: fm\ntype: phrase\nsymptoms:\n  - 宽带老掉线\n---\n# 甲\n\n请稍候。\n",
        "sec": "---\nid: sec\ntype: phrase\n---\n# 乙\n\n请稍候。\n\n<!-- symptoms: 宽带老掉线 -->\n",
    }
    for name, text in docs.items():
        with open(os.path.join(hb, "phrase", name + ".md"), "w", encoding="utf-8") as fh:
            fh.write(text)
    rc, c, err = index(opt, hb, db)
    check(rc == 0 and c is not None and c["added"] == 2, "two phrases indexed", err)
    res = search_json(opt, db, "宽带老掉线")
    score = {} if res is None else {h["id"]: h["score"] for h in res["results"]}
    check(set(score) == {"fm", "sec"}, "both found", score)
    check(ids(res)[:1] == ["sec"] and score.get("sec", 0) > 1.2 * score.get("fm", 0),
          "a section's own symptom outweighs a front-matter one", score)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", required=True)
    ap.add_argument("--search", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--bad", required=True)
    ap.add_argument("--lang", required=True)
    opt = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ob-integration-") as tmp:
        test_incremental(opt, tmp)
        test_bad(opt, tmp)
        test_writers(opt, tmp)
        test_lock(opt, tmp)
        test_search_cli(opt, tmp)
        test_lang_change(opt, tmp)
        test_symptom_weights(opt, tmp)
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
