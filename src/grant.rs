//! The token endpoint's grants: client credentials for both seed endpoints,
//! and the authorization code and refresh token grants of the user flows.
//! Builds the request and reads the answer, success or failure, into a token
//! or a problem.

use serde_json::{Map, Value};
use ureq::Agent;
use zeroize::Zeroizing;

use crate::assertion::ASSERTION_TYPE;
use crate::config::{BodyFormat, ClientAuth, Config, Shape};
use crate::http::{self, Answer, Body, Failed};
use crate::problem::{Problem, ProblemKind, Redaction};
use crate::retry::{Deadline, Retry};
use crate::secret::basic_credential;
use crate::token::Token;

/// `grant_type` of the device flow's polls (RFC 8628 3.4).
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What to trade for a token at the token endpoint.
#[derive(Clone, Copy)]
pub enum GrantRequest<'a> {
    /// The client's own credentials (RFC 6749 §4.4).
    ClientCredentials,
    /// A code from the authorization redirect (§4.1.3), with its PKCE verifier.
    AuthorizationCode {
        code: &'a str,
        redirect_uri: &'a str,
        code_verifier: Option<&'a str>,
    },
    /// A refresh token (§6).
    RefreshToken { refresh_token: &'a str },
    /// The device code of an approved device flow (RFC 8628 3.4).
    DeviceCode { device_code: &'a str },
    /// Not a grant: the device authorization request itself (RFC 8628
    /// 3.1), with the client's authentication, `audience` and `scope`.
    DeviceAuthorization,
}

impl GrantRequest<'_> {
    fn grant_type(&self) -> Option<&'static str> {
        Some(match self {
            GrantRequest::ClientCredentials => "client_credentials",
            GrantRequest::AuthorizationCode { .. } => "authorization_code",
            GrantRequest::RefreshToken { .. } => "refresh_token",
            GrantRequest::DeviceCode { .. } => DEVICE_CODE_GRANT,
            GrantRequest::DeviceAuthorization => return None,
        })
    }

    /// The one-time values on the wire, which no problem may show either.
    fn secrets(&self) -> Vec<&str> {
        match *self {
            GrantRequest::ClientCredentials | GrantRequest::DeviceAuthorization => vec![],
            GrantRequest::DeviceCode { device_code } => vec![device_code],
            GrantRequest::AuthorizationCode {
                code,
                code_verifier,
                ..
            } => [Some(code), code_verifier].into_iter().flatten().collect(),
            GrantRequest::RefreshToken { refresh_token } => vec![refresh_token],
        }
    }
}

/// Requests a new token, retrying a throttled, failing or cut-off attempt
/// while `deadline` allows (see [`crate::retry`]). A failure carries the
/// last attempt's verdict, so the caller can honour a `Retry-After`; its
/// problem shows none of the request's secrets.
pub fn fetch(
    agent: &Agent,
    config: &Config,
    grant: GrantRequest<'_>,
    deadline: Deadline,
) -> Result<Token, Failed> {
    // A code, or a refresh token the server rotates, is good for one
    // exchange: after a lost answer or a failure halfway a second try could
    // only be refused. Only answers saying the request was not taken (429,
    // 503) are retried for them.
    let single_use = !matches!(grant, GrantRequest::ClientCredentials);
    // A device flow's poll is made again by its loop, at its interval.
    let polled = matches!(grant, GrantRequest::DeviceCode { .. });
    let mut attempts = 1;
    let mut failed = loop {
        // Built anew for every attempt: a client assertion is good for one.
        let (authorization, body, redaction) =
            request(config, grant).map_err(|problem| Failed {
                problem,
                retry: Retry::Never,
            })?;
        let authorization = authorization.as_deref().map(|header| header.as_str());
        let failed = match http::post(agent, config, deadline, authorization, &body, &redaction) {
            Ok(answer) => {
                let status = answer.status;
                let mut retry = Retry::for_status(status, answer.retry_after);
                if polled || single_use && !matches!(status, 429 | 503) {
                    retry = Retry::Never;
                }
                match read_answer(config, &redaction, answer) {
                    Ok(token) => return Ok(token),
                    Err(problem) => Failed { problem, retry },
                }
            }
            Err(failed) if single_use => Failed {
                retry: Retry::Never,
                ..failed
            },
            Err(failed) => failed,
        };
        match failed.retry.wait(attempts - 1, deadline) {
            Some(wait) if attempts <= config.retries => std::thread::sleep(wait),
            _ => break failed,
        }
        attempts += 1;
    };
    if attempts > 1 {
        failed.problem = failed.problem.with_extension("attempts", attempts);
    }
    Err(failed)
}

