//! `/api/v1/campaigns/{id}/committee`: the organizing committee as a tree of bodies with their
//! members, contacts only for token holders, and lists ([`tree`]); where a body may hang and
//! when it may go ([`bodies`]); members and who may seat them ([`members`]).

mod bodies;
mod members;
mod tree;

use serde_json::Value;
use uuid::Uuid;

use crate::common::{CommitteeBodyBuilder, MemberBuilder, TestApp};

fn names(nodes: &Value) -> Vec<&str> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect()
}

async fn tree(app: &TestApp, campaign: &str, token: Option<&str>) -> Value {
    app.read(&format!("/api/v1/campaigns/{campaign}/committee"), token)
        .await
}

/// The path of the body or member `of` of `campaign`.
fn path(campaign: &str, what: &str, of: &Value) -> String {
    let id = of["id"].as_str().unwrap();
    format!("/api/v1/campaigns/{campaign}/committee/{what}/{id}")
}

/// The Gaozhou committee: the leading group with its office, liaison group and the
/// 市妇联 working group; the office has a publicity team below it.
struct Committee {
    jiaoyu: Uuid,
    fulian: Uuid,
    leading: Value,
    office: Value,
    liaison: Value,
    working: Value,
    publicity: Value,
    chair: Value,
    vice_chair: Value,
    director: Value,
}

async fn gaozhou_committee(app: &TestApp, campaign: &str) -> Committee {
    let jiaoyu = app.unit("高州市教育局").await;
    let fulian = app.unit("高州市妇女联合会").await;
    let body = |name: &str, kind: &str| CommitteeBodyBuilder::new(campaign, name, kind);
    let leading = body(
        "2014年高州市全民终身学习活动周工作领导小组",
        "leading_group",
    );
    let leading = leading.insert(app).await;
    let under_leading = |name: &str, kind: &str| body(name, kind).parent(&leading["id"]);
    let office = under_leading("领导小组办公室", "office").unit(jiaoyu);
    let office = office.insert(app).await;
    let liaison = under_leading("活动周工作联络小组", "liaison_group");
    let liaison = liaison.insert(app).await;
    let working = under_leading("市妇联活动周工作领导小组", "unit_working_group").unit(fulian);
    let working = working.insert(app).await;
    let publicity = body("宣传组", "office")
        .parent(&office["id"])
        .insert(app)
        .await;
    let member = |body: &Value, name: &str, position: &str, role: &str, phone: &str| {
        MemberBuilder::new(campaign, &body["id"], name)
            .position(position)
            .role(role)
            .phone(phone)
    };
    let chair = member(&leading, "梁志宏", "副市长", "chair", "0668-6200001");
    let chair = chair.insert(app).await;
    let vice_chair = member(
        &leading,
        "陈国强",
        "市教育局局长",
        "vice_chair",
        "0668-6213610",
    );
    let vice_chair = vice_chair.unit(jiaoyu).email("chen.guoqiang@example.org");
    let vice_chair = vice_chair.insert(app).await;
    let director = member(
        &office,
        "李明",
        "市教育局职成股股长",
        "director",
        "0668-6213611",
    );
    let director = director.unit(jiaoyu).email("li.ming@example.org");
    let director = director.insert(app).await;
    let liaison_member = member(&liaison, "王芳", "市妇联干部", "liaison", "13800000000");
    liaison_member.unit(fulian).insert(app).await;
    Committee {
        jiaoyu,
        fulian,
        leading,
        office,
        liaison,
        working,
        publicity,
        chair,
        vice_chair,
        director,
    }
}
