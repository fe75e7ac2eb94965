//! The schema with what surrounds each of its operations: the query parsed once per distinct
//! text ([`Documents`]), limits checked before anything runs, codes for the errors of refused
//! requests, responses shaped as the spec says (null
//! propagation, field order), and the operation log.
//!
//! Our own pipeline, not a workaround of one upstream behaviour (the steps it runs that are
//! workarounds say so in their modules). These are request-level steps, so they wrap the schema
//! as an [`Executor`] rather than register as async-graphql extensions: with any extension
//! registered, async-graphql resolves every field and list item through the extension chain,
//! with a registry lookup and a type name built per field, even when no extension looks at
//! fields. A dashboard resolves tens of thousands of fields.
//!
//! [`Api`] is generic over the schema: it is handed the built schema and its SDL, and what the
//! schema's resolvers need of each WebSocket operation is attached by a function the schema
//! gives it, so nothing here names a type of the schema.

use std::{
    any::TypeId,
    sync::Arc,
    time::{Duration, Instant},
};

use async_graphql::{
    Data, Executor, Request, Response, ServerError,
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
};
use futures_util::stream::{self, BoxStream, StreamExt};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument as _;

use super::{
    cost::{self, Budgets, CostBudget, Payer},
    documents::Documents,
    error_codes,
    limits::{Limits, selected_operation},
    null_propagation::FieldTypes,
    variables::InputTypes,
};
use crate::{
    errors::{Code, graphql::with_code},
    observability::OperationLog,
    service::{Caller, Deadline},
};

/// What a schema attaches to a request so that its resolvers act as a caller, in the caller's
/// workspace (their scope, with the request's deadline when it has one, and a loader of its
/// own). The HTTP handler calls it through [`Api::scoped`]; on a WebSocket,
/// [`Api::execute_stream`] calls it for each operation with its connection's caller.
type ScopeRequest = dyn Fn(Request, Caller, Option<Arc<Deadline>>) -> Request + Send + Sync;

/// A schema as HTTP and WebSocket serve it: the schema (any [`Executor`], in practice an
/// `async_graphql::Schema`) and the steps around it.
#[derive(Clone)]
pub struct Api<S> {
    schema: S,
    limits: Arc<Limits>,
    types: Arc<FieldTypes>,
    inputs: Arc<InputTypes>,
    documents: Arc<Documents>,
    log: OperationLog,
    scope_request: Arc<ScopeRequest>,
    /// The cost limits per API key, when they are on.
    metering: Option<Arc<Metering<S>>>,
}

/// What meters requests: the pricing schema (see [`cost`]) and the buckets of the keys.
struct Metering<S> {
    pricing: S,
    budgets: Budgets,
}

impl<S: Executor> Api<S> {
    /// Serves `schema`, whose SDL is `sdl`, with these limits, logging operations slower than
    /// `slow_operation`. `scope_request` attaches to a request what the schema's resolvers need
    /// to act for a workspace (see [`ScopeRequest`]).
    pub fn new(
        schema: S,
        sdl: &str,
        limits: Limits,
        slow_operation: Duration,
        scope_request: impl Fn(Request, Caller, Option<Arc<Deadline>>) -> Request
        + Send
        + Sync
        + 'static,
    ) -> Self {
        let types =
            FieldTypes::from_sdl(sdl).expect("async-graphql writes SDL that its own parser reads");
        let inputs =
            InputTypes::from_sdl(sdl).expect("async-graphql writes SDL that its own parser reads");
        Self {
            schema,
            limits: Arc::new(limits),
            types: Arc::new(types),
            inputs: Arc::new(inputs),
            documents: Arc::default(),
            log: OperationLog {
                slow: slow_operation,
            },
            scope_request: Arc::new(scope_request),
            metering: None,
        }
    }

    /// Meters each request that acts with an API key against `budget`, pricing it with
    /// `pricing`: the same schema built with [`cost::Meter`] (see there).
    pub fn metered(mut self, pricing: S, budget: CostBudget) -> Self {
        self.metering = Some(Arc::new(Metering {
            pricing,
            budgets: Budgets::new(budget),
        }));
        self
    }

    /// `request`, made to act as `caller` (a workspace alone acts as the server itself), within
    /// `deadline` when it has one: what the HTTP handler does before [`Api::execute`].
    pub fn scoped(
        &self,
        request: Request,
        caller: impl Into<Caller>,
        deadline: Option<Arc<Deadline>>,
    ) -> Request {
        attach(
            self.scope_request.as_ref(),
            request,
            caller.into(),
            deadline,
        )
    }

