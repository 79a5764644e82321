//! The shared machinery against a real socket (the CLAAS simulator as a plain OAuth server).

mod http;
mod oauth;
