"""The Prometheus metrics every part of the app counts into (prometheus-client).

They live in the library's process-wide registry, so a service, the rate limiter and
the cache can count without holding the app; `/metrics` (app/api/metrics.py) renders
them. Every label has a bounded set of values: route templates, never raw paths;
problem codes; limit names. An unbounded label would grow the scrape and Prometheus
without limit.

Several uvicorn workers are several processes, each with its own counts: set
PROMETHEUS_MULTIPROC_DIR (an empty, writable directory, emptied at every start) and
/metrics adds them up, or scrape each worker on its own.
"""

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# No `*_created` series beside every counter: they double the scrape and no query here
# needs them (Prometheus' rate() copes with restarts on its own).
disable_created_metrics()  # type: ignore[no-untyped-call]

# Latency buckets for an API whose cached reads take ~1 ms and whose slowest
# reports take seconds: 11 buckets (and +Inf) keep the series count modest.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

REQUESTS = Counter(
    "settle_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "settle_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response body.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
CACHE_HITS = Counter(
    "settle_public_cache_hits",
    "Public reads answered from memory: by the FastLane before routing, or by the route.",
    ["layer"],
)
CACHE_MISSES = Counter(
    "settle_public_cache_misses",
    "Cacheable public reads whose body had to be built (cold, or content changed).",
)
BOOKINGS_MADE = Counter("settle_bookings_made", "Bookings made (a replayed retry is not one).")
BOOKINGS_REFUSED = Counter(
    "settle_bookings_refused",
    "Booking attempts the service refused, by problem code (slot-taken, slot-unavailable…).",
    ["reason"],
)
RATE_LIMITED = Counter(
    "settle_rate_limited",
    "Requests refused with 429, by the limit that refused them (login, booking, manage…).",
    ["limit"],
)
# Read from the database at scrape time; `mostrecent` so that with several workers the
# figure of the latest scrape wins instead of being summed.
OUTBOX_PENDING = Gauge(
    "settle_outbox_pending",
    "Emails in the outbox not yet delivered and still being retried.",
    multiprocess_mode="mostrecent",
)
OUTBOX_FAILED = Gauge(
    "settle_outbox_failed",
    "Emails the worker gave up on (attempts exhausted or refused for good).",
    multiprocess_mode="mostrecent",
)
OUTBOX_OLDEST_AGE = Gauge(
    "settle_outbox_oldest_pending_age_seconds",
    "Age of the oldest email still waiting for delivery (0 when none waits).",
    multiprocess_mode="mostrecent",
)
WEBHOOKS_PENDING = Gauge(
    "settle_webhook_deliveries_pending",
    "Webhook deliveries not yet delivered and still being retried (enabled subscriptions).",
    multiprocess_mode="mostrecent",
)
WEBHOOKS_OLDEST_AGE = Gauge(
    "settle_webhook_oldest_pending_age_seconds",
    "Age of the oldest webhook delivery still waiting (0 when none waits).",
    multiprocess_mode="mostrecent",
)
WEBHOOKS_DISABLED = Gauge(
    "settle_webhook_subscriptions_disabled",
    "Webhook subscriptions disabled (after failed deliveries or by an admin).",
    multiprocess_mode="mostrecent",
)