/// The device authorization request (RFC 8628 3.1), once: the endpoint's
/// JSON object, or its error as a problem.
pub fn device_authorization(
    agent: &Agent,
    config: &Config,
    deadline: Deadline,
) -> Result<Map<String, Value>, Problem> {
    let url = &config.device_authorization_url;
    let (authorization, body, redaction) = request(config, GrantRequest::DeviceAuthorization)?;
    let authorization = authorization.as_deref().map(|header| header.as_str());
    let answer = http::post_to(
        agent,
        config,
        url,
        deadline,
        authorization,
        &body,
        &redaction,
    )
    .map_err(|failed| failed.problem)?;
    let instance = http::endpoint_for_display(url);
    match answer.status {
        200..=299 => match serde_json::from_slice(&answer.body) {
            Ok(Value::Object(members)) => Ok(members),
            _ => Err(Problem::new(
                ProblemKind::InvalidResponse,
                "the device authorization endpoint answered no JSON object",
            )
            .with_instance(instance)),
        },
        status => Err(error_answer(&answer, status, instance, &redaction)),
    }
}

/// The secrets of the configuration and of the grant, to scrub from what
/// the endpoint or the HTTP stack says about the request.
fn redaction(config: &Config, grant: GrantRequest<'_>) -> Redaction {
    let mut redaction = config.redaction();
    for secret in grant.secrets() {
        redaction.add(secret);
    }
    redaction
}

/// The request's Basic credential (if any), its body, and what to scrub
/// from what the server or the HTTP stack says about it (the client
/// assertion in it too).
type Request = (Option<Zeroizing<String>>, Body, Redaction);

fn request(config: &Config, grant: GrantRequest<'_>) -> Result<Request, Problem> {
    let (id_key, secret_key, audience_key) = match config.shape {
        Shape::Auth0 => ("client_id", "client_secret", "audience"),
        Shape::Cobuilder => ("clientId", "clientSecret", "audienceUrl"),
    };
    let mut fields: Vec<(&str, &str)> = Vec::with_capacity(8);
    if config.shape == Shape::Auth0
        && let Some(grant_type) = grant.grant_type()
    {
        fields.push(("grant_type", grant_type));
    }
    let secret = config.client_secret.as_ref().map(|secret| secret.expose());
    let assertion = match &config.signing_key {
        Some(key) => Some(key.assertion(&config.client_id, &config.assertion_audience())?),
        None => None,
    };
    if let Some(assertion) = &assertion {
        fields.push(("client_assertion_type", ASSERTION_TYPE));
        fields.push(("client_assertion", assertion));
    }
    let authorization = match (config.client_auth, secret) {
        (ClientAuth::SecretBasic, Some(secret)) => {
            Some(basic_credential(&config.client_id, secret))
        }
        (_, secret) => {
            fields.push((id_key, &config.client_id));
            if let Some(secret) = secret {
                fields.push((secret_key, secret));
            }
            None
        }
    };
    match grant {
        GrantRequest::ClientCredentials | GrantRequest::DeviceAuthorization => {
            if let Some(audience) = &config.audience {
                fields.push((audience_key, audience));
            }
            if let Some(scope) = &config.scope {
                fields.push(("scope", scope));
            }
        }
        GrantRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            fields.push(("code", code));
            fields.push(("redirect_uri", redirect_uri));
            if let Some(verifier) = code_verifier {
                fields.push(("code_verifier", verifier));
            }
        }
        GrantRequest::RefreshToken { refresh_token } => {
            fields.push(("refresh_token", refresh_token));
        }
        GrantRequest::DeviceCode { device_code } => {
            fields.push(("device_code", device_code));
        }
    }
    // The user-flow grants are form-encoded, as RFC 6749 and the seed page say.
    let format = match grant {
        GrantRequest::ClientCredentials => config.body,
        _ => BodyFormat::Form,
    };

    let body = match format {
        BodyFormat::Json => {
            let mut object = Map::new();
            for (name, value) in fields {
                object.insert(name.into(), value.into());
            }
            object.extend(config.extra_params.clone());
            Body {
                content_type: "application/json",
                bytes: Zeroizing::new(Value::Object(object).to_string().into_bytes()),
            }
        }
        BodyFormat::Form => {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.extend_pairs(fields);
            for (name, value) in &config.extra_params {
                match value {
                    Value::String(text) => form.append_pair(name, text),
                    other => form.append_pair(name, &other.to_string()),
                };
            }
            Body {
                content_type: "application/x-www-form-urlencoded",
                bytes: Zeroizing::new(form.finish().into_bytes()),
            }
        }
    };
    let mut redaction = redaction(config, grant);
    if let Some(assertion) = &assertion {
        redaction.add_exact(assertion);
    }
    Ok((authorization, body, redaction))
}

/// Reads the endpoint's answer; what it says is scrubbed with `redaction`.
pub(crate) fn read_answer(
    config: &Config,
    redaction: &Redaction,
    answer: Answer,
) -> Result<Token, Problem> {
    let instance = http::endpoint_for_display(&config.token_url);
    match answer.status {
        200..=299 => Token::from_answer(&answer.body, answer.date)
            .map_err(|problem| problem.with_instance(instance)),
        300..=399 => Err(Problem::new(
            ProblemKind::Redirected,
            format!(
                "the token endpoint answered {} and a redirect is never followed with credentials{}",
                answer.status,
                answer
                    .location
                    .as_deref()
                    .map(|to| format!(" (to {})", redaction.text(&http::endpoint_for_display(to))))
                    .unwrap_or_default()
            ),
        )
        .with_instance(instance)
        .with_extension("upstream_status", answer.status)),
        status => Err(error_answer(&answer, status, instance, redaction)),
    }
}

