//! RULE segments: segments whose members are their rule's matches, kept so by the server.
//!
//! - Creating a rule, or changing one, evaluates it over the whole roster in one set-based step
//!   (one `INSERT ... SELECT` of the matches that are not members, one `DELETE` of the members
//!   that no longer match).
//! - Every write that can change a match calls [`follow`] in its own transaction with what it
//!   changed and which influencers. Only the rules that can be affected are evaluated, and only
//!   for those influencers: an edit of an influencer's fields touches the rules with a condition
//!   whose verdict it changes (a count moved across the rule's bound, not within it); a
//!   membership change touches the rules naming that segment; an engagement, the rules with an
//!   engagement condition. A rule naming another RULE segment follows that segment's changes, in
//!   dependency order, at most [`MAX_CHAIN`] deep.
//! - Rolling windows (`withinDays`) are evaluated again by [`refresh_rolling`], which the server
//!   runs periodically.
//!
//! Rules and writes take turns through the workspace's rule lock ([`crate::service::rule_lock`]):
//! a write that follows rules shares it, a rule change holds it alone. Writes do not wait for
//! each other on it; two writes touching the same influencers do, on those influencers' rows
//! (`locks::changed_ids`), and a write of the whole roster holds the rules alone. SQLite runs
//! one writer at a time. The rules are compiled once per version and kept
//! ([`crate::service::rule_cache`]).
//!
//! A few influencers are evaluated by one read of which rules each matches, and only the pairs
//! that differ are written; the whole roster by one `INSERT ... SELECT` and one `DELETE` per
//! level. A write of one influencer's row first settles the rules its own fields decide (a count
//! under a rule's minimum, whatever else the rule asks; see
//! [`InfluencerFilter::decided_by_row`]) and reads only the others. Where the old row left a
//! rule undecided, its membership is written as the new row decides it without being read first
//! (adding does nothing when it exists, removing nothing when it does not).
//!
//! Pruning and settling take the memberships before a write to be what the rules said of the old
//! row. That holds for every rule without a rolling window: rules change alone, and writes of one
//! influencer take turns on its row. The periodic refresh shares the lock and evaluates the whole
//! roster: a write it overlaps may leave a rolling rule's member decided on the data before that
//! write, and a later edit that changes no condition of that rule leaves it so; the next refresh
//! corrects both (a rolling window is as current as its refresh anyway).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use entity::{
    enums::{MembershipSource, SegmentKind},
    influencer, segment, segment_membership,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr, UnionType},
};

use super::{
    clock::now,
    errors::{InputError, InputErrorCode, ServiceError, ServiceResult},
    filter::{self, FilterInput, InfluencerFilter},
    id_list::any_of,
    journal::Actor,
    locks,
    membership_rows::{delete_memberships, insert_and_delete, insert_rows, membership_rows},
    rule_lock::{RulesLock, count_rule_change, lock_rules},
    rule_references,
    scope::{Scoped, Tx},
    segments::{self, NewSegment},
};

/// The longest chain of rules naming RULE segments, the rule itself included.
pub const MAX_CHAIN: usize = 5;

/// Above this many influencers, a write's rules are evaluated over the whole roster (one
/// statement each way, whatever its size) rather than with the ids as a list.
const AS_LIST_AT_MOST: usize = 1000;

/// A RULE segment, its rule, and the segments the rule names (derived once, when read).
#[derive(Clone, Debug)]
struct RuleSegment {
    id: i64,
    filter: InfluencerFilter,
    named: BTreeSet<i64>,
}

impl RuleSegment {
    fn new(id: i64, filter: InfluencerFilter) -> Self {
        let named = filter.named_segments();
        Self { id, filter, named }
    }
}

/// What a write changed, for finding the rules it can affect.
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// One influencer's row was made or edited.
    pub row: Option<RowChange>,
    /// Influencers engaged.
    pub engaged: bool,
    /// Memberships of these segments began or ended.
    pub segments: Vec<i64>,
}

