#!/usr/bin/env python3
"""Handbook checks: front matter + source coverage.

Usage:  python3 tests/handbook_coverage.py handbook [-v]

(a) Every handbook .md file (files/folders starting with '.' or '_' and
    README.md are ignored, as in docs/handbook-format.md) must have well-formed
    front matter in the documented YAML subset, a unique valid id, a valid
    type, title/category/tags/symptoms, `related` ids that exist, a severity and
    the seven fixed level-2 sections for faults, a blockquote for phrases and
    well-formed {{slot}} names.

(b) handbook/_source/seed.txt (byte-exact copy of the seed) is split into
    sentences and every sentence of at least MIN_LEN characters must occur in
    the concatenated, normalised text of the handbook's sop and phrase bodies
    (fault write-ups quote the source but are not counted as its home).

    Normalisation (both sides): {{slot}} in the handbook and blank runs in the
    source (x, xx, xxx, ××, ……) become one placeholder, so a slot matches a
    blank; then NFKC (folds Kangxi radicals such as ⼀ ⽹ ⼈), casefold, and
    drop whitespace, punctuation, symbols and Markdown markup characters.
    Sentences end at 。, at line ends and at quotation marks (a quoted
    standard phrase becomes a blockquote of its own).  A leading list
    enumerator (1、 2. 3) (4) 一、) may be dropped, because numbering is turned
    into headings or front matter.

    Source preparation, all listed below and reported:
      * EXCLUDED_LINES: document-hosting boilerplate, not handbook content;
      * a title line repeated at the start of the next line (scraper artefact,
        e.g. "idc机房运维服务标准\\nidc机房运维服务标准IDC机房…") is dropped there;
      * DUPLICATE_FRAGMENTS: passages the source repeats; the named occurrence
        is removed after checking the text occurs elsewhere in the seed;
      * BREAKS: places where the scraper ran two documents together without a
        sentence end.  (Passages repeated as whole lines, e.g. the etiquette
        guide that appears twice, need no rule: each sentence just has to occur
        somewhere.)

Exit status 1 if any file is malformed or any sentence is missing.
"""
import hashlib
import os
import re
import sys
import unicodedata

SEED_SHA256 = '5d6d9d621cbf063d16c51b0753f94003f8d6a4f70bf12e14f4ff21c7407fac64'
MIN_LEN = 6

EXCLUDED_LINES = [  # prefixes of whole source lines that are not handbook content
    '- 1、下载文档前请自行甄别文档内容的完整性',
    '- 2、"仅部分预览"的文档',
    '- 3、如文档侵犯您的权益,请联系客服反馈',
]
DUPLICATE_FRAGMENTS = [  # (fragment, which occurrence to drop, why)
    ('第二篇:运维服务体系运维服务体系整理编辑:一、运维服务体系建设原则运维服务体系建设的原则有以下几个方面。', 1,
     'opening of 第二篇 glued to the end of 第一篇; kept where its body follows'),
    ('当发现用户要求安装的位置不适当时:、', 1, 'scene heading printed twice'),
    ('请客户试用:、', 1, 'scene heading printed twice'),
    ('当遇到用户请吃饭或送礼时:', 1, 'scene heading printed twice'),
]
BREAKS = [  # a sentence boundary is inserted before each occurrence
    '第二篇:运维服务体系',  # after the signature 运行维护中心xx年12月
]