    /// Runs a query or mutation.
    pub async fn execute(&self, request: impl Into<Request>) -> Response {
        let started = Instant::now();
        let mut request = request.into();
        let admitted = self.admit(&mut request).and_then(|document| {
            let operation = selected_operation(&document, request.operation_name.as_deref());
            match operation.map(|operation| operation.ty) {
                Some(OperationType::Subscription) => Err(with_code(
                    ServerError::new(
                        "subscriptions are served over WebSocket (graphql-transport-ws at \
                         /graphql/ws)",
                        None,
                    ),
                    Code::BadRequest,
                )),
                _ => Ok(document),
            }
        });
        let document = match admitted {
            Ok(document) => document,
            Err(error) => {
                let response = Response::from_errors(vec![error]);
                // Named only by what the document holds: metrics labels are not for any text a
                // client sends.
                self.log
                    .record(None, &request.query, started.elapsed(), &response);
                return response;
            }
        };
        let name = operation_name(&document, request.operation_name.as_deref());
        let cost = match meter(self.metering.as_deref(), &request, &document).await {
            Ok(cost) => cost,
            Err(mut refused) => {
                finish(&self.types, &document, name.as_deref(), &mut refused);
                self.log
                    .record(name.as_deref(), &request.query, started.elapsed(), &refused);
                return refused;
            }
        };
        // async-graphql runs the parse `admit` made and does not read the text again; the log
        // keeps it for slow operations.
        let query = std::mem::take(&mut request.query);
        let mut response = self
            .schema
            .execute(request)
            .instrument(operation_span(&document, name.as_deref()))
            .await;
        finish(&self.types, &document, name.as_deref(), &mut response);
        with_cost(&mut response, cost);
        self.log
            .record(name.as_deref(), &query, started.elapsed(), &response);
        response
    }

    /// Parses the request's query (or takes the kept parse of its text) and checks it against
    /// the limits. async-graphql gets a copy of the parse; the response is shaped with this one.
    fn admit(&self, request: &mut Request) -> Result<Arc<ExecutableDocument>, ServerError> {
        let document = match self.documents.get(&request.query) {
            Some(document) => document,
            None => {
                let document = Arc::new(self.limits.parse(&request.query)?);
                self.documents.keep(&request.query, document.clone());
                document
            }
        };
        self.limits.admit(&document, request)?;
        if let Some(operation) = selected_operation(&document, request.operation_name.as_deref()) {
            self.inputs.check(operation, &request.variables)?;
        }
        request.set_parsed_query(ExecutableDocument::clone(&document));
        Ok(document)
    }
}

impl<S: Executor> Executor for Api<S> {
    async fn execute(&self, request: Request) -> Response {
        Api::execute(self, request).await
    }

    /// Runs a subscription, or a query or mutation sent over a WebSocket. Every event is shaped
    /// like a response; a query or mutation is logged as over HTTP, and every subscription event
    /// is counted (with its error codes).
    ///
    /// The connection's [`ConnectionLimits`] (its session data) are applied here rather than
    /// around async-graphql's WebSocket handling: this is where each operation's execution is
    /// made, and the one place that knows, from the parse `admit` already made, whether it is a
    /// subscription (held to the connection's subscription slots) or a query or mutation (held
    /// to the request deadline, with its execution inside the deadline's scope so that its
    /// commit keeps the deadline's promise).
    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let started = Instant::now();
        // Each operation gets a loader of its own, as each HTTP request does: one kept for the
        // whole connection would serve values primed by an earlier query to later operations.
        let caller = session_data
            .as_deref()
            .and_then(session_value::<Caller>)
            .cloned();
        let limits = session_data
            .as_deref()
            .and_then(session_value::<ConnectionLimits>)
            .cloned();
        // Queries and mutations run within the connection's deadline (`within_deadline`), which
        // their writes mind when they commit.
        let deadline = Arc::new(Deadline::default());
        let mut request = match caller {
            Some(caller) => attach(
                self.scope_request.as_ref(),
                request,
                caller,
                Some(deadline.clone()),
            ),
            None => request,
        };
        let document = match self.admit(&mut request) {
            Ok(document) => document,
            Err(error) => {
                return stream::once(async move { Response::from_errors(vec![error]) }).boxed();
            }
        };
        let name = operation_name(&document, request.operation_name.as_deref());
        let subscription = selected_operation(&document, name.as_deref())
            .is_some_and(|operation| operation.ty == OperationType::Subscription);
        // A subscription holds one of its connection's slots until its stream is dropped: when
        // it ends, the client completes it, or the connection closes.
        let slot = match &limits {
            Some(limits) if subscription => match limits.subscription_slot() {
                Some(slot) => Some(slot),
                None => {
                    tracing::info!(
                        max = limits.max_subscriptions,
                        "subscription refused: its WebSocket has as many as it may hold"
                    );
                    let refused = too_many_subscriptions(limits);
                    return stream::once(async move { refused }).boxed();
                }
            },
            _ => None,
        };
        let query = std::mem::take(&mut request.query);
        let (types, log) = (self.types.clone(), self.log);
        // The operation draws from its key's bucket as over HTTP; a subscription pays once, as
        // it starts, and its events carry no cost.
        let (schema, metering, metered_document) =
            (self.schema.clone(), self.metering.clone(), document.clone());
        let responses = stream::once(async move {
            match meter(metering.as_deref(), &request, &metered_document).await {
                Ok(cost) => schema
                    .execute_stream(request, session_data)
                    .map(move |mut response| {
                        if !subscription {
                            with_cost(&mut response, cost.clone());
                        }
                        response
                    })
                    .boxed(),
                Err(refused) => stream::once(async move { refused }).boxed(),
            }
        })
        .flatten()
        .boxed();
        let responses = match limits {
            // Subscriptions are long-lived: no deadline.
            Some(limits) if !subscription => {
                within_deadline(responses, deadline, limits.request_timeout)
            }
            _ => responses,
        };
        responses
            .map(move |mut response| {
                // The slot is the stream's, freed when the stream is dropped.
                let _held = &slot;
                finish(&types, &document, name.as_deref(), &mut response);
                if subscription {
                    log.record_event(name.as_deref(), &response);
                } else {
                    log.record(name.as_deref(), &query, started.elapsed(), &response);
                }
                response
            })
            .boxed()
    }
}