impl Change {
    /// Nothing a rule reads changed (an update of an email, or of nothing): the write then
    /// evaluates nothing, and takes no statement for the rules' lock (an update of one
    /// influencer holds it anyway, taken with its row: see `rule_lock::changed_following_rules`).
    fn is_nothing(&self) -> bool {
        self.row
            .as_ref()
            .is_none_or(RowChange::keeps_what_rules_read)
            && !self.engaged
            && self.segments.is_empty()
    }
}

/// One influencer's row as a write left it, and as it was before (`None` for a new one).
#[derive(Clone, Debug)]
pub struct RowChange {
    pub before: Option<influencer::Model>,
    pub after: influencer::Model,
}

impl RowChange {
    /// An edit that left every field a rule reads as it was.
    fn keeps_what_rules_read(&self) -> bool {
        self.before
            .as_ref()
            .is_some_and(|before| filter::read_the_same(before, &self.after))
    }

    /// The rule's verdict on the row before the write and after, where the row decides it
    /// ([`InfluencerFilter::decided_by_row`]). A new row was in no segment, as if every rule had
    /// said no.
    fn verdicts(&self, filter: &InfluencerFilter) -> (Option<bool>, Option<bool>) {
        let before = match &self.before {
            None => Some(false),
            Some(before) => filter.decided_by_row(before),
        };
        (before, filter.decided_by_row(&self.after))
    }

    /// Whether the write may change the rule's verdict on the row: one of its conditions on the
    /// row changed ([`InfluencerFilter::may_flip`]), and the row does not decide it the same
    /// before and after.
    fn may_change(&self, filter: &InfluencerFilter) -> bool {
        let flips = self
            .before
            .as_ref()
            .is_none_or(|before| filter.may_flip(before, &self.after));
        flips && !matches!(self.verdicts(filter), (Some(b), Some(a)) if a == b)
    }

    /// Sorts `rules` (of one level) into those the row decides, whose membership changes go to
    /// `differences`, and those left to the database, which it returns. The memberships of a
    /// rule the row decides the same before and after are as the rule says already.
    fn settle<'r>(
        &self,
        rules: &[&'r RuleSegment],
        differences: &mut Differences,
    ) -> Vec<&'r RuleSegment> {
        let id = self.after.id;
        let mut open = Vec::new();
        for rule in rules {
            match self.verdicts(&rule.filter) {
                (_, None) => open.push(*rule),
                (Some(before), Some(after)) if before == after => {}
                (_, Some(true)) => differences.added.push((rule.id, id)),
                (_, Some(false)) => {
                    differences.gone.entry(rule.id).or_default().insert(id);
                }
            }
        }
        open
    }
}

/// Which influencers an evaluation covers.
#[derive(Clone, Copy, Debug)]
pub enum Among<'a> {
    /// The whole roster.
    Everyone,
    /// These influencers; their rows are locked for the evaluation (see [`follow`]).
    These(&'a [i64]),
    /// These influencers, whose rows the write holds locked already (it updated or created
    /// them).
    Held(&'a [i64]),
}

impl Among<'_> {
    /// A list too long to send as ids is the whole roster: as correct, and one statement.
    fn bounded(self) -> Self {
        match self {
            Among::These(ids) | Among::Held(ids) if ids.len() > AS_LIST_AT_MOST => Among::Everyone,
            other => other,
        }
    }
}

/// A rule as it is stored: JSON of the filter as given (ids decoded).
fn encode(rule: &FilterInput) -> String {
    serde_json::to_string(rule).expect("a filter always serializes")
}

/// The stored rule of a RULE segment, checked again as when it was set.
fn stored(model: &segment::Model) -> Result<Option<(FilterInput, InfluencerFilter)>, DbErr> {
    model
        .rule
        .as_deref()
        .map(|text| parse_stored(model.id, text))
        .transpose()
}

