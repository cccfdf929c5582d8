//! `learnweek seed synthetic`: a large, realistic, deterministic data set for benchmarks.
//!
//! Rows are generated inside PostgreSQL by a few `INSERT ... SELECT ... FROM generate_series`
//! statements, in one transaction. Every pseudo-random choice is a bit field of
//! `hashtextextended(<row key>, <seed>)`, so the same seed gives the same rows (ids included)
//! on every run, whatever the plan or the order rows are produced in. Ids are a prefix derived
//! from the seed and the kind of row, followed by the row number, so inserts append to the
//! primary-key indexes.
//!
//! What it makes, per seed: 50 units (shared by the campaigns), `--campaigns` closed campaigns
//! over the 28 areas of Gaozhou with every unit as a partner, `--events` events spread over the
//! campaigns (mostly published or completed; some drafts, cancelled and internal ones),
//! `events / 20` trainings, `events / 50` media reports and `--tallies` tallies: 85% on events
//! and 15% on trainings, both measures, each subject's tallies on distinct natural keys.
//! Campaigns are created through the journaled insert, and each campaign gets one `event`
//! change (its latest event), so feeds have validators. Audit rows are not written for the
//! generated rows: the change log is an outbox for live writes.
//!
//! Loading the same seed twice is refused: the campaigns' slugs (`synthetic-<seed>-<n>`) are
//! taken.

use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Integer, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use uuid::Uuid;

use super::seed_id;
use crate::api::campaigns::{self, CampaignInput, CampaignStatus};
use crate::api::events::Event;
use crate::auth::Authorized;
use crate::error::{AppError, AppResult};
use crate::journal::{self, Entry};
use crate::schema::{campaigns as campaigns_table, events};
use crate::state::AppState;

const SYNTHETIC_LOCK_KEY: i64 = 0x6c65_6172_6e77_6b04;
const UNITS: i64 = 50;
/// Distinct natural keys one subject can have: 12 categories x 2 measures x 9 days x 50 units.
const KEYS_PER_SUBJECT: i64 = 12 * 2 * 9 * UNITS;
const MAX_CAMPAIGNS: u32 = 5000;
const MAX_EVENTS: u64 = 100_000_000;
const MAX_TALLIES: u64 = 10_000_000_000;
const TIMEZONE: &str = "Asia/Shanghai";

/// The towns and streets of Gaozhou (the campaigns' `areas`).
const AREAS: [&str; 28] = [
    "潘州街道",
    "山美街道",
    "金山街道",
    "宝光街道",
    "石仔岭街道",
    "东岸镇",
    "长坡镇",
    "根子镇",
    "泗水镇",
    "分界镇",
    "石鼓镇",
    "大井镇",
    "沙田镇",
    "曹江镇",
    "荷花镇",
    "石板镇",
    "大坡镇",
    "平山镇",
    "深镇镇",
    "马贵镇",
    "古丁镇",
    "新垌镇",
    "云潭镇",
    "谢鸡镇",
    "潭头镇",
    "南塘镇",
    "顿梭镇",
    "祥山镇",
];

/// How big a data set to make.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub events: u64,
    pub tallies: u64,
    pub campaigns: u32,
    /// All campaigns in one year (and one province) instead of one a year.
    pub year: Option<i32>,
    pub seed: u32,
}

impl Params {
    fn trainings(&self) -> i64 {
        (self.events / 20).max(1) as i64
    }

    fn media_reports(&self) -> i64 {
        (self.events / 50) as i64
    }

    /// Tallies on events; the rest are on trainings.
    fn event_tallies(&self) -> i64 {
        (self.tallies.min(MAX_TALLIES) * 85 / 100) as i64
    }

