//! What request schemas can say beyond the derives: text that must not be blank or hold
//! control characters (what `Checks::text` enforces), "exactly one of" and "one or the other"
//! rules, and the values of open string lists. Applied to the generated document in one
//! pass, so the rules live next to each other rather than as literals on every field.

use serde_json::{Value, json};

/// Text `Checks::text` accepts: no control characters but tab and newlines, and at least one
/// character that is not whitespace.
const TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*\
[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";
/// Text that may be blank but holds no control characters (a tally's note).
const NO_CONTROL: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// (schema, property) pairs whose text `Checks::text` validates.
const TEXT_FIELDS: &[(&str, &str)] = &[
    ("BodyInput", "name"),
    ("MemberInput", "name"),
    ("MemberInput", "position"),
    ("MemberInput", "phone"),
    ("CampaignInput", "name"),
    ("CampaignInput", "theme"),
    ("CampaignInput", "region"),
    ("CampaignInput", "notice_ref"),
    ("Venue", "name"),
    ("Venue", "address"),
    ("EventInput", "title"),
    ("EventInput", "summary"),
    ("EventInput", "description"),
    ("EventInput", "audience"),
    ("EventInput", "area"),
    ("TrainingInput", "title"),
    ("UnitInput", "name"),
    ("UnitInput", "short_name"),
    ("MediaReportInput", "title"),
    ("MediaReportInput", "outlet_name"),
    ("TokenInput", "name"),
];

/// (schema, property, max items, max length) of lists of distinct short labels.
const LABEL_LISTS: &[(&str, &str, u64, u64)] = &[
    ("CampaignInput", "areas", 1000, 100),
    ("EventInput", "tags", 20, 50),
];

pub fn refine(doc: &mut Value, change_types: &[&str]) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (schema, field) in TEXT_FIELDS {
        if let Some(p) = property(schemas, schema, field) {
            p["pattern"] = json!(TEXT);
            p["minLength"] = json!(1);
        }
    }
    if let Some(p) = property(schemas, "TallyInput", "note") {
        p["pattern"] = json!(NO_CONTROL);
    }
    for (schema, field, max_items, max_len) in LABEL_LISTS {
        if let Some(p) = property(schemas, schema, field) {
            p["maxItems"] = json!(max_items);
            p["uniqueItems"] = json!(true);
            p["items"] =
                json!({"type": "string", "minLength": 1, "maxLength": max_len, "pattern": TEXT});
        }
    }
    if let Some(p) = property(schemas, "MemberInput", "email") {
        p["pattern"] = json!("^[^@ ]+@[^ ]*\\.[^ ]*$");
    }
    if let Some(p) = property(schemas, "WebhookInput", "url") {
        p["format"] = json!("uri");
        p["pattern"] = json!("^[Hh][Tt][Tt][Pp][Ss]?://");
        p["maxLength"] = json!(2000);
    }
    if let Some(p) = property(schemas, "WebhookInput", "types") {
        p["minItems"] = json!(1);
        p["uniqueItems"] = json!(true);
        p["items"] = json!({"type": "string", "enum": change_types});
    }
    if let Some(tally) = schemas.get_mut("TallyInput") {
        tally["oneOf"] = exactly_one_of("event_id", "training_id");
    }
    if let Some(report) = schemas.get_mut("MediaReportInput") {
        // The outlet: a unit, or a name (or both).
        report["anyOf"] = json!([
            {"required": ["outlet_unit_id"], "properties": {"outlet_unit_id": {"type": "string"}}},
            {"required": ["outlet_name"], "properties": {"outlet_name": {"type": "string"}}},
        ]);
    }
}

/// Exactly one of two nullable properties is a string; the other is absent or null. Spelled
/// out branch by branch so every branch is told apart by what it requires (as linters and
/// code generators want), not by an optional property.
fn exactly_one_of(a: &str, b: &str) -> Value {
    let only = |this: &str, other: &str| {
        json!({
            "required": [this],
            "properties": {this: {"type": "string"}},
            "not": {"required": [other], "properties": {other: {}}},
        })
    };
    let with_null = |this: &str, other: &str| {
        json!({
            "required": [this, other],
            "properties": {this: {"type": "string"}, other: {"type": "null"}},
        })
    };
    json!([only(a, b), with_null(a, b), only(b, a), with_null(b, a)])
}

fn property<'a>(
    schemas: &'a mut serde_json::Map<String, Value>,
    schema: &str,
    field: &str,
) -> Option<&'a mut Value> {
    schemas
        .get_mut(schema)?
        .get_mut("properties")?
        .get_mut(field)
}
