#!/usr/bin/env python3
"""Deterministic synthetic Chinese ops corpus in the handbook format.

    bench/gencorpus.py --handbook handbook --out DIR --n N [--seed S]
    bench/gencorpus.py --handbook handbook --queries 500 > bench/queries.txt

Reads the vocabulary from handbook/**/*.md at generation time (sentences,
clauses, titles, headings, categories, tags, symptoms) and recombines it
with device names, numbers and Latin abbreviations into N documents: about
45 % sop, 20 % fault and 35 % phrase, 1.8 KB on average, in
DIR/{sop,fault,phrase}/gNNN/ (1000 files a folder). Document i depends
only on the seed, i and the handbook, so the first 1000 documents of a
10k corpus are the 1k corpus.
"""
import argparse
import os
import random
import re
import sys

DEVICES = [
    "华为S5720-28X交换机", "H3C S6520交换机", "中兴C300 OLT", "华为MA5800 OLT",
    "ONU光猫", "华为AR2220路由器", "Cisco ASR1001路由器", "BRAS设备", "IPTV机顶盒",
    "戴尔R740服务器", "浪潮NF5280服务器", "华为OceanStor存储", "艾默生UPS",
    "山特UPS 3C10KS", "精密空调", "柴油发电机", "配电柜PDU", "防火墙USG6550",
    "负载均衡F5", "核心交换机", "汇聚交换机", "接入交换机", "光纤配线架ODF",
    "分光器", "无线AP", "机顶盒", "路由器", "光猫", "网线水晶头", "光模块SFP",
]
ABBRS = [
    "UPS", "BRAS", "OLT", "ONU", "VLAN", "ACL", "BGP", "OSPF", "DNS", "DHCP", "IDC",
    "SLA", "ITIL", "CPU", "PON", "IPTV", "NAT", "VPN", "QoS", "SNMP", "CMDB", "NOC",
    "PUE", "RAID", "SSD", "IP", "MAC", "PPPoE", "Wi-Fi", "SSH",
]
UNITS = ["摄氏度", "分钟", "小时", "台", "个机柜", "户", "Mbps", "%", "伏", "千瓦"]
PLACES = ["头屯河分局", "二号机房", "B列机柜", "三楼弱电间", "城北片区", "核心机房",
          "汇聚节点", "小区光交箱", "营业厅", "客户家中"]
FAULT_SECTIONS = ["现象", "影响", "时间线", "原因", "处理过程", "处理结果", "经验教训"]
COLLOQUIAL = [
    "{s}", "{s}怎么办", "客户说{s}", "{s}咋整", "{s}该怎么处理", "{d}{f}了怎么办",
    "{d}老是{f}", "{a}{f}", "{a} {w}", "{w}的流程", "{w}有什么要求", "{w}标准是什么",
    "{p}{d}{f}", "用户投诉{s}", "{w}", "{d}", "{a}告警怎么处理", "{w}多少算正常",
    "{s}要多久", "{d}{w}", "{p}{n}正常吗", "{c}",
]
FAULT_WORDS = ["掉线", "断网", "没信号", "重启", "告警", "掉电", "过热", "丢包", "卡顿",
               "上不了网", "登录不上", "端口down", "灯不亮", "延迟高"]
TRAD = str.maketrans("机电断线网络修复务计维护温压设备时间应该问题处理换开关头发区",
                     "機電斷線網絡修復務計維護溫壓設備時間應該問題處理換開關頭發區")

CJK = re.compile(r"[\u4e00-\u9fff]")


def strip_md(line):
    line = re.sub(r"<!--.*?-->", "", line)
    line = re.sub(r"^\s*(#+|>|[-*]|\d+[.、])\s*", "", line)
    line = re.sub(r"[*_`\[\]{}]", "", line)
    return line.strip()