FM_KEYS_REQUIRED = ['id', 'type', 'title', 'category', 'tags', 'symptoms']
TYPES = {'sop', 'phrase', 'fault'}
SEVERITIES = {'一般', '较大', '重大'}
FAULT_SECTIONS = ['现象', '影响', '时间线', '原因', '处理过程', '处理结果', '经验教训']
ID_RE = re.compile(r'[a-z0-9][a-z0-9-]{0,63}\Z')
KEY_RE = re.compile(r'([a-z_]+):(.*)\Z')
SLOT_RE = re.compile(r'\{\{([^{}]*)\}\}')
SLOT_OK = re.compile(r'[^{}\s]{1,16}\Z')
BLANK_RE = re.compile(r'(?<![A-Za-z])[xX×]+(?![A-Za-z])|…+')
ENUM_RE = re.compile(r'^\s*(?:\(\d+\)|\d+(?:\.\d+)*[、.)]?|[一二三四五六七八九十]+、)\s*')
PH = '\ue000'  # placeholder for slots and blanks
MAX_FILE = 256 * 1024
MAX_FM_LINES = 200


# ---------------------------------------------------------------- front matter
def strip_comment(s):
    """Remove a '#' comment (at line start or after a space, outside quotes)."""
    q = None
    for i, ch in enumerate(s):
        if q:
            if ch == q:
                q = None
        elif ch in '"\'':
            q = ch
        elif ch == '#' and (i == 0 or s[i - 1] in ' \t'):
            return s[:i]
    return s


def parse_scalar(v, where, errs):
    v = v.strip()
    if not v:
        return ''
    if v[0] in '"\'':
        if len(v) < 2 or v[-1] != v[0]:
            errs.append(f'{where}: unterminated quoted string')
            return v
        return v[1:-1]
    if v[0] in '{&*|>':
        errs.append(f'{where}: unsupported YAML ({v[0]})')
    return v


def parse_flow_list(v, where, errs):
    inner = v.strip()[1:-1]
    items, cur, q = [], '', None
    for ch in inner:
        if q:
            cur += ch
            if ch == q:
                q = None
        elif ch in '"\'':
            q = ch
            cur += ch
        elif ch == ',':
            items.append(cur)
            cur = ''
        elif ch in '[]{}':
            errs.append(f'{where}: nested collection in flow list')
            return []
        else:
            cur += ch
    if q:
        errs.append(f'{where}: unterminated quote in flow list')
    if cur.strip() or items:
        items.append(cur)
    out = [parse_scalar(x, where, errs) for x in items]
    if any(x == '' for x in out):
        errs.append(f'{where}: empty item in flow list')
    return out


def parse_front_matter(path, text, errs):
    """Return (meta dict, body text, body start line)."""
    lines = text.split('\n')
    if not lines or lines[0].rstrip('\r') != '---':
        return {}, text, 1
    end = None
    for i in range(1, min(len(lines), MAX_FM_LINES + 2)):
        if lines[i].rstrip('\r') == '---':
            end = i
            break
    if end is None:
        errs.append(f'{path}:1: front matter not closed within {MAX_FM_LINES} lines')
        return {}, text, 1
    meta, last_key = {}, None
    for i in range(1, end):
        ln = lines[i].rstrip('\r')
        where = f'{path}:{i + 1}'
        if '\t' in ln:
            errs.append(f'{where}: tab in front matter')
            continue
        s = strip_comment(ln)
        if not s.strip():
            continue
        m = re.match(r'  - (.*)\Z', s) or re.match(r'- (.*)\Z', s)
        if m:
            if last_key is None or not isinstance(meta.get(last_key), list) or meta.get('_flow_' + last_key):
                errs.append(f'{where}: list item without a key that starts a block list')
                continue
            val = m.group(1).strip()
            if val.startswith('[') or re.match(r'[a-z_]+:\s', val):
                errs.append(f'{where}: nested structure in block list')
                continue
            meta[last_key].append(parse_scalar(val, where, errs))
            continue
        if s.startswith(' '):
            errs.append(f'{where}: unexpected indentation (nested maps and multi-line scalars are not supported)')
            continue
        m = KEY_RE.match(s.rstrip())
        if not m:
            errs.append(f'{where}: expected "key: value"')
            continue
        key, val = m.group(1), m.group(2)
        if val and not val.startswith(' '):
            errs.append(f'{where}: missing space after ":"')
        val = val.strip()
        if key in meta:
            errs.append(f'{where}: duplicate key {key}')
        last_key = key
        if val == '':
            meta[key] = []
            meta['_block_' + key] = True
        elif val.startswith('['):
            if not val.endswith(']'):
                errs.append(f'{where}: unterminated flow list')
                meta[key] = []
            else:
                meta[key] = parse_flow_list(val, where, errs)
            meta['_flow_' + key] = True
        else:
            meta[key] = parse_scalar(val, where, errs)
    meta = {k: v for k, v in meta.items() if not k.startswith('_block_')}
    meta = {k: v for k, v in meta.items() if not k.startswith('_flow_')}
    return meta, '\n'.join(lines[end + 1:]), end + 2