/// A rule as stored for segment `id`, checked again as when it was set.
fn parse_stored(id: i64, text: &str) -> Result<(FilterInput, InfluencerFilter), DbErr> {
    let broken = |why: String| DbErr::Custom(format!("segment {id}: stored rule: {why}"));
    let input: FilterInput = serde_json::from_str(text).map_err(|e| broken(e.to_string()))?;
    let filter = filter::parse(input.clone(), &["rule"]).map_err(|e| broken(format!("{e:?}")))?;
    Ok((input, filter))
}

/// The stored rule of a segment as the filter input it was given as (for `Segment.rule`).
pub fn rule_of(model: &segment::Model) -> Result<Option<FilterInput>, DbErr> {
    Ok(stored(model)?.map(|(input, _)| input))
}

/// A workspace's rules as evaluated: each parsed, with its level. Compiled once per version of
/// the rules and kept (see [`crate::service::rule_cache`]).
struct Compiled {
    rules: Vec<RuleSegment>,
    levels: BTreeMap<i64, usize>,
}

impl Compiled {
    fn new(rules: Vec<RuleSegment>) -> Result<Self, DbErr> {
        let levels = levels(&graph(&rules))
            .ok_or_else(|| DbErr::Custom("stored rules name each other in a circle".into()))?;
        Ok(Self { rules, levels })
    }
}

/// The workspace's rules, locked for this transaction (`how`), compiled: kept ones when their
/// version is still the current one.
async fn locked_rules(tx: &Tx<'_>, how: RulesLock) -> Result<Arc<Compiled>, DbErr> {
    let version = match (how, tx.rules_held()) {
        (RulesLock::FollowFew, Some(held)) => held,
        _ => lock_rules(tx, how).await?,
    };
    let workspace = tx.workspace().0;
    if let Some(kept) = tx.rule_cache().get::<Compiled>(workspace, version) {
        return Ok(kept);
    }
    let compiled = Arc::new(Compiled::new(load(tx).await?)?);
    tx.rule_cache().keep(workspace, version, compiled.clone());
    Ok(compiled)
}

/// The workspace's RULE segments with their rules, in id order.
async fn load<S: Scoped>(s: &S) -> Result<Vec<RuleSegment>, DbErr> {
    let rows: Vec<(i64, Option<String>)> = s
        .find::<segment::Entity>()
        .select_only()
        .columns([segment::Column::Id, segment::Column::Rule])
        .filter(segment::Column::Kind.eq(SegmentKind::Rule))
        .order_by_asc(segment::Column::Id)
        .into_tuple()
        .all(s.conn())
        .await?;
    let mut rules = Vec::new();
    for (id, text) in rows {
        if let Some(text) = text {
            rules.push(RuleSegment::new(id, parse_stored(id, &text)?.1));
        }
    }
    Ok(rules)
}

/// Each rule's level: 1 for a rule naming no RULE segment, else one more than the deepest it
/// names. `None` when the rules name each other in a circle.
fn levels(rules: &BTreeMap<i64, BTreeSet<i64>>) -> Option<BTreeMap<i64, usize>> {
    fn level(
        id: i64,
        rules: &BTreeMap<i64, BTreeSet<i64>>,
        done: &mut BTreeMap<i64, usize>,
        path: &mut Vec<i64>,
    ) -> Option<usize> {
        if let Some(known) = done.get(&id) {
            return Some(*known);
        }
        if path.contains(&id) {
            return None;
        }
        path.push(id);
        let mut deepest = 0;
        for named in &rules[&id] {
            if rules.contains_key(named) {
                deepest = Ord::max(deepest, level(*named, rules, done, path)?);
            }
        }
        path.pop();
        done.insert(id, deepest + 1);
        Some(deepest + 1)
    }
    let mut done = BTreeMap::new();
    for id in rules.keys() {
        level(*id, rules, &mut done, &mut Vec::new())?;
    }
    Some(done)
}

/// The rules by the segments they name.
fn graph(rules: &[RuleSegment]) -> BTreeMap<i64, BTreeSet<i64>> {
    rules.iter().map(|r| (r.id, r.named.clone())).collect()
}

