//! Exports: the whole roster, one segment's members, the Unassigned folder or one campaign's
//! recipients, written out as CSV or JSONL.
//!
//! An export job is a download ticket. The file is never stored: each download reads the rows
//! from one snapshot of the database (a read-only transaction, REPEATABLE READ on PostgreSQL; a
//! read transaction in WAL mode on SQLite), a thousand at a time in key order, and hands them on in
//! chunks through a channel of a few chunks. A slow client therefore holds back the reading
//! instead of making the server buffer the file, and one that goes away ends it.
//!
//! The columns are those an import reads (`handle,platform,displayName,email,niche,followerCount,
//! segments`), so an exported file edited in a spreadsheet imports back as it is.

use chrono::{DateTime, Duration, Utc};
use entity::{campaign, enums::ExportFormat, export_job, influencer, segment};
use sea_orm::{
    AccessMode, ActiveEnum, ActiveValue::Set, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IsolationLevel, TransactionTrait,
};
use tokio::sync::mpsc;

use super::{
    clock::now,
    errors::{InputError, InputErrorCode, ServiceResult},
    import::guard_cell,
    influencer_set::InfluencerSet,
    pagination::{Page, Take},
    reads::{self, by_id},
    scope::{Scoped, Tx, on},
    workspace::WorkspaceId,
};

/// How long a job's download stays available.
pub const LIFETIME: Duration = Duration::hours(24);

/// Influencers read per statement while streaming.
const BATCH: u64 = 1000;

/// Bytes gathered before a chunk is handed on.
const CHUNK_BYTES: usize = 64 * 1024;

/// Chunks waiting for the client at most: with `CHUNK_BYTES`, what one download can hold.
const CHUNKS_AHEAD: usize = 4;

/// The header of a CSV export, the columns an import reads.
pub const COLUMNS: [&str; 7] = [
    "handle",
    "platform",
    "displayName",
    "email",
    "niche",
    "followerCount",
    "segments",
];

/// Which influencers an export writes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportScope {
    /// The whole roster.
    Roster,
    /// The members of one segment.
    Segment(i64),
    /// The influencers in no segment.
    Unassigned,
    /// The recipients of one campaign.
    RecipientsOf(i64),
}

impl ExportScope {
    /// The scope asked for by the optional inputs at `input.<name>`: at most one may be given
    /// (an `unassigned` of false counts as not given), and none means the whole roster.
    pub fn from_input(
        segment: Option<i64>,
        unassigned: Option<bool>,
        campaign: Option<i64>,
    ) -> Result<Self, InputError> {
        let unassigned = unassigned.unwrap_or(false);
        match (segment, unassigned, campaign) {
            (None, false, None) => Ok(Self::Roster),
            (Some(id), false, None) => Ok(Self::Segment(id)),
            (None, true, None) => Ok(Self::Unassigned),
            (None, false, Some(id)) => Ok(Self::RecipientsOf(id)),
            _ => Err(InputError::new(
                InputErrorCode::Invalid,
                &["input"],
                "give at most one of segmentId, unassigned and campaignRecipientsOf",
            )),
        }
    }

    /// The scope a stored job names.
    pub fn of(job: &export_job::Model) -> Self {
        match (job.segment_id, job.unassigned, job.campaign_id) {
            (Some(id), _, _) => Self::Segment(id),
            (_, _, Some(id)) => Self::RecipientsOf(id),
            (None, true, None) => Self::Unassigned,
            (None, false, None) => Self::Roster,
        }
    }

    /// The influencers of this scope.
    pub fn set(self) -> InfluencerSet {
        match self {
            Self::Roster => InfluencerSet::Roster {
                search: None,
                filter: None,
            },
            Self::Segment(id) => InfluencerSet::InSegment(id),
            Self::Unassigned => InfluencerSet::Unassigned,
            Self::RecipientsOf(id) => InfluencerSet::RecipientsOf(id),
        }
    }
}

