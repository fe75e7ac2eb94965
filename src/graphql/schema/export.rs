//! Exports: `exportInfluencers` makes a job whose `url` streams the file, and `exportJob` reads
//! one back. The download itself is served by `http::exports`.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::export_job;

use super::{
    context::scope,
    enums::{ExportFormat, JobStatus},
    errors::{UserError, internal},
    ids::{self, Kind},
    mutation::{Decoded, mutate, refused},
    scalars::DateTime,
};
use crate::service::{
    InputError,
    export::{self, ExportScope},
    now,
};

/// An export job (fields below).
#[derive(Clone)]
pub struct ExportJob(pub export_job::Model);

/// An export of influencers. The file is never stored: each download of `url` streams the
/// influencers in the scope as they are when it starts, from one consistent snapshot.
#[Object]
impl ExportJob {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::ExportJob, self.0.id)
    }

    /// Always SUCCEEDED: the job is ready to download as soon as it is made.
    async fn status(&self) -> JobStatus {
        JobStatus::Succeeded
    }

    /// The file's format.
    async fn format(&self) -> ExportFormat {
        self.0.format.into()
    }

    /// The influencers in the scope when the job was made. A download streams those there are
    /// when it starts, so it can differ if the roster changed in between.
    async fn row_count(&self) -> i32 {
        i32::try_from(self.0.row_count).unwrap_or(i32::MAX)
    }

    /// Where to download the file: a path on this server, to resolve against the GraphQL
    /// endpoint's URL, fetched with GET and the same API key (`Authorization: Bearer <key>`).
    /// Null once the job has expired.
    async fn url(&self) -> Option<String> {
        (!export::expired(&self.0, now())).then(|| path(&self.0))
    }

    /// When the download stops being served (24 hours after the job was made).
    async fn expires_at(&self) -> DateTime {
        self.0.expires_at.into()
    }

    /// When the job was made.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// The download path of a job.
pub fn path(job: &export_job::Model) -> String {
    format!("/exports/{}", ids::encode(Kind::ExportJob, job.id).0)
}

/// The export job with this id, when the workspace has it.
pub async fn load_export(ctx: &Context<'_>, id: i64) -> Result<Option<ExportJob>> {
    Ok(export::find(scope(ctx)?, id)
        .await
        .map_err(internal)?
        .map(ExportJob))
}

#[derive(Default)]
pub struct ExportQuery;

#[Object]
impl ExportQuery {
    /// One export job by id; null when no job of this workspace has it.
    async fn export_job(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ExportJob>> {
        match ids::lookup(&id, Kind::ExportJob) {
            Some(id) => load_export(ctx, id).await,
            None => Ok(None),
        }
    }
}

/// What to export: at most one of `segmentId`, `unassigned` and `campaignRecipientsOf`; with
/// none, the whole roster.
#[derive(InputObject)]
pub struct ExportInfluencersInput {
    /// The file's format.
    pub format: ExportFormat,
    /// The members of this segment.
    pub segment_id: Option<ID>,
    /// True for the influencers in no segment (the Unassigned folder).
    pub unassigned: Option<bool>,
    /// The recipients of this campaign: the influencers in any of its audience segments.
    pub campaign_recipients_of: Option<ID>,
}

/// Result of `exportInfluencers`.
#[derive(SimpleObject, Default)]
pub struct ExportInfluencersPayload {
    /// The new job, ready to download.
    pub job: Option<ExportJob>,
    /// Why no job was made, if so.
    pub user_errors: Vec<UserError>,
}

refused!(ExportInfluencersPayload);

/// The scope asked for, with every problem of the input at once.
fn decoded_scope(input: &ExportInfluencersInput) -> Decoded<ExportScope> {
    let mut errors: Vec<InputError> = Vec::new();
    let mut decode = |id: &Option<ID>, kind, field| match id {
        Some(id) => ids::decode(id, kind, &["input", field])
            .map_err(|e| errors.push(e))
            .ok(),
        None => None,
    };
    let segment = decode(&input.segment_id, Kind::Segment, "segmentId");
    let campaign = decode(
        &input.campaign_recipients_of,
        Kind::Campaign,
        "campaignRecipientsOf",
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    ExportScope::from_input(segment, input.unassigned, campaign).map_err(|e| vec![e])
}

#[derive(Default)]
pub struct ExportMutation;

#[Object]
impl ExportMutation {
    /// Makes an export of the roster, a segment, the Unassigned folder or a campaign's
    /// recipients. The job is ready at once: GET its `url` to stream the file.
    async fn export_influencers(
        &self,
        ctx: &Context<'_>,
        input: ExportInfluencersInput,
    ) -> Result<ExportInfluencersPayload> {
        let format = input.format.into();
        mutate(
            ctx,
            decoded_scope(&input),
            async move |tx, what| export::create(tx, format, *what).await,
            async |job| {
                Ok(ExportInfluencersPayload {
                    job: Some(ExportJob(job)),
                    ..Default::default()
                })
            },
        )
        .await
    }
}
