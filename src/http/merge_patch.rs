//! JSON Merge Patch (RFC 7396).

use serde_json::Value;

use crate::error::{AppError, AppResult};

/// Applies `patch` to `target` in place.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch_fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(target_fields) = target {
        for (key, value) in patch_fields {
            if value.is_null() {
                target_fields.remove(key);
            } else {
                apply(
                    target_fields.entry(key.clone()).or_insert(Value::Null),
                    value,
                );
            }
        }
    }
}

/// A resource is always an object, so a patch must be one too.
pub fn require_object(patch: &Value) -> AppResult<()> {
    if patch.is_object() {
        Ok(())
    } else {
        Err(AppError::invalid_field(
            "body",
            "a merge patch must be a JSON object",
        ))
    }
}

/// Merges `patch` into the writable representation of a resource, then reads it back as the
/// resource's input type, so a patch is validated exactly like a create. Fields the patch
/// sets to `null` are removed and so fall back to their defaults (`null` for optional ones).
pub fn merged<T: serde::Serialize + serde::de::DeserializeOwned>(
    current: &T,
    patch: &Value,
) -> AppResult<T> {
    require_object(patch)?;
    let mut doc = serde_json::to_value(current).map_err(AppError::internal)?;
    apply(&mut doc, patch);
    crate::http::body::from_value(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7396_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
        ];
        for (mut target, patch, expected) in cases {
            apply(&mut target, &patch);
            assert_eq!(target, expected);
        }
    }
}
