//! Downloads of exports: `GET /exports/{id}` with an API key of the job's workspace streams its
//! file, read from one snapshot as the client takes it (see `service::export`).

use std::sync::Arc;

use async_graphql::ID;
use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use entity::enums::ExportFormat;
use futures_util::stream;
use tokio::sync::Semaphore;

use super::{
    api_keys::{authenticate, bearer},
    media::request_error,
    state::AppState,
};
use crate::{
    errors::Code,
    graphql::schema::ids::{self, Kind},
    service::{export, now, scope::on},
};

/// Downloads served at once by one instance; each holds a database connection while it streams.
pub const MAX_DOWNLOADS: usize = 4;

/// The permits of [`MAX_DOWNLOADS`].
pub(super) fn downloads() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(MAX_DOWNLOADS))
}

/// `GET /exports/{id}`.
pub(super) async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let caller = match authenticate(&state, bearer(&headers)).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let not_found = || {
        request_error(
            StatusCode::NOT_FOUND,
            Code::DownloadNotFound,
            "no export of this workspace has this id",
        )
    };
    let Some(id) = ids::lookup(&ID(id), Kind::ExportJob) else {
        return not_found();
    };
    let job = match export::find(&on(&state.db, caller.workspace), id).await {
        Ok(Some(job)) => job,
        Ok(None) => return not_found(),
        Err(error) => {
            tracing::error!(error = %error, "export lookup failed");
            return unavailable("the service is unavailable; try again shortly");
        }
    };
    if export::expired(&job, now()) {
        return request_error(
            StatusCode::GONE,
            Code::DownloadExpired,
            "this export has expired; make a new one",
        );
    }
    let Ok(permit) = state.downloads.clone().try_acquire_owned() else {
        return unavailable("too many downloads are running; try again shortly");
    };
    let chunks = export::stream(state.db.clone(), caller.workspace, &job);
    // The permit goes with the body: it is given back when the download ends or the client
    // leaves.
    let body = stream::unfold((chunks, permit), |(mut chunks, permit)| async move {
        let item = chunks.recv().await?.map(|chunk| chunk.bytes).map_err(|_| {
            // The client sees the transfer cut short; the fault is in the log.
            std::io::Error::other("the export failed")
        });
        Some((item, (chunks, permit)))
    });
    let media = match job.format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Jsonl => "application/jsonl; charset=utf-8",
    };
    let disposition = format!("attachment; filename=\"{}\"", export::file_name(&job));
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 503 with a hint to come back in a few seconds.
fn unavailable(message: &str) -> Response {
    let mut response = request_error(
        StatusCode::SERVICE_UNAVAILABLE,
        Code::ServiceUnavailable,
        message,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}
