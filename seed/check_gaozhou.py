#!/usr/bin/env python3
"""Consistency check for seed/gaozhou-2014.json (python3 stdlib only).

Usage: python3 seed/check_gaozhou.py [path/to/gaozhou-2014.json]
Exits non-zero on the first failed assertion; prints the computed totals otherwise.
"""
import json
import os
import re
import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone

PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                          "gaozhou-2014.json")

UNIT_KINDS = {"government_department", "mass_organization", "media", "association", "school",
              "community_education", "training_institution", "street_office", "enterprise", "other"}
PARTNER_ROLES = {"co_host", "undertaker", "member"}
BODY_KINDS = {"leading_group", "office", "liaison_group", "unit_working_group"}
COMMITTEE_ROLES = {"chair", "vice_chair", "member", "director", "liaison"}
EVENT_KINDS = {"opening_ceremony", "community_activity", "lecture", "training", "exhibition", "competition",
               "performance", "reading_promotion", "open_venue", "publicity", "meeting", "other"}
STATUSES = {"draft", "published", "cancelled", "completed"}
VISIBILITIES = {"public", "internal"}
SUBJECTS = {"computer", "english", "housekeeping", "etiquette", "hr_development", "self_improvement",
            "employment", "other"}
CATEGORIES = {"employed", "student", "migrant_worker", "homemaker", "retiree", "returnee", "unemployed",
              "veteran", "disabled", "senior", "child", "general"}
MEASURES = {"headcount", "person_times"}
MEDIA = {"tv", "radio", "newspaper", "online", "social", "print_material", "other"}
CAMPAIGN_STATUSES = {"planning", "active", "closed"}

KEY_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
PHONE_RE = re.compile(r"^0668-62\d{5}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._-]+@([A-Za-z0-9-]+\.)*example\.org$")
TZ8 = timezone(timedelta(hours=8))


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def exact_keys(obj, keys, what):
    check(isinstance(obj, dict), f"{what}: not an object")
    check(set(obj) == set(keys), f"{what}: keys {sorted(obj)} != {sorted(keys)}")


def parse_ts(s, what):
    check(isinstance(s, str) and re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$", s),
          f"{what}: timestamp {s!r} is not RFC 3339 with +08:00")
    return datetime.fromisoformat(s)


