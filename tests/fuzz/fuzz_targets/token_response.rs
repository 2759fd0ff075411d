//! Arbitrary token endpoint answers, read as the client credentials grant
//! reads them. The input is five lines (status, Content-Type, Location,
//! Retry-After seconds, Date as unix seconds; an empty line for an absent
//! header) and the body.
#![no_main]

use bearer::{Config, Token};
use libfuzzer_sys::fuzz_target;

mod common;

const AUTH0: &str = r#"{"client_id":"fuzz-client-id","client_secret":"fuzzAuth0Secret7Qm2xW9","audience":"https://beeapp.open-cosmos.com","grant_type":"client_credentials","token_url":"http://127.0.0.1:9/oauth/token"}"#;
const COBUILDER: &str = r#"{"clientId":"fuzz-cobuilder-id","clientSecret":"fuzzCobuilderSecret4Kp8","audienceUrl":"https://api.cobuilder.com","token_url":"http://127.0.0.1:9/authentication/api/v1/oauth2/token"}"#;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let mut line = || {
        let end = rest
            .iter()
            .position(|&byte| byte == b'\n')
            .unwrap_or(rest.len());
        let text = String::from_utf8_lossy(&rest[..end])
            .trim_end_matches('\r')
            .to_owned();
        rest = rest.get(end + 1..).unwrap_or_default();
        text
    };
    // What ureq hands over: a three-digit status.
    let status = match line().trim().parse::<u16>() {
        Ok(status @ 100..=999) => status,
        Ok(other) => 100 + other % 900,
        Err(_) => 200,
    };
    let content_type = line();
    let location = Some(line()).filter(|text| !text.is_empty());
    let retry_after = line().trim().parse::<u64>().ok();
    let date = line().trim().parse::<u64>().ok();
    let body = rest;

    let direct = Token::from_answer(body, date);
    match &direct {
        Ok(token) => common::check_token(token),
        Err(problem) => common::check_problem(problem, &[]),
    }

    for text in [AUTH0, COBUILDER] {
        let config = Config::from_json(text).expect("the fixed configuration is valid");
        let redaction = config.redaction();
        let needles: Vec<&str> = redaction.needles().collect();
        let read = bearer::fuzzing::read_token_answer(
            &config,
            status,
            &content_type,
            retry_after,
            date,
            location.as_deref(),
            body,
        );
        match &read {
            Ok(token) => common::check_token(token),
            Err(problem) => common::check_problem(problem, &needles),
        }
        // Only a 2xx is a token, and then exactly when the body reads as one.
        assert_eq!(
            read.is_ok(),
            (200..=299).contains(&status) && direct.is_ok()
        );
    }
});