/// Records an export of `what` in `format`, after checking that the segment or campaign it names
/// is the workspace's. Its `row_count` is the influencers in the scope now.
pub async fn create(
    tx: &mut Tx<'_>,
    format: ExportFormat,
    what: ExportScope,
) -> ServiceResult<export_job::Model> {
    tx.changed_nothing();
    let absent = match what {
        ExportScope::Segment(id) => by_id::<segment::Entity, _>(tx, id)
            .await?
            .is_none()
            .then_some(("segmentId", "no segment has this id")),
        ExportScope::RecipientsOf(id) => by_id::<campaign::Entity, _>(tx, id)
            .await?
            .is_none()
            .then_some(("campaignRecipientsOf", "no campaign has this id")),
        ExportScope::Roster | ExportScope::Unassigned => None,
    };
    if let Some((field, message)) = absent {
        return Err(InputError::new(InputErrorCode::NotFound, &["input", field], message).into());
    }
    let row_count = reads::counts::count_now(tx, &what.set()).await?;
    let created_at = now();
    let job = export_job::ActiveModel {
        format: Set(format),
        segment_id: Set(match what {
            ExportScope::Segment(id) => Some(id),
            _ => None,
        }),
        campaign_id: Set(match what {
            ExportScope::RecipientsOf(id) => Some(id),
            _ => None,
        }),
        unassigned: Set(what == ExportScope::Unassigned),
        row_count: Set(row_count),
        key_prefix: Set(tx.key().map(|key| key.prefix.clone())),
        created_at: Set(created_at),
        expires_at: Set(created_at + LIFETIME),
        ..Default::default()
    };
    Ok(export_job::Entity::insert(tx.owned(job))
        .exec_with_returning(tx.conn())
        .await?)
}

/// Whether a job's download has passed its time.
pub fn expired(job: &export_job::Model, at: DateTime<Utc>) -> bool {
    job.expires_at <= at
}

/// A piece of an export's file, and how many influencers it holds.
#[derive(Debug)]
pub struct Chunk {
    pub bytes: Vec<u8>,
    pub rows: u64,
}

/// Streams the file of `job` (of workspace `ws`) from a snapshot taken now (see [`stream_scope`]).
pub fn stream(
    db: DatabaseConnection,
    ws: WorkspaceId,
    job: &export_job::Model,
) -> mpsc::Receiver<Result<Chunk, DbErr>> {
    stream_scope(db, ws, job.format, ExportScope::of(job))
}

/// Streams the influencers `what` of workspace `ws` in `format`, from a snapshot taken now. The
/// chunks arrive through the returned receiver; an `Err` ends them. Dropping the receiver stops
/// the reading.
pub fn stream_scope(
    db: DatabaseConnection,
    ws: WorkspaceId,
    format: ExportFormat,
    what: ExportScope,
) -> mpsc::Receiver<Result<Chunk, DbErr>> {
    let (sender, receiver) = mpsc::channel(CHUNKS_AHEAD);
    tokio::spawn(async move {
        if let Err(error) = write_out(&db, ws, format, what, &sender).await {
            tracing::error!(error = %error, "export failed");
            let _ = sender.send(Err(error)).await;
        }
    });
    receiver
}

/// A read-only transaction whose reads all see the database as it was at its first one.
async fn begin_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_config(
        Some(IsolationLevel::RepeatableRead),
        Some(AccessMode::ReadOnly),
    )
    .await
}

async fn write_out(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    format: ExportFormat,
    what: ExportScope,
    sender: &mpsc::Sender<Result<Chunk, DbErr>>,
) -> Result<(), DbErr> {
    let txn = begin_snapshot(db).await?;
    let s = on(&txn, ws);
    let set = what.set();
    let mut encoder = Encoder::new(format);
    let mut after = None;
    loop {
        let page = Page {
            after,
            before: None,
            take: Take::First(BATCH),
        };
        let mut pages = reads::influencer_pages(&s, &[(set.clone(), page)]).await?;
        let page = pages.pop().unwrap_or_default();
        let ids: Vec<i64> = page.items.iter().map(|i| i.id).collect();
        let mut memberships = reads::memberships_of_influencers(&s, &ids).await?;
        for influencer in &page.items {
            let segments = memberships.remove(&influencer.id).unwrap_or_default();
            encoder.row(influencer, segments.iter().map(|(_, s)| s.name.as_str()));
            if encoder.pending() >= CHUNK_BYTES && sender.send(Ok(encoder.take())).await.is_err() {
                // The client went away.
                return Ok(());
            }
        }
        match page.items.last() {
            Some(last) if page.has_next => after = Some(last.id),
            _ => break,
        }
    }
    txn.commit().await?;
    let _ = sender.send(Ok(encoder.take())).await;
    Ok(())
}

/// Writes influencers into a file's bytes, a chunk at a time.
struct Encoder {
    format: ExportFormat,
    csv: csv::Writer<Vec<u8>>,
    jsonl: Vec<u8>,
    rows: u64,
}