def parse_date(s, what):
    check(isinstance(s, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", s), f"{what}: bad date {s!r}")
    return date.fromisoformat(s)


def unique_keys(items, what):
    keys = [it["key"] for it in items]
    for k in keys:
        check(isinstance(k, str) and KEY_RE.match(k), f"{what}: key {k!r} is not a short ASCII kebab/snake key")
    dup = [k for k, n in Counter(keys).items() if n > 1]
    check(not dup, f"{what}: duplicate keys {dup}")
    return {it["key"]: it for it in items}


def main():
    with open(PATH, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    check("\\u" not in text, "file contains \\u escapes; Chinese must be literal characters")
    check(text.startswith('{\n  "about"'), "file is not pretty-printed with 2-space indent")
    doc = json.loads(text)

    exact_keys(doc, ["about", "campaign", "units", "partners", "committee", "events", "trainings", "tallies",
                     "media_reports"], "top level")
    check(isinstance(doc["about"], str) and len(doc["about"]) > 100, "about: missing paragraph")

    # ---- campaign
    c = doc["campaign"]
    exact_keys(c, ["slug", "name", "theme", "region", "region_code", "year", "starts_on", "ends_on", "timezone",
                   "notice_ref", "areas", "status"], "campaign")
    check(c["region_code"] == "440981", "campaign.region_code (GB/T 2260 code of 高州市)")
    check(c["slug"] == "gaozhou-2014", "campaign.slug")
    check(c["name"] == "高州市2014年全民终身学习活动周", "campaign.name")
    check(c["theme"] == "全民终身学习\u3000创造出彩人生", "campaign.theme (needs U+3000 between the phrases)")
    check(c["region"] == "高州市", "campaign.region (the place, as the report's title names it)")
    check(c["year"] == 2014, "campaign.year")
    check(c["timezone"] == "Asia/Shanghai", "campaign.timezone")
    check(c["notice_ref"] == "教职成厅函[2014]23号", "campaign.notice_ref")
    check(c["status"] in CAMPAIGN_STATUSES and c["status"] == "closed", "campaign.status")
    week_first = parse_date(c["starts_on"], "campaign.starts_on")
    week_last = parse_date(c["ends_on"], "campaign.ends_on")
    check((week_first, week_last) == (date(2014, 10, 19), date(2014, 10, 25)), "campaign dates")
    week_start = datetime(2014, 10, 19, tzinfo=TZ8)
    week_end = datetime(2014, 10, 26, tzinfo=TZ8)  # exclusive
    areas = c["areas"]
    check(len(areas) == 28, f"campaign.areas: {len(areas)} entries, want 28")
    check(len(set(areas)) == 28, "campaign.areas: duplicates")
    check(all(a.endswith("街道") or a.endswith("镇") for a in areas), "campaign.areas: each must be a 街道 or 镇")
    check(sum(a.endswith("街道") for a in areas) == 5, "campaign.areas: want 5 街道")
    check(sum(a.endswith("镇") and not a.endswith("街道") for a in areas) == 23, "campaign.areas: want 23 镇")
    area_set = set(areas)

    # ---- units & partners
    units = unique_keys(doc["units"], "units")
    for u in doc["units"]:
        exact_keys(u, ["key", "name", "short_name", "kind"], f"unit {u.get('key')}")
        check(u["kind"] in UNIT_KINDS, f"unit {u['key']}: kind {u['kind']!r}")
        check(u["name"] and u["short_name"], f"unit {u['key']}: empty name")
    names = [u["name"] for u in doc["units"]]
    check(len(names) == len(set(names)), "units: names not unique")

    partner_units = []
    for p in doc["partners"]:
        exact_keys(p, ["unit", "role", "lead"], "partner")
        check(p["unit"] in units, f"partner: unknown unit {p['unit']!r}")
        check(p["role"] in PARTNER_ROLES, f"partner {p['unit']}: role {p['role']!r}")
        check(isinstance(p["lead"], bool), f"partner {p['unit']}: lead not bool")
        partner_units.append(p["unit"])
    check(len(partner_units) == len(set(partner_units)), "partners: a unit appears twice")
    check(set(partner_units) == set(units), "partners: every unit must be a partner (and only units)")
    roles = Counter(p["role"] for p in doc["partners"])
    check(roles == Counter({"co_host": 9, "undertaker": 1, "member": 30}), f"partner counts {dict(roles)}")
    leads = [p for p in doc["partners"] if p["lead"]]
    check(len(leads) == 1 and leads[0]["unit"] == "edu" and leads[0]["role"] == "co_host",
          "exactly one lead, the education bureau (edu), a co_host")
    check(units["edu"]["name"] == "高州市教育局", "edu must be 高州市教育局")
    role_of = {p["unit"]: p["role"] for p in doc["partners"]}
    co_hosts = {k for k, r in role_of.items() if r == "co_host"}
    undertaker = [k for k, r in role_of.items() if r == "undertaker"][0]
    check(units[undertaker]["name"] == "高州市职业技术学校", "undertaker must be 高州市职业技术学校")
    want_cohost_names = {"高州市教育局", "高州市人力资源和社会保障局", "高州市文化局", "高州市体育局", "高州市总工会",
                         "共青团高州市委员会", "高州市妇女联合会", "高州市电视台", "高州市教育学会"}
    check({units[k]["name"] for k in co_hosts} == want_cohost_names, "co-host names")
    check("tv" in co_hosts and units["tv"]["kind"] == "media", "tv must be the TV station co-host (media)")

    # ---- committee
    bodies = unique_keys(doc["committee"], "committee")
    member_keys = []
    kinds = Counter()
    for b in doc["committee"]:
        exact_keys(b, ["key", "name", "kind", "unit", "parent", "members"], f"body {b['key']}")
        check(b["kind"] in BODY_KINDS, f"body {b['key']}: kind {b['kind']!r}")
        kinds[b["kind"]] += 1
        check(b["unit"] is None or b["unit"] in units, f"body {b['key']}: unknown unit")
        check(b["parent"] is None or b["parent"] in bodies, f"body {b['key']}: unknown parent")
        check(1 <= len(b["members"]) <= 4, f"body {b['key']}: {len(b['members'])} members, want 1-4")
        for m in b["members"]:
            exact_keys(m, ["key", "name", "position", "committee_role", "unit", "phone", "email"],
                       f"member {m.get('key')}")
            member_keys.append(m["key"])
            check(m["committee_role"] in COMMITTEE_ROLES, f"member {m['key']}: role {m['committee_role']!r}")
            check(m["unit"] is None or m["unit"] in units, f"member {m['key']}: unknown unit")
            check(PHONE_RE.match(m["phone"] or ""), f"member {m['key']}: phone {m['phone']!r}")
            check(EMAIL_RE.match(m["email"] or ""), f"member {m['key']}: email {m['email']!r}")
            if b["kind"] == "unit_working_group":
                check(m["unit"] == b["unit"], f"member {m['key']}: unit must be its working group's unit")
    for k in member_keys:
        check(KEY_RE.match(k), f"member key {k!r}")
    check(len(member_keys) == len(set(member_keys)), "committee member keys not unique")
    check(kinds == Counter({"leading_group": 1, "office": 1, "liaison_group": 1, "unit_working_group": 9}),
          f"committee body kinds {dict(kinds)}")
    lg = [b for b in doc["committee"] if b["kind"] == "leading_group"][0]
    check(lg["parent"] is None, "leading group must be the root")
    check(any(m["committee_role"] == "chair" for m in lg["members"]), "leading group needs a chair")
    for b in doc["committee"]:
        if b["kind"] != "leading_group":
            check(b["parent"] == lg["key"], f"body {b['key']}: parent must be the leading group")
    uwg_units = [b["unit"] for b in doc["committee"] if b["kind"] == "unit_working_group"]
    check(sorted(uwg_units) == sorted(co_hosts), "one unit working group per co-host")

    # ---- events
    events = unique_keys(doc["events"], "events")
    for e in doc["events"]:
        k = e["key"]
        exact_keys(e, ["key", "title", "kind", "summary", "description", "venue", "area", "starts_at", "ends_at",
                       "host", "co_organizers", "audience", "status", "visibility", "expected_participants", "tags",
                       "highlight", "illustrative"], f"event {k}")
        check(isinstance(e["highlight"], bool), f"event {k}: highlight")
        check(e["kind"] in EVENT_KINDS, f"event {k}: kind {e['kind']!r}")
        check(e["status"] in STATUSES, f"event {k}: status")
        check(e["visibility"] in VISIBILITIES, f"event {k}: visibility")
        check(e["area"] in area_set, f"event {k}: area {e['area']!r} not in campaign.areas")
        check(e["host"] in units, f"event {k}: unknown host")
        check(role_of[e["host"]] in PARTNER_ROLES, f"event {k}: host is not a partner")
        check(all(u in units for u in e["co_organizers"]), f"event {k}: unknown co-organizer")
        check(e["host"] not in e["co_organizers"], f"event {k}: host listed as co-organizer")
        check(len(set(e["co_organizers"])) == len(e["co_organizers"]), f"event {k}: duplicate co-organizer")
        check(e["venue"] is None or (set(e["venue"]) == {"name", "address"} and e["venue"]["name"]),
              f"event {k}: venue")
        check(isinstance(e["expected_participants"], int) and e["expected_participants"] >= 0,
              f"event {k}: expected_participants")
        check(isinstance(e["tags"], list) and all(isinstance(t, str) for t in e["tags"]), f"event {k}: tags")
        check(isinstance(e["illustrative"], bool), f"event {k}: illustrative")
        s, t = parse_ts(e["starts_at"], k), parse_ts(e["ends_at"], k)
        check(s < t, f"event {k}: ends_at not after starts_at")
        check(week_start <= s and t <= week_end, f"event {k}: outside the week")
    st = Counter(e["status"] for e in doc["events"])
    vis = Counter(e["visibility"] for e in doc["events"])
    check(st["draft"] == 1, "exactly one draft event")
    check(st["cancelled"] == 1, "exactly one cancelled event")
    check(vis["internal"] == 1, "exactly one internal event")
    internal = [e for e in doc["events"] if e["visibility"] == "internal"][0]
    check(internal["kind"] == "meeting" and internal["status"] == "completed", "internal event: completed meeting")
    cancelled = [e for e in doc["events"] if e["status"] == "cancelled"][0]
    check(cancelled["visibility"] == "public", "cancelled event must be public")
    check(40 <= len(events) <= 46, f"{len(events)} events, want about 40-45")
    named = {"opening", "low-carbon-day", "women-low-carbon-home", "lecture-disability-rights",
             "lecture-healthy-life", "lecture-fire-safety", "nanguo-book-fair", "achievement-expo",
             "square-dance-show", "taichi-show", "calligraphy-contest", "photo-contest", "woodcut-contest",
             "national-day-singing", "elders-art-festival", "panzhou-roadshow", "publicity-slogans"}
    for k in named:
        check(k in events and events[k]["illustrative"] is False, f"report-named event {k} missing or illustrative")
    check(events["opening"]["kind"] == "opening_ceremony" and events["opening"]["host"] == "edu"
          and events["opening"]["starts_at"].startswith("2014-10-19"), "opening ceremony")
    check(events["women-low-carbon-home"]["host"] == "women", "低碳生活进家庭 hosted by 市妇联")
    check(events["nanguo-book-fair"]["host"] == "culture"
          and events["nanguo-book-fair"]["kind"] == "reading_promotion", "南国书香节 by 市文化局")
    check(events["elders-art-festival"]["host"] == "elders-univ", "老年文化艺术节 by 老年大学")
    check(events["panzhou-roadshow"]["host"] == "panzhou-office", "巡回展 by 潘州街道办事处")
    check(sum(e["kind"] == "open_venue" for e in doc["events"]) >= 5, "open venues")
    reached = {e["area"] for e in doc["events"]
               if e["visibility"] == "public" and e["status"] in ("published", "completed")}
    ratio = len(reached) / len(areas)
    print(f"coverage: {len(reached)}/{len(areas)} areas reached = {ratio:.3f}"
          f" (not reached: {', '.join(a for a in areas if a not in reached) or '-'})")
    check(len(reached) >= 27, "fewer than 27 areas reached")

    # ---- trainings
    trainings = unique_keys(doc["trainings"], "trainings")
    tr_groups = {}
    for t in doc["trainings"]:
        k = t["key"]
        exact_keys(t, ["key", "event", "title", "subject", "provider", "target_groups", "starts_at", "ends_at",
                       "venue", "capacity", "fee_cents", "enrolled", "completed", "employed_after", "status",
                       "visibility", "illustrative"], f"training {k}")
        check(t["event"] is None or t["event"] in events, f"training {k}: unknown event")
        check(t["subject"] in SUBJECTS, f"training {k}: subject")
        check(t["provider"] in units, f"training {k}: unknown provider")
        check(t["provider"] == undertaker or t["provider"] == "hr"
              or units[t["provider"]]["kind"] == "training_institution",
              f"training {k}: provider must be the vocational school, a training institution or 市人社局")
        check(t["target_groups"] and set(t["target_groups"]) <= {"returnee", "unemployed", "veteran",
                                                                  "migrant_worker"},
              f"training {k}: target_groups")
        tr_groups[k] = set(t["target_groups"])
        s, e = parse_ts(t["starts_at"], k), parse_ts(t["ends_at"], k)
        check(s < e and week_start <= s and e <= week_end, f"training {k}: times")
        check(t["venue"] is None or set(t["venue"]) == {"name", "address"}, f"training {k}: venue")
        check(t["fee_cents"] == 0, f"training {k}: not free")
        check(all(isinstance(t[f], int) for f in ("capacity", "enrolled", "completed", "employed_after")),
              f"training {k}: counts must be integers")
        check(0 <= t["employed_after"] <= t["completed"] <= t["enrolled"] <= t["capacity"],
              f"training {k}: employed_after <= completed <= enrolled <= capacity")
        check(t["status"] == "completed" and t["visibility"] == "public", f"training {k}: status/visibility")
        check(isinstance(t["illustrative"], bool), f"training {k}: illustrative")
    check(7 <= len(trainings) <= 9, f"{len(trainings)} trainings, want 7-9")
    subjects = {t["subject"] for t in doc["trainings"]}
    check({"computer", "english", "housekeeping", "etiquette", "hr_development", "self_improvement",
           "employment"} <= subjects, "all seven subjects from the report")
    tr_enrolled = sum(t["enrolled"] for t in doc["trainings"])
    tr_completed = sum(t["completed"] for t in doc["trainings"])
    tr_employed = sum(t["employed_after"] for t in doc["trainings"])
    check(510 <= tr_completed <= 560, f"completed sum {tr_completed} not in 510..560")
    check(560 <= tr_enrolled <= 600, f"enrolled sum {tr_enrolled} not in 560..600")
    check(tr_employed * 2 > tr_completed, f"employed_after sum {tr_employed} not > half of {tr_completed}")

    # ---- tallies
    seen = set()
    ev_headcount = Counter()
    ev_pt = 0
    tr_headcount = Counter()
    tr_pt = 0
    by_cat = Counter()
    for i, ta in enumerate(doc["tallies"]):
        w = f"tallies[{i}]"
        exact_keys(ta, ["event", "training", "category", "measure", "count", "tally_date", "reporter", "note"], w)
        check((ta["event"] is None) != (ta["training"] is None), f"{w}: exactly one of event/training")
        check(ta["category"] in CATEGORIES, f"{w}: category")
        check(ta["measure"] in MEASURES, f"{w}: measure")
        check(isinstance(ta["count"], int) and ta["count"] >= 0, f"{w}: count")
        check(ta["note"] is None or isinstance(ta["note"], str), f"{w}: note")
        d = parse_date(ta["tally_date"], w)
        check(week_first <= d <= week_last, f"{w}: tally_date outside the week")
        check(ta["reporter"] in units, f"{w}: unknown reporter")
        if ta["event"] is not None:
            e = events.get(ta["event"])
            check(e is not None, f"{w}: unknown event {ta['event']!r}")
            check(e["status"] != "draft", f"{w}: tally on a draft event")
            check(ta["reporter"] == e["host"], f"{w}: reporter must be the event's host")
            check(ta["measure"] == "headcount", f"{w}: event tallies are headcounts")
            check(parse_ts(e["starts_at"], w).date() <= d <= parse_ts(e["ends_at"], w).date(),
                  f"{w}: tally_date outside its event's dates")
            ev_headcount[ta["event"]] += ta["count"]
            subject = ("event", ta["event"])
        else:
            t = trainings.get(ta["training"])
            check(t is not None, f"{w}: unknown training {ta['training']!r}")
            check(ta["reporter"] == t["provider"], f"{w}: reporter must be the training's provider")
            check(parse_ts(t["starts_at"], w).date() <= d <= parse_ts(t["ends_at"], w).date(),
                  f"{w}: tally_date outside its training's dates")
            if ta["measure"] == "headcount":
                check(ta["category"] in tr_groups[ta["training"]], f"{w}: headcount category not a target group")
                tr_headcount[ta["training"]] += ta["count"]
            else:
                tr_pt += ta["count"]
            subject = ("training", ta["training"])
        if ta["measure"] == "person_times" and ta["event"] is not None:
            ev_pt += ta["count"]
        by_cat[(ta["category"], ta["measure"])] += ta["count"]
        nk = (subject, ta["category"], ta["measure"], ta["tally_date"], ta["reporter"])
        check(nk not in seen, f"{w}: duplicate natural key {nk}")
        seen.add(nk)
    for k, t in trainings.items():
        check(tr_headcount[k] == t["completed"], f"training {k}: headcount tallies {tr_headcount[k]} != completed")
    ev_hc_total = sum(ev_headcount.values())
    check(9300 <= ev_hc_total <= 9900, f"event headcount sum {ev_hc_total} not in 9300..9900")
    check(60500 <= tr_pt <= 63000, f"training person_times sum {tr_pt} not in 60500..63000")
    check(120 <= len(doc["tallies"]) <= 250, f"{len(doc['tallies'])} tallies, want 120-250")

    # ---- media reports
    media = unique_keys(doc["media_reports"], "media_reports")
    check(len(media) == 20, f"{len(media)} media reports, want 20")
    media_start = datetime(2014, 10, 19, tzinfo=TZ8)
    media_end = datetime(2014, 11, 1, tzinfo=TZ8)
    for m in doc["media_reports"]:
        k = m["key"]
        exact_keys(m, ["key", "event", "outlet", "outlet_name", "medium", "title", "url", "published_at",
                       "reporter"], f"media {k}")
        check(m["event"] is None or m["event"] in events, f"media {k}: unknown event")
        check(m["medium"] in MEDIA, f"media {k}: medium")
        check((m["outlet"] is None) != (m["outlet_name"] is None), f"media {k}: exactly one of outlet/outlet_name")
        check(m["outlet"] is None or m["outlet"] in units, f"media {k}: unknown outlet unit")
        if m["medium"] == "tv":
            check(m["outlet"] == "tv", f"media {k}: TV items come from the TV station unit")
        check(m["url"] is None or m["url"].startswith("http"), f"media {k}: url")
        p = parse_ts(m["published_at"], k)
        check(media_start <= p < media_end, f"media {k}: published_at outside 2014-10-19..2014-10-31")
        if m["event"] is not None:
            check(p >= parse_ts(events[m["event"]]["starts_at"], k), f"media {k}: published before its event")
        want_reporter = "tv" if m["outlet"] == "tv" else "edu"
        check(m["reporter"] == want_reporter, f"media {k}: reporter should be {want_reporter}")
        check(m["reporter"] in units, f"media {k}: unknown reporter")

    # ---- summary
    counted = [e for e in doc["events"] if e["status"] != "draft"]
    print("partners: co_host=%d undertaker=%d member=%d lead=%s" % (roles["co_host"], roles["undertaker"],
                                                                     roles["member"], leads[0]["unit"]))
    print(f"committee: {len(bodies)} bodies, {len(member_keys)} members")
    print(f"events: {len(events)} total, {len(counted)} counted (non-draft); by_status={dict(st)}; "
          f"internal={vis['internal']}; illustrative={sum(e['illustrative'] for e in doc['events'])}")
    print(f"trainings: {len(trainings)} sessions, enrolled={tr_enrolled}, completed={tr_completed}, "
          f"employed_after={tr_employed} ({tr_employed / tr_completed:.0%} of completed)")
    print(f"participants: events headcount={ev_hc_total}, events person_times={ev_pt}; "
          f"trainings headcount={sum(tr_headcount.values())}, trainings person_times={tr_pt}")
    print(f"tallies: {len(doc['tallies'])}")
    print(f"media reports: {len(media)} by_medium={dict(Counter(m['medium'] for m in doc['media_reports']))}")
    print("OK")


if __name__ == "__main__":
    main()