/// Checks a rule for segment `own` (a placeholder id for one being made) against the
/// workspace's other rules: no `unassigned`, ids that exist, no circle, no chain over
/// [`MAX_CHAIN`].
async fn check<S: Scoped>(
    s: &S,
    own: i64,
    rule: &InfluencerFilter,
    others: &[RuleSegment],
    path: &[&str],
) -> ServiceResult<()> {
    if let Some(at) = rule.unassigned_path(path) {
        return Err(InputError {
            field: at,
            message: "a rule cannot use unassigned: its own members would never be Unassigned"
                .into(),
            code: InputErrorCode::Invalid,
        }
        .into());
    }
    let missing = filter::missing_references(s, rule, path).await?;
    if !missing.is_empty() {
        return Err(ServiceError::Input(missing));
    }
    let mut rules = graph(others);
    rules.insert(own, rule.named_segments());
    let invalid = |message: String| InputError::new(InputErrorCode::Invalid, path, message);
    match levels(&rules) {
        None => Err(invalid(
            "the rule depends on its own segment, directly or through other rules".into(),
        )
        .into()),
        Some(levels) if levels.values().any(|l| *l > MAX_CHAIN) => Err(invalid(format!(
            "rules naming RULE segments chain at most {MAX_CHAIN} deep"
        ))
        .into()),
        Some(_) => Ok(()),
    }
}

/// Creates a RULE segment and fills it with its rule's matches, in one transaction.
#[tracing::instrument(name = "rules::create", level = "debug", skip_all, fields(workspace = tx.workspace().0))]
pub async fn create(
    tx: &mut Tx<'_>,
    input: &NewSegment,
    rule: &FilterInput,
) -> ServiceResult<segment::Model> {
    lock_rules(tx, RulesLock::Change).await?;
    let parsed = filter::parse(rule.clone(), &["input", "rule"]);
    let others = load(tx).await?;
    // A placeholder id for the new segment: the graph only needs it to differ from the others.
    let checked = match &parsed {
        Ok(filter) => check(tx, 0, filter, &others, &["input", "rule"]).await,
        Err(errors) => Err(ServiceError::Input(errors.clone())),
    };
    // Name and rule problems are reported together; nothing is written before both are known.
    let segment = match checked {
        Ok(()) => {
            segments::insert_as(tx, input, &["input"], SegmentKind::Rule, Some(encode(rule)))
                .await?
        }
        Err(rule_errors) => {
            let name_errors = segments::check_new(tx, input, &["input"]).await.err();
            return Err(super::errors::merge_errors([
                Some(rule_errors),
                name_errors,
            ]));
        }
    };
    let filter = parsed.expect("checked above");
    rule_references::store(tx, segment.id, &filter).await?;
    count_rule_change(tx).await?;
    let mut all = others;
    all.push(RuleSegment::new(segment.id, filter));
    let all = Compiled::new(all)?;
    evaluate(tx, &all, &[segment.id].into(), Among::Everyone, None).await?;
    Ok(segment)
}

/// Gives a RULE segment a new rule and makes its members (and those of the rules that name it)
/// the new matches, in one transaction.
#[tracing::instrument(name = "rules::update", level = "debug", skip_all, fields(workspace = tx.workspace().0, segment = id))]
pub async fn update(tx: &mut Tx<'_>, id: i64, rule: &FilterInput) -> ServiceResult<segment::Model> {
    let path = ["input", "rule"];
    lock_rules(tx, RulesLock::Change).await?;
    let segment = locks::changed::<segment::Entity, _>(tx, id)
        .await?
        .ok_or_else(|| segments::not_found(&["input", "id"]))?;
    if segment.kind != SegmentKind::Rule {
        return Err(InputError::new(
            InputErrorCode::Invalid,
            &path,
            "a MANUAL segment has no rule; create a RULE segment instead",
        )
        .into());
    }
    let filter = filter::parse(rule.clone(), &path).map_err(ServiceError::Input)?;
    let others: Vec<RuleSegment> = load(tx).await?.into_iter().filter(|r| r.id != id).collect();
    check(tx, id, &filter, &others, &path).await?;
    let mut model: segment::ActiveModel = segment.into();
    model.rule = Set(Some(encode(rule)));
    let segment = model.update(tx.conn()).await?;
    rule_references::store(tx, id, &filter).await?;
    count_rule_change(tx).await?;
    let mut all = others;
    all.push(RuleSegment::new(id, filter));
    let affected = with_dependents(&all, [id].into());
    let all = Compiled::new(all)?;
    evaluate(tx, &all, &affected, Among::Everyone, None).await?;
    Ok(segment)
}

