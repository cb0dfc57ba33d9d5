#!/usr/bin/env python3
"""Search-quality test (ctest label `quality`).

Scores the engine on the anchor corpus (tests/quality/anchor, the source
split into clauses, indexed as it is) and the product on the bundled
handbook, each with the eighty-one query sets below (6,340 queries):

  dev-tune   the first 45 dev queries  (the only ones weights were tuned on)
  dev-hold   the last 45 dev queries   (held out)
  fresh      80 queries written independently of the dev set (held out)
  fresh2     50 queries written in session 2 by someone who saw neither the
             other query sets nor lang/ (held out; judged the colloquial
             synonym groups added to lang/synonyms.txt at the same time,
             which were written without seeing any query set)
  fresh3     60 queries written in session 3 by someone who saw neither the
             other query sets, nor lang/, nor handbook/ (held out; judged
             the synonym weight, the section symptoms and the synonym
             groups of session 3, each written blind to it)
  fresh4     60 more queries, written the same way after all of session 3's
             changes had been made; scored once against the session-2 and
             the session-3 state, then added here
  fresh5     80 more, written the same way while a second round of synonym
             groups and of section symptoms was written (blind to it); it
             took the synonyms (anchor S@1 +1 query, no loss) and refused
             the symptoms (no change)
  fresh6     80 more, written the same way in session 4 (blind to the
             handbook, lang/ and every other set); it refused a rule that
             dropped query bigrams holding a question particle (有啥, 啥用:
             +2 S@k / +5 S@1 queries over the older sets, -1 / +1 here)
  fresh7     80 more, written the same way in session 5; it judged the
             rule that puts a multi-section document's tags on the
             sections that name them (handbook +2 S@k / +2 S@1 here, +3 /
             +8 over the older sets)
  fresh8     80 more, written the same way at the end of session 5 and
             scored once against the state before the session (handbook
             0.900 / 0.863) and after it (0.887 / 0.850: one near tie,
             `SOP是什么的缩写`, lost first place; anchor 0.850 / 0.787 both)
  fresh9     80 more, written the same way in session 6 (blind to the
             handbook, lang/ and every other set), when no change of the
             session had touched ranking: the state at its end, handbook
             0.912 / 0.875, anchor 0.850 / 0.787
  fresh10    80 more, written the same way in session 7; it judged BM25's
             length normalisation b 0.5 (was 0.75), chosen on the 740
             queries above: handbook 0.912 / 0.875 -> 0.925 / 0.887,
             anchor 0.912 / 0.875 -> 0.925 / 0.875
  fresh11    80 more, written the same way in session 7 after fresh10;
             scored before and after b 0.5 (anchor 0.900 / 0.850 -> 0.912
             / 0.900, handbook 0.938 / 0.850 both), then its misses were
             read (definition questions among them)
  fresh12    80 more, written the same way in session 7 and scored, unread,
             before and after a symptom "<term>是什么意思" was given to each
             SOP section that defines a term (handbook 0.950 / 0.875 both:
             neither confirmed nor refused; seen sets +6 S@k / +3 S@1, no
             loss); b 0.5 against 0.75 there: anchor 0.887 / 0.850 against
             0.900 / 0.875, handbook equal
  fresh13    80 more, written the same way in session 7, half of them
             technicians describing their visit; it judged a blind round of
             3 more symptoms for each of the 31 phrase documents (0.912 /
             0.863 -> 0.925 / 0.875, but the 960 queries before it -5 S@k
             / +1 S@1: not taken); scored at the end of the session:
             handbook 0.912 / 0.863 (without the definition symptoms 0.912
             / 0.875, with b 0.5 or 0.75 alike), anchor 0.812 / 0.750 (b
             0.75: 0.800 / 0.738)
  fresh14    80 more, written the same way in session 8; scored unread at
             the start (handbook 0.912 / 0.912, anchor 0.688 / 0.675), it
             judged a blind round of 75 synonym groups (handbook -1 / -1,
             anchor +1 / +1; the 1,060 queries before it: handbook 0 / -1,
             anchor +1 / 0: not taken); then its misses were read
  fresh15    80 more, written the same way in session 8, spread evenly over
             the source (its drier standards included); scored unread
             before and after the session's two content changes: the
             reschedule symptom (handbook 0.838 / 0.812 -> 0.850 / 0.825)
             and the 关闭 synonym group (no change either corpus); anchor
             0.650 / 0.637; then its misses were read
  fresh16    80 more, written the same way in session 8 (about 12 of them
             questions about a whole sequence or list, their writer told
             to put the first item's phrase first: a brief that favoured
             the rule it judged); scored unread, it judged the
             "<procedure>分几步" symptoms on the first step of 6 procedures
             (handbook 0.812 / 0.812 -> 0.825 / 0.825; the 1,140 queries
             before it +7 / +4), taken and later reverted (fresh17 and
             fresh18 -1 / -1 each); before the session's changes: handbook
             0.800 / 0.800, anchor 0.738 / 0.738 both; then its misses
             were read
  fresh17    80 more, written the same way in session 8; scored unread, it
             judged 8 symptoms written after reading fresh14-16 (handbook
             0.825 / 0.800 -> 0.838 / 0.812; the 1,220 queries before it
             +5 / +7); before the session's changes: handbook 0.812 /
             0.787, anchor 0.750 / 0.713 both; then its misses were read
  fresh18    80 more, written the same way at the end of session 8 and
             scored unread: the session's start handbook 0.863 / 0.838,
             its state with the step symptoms 0.850 / 0.825 (two group
             questions labelled with steps 2-3 and step 5 fell behind step
             1), without them (the end state) 0.863 / 0.838; anchor 0.738
             / 0.725 at start and end
  fresh19    80 more, written the same way at the end of session 8 to judge
             new weights chosen on the 1,460 queries above (bigrams 0.8,
             synonym groups 1.3; two candidates fixed beforehand): old
             weights anchor 0.675 / 0.675, handbook 0.863 / 0.863;
             bigrams 0.8 alone 0.688 / 0.675 and 0.863 / 0.863; both
             0.762 / 0.750 and 0.875 / 0.875 (taken); then its misses
             were read
  fresh20    80 more, written the same way last in session 8 and scored
             unread: the session's start (old weights, old synonyms, the
             handbook as it was) anchor 0.700 / 0.688, handbook 0.825 /
             0.825; its end anchor 0.713 / 0.700, handbook 0.825 / 0.825;
             the new weights alone change nothing on it, nor does the
             last symptom (the lowest incident level)
  fresh21    80 more, written the same way in session 9 and scored unread:
             it judged the definition words 什么东西 / 啥东西 and the UPS
             symptom, both from fresh20's misses (handbook 0.900 / 0.900
             -> 0.912 / 0.912, anchor 0.762 / 0.762 both); then its misses
             were read
  fresh22    80 more, written the same way in session 9 (some 2-5
             characters long, some rambling) and scored unread: it judged
             到底 as a stop word and 「网络运维标准化分几步」 on all four
             steps, both from fresh21's misses (handbook 0.762 / 0.750 ->
             0.787 / 0.775, anchor 0.650 / 0.650 both); with fresh21 it
             judged synonym groups at 1.5 instead of 1.3 (anchor 113 -> 116
             of 160, handbook 138 -> 139); then its misses were read
  fresh23    80 more, written the same way in session 9 and scored
             unread: the session's start anchor 0.675 / 0.662, handbook
             0.887 / 0.887; its state then 0.688 / 0.675 and 0.900 /
             0.900 (the synonym weight gives the one query each); then its
             misses were read
  fresh24    80 more, written the same way last in session 9 and scored
             unread: it judged a symptom on the first step of the service
             flow (「服务流程从提请求到评价一共几步」, labelled on that step
             by three writers) and the spoken forms 关了 and 包出去 /
             包给外面 in their groups (handbook 70 -> 71 of 80, the
             symptom; anchor 56 both); the session's start anchor 0.700 /
             0.688, handbook 0.838 / 0.825; its end 0.700 / 0.688 and
             0.887 / 0.887
  fresh25    80 more, written the same way in session 10 and scored
             unread: anchor 0.863 / 0.863, handbook 0.887 / 0.887; then
             its misses were read. One of them (「信息安全管理参照哪个ISO
             标准」) showed that ISO17799 was one term only: a run of
             letters then digits (or digits then letters) now also gives
             its two parts (iso, 17799)
  fresh26    80 more, written the same way last in session 10 and scored
             unread: before the letter/digit parts anchor 0.887 / 0.875,
             handbook 0.963 / 0.963; with them 0.887 / 0.875 and 0.975 /
             0.975 (「信息安全管理按啥标准来 ISO」); the parts change
             nothing over the 1,940 queries of the sets above
  fresh27    80 more, written the same way in session 10 and scored
             unread: anchor 0.875 / 0.863, handbook 0.887 / 0.875; then
             its misses were read. Three of them were questions fresh25's
             writer had asked too (how soon a problem must be answered,
             what follows a backup, the first step of network
             standardisation); with two more asked twice, they became
             five symptoms (handbook +17 / +18 over the 2,180 queries of
             the sets above, one lost: fresh20's 「网络运维搞标准化
             分几步推进」, labelled on steps 3 and 4, now finds step 1)
  fresh28    80 more, written the same way last in session 10 and scored
             unread: before the five symptoms anchor 0.963 / 0.963,
             handbook 0.950 / 0.938 (the same at the session's start);
             with them handbook 0.975 / 0.963 (「运维人员管理制度包括哪些」,
             「网络运维标准化落地第一步做什么」: the fourth writer to ask
             that one)
  fresh29    80 more, written the same way last in session 10 and scored
             unread: the session's start anchor 0.925 / 0.925, handbook
             0.925 / 0.925; with the five symptoms 0.950 / 0.950; with a
             sixth (机房防火设施有哪些, a question fresh, fresh26, fresh27
             and fresh28 had all asked) 0.963 / 0.963; the same questions
             again (the first step of network standardisation, what
             follows a backup, fire equipment in the machine room). The
             spoken forms 我们这边的问题 / 咱们这边的问题 / 咱们的问题 in
             the 我方原因 group: anchor +2 / +2 on the sets above,
             nothing on fresh29
  fresh30    80 more, written the same way last in session 10 and scored
             unread once, at the session's end (anchor 0.900 / 0.887,
             handbook 0.912 / 0.912) and with its start (anchor the same,
             handbook 0.912 / 0.900); nothing was changed after it
  fresh31    80 more, written the same way in session 11 (a helper that
             read only the source text) and scored unread at the
             session's start: anchor 0.725 / 0.725, handbook 0.863 /
             0.863. Four of its misses were questions earlier sets had
             asked two to seven times (the steps of a change, the
             service's core idea, a review after a fault is fixed, the
             first step on a fault report); a symptom each in my own
             wording: handbook 0.912 / 0.912, and +12 S@k / +15 S@1
             over the 2,420 older queries, one S@1 lost (fresh10 w58,
             below)
  fresh32    80 more, written the same way after every change of session
             11 and scored unread once, with the session's start and its
             end: anchor 0.600 / 0.600 and handbook 0.775 / 0.775 both
             (the four symptoms moved nothing here; many misses are the
             right document's neighbouring section at rank 2-3)
  fresh33    80 more, written the same way at the start of session 12
             and scored unread: anchor 0.700 / 0.700, handbook 0.800 /
             0.800 (in the first three: 0.850 and 0.950)
  fresh34    80 more, written the same way at the end of session 12 and
             scored unread: anchor 0.762 / 0.762, handbook 0.825 / 0.825
             (in the first three: 0.875 and 0.938)
  fresh35    80 more, written the same way at the start of session 13
             and scored unread: anchor 0.787 / 0.787, handbook 0.900 /
             0.900 (in the first three: 0.938 and 0.950)
  fresh36    80 more, written the same way at the end of session 13 and
             scored unread: anchor 0.875 / 0.875, handbook 0.963 / 0.963
             (in the first three: 0.938 and 0.988)
  fresh37    80 more, written the same way at the start of session 14
             and scored unread: anchor 0.625 / 0.625, handbook 0.850 /
             0.850 (in the first three: 0.787 and 0.950)
  fresh38    80 more, written the same way later in session 14 (after
             its two matcher changes, which keep every list as it was)
             and scored unread: anchor 0.662 / 0.662, handbook 0.925 /
             0.925 (in the first three: 0.850 and 0.950)
  fresh39    80 more, written the same way in session 15 (whose changes
             keep every list of these corpora: they are matched exactly)
             and scored unread: anchor 0.838 / 0.838, handbook 0.950 /
             0.950 (in the first three: 0.950 and 0.975)
  fresh40    80 more, written the same way at the start of session 16
             (whose changes keep every list of these corpora) and scored
             unread: anchor 0.675 / 0.675, handbook 0.887 / 0.887 (in the
             first three: 0.825 and 0.963)
  fresh41    80 more, written the same way at the start of session 17
             (whose changes keep every list of these corpora) and scored
             unread: anchor 0.688 / 0.688, handbook 0.838 / 0.838 (in the
             first three: 0.775 and 0.925); eight of its answers are in
             the door-to-door etiquette the source gives twice, so either
             copy counts
  fresh42    80 more, written the same way in session 17, half of them
             asking what to say to a customer (intent "SAY:"), half about
             rules (intent "RULE:"); scored unread: anchor 0.662 / 0.662,
             handbook 0.925 / 0.925 (SAY 0.975, RULE 0.875; in the first
             three: 0.838 and 0.963). It judged a prior that lowered SOP
             sections when the query asks what to say (说什么, 怎么解释,
             安抚 …), refused on the older sets (handbook -5 S@k / -7 S@1
             of 3,300): no change on its SAY queries, not taken
  fresh43    80 more, written the same way at the start of session 20
             (the helper read only the source) and scored unread before
             any change of the session: anchor 0.762 / 0.762 (in the first
             three 0.875), handbook 0.938 / 0.938 (0.988); its misses were
             read then, so it is a seen set from here on
  fresh44    80 more, written the same way later in session 20 but in the
             dev set's style (k = 3 for 72, k = 1 for 8 asking one number
             or fact; one to three accepted passages) and scored unread:
             anchor S@k 0.863 / S@1 0.787, handbook 0.988 / 0.925
  fresh45,   80 more each, written the same way at the start of session 21
  fresh46    (k = 3; fresh46 a duty engineer's terse questions) and scored
             unread: anchor 0.825 / 0.713 and 0.887 / 0.688, handbook
             0.975 / 0.912 and 0.938 / 0.838; their misses were read then
  fresh47,   80 more each, written blind later in session 21 (k = 3; a new
  fresh48    hire's questions; complaints retold) and scored unread before
             and after the session's first change (an ordered item's number
             kept in the text): anchor 0.812 / 0.625 -> 0.825 / 0.637 and
             0.887 / 0.738 -> 0.887 / 0.750, handbook 0.838 / 0.762 ->
             0.863 / 0.787 and 0.950 / 0.875 -> 0.963 / 0.875; their misses
             were read then (the list symptoms later took fresh47's handbook
             figures to 0.900 / 0.775)
  fresh49,   80 more each, written blind at the end of session 21 (k = 3;
  fresh50    technicians on the job and team leads; half-remembered rules
             and "which / how many" questions) and scored unread, before
             and after the list numbers: anchor 0.875 / 0.675 both and
             0.762 / 0.613 -> 0.787 / 0.637, handbook 0.925 / 0.800 ->
             0.938 / 0.812 and 0.838 / 0.750 -> 0.887 / 0.775; then
             judged the blind-written list symptoms (unread): handbook
             0.938 / 0.812 -> 0.950 / 0.825, 0.887 / 0.775 -> 0.912 / 0.838
  fresh51    80 more, written blind at the end of session 21 (anyone on the
             team, k = 3) and scored unread: anchor 0.887 / 0.613; handbook
             0.938 / 0.838 before the list symptoms, 0.925 / 0.850 after
  fresh52,   80 more each, written blind at the end of session 21 (k = 3;
  fresh53    technicians asking a colleague; trainers and retold complaints)
             and scored unread: anchor 0.812 / 0.575 and 0.787 / 0.625,
             handbook 0.950 / 0.850 and 0.938 / 0.875. They judged a blind
             round of symptoms for prohibitions (「客户找茬能怼回去吗」):
             -1 / +1 over both, +5 / +5 over the 4,100 seen; not taken
  fresh54-   80 more each, written blind at the start of session 22 by two
  fresh57    writers who read only the source (k = 3; fresh56 and fresh57
             worked back from the end of the source) and scored unread:
             anchor 0.925 / 0.825, 0.912 / 0.787, 0.912 / 0.800 and
             0.912 / 0.812, handbook 0.963 / 0.912, 0.950 / 0.800,
             0.988 / 0.900 and 0.938 / 0.912. With fresh52 and fresh53 (unread
             too) they refused a blind round of paraphrase symptoms
             (handbook -1 / 0) and took a stop bigram's characters dropped
             with it (东西): anchor +2 / +6, handbook +1 / +3
  fresh58-   80 more each, written blind later in session 22 (k = 3;
  fresh61    fresh58 a technician on the job, fresh59 a team lead or
             trainer, fresh60 a new hire half-remembering, fresh61 retold
             customer situations) and scored unread after the session's
             change: anchor 0.825 / 0.713, 0.963 / 0.863, 0.900 / 0.750,
             0.637 / 0.412; handbook 0.963 / 0.875, 0.950 / 0.887,
             0.975 / 0.887, 0.700 / 0.562 (before the change: anchor
             +2 / +3 over the four, handbook -1 / -1). fresh61's misses
             were read then: a customer's words retold (「客户投诉师傅
             身上一股酒味」) for an internal rule (严禁酒后上岗)
  fresh62,   80 more each, written blind at the end of session 22 in
  fresh63    fresh61's style (retold customer situations) and scored
             unread: anchor 0.700 / 0.625 and 0.863 / 0.713, handbook
             0.887 / 0.812 and 0.925 / 0.800. They refused a blind round
             of customer-retold symptoms (「客户投诉师傅在家里抽烟」, one
             a section): +1 / -1 there, -15 / -13 over the 4,820 seen
             queries other than fresh61 (which gained +6 / +8)
  fresh64-   80 more each, written blind at the start of session 23 by
  fresh67    writers who read only the source (k = 3; fresh64 a technician
             on a phone, fresh65 and fresh66 situations retold from the
             first and the second half of the source, fresh67 a new hire
             studying) and scored unread: anchor 0.725 / 0.550,
             0.588 / 0.388, 0.550 / 0.412, 0.938 / 0.863; handbook
             0.912 / 0.825, 0.725 / 0.537, 0.700 / 0.537, 0.925 / 0.863.
             They refused the 客户/用户 synonym group's removal (anchor
             +12 / +20 and handbook 0 / +1 over the 5,060 seen; blind
             anchor -1 / +2, handbook +2 / 0)
  fresh68-   80 more each, written blind in session 23 (k = 3; fresh68
  fresh71    situations retold over the whole source, fresh69 an on-duty
             engineer, fresh70 a dispatcher or team lead with a complaint,
             fresh71 an experienced engineer) and scored unread: anchor
             0.675 / 0.525, 0.863 / 0.675, 0.763 / 0.487, 0.938 / 0.887;
             handbook 0.850 / 0.775, 0.912 / 0.850, 0.912 / 0.787,
             0.975 / 0.875. They took a one-entry document's front-matter
             symptoms at x1 (schema 8; chosen on the tuning sets, +5 / +8):
             handbook +4 / +2 over the four (0.863 / 0.762, 0.938 / 0.850,
             0.925 / 0.825, 0.975 / 0.875), anchor unchanged
  fresh72-   80 more each, written blind after that change (k = 3;
  fresh75    fresh72 a technician telling what is in front of them,
             fresh73 a supervisor going through last week's cases,
             fresh74 short keywords and full questions, fresh75 a
             customer's words relayed) and scored unread: anchor
             0.700 / 0.487, 0.812 / 0.613, 0.975 / 0.875, 0.613 / 0.463;
             handbook 0.900 / 0.787, 0.875 / 0.800, 0.963 / 0.900,
             0.825 / 0.625 (schema 7 there, scored after: 283 / 247 of
             320 against 285 / 249)
  fresh76-   80 more each, written blind at the end of session 23 (k = 3;
  fresh79    fresh76 situations retold, fresh77 a customer's complaint in
             the customer's words, fresh78 anyone on the team, fresh79 a
             team lead writing up the week's incidents) and scored unread:
             anchor 0.688 / 0.550, 0.588 / 0.438, 0.963 / 0.887,
             0.812 / 0.713; handbook 0.887 / 0.713, 0.762 / 0.600,
             0.988 / 0.938, 0.912 / 0.825. They refused a blind round of
             situation synonyms (27 new and 40 extended groups: 酒气 酒味
             with 酒后上岗, 放鸽子 with 爽约): anchor +1 / 0, handbook 0 / +1
             there; -0 / -1 and -1 / -1 over the tuning sets

The targets of the issue are read on the sets never used to choose
anything (NEVER_TUNED, printed last): dev-hold and fresh44-fresh79, 2,925
queries, and those of them no earlier set had asked in the same words.

Prints S@k / S@1 / S@3 / MRR@10 for each and fails when a figure falls under
its floor in FLOORS (set just under what is reached; raise as it improves).
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import evaluate  # noqa: E402  (the scorer from shared/eval, copied)

# (corpus, query set) -> floors for S@k and S@1. Session 9 lowered eight
# by a query each: synonym groups at 1.5 (taken on three later sets, +4
# anchor and +2 handbook queries there, +7 / -1 over the sets below) cost
# anchor fresh7, fresh11 and fresh16 one first place each and fresh19 and
# fresh20 one query, handbook fresh14, fresh17 and fresh20 one query; the
# UPS symptom cost handbook fresh16 one (「idc是啥的缩写 机房干嘛用的」),
# the service-flow symptom handbook fresh14 one (another document's flow)
FLOORS = {
    # BM25 b 0.5 (session 7): +7 S@k / +15 S@1 anchor queries over the 740
    # seen, +5 / +5 handbook; anchor dev-hold lost one query each (0.822 /
    # 0.711 -> 0.800 / 0.689), its floor stays
    ("anchor", "dev-tune"): (0.91, 0.77),
    ("anchor", "dev-hold"): (0.79, 0.71),
    # anchor fresh S@k 0.775 -> 0.762 (one query) with the second round of
    # synonym groups, which gained 5 queries over the other sets
    ("anchor", "fresh"): (0.82, 0.82),
    ("anchor", "fresh2"): (0.67, 0.65),
    ("anchor", "fresh3"): (0.93, 0.78),
    ("anchor", "fresh4"): (0.86, 0.71),
    ("anchor", "fresh5"): (0.93, 0.83),
    ("anchor", "fresh6"): (0.93, 0.87),
    ("anchor", "fresh7"): (0.97, 0.87),
    ("anchor", "fresh8"): (0.88, 0.82),
    ("anchor", "fresh9"): (0.87, 0.81),
    ("anchor", "fresh10"): (0.94, 0.89),
    ("anchor", "fresh11"): (0.91, 0.87),
    ("anchor", "fresh12"): (0.93, 0.88),
    ("anchor", "fresh13"): (0.83, 0.78),
    ("anchor", "fresh14"): (0.68, 0.67),
    ("anchor", "fresh15"): (0.66, 0.63),
    ("anchor", "fresh16"): (0.76, 0.74),
    ("anchor", "fresh17"): (0.76, 0.73),
    ("anchor", "fresh18"): (0.78, 0.78),
    ("anchor", "fresh19"): (0.74, 0.74),
    ("anchor", "fresh20"): (0.69, 0.68),
    # session 21: ordered items' numbers kept in the text ("2) ...") cost
    # fresh21 and fresh22 a first place each (near ties), +5 / +4 elsewhere
    ("anchor", "fresh21"): (0.77, 0.77),
    ("anchor", "fresh22"): (0.65, 0.65),
    ("anchor", "fresh23"): (0.69, 0.68),
    # session 22: a stop bigram's characters dropped with it (东西: 东 and
    # 西): anchor +26 / +34 over the 4,100 queries seen, fresh24 and
    # fresh43 one query less each (fresh43 stays above its floor)
    ("anchor", "fresh24"): (0.68, 0.67),
    ("anchor", "fresh25"): (0.86, 0.86),
    ("anchor", "fresh26"): (0.88, 0.87),
    ("anchor", "fresh27"): (0.87, 0.86),
    ("anchor", "fresh28"): (0.97, 0.97),
    ("anchor", "fresh29"): (0.92, 0.92),
    ("anchor", "fresh30"): (0.89, 0.88),
    ("anchor", "fresh31"): (0.72, 0.72),
    ("anchor", "fresh32"): (0.59, 0.59),
    ("anchor", "fresh33"): (0.69, 0.69),
    ("anchor", "fresh34"): (0.75, 0.75),
    ("anchor", "fresh35"): (0.78, 0.78),
    ("anchor", "fresh36"): (0.87, 0.87),
    ("anchor", "fresh37"): (0.62, 0.62),
    ("anchor", "fresh38"): (0.65, 0.65),
    ("anchor", "fresh39"): (0.83, 0.83),
    ("anchor", "fresh40"): (0.67, 0.67),
    ("anchor", "fresh41"): (0.68, 0.68),
    ("anchor", "fresh42"): (0.65, 0.65),
    ("anchor", "fresh43"): (0.75, 0.75),
    ("anchor", "fresh44"): (0.86, 0.78),
    ("anchor", "fresh45"): (0.82, 0.71),
    ("anchor", "fresh46"): (0.89, 0.68),
    ("anchor", "fresh47"): (0.82, 0.63),
    ("anchor", "fresh48"): (0.88, 0.74),
    ("anchor", "fresh49"): (0.87, 0.67),
    ("anchor", "fresh50"): (0.78, 0.63),
    ("anchor", "fresh51"): (0.88, 0.61),
    ("anchor", "fresh52"): (0.81, 0.57),
    ("anchor", "fresh53"): (0.78, 0.62),
    ("anchor", "fresh54"): (0.92, 0.82),
    ("anchor", "fresh55"): (0.91, 0.78),
    ("anchor", "fresh56"): (0.91, 0.80),
    ("anchor", "fresh57"): (0.91, 0.81),
    ("anchor", "fresh58"): (0.82, 0.71),
    ("anchor", "fresh59"): (0.96, 0.86),
    ("anchor", "fresh60"): (0.90, 0.75),
    ("anchor", "fresh61"): (0.63, 0.41),
    ("anchor", "fresh62"): (0.70, 0.62),
    ("anchor", "fresh63"): (0.86, 0.71),
    ("anchor", "fresh64"): (0.72, 0.55),
    ("anchor", "fresh65"): (0.58, 0.38),
    ("anchor", "fresh66"): (0.55, 0.41),
    ("anchor", "fresh67"): (0.93, 0.86),
    ("anchor", "fresh68"): (0.67, 0.52),
    ("anchor", "fresh69"): (0.86, 0.67),
    ("anchor", "fresh70"): (0.76, 0.48),
    ("anchor", "fresh71"): (0.93, 0.88),
    ("anchor", "fresh72"): (0.70, 0.48),
    ("anchor", "fresh73"): (0.81, 0.61),
    ("anchor", "fresh74"): (0.97, 0.87),
    ("anchor", "fresh75"): (0.61, 0.46),
    ("anchor", "fresh76"): (0.68, 0.55),
    ("anchor", "fresh77"): (0.58, 0.43),
    ("anchor", "fresh78"): (0.96, 0.88),
    ("anchor", "fresh79"): (0.81, 0.71),
    # session 21: two blind-written symptoms for each of 101 enumerating
    # sections (「…包括哪些」, 「…分几步」) cost dev-tune and fresh5 one first
    # place each and fresh35, 37, 38, 40, 41 one query each, +13 / +19 over
    # the 3,860 seen queries; fresh47's first places moved -1 / S@k +3
    # dev-tune S@1 fell 0.867 -> 0.822 when every section got blind-written
    # symptoms in session 3 (the older ones had been written with dev in
    # view); the held-out sets rose, so the floor follows
    # session 23: a one-entry document's front-matter symptoms at x1 (schema
    # 8) took one query each from dev-tune (S@k), fresh2 (S@1), fresh23,
    # fresh46 (S@1) and fresh63 (S@1): handbook +5 / +8 over the tuning
    # sets, +5 / +19 over the never-tuned pool of the time (dev-hold and
    # fresh44-fresh67, 1,965 queries); the floors follow
    ("handbook", "dev-tune"): (0.97, 0.86),
    ("handbook", "dev-hold"): (0.95, 0.82),
    ("handbook", "fresh"): (0.92, 0.92),
    ("handbook", "fresh2"): (0.85, 0.84),
    ("handbook", "fresh3"): (0.98, 0.91),
    ("handbook", "fresh4"): (0.94, 0.86),
    ("handbook", "fresh5"): (0.96, 0.90),
    ("handbook", "fresh6"): (0.98, 0.92),
    ("handbook", "fresh7"): (0.96, 0.93),
    ("handbook", "fresh8"): (0.96, 0.93),
    ("handbook", "fresh9"): (0.94, 0.91),
    # session 11: 0.938 S@1; w58 (「sop里故障处理是怎么个流程」) now finds
    # the daily rules' service flow (故障报告 -> 处理 -> 恢复 -> 总结) first
    # and the SOP's fault handling second, after the review symptom
    ("handbook", "fresh10"): (0.97, 0.93),
    ("handbook", "fresh11"): (0.98, 0.88),
    ("handbook", "fresh12"): (0.96, 0.91),
    ("handbook", "fresh13"): (0.93, 0.91),
    ("handbook", "fresh14"): (0.91, 0.91),
    ("handbook", "fresh15"): (0.88, 0.86),
    ("handbook", "fresh16"): (0.82, 0.82),
    ("handbook", "fresh17"): (0.84, 0.83),
    ("handbook", "fresh18"): (0.93, 0.91),
    ("handbook", "fresh19"): (0.88, 0.88),
    # session 10's first-step symptom on network standardisation took one
    # query (labelled on steps 3 and 4) from fresh20: 0.850 -> 0.838
    ("handbook", "fresh20"): (0.83, 0.83),
    # session 22 (东西's characters dropped) cost fresh21 and fresh40 one
    # query each: handbook +0 / -1 over the 4,100 queries seen
    ("handbook", "fresh21"): (0.93, 0.93),
    ("handbook", "fresh22"): (0.81, 0.79),
    ("handbook", "fresh23"): (0.90, 0.90),
    ("handbook", "fresh24"): (0.88, 0.88),
    ("handbook", "fresh25"): (0.93, 0.93),
    ("handbook", "fresh26"): (0.97, 0.97),
    ("handbook", "fresh27"): (0.93, 0.92),
    ("handbook", "fresh28"): (0.98, 0.97),
    ("handbook", "fresh29"): (0.96, 0.96),
    ("handbook", "fresh30"): (0.91, 0.91),
    ("handbook", "fresh31"): (0.91, 0.91),
    ("handbook", "fresh32"): (0.77, 0.77),
    ("handbook", "fresh33"): (0.79, 0.79),
    ("handbook", "fresh34"): (0.82, 0.82),
    ("handbook", "fresh35"): (0.88, 0.88),
    ("handbook", "fresh36"): (0.96, 0.96),
    ("handbook", "fresh37"): (0.83, 0.83),
    ("handbook", "fresh38"): (0.91, 0.91),
    ("handbook", "fresh39"): (0.94, 0.94),
    ("handbook", "fresh40"): (0.86, 0.86),
    ("handbook", "fresh41"): (0.82, 0.82),
    ("handbook", "fresh42"): (0.92, 0.92),
    ("handbook", "fresh43"): (0.93, 0.93),
    ("handbook", "fresh44"): (0.98, 0.92),
    ("handbook", "fresh45"): (0.98, 0.92),
    ("handbook", "fresh46"): (0.94, 0.83),
    ("handbook", "fresh47"): (0.90, 0.77),
    ("handbook", "fresh48"): (0.96, 0.87),
    ("handbook", "fresh49"): (0.95, 0.82),
    ("handbook", "fresh50"): (0.91, 0.83),
    ("handbook", "fresh51"): (0.92, 0.85),
    ("handbook", "fresh52"): (0.95, 0.85),
    ("handbook", "fresh53"): (0.93, 0.87),
    ("handbook", "fresh54"): (0.96, 0.91),
    ("handbook", "fresh55"): (0.95, 0.80),
    ("handbook", "fresh56"): (0.98, 0.90),
    ("handbook", "fresh57"): (0.93, 0.91),
    ("handbook", "fresh58"): (0.96, 0.87),
    ("handbook", "fresh59"): (0.95, 0.88),
    ("handbook", "fresh60"): (0.97, 0.88),
    ("handbook", "fresh61"): (0.70, 0.56),
    ("handbook", "fresh62"): (0.88, 0.81),
    ("handbook", "fresh63"): (0.92, 0.78),
    ("handbook", "fresh64"): (0.91, 0.82),
    ("handbook", "fresh65"): (0.72, 0.53),
    ("handbook", "fresh66"): (0.70, 0.53),
    ("handbook", "fresh67"): (0.92, 0.86),
    ("handbook", "fresh68"): (0.86, 0.76),
    ("handbook", "fresh69"): (0.93, 0.85),
    ("handbook", "fresh70"): (0.92, 0.82),
    ("handbook", "fresh71"): (0.97, 0.87),
    ("handbook", "fresh72"): (0.90, 0.78),
    ("handbook", "fresh73"): (0.87, 0.80),
    ("handbook", "fresh74"): (0.96, 0.90),
    ("handbook", "fresh75"): (0.82, 0.62),
    ("handbook", "fresh76"): (0.88, 0.71),
    ("handbook", "fresh77"): (0.76, 0.60),
    ("handbook", "fresh78"): (0.98, 0.93),
    ("handbook", "fresh79"): (0.91, 0.82),
}


# The queries never used to choose anything (the targets are read
# on these): the held-out half of the dev set and every set written with
# k = 3 since session 20. "first asked" leaves out a query whose text an
# earlier set (in FLOORS' order) already asked: blind writers of the same
# source sometimes land on the same words (202 of these 2,925). A set
# added later is in it by its number; one tuned on would have to leave.
NEVER_TUNED = ["dev-hold"] + sorted({n for _, n in FLOORS if n.startswith("fresh")
                                     and n[5:].isdigit() and int(n[5:]) >= 44})
TARGETS = {"anchor": (0.85, 0.70), "handbook": (0.95, 0.80)}


def split_sets(workdir):
    dev = [l for l in open(os.path.join(HERE, "dev.jsonl"), encoding="utf-8") if l.strip()]
    sets = {}
    for name, lines in (("dev-tune", dev[:45]), ("dev-hold", dev[45:])):
        path = os.path.join(workdir, name + ".jsonl")
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(lines)
        sets[name] = path
    # every other set is a file of its name, listed once: in FLOORS
    for corpus, name in FLOORS:
        if corpus == "anchor" and name not in sets:
            sets[name] = os.path.join(HERE, name + ".jsonl")
    return sets


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: quality.py OPSBOOK_INDEX EVALRUN HANDBOOK_DIR")
    indexer, evalrun, handbook = sys.argv[1:]
    failed = []
    totals = {}  # corpus -> queries, in the top k, at rank 1, in the first three
    never = {}   # (corpus, "all" or "first asked") -> [queries, in the top k, at rank 1]
    with tempfile.TemporaryDirectory() as work:
        sets = split_sets(work)
        asked, repeats = set(), set()  # query texts; (set, id) asked before
        for name, qpath in sets.items():
            for q in evaluate.read_jsonl(qpath):
                if q["q"] in asked:
                    repeats.add((name, q["id"]))
                asked.add(q["q"])
        for corpus, folder in (("anchor", os.path.join(HERE, "anchor")), ("handbook", handbook)):
            if not os.path.isdir(folder):
                print(f"SKIPPED {corpus}: {folder} missing")
                continue
            db = os.path.join(work, "db-" + corpus)
            r = subprocess.run([indexer, "--handbook", folder, "--db", db],
                               capture_output=True, text=True)
            if r.returncode not in (0, 1):
                sys.exit(f"indexing {folder} failed: {r.stderr}")
            for name, qpath in sets.items():
                run = subprocess.run([evalrun, "--db", db, "--queries", qpath],
                                     capture_output=True, text=True, check=True).stdout
                queries = evaluate.read_jsonl(qpath)
                runs = [json.loads(l) for l in run.splitlines() if l.strip()]
                rows, agg = evaluate.score(queries, runs, [])
                sk, s1 = FLOORS[(corpus, name)]
                ok = agg["S@k"] >= sk and agg["S@1"] >= s1
                # the first three: the dev set's k, for the sets written
                # with k = 1 (where S@k is S@1)
                s3 = sum(1 for r in rows if r["rank"] and r["rank"] <= 3) / max(len(rows), 1)
                pooled = totals.setdefault(corpus, [0, 0, 0, 0])
                pooled[0] += len(rows)
                pooled[1] += sum(1 for r in rows if r["succ_k"])
                pooled[2] += sum(1 for r in rows if r["rank"] == 1)
                pooled[3] += sum(1 for r in rows if r["rank"] and r["rank"] <= 3)
                if name in NEVER_TUNED:
                    for label in ("all", "first asked"):
                        rr = [r for r in rows
                              if label == "all" or (name, r["id"]) not in repeats]
                        acc = never.setdefault((corpus, label), [0, 0, 0])
                        acc[0] += len(rr)
                        acc[1] += sum(1 for r in rr if r["succ_k"])
                        acc[2] += sum(1 for r in rr if r["rank"] == 1)
                print(f"{corpus:9s} {name:9s} n={agg['n']:3d} S@k={agg['S@k']:.3f} "
                      f"S@1={agg['S@1']:.3f} S@3={s3:.3f} MRR@10={agg['MRR@10']:.3f} "
                      f"floor S@k>={sk:.2f} S@1>={s1:.2f} {'ok' if ok else 'BELOW FLOOR'}")
                if not ok:
                    failed.append(f"{corpus}/{name}")
                    for row in rows:
                        if not row["succ_k"]:
                            print(f"    miss {row['id']} rank={row['rank']} {row['q']}")
    for corpus, (n, k, one, three) in totals.items():
        print(f"{corpus:9s} all {n} queries: S@k={k / n:.3f} S@1={one / n:.3f} S@3={three / n:.3f}")
    for (corpus, label), (n, k, one) in never.items():
        tk, t1 = TARGETS[corpus]
        print(f"{corpus:9s} never tuned on ({label}), {n} queries: S@k={k / n:.3f} "
              f"S@1={one / n:.3f} (target S@k>={tk:.2f} S@1>={t1:.2f})")
    if failed:
        print(f"quality below floor: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
