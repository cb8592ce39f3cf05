package bench

import (
	"fmt"

	"github.com/leadnurture/nurture/shared/metrics"
)

// Public prices, us-east-1, as of 2026-11-25 (the figures the issue gives;
// no free tier counted).
const (
	PricesDate   = "2026-11-25"
	PricesRegion = "us-east-1"

	// DynamoDB on-demand.
	USDPerMillionWRU = 1.25
	USDPerMillionRRU = 0.25
	// Lambda, arm64.
	USDPerLambdaGBSecond        = 0.0000133334
	USDPerMillionLambdaRequests = 0.20
	// SES outbound email.
	USDPerThousandEmails = 0.10
	// EventBridge Scheduler invocations and HTTP API requests.
	USDPerMillionSchedulerInvocations = 1.00
	USDPerMillionHTTPAPIRequests      = 1.00
	// SQS standard queue requests (the settle queue).
	USDPerMillionSQSRequests = 0.40
)

// Lambda memory sizes, from infra/template.yaml.
const (
	CaptureMemoryGB    = 256.0 / 1024
	LinksMemoryGB      = 256.0 / 1024
	SchedulerMemoryGB  = 128.0 / 1024
	EngagementMemoryGB = 128.0 / 1024
	AlertsMemoryGB     = 128.0 / 1024
	EventsMemoryGB     = 128.0 / 1024
)

// Assumptions of the cost model: what one nurtured lead does in a month.
const (
	ModelLeads               = 10000
	CapturesPerLead          = 1.0
	EmailsPerLead            = 4.0
	EngagementEventsPerEmail = 3.0
	LinkClicksPerLead        = 0.2
	// Per-client limits (shared/limit): a form post's two counters (its
	// IP's and its address's) are in the capture's measured units; a
	// link's post writes two as well (its IP's and its lead's, 1 WRU each,
	// modelled), counted for every click though an unsubscribe writes
	// none: an upper bound. A junk link writes nothing.
	LinkLimitWRU = 2.0
	// The scheduler runs every 5 minutes, whether or not anything is due.
	TicksPerMonth = 30 * 24 * 12
	// Sales alerts: about the top 15% of leads cross a threshold in a month.
	AlertsPerLead = 0.15
	// Per alert, modelled (not measured): the table's stream invokes the
	// alerts function about twice (the crossing's record, and the record
	// of the write that recorded the send), ~0.2 s each; it writes the
	// claim, the alert activity and the record (1 WRU each, a lead stays
	// under 1 KB) and reads the lead twice and its activities (~4 RRU).
	// Lambda reads the stream at no charge, and filtered-out records
	// invoke nothing.
	AlertInvocations = 2.0
	AlertSeconds     = 0.2
	AlertWRU         = 3.0
	AlertRRU         = 4.0
	// The settle time's wake-up (modelled): ClickCausedShare of the alerts
	// are caused by a click or an open and settle. Each write of the lead
	// while it settles (the crossing's, and about one more: the click's
	// burst, its open) asks for a wake-up: an invocation of the alerts
	// function that reads the lead (1 RRU) and sends a message to the
	// settle queue; each message comes back as an invocation that reads
	// the lead (1 RRU), and the first wakes it (1 WRU; the send is costed
	// as an alert above). SQS bills the SendMessage and the DeleteMessage
	// of each message; the receives are the event source mapping's polls,
	// which long-poll an idle queue all month (SettleQueuePolls: about 5
	// pollers, 20 s each, assumed from Lambda's documented behaviour).
	ClickCausedShare       = 0.5
	SettleMessagesPerAlert = 2.0
	SettleInvocations      = 2.0 // per message: the record that asks, the wake-up
	SettleSeconds          = 0.05
	SettleRRU              = 2.0 // per message
	SettleWRU              = 1.0 // per alert
	SQSRequestsPerMessage  = 2.0
	SettleQueuePolls       = 5 * 3 * 60 * 24 * 30
	// Lifecycle events for a CRM: every lead's lead.captured, the
	// crossings' lead.sales_ready, and sales' decisions and unsubscribes
	// (about 0.05 each). Each is one invocation of the 128 MB events
	// function (the stream's record, filtered to leads with an event
	// ready), which reads the lead (1 RRU), posts, and writes the lead
	// without it (1 WRU: the item stays under 1 KB, the due index's keys do
	// not change). The event itself rides in the write that changes the
	// lead, which costs nothing more while the lead stays under 1 KB (make
	// bench measures every scenario with a lead.captured event waiting).
	// ~0.1 s: the receiver's answer, measured locally in the outbox
	// scenario.
	LifecycleEventsPerLead = 1.0 + AlertsPerLead + 0.05 + 0.05
	EventWRU               = 1.0
	EventRRU               = 1.0
	EventSeconds           = 0.1
)