def headings(body):
    out, fence = [], False
    for ln in body.split('\n'):
        if re.match(r'\s{0,3}(```|~~~)', ln):
            fence = not fence
            continue
        if fence:
            continue
        m = re.match(r' {0,3}(#{1,6})\s+(.*?)\s*#*\s*$', ln)
        if m:
            out.append((len(m.group(1)), m.group(2).strip()))
    return out


def handbook_files(root):
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not x.startswith(('.', '_')))
        for f in sorted(files):
            if f.endswith('.md') and not f.startswith(('.', '_')) and f != 'README.md':
                yield os.path.join(d, f)


def check_files(root):
    errs, docs = [], []
    for path in handbook_files(root):
        rel = os.path.relpath(path, root)
        raw = open(path, 'rb').read()
        if len(raw) > MAX_FILE:
            errs.append(f'{rel}: larger than 256 KiB')
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError as e:
            errs.append(f'{rel}: not UTF-8 ({e})')
            continue
        meta, body, _ = parse_front_matter(rel, text, errs)
        if not meta:
            errs.append(f'{rel}: no front matter')
        folder = rel.split(os.sep)[0] if os.sep in rel else ''
        for k in FM_KEYS_REQUIRED:
            if k not in meta or meta[k] in ('', []):
                errs.append(f'{rel}: missing or empty `{k}`')
        doc_id = meta.get('id') or os.path.splitext(os.path.basename(rel))[0]
        typ = meta.get('type') or (folder if folder in TYPES else 'sop')
        if not isinstance(doc_id, str) or not ID_RE.match(doc_id):
            errs.append(f'{rel}: invalid id {doc_id!r}')
        if typ not in TYPES:
            errs.append(f'{rel}: invalid type {typ!r}')
        elif folder in TYPES and folder != typ:
            errs.append(f'{rel}: type {typ} but stored under {folder}/')
        if isinstance(doc_id, str) and typ in TYPES and not doc_id.startswith(typ + '-'):
            errs.append(f'{rel}: id {doc_id} should start with "{typ}-"')
        for k in ('tags', 'symptoms', 'related', 'slots'):
            if k in meta and not isinstance(meta[k], list):
                errs.append(f'{rel}: `{k}` must be a list')
        for k in ('id', 'type', 'title', 'category', 'severity'):
            if k in meta and not isinstance(meta[k], str):
                errs.append(f'{rel}: `{k}` must be a scalar')
        sy = meta.get('symptoms')
        if isinstance(sy, list) and not 3 <= len(sy) <= 8:
            errs.append(f'{rel}: {len(sy)} symptoms (want 3-8)')
        hs = headings(body)
        if not meta.get('title') and not any(l == 1 for l, _ in hs):
            errs.append(f'{rel}: no title (front matter or # heading)')
        for name in SLOT_RE.findall(body):
            if not SLOT_OK.match(name):
                errs.append(f'{rel}: bad slot name {{{{{name}}}}}')
        if isinstance(meta.get('slots'), list):
            found = []
            for n in SLOT_RE.findall(body):
                if n not in found:
                    found.append(n)
            if sorted(set(meta['slots'])) != sorted(found):
                errs.append(f'{rel}: `slots` {meta["slots"]} differ from body slots {found}')
        if typ == 'fault':
            if meta.get('severity') not in SEVERITIES:
                errs.append(f'{rel}: fault needs severity 一般/较大/重大, got {meta.get("severity")!r}')
            h2 = [t for l, t in hs if l == 2]
            if h2 != FAULT_SECTIONS:
                errs.append(f'{rel}: level-2 sections {h2} != {FAULT_SECTIONS}')
        elif 'severity' in meta:
            errs.append(f'{rel}: severity is for faults only')
        if typ == 'phrase' and not re.search(r'^ {0,3}>', body, re.M):
            errs.append(f'{rel}: phrase without a blockquote')
        docs.append({'rel': rel, 'id': doc_id, 'type': typ, 'meta': meta, 'body': body})
    seen = {}
    for d in docs:
        if d['id'] in seen:
            errs.append(f'{d["rel"]}: duplicate id {d["id"]} (also {seen[d["id"]]})')
        seen[d['id']] = d['rel']
    for d in docs:
        for r in d['meta'].get('related') or []:
            if r not in seen:
                errs.append(f'{d["rel"]}: related id {r!r} does not exist')
            elif r == d['id']:
                errs.append(f'{d["rel"]}: related lists itself')
    return docs, errs