/// Turns a RULE segment into a MANUAL one whose members are the current members, as ordinary
/// memberships. A MANUAL segment stays as it is.
#[tracing::instrument(name = "rules::freeze", level = "debug", skip_all, fields(workspace = tx.workspace().0, segment = id))]
pub async fn freeze(tx: &mut Tx<'_>, id: i64) -> ServiceResult<segment::Model> {
    lock_rules(tx, RulesLock::Change).await?;
    let segment = locks::changed::<segment::Entity, _>(tx, id)
        .await?
        .ok_or_else(|| segments::not_found(&["input", "id"]))?;
    if segment.kind == SegmentKind::Manual {
        return Ok(segment);
    }
    count_rule_change(tx).await?;
    tx.update_many::<segment_membership::Entity>()
        .col_expr(
            segment_membership::Column::Source,
            Expr::value(MembershipSource::Manual),
        )
        .filter(segment_membership::Column::SegmentId.eq(id))
        .exec(tx.conn())
        .await?;
    let mut model: segment::ActiveModel = segment.into();
    model.kind = Set(SegmentKind::Manual);
    model.rule = Set(None);
    let segment = model.update(tx.conn()).await?;
    rule_references::forget(tx, id).await?;
    Ok(segment)
}

/// `ids` and every rule that names one of them, directly or through other rules.
fn with_dependents(rules: &[RuleSegment], mut ids: BTreeSet<i64>) -> BTreeSet<i64> {
    loop {
        let before = ids.len();
        for rule in rules {
            if rule.named.iter().any(|n| ids.contains(n)) {
                ids.insert(rule.id);
            }
        }
        if ids.len() == before {
            return ids;
        }
    }
}

/// Keeps the RULE segments equal to their matches after a write that made `change` to the
/// influencers `among`, in the write's transaction.
#[tracing::instrument(name = "rules::follow", level = "debug", skip_all, fields(workspace = tx.workspace().0))]
pub async fn follow(tx: &mut Tx<'_>, change: &Change, among: Among<'_>) -> ServiceResult<()> {
    if change.is_nothing()
        || matches!(among, Among::These(ids) | Among::Held(ids) if ids.is_empty())
    {
        return Ok(());
    }
    let among = among.bounded();
    // A change of the whole roster (an assignment by filter) evaluates for everyone: it takes
    // the rules alone, so no other write's evaluation overlaps it. A change of a few influencers
    // shares them and locks those influencers below.
    let how = match among {
        Among::Everyone => RulesLock::Change,
        Among::These(_) | Among::Held(_) => RulesLock::FollowFew,
    };
    let compiled = locked_rules(tx, how).await?;
    let rules = &compiled.rules;
    if rules.is_empty() {
        return Ok(());
    }
    let direct: BTreeSet<i64> = rules
        .iter()
        .filter(|r| {
            change
                .row
                .as_ref()
                .is_some_and(|row| row.may_change(&r.filter))
                || (change.engaged && r.filter.uses_engagement())
                || r.named.iter().any(|s| change.segments.contains(s))
        })
        .map(|r| r.id)
        .collect();
    if direct.is_empty() {
        return Ok(());
    }
    let affected = with_dependents(rules, direct);
    // The influencers a write evaluates rules for are locked (`locks::changed_ids`): two writes
    // that each make half of a match (one assigns to S1, the other to S2, for a rule on both) then
    // evaluate one after the other, the second seeing the first's change; without it each saw only
    // its own half and neither added the member.
    if let Among::These(ids) = among {
        locks::changed_ids::<influencer::Entity, _>(tx, ids).await?;
    }
    evaluate(tx, &compiled, &affected, among, change.row.as_ref()).await
}

