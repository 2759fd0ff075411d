//! bearer: OAuth 2.0 access tokens behind one cached call.
//!
//! It replaces the token snippets of the DataCosmos (Auth0) and Cobuilder
//! authentication pages: give it the credentials JSON as those pages write
//! it, get an access token back, cached until shortly before it expires, or
//! one RFC 9457 problem that says what went wrong and never shows a secret.
//!
//! ```no_run
//! let client = bearer::Client::from_json(
//!     &std::fs::read_to_string("data_cosmos_api_credentials.json").unwrap(),
//! )?;
//! let header = client.authorization_header()?; // "Bearer eyJ..."
//! # Ok::<(), bearer::Problem>(())
//! ```
//!
//! The C ABI is in [`ffi`]; its header is `include/bearer.h`.

pub mod assertion;
pub mod authorize;
pub mod cache;
pub mod cache_setting;
pub mod client;
pub mod clock;
pub mod config;
pub mod device;
pub mod discovery;
pub mod endpoint;
pub mod ffi;
pub mod fork;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod grant;
pub mod http;
pub mod identity;
#[cfg(feature = "local-server")]
pub mod local_server;
pub mod loopback;
pub mod problem;
pub mod retry;
pub mod secret;
pub mod shared;
pub mod token;

pub use authorize::{AuthorizationRequest, ResponseType};
pub use cache::{CacheKey, MemoryCache, TokenCache};
pub use client::{Client, Refusal, fetch_token, token_refused};
pub use config::Config;
pub use device::DeviceLogin;
pub use loopback::LoopbackLogin;
pub use problem::{Problem, ProblemKind};
pub use secret::Secret;
pub use token::Token;
