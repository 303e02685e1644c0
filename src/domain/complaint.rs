//! The fixed complaint vocabularies of the contract: severity, fault and channel.

use super::FieldError;

macro_rules! closed_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        // `ToSchema` only documents the closed set in the OpenAPI document; requests carry
        // these as strings and are parsed by `parse` (for the field-naming messages).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the contract's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Position in `ALL`, used for bit masks in compiled rules.
            pub fn index(self) -> usize {
                self as usize
            }

            /// Parse the wire spelling, naming `field` and the allowed values on failure.
            pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(FieldError::new(field, format!(
                        "expected one of {}, got `{}`",
                        [$($text),+].join(", "),
                        crate::money::truncate(other)
                    ))),
                }
            }
        }
    };
}

closed_enum!(
    /// How bad the complaint is; rising order matters (`min_severity`).
    Severity { Low => "low", Medium => "medium", High => "high", Critical => "critical" }
);
closed_enum!(
    /// Whose fault the problem was.
    Fault { Ours => "ours", Partner => "partner", Customer => "customer", Unclear => "unclear" }
);
closed_enum!(
    /// Where the complaint came in.
    Channel {
        Email => "email", Chat => "chat", Phone => "phone", Social => "social",
        Web => "web", InPerson => "in_person",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_name_the_field_and_the_allowed_values() {
        let e = Severity::parse("complaint.severity", "urgent").unwrap_err();
        assert_eq!(
            e.to_string(),
            "complaint.severity: expected one of low, medium, high, critical, got `urgent`"
        );
        assert_eq!(Channel::parse("c", "in_person").unwrap(), Channel::InPerson);
        assert!(Severity::High > Severity::Medium);
    }
}