/// The span of an operation's execution, for traces (`crate::traces`): named as OpenTelemetry's
/// GraphQL conventions name it (`query Dashboard`). Debug level, below what the log shows.
fn operation_span(document: &ExecutableDocument, name: Option<&str>) -> tracing::Span {
    let kind = match selected_operation(document, name).map(|operation| operation.ty) {
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        _ => "query",
    };
    tracing::debug_span!(
        "graphql",
        otel.name = %format_args!("{kind} {}", name.unwrap_or("anonymous")),
        graphql.operation.type = kind,
        graphql.operation.name = name,
    )
}

/// `request` made to act as `caller` by the schema's `scope_request`, drawing from the bucket of
/// the caller's key.
fn attach(
    scope_request: &ScopeRequest,
    request: Request,
    caller: Caller,
    deadline: Option<Arc<Deadline>>,
) -> Request {
    let payer = Payer(
        caller
            .key
            .as_ref()
            .map(|key| Arc::from(key.prefix.as_str())),
    );
    scope_request(request, caller, deadline).data(payer)
}

/// Prices a request and takes its cost from its key's bucket: `extensions.cost` for its
/// response, or the response of a request that may not run (one that does not validate, breaks
/// the depth or complexity limit, or is throttled). With cost limits on, every request is priced,
/// since pricing is also its full validation (see `graphql::pricing_schema`); requests without a
/// key (the server's own) are not charged. Without cost limits nothing happens here.
async fn meter<S: Executor>(
    metering: Option<&Metering<S>>,
    request: &Request,
    document: &ExecutableDocument,
) -> Result<Option<async_graphql::Value>, Response> {
    let Some(metering) = metering else {
        return Ok(None);
    };
    // Nothing is free: a field async-graphql counts as 0 (`__typename`) still costs a point.
    let requested = cost::price(&metering.pricing, request, document)
        .await?
        .max(1);
    let Some(key) = request
        .data
        .get(&TypeId::of::<Payer>())
        .and_then(|payer| payer.downcast_ref::<Payer>())
        .and_then(|payer| payer.0.clone())
    else {
        return Ok(None);
    };
    let budget = metering.budgets.budget();
    match metering.budgets.take(&key, requested).await {
        cost::Charge::Granted { remaining } => {
            Ok(Some(cost::cost_extension(budget, requested, remaining)))
        }
        cost::Charge::Throttled {
            available,
            retry_after,
        } => {
            let mut refused =
                Response::from_errors(vec![cost::throttled(requested, available, retry_after)]);
            with_cost(
                &mut refused,
                Some(cost::cost_extension(budget, requested, available)),
            );
            Err(refused)
        }
        cost::Charge::Unaffordable => Err(Response::from_errors(vec![with_code(
            ServerError::new(
                format!(
                    "the operation costs {requested} points, more than a full cost budget \
                     ({}) holds; ask for less",
                    budget.maximum_available
                ),
                None,
            ),
            Code::QueryTooComplex,
        )])),
    }
}