/// Maps a 4xx/5xx answer: RFC 7807/9457 problem details pass through as the
/// server sent them; OAuth errors (RFC 6749 §5.2) get a bearer type with the
/// OAuth members kept in `extensions`; anything else is an upstream error.
fn error_answer(answer: &Answer, status: u16, instance: String, redaction: &Redaction) -> Problem {
    let parsed = match serde_json::from_slice(&answer.body) {
        Ok(Value::Object(mut members)) => {
            redaction.object(&mut members);
            Some(members)
        }
        _ => None,
    };
    if let Some(members) = &parsed
        && is_problem_details(&answer.content_type, members)
    {
        return Problem::passthrough(members.clone(), status);
    }
    let oauth_error = parsed.as_ref().and_then(|members| {
        let error = members.get("error")?.as_str()?;
        Some((error, members))
    });

    let kind = match status {
        // Auth0 answers a bad code, verifier or refresh token with 403.
        400 | 403 if oauth_error.is_some_and(|(error, _)| error == "invalid_grant") => {
            ProblemKind::InvalidGrant
        }
        401 => ProblemKind::Unauthorized,
        403 => ProblemKind::Forbidden,
        429 => ProblemKind::RateLimited,
        400..=499 => ProblemKind::InvalidRequest,
        _ => ProblemKind::UpstreamError,
    };
    let detail = match oauth_error {
        Some((error, members)) => members
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or(error)
            .to_owned(),
        None => format!(
            "the token endpoint answered {status}{}",
            describe_body(&redaction.text(&answer.content_type), &answer.body)
        ),
    };
    let mut problem = Problem::new(kind, detail)
        .with_instance(instance)
        .with_extension("upstream_status", status);
    // Client errors keep the endpoint's status; a failing endpoint is our 502.
    if kind != ProblemKind::UpstreamError {
        problem = problem.with_status(status);
    }
    if let Some((error, members)) = oauth_error {
        problem = problem.with_extension("error", error);
        for member in ["error_description", "error_uri"] {
            if let Some(value) = members.get(member) {
                problem = problem.with_extension(member, value.clone());
            }
        }
    }
    if let Some(seconds) = answer.retry_after {
        problem = problem.with_extension("retry_after", seconds);
    }
    problem
}

fn is_problem_details(content_type: &str, members: &Map<String, Value>) -> bool {
    content_type.starts_with("application/problem+json")
        || (members.contains_key("title")
            && (members.contains_key("type") || members.contains_key("status")))
}

/// A short, printable hint of what an unexpected error body was.
fn describe_body(content_type: &str, body: &[u8]) -> String {
    if body.is_empty() {
        return " with an empty body".into();
    }
    let kind = content_type.split(';').next().unwrap_or_default().trim();
    // A media type is visible ASCII; anything else is not shown (a control
    // character's JSON escape could join the text after it into a secret).
    if kind.is_empty() || !kind.bytes().all(|byte| byte.is_ascii_graphic()) {
        format!(" with a {}-byte body", body.len())
    } else {
        format!(" with a {}-byte {kind} body", body.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auth0_json_body_carries_what_the_seed_curl_sends() {
        let config = Config::from_json(
            r#"{"client_id":"id","client_secret":"s","audience":"https://beeapp.open-cosmos.com","grant_type":"client_credentials","extra_params":{"organization":"org_1"}}"#,
        )
        .unwrap();
        let (authorization, body, _) = request(&config, GrantRequest::ClientCredentials).unwrap();
        assert!(authorization.is_none());
        assert_eq!(body.content_type, "application/json");
        assert_eq!(
            std::str::from_utf8(&body.bytes).unwrap(),
            r#"{"grant_type":"client_credentials","client_id":"id","client_secret":"s","audience":"https://beeapp.open-cosmos.com","organization":"org_1"}"#
        );
    }

    #[test]
    fn basic_auth_keeps_the_secret_out_of_the_form_body() {
        let config = Config::from_json(
            r#"{"client_id":"id","client_secret":"s&x","body":"form","client_auth":"client_secret_basic","scope":"a b"}"#,
        )
        .unwrap();
        let (authorization, body, _) = request(&config, GrantRequest::ClientCredentials).unwrap();
        assert_eq!(
            authorization.as_deref().map(String::as_str),
            Some(basic_credential("id", "s&x").as_str())
        );
        assert_eq!(
            std::str::from_utf8(&body.bytes).unwrap(),
            "grant_type=client_credentials&scope=a+b"
        );
    }
}
