//! Arbitrary callback URLs against fixed authorization requests, code and
//! implicit, through the checks of `authorize::complete` up to (not into)
//! the code exchange.
#![no_main]

use bearer::fuzzing::Callback;
use bearer::{AuthorizationRequest, Config, ProblemKind};
use libfuzzer_sys::fuzz_target;

mod common;

const CONFIG: &str = r#"{"client_id":"fuzz-app","grant_type":"authorization_code","redirect_uri":"http://127.0.0.1:8765/callback","authorize_url":"http://127.0.0.1:9/authorize","token_url":"http://127.0.0.1:9/oauth/token"}"#;
/// The same client with an issuer: a callback's `iss` must name it (RFC 9207).
const CONFIG_WITH_ISSUER: &str = r#"{"client_id":"fuzz-app","grant_type":"authorization_code","redirect_uri":"http://127.0.0.1:8765/callback","issuer":"https://issuer.fuzz.example/","authorize_url":"http://127.0.0.1:9/authorize","token_url":"http://127.0.0.1:9/oauth/token"}"#;
const REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";
const STATE: &str = "fuzzState4Jq8Zr2Lm6Tw0Xc3Vb7Nd1Pf5Hg9";
const CODE_REQUEST: &str = r#"{"url":"http://127.0.0.1:9/authorize?response_type=code","response_type":"code","redirect_uri":"http://127.0.0.1:8765/callback","state":"fuzzState4Jq8Zr2Lm6Tw0Xc3Vb7Nd1Pf5Hg9","code_verifier":"fuzzVerifier8Hs3Kd7Lq2Wm6Xn1Zp5Rt9Vb4Cj0Fg3Yu","nonce":"fuzzNonce5Tq9Wz2Ls"}"#;
const IMPLICIT_REQUEST: &str = r#"{"url":"http://127.0.0.1:9/authorize?response_type=token","response_type":"token","redirect_uri":"http://127.0.0.1:8765/callback","state":"fuzzState4Jq8Zr2Lm6Tw0Xc3Vb7Nd1Pf5Hg9","nonce":"fuzzNonce5Tq9Wz2Ls"}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    let configs = [CONFIG, CONFIG_WITH_ISSUER]
        .map(|text| Config::from_json(text).expect("the fixed configuration is valid"));
    let requests = [(CODE_REQUEST, false), (IMPLICIT_REQUEST, true)];
    for (config, (text, implicit)) in configs
        .iter()
        .flat_map(|config| requests.iter().map(move |request| (config, *request)))
    {
        let request = AuthorizationRequest::from_json(text).expect("the fixed request is valid");
        let verifier = request
            .code_verifier
            .as_ref()
            .map(|v| v.expose().to_owned());
        match bearer::fuzzing::read_callback(config, &request, url) {
            Ok(outcome) => {
                // Only a redirect to this request's URI, carrying its state, gets through.
                assert!(url.starts_with(REDIRECT_URI));
                assert!(url.contains("state="));
                match outcome {
                    Callback::Code(_) => assert!(!implicit),
                    Callback::Token(token) => {
                        assert!(implicit);
                        common::check_token(&token);
                    }
                }
            }
            Err(problem) => {
                assert!(
                    matches!(
                        problem.kind(),
                        ProblemKind::InvalidCallback
                            | ProblemKind::AuthorizationDenied
                            | ProblemKind::InvalidResponse
                    ),
                    "{:?}",
                    problem.kind()
                );
                // The state of the request is shown only when the URL carried it.
                let mut secrets = verifier.as_deref().into_iter().collect::<Vec<_>>();
                if !url.contains(STATE) {
                    secrets.push(STATE);
                }
                common::check_problem(&problem, &secrets);
            }
        }
    }
});
