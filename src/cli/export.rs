//! `segments-api export`: a workspace's influencers written to standard output, streamed from one
//! snapshot with the same code as the API's downloads.

use std::io::Write;

use anyhow::Context;
use entity::enums::ExportFormat;
use sea_orm::DatabaseConnection;

use super::progress::Progress;
use crate::service::{
    WorkspaceId,
    export::{self, ExportScope},
    reads::counts::count_now,
    scope::on,
};

/// Writes the influencers `what` of `ws` to `out` in `format`; returns how many there were.
pub async fn export(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    what: ExportScope,
    format: ExportFormat,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    // For the bar only: the file is read from its own snapshot, a moment later.
    let total = count_now(&on(db, ws), &what.set()).await?;
    let mut progress = Progress::new("exported", u64::try_from(total).unwrap_or(0));
    let mut chunks = export::stream_scope(db.clone(), ws, format, what);
    let mut rows = 0;
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk.context("the export failed")?;
        out.write_all(&chunk.bytes)
            .context("cannot write the export")?;
        rows += chunk.rows;
        progress.advance(chunk.rows);
    }
    out.flush().context("cannot write the export")?;
    progress.finish();
    Ok(rows)
}