class Vocab:
    def __init__(self, root):
        self.sentences, self.clauses, self.titles, self.headings = [], [], [], []
        self.categories, self.tags, self.symptoms, self.phrases = [], [], [], []
        paths = []
        for d, subdirs, files in os.walk(root):
            subdirs[:] = sorted(x for x in subdirs if not x.startswith((".", "_")))
            paths += [os.path.join(d, f) for f in sorted(files)
                      if f.endswith(".md") and not f.startswith((".", "_")) and f != "README.md"]
        if not paths:
            sys.exit("gencorpus: no Markdown under %s" % root)
        for p in sorted(paths):
            self._read(p)
        for name in ("sentences", "clauses", "titles", "headings", "categories", "tags",
                     "symptoms", "phrases"):
            v = sorted(set(x for x in getattr(self, name) if x))
            if not v:
                sys.exit("gencorpus: the handbook has no %s" % name)
            setattr(self, name, v)

    def _read(self, path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        body = text
        if text.startswith("---\n"):
            end = text.find("\n---\n", 4)
            if end > 0:
                fm, body = text[4:end], text[end + 5:]
                key = None
                for line in fm.splitlines():
                    m = re.match(r"^([a-z_]+):\s*(.*)$", line)
                    if m:
                        key, val = m.group(1), m.group(2).strip()
                        if key == "title":
                            self.titles.append(val)
                        elif key == "category":
                            self.categories.append(val)
                        elif key == "tags" and val.startswith("["):
                            self.tags += [t.strip() for t in val.strip("[]").split(",")]
                        elif key == "symptoms" and val.startswith("["):
                            self.symptoms += [t.strip() for t in val.strip("[]").split(",")]
                    elif key == "symptoms" and line.strip().startswith("- "):
                        self.symptoms.append(line.strip()[2:].strip())
        for m in re.finditer(r"<!-- symptoms: (.*?) -->", body):
            self.symptoms += [s.strip() for s in re.split(r"[;；]", m.group(1))]
        for line in body.splitlines():
            if line.startswith("## "):
                self.headings.append(re.sub(r"^[\d一二三四五六七八九十]+[、.]\s*", "",
                                            strip_md(line)))
                continue
            if line.startswith(">"):
                self.phrases.append(strip_md(line))
            s = strip_md(line)
            if not CJK.search(s):
                continue
            for sent in re.split(r"(?<=[。！？；!?;])", s):
                sent = sent.strip()
                if len(sent) >= 6:
                    self.sentences.append(sent)
                for c in re.split(r"[,，、。！？；:：!?;()（）“”\"]", sent):
                    c = c.strip()
                    if 2 <= len(c) <= 24 and CJK.search(c):
                        self.clauses.append(c)


class Gen:
    def __init__(self, vocab, seed):
        self.v, self.seed = vocab, seed

    def number(self, r):
        k = r.randrange(5)
        if k == 0:
            return "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255))
        if k == 1:
            return "%02d:%02d" % (r.randrange(24), r.randrange(60))
        if k == 2:
            return "%d%s" % (r.randrange(1, 500), r.choice(UNITS))
        if k == 3:
            return "GE0/0/%d" % r.randrange(1, 48)
        return "%d" % r.randrange(1, 10000)

    def sentence(self, r):
        """A handbook sentence, or a new one recombined from clauses, with
        devices, numbers and abbreviations mixed in."""
        if r.random() < 0.35:
            return r.choice(self.v.sentences)
        parts = []
        for _ in range(r.randint(2, 4)):
            x = r.random()
            if x < 0.12:
                parts.append(r.choice(DEVICES) + r.choice(FAULT_WORDS))
            elif x < 0.22:
                parts.append(r.choice(self.v.clauses) + self.number(r))
            elif x < 0.30:
                parts.append(r.choice(ABBRS) + r.choice(self.v.clauses))
            elif x < 0.36:
                parts.append(r.choice(PLACES) + r.choice(self.v.clauses))
            else:
                parts.append(r.choice(self.v.clauses))
        return ",".join(parts) + r.choice("。。。;!")

    def paragraph(self, r, lo, hi):
        return "".join(self.sentence(r) for _ in range(r.randint(lo, hi)))

    def front(self, r, did, typ, title):
        tags = sorted(set(r.sample(self.v.tags, min(len(self.v.tags), r.randint(2, 6)))))
        sym = r.sample(self.v.symptoms, min(len(self.v.symptoms), r.randint(1, 4)))
        if r.random() < 0.3:
            sym.append(r.choice(DEVICES) + r.choice(FAULT_WORDS) + "怎么办")
        out = ["---", "id: " + did, "type: " + typ, "title: " + title,
               "category: " + r.choice(self.v.categories),
               "tags: [" + ", ".join(t for t in tags if "," not in t and "]" not in t) + "]",
               "symptoms:"]
        out += ["  - " + s.replace("#", "") for s in sym if s]
        if typ == "fault":
            out.append("severity: " + r.choice(["一般", "较大", "重大"]))
        out.append("---")
        return "\n".join(out) + "\n"

    def title(self, r):
        t = r.choice(self.v.titles)
        if r.random() < 0.5:
            t = r.choice(DEVICES) + r.choice(FAULT_WORDS) + "·" + r.choice(self.v.headings)
        return t.replace("#", "")[:60]

    def sop(self, r, did):
        title = self.title(r)
        out = [self.front(r, did, "sop", title), "# " + title + "\n",
               self.paragraph(r, 1, 2) + "\n"]
        for k in range(r.randint(3, 8)):
            out.append("## %d. %s\n" % (k + 1, r.choice(self.v.headings)))
            if r.random() < 0.25:
                out.append("<!-- symptoms: %s; %s -->\n" % (r.choice(self.v.symptoms),
                                                             r.choice(self.v.symptoms)))
            if r.random() < 0.4:
                out += ["- " + self.sentence(r) for _ in range(r.randint(2, 4))]
                out.append("")
            else:
                out.append(self.paragraph(r, 2, 4) + "\n")
        return "\n".join(out)

    def fault(self, r, did):
        title = self.title(r)
        out = [self.front(r, did, "fault", title), "# " + title + "\n",
               self.paragraph(r, 1, 1) + "\n"]
        for h in FAULT_SECTIONS:
            out.append("## " + h + "\n")
            if h == "时间线":
                out += ["- %02d:%02d %s" % (r.randrange(24), r.randrange(60), self.sentence(r))
                        for _ in range(r.randint(2, 4))]
                out.append("")
            else:
                out.append(self.paragraph(r, 1, 3) + "\n")
        return "\n".join(out)

    def phrase(self, r, did):
        title = self.title(r)
        out = [self.front(r, did, "phrase", title), "# " + title + "\n",
               self.paragraph(r, 1, 3) + "\n",
               "> " + r.choice(self.v.phrases) + self.sentence(r) + "\n",
               self.paragraph(r, 1, 2) + "\n"]
        return "\n".join(out)

    def doc(self, i):
        r = random.Random("%s:%d" % (self.seed, i))
        x = r.random()
        typ = "sop" if x < 0.45 else "fault" if x < 0.65 else "phrase"
        did = "%s-b%07d" % (typ, i)
        text = getattr(self, typ)(r, did)
        return typ, did, text

    def query(self, r):
        t = r.choice(COLLOQUIAL)
        q = t.format(s=r.choice(self.v.symptoms), d=r.choice(DEVICES), f=r.choice(FAULT_WORDS),
                     a=r.choice(ABBRS), w=r.choice(self.v.clauses), p=r.choice(PLACES),
                     n=self.number(r), u=r.choice(UNITS), c=r.choice(self.v.headings))
        if r.random() < 0.08:
            q = q.translate(TRAD)
        return re.sub(r"\s+", " ", q).strip()[:60]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--handbook", default="handbook")
    ap.add_argument("--out")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", default="opsbook-bench-1")
    ap.add_argument("--queries", type=int, help="print this many queries instead")
    a = ap.parse_args()
    g = Gen(Vocab(a.handbook), a.seed)
    if a.queries:
        r = random.Random(a.seed + ":queries")
        seen = set()
        while len(seen) < a.queries:
            q = g.query(r)
            if q and q not in seen:
                seen.add(q)
                print(q)
        return
    if not a.out:
        ap.error("--out or --queries is required")
    total = 0
    for i in range(a.n):
        typ, did, text = g.doc(i)
        d = os.path.join(a.out, typ, "g%03d" % (i // 1000))
        os.makedirs(d, exist_ok=True)
        data = text.encode("utf-8")
        total += len(data)
        with open(os.path.join(d, did + ".md"), "wb") as f:
            f.write(data)
    print("gencorpus: %d documents, %d bytes (%.0f B/doc) in %s"
          % (a.n, total, total / max(a.n, 1), a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
