//! A private macro for enums that are spelled as fixed lowercase names.
//!
//! Each such enum gets `as_str`, `parse` (trimmed, ASCII case-insensitive,
//! with optional aliases), `ALL`, `Display`, `FromStr`, and serde support
//! that goes through `parse` and `as_str`, so the stored spelling and the
//! typed spelling can never drift apart.

/// Declares an enum whose variants are written as fixed names.
///
/// The syntax is `enum Name: "what it is" { Variant = "name" | "alias", ... }`.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $field:literal {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $text:literal $(| $alias:literal)*
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(try_from = "String", into = "String")]
        $vis enum $name {
            $(
                $(#[$variant_meta])*
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            /// The canonical name, as stored and displayed.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// Reads a name: surrounding whitespace is ignored and letters
            /// may be in either case.
            pub fn parse(raw: &str) -> Result<Self, $crate::DomainError> {
                let trimmed = raw.trim();
                $(
                    if trimmed.eq_ignore_ascii_case($text)
                        $(|| trimmed.eq_ignore_ascii_case($alias))*
                    {
                        return Ok(Self::$variant);
                    }
                )+
                Err($crate::DomainError::UnknownName {
                    field: $field,
                    value: $crate::error::shorten(trimmed),
                    expected: [$($text),+].join(", "),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::parse(raw)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::DomainError;

            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.as_str().to_owned()
            }
        }
    };
}
