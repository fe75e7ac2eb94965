//! Cost and rate limits per API key, as Shopify's and GitHub's GraphQL APIs have them: every
//! operation costs its query complexity (the number the complexity limit checks), each key has a
//! bucket of points that refills at a steady rate, and an operation that costs more than its
//! key's bucket holds runs nothing and is answered `THROTTLED` with the time to wait. Every
//! response says what it cost and what is left (`extensions.cost`), so a client can pace itself
//! instead of finding the limit by hitting it.
//!
//! Our own feature. Two parts:
//! - **Pricing.** async-graphql computes a query's complexity while validating it, but keeps the
//!   number to itself (its `check_rules` is crate-private) and only hands it to an extension's
//!   `validation` hook. Registering an extension on the serving schema would send every field
//!   through the extension chain (see [`super::executor`]), so the number comes from a second
//!   copy of the schema, the *pricing schema*, built with [`Meter`]: it validates the request's
//!   parse in full, records the complexity, and never executes (the serving schema is then left
//!   async-graphql's fast checks). The price is therefore exactly what the complexity limit
//!   measures, with one definition of what each field costs (the schema's `complexity`
//!   attributes), and a request that does not validate is refused before it is charged.
//! - **Buckets.** One per key, kept by the `governor` crate (GCRA, the continuous form of a
//!   leaky bucket), in this process. Budgets are per instance: see the README for why.

use std::{
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_graphql::{
    Name, Response, ServerError, ValidationResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextValidation},
};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};

use crate::errors::{Code, graphql::with_code};

/// How much each key may spend: a bucket of `maximum_available` points, refilled by
/// `restore_rate` points a second. Configured with `COST_MAXIMUM_AVAILABLE` and
/// `COST_RESTORE_RATE` (see `config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CostBudget {
    pub maximum_available: NonZeroU32,
    pub restore_rate: NonZeroU32,
}

/// The key whose bucket a request draws from: its API key's prefix, or none for work the server
/// does on its own (which is not metered). Put in a request's data by `Api::scoped` and, on a
/// WebSocket, for each operation of the connection.
#[derive(Clone, Debug)]
pub(crate) struct Payer(pub Option<Arc<str>>);

/// Where the pricing schema's [`Meter`] leaves the complexity it saw.
#[derive(Default)]
struct Priced(AtomicUsize);

/// The extension of the pricing schema: records each request's complexity as validation
/// computes it, then stops the request before anything executes.
pub struct Meter;

impl ExtensionFactory for Meter {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Meter)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Meter {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if let Some(priced) = ctx.data_opt::<Arc<Priced>>() {
            priced.0.store(result.complexity, Ordering::Relaxed);
        }
        Ok(result)
    }

    /// Never runs the operation: the pricing schema only measures.
    async fn execute(
        &self,
        _ctx: &ExtensionContext<'_>,
        _operation_name: Option<&str>,
        _next: NextExecute<'_>,
    ) -> Response {
        Response::default()
    }
}

/// The price of a request: its complexity as the pricing schema validates it, or the errors of a
/// request that breaks the depth or complexity limit (which the pricing schema checks too).
pub(crate) async fn price<S: async_graphql::Executor>(
    pricing: &S,
    request: &async_graphql::Request,
    document: &async_graphql::parser::types::ExecutableDocument,
) -> Result<usize, Response> {
    let priced = Arc::new(Priced::default());
    let mut probe = async_graphql::Request::new(String::new())
        .variables(request.variables.clone())
        .data(priced.clone());
    probe.operation_name = request.operation_name.clone();
    probe.set_parsed_query(document.clone());
    let response = pricing.execute(probe).await;
    if response.errors.is_empty() {
        Ok(priced.0.load(Ordering::Relaxed))
    } else {
        Err(response)
    }
}

/// What a key's bucket said to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charge {
    /// The request may run; `remaining` points are left after it.
    Granted { remaining: u32 },
    /// The bucket holds `available` points, too few: the request runs nothing, and may be sent
    /// again after `retry_after`.
    Throttled {
        available: u32,
        retry_after: Duration,
    },
    /// The request costs more than a full bucket holds: it can never run. (`Limits::consistent`
    /// rules this out for every query the complexity limit lets through; servers built with
    /// other limits still answer it as a query too complex, never with a wait.)
    Unaffordable,
}

type Limiter = RateLimiter<
    Arc<str>,
    DefaultKeyedStateStore<Arc<str>>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// The buckets of every key that has spent anything recently.
pub struct Budgets {
    budget: CostBudget,
    limiter: Limiter,
    /// Charges since the last sweep of full buckets.
    charges: AtomicU64,
}