/// Evaluates the rules of `affected` (among `all`, the workspace's rules) for `among`, level by
/// level so that a rule naming a RULE segment sees that segment's new members: per level, one
/// statement adds the matches that are not members and one deletes the members that no longer
/// match. When `among` is the one influencer whose row the write made or edited (`row`), the
/// rules the row decides are settled without reading them from the database.
async fn evaluate(
    tx: &mut Tx<'_>,
    all: &Compiled,
    affected: &BTreeSet<i64>,
    among: Among<'_>,
    row: Option<&RowChange>,
) -> ServiceResult<()> {
    let mut by_level: BTreeMap<usize, Vec<&RuleSegment>> = BTreeMap::new();
    for rule in all.rules.iter().filter(|r| affected.contains(&r.id)) {
        by_level.entry(all.levels[&rule.id]).or_default().push(rule);
    }
    let at = now();
    for rules in by_level.values() {
        match among {
            Among::Everyone => {
                for chunk in rules.chunks(RULES_PER_STATEMENT) {
                    add_matches(tx, chunk, at).await?;
                    remove_non_matches(tx, chunk).await?;
                }
            }
            Among::These(ids) | Among::Held(ids) => {
                let mut differences = Differences::default();
                let open = match row {
                    Some(row) if ids == [row.after.id] => row.settle(rules, &mut differences),
                    _ => rules.clone(),
                };
                for chunk in open.chunks(RULES_PER_STATEMENT) {
                    read_differences(tx, chunk, ids, at, &mut differences).await?;
                }
                differences.write(tx, at).await?;
            }
        }
    }
    Ok(())
}

/// The most rules one statement evaluates (a column each in [`read_differences`], a branch each in
/// [`add_matches`] and [`remove_non_matches`]); the rules of one level need not see each other's
/// changes, so a level takes as many statements as it needs. A rule binds at most about 250
/// parameters (50 conditions of at most five; a list is one, see `id_list::one_of`), so 100
/// rules and 1,000 influencer ids stay under SQLite's 32,766 parameters a statement.
const RULES_PER_STATEMENT: usize = 100;