/// Adds a request's `extensions.cost` to its response.
fn with_cost(response: &mut Response, cost: Option<async_graphql::Value>) {
    if let Some(cost) = cost {
        response.extensions.insert("cost".to_owned(), cost);
    }
}

/// What the operations of one WebSocket connection are held to. The connection puts it in its
/// session data at `connection_init`; [`Api::execute_stream`] applies it. (Over HTTP the request
/// deadline is applied around [`Api::execute`] by the HTTP layer, which answers it with 408.)
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// How long a query or mutation may run; subscriptions are long-lived and have no deadline.
    request_timeout: Duration,
    /// Most subscriptions running at once on the connection.
    max_subscriptions: usize,
    /// The free subscription slots.
    slots: Arc<Semaphore>,
}

impl ConnectionLimits {
    /// Limits for a new connection: queries and mutations within `request_timeout`, at most
    /// `max_subscriptions` subscriptions at once.
    pub fn new(request_timeout: Duration, max_subscriptions: usize) -> Self {
        let max_subscriptions = max_subscriptions.min(Semaphore::MAX_PERMITS);
        Self {
            request_timeout,
            max_subscriptions,
            slots: Arc::new(Semaphore::new(max_subscriptions)),
        }
    }

    /// A slot for one more subscription, freed when dropped; `None` when all are taken.
    fn subscription_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }
}

/// A value of type `T` in a connection's session data.
pub fn session_value<T: 'static>(data: &Data) -> Option<&T> {
    data.get(&TypeId::of::<T>())?.downcast_ref::<T>()
}

/// The response of a query or mutation (the one item of `responses`), or a `REQUEST_TIMEOUT`
/// error once `timeout` has passed, as over HTTP: the execution is then dropped, which rolls back
/// its open transaction, and a write that already committed is answered with its result, never
/// reported as cancelled (see `service::Deadline`).
fn within_deadline(
    mut responses: BoxStream<'static, Response>,
    deadline: Arc<Deadline>,
    timeout: Duration,
) -> BoxStream<'static, Response> {
    let execution = async move { responses.next().await };
    stream::once(async move {
        tokio::pin!(execution);
        tokio::select! {
            response = &mut execution => response,
            () = tokio::time::sleep(timeout) => {
                if deadline.expire() {
                    tracing::warn!(
                        timeout_ms = timeout.as_millis() as u64,
                        "WebSocket operation timed out"
                    );
                    Some(Response::from_errors(vec![with_code(
                        ServerError::new(
                            "the request took longer than the server allows and was cancelled",
                            None,
                        ),
                        Code::RequestTimeout,
                    )]))
                } else {
                    execution.await
                }
            }
        }
    })
    .filter_map(std::future::ready)
    .boxed()
}

/// The answer to a subscription over its connection's limit.
fn too_many_subscriptions(limits: &ConnectionLimits) -> Response {
    Response::from_errors(vec![with_code(
        ServerError::new(
            format!(
                "too many subscriptions on one WebSocket connection (at most {} at once); \
                 complete one first",
                limits.max_subscriptions
            ),
            None,
        ),
        Code::TooManySubscriptions,
    )])
}

/// The name of the operation a request runs: the one it asks for, or the name of the only
/// operation of its document; `None` for an anonymous operation, or a name the document lacks.
fn operation_name(document: &ExecutableDocument, requested: Option<&str>) -> Option<String> {
    let DocumentOperations::Multiple(operations) = &document.operations else {
        return None;
    };
    match requested {
        Some(name) => operations
            .keys()
            .find(|known| known.as_str() == name)
            .map(|name| name.to_string()),
        None if operations.len() == 1 => operations.keys().next().map(|name| name.to_string()),
        None => None,
    }
}

/// Codes for the errors of a request async-graphql refused, and the spec's shape for a
/// response that ran.
fn finish(
    types: &FieldTypes,
    document: &ExecutableDocument,
    name: Option<&str>,
    response: &mut Response,
) {
    error_codes::code_request_errors(response);
    error_codes::code_argument_errors(response);
    types.shape(document, name, response);
}

#[cfg(test)]
mod tests {
    use super::operation_name;

    #[test]
    fn an_operation_is_named_only_by_what_its_document_holds() {
        let parse = |q: &str| async_graphql::parser::parse_query(q).unwrap();
        let two = parse("query A { a } query B { b }");
        assert_eq!(operation_name(&two, Some("B")).as_deref(), Some("B"));
        assert_eq!(operation_name(&two, Some("C")), None);
        assert_eq!(operation_name(&two, None), None);
        let one = parse("query A { a }");
        assert_eq!(operation_name(&one, None).as_deref(), Some("A"));
        let anonymous = parse("{ a }");
        assert_eq!(operation_name(&anonymous, Some("A")), None);
    }
}
