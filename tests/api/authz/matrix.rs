//! The authorization matrix: every write operation of the API × every kind of caller → the
//! status it must get. The expectations follow `src/auth/policy.rs` and each handler's
//! "Roles:" line. `every_write_operation_is_in_the_matrix` checks the table against the
//! OpenAPI document, so a new write endpoint fails until it gets a row here.
//!
//! Adding an endpoint: write a fixture in [`super::fixtures`] that prepares a fresh target
//! owned by unit A (rows, path, body) and add a `case!` line to [`matrix`] with the status for
//! each of the eight callers.

use std::collections::BTreeSet;

use actix_web::http::Method;
use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::fixtures::*;
use super::{ACTORS, Actor, World};

/// One write operation (or one variant of it) and what each caller gets.
struct Case {
    method: Method,
    /// The path as the OpenAPI document spells it.
    path: &'static str,
    /// The fixture's name, for messages.
    name: &'static str,
    /// Makes a fresh target (called once per caller, so deletes do not interfere).
    prep: Prep,
    /// One status per caller, in [`ACTORS`] order.
    expect: [u16; 8],
}

macro_rules! case {
    ($method:ident $path:literal $prep:ident $expect:expr) => {
        Case {
            method: Method::$method,
            path: $path,
            name: stringify!($prep),
            prep: $prep,
            expect: $expect,
        }
    };
}

