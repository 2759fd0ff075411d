//! Invariants every target checks on what the parsers return.
// Each target uses the checks for what it parses.
#![allow(dead_code)]

use bearer::{Problem, ProblemKind, Token};
use serde_json::Value;

/// A problem is one JSON object with the RFC 9457 members the bindings
/// read (`type` and `title` strings, a numeric `status`), and none of
/// `secrets` anywhere in it.
pub fn check_problem(problem: &Problem, secrets: &[&str]) {
    let json = problem.to_json();
    let Ok(Value::Object(members)) = serde_json::from_str::<Value>(&json) else {
        panic!("a problem's JSON is not an object: {json}");
    };
    for name in ["type", "title"] {
        assert!(
            members.get(name).is_some_and(Value::is_string),
            "a problem's {name} is not a string: {json}"
        );
    }
    assert!(
        members.get("status").is_some_and(Value::is_u64),
        "a problem's status is not a number: {json}"
    );
    for name in ["detail", "instance", "extensions"] {
        assert!(
            members.contains_key(name),
            "a problem has no {name}: {json}"
        );
    }
    if problem.kind() != ProblemKind::UpstreamProblem {
        assert_eq!(problem.type_uri(), problem.kind().type_uri(), "{json}");
        assert_eq!(problem.title(), problem.kind().title(), "{json}");
        assert!((400..=599).contains(&problem.status()), "{json}");
    }
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        assert!(
            !json.contains(secret),
            "a problem shows a secret ({} bytes)",
            secret.len()
        );
    }
}

/// A token's JSON is an object that carries it unchanged, and its header
/// is the scheme and the token.
pub fn check_token(token: &Token) {
    assert!(
        !token.access_token.is_empty()
            && token
                .access_token
                .bytes()
                .all(|byte| byte.is_ascii_graphic()),
        "an access token with characters a header cannot carry"
    );
    let json = token.to_json();
    let Ok(Value::Object(members)) = serde_json::from_str::<Value>(&json) else {
        panic!("a token's JSON is not an object");
    };
    assert_eq!(
        members.get("access_token").and_then(Value::as_str),
        Some(token.access_token.as_str())
    );
    assert_eq!(
        members.get("token_type").and_then(Value::as_str),
        Some(token.token_type.as_str())
    );
    let header = token.authorization_header();
    assert!(header.ends_with(&format!(" {}", token.access_token)));
}
