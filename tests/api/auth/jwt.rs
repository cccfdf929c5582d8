//! JWT hardening: forged, expired and malformed tokens are 401s.

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::{JWT_SECRET, Role, TestApp};

fn sign(header: Header, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret).unwrap()).unwrap()
}

#[actix_web::test]
async fn forged_expired_and_malformed_tokens_are_401() {
    use base64::Engine;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };

    let app = TestApp::spawn().await;
    let unit = app.unit("高州市教育学会").await;
    let editor = app.token(Role::Editor, Some(unit)).await;
    let parts: Vec<&str> = editor.split('.').collect();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();

    // Escalating the role in the payload breaks the signature.
    let mut admin_claims = claims.clone();
    admin_claims["role"] = json!("admin");
    admin_claims["unit_id"] = Value::Null;
    let tampered = format!("{}.{}.{}", parts[0], b64(&admin_claims), parts[2]);
    // alg none.
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&admin_claims)
    );
    // Same secret, another algorithm.
    let hs512 = sign(
        Header::new(Algorithm::HS512),
        &claims,
        JWT_SECRET.as_bytes(),
    );
    // Signed with another key.
    let other_key = sign(
        Header::new(Algorithm::HS256),
        &claims,
        b"another-secret-another-secret-0123456789",
    );
    // A proper signature but a jti the token table never issued.
    let mut unknown = claims.clone();
    unknown["jti"] = json!(uuid::Uuid::now_v7());
    let unknown_jti = sign(
        Header::new(Algorithm::HS256),
        &unknown,
        JWT_SECRET.as_bytes(),
    );
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("someone-else");
    let wrong_iss = sign(
        Header::new(Algorithm::HS256),
        &wrong_iss,
        JWT_SECRET.as_bytes(),
    );
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let no_exp = sign(
        Header::new(Algorithm::HS256),
        &no_exp,
        JWT_SECRET.as_bytes(),
    );
    // A token whose role no longer matches its record.
    let mut other_role = claims.clone();
    other_role["role"] = json!("admin");
    other_role["unit_id"] = Value::Null;
    let other_role = sign(
        Header::new(Algorithm::HS256),
        &other_role,
        JWT_SECRET.as_bytes(),
    );
    let expired = app
        .token_expiring(Role::Editor, Some(unit), Utc::now() - Duration::seconds(5))
        .await;

    for (what, token) in [
        ("tampered", tampered.as_str()),
        ("alg none", none.as_str()),
        ("HS512", hs512.as_str()),
        ("other key", other_key.as_str()),
        ("unknown jti", unknown_jti.as_str()),
        ("wrong iss", wrong_iss.as_str()),
        ("no exp", no_exp.as_str()),
        ("role not on record", other_role.as_str()),
        ("expired", expired.as_str()),
        ("garbage", "a.b.c"),
        ("empty", ""),
    ] {
        let res = app
            .get("/api/v1/auth/me")
            .header("Authorization", &format!("Bearer {token}"))
            .send()
            .await;
        res.problem(401);
        let challenge = res.header("www-authenticate").unwrap_or_default();
        assert!(challenge.contains("Bearer"), "{what}: {challenge}");
        // Writes too.
        let res = app
            .post("/api/v1/units")
            .header("Authorization", &format!("Bearer {token}"))
            .json(json!({"name": format!("单位-{what}"), "kind": "other"}))
            .send()
            .await;
        assert_eq!(res.status, 401, "{what}");
    }
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Token abc", &editor] {
        let res = app
            .get("/api/v1/auth/me")
            .header("Authorization", header)
            .send()
            .await;
        res.problem(401);
        assert!(
            res.header("www-authenticate")
                .unwrap()
                .contains("invalid_token"),
            "{header}"
        );
    }
    // The genuine token still works.
    assert_eq!(
        app.get("/api/v1/auth/me")
            .bearer(&editor)
            .send()
            .await
            .status,
        200
    );
}
