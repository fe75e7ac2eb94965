//! Creating, renaming and deleting segments, and resolving a "segment reference" (an existing
//! segment or one to create on the spot) inside another operation's transaction.

use entity::{
    automation, campaign_audience, enums::SegmentKind, segment, segment_group_member,
    segment_membership,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, sea_query::Expr};

use super::{
    clock::now,
    errors::{InputError, InputErrorCode, ServiceResult, on_unique_violation},
    filter::FilterInput,
    journal::Actor,
    locks,
    membership_rows::delete_memberships,
    rule_lock,
    rule_references::{self, Named},
    scope::{Scoped, Tx},
    text::{Description, SegmentName},
};

/// A segment to create.
#[derive(Clone, Debug)]
pub struct NewSegment {
    pub name: String,
    pub description: Option<String>,
    /// The rule of a RULE segment (see [`rules::create`](super::rules::create)).
    pub rule: Option<Box<FilterInput>>,
}

/// Which segment an operation acts on: an existing one, or one it creates in the same transaction.
#[derive(Clone, Debug)]
pub enum SegmentTarget {
    Existing(i64),
    New(NewSegment),
}

/// A change to an optional field: leave it, clear it, or set it.
#[derive(Clone, Debug, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

fn field<'a>(prefix: &[&'a str], last: &'a str) -> Vec<&'a str> {
    let mut path = prefix.to_vec();
    path.push(last);
    path
}

fn name_taken(field: &[&str], name: &str) -> InputError {
    InputError::new(
        InputErrorCode::NameTaken,
        field,
        format!("a segment named \"{name}\" already exists"),
    )
}

/// The workspace's segment with this name (ignoring case, as names are unique).
pub async fn named<S: Scoped>(s: &S, name: &str) -> ServiceResult<Option<segment::Model>> {
    let name = SegmentName::parse(name, &["segment"])?;
    Ok(s.find::<segment::Entity>()
        .filter(segment::Column::NameKey.eq(name.key()))
        .one(s.conn())
        .await?)
}

/// Whether another segment of the workspace already has this name key.
async fn name_in_use<S: Scoped>(s: &S, key: &str, except: Option<i64>) -> ServiceResult<bool> {
    let mut query = s
        .find::<segment::Entity>()
        .filter(segment::Column::NameKey.eq(key));
    if let Some(id) = except {
        query = query.filter(segment::Column::Id.ne(id));
    }
    Ok(query.one(s.conn()).await?.is_some())
}

/// Checks a segment to create: its name and description, and that the name is free. `prefix`
/// is the path of the `CreateSegmentInput` in the request, so errors name the right field.
pub(crate) async fn check_new<S: Scoped>(
    s: &S,
    input: &NewSegment,
    prefix: &[&str],
) -> ServiceResult<(SegmentName, Option<Description>)> {
    let name_field = field(prefix, "name");
    let name = SegmentName::parse(&input.name, &name_field);
    let description =
        Description::parse(input.description.as_deref(), &field(prefix, "description"));
    let (name, description) = match (name, description) {
        (Ok(n), Ok(d)) => (n, d),
        (n, d) => {
            return Err(super::errors::ServiceError::Input(
                [n.err(), d.err()].into_iter().flatten().collect(),
            ));
        }
    };
    if name_in_use(s, &name.key(), None).await? {
        return Err(name_taken(&name_field, name.as_str()).into());
    }
    Ok((name, description))
}

/// Validates and inserts a MANUAL segment inside the caller's transaction (an operation that
/// makes its segment on the spot). A rule is refused there: a RULE segment is made by
/// `createSegment`, and filled by its rule, not by the operation.
pub(crate) async fn insert<S: Scoped>(
    s: &S,
    input: &NewSegment,
    prefix: &[&str],
) -> ServiceResult<segment::Model> {
    if input.rule.is_some() {
        return Err(InputError::new(
            InputErrorCode::Invalid,
            &field(prefix, "rule"),
            "a segment made inside another change cannot have a rule: create the RULE segment \
             with createSegment",
        )
        .into());
    }
    insert_as(s, input, prefix, SegmentKind::Manual, None).await
}

/// Validates and inserts a segment of `kind` (with its stored `rule`, for a RULE segment).
pub(crate) async fn insert_as<S: Scoped>(
    s: &S,
    input: &NewSegment,
    prefix: &[&str],
    kind: SegmentKind,
    rule: Option<String>,
) -> ServiceResult<segment::Model> {
    let (name, description) = check_new(s, input, prefix).await?;
    let name_field = field(prefix, "name");
    s.owned(segment::ActiveModel {
        name: Set(name.clone().into()),
        name_key: Set(name.key()),
        description: Set(description.map(Into::into)),
        created_at: Set(now()),
        kind: Set(kind),
        rule: Set(rule),
        ..Default::default()
    })
    .insert(s.conn())
    .await
    .map_err(|e| on_unique_violation(e, || name_taken(&name_field, name.as_str())))
}