/// Evaluates `rules` (of one level) for a few influencers: one statement reads, for each of
/// them, whether it matches each rule and which of the rules' segments it is in, and the pairs
/// that differ go to `differences`. Most writes move nobody in or out of a rule and write
/// nothing more.
///
/// For one influencer (the usual write) the read's text changes only when the rules do, and it
/// is planned for one row: PostgreSQL settles on a generic plan after a few calls and plans it
/// no more on that connection, where a list of ids kept it planning every rule's conditions on
/// every write.
async fn read_differences(
    tx: &mut Tx<'_>,
    rules: &[&RuleSegment],
    ids: &[i64],
    at: chrono::DateTime<chrono::Utc>,
    differences: &mut Differences,
) -> ServiceResult<()> {
    let read = matches_and_memberships(tx, rules, ids, at);
    let rows = tx.conn().query_all(&read).await?;
    for row in rows {
        let influencer: i64 = row.try_get_by_index(0)?;
        let members = member_of(tx.backend(), &row, 1)?;
        for (index, rule) in rules.iter().enumerate() {
            // A condition is never NULL (see `filter::condition`); NULL would not match.
            let matches = row.try_get_by_index::<Option<bool>>(2 + index)? == Some(true);
            match (matches, members.contains(&rule.id)) {
                (true, false) => differences.added.push((rule.id, influencer)),
                (false, true) => {
                    differences
                        .gone
                        .entry(rule.id)
                        .or_default()
                        .insert(influencer);
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The memberships a listed evaluation found to differ from the rules' verdicts.
#[derive(Default)]
struct Differences {
    /// (segment, influencer) pairs to add.
    added: Vec<(i64, i64)>,
    /// Members to remove.
    gone: Pairs,
}

impl Differences {
    /// Writes them: one statement for both on PostgreSQL, one each way on SQLite, none when there
    /// is nothing to write. Adding is `ON CONFLICT DO NOTHING` and removing deletes what is
    /// there, so a pair written by a rule the row decided is right whatever the membership was.
    async fn write(self, tx: &mut Tx<'_>, at: chrono::DateTime<chrono::Utc>) -> ServiceResult<()> {
        use segment_membership::Column as M;
        // No rule is in both: a pair is added or gone, never both.
        let gone = (!self.gone.is_empty()).then(|| {
            self.gone
                .into_iter()
                .map(|(segment, influencers)| {
                    Expr::col((segment_membership::Entity, M::SegmentId))
                        .eq(segment)
                        .and(any_of(
                            tx.backend(),
                            Expr::col((segment_membership::Entity, M::InfluencerId)),
                            influencers,
                        ))
                })
                .fold(sea_orm::Condition::any(), sea_orm::Condition::add)
        });
        insert_and_delete(tx, &self.added, gone, at, MembershipSource::Rule).await
    }
}

/// `SELECT influencer.id, <segments of the rules it is in>, <rule 1 matches>, ...` for the
/// influencers `ids` of the workspace.
fn matches_and_memberships(
    tx: &Tx<'_>,
    rules: &[&RuleSegment],
    ids: &[i64],
    at: chrono::DateTime<chrono::Utc>,
) -> SelectStatement {
    use segment_membership::Column as M;
    let id = || Expr::col((influencer::Entity, influencer::Column::Id));
    // One id (a write of one influencer, the usual case) as `id = $1`: PostgreSQL then plans for
    // one row, and checks each rule's subqueries for it alone instead of hashing whole tables
    // as it would for the ten rows it assumes of a list.
    let listed = match ids {
        [one] => id().eq(*one),
        _ => any_of(tx.backend(), id(), ids.iter().copied()),
    };
    let fm = Alias::new("fm");
    let aggregate = match tx.backend() {
        sea_orm::DatabaseBackend::Postgres => r#"array_agg("fm"."segment_id")"#,
        _ => r#"group_concat("fm"."segment_id")"#,
    };
    let segments = Query::select()
        .expr(Expr::cust(aggregate))
        .from_as(segment_membership::Entity, fm.clone())
        .and_where(
            Expr::col((fm.clone(), M::InfluencerId))
                .equals((influencer::Entity, influencer::Column::Id)),
        )
        .and_where(any_of(
            tx.backend(),
            Expr::col((fm, M::SegmentId)),
            rules.iter().map(|r| r.id),
        ))
        .to_owned();
    let mut read = Query::select();
    read.expr(id())
        .expr(SimpleExpr::SubQuery(None, Box::new(segments.into())))
        .from(influencer::Entity)
        .and_where(tx.owns::<influencer::Entity>())
        .and_where(listed);
    for rule in rules {
        read.expr(filter::condition(tx, &rule.filter, at));
    }
    read
}

/// The segments of column `index` of a [`matches_and_memberships`] row: an array on
/// PostgreSQL, ids separated by commas on SQLite; NULL for none.
fn member_of(
    backend: sea_orm::DatabaseBackend,
    row: &sea_orm::QueryResult,
    index: usize,
) -> Result<BTreeSet<i64>, DbErr> {
    Ok(match backend {
        sea_orm::DatabaseBackend::Postgres => row
            .try_get_by_index::<Option<Vec<i64>>>(index)?
            .unwrap_or_default()
            .into_iter()
            .collect(),
        _ => row
            .try_get_by_index::<Option<String>>(index)?
            .unwrap_or_default()
            .split(',')
            .filter(|id| !id.is_empty())
            .map(|id| {
                id.parse()
                    .map_err(|_| DbErr::Custom(format!("not a segment id: {id:?}")))
            })
            .collect::<Result<_, _>>()?,
    })
}

/// Influencers by RULE segment, in segment and influencer order.
type Pairs = BTreeMap<i64, BTreeSet<i64>>;

/// Adds every influencer of the roster that matches one of `rules` (of one level) and is not a
/// member, in one statement.
async fn add_matches(
    tx: &mut Tx<'_>,
    rules: &[&RuleSegment],
    at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<usize> {
    let mut selects = rules.iter().map(|rule| {
        membership_rows(
            tx,
            rule.id,
            filter::condition(tx, &rule.filter, at),
            at,
            MembershipSource::Rule,
        )
    });
    let Some(mut rows) = selects.next() else {
        return Ok(0);
    };
    for more in selects {
        rows.union(UnionType::All, more);
    }
    insert_rows(tx, rows, at, MembershipSource::Rule).await
}

/// Deletes every member of `rules` (of one level) that no longer matches, in one statement.
async fn remove_non_matches(tx: &mut Tx<'_>, rules: &[&RuleSegment]) -> ServiceResult<usize> {
    use segment_membership::Column as M;
    let at = now();
    let member = |c: M| Expr::col((segment_membership::Entity, c));
    let still_matches = rules
        .iter()
        .map(|rule| {
            member(M::SegmentId)
                .eq(rule.id)
                .and(filter::condition(tx, &rule.filter, at))
        })
        .reduce(SimpleExpr::or)
        .expect("a level has rules");
    let matching = Query::select()
        .expr(Expr::val(1))
        .from(influencer::Entity)
        .and_where(tx.owns::<influencer::Entity>())
        .and_where(
            Expr::col((influencer::Entity, influencer::Column::Id))
                .equals((segment_membership::Entity, M::InfluencerId)),
        )
        .and_where(still_matches)
        .to_owned();
    let gone = sea_orm::Condition::all()
        .add(any_of(
            tx.backend(),
            member(M::SegmentId),
            rules.iter().map(|r| r.id),
        ))
        .add(Expr::exists(matching).not());
    delete_memberships(tx, gone, Actor::Rule).await
}

/// Evaluates again, over the whole roster, every rule with a rolling window (`withinDays`) and
/// the rules that name their segments: matches move as time passes without any write.
#[tracing::instrument(name = "rules::refresh_rolling", level = "debug", skip_all, fields(workspace = tx.workspace().0))]
pub async fn refresh_rolling(tx: &mut Tx<'_>) -> ServiceResult<usize> {
    let compiled = locked_rules(tx, RulesLock::Follow).await?;
    let rules = &compiled.rules;
    let rolling: BTreeSet<i64> = rules
        .iter()
        .filter(|r| r.filter.uses_rolling_window())
        .map(|r| r.id)
        .collect();
    if rolling.is_empty() {
        tx.changed_nothing();
        return Ok(0);
    }
    let affected = with_dependents(rules, rolling);
    evaluate(tx, &compiled, &affected, Among::Everyone, None).await?;
    Ok(affected.len())
}

/// The workspaces that may have a rule with a rolling window: one statement across workspaces,
/// for the periodic refresh, which is maintenance of every workspace rather than a request of
/// one. The text match only narrows the list; [`refresh_rolling`] reads each rule.
pub async fn workspaces_with_rolling_rules(
    db: &sea_orm::DatabaseConnection,
) -> Result<Vec<i64>, DbErr> {
    segment::Entity::find()
        .select_only()
        .column(segment::Column::WorkspaceId)
        .distinct()
        .filter(segment::Column::Kind.eq(SegmentKind::Rule))
        .filter(segment::Column::Rule.like("%\"withinDays\"%"))
        .into_tuple()
        .all(db)
        .await
}