// Sales follow-through (modelled, not measured): of the alerts,
// RemindedShare wait long enough for a reminder and EscalatedShare for an
// escalation as well. A follow-up is a tick's write of the lead that
// queues it (1 WRU), then sent like an alert (one invocation, AlertWRU,
// AlertRRU) as one email. The open index adds OpenIndexWRU per alert (its
// entry written when the alert goes out and removed at the decision; the
// lead writes between change no index key and write nothing there). Each
// of DigestOwners routing addresses gets a digest on BusinessDaysPerMonth
// days: the day's claim (1 WRU, once per warm scheduler), the open index's
// query and the open leads' reads (DigestRRU), one email.
const (
	RemindedShare        = 0.5
	EscalatedShare       = 0.2
	OpenIndexWRU         = 2.0
	DigestOwners         = 3
	BusinessDaysPerMonth = 21
	DigestRRU            = 5.0
)

// Lifelong nurture (modelled, not measured): after their tracks leads go
// on to the evergreen cadence, one email a month, until they unsubscribe
// or go quiet. Of each month's leads, EvergreenShare keep engaging and
// hear from us for EvergreenMonths on average; the others get one
// re-engagement email and go dormant (the lead's write and its due index
// entry's removal, DormantWRU). In steady state each month's cohort so
// brings EvergreenShare × EvergreenMonths evergreen emails a month of
// earlier leads with it. Evergreen and re-engagement emails are the same
// claim as a track's step (TestScheduler_lifelongSends_costThreeWriteUnits)
// and are costed at step 2's measured units, with their engagement events.
const (
	EvergreenShare  = 0.4
	EvergreenMonths = 12.0
	ReengagedShare  = 1 - EvergreenShare
	DormantWRU      = 2.0
)

// Monitoring and keeping the data (modelled, prices us-east-1 as of
// PricesDate, no free tier: it would cover 10 custom metrics, 10 alarms,
// 3 dashboards and 5 GB of logs a month). DynamoDB bills storage by the
// GB-month, and point-in-time recovery (which the export to S3 for Athena
// needs, docs/athena.md) by the GB-month of the table too.
const (
	USDPerGBLogsIngested    = 0.50
	USDPerCustomMetricMonth = 0.30
	USDPerDashboardMonth    = 3.00
	USDPerAlarmMonth        = 0.10
	USDPerGBMonthStored     = 0.25
	USDPerGBMonthPITR       = 0.20
	USDPerGBExported        = 0.10
)

// The business metrics (shared/metrics): one EMF line in a function's log
// per captured lead, nurture email, alert and sales decision. A line is
// about 250 bytes (measured), and CloudWatch Logs bills 26 bytes more per
// event. Each alert is assumed to get one decision.
const (
	MetricLineBytes   = 250 + 26
	DecisionsPerAlert = 1.0
	Dashboards        = 1
	// Alarms is how many AWS::CloudWatch::Alarm the template holds (a test
	// keeps the two equal).
	Alarms = 19
)

// Table size, from items written through the real handlers on DynamoDB
// Local (an activity 0.21-0.43 KB, an event's record 0.08 KB, a lead with
// an alert 0.9 KB), each with the 100 bytes DynamoDB bills per item. TTL
// removes activities and event records after the program's
// retention.activityDays; leads stay, and the model counts them for as
// long.
const (
	ActivityItemKB = 0.4
	EventRecordKB  = 0.18
	LeadItemKB     = 1.0
)

// The program's results (docs/report.md), per month. Every email's SES Send
// event stores a sent activity (SentActivityWRU, measured in the
// engagement tests' store: a put of a small item), and every activity has
// its copy in the day index: DynamoDB bills an index write per KB like the
// table's (JournalWRUPerActivity; DynamoDB Local reports no index units,
// so it is modelled). The report function runs RollupRunsPerMonth times;
// each rebuilds the hour before and the current one, so an activity is
// read by about RollupReadsPerActivity runs (four while its hour is
// current, four as the hour before, once for its day), at the rollup's
// read units per activity read as make bench measures them (the journal's
// query and the BatchGetItem of its leads; ModelRollupRRUPerActivityRead
// when the scenario did not run). A run writes two hour summaries
// (SummaryWRUPerRun) and takes about RollupSecondsPerRun; each of
// PageViewsPerMonth page views reads the stored days (make bench's 8-week
// report, or PageRRU), and one digest goes out a week.
const (
	SentActivityWRU               = 1.0
	JournalWRUPerActivity         = 1.0
	RollupRunsPerMonth            = 30 * 24 * 4
	RollupReadsPerActivity        = 9.0
	ModelRollupRRUPerActivityRead = 0.6
	SummaryWRUPerRun              = 2 * 3.0
	RollupSecondsPerRun           = 0.5
	ReportMemoryGB                = 256.0 / 1024
	PageViewsPerMonth             = 100
	PageRRU                       = 60.0
	ResultDigestsPerMonth         = 4.3
)

