//! Typed merge-patch bodies. Each `PATCH` takes an RFC 7396 merge patch of an input schema
//! (`EventInput`, ...), described as "merge patch of an EventInput"; its body schema is derived
//! here from that input, so a client generator sees the fields, their types and rules:
//! every property optional (absent: unchanged), no default (absent is not the default), and
//! null allowed where null clears the field or resets it to its default (those the input does
//! not require). Rules across fields ("exactly one of") are left to the merged result, which
//! the server validates as the input (422).

use std::collections::HashSet;

use serde_json::{Map, Value, json};

pub fn add(doc: &mut Value) {
    let mut wanted: Vec<String> = Vec::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for body in paths
            .values_mut()
            .filter_map(|ops| ops.pointer_mut("/patch/requestBody"))
        {
            let Some(input) = patched_input(body) else {
                continue;
            };
            for media in body["content"].as_object_mut().into_iter().flatten() {
                media.1["schema"] = json!({"$ref": reference(&patch_name(&input))});
            }
            wanted.push(input);
        }
    }
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let inputs = schemas.clone();
    let mut derived = HashSet::new();
    // In the order the operations name them, then what they refer to.
    let mut next = 0;
    while let Some(input) = wanted.get(next).cloned() {
        next += 1;
        if !derived.insert(input.clone()) {
            continue;
        }
        if let Some(schema) = inputs.get(&input) {
            let (patch, nested) = patch_of(&input, schema, &inputs);
            schemas.insert(patch_name(&input), patch);
            wanted.extend(nested);
        }
    }
}

fn reference(schema: &str) -> String {
    format!("#/components/schemas/{schema}")
}

/// `EventInput` of a body described as "... merge patch of an EventInput".
fn patched_input(body: &Value) -> Option<String> {
    let description = body["description"].as_str()?;
    let (_, input) = description.rsplit_once("merge patch of ")?;
    let input = input.split_whitespace().nth(1)?;
    input.ends_with("Input").then(|| input.to_owned())
}

fn patch_name(input: &str) -> String {
    format!("{}Patch", input.trim_end_matches("Input"))
}

/// The patch schema of `input`, and the object schemas it refers to, whose patches it uses:
/// a merge patch merges nested objects too (`{"venue": {"address": "..."}}`).
fn patch_of(input: &str, schema: &Value, schemas: &Map<String, Value>) -> (Value, Vec<String>) {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut nested = Vec::new();
    let mut properties = Map::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let mut property = property.clone();
        if let Some(p) = property.as_object_mut() {
            p.remove("default");
        }
        patch_objects_in(&mut property, schemas, &mut nested);
        if !required.contains(&name.as_str()) {
            property = nullable(property);
        }
        properties.insert(name.clone(), property);
    }
    let mut patch = json!({
        "type": "object",
        "description": format!(
            "A JSON merge patch (RFC 7396) of a{} {input}: the fields sent replace the row's, \
             null clears an optional field or resets it to its default, and the result must be \
             a valid {input}.",
            if input.starts_with(['A', 'E', 'I', 'O', 'U']) { "n" } else { "" }
        ),
        "properties": properties,
    });
    if let Some(additional) = schema.get("additionalProperties") {
        patch["additionalProperties"] = additional.clone();
    }
    (patch, nested)
}

/// Points every reference to an object schema in `value` at that object's patch.
fn patch_objects_in(value: &mut Value, schemas: &Map<String, Value>, nested: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let target = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .filter(|name| {
                    schemas
                        .get(*name)
                        .is_some_and(|s| s.get("properties").is_some())
                })
                .map(str::to_owned);
            if let Some(name) = target {
                map.insert("$ref".into(), json!(reference(&patch_name(&name))));
                nested.push(name);
            }
            map.values_mut()
                .for_each(|v| patch_objects_in(v, schemas, nested));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| patch_objects_in(v, schemas, nested)),
        _ => {}
    }
}

/// `property`, also admitting null.
fn nullable(mut property: Value) -> Value {
    let admits_null = |p: &Value| {
        p["type"] == "null"
            || p["type"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("null")))
    };
    if admits_null(&property)
        || ["oneOf", "anyOf"].iter().any(|k| {
            property[k]
                .as_array()
                .is_some_and(|v| v.iter().any(admits_null))
        })
    {
        return property;
    }
    match property.get("type").cloned() {
        Some(Value::String(t)) => {
            property["type"] = json!([t, "null"]);
            if let Some(values) = property.get_mut("enum").and_then(Value::as_array_mut) {
                values.push(Value::Null);
            }
            property
        }
        _ => json!({"oneOf": [property, {"type": "null"}]}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_patch_body_is_a_patch_of_its_input() {
        let doc: Value = serde_json::from_str(crate::openapi::json()).unwrap();
        let mut seen = 0;
        for ops in doc["paths"].as_object().unwrap().values() {
            let Some(body) = ops.pointer("/patch/requestBody") else {
                continue;
            };
            seen += 1;
            let media = &body["content"]["application/merge-patch+json"];
            let reference = media["schema"]["$ref"].as_str().unwrap();
            let name = reference.rsplit('/').next().unwrap();
            let input = patched_input(body).unwrap();
            assert_eq!(name, patch_name(&input));
            let patch = &doc["components"]["schemas"][name];
            let input = &doc["components"]["schemas"][&input];
            assert!(patch.get("required").is_none(), "{name}");
            let fields = |s: &Value| {
                s["properties"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(fields(patch), fields(input), "{name}");
        }
        assert!(seen >= 10, "{seen} PATCH operations");
    }

    #[test]
    fn null_clears_what_the_input_does_not_require() {
        let input = json!({
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "kind": {"$ref": "#/components/schemas/Kind"},
                "flag": {"type": "boolean", "default": false},
                "note": {"type": ["string", "null"]},
                "place": {"oneOf": [{"$ref": "#/components/schemas/Place"}, {"type": "null"}]},
            },
            "oneOf": [{"required": ["name"]}],
            "additionalProperties": false,
        });
        let schemas = json!({
            "Kind": {"type": "string", "enum": ["a", "b"]},
            "Place": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        });
        let (patch, nested) = patch_of("ThingInput", &input, schemas.as_object().unwrap());
        assert_eq!(
            patch["properties"]["name"],
            json!({"type": "string", "minLength": 1})
        );
        assert_eq!(
            patch["properties"]["kind"],
            json!({"oneOf": [{"$ref": "#/components/schemas/Kind"}, {"type": "null"}]})
        );
        assert_eq!(
            patch["properties"]["flag"],
            json!({"type": ["boolean", "null"]})
        );
        assert_eq!(
            patch["properties"]["note"],
            json!({"type": ["string", "null"]})
        );
        // A nested object is patched by its own patch (a merge patch merges it too).
        assert_eq!(
            patch["properties"]["place"],
            json!({"oneOf": [{"$ref": "#/components/schemas/PlacePatch"}, {"type": "null"}]})
        );
        assert_eq!(nested, ["Place"]);
        assert!(patch.get("required").is_none() && patch.get("oneOf").is_none());
        assert_eq!(patch["additionalProperties"], false);
    }
}