# -------------------------------------------------------------------- coverage
COMMENT_RE = re.compile(r'<!--.*?-->', re.S)


def norm(s, slots=False):
    s = COMMENT_RE.sub('', s)  # section-symptom comments are metadata
    if slots:
        s = SLOT_RE.sub(PH, s)
    s = BLANK_RE.sub(PH, s)
    s = unicodedata.normalize('NFKC', s).casefold()
    out = []
    for ch in s:
        if ch == PH:
            if not out or out[-1] != PH:
                out.append(ch)
        elif unicodedata.category(ch)[0] not in 'PSZC':
            out.append(ch)
    return ''.join(out)


def prepare_source(seed_text, report):
    lines = seed_text.split('\n')
    kept = []
    for no, ln in enumerate(lines, 1):
        hit = [p for p in EXCLUDED_LINES if ln.startswith(p)]
        if hit:
            report.append(f'excluded line {no}: {ln[:40]}…')
            continue
        kept.append((no, ln))
    for p in EXCLUDED_LINES:
        if not any(ln.startswith(p) for ln in lines):
            report.append(f'WARNING: exclusion {p!r} matched no line')
    # blanks -> placeholder before NFKC (NFKC turns … into ...), then fold
    kept = [(no, unicodedata.normalize('NFKC', BLANK_RE.sub(PH, ln))) for no, ln in kept]
    out = []
    for i, (no, ln) in enumerate(kept):
        if i > 0:
            title = kept[i - 1][1].strip()
            if 0 < len(title) <= 40 and '。' not in title:
                n = 0
                while ln.casefold().startswith(title.casefold()) and len(ln) > 0:
                    ln = ln[len(title):]
                    n += 1
                if n:
                    report.append(f'line {no}: repeated title {title!r} x{n} dropped')
        out.append((no, ln))
    text = '\n'.join(f'\x01{no}\x02{ln}' for no, ln in out)
    plain = re.sub(r'\x01\d+\x02', '', text)
    for frag, occ, why in DUPLICATE_FRAGMENTS:
        f = unicodedata.normalize('NFKC', frag)
        core = f.strip('、:,。 ')
        if plain.count(core) < 2:
            report.append(f'ERROR: duplicate fragment {frag!r} is not repeated in the seed')
            continue
        idx = -1
        for _ in range(occ):
            idx = text.find(f, idx + 1)
        if idx < 0:
            report.append(f'ERROR: duplicate fragment {frag!r} occurrence {occ} not found')
            continue
        text = text[:idx] + text[idx + len(f):]
        report.append(f'dropped repeated fragment ({why}): {frag[:30]}…')
    for b in BREAKS:
        text = text.replace(b, '\n\x01?\x02' + b)
    sentences = []
    for ln in text.split('\n'):
        m = re.match(r'\x01(\d+|\?)\x02', ln)
        no = m.group(1) if m else '?'
        ln = re.sub(r'\x01(\d+|\?)\x02', '', ln)
        for s in re.split(r'[。“”"]', ln):
            sentences.append((no, s))
    return sentences