// Results are the cost lines of the program's results for a month of
// activities and emails, at rollupRRU read units per activity read and
// pageRRU per page view (0: PageRRU).
func Results(activities, emails, rollupRRU, pageRRU float64) []Cost {
	if pageRRU == 0 {
		pageRRU = PageRRU
	}
	wru := emails*SentActivityWRU + (activities)*JournalWRUPerActivity + RollupRunsPerMonth*SummaryWRUPerRun
	rru := activities*RollupReadsPerActivity*rollupRRU + PageViewsPerMonth*pageRRU
	gbs := RollupRunsPerMonth * RollupSecondsPerRun * ReportMemoryGB
	return []Cost{
		{fmt.Sprintf("results writes: %.0f sent activities, %.0f day-index copies, %d runs' summaries: %.0f WRU × $%.2f/M", emails, activities, RollupRunsPerMonth, wru, USDPerMillionWRU), wru / 1e6 * USDPerMillionWRU, false},
		{fmt.Sprintf("results reads: each activity read %g times at %.3f RRU, %d page views at %.0f RRU: %.0f RRU × $%.2f/M", RollupReadsPerActivity, rollupRRU, PageViewsPerMonth, pageRRU, rru, USDPerMillionRRU), rru / 1e6 * USDPerMillionRRU, false},
		{fmt.Sprintf("report function: %d runs, %.0f GB-s, and their schedule", RollupRunsPerMonth, gbs),
			gbs*USDPerLambdaGBSecond + RollupRunsPerMonth/1e6*(USDPerMillionLambdaRequests+USDPerMillionSchedulerInvocations), true},
		{fmt.Sprintf("weekly results digest: %.1f emails", ResultDigestsPerMonth), ResultDigestsPerMonth / 1000 * USDPerThousandEmails, true},
	}
}

// Cost is one line of the cost model.
type Cost struct {
	What string
	USD  float64
	// Fixed costs are the stack's, the same at any volume.
	Fixed bool
}

// Monitoring is a month of the business metrics (metricLines EMF lines
// ingested by CloudWatch Logs; a custom metric per metric and dimension
// value, metrics.Series), the dashboard and the alarms.
func Monitoring(metricLines float64) []Cost {
	gb := metricLines * MetricLineBytes / 1e9
	series := metrics.Series()
	return []Cost{
		{fmt.Sprintf("CloudWatch Logs: %.0f business-metric lines (EMF), %.3f GB × $%.2f/GB", metricLines, gb, USDPerGBLogsIngested), gb * USDPerGBLogsIngested, false},
		{fmt.Sprintf("CloudWatch custom metrics: %d × $%.2f", series, USDPerCustomMetricMonth), float64(series) * USDPerCustomMetricMonth, true},
		{fmt.Sprintf("CloudWatch dashboard: %d × $%.2f", Dashboards, USDPerDashboardMonth), Dashboards * USDPerDashboardMonth, true},
		{fmt.Sprintf("CloudWatch alarms: %d × $%.2f", Alarms, USDPerAlarmMonth), Alarms * USDPerAlarmMonth, true},
	}
}

// Storage is a month of keeping the table in steady state: months of
// activities and event records (each month's as written), and as many
// months of leads; and point-in-time recovery on all of it. It returns
// the table's size too.
func Storage(activitiesPerMonth, eventRecordsPerMonth, leadsPerMonth, months float64) (float64, []Cost) {
	kb := months * (activitiesPerMonth*ActivityItemKB + eventRecordsPerMonth*EventRecordKB + leadsPerMonth*LeadItemKB)
	gb := kb / (1024 * 1024)
	return gb, []Cost{
		{fmt.Sprintf("DynamoDB storage: %.2f GB (%.0f months kept) × $%.2f/GB-month", gb, months, USDPerGBMonthStored), gb * USDPerGBMonthStored, false},
		{fmt.Sprintf("DynamoDB point-in-time recovery: %.2f GB × $%.2f/GB-month", gb, USDPerGBMonthPITR), gb * USDPerGBMonthPITR, false},
	}
}

// Double opt-in (modelled, not measured): every nurtured lead got its
// confirmation email (the same claim as step 1, costed at its measured
// units) and confirmed it (the page's GET and the button's POST, costed
// like link clicks: the POST is the same transaction as an applied
// event); ConfirmRemindedShare of them only after the reminder. For every
// nurtured lead, UnconfirmedPerLead more addresses were posted and never
// confirmed: their capture, two emails (the confirmation and the
// reminder), and their deletion at expiry (a query of their items, then
// the lead, its download and the post's record: ExpiredWRU).
const (
	ConfirmRemindedShare = 0.2
	UnconfirmedPerLead   = 0.3
	ExpiredWRU           = 3.0
	ExpiredRRU           = 1.0
)