/// How long a request its key's bucket cannot pay for waits for its points before it is refused
/// (see [`Budgets::take`]).
pub const HOLD: Duration = Duration::from_secs(1);

/// How many charges pass between sweeps of the buckets that have filled up again (a full bucket
/// is the same as none, so dropping it loses nothing and keeps the map to the keys in use).
const SWEEP_EVERY: u64 = 4096;

impl Budgets {
    pub fn new(budget: CostBudget) -> Self {
        let quota = Quota::per_second(budget.restore_rate).allow_burst(budget.maximum_available);
        Self {
            budget,
            limiter: RateLimiter::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
            charges: AtomicU64::new(0),
        }
    }

    pub fn budget(&self) -> CostBudget {
        self.budget
    }

    /// Takes `cost` points (at least one) from `key`'s bucket, when it holds that many.
    pub fn charge(&self, key: &Arc<str>, cost: usize) -> Charge {
        if self.charges.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        let points = NonZeroU32::new(u32::try_from(cost).unwrap_or(u32::MAX).max(1))
            .unwrap_or(NonZeroU32::MIN);
        match self.limiter.check_key_n(key, points) {
            Ok(Ok(snapshot)) => Charge::Granted {
                remaining: snapshot.remaining_burst_capacity(),
            },
            Ok(Err(not_until)) => {
                // The limiter's own clock: making one (`DefaultClock::default()`) calibrates
                // it, which cost a throttled request about a twentieth of its time.
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Charge::Throttled {
                    available: self.available_after_waiting(points, wait),
                    retry_after: wait,
                }
            }
            Err(_) => Charge::Unaffordable,
        }
    }

    /// Takes `cost` points from `key`'s bucket as [`Budgets::charge`] does, but a request the
    /// bucket cannot pay for at once is held for up to [`HOLD`]: when its points come within that
    /// time it then runs; otherwise it is refused once the hold is over, told how much longer to
    /// wait. The hold is what protects the other keys from a flood: a key past its budget that
    /// keeps sending is answered a second later, so its connections sit idle instead of looping
    /// through refusals as fast as the server can write them (each refusal still takes HTTP,
    /// JSON and pricing work, and a closed loop of them would take the whole CPU).
    pub async fn take(&self, key: &Arc<str>, cost: usize) -> Charge {
        let wait = match self.charge(key, cost) {
            Charge::Throttled { retry_after, .. } => retry_after,
            granted => return granted,
        };
        tokio::time::sleep(wait.min(HOLD)).await;
        // Its points came, or they are still short (they were due later than the hold, or
        // another request of the key took them first): either way it has had its turn.
        self.charge(key, cost)
    }

    /// The points a bucket holds now, when `points` are there after `wait`.
    fn available_after_waiting(&self, points: NonZeroU32, wait: Duration) -> u32 {
        let refilled = wait.as_secs_f64() * f64::from(self.budget.restore_rate.get());
        (f64::from(points.get()) - refilled.ceil()).max(0.0) as u32
    }
}

/// `extensions.cost` of a response: what the request asked for and what its key's bucket holds,
/// in Shopify's shape.
pub(crate) fn cost_extension(budget: CostBudget, requested: usize, available: u32) -> Value {
    let mut throttle = async_graphql::indexmap::IndexMap::new();
    throttle.insert(
        Name::new("maximumAvailable"),
        Value::from(budget.maximum_available.get()),
    );
    throttle.insert(Name::new("currentlyAvailable"), Value::from(available));
    throttle.insert(
        Name::new("restoreRate"),
        Value::from(budget.restore_rate.get()),
    );
    let mut cost = async_graphql::indexmap::IndexMap::new();
    cost.insert(
        Name::new("requestedQueryCost"),
        Value::from(requested as u64),
    );
    cost.insert(Name::new("throttleStatus"), Value::Object(throttle));
    Value::Object(cost)
}

/// The key of the seconds to wait in a `THROTTLED` error's `extensions`, which the HTTP layer
/// also sends as `Retry-After`.
pub const RETRY_AFTER_KEY: &str = "retryAfterSeconds";

/// The error of a throttled request: it ran nothing; the client may retry after the time given.
pub(crate) fn throttled(requested: usize, available: u32, retry_after: Duration) -> ServerError {
    // Whole seconds, rounded up, as `Retry-After` takes them: retrying at once would only be
    // refused again.
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let mut error = with_code(
        ServerError::new(
            format!(
                "this API key's cost budget holds {available} points and the operation costs \
                 {requested}; retry in {seconds} s (extensions.cost shows the budget)"
            ),
            None,
        ),
        Code::Throttled,
    );
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set(RETRY_AFTER_KEY, seconds);
    error
}