/// The matrix. Columns: admin, editor of A, editor of B, reporter of A, viewer of A,
/// anonymous, revoked token, expired token. Targets belong to unit A and (unless the name
/// says otherwise) stay in unit A.
#[rustfmt::skip]
fn matrix() -> Vec<Case> {
    vec![
        // Admin only: campaigns, units, partners, committee bodies, tokens, accounts.
        //    method OpenAPI path                                           fixture                            admin edA  edB  repA view anon rev  exp
        case!(POST   "/api/v1/campaigns"                                    create_campaign                   [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/campaigns/{id}"                               patch_campaign                    [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/campaigns/{id}"                               delete_campaign                   [204, 403, 403, 403, 403, 401, 401, 401]),
        case!(POST   "/api/v1/units"                                        create_unit                       [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/units/{id}"                                   patch_unit                        [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/units/{id}"                                   delete_unit                       [204, 403, 403, 403, 403, 401, 401, 401]),
        case!(PUT    "/api/v1/campaigns/{id}/partners/{unit_id}"            put_partner_a                     [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/campaigns/{id}/partners/{unit_id}"            delete_partner_a                  [204, 403, 403, 403, 403, 401, 401, 401]),
        case!(POST   "/api/v1/campaigns/{id}/committee/bodies"              create_body_of_a                  [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/campaigns/{id}/committee/bodies/{body_id}"    patch_body_of_a                   [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/campaigns/{id}/committee/bodies/{body_id}"    delete_body_of_a                  [204, 403, 403, 403, 403, 401, 401, 401]),
        case!(POST   "/api/v1/tokens"                                       create_token_for_a                [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/tokens/{id}"                                  revoke_token_of_a                 [204, 403, 403, 403, 403, 401, 401, 401]),
        case!(POST   "/api/v1/accounts"                                     create_account_in_a               [201, 403, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/accounts/{id}"                                disable_account_in_a              [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/accounts/{id}"                                delete_account_in_a               [204, 403, 403, 403, 403, 401, 401, 401]),
        // Committee members: admin; editor of the member's unit.
        case!(POST   "/api/v1/campaigns/{id}/committee/members"             create_member_of_a                [201, 201, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/campaigns/{id}/committee/members/{member_id}" patch_member_of_a                 [200, 200, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/campaigns/{id}/committee/members/{member_id}" move_member_to_b                  [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/campaigns/{id}/committee/members/{member_id}" delete_member_of_a                [204, 204, 403, 403, 403, 401, 401, 401]),
        // Events: admin; editor of the host unit (and of every row a delete touches).
        case!(POST   "/api/v1/events"                                       create_event_of_a                 [201, 201, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/events/{id}"                                  patch_event_of_a                  [200, 200, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/events/{id}"                                  move_event_to_b                   [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/events/{id}"                                  delete_event_of_a                 [204, 204, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/events/{id}"                                  delete_event_with_tally_of_b      [204, 403, 403, 403, 403, 401, 401, 401]),
        // Trainings: admin; editor of the provider unit; its reporter for outcome counts only.
        case!(POST   "/api/v1/trainings"                                    create_training_of_a              [201, 201, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/trainings/{id}"                               patch_training_outcomes           [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/trainings/{id}"                               patch_training_title              [200, 200, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/trainings/{id}"                               patch_training_outcomes_and_title [200, 200, 403, 403, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/trainings/{id}"                               move_training_to_b                [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/trainings/{id}"                               delete_training_of_a              [204, 204, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/trainings/{id}"                               delete_training_with_tally_of_b   [204, 403, 403, 403, 403, 401, 401, 401]),
        // Tallies: admin; editor or reporter of the reporting unit, every row of a batch too.
        case!(POST   "/api/v1/tallies"                                      create_tally_of_a                 [201, 201, 403, 201, 403, 401, 401, 401]),
        case!(PUT    "/api/v1/tallies"                                      put_new_tally_of_a                [201, 201, 403, 201, 403, 401, 401, 401]),
        case!(PUT    "/api/v1/tallies"                                      put_existing_tally_of_a           [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(POST   "/api/v1/tallies/batch"                                batch_of_a                        [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(POST   "/api/v1/tallies/import"                               csv_of_a                          [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/tallies/{id}"                                 patch_tally_of_a                  [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/tallies/{id}"                                 move_tally_to_b                   [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/tallies/{id}"                                 delete_tally_of_a                 [204, 204, 403, 204, 403, 401, 401, 401]),
        // Media reports: admin; editor or reporter of the outlet unit or the reporting unit.
        case!(POST   "/api/v1/media-reports"                                create_report_by_a                [201, 201, 403, 201, 403, 401, 401, 401]),
        case!(POST   "/api/v1/media-reports"                                create_report_of_outlet_a         [201, 201, 403, 201, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/media-reports/{id}"                           patch_report_of_a                 [200, 200, 403, 200, 403, 401, 401, 401]),
        case!(PATCH  "/api/v1/media-reports/{id}"                           move_report_to_b                  [200, 403, 403, 403, 403, 401, 401, 401]),
        case!(DELETE "/api/v1/media-reports/{id}"                           delete_report_of_a                [204, 204, 403, 204, 403, 401, 401, 401]),
        // Webhooks: admin; editor or viewer of the subscription's unit. Another unit's
        // subscription is hidden from its reads (404) but writes to it are a 403, as everywhere.
        case!(POST   "/api/v1/webhooks"                                     create_webhook_of_a               [201, 201, 403, 403, 201, 401, 401, 401]),
        case!(PATCH  "/api/v1/webhooks/{id}"                                patch_webhook_of_a                [200, 200, 403, 403, 200, 401, 401, 401]),
        case!(DELETE "/api/v1/webhooks/{id}"                                delete_webhook_of_a               [204, 204, 403, 403, 204, 401, 401, 401]),
        // Login: anyone; the Authorization header is ignored.
        case!(POST   "/api/v1/auth/token"                                   login                             [200, 200, 200, 200, 200, 200, 200, 200]),
        case!(POST   "/api/v1/auth/refresh"                                 refresh_session                   [200, 200, 200, 200, 200, 200, 200, 200]),
    ]
}

/// Writes that act on the caller's own token, so they cannot run with the matrix's shared
/// tokens; `sessions::every_caller_may_log_out_only_itself` covers them.
const SELF_SERVICE: &[(&str, &str)] = &[("POST", "/api/v1/auth/logout")];

/// Does `path` fit the OpenAPI template (`{x}` matches one segment)?
fn fits(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// Runs one (case, caller) pair; returns what went wrong, if anything.
async fn run_pair(w: &World, case: &Case, i: usize) -> Vec<String> {
    let actor = ACTORS[i];
    let expected = case.expect[i];
    let what = format!("{} {} [{}] as {actor:?}", case.method, case.path, case.name);
    let target = (case.prep)(w).await;
    let mut problems = Vec::new();
    if !fits(case.path, &target.path) {
        problems.push(format!(
            "{what}: the fixture sends {} (not {})",
            target.path, case.path
        ));
    }
    if matches!(case.method, Method::PATCH | Method::DELETE) && target.row.is_none() {
        problems.push(format!(
            "{what}: the fixture must name the row it changes (Target::on_row)"
        ));
    }
    let before = match &target.row {
        Some((path, id)) => Some((w.admin_get(path).await, w.audit(*id).await)),
        None => None,
    };

    let res = w
        .send(actor, case.method.clone(), &target.path, &target.body)
        .await;
    if res.status != expected {
        problems.push(format!(
            "{what}: expected {expected}, got {}: {}",
            res.status,
            res.text()
        ));
        return problems;
    }
    if res.status >= 400 {
        if res.header("content-type").as_deref() != Some("application/problem+json") {
            problems.push(format!("{what}: {} is not problem+json", res.status));
        }
        if res.status == 401 && res.header("www-authenticate").is_none() {
            problems.push(format!("{what}: 401 without WWW-Authenticate"));
        }
        let detail = res.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let why = match actor {
            Actor::Revoked => Some("revoked"),
            Actor::Expired => Some("expired"),
            _ => None,
        };
        if let Some(why) = why.filter(|_| res.status == 401)
            && !detail.contains(why)
        {
            problems.push(format!("{what}: the 401 does not say `{why}`: {detail}"));
        }
    }
    if let (Some((path, id)), Some((row_before, audit_before))) = (&target.row, before) {
        let audit_after = w.audit(*id).await;
        if res.status >= 400 {
            // Refused: the row reads the same and its audit trail is only its creation.
            let after = w.app.get(path).bearer(&w.app.admin).send().await;
            if after.status != 200 {
                problems.push(format!(
                    "{what}: refused, yet GET {path} now gives {}",
                    after.status
                ));
            } else if after.json() != row_before {
                problems.push(format!(
                    "{what}: refused, yet the row changed:\n  before {row_before}\n  after  {}",
                    after.json()
                ));
            }
            let ops: Vec<&str> = audit_after
                .iter()
                .map(|e| e["op"].as_str().unwrap_or_default())
                .collect();
            if ops != ["create"] || audit_after != audit_before {
                problems.push(format!(
                    "{what}: refused, yet the audit log has {ops:?} for the row"
                ));
            }
        } else if audit_after.len() <= audit_before.len() {
            problems.push(format!("{what}: the write left no audit entry"));
        }
    }
    problems
}

/// Every write operation × every caller, each on a fresh target. Refusals (401, 403) must
/// leave the target row unchanged with no audit entry but its creation; successes must be
/// audited.
#[actix_web::test]
async fn authorization_matrix() {
    let w = World::new().await;
    let cases = matrix();
    let pairs: Vec<(&Case, usize)> = cases
        .iter()
        .flat_map(|case| (0..ACTORS.len()).map(move |i| (case, i)))
        .collect();
    let mut problems: Vec<String> = stream::iter(pairs)
        .map(|(case, i)| run_pair(&w, case, i))
        .buffer_unordered(12)
        .flat_map(stream::iter)
        .collect()
        .await;
    problems.sort();
    assert!(
        problems.is_empty(),
        "{} of {} checks failed:\n{}",
        problems.len(),
        cases.len() * ACTORS.len(),
        problems.join("\n")
    );
}

/// The write operations of the OpenAPI document: (METHOD, path).
fn documented_writes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut writes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["put", "post", "delete", "patch", "trace"] {
            if item.get(method).is_some() {
                writes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    writes
}

/// A write endpoint without a matrix row (or a row for one that is gone) fails here.
#[test]
fn every_write_operation_is_in_the_matrix() {
    let doc: Value = serde_json::from_str(crate::common::openapi_json()).unwrap();
    let mut documented = documented_writes(&doc);
    for (method, path) in SELF_SERVICE {
        assert!(
            documented.remove(&(method.to_string(), path.to_string())),
            "{path} is gone"
        );
    }
    let cases = matrix();
    let covered: BTreeSet<(String, String)> = cases
        .iter()
        .map(|c| (c.method.to_string(), c.path.to_string()))
        .collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "write operations without a row in the authorization matrix (tests/api/authz/matrix.rs): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix rows for operations the API does not have: {stale:?}"
    );
    // Every status the matrix expects is one the operation documents.
    for case in &cases {
        let op = &doc["paths"][case.path][case.method.as_str().to_lowercase()];
        for status in BTreeSet::from(case.expect) {
            assert!(
                op["responses"].get(status.to_string()).is_some(),
                "{} {} does not document {status}",
                case.method,
                case.path
            );
        }
    }
}
