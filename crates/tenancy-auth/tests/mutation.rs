//! Random byte mutations of a valid token never validate.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use common::*;
use proptest::prelude::*;
use tenancy_auth::Validator;

fn check_mutations(
    validator: &Validator,
    token: &str,
    edits: &[(usize, u8)],
) -> Result<(), TestCaseError> {
    let mut bytes = token.as_bytes().to_vec();
    for &(index, byte) in edits {
        let index = index % bytes.len();
        bytes[index] = byte;
    }
    prop_assume!(bytes != token.as_bytes());
    // Invalid UTF-8 cannot even reach the validator as a `&str`.
    if let Ok(mutated) = String::from_utf8(bytes) {
        prop_assert!(validator.verify(&mutated).is_err(), "{mutated}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn mutated_hs256_token_never_validates(
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4)
    ) {
        let v = validator();
        let token = hs256(&claims());
        prop_assert!(v.verify(&token).is_ok());
        check_mutations(&v, &token, &edits)?;
    }

    #[test]
    fn mutated_hs256_token_with_base64url_characters_never_validates(
        index in any::<usize>(),
        replacement in "[A-Za-z0-9_-]",
    ) {
        // Mutations that stay inside the alphabet reach the signature check.
        let v = validator();
        let token = hs256(&claims());
        let byte = replacement.as_bytes()[0];
        check_mutations(&v, &token, &[(index, byte)])?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn mutated_eddsa_token_never_validates(
        index in any::<usize>(),
        replacement in "[A-Za-z0-9_.-]",
    ) {
        let v = asymmetric_validator();
        let token = eddsa(&claims(), "ed");
        prop_assert!(v.verify(&token).is_ok());
        check_mutations(&v, &token, &[(index, replacement.as_bytes()[0])])?;
    }

    #[test]
    fn mutated_es256_token_never_validates(
        index in any::<usize>(),
        replacement in "[A-Za-z0-9_.-]",
    ) {
        let v = asymmetric_validator();
        let token = es256(&claims(), "ec");
        prop_assert!(v.verify(&token).is_ok());
        check_mutations(&v, &token, &[(index, replacement.as_bytes()[0])])?;
    }
}
