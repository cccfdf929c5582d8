//! Enumerations stored as `text` (with a CHECK constraint) and sent as snake_case strings.

/// Declares an enum whose JSON and database form is the given string.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        // The wire names are the variants in snake_case (utoipa reads this attribute, not
        // renames made of macro fragments); `check_wire_names` holds them to `as_str`.
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Panics unless serde's name of every variant is its `as_str` (for tests).
            pub fn check_wire_names() {
                for v in Self::ALL {
                    let json = serde_json::to_value(v).unwrap_or_default();
                    assert_eq!(json.as_str(), Some(v.as_str()), "{}::{v:?}", stringify!($name));
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown value `{s}`, expected one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = std::str::from_utf8(bytes.as_bytes())?;
                text.parse().map_err(Into::into)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_enum_sends_its_wire_name() {
        use crate::vocabulary::*;
        Role::check_wire_names();
        Entity::check_wire_names();
        CampaignStatus::check_wire_names();
        UnitKind::check_wire_names();
        TokenKind::check_wire_names();
        PartnerRole::check_wire_names();
        BodyKind::check_wire_names();
        CommitteeRole::check_wire_names();
        EventKind::check_wire_names();
        Status::check_wire_names();
        Visibility::check_wire_names();
        TrainingSubject::check_wire_names();
        Category::check_wire_names();
        Measure::check_wire_names();
        Source::check_wire_names();
        Medium::check_wire_names();
    }

    #[test]
    fn the_spec_lists_wire_names() {
        let doc: serde_json::Value =
            serde_json::from_str(crate::openapi::json()).unwrap_or_default();
        let kinds = &doc["components"]["schemas"]["UnitKind"]["enum"];
        assert_eq!(kinds[0], "government_department", "{kinds}");
        assert_eq!(doc["components"]["schemas"]["Role"]["enum"][0], "admin");
    }
}