    fn check(&self) -> Result<(), String> {
        if !(1..=MAX_CAMPAIGNS).contains(&self.campaigns) {
            return Err(format!("--campaigns must be between 1 and {MAX_CAMPAIGNS}"));
        }
        if self.year.is_some_and(|y| !(1990..=2100).contains(&y)) {
            return Err("--year must be between 1990 and 2100".into());
        }
        if self.events < u64::from(self.campaigns) || self.events > MAX_EVENTS {
            return Err(format!(
                "--events must be between --campaigns ({}) and {MAX_EVENTS}",
                self.campaigns
            ));
        }
        let event_tallies = self.event_tallies();
        let training_tallies = self.tallies as i64 - event_tallies;
        if self.tallies > MAX_TALLIES
            || event_tallies > self.events as i64 * KEYS_PER_SUBJECT
            || training_tallies > self.trainings() * KEYS_PER_SUBJECT
        {
            return Err(format!(
                "--tallies must be at most {MAX_TALLIES}, and at most {KEYS_PER_SUBJECT} per event \
                 or training (85% go to events, 15% to the events / 20 trainings)"
            ));
        }
        Ok(())
    }
}

/// The 24 first characters (`xxxxxxxx-xxxx-xxxx-xxxx-`) of the ids of one kind of row; the
/// row number in 12 hex digits completes them.
fn id_prefix(seed: u32, kind: &str) -> String {
    let mut id = seed_id("synthetic", &format!("{seed}/{kind}")).to_string();
    id.truncate(24);
    id
}

fn campaign_slug(seed: u32, n: u32) -> String {
    format!("synthetic-{seed}-{n}")
}

/// Loads the data set; returns a one-line account of it, or why it was refused.
pub async fn load(state: &AppState, params: Params) -> Result<String, String> {
    params.check()?;
    let started = Instant::now();
    let mut conn = state.conn().await.map_err(|e| e.to_string())?;
    let counts = conn
        .transaction::<_, AppError, _>(async move |conn| generate(conn, params).await)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "synthetic data for seed {} is already loaded (campaign {} exists): \
                 use another --seed or a fresh database",
                params.seed,
                campaign_slug(params.seed, 1)
            )
        })?;
    // Fresh statistics (and visibility map) for the planner, as on a settled database.
    conn.batch_execute(
        "VACUUM (ANALYZE) units, campaigns, campaign_partners, events, trainings, tallies, \
         media_reports, changes",
    )
    .await
    .map_err(|e| format!("VACUUM after loading: {e}"))?;
    Ok(format!(
        "synthetic data (seed {}) loaded in {:.1} s: {} campaign(s) ({}), {UNITS} units, {} events, \
         {} trainings, {} tallies, {} media reports",
        params.seed,
        started.elapsed().as_secs_f64(),
        params.campaigns,
        counts.slugs,
        counts.events,
        counts.trainings,
        counts.tallies,
        counts.media_reports,
    ))
}

struct Counts {
    slugs: String,
    events: usize,
    trainings: usize,
    tallies: usize,
    media_reports: usize,
}

