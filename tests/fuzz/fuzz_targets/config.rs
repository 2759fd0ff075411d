//! Arbitrary bytes as the credentials JSON: through `Config::from_json`, and
//! through the C ABI's reader (NUL-terminated, checked as UTF-8).
#![no_main]

use bearer::{Config, ProblemKind};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

mod common;

fuzz_target!(|data: &[u8]| {
    let from_c = bearer::fuzzing::config_from_c(data);
    let c_text = data.split(|&byte| byte == 0).next().unwrap_or_default();
    let Ok(text) = std::str::from_utf8(c_text) else {
        let problem = from_c.err().expect("invalid UTF-8 is refused");
        assert_eq!(problem.kind(), ProblemKind::InvalidArgument);
        common::check_problem(&problem, &[]);
        return;
    };
    let parsed = Config::from_json(text);
    // The C ABI reads the same text the same way.
    match (&parsed, &from_c) {
        (Ok(_), Ok(_)) => {}
        (Err(a), Err(b)) => assert_eq!(a.to_json(), b.to_json()),
        _ => panic!("the C ABI and Config::from_json disagree"),
    }

    let shown = |result: &Result<Config, bearer::Problem>| match result {
        Ok(config) => format!("{config:?}"),
        Err(problem) => problem.to_json(),
    };
    let output = shown(&parsed);
    for (key, secret) in unique_secrets(text) {
        // The same text with this secret replaced: what it shows regardless,
        // such as a default URL the secret happens to be part of.
        let mut swapped: Value = serde_json::from_str(text).expect("parsed before");
        swapped[key] = Value::from("X".repeat(secret.len()));
        let baseline = shown(&Config::from_json(&swapped.to_string()));
        if !baseline.contains(&secret) {
            assert!(!output.contains(&secret), "a secret is shown: {output}");
        }
    }
    match parsed {
        Ok(config) => {
            if config.client_secret.is_some() {
                assert!(!config.redaction().is_empty());
            }
        }
        Err(problem) => {
            assert!(
                matches!(
                    problem.kind(),
                    ProblemKind::InvalidConfig | ProblemKind::InsecureUrl
                ),
                "{:?}",
                problem.kind()
            );
            common::check_problem(&problem, &[]);
        }
    }
});

/// The secret-bearing values of the text, when long enough not to occur by
/// chance and in no other key or value (one equal to a secret may rightly
/// be named in a problem).
fn unique_secrets(text: &str) -> Vec<(&'static str, String)> {
    let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let mut strings = Vec::new();
    collect_strings(&value, &mut strings);
    ["client_secret", "clientSecret", "refresh_token", "proxy"]
        .iter()
        .filter_map(|key| Some((*key, value.get(key)?.as_str()?)))
        .filter(|(_, secret)| secret.len() >= 12)
        .filter(|(_, secret)| strings.iter().filter(|s| s.contains(*secret)).count() == 1)
        .map(|(key, secret)| (key, secret.to_owned()))
        .collect()
}

fn collect_strings<'a>(value: &'a Value, strings: &mut Vec<&'a str>) {
    match value {
        Value::String(text) => strings.push(text),
        Value::Array(items) => items.iter().for_each(|item| collect_strings(item, strings)),
        Value::Object(members) => {
            for (key, member) in members {
                strings.push(key);
                collect_strings(member, strings);
            }
        }
        _ => {}
    }
}