INNER_ENUM_RE = re.compile(r'\d+[、.]')


def split_found(s, hay):
    """The source glues a heading or a list to the clause that follows it
    ("服务管理1.服务台账:…"); the handbook makes the head a heading and keeps
    the clause whole ("1.服务台账:…"). Found when, split before one of its
    enumerators, both parts are in the handbook."""
    for m in INNER_ENUM_RE.finditer(s):
        a, b = norm(s[:m.start()]), norm(s[m.start():])
        if len(a) >= 2 and len(b) >= MIN_LEN and a in hay and b in hay:
            return True
    return False


def check_coverage(root, docs):
    report, problems = [], []
    seed_path = os.path.join(root, '_source', 'seed.txt')
    if not os.path.exists(seed_path):
        return report, [f'{seed_path} missing']
    raw = open(seed_path, 'rb').read()
    if hashlib.sha256(raw).hexdigest() != SEED_SHA256:
        problems.append('_source/seed.txt is not a byte-exact copy of the seed (sha256 differs)')
    seed = raw.decode('utf-8')
    # Fault write-ups are scenarios written for the handbook; they quote the
    # source but do not count as its home, so only sop and phrase bodies count.
    hay = norm('\n'.join(d['body'] for d in docs if d['type'] != 'fault'), slots=True)
    sentences = prepare_source(seed, report)
    total = found = short = enum = split = 0
    missing = []
    for no, s in sentences:
        n = norm(s)
        if not n:
            continue
        if len(n) < MIN_LEN:
            short += 1
            if n not in hay:
                report.append(f'WARNING: short sentence (not required) not found, seed line {no}: {s.strip()}')
            continue
        total += 1
        if n in hay:
            found += 1
            continue
        n2 = norm(ENUM_RE.sub('', s, count=1))
        if n2 != n and len(n2) >= 1 and n2 in hay:
            found += 1
            enum += 1
            continue
        if split_found(s, hay):
            found += 1
            split += 1
            continue
        missing.append((no, s.strip()))
    stats = dict(total=total, found=found, short=short, enum=enum, split=split,
                 missing=len(missing))
    return report, problems, missing, stats


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    root = argv[1]
    verbose = '-v' in argv
    docs, errs = check_files(root)
    res = check_coverage(root, docs)
    if len(res) == 2:
        report, problems = res
        missing, stats = [], {}
    else:
        report, problems, missing, stats = res
    by_type = {}
    for d in docs:
        by_type[d['type']] = by_type.get(d['type'], 0) + 1
    if verbose:
        for r in report:
            print('  ' + r)
    for r in report:
        if r.startswith(('ERROR', 'WARNING')) and not verbose:
            print(r)
    errs += [r for r in report if r.startswith('ERROR')] + problems
    for e in errs:
        print('ERROR', e)
    for no, s in missing:
        print(f'MISSING seed line {no}: ' + s.replace(PH, '□'))
    print(f'files: {len(docs)} ' + ' '.join(f'{k}={v}' for k, v in sorted(by_type.items())))
    if stats:
        print('sentences >= {} chars: {total}, found: {found} (of which {enum} without leading enumerator, {split} split at an enumerator), '
              'missing: {missing}; shorter sentences skipped: {short}; excluded lines: {exc}'.format(
                  MIN_LEN, exc=len(EXCLUDED_LINES), **stats))
    print(f'front-matter/structure errors: {len(errs)}')
    ok = not errs and not missing
    print('OK' if ok else 'FAIL')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