/// `None` when this seed's campaigns are already there.
async fn generate(conn: &mut AsyncPgConnection, p: Params) -> AppResult<Option<Counts>> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(SYNTHETIC_LOCK_KEY)
        .execute(conn)
        .await?;
    // Bulk load: no need to wait for the WAL flush of one big transaction.
    conn.batch_execute("SET LOCAL synchronous_commit = off; SET LOCAL work_mem = '256MB'")
        .await?;
    let first_slug = campaign_slug(p.seed, 1);
    let taken: i64 = campaigns_table::table
        .filter(campaigns_table::slug.like(format!("synthetic-{}-%", p.seed)))
        .count()
        .get_result(conn)
        .await?;
    if taken > 0 {
        return Ok(None);
    }
    let auth = Authorized::system("seed");
    let seed = i64::from(p.seed);

    // Units: shared by every campaign of this seed.
    let unit_ids: Vec<Uuid> = (1..=UNITS)
        .map(|n| seed_id("synthetic", &format!("{}/unit/{n}", p.seed)))
        .collect();
    diesel::sql_query(
        "INSERT INTO units (id, name, short_name, kind) \
         SELECT ($1::uuid[])[n], \
                '合成单位' || lpad(n::text, 2, '0') || '·' || (ARRAY['教育局', '妇联', '电视台', '成人教育协会', \
                  '第一中学', '社区教育学校', '职业培训学校', '街道办事处', '科技有限公司', '图书馆'])[1 + n % 10] \
                  || '（seed ' || $2 || '）', \
                '单位' || n, \
                (ARRAY['government_department', 'mass_organization', 'media', 'association', 'school', \
                  'community_education', 'training_institution', 'street_office', 'enterprise', 'other'])[1 + n % 10] \
         FROM generate_series(1, $3) AS n",
    )
    .bind::<Array<SqlUuid>, _>(&unit_ids)
    .bind::<BigInt, _>(seed)
    .bind::<Integer, _>(UNITS as i32)
    .execute(conn)
    .await?;

    // Campaigns: journaled like any other (a `campaign` change each).
    let areas: Vec<String> = AREAS.iter().map(|a| a.to_string()).collect();
    let mut campaign_ids = Vec::new();
    let mut campaign_entries = Vec::new();
    let mut starts = Vec::new();
    let mut slugs = Vec::new();
    for n in 1..=p.campaigns {
        let year = p.year.unwrap_or(2014 + ((n - 1) % 80) as i32);
        let starts_on = NaiveDate::from_ymd_opt(year, 10, 18)
            .ok_or_else(|| AppError::internal("synthetic: bad campaign date"))?;
        let ends_on = starts_on + chrono::Duration::days(8);
        let slug = campaign_slug(p.seed, n);
        let input = CampaignInput {
            slug: slug.clone(),
            name: format!(
                "合成数据{}年全民终身学习活动周（第{n}届）",
                starts_on.year()
            ),
            theme: Some("全民终身学习　创造出彩人生".into()),
            region: Some("广东省茂名市高州市".into()),
            region_code: Some(match p.year {
                Some(_) => guangdong_code(n),
                None => region_code(n),
            }),
            year: Some(year),
            starts_on,
            ends_on,
            timezone: TIMEZONE.into(),
            notice_ref: Some(format!("合成数据[{year}]{n}号")),
            areas: areas.clone(),
            status: CampaignStatus::Closed,
        };
        let id = seed_id("synthetic", &format!("{}/campaign/{n}", p.seed));
        let (campaign, entry) = campaigns::insert_row(conn, id, input).await?;
        campaign_entries.push(entry);
        campaign_ids.push(campaign.id);
        starts.push(starts_on);
        slugs.push(slug);
    }
    let c = i64::from(p.campaigns);

    // Every generated row refers only to rows made above or earlier in this transaction, by
    // construction, so a superuser skips the per-row foreign-key triggers (as pg_restore
    // --disable-triggers does): that halves the time of the tally insert. CHECK and unique
    // constraints are still enforced.
    let superuser: bool = diesel::select(diesel::dsl::sql::<Bool>(
        "current_setting('is_superuser') = 'on'",
    ))
    .get_result(conn)
    .await?;
    if superuser {
        conn.batch_execute("SET LOCAL session_replication_role = replica")
            .await?;
    }

    // Partners: unit 1 leads the co-hosts (1..=9), unit 10 is the undertaker, the rest members.
    diesel::sql_query(
        "INSERT INTO campaign_partners (id, campaign_id, unit_id, role, lead) \
         SELECT md5('learnweek/synthetic/' || $3 || '/partner/' || k || '/' || n)::uuid, \
                ($1::uuid[])[k], ($2::uuid[])[n], \
                CASE WHEN n <= 9 THEN 'co_host' WHEN n = 10 THEN 'undertaker' ELSE 'member' END, \
                n = 1 \
         FROM generate_series(1, cardinality($1::uuid[])) AS k, \
              generate_series(1, cardinality($2::uuid[])) AS n",
    )
    .bind::<Array<SqlUuid>, _>(&campaign_ids)
    .bind::<Array<SqlUuid>, _>(&unit_ids)
    .bind::<BigInt, _>(seed)
    .execute(conn)
    .await?;

    // Events. Bit fields of h: f0 title, f1 kind, f2 status, f3 co-organizer, f4 day and time,
    // f5 host unit; of h2: f6 area and venue, f7 visibility.
    let event_prefix = id_prefix(p.seed, "event");
    // What the event and training inserts are both given: `$1` their id prefix, then the seed,
    // the campaigns' first days, ids and number, the units, the areas and the number of events.
    let generated = |sql: String, prefix: &str| {
        diesel::sql_query(sql)
            .into_boxed::<Pg>()
            .bind::<Text, _>(prefix.to_owned())
            .bind::<BigInt, _>(seed)
            .bind::<Array<Date>, _>(&starts)
            .bind::<Array<SqlUuid>, _>(&campaign_ids)
            .bind::<BigInt, _>(c)
            .bind::<Array<SqlUuid>, _>(&unit_ids)
            .bind::<Array<Text>, _>(&areas)
            .bind::<BigInt, _>(p.events as i64)
    };
    let events = generated(format!(
        "INSERT INTO events (id, campaign_id, title, kind, summary, description, venue_name, venue_address, \
                             area, starts_at, ends_at, host_unit_id, co_organizer_unit_ids, audience, status, \
                             visibility, expected_participants, tags) \
         SELECT ($1 || lpad(to_hex(i), 12, '0'))::uuid, \
                ($4::uuid[])[1 + i % $5], \
                (ARRAY['低碳生活进家庭', '全民阅读分享会', '社区书法讲座', '家庭教育讲座', '老年人智能手机培训', \
                  '亲子读书会', '传统文化展览', '科普知识讲座', '健康养生讲座', '插花艺术体验', '粤剧欣赏会', \
                  '法律知识进社区', '电脑基础培训', '摄影作品展', '诗词朗诵比赛', '书画作品展', '垃圾分类宣传', \
                  '消防安全讲座', '非遗技艺展示', '职业技能展示'])[1 + f0 % 20] \
                  || '（第' || (1 + i / $5 / 20) || '场）', \
                CASE WHEN i < $5 THEN 'opening_ceremony' ELSE \
                  (ARRAY['community_activity', 'community_activity', 'community_activity', 'community_activity', \
                    'lecture', 'lecture', 'lecture', 'lecture', 'training', 'training', 'exhibition', 'exhibition', \
                    'competition', 'performance', 'performance', 'reading_promotion', 'reading_promotion', \
                    'open_venue', 'publicity', 'publicity', 'meeting', 'other'])[1 + f1 % 22] END, \
                (ARRAY['倡导学习型家庭建设，现场发放学习资料。', '邀请专家主讲，居民踊跃参与互动。', \
                  '展示社区教育成果，营造终身学习氛围。', '面向基层群众的公益学习活动。'])[1 + f1 % 4], \
                CASE WHEN f2 % 10 = 0 THEN '本场活动由' || area || '组织开展，内容涵盖知识讲解、现场体验和互动问答，' \
                  || '旨在推动全民终身学习，建设学习型社会。' END, \
                area || (ARRAY['文化广场', '社区活动中心', '图书馆', '文化站', '中心小学', '老年大学', \
                  '职业技术学校'])[1 + f6 / 28 % 7], \
                '广东省茂名市高州市' || area || (1 + f6 % 97) || '号', \
                area, \
                starts_at, \
                starts_at + (1 + f4 % 4) * interval '1 hour', \
                ($6::uuid[])[1 + f5 % 50], \
                CASE WHEN f3 % 10 < 3 THEN ARRAY[($6::uuid[])[1 + (f5 % 50 + 1 + f3 / 10 % 49) % 50]] \
                  ELSE '{{}}'::uuid[] END, \
                (ARRAY['社区居民', '在校学生', '老年人', '外来务工人员', '家庭妇女', '全体市民', '企业职工', \
                  '退休人员'])[1 + f5 / 50 % 8], \
                CASE WHEN f2 % 100 < 55 THEN 'completed' WHEN f2 % 100 < 88 THEN 'published' \
                  WHEN f2 % 100 < 92 THEN 'cancelled' ELSE 'draft' END, \
                CASE WHEN f7 % 100 < 8 THEN 'internal' ELSE 'public' END, \
                20 + f0 / 20 % 500, \
                ARRAY[(ARRAY['社区教育', '全民阅读', '老年教育', '职业培训', '传统文化', '科普', '健康', \
                  '亲子'])[1 + f1 / 22 % 8]] \
         FROM (SELECT i, h & 1023 AS f0, h >> 10 & 1023 AS f1, h >> 20 & 1023 AS f2, h >> 30 & 1023 AS f3, \
                      h >> 40 & 1023 AS f4, h >> 50 & 1023 AS f5, \
                      h2 & 1023 AS f6, h2 >> 10 & 1023 AS f7, \
                      (($3::date[])[1 + i % $5] + ((h >> 40 & 1023) / 4 % 9)::int + time '08:00' \
                        + ((h >> 40 & 1023) / 36 % 24) * interval '30 minutes') AT TIME ZONE '{TIMEZONE}' \
                        AS starts_at, \
                      ($7::text[])[1 + (h2 & 1023) % 28] AS area \
               FROM (SELECT i, hashtextextended('event/' || i, $2) & 9223372036854775807 AS h, \
                            hashtextextended('event-b/' || i, $2) & 9223372036854775807 AS h2 \
                     FROM generate_series(0, $8 - 1) AS i) AS g) AS r"
    ), &event_prefix)
    .execute(conn)
    .await?;

    // Trainings; three in ten belong to an event of their campaign.
    let training_prefix = id_prefix(p.seed, "training");
    let trainings = generated(format!(
        "INSERT INTO trainings (id, campaign_id, event_id, title, subject, provider_unit_id, target_groups, \
                                starts_at, ends_at, venue_name, venue_address, capacity, fee_cents, enrolled, \
                                completed, employed_after, status, visibility) \
         SELECT ($1 || lpad(to_hex(i), 12, '0'))::uuid, \
                ($4::uuid[])[1 + i % $5], \
                CASE WHEN f0 % 10 < 3 THEN ($9 || lpad(to_hex(i % $5 + $5 * (f0 / 10 % ((($8 - 1 - i % $5) / $5) + 1))), \
                  12, '0'))::uuid END, \
                (ARRAY['电脑基础操作培训班', '英语口语入门班', '家政服务技能培训', '商务礼仪培训', \
                  '人力资源开发讲习班', '自我提升工作坊', '就业创业培训', '电子商务培训'])[1 + f1 % 8] \
                  || '（第' || (1 + i / 8 % 50) || '期）', \
                (ARRAY['computer', 'english', 'housekeeping', 'etiquette', 'hr_development', 'self_improvement', \
                  'employment', 'other'])[1 + f1 % 8], \
                ($6::uuid[])[1 + f5 % 50], \
                ARRAY[(ARRAY['employed', 'student', 'migrant_worker', 'homemaker', 'retiree', 'returnee', \
                  'unemployed', 'veteran', 'disabled', 'senior', 'child', 'general'])[1 + f1 / 8 % 12]], \
                starts_at, \
                starts_at + (2 + f4 % 3) * interval '1 hour', \
                ($7::text[])[1 + f5 / 50 % 28] || (ARRAY['职业技术学校', '社区教育学校', '老年大学'])[1 + f2 % 3], \
                '广东省茂名市高州市' || ($7::text[])[1 + f5 / 50 % 28], \
                capacity, \
                CASE WHEN f2 / 3 % 10 = 0 THEN 5000 ELSE 0 END, \
                enrolled, \
                completed, \
                completed * (f3 / 100 % 60) / 100, \
                CASE WHEN f2 / 30 % 100 < 55 THEN 'completed' WHEN f2 / 30 % 100 < 90 THEN 'published' \
                  WHEN f2 / 30 % 100 < 94 THEN 'cancelled' ELSE 'draft' END, \
                CASE WHEN f3 % 100 < 5 THEN 'internal' ELSE 'public' END \
         FROM (SELECT *, enrolled * (70 + f3 % 31) / 100 AS completed \
               FROM (SELECT *, capacity * (50 + f2 % 51) / 100 AS enrolled, \
                            (($3::date[])[1 + i % $5] + (f4 / 4 % 9)::int + time '08:30' \
                              + (f4 / 36 % 20) * interval '30 minutes') AT TIME ZONE '{TIMEZONE}' AS starts_at \
                     FROM (SELECT i, h & 1023 AS f0, h >> 10 & 1023 AS f1, h >> 20 & 1023 AS f2, \
                                  h >> 30 & 1023 AS f3, h >> 40 & 1023 AS f4, h >> 50 & 1023 AS f5, \
                                  30 + (h >> 20 & 1023) / 51 % 171 AS capacity \
                           FROM (SELECT i, hashtextextended('training/' || i, $2) & 9223372036854775807 AS h \
                                 FROM generate_series(0, $10 - 1) AS i) AS g) AS a) AS b) AS r"
    ), &training_prefix)
    .bind::<Text, _>(&event_prefix)
    .bind::<BigInt, _>(p.trainings())
    .execute(conn)
    .await?;

    // Tallies. Subject s gets `per` tallies (one more for the first `extra` subjects), numbered
    // j; tally j of a subject has the measure j mod 2 (headcount, then person-times of the same
    // people), the category (j / 2 + hash(s)) mod 12, the subject's day + j / 24 mod 9, and the
    // reporting unit j / 216 places after the subject's own unit: distinct natural keys for
    // j < KEYS_PER_SUBJECT. Ids follow (s, j), so inserts append to the id, subject and
    // natural-key indexes.
    let tally_sql = |subject_table: &str, unit_column: &str, subject_column: &str| {
        format!(
            "INSERT INTO tallies (id, campaign_id, event_id, training_id, category, measure, count, tally_date, \
                                  reporting_unit_id, source, note) \
             SELECT ($1 || lpad(to_hex($6 + s * $4 + least(s, $5) + j), 12, '0'))::uuid, \
                    x.campaign_id, \
                    {event_id}, \
                    {training_id}, \
                    (ARRAY['employed', 'student', 'migrant_worker', 'homemaker', 'retiree', 'returnee', \
                      'unemployed', 'veteran', 'disabled', 'senior', 'child', 'general'])[1 + (j / 2 + hs) % 12], \
                    CASE WHEN j % 2 = 0 THEN 'headcount' ELSE 'person_times' END, \
                    (1 + ht % 300) * CASE WHEN j % 2 = 0 THEN 1 ELSE 1 + ht / 300 % 4 END, \
                    (x.starts_at AT TIME ZONE '{TIMEZONE}')::date + (j / 24 % 9)::int, \
                    ($7::uuid[])[1 + (array_position($7::uuid[], x.{unit_column}) - 1 + j / 216) % 50], \
                    (ARRAY['script', 'script', 'script', 'import', 'manual'])[1 + ht / 2000 % 5], \
                    CASE WHEN ht / 10000 % 50 = 0 THEN '现场签到统计' END \
             FROM generate_series(0, $2 - 1) AS s \
             CROSS JOIN LATERAL (SELECT id, campaign_id, starts_at, {unit_column}, \
                                        hashtextextended('{subject_table}-key/' || s, $3) % 12 + 12 AS hs \
                                 FROM {subject_table} \
                                 WHERE id = ($8 || lpad(to_hex(s), 12, '0'))::uuid) AS x \
             CROSS JOIN LATERAL generate_series(0, $4 - 1 + (s < $5)::int) AS j \
             CROSS JOIN LATERAL (SELECT hashtextextended('{subject_table}-tally/' || s || '/' || j / 2, $3) \
                                          & 2147483647 AS ht) AS t",
            event_id = if subject_column == "event_id" {
                "x.id"
            } else {
                "NULL::uuid"
            },
            training_id = if subject_column == "training_id" {
                "x.id"
            } else {
                "NULL::uuid"
            },
        )
    };
    let tally_prefix = id_prefix(p.seed, "tally");
    let mut tallies = 0;
    for (table, unit_column, subject_column, prefix, subjects, count, first) in [
        (
            "events",
            "host_unit_id",
            "event_id",
            &event_prefix,
            p.events as i64,
            p.event_tallies(),
            0,
        ),
        (
            "trainings",
            "provider_unit_id",
            "training_id",
            &training_prefix,
            p.trainings(),
            p.tallies as i64 - p.event_tallies(),
            p.event_tallies(),
        ),
    ] {
        if count == 0 {
            continue;
        }
        tallies += diesel::sql_query(tally_sql(table, unit_column, subject_column))
            .bind::<Text, _>(&tally_prefix)
            .bind::<BigInt, _>(subjects)
            .bind::<BigInt, _>(seed)
            .bind::<BigInt, _>(count / subjects)
            .bind::<BigInt, _>(count % subjects)
            .bind::<BigInt, _>(first)
            .bind::<Array<SqlUuid>, _>(&unit_ids)
            .bind::<Text, _>(prefix)
            .execute(conn)
            .await?;
    }

    // Media reports, most about an event.
    let media_reports = diesel::sql_query(
        "INSERT INTO media_reports (id, campaign_id, event_id, outlet_name, reporting_unit_id, medium, title, url, \
                                    published_at) \
         SELECT ($1 || lpad(to_hex(i), 12, '0'))::uuid, e.campaign_id, \
                CASE WHEN h % 10 < 8 THEN e.id END, \
                (ARRAY['高州电视台', '茂名日报', '高州新闻网', '高州发布', '茂名广播电台'])[1 + h / 10 % 5], \
                e.host_unit_id, \
                (ARRAY['tv', 'newspaper', 'online', 'social', 'radio'])[1 + h / 10 % 5], \
                '【活动周】' || e.title, \
                CASE WHEN h / 50 % 5 IN (2, 3) THEN 'https://news.example.cn/learnweek/' || i END, \
                e.ends_at + (1 + h / 250 % 48) * interval '1 hour' \
         FROM (SELECT i, hashtextextended('media/' || i, $2) & 2147483647 AS h, \
                      ($3 || lpad(to_hex(i * 50), 12, '0'))::uuid AS event_id \
               FROM generate_series(0, $4 - 1) AS i) AS g \
         JOIN events AS e ON e.id = g.event_id",
    )
    .bind::<Text, _>(id_prefix(p.seed, "media_report"))
    .bind::<BigInt, _>(seed)
    .bind::<Text, _>(&event_prefix)
    .bind::<BigInt, _>(p.media_reports())
    .execute(conn)
    .await?;

    if superuser {
        conn.batch_execute("SET LOCAL session_replication_role = origin")
            .await?;
    }

    // One `event` change per campaign (its latest event), so feeds have a validator.
    // The campaigns first, then their events: one journal call, the last statement.
    let mut entries = campaign_entries;
    for campaign_id in &campaign_ids {
        let event: Option<Event> = events::table
            .filter(events::campaign_id.eq(campaign_id))
            .select(Event::as_select())
            .order((events::starts_at.desc(), events::id.desc()))
            .first(conn)
            .await
            .optional()?;
        if let Some(event) = event {
            entries.push(Entry::create_of(&event)?);
        }
    }
    journal::record(conn, &auth, &entries).await?;

    Ok(Some(Counts {
        slugs: if slugs.len() == 1 {
            first_slug
        } else {
            format!("{first_slug} .. {}", campaign_slug(p.seed, p.campaigns))
        },
        events,
        trainings,
        tallies,
        media_reports,
    }))
}

/// A county-level division code (GB/T 2260 shaped) for synthetic campaign `n`: spread over the
/// 31 provinces, 20 prefectures each, 30 counties each, so regional sums have children.
/// The n-th county of a province with 99 prefectures of 99 counties: distinct up to 9,801.
fn guangdong_code(n: u32) -> String {
    let i = n.saturating_sub(1);
    format!("44{:02}{:02}", i % 99 + 1, (i / 99) % 99 + 1)
}

fn region_code(n: u32) -> String {
    const PROVINCES: [u32; 31] = [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51,
        52, 53, 54, 61, 62, 63, 64, 65,
    ];
    let i = n.saturating_sub(1);
    let province = PROVINCES[(i % 31) as usize];
    let prefecture = (i / 31) % 20 + 1;
    let county = (i / (31 * 20)) % 30 + 1;
    format!("{province:02}{prefecture:02}{county:02}")
}