impl Encoder {
    fn new(format: ExportFormat) -> Self {
        let mut csv = csv::Writer::from_writer(Vec::with_capacity(CHUNK_BYTES * 2));
        if format == ExportFormat::Csv {
            // Writing into memory cannot fail.
            let _ = csv.write_record(COLUMNS);
        }
        Self {
            format,
            csv,
            jsonl: Vec::new(),
            rows: 0,
        }
    }

    fn row<'a>(&mut self, i: &influencer::Model, segments: impl Iterator<Item = &'a str>) {
        self.rows += 1;
        // The stored string is the API's name of the platform.
        let platform = i.platform.to_value();
        match self.format {
            ExportFormat::Csv => {
                let text = |value: Option<&str>| guard_cell(value.unwrap_or_default()).into_owned();
                let segments: Vec<&str> = segments.collect();
                let record = [
                    text(Some(&i.handle)),
                    platform.clone(),
                    text(i.display_name.as_deref()),
                    text(i.email.as_deref()),
                    text(i.niche.as_deref()),
                    i.follower_count.map(|n| n.to_string()).unwrap_or_default(),
                    text(Some(&segments.join(";"))),
                ];
                let _ = self.csv.write_record(&record);
            }
            ExportFormat::Jsonl => {
                let line = serde_json::json!({
                    "handle": i.handle,
                    "platform": platform,
                    "displayName": i.display_name,
                    "email": i.email,
                    "niche": i.niche,
                    "followerCount": i.follower_count,
                    "segments": segments.collect::<Vec<_>>(),
                });
                let _ = serde_json::to_writer(&mut self.jsonl, &line);
                self.jsonl.push(b'\n');
            }
        }
    }

    /// Bytes written and not yet taken.
    fn pending(&self) -> usize {
        self.csv.get_ref().len() + self.jsonl.len()
    }

    /// The bytes written since the last take, and their rows.
    fn take(&mut self) -> Chunk {
        let next = csv::Writer::from_writer(Vec::with_capacity(CHUNK_BYTES * 2));
        // Flushing into memory cannot fail.
        let mut bytes = std::mem::replace(&mut self.csv, next)
            .into_inner()
            .unwrap_or_default();
        bytes.append(&mut self.jsonl);
        Chunk {
            bytes,
            rows: std::mem::take(&mut self.rows),
        }
    }
}

/// Suggested file name of a job's download.
pub fn file_name(job: &export_job::Model) -> String {
    let extension = match job.format {
        ExportFormat::Csv => "csv",
        ExportFormat::Jsonl => "jsonl",
    };
    format!("influencers-{}.{extension}", job.id)
}

/// The job with this id, when the workspace has it.
pub async fn find<S: Scoped>(s: &S, id: i64) -> Result<Option<export_job::Model>, DbErr> {
    by_id::<export_job::Entity, _>(s, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_scope_is_given() {
        assert_eq!(
            ExportScope::from_input(None, None, None),
            Ok(ExportScope::Roster)
        );
        assert_eq!(
            ExportScope::from_input(None, Some(false), Some(3)),
            Ok(ExportScope::RecipientsOf(3))
        );
        assert_eq!(
            ExportScope::from_input(Some(1), Some(true), None)
                .unwrap_err()
                .code,
            InputErrorCode::Invalid
        );
        assert_eq!(
            ExportScope::from_input(Some(1), None, Some(2))
                .unwrap_err()
                .code,
            InputErrorCode::Invalid
        );
    }

    #[test]
    fn csv_cells_spreadsheets_would_run_are_guarded() {
        let model = influencer::Model {
            workspace_id: 1,
            id: 7,
            handle: "ana".into(),
            handle_key: "ana".into(),
            platform: entity::enums::Platform::Tiktok,
            display_name: Some("=HYPERLINK(\"http://x\")".into()),
            display_name_key: None,
            email: Some("+1@x.io".into()),
            niche: Some("@home, \"quoted\"".into()),
            niche_key: None,
            follower_count: Some(12),
            created_at: now(),
        };
        let mut encoder = Encoder::new(ExportFormat::Csv);
        encoder.row(&model, ["-vip", "Fitness"].into_iter());
        let chunk = encoder.take();
        assert_eq!(chunk.rows, 1);
        assert_eq!(
            String::from_utf8(chunk.bytes).unwrap(),
            "handle,platform,displayName,email,niche,followerCount,segments\n\
             ana,TIKTOK,\"'=HYPERLINK(\"\"http://x\"\")\",'+1@x.io,\"'@home, \"\"quoted\"\"\",12,'-vip;Fitness\n"
        );
    }
}
