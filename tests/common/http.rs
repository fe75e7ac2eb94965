//! The server over real HTTP, in process, with the test workspace's key.

use reqwest::{StatusCode, header};
use serde_json::Value;

use super::TestApp;

/// The media type of GraphQL over HTTP responses (request errors get 400 under it).
pub const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

pub struct Server {
    pub app: TestApp,
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn start() -> Self {
        let app = TestApp::spawn().await;
        let base = format!("http://{}", app.serve(&Default::default()).await);
        let key = app.api_key().await;
        Self {
            app,
            base,
            key,
            http: reqwest::Client::new(),
        }
    }

    /// POSTs `body` with this Accept header (none when `None`); returns status, content type and
    /// body.
    pub async fn post(&self, accept: Option<&str>, body: &Value) -> (StatusCode, String, Value) {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base))
            .bearer_auth(&self.key)
            .json(body);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        answer(request.send().await.unwrap()).await
    }

    /// GETs /graphql with these URL parameters.
    pub async fn get(&self, accept: &str, params: &[(&str, &str)]) -> (StatusCode, String, Value) {
        let response = self
            .http
            .get(format!("{}/graphql", self.base))
            .bearer_auth(&self.key)
            .header(header::ACCEPT, accept)
            .query(params)
            .send()
            .await
            .unwrap();
        answer(response).await
    }
}

pub async fn answer(response: reqwest::Response) -> (StatusCode, String, Value) {
    let status = response.status();
    let media = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, media, super::without_cost(body))
}