/// Finds or creates the target segment inside the caller's transaction. `prefix` is the path of
/// the `SegmentRef` in the request. An existing segment stays locked against deletion until the
/// transaction ends, so what the caller makes refer to it cannot be left dangling.
pub(crate) async fn resolve<S: Scoped>(
    s: &S,
    target: &SegmentTarget,
    prefix: &[&str],
) -> ServiceResult<segment::Model> {
    match target {
        SegmentTarget::Existing(id) => {
            let segment = locks::referred::<segment::Entity, _>(s, *id)
                .await?
                .ok_or_else(|| not_found(&field(prefix, "id")))?;
            refuse_rule_segment(&segment, &field(prefix, "id"))?;
            Ok(segment)
        }
        SegmentTarget::New(new) => insert(s, new, &field(prefix, "create")).await,
    }
}

/// Refuses to put members in a RULE segment by hand (or by an automation), naming `field`: its
/// members are its rule's matches.
pub(crate) fn refuse_rule_segment(
    segment: &segment::Model,
    field: &[&str],
) -> Result<(), InputError> {
    if segment.kind == SegmentKind::Rule {
        return Err(InputError::new(
            InputErrorCode::Invalid,
            field,
            "the members of a RULE segment are its rule's matches: change the rule, or convert \
             the segment to MANUAL",
        ));
    }
    Ok(())
}

pub(crate) fn not_found(field: &[&str]) -> InputError {
    InputError::new(InputErrorCode::NotFound, field, "no segment has this id")
}

/// Creates a segment.
#[tracing::instrument(name = "segments::create", level = "debug", skip_all, fields(workspace = tx.workspace().0))]
pub async fn create(tx: &mut Tx<'_>, input: &NewSegment) -> ServiceResult<segment::Model> {
    insert(tx, input, &["input"]).await
}

/// Renames a segment and/or changes its description.
#[tracing::instrument(name = "segments::update", level = "debug", skip_all, fields(workspace = tx.workspace().0, segment = id))]
pub async fn update(
    tx: &mut Tx<'_>,
    id: i64,
    name: Option<String>,
    description: Patch<String>,
) -> ServiceResult<segment::Model> {
    let current = locks::changed::<segment::Entity, _>(tx, id)
        .await?
        .ok_or_else(|| not_found(&["input", "id"]))?;
    let mut errors = Vec::new();
    let mut change: segment::ActiveModel = current.clone().into();
    let mut new_name = None;
    if let Some(raw) = name {
        match SegmentName::parse(&raw, &["input", "name"]) {
            Ok(name) => {
                let key = name.key();
                if key != current.name_key && name_in_use(tx, &key, Some(id)).await? {
                    errors.push(name_taken(&["input", "name"], name.as_str()));
                }
                change.name = Set(name.clone().into());
                change.name_key = Set(key);
                new_name = Some(name);
            }
            Err(e) => errors.push(e),
        }
    }
    match description {
        Patch::Keep => {}
        Patch::Clear => change.description = Set(None),
        Patch::Set(raw) => match Description::parse(Some(&raw), &["input", "description"]) {
            Ok(d) => change.description = Set(d.map(Into::into)),
            Err(e) => errors.push(e),
        },
    }
    if !errors.is_empty() {
        return Err(super::errors::ServiceError::Input(errors));
    }
    change.update(tx.conn()).await.map_err(|e| {
        on_unique_violation(e, || {
            name_taken(
                &["input", "name"],
                new_name.as_ref().map_or("", SegmentName::as_str),
            )
        })
    })
}

/// Deletes a segment. Its members that belong to no other segment become Unassigned again;
/// automations that assigned to it are disabled and lose their target; campaigns drop it from
/// their audience.
#[tracing::instrument(name = "segments::delete", level = "debug", skip_all, fields(workspace = tx.workspace().0, segment = id))]
pub async fn delete(tx: &mut Tx<'_>, id: i64) -> ServiceResult<i64> {
    // A RULE segment's rule goes with it: the rules are locked before the segment, in the order
    // rule changes take them.
    rule_lock::lock_before_deleting(tx, id).await?;
    // Locked first: writes that put members in the segment, aim automations or audiences at it
    // either committed before (and what they made is deleted below) or find it gone.
    let deleted = locks::deleted::<segment::Entity, _>(tx, id)
        .await?
        .ok_or_else(|| not_found(&["input", "id"]))?;
    // The history records the memberships' end after the row is gone, under this name.
    tx.journal().segment_deleted(id, deleted.name);
    rule_references::refuse_deleting(tx, Named::Segment(id)).await?;
    // Explicit rather than left to ON DELETE actions, so the effect does not depend on SQLite's
    // foreign_keys pragma, and so subscribers hear of every membership that ends.
    delete_memberships(
        tx,
        sea_orm::Condition::all().add(segment_membership::Column::SegmentId.eq(id)),
        Actor::System,
    )
    .await?;
    tx.delete_many::<campaign_audience::Entity>()
        .filter(campaign_audience::Column::SegmentId.eq(id))
        .exec(tx.conn())
        .await?;
    // Out of its group (whose other segments keep their order).
    tx.delete_many::<segment_group_member::Entity>()
        .filter(segment_group_member::Column::SegmentId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.update_many::<automation::Entity>()
        .col_expr(
            automation::Column::SegmentId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(automation::Column::Enabled, Expr::value(false))
        .filter(automation::Column::SegmentId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<segment::Entity>()
        .filter(segment::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(id)
}
