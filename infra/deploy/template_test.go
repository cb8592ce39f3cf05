package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/outbox"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sesevent"
	"github.com/leadnurture/nurture/shared/store"
	nurturetoken "github.com/leadnurture/nurture/shared/token"
)

// ---------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------

func TestTemplate_oneFunctionPerFolderAndTheReverse(t *testing.T) {
	tpl := loadTemplate(t)
	fns := tpl.Functions()
	want := map[string]bool{}
	for _, name := range functionFolders(t) {
		id := logicalID(name)
		want[id] = true
		if _, ok := fns[id]; !ok {
			t.Errorf("functions/%s has no resource %s (AWS::Serverless::Function) in %s", name, id, templatePath)
		}
	}
	for id := range fns {
		if !want[id] {
			t.Errorf("%s: no folder functions/%s with a main.go; the Makefile's build-%%Function rule builds functions/<lower-case name>",
				id, strings.ToLower(strings.TrimSuffix(id, "Function")))
		}
	}
}

func TestTemplate_functionsAreBuiltAndRunAsLambdaWants(t *testing.T) {
	tpl := loadTemplate(t)
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^build-%Function:`).Match(mk) {
		t.Errorf("the Makefile has no build-%%Function rule for sam build's makefile build method")
	}
	for _, id := range sortedKeys(tpl.Functions()) {
		fn := tpl.Resources[id]
		t.Run(id, func(t *testing.T) {
			for prop, want := range map[string]any{
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Handler":       "bootstrap",
				"CodeUri":       "../",
			} {
				if got := tpl.FunctionProp(fn, prop); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %s, want %s", prop, canon(got), canon(want))
				}
			}
			if got := str(fn.Metadata["BuildMethod"]); got != "makefile" {
				t.Errorf("Metadata.BuildMethod = %q, want makefile (the root Makefile's build-%s)", got, id)
			}
			for _, prop := range []string{"MemorySize", "Timeout"} {
				if _, ok := fn.Properties[prop].(float64); !ok {
					t.Errorf("%s is not set on the function (size it from the boot test's measurements)", prop)
				}
			}
			logs, ok := ref(mapAt(fn.Properties, "LoggingConfig")["LogGroup"])
			if !ok || tpl.Resources[logs].Type != "AWS::Logs::LogGroup" {
				t.Errorf("LoggingConfig.LogGroup = %s, want !Ref of its own AWS::Logs::LogGroup", canon(fn.Properties["LoggingConfig"]))
			} else if tpl.Resources[logs].Properties["RetentionInDays"] == nil {
				t.Errorf("log group %s has no RetentionInDays", logs)
			}
			role, attr, ok := getAtt(fn.Properties["Role"])
			if !ok || attr != "Arn" || tpl.Resources[role].Type != "AWS::IAM::Role" {
				t.Errorf("Role = %s, want !GetAtt of its own AWS::IAM::Role", canon(fn.Properties["Role"]))
			}
		})
	}
	for id, r := range tpl.Resources {
		if r.Type == "AWS::Logs::LogGroup" && r.Properties["RetentionInDays"] == nil {
			t.Errorf("log group %s has no RetentionInDays", id)
		}
	}
}

// ---------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------

// localOnly are variables that point the functions at the local stack; in
// AWS the SDK's regional endpoints are right, so the template never sets
// them.
var localOnly = map[string]string{
	"DYNAMODB_ENDPOINT": "DynamoDB Local's URL",
	"SES_ENDPOINT":      "SES local's URL",
	"SQS_ENDPOINT":      "an SQS emulator's URL",
}

// secrets are the settings that never sit in an environment: the variable
// the local stack sets, the one naming its SSM SecureString in AWS, and the
// config function or method that reads it at start.
var secrets = map[string]struct{ parameter, loader, templateParameter string }{
	"TOKEN_KEYS":    {"TOKEN_KEYS_PARAMETER", "LoadTokenKeys", "TokenKeysParameter"},
	"WEBHOOK_URL":   {"WEBHOOK_URL_PARAMETER", "LoadWebhookURL", "AlertWebhookParameter"},
	"EVENTS_URL":    {"EVENTS_PARAMETER", "LoadEventsWebhook", "LifecycleEventsParameter"},
	"EVENTS_SECRET": {"EVENTS_PARAMETER", "LoadEventsWebhook", "LifecycleEventsParameter"},
}

// TestTemplate_setsEveryVariableTheCodeReads reads each function's code
// (its main, shared/config and every package of ours it imports) and
// demands that the template sets for it exactly the variables it uses:
// a variable added to the code and forgotten in the template fails here,
// and so does one set where no code reads it.
func TestTemplate_setsEveryVariableTheCodeReads(t *testing.T) {
	tpl := loadTemplate(t)
	for _, name := range functionFolders(t) {
		t.Run(name, func(t *testing.T) {
			fn, ok := tpl.Resources[logicalID(name)]
			if !ok {
				t.Fatalf("functions/%s has no %s resource in the template", name, logicalID(name))
			}
			use := functionUsage(t, name)
			env := tpl.Env(fn)
			for _, v := range sortedKeys(use.Env) {
				where := use.Env[v]
				_, set := env[v]
				switch {
				case strings.HasPrefix(v, "AWS_"):
					// Lambda's own (AWS_REGION, AWS_ACCESS_KEY_ID,
					// AWS_LAMBDA_RUNTIME_API ...): reserved, set by Lambda.
					if set {
						t.Errorf("%s is reserved by Lambda; the template must not set it", v)
					}
				case localOnly[v] != "":
					if set {
						t.Errorf("%s (%s, read at %s) is for the local stack only; the template must not set it", v, localOnly[v], where)
					}
				case secrets[v].loader != "":
					// A secret: the template names the SSM SecureString
					// that holds it, and the loader reads it at start.
					s := secrets[v]
					if set {
						t.Errorf("%s is a secret and must never be in the template; set %s", v, s.parameter)
					}
					if !use.Calls[s.loader] {
						t.Errorf("reads %s (%s) but never calls %s: in AWS it would start without it", v, where, s.loader)
					}
				case !set:
					t.Errorf("reads %s (%s) but %s does not set it", v, where, logicalID(name))
				}
			}
			for _, v := range sortedKeys(env) {
				if _, read := use.Env[v]; !read {
					t.Errorf("%s sets %s, which functions/%s never reads", logicalID(name), v, name)
				}
			}
		})
	}
}

// DUE_SHARDS must be one value everywhere: capture writes leads into the
// shards the scheduler reads.
func TestTemplate_dueShardsAreTheSameForEveryFunction(t *testing.T) {
	tpl := loadTemplate(t)
	values := map[string][]string{}
	for id, fn := range tpl.Functions() {
		if v, ok := tpl.Env(fn)["DUE_SHARDS"]; ok {
			values[canon(v)] = append(values[canon(v)], id)
		}
	}
	if len(values) > 1 {
		t.Errorf("DUE_SHARDS differs between functions: %v", values)
	}
}

// ---------------------------------------------------------------------------
// Event sources: what each handler decodes
// ---------------------------------------------------------------------------

// events returns the HttpApi, ScheduleV2 ... events of a function.
func events(fn Resource, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for name, e := range mapAt(fn.Properties, "Events") {
		if m, ok := e.(map[string]any); ok && m["Type"] == typ {
			props, _ := m["Properties"].(map[string]any)
			out[name] = props
		}
	}
	return out
}

func TestTemplate_routesAreTheHTTPAPIRoutes(t *testing.T) {
	tpl := loadTemplate(t)
	got := map[string]string{}
	for id, fn := range tpl.Functions() {
		for name, e := range events(fn, "HttpApi") {
			key := str(e["Method"]) + " " + str(e["Path"])
			if prev, dup := got[key]; dup {
				t.Errorf("route %s is on %s and %s", key, prev, id)
			}
			got[key] = id
			if api, _ := ref(e["ApiId"]); api != "HttpApi" {
				t.Errorf("%s.%s: ApiId = %s, want !Ref HttpApi", id, name, canon(e["ApiId"]))
			}
			if v := str(e["PayloadFormatVersion"]); v != "2.0" {
				t.Errorf("%s.%s: PayloadFormatVersion = %q; the handlers decode API Gateway v2 (2.0) events", id, name, v)
			}
		}
	}
	want := map[string]string{}
	for _, r := range httpapi.Routes {
		want[r.RouteKey()] = logicalID(r.Function)
	}
	for _, k := range sortedKeys(want) {
		if got[k] != want[k] {
			t.Errorf("route %s: template has it on %q, httpapi.Routes on %s", k, got[k], want[k])
		}
	}
	for _, k := range sortedKeys(got) {
		if _, ok := want[k]; !ok {
			t.Errorf("route %s (%s) is not in httpapi.Routes", k, got[k])
		}
	}
	// The samples in events/ are what API Gateway hands each function.
	for folder, fnName := range map[string]string{"capture": "capture", "links": "links"} {
		for _, s := range samples(t, folder) {
			var e struct {
				RouteKey string `json:"routeKey"`
			}
			if err := json.Unmarshal(s.body, &e); err != nil {
				t.Errorf("%s: %v", s.path, err)
				continue
			}
			if got[e.RouteKey] != logicalID(fnName) {
				t.Errorf("%s: routeKey %q is not a route of %s in the template", s.path, e.RouteKey, logicalID(fnName))
			}
		}
	}

	api := tpl.Resources["HttpApi"]
	if api.Type != "AWS::Serverless::HttpApi" {
		t.Fatalf("HttpApi is %q, want AWS::Serverless::HttpApi", api.Type)
	}
	cors := mapAt(api.Properties, "CorsConfiguration")
	if p, _ := ref(cors["AllowOrigins"]); p != "SiteOrigins" {
		t.Errorf("CorsConfiguration.AllowOrigins = %s, want !Ref SiteOrigins", canon(cors["AllowOrigins"]))
	}
	if cors["AllowCredentials"] == true {
		t.Error("CORS allows credentials; the forms need none")
	}
	// The local server plays this configuration from httpapi.CORS.
	for key, want := range map[string]any{"AllowMethods": httpapi.CORS.AllowMethods, "AllowHeaders": httpapi.CORS.AllowHeaders, "MaxAge": httpapi.CORS.MaxAge} {
		if canon(cors[key]) != canon(want) {
			t.Errorf("CorsConfiguration.%s = %s, httpapi.CORS says %s", key, canon(cors[key]), canon(want))
		}
	}
	thr := mapAt(api.Properties, "DefaultRouteSettings")
	if thr["ThrottlingBurstLimit"] == nil || thr["ThrottlingRateLimit"] == nil {
		t.Errorf("DefaultRouteSettings = %s, want throttling (burst and rate)", canon(thr))
	}
	if mapAt(api.Properties, "AccessLogSettings")["DestinationArn"] == nil {
		t.Error("HttpApi has no AccessLogSettings")
	}
}

func TestTemplate_scheduleHandsTheSchedulerItsInput(t *testing.T) {
	tpl := loadTemplate(t)
	fn, ok := tpl.Resources[logicalID("scheduler")]
	if !ok {
		t.Fatal("no SchedulerFunction")
	}
	sched := events(fn, "ScheduleV2")
	if len(sched) != 1 || len(mapAt(fn.Properties, "Events")) != 1 {
		t.Fatalf("SchedulerFunction events = %s, want exactly one ScheduleV2", canon(fn.Properties["Events"]))
	}
	var e map[string]any
	for _, e = range sched {
	}
	var input map[string]any
	if err := json.Unmarshal([]byte(str(e["Input"])), &input); err != nil {
		t.Fatalf("ScheduleV2 Input %q: %v", str(e["Input"]), err)
	}
	fields := inputFields(t)
	if got, want := sortedKeys(input), sortedKeys(fields); !slices.Equal(got, want) {
		t.Errorf("ScheduleV2 Input keys %v, functions/scheduler Input decodes %v", got, want)
	}
	if v := input["scheduledTime"]; v != "<aws.scheduler.scheduled-time>" {
		t.Errorf("Input scheduledTime = %v, want <aws.scheduler.scheduled-time>", v)
	}
	for _, s := range samples(t, "scheduler") {
		var m map[string]any
		if err := json.Unmarshal(s.body, &m); err != nil {
			t.Fatalf("%s: %v", s.path, err)
		}
		if got, want := sortedKeys(m), sortedKeys(fields); !slices.Equal(got, want) {
			t.Errorf("%s keys %v, the Input struct has %v", s.path, got, want)
		}
	}
	if mapAt(e, "RetryPolicy")["MaximumRetryAttempts"] == nil {
		t.Error("the schedule has no RetryPolicy")
	}
	if mapAt(e, "DeadLetterConfig")["Arn"] == nil {
		t.Error("the schedule has no DeadLetterConfig")
	}
	if _, ok := getAttQueue(tpl, mapAt(fn.Properties, "DeadLetterQueue")["TargetArn"]); !ok {
		t.Error("SchedulerFunction has no DeadLetterQueue (failed asynchronous ticks)")
	}
	// One tick at a time (the send pace is per invocation), and a tick
	// ends before the next one starts.
	if rc := fn.Properties["ReservedConcurrentExecutions"]; rc != 1.0 {
		t.Errorf("ReservedConcurrentExecutions = %v, want 1", rc)
	}
	every := rateSeconds(t, str(e["ScheduleExpression"]))
	timeout, _ := fn.Properties["Timeout"].(float64)
	if timeout < 60 || timeout > every {
		t.Errorf("Timeout %vs: want at least 60s (a tick stops claiming 15s before its deadline) and at most the schedule's %vs", timeout, every)
	}
}

// inputFields reads the json names of functions/scheduler's Input struct.
func inputFields(t *testing.T) map[string]bool {
	t.Helper()
	path := filepath.Join(root, "functions", "scheduler", "main.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Input" {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		for _, fl := range st.Fields.List {
			name := ""
			if fl.Tag != nil {
				tag, _ := strconv.Unquote(fl.Tag.Value)
				name, _, _ = strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			}
			if name == "" && len(fl.Names) > 0 {
				name = fl.Names[0].Name
			}
			if name != "" && name != "-" {
				fields[name] = true
			}
		}
		return false
	})
	if len(fields) == 0 {
		t.Fatalf("%s: no Input struct", path)
	}
	return fields
}

func rateSeconds(t *testing.T, expr string) float64 {
	t.Helper()
	m := regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours)\)$`).FindStringSubmatch(expr)
	if m == nil {
		t.Fatalf("ScheduleExpression %q: want rate(N minutes)", expr)
	}
	n, _ := strconv.Atoi(m[1])
	if strings.HasPrefix(m[2], "hour") {
		return float64(n * 3600)
	}
	return float64(n * 60)
}

// sesConfigurationSetTag is the tag SES puts on every event of a
// configuration set, valued with the set's name.
const sesConfigurationSetTag = "ses:configuration-set"

// firstOf is a list's first element, or nil.
func firstOf(l []any) any {
	if len(l) == 0 {
		return nil
	}
	return l[0]
}

// sesEventTypes maps the configuration set's MatchingEventTypes to the
// record eventType each publishes.
var sesEventTypes = map[string]string{
	"SEND":              sesevent.EventSend,
	"DELIVERY":          sesevent.EventDelivery,
	"OPEN":              sesevent.EventOpen,
	"CLICK":             sesevent.EventClick,
	"BOUNCE":            sesevent.EventBounce,
	"COMPLAINT":         sesevent.EventComplaint,
	"REJECT":            sesevent.EventReject,
	"DELIVERY_DELAY":    sesevent.EventDeliveryDelay,
	"RENDERING_FAILURE": sesevent.EventRenderingFailure,
	"SUBSCRIPTION":      sesevent.EventSubscription,
}

// The configuration set publishes to the default bus exactly the events the
// rule forwards, and the rule forwards what the engagement function decodes:
// every sample in events/engagement it decodes matches the rule (on source,
// detail-type and the configuration set's tag, as EventBridge matches), the
// one it ignores does not.
func TestTemplate_sesEventsReachTheEngagementFunction(t *testing.T) {
	tpl := loadTemplate(t)
	var dest map[string]any
	for id, r := range tpl.Resources {
		if r.Type == "AWS::SES::ConfigurationSetEventDestination" {
			if dest != nil {
				t.Errorf("more than one event destination (%s)", id)
			}
			if cs, _ := ref(r.Properties["ConfigurationSetName"]); cs != "ConfigurationSet" {
				t.Errorf("%s: ConfigurationSetName = %s, want !Ref ConfigurationSet", id, canon(r.Properties["ConfigurationSetName"]))
			}
			dest = mapAt(r.Properties, "EventDestination")
		}
	}
	if dest == nil {
		t.Fatal("no AWS::SES::ConfigurationSetEventDestination")
	}
	if bus, _ := sub(mapAt(dest, "EventBridgeDestination")["EventBusArn"]); !strings.HasSuffix(bus, ":event-bus/default") {
		t.Errorf("EventBridgeDestination.EventBusArn = %s, want the default bus", canon(mapAt(dest, "EventBridgeDestination")["EventBusArn"]))
	}
	if dest["Enabled"] != true {
		t.Error("the event destination is not enabled")
	}
	published := map[string]bool{}
	for _, m := range listOf(dest["MatchingEventTypes"]) {
		et, ok := sesEventTypes[str(m)]
		if !ok {
			t.Errorf("MatchingEventTypes: unknown %v", m)
			continue
		}
		published[sesevent.DetailType(et)] = true
	}
	for _, need := range []string{"OPEN", "CLICK", "BOUNCE", "COMPLAINT", "DELIVERY"} {
		if !published[sesevent.DetailType(sesEventTypes[need])] {
			t.Errorf("MatchingEventTypes lacks %s (open and click tracking, suppression and the MessageId of sent steps need it)", need)
		}
	}

	fn, ok := tpl.Resources[logicalID("engagement")]
	if !ok {
		t.Fatal("no EngagementFunction")
	}
	rules := events(fn, "EventBridgeRule")
	if len(rules) != 1 || len(mapAt(fn.Properties, "Events")) != 1 {
		t.Fatalf("EngagementFunction events = %s, want exactly one EventBridgeRule", canon(fn.Properties["Events"]))
	}
	var rule map[string]any
	for _, rule = range rules {
	}
	if bus := str(rule["EventBusName"]); bus != "" && bus != "default" {
		t.Errorf("the rule is on bus %q; SES publishes to the default bus", bus)
	}
	pattern := mapAt(rule, "Pattern")
	if src := listOf(pattern["source"]); len(src) != 1 || src[0] != sesevent.Source {
		t.Errorf("Pattern.source = %s, want [%q]", canon(src), sesevent.Source)
	}
	forwarded := map[string]bool{}
	for _, dt := range listOf(pattern["detail-type"]) {
		forwarded[str(dt)] = true
	}
	if got, want := sortedKeys(forwarded), sortedKeys(published); !slices.Equal(got, want) {
		t.Errorf("the rule forwards %v, the configuration set publishes %v", got, want)
	}
	// SES tags every event of a configuration set with the set's name; its
	// events are not documented to name the set in resources, and samples
	// published with "resources": [] would match no rule that asks for it.
	configSets := listOf(mapAt(mapAt(mapAt(pattern, "detail"), "mail"), "tags")[sesConfigurationSetTag])
	if cs, _ := ref(firstOf(configSets)); len(configSets) != 1 || cs != "ConfigurationSet" {
		t.Errorf("Pattern.detail.mail.tags.%s = %s, want [!Ref ConfigurationSet]: other sets' events would reach the function", sesConfigurationSetTag, canon(configSets))
	}
	if _, ok := pattern["resources"]; ok {
		t.Errorf("Pattern.resources = %s: SES events need not name the configuration set there", canon(pattern["resources"]))
	}
	if mapAt(rule, "RetryPolicy")["MaximumRetryAttempts"] == nil {
		t.Error("the rule has no RetryPolicy")
	}
	if _, ok := getAttQueue(tpl, mapAt(rule, "DeadLetterConfig")["Arn"]); !ok {
		t.Error("the rule has no DeadLetterConfig with a queue of the template")
	}
	if _, ok := getAttQueue(tpl, mapAt(fn.Properties, "DeadLetterQueue")["TargetArn"]); !ok {
		t.Error("EngagementFunction has no DeadLetterQueue (events that keep failing)")
	}

	// The samples' configuration set is this one; they are matched as the
	// rule matches, on source, detail-type and the set's tag.
	const sampleConfigSet = "nurture-prod"
	decoded := map[string]bool{}
	var withoutResources int
	for _, s := range samples(t, "engagement") {
		var env struct {
			Source     string   `json:"source"`
			DetailType string   `json:"detail-type"`
			Resources  []string `json:"resources"`
			Detail     struct {
				Mail struct {
					Tags map[string][]string `json:"tags"`
				} `json:"mail"`
			} `json:"detail"`
		}
		if err := json.Unmarshal(s.body, &env); err != nil {
			t.Fatalf("%s: %v", s.path, err)
		}
		if env.DetailType == "" {
			continue // SNS-wrapped: another route in, not this rule's
		}
		tagged := slices.Contains(env.Detail.Mail.Tags[sesConfigurationSetTag], sampleConfigSet)
		matches := env.Source == sesevent.Source && forwarded[env.DetailType] && tagged
		if matches && len(env.Resources) == 0 {
			withoutResources++
		}
		_, err := sesevent.Decode(s.body)
		switch {
		case err == nil && !matches:
			t.Errorf("%s: the function decodes %q but the rule does not forward it", s.path, env.DetailType)
		case err == nil:
			decoded[env.DetailType] = true
		case errors.Is(err, sesevent.ErrUnknownShape) && matches:
			t.Errorf("%s: the rule forwards %q but the function ignores it: %v", s.path, env.DetailType, err)
		case !errors.Is(err, sesevent.ErrUnknownShape):
			t.Errorf("%s: %v", s.path, err)
		}
	}
	for _, dt := range sortedKeys(forwarded) {
		if !decoded[dt] {
			t.Errorf("no sample in events/engagement for %q", dt)
		}
	}
	if withoutResources == 0 {
		t.Error(`no sample in events/engagement with "resources": [] reaches the function`)
	}

	cs := tpl.Resources["ConfigurationSet"]
	if cs.Type != "AWS::SES::ConfigurationSet" {
		t.Fatalf("ConfigurationSet is %q", cs.Type)
	}
	if mapAt(cs.Properties, "ReputationOptions")["ReputationMetricsEnabled"] != true {
		t.Error("the configuration set has no reputation metrics")
	}
	if mapAt(cs.Properties, "DeliveryOptions")["TlsPolicy"] != "REQUIRE" {
		t.Error("the configuration set does not require TLS")
	}
}

func getAttQueue(tpl *Template, v any) (string, bool) {
	id, attr, ok := getAtt(v)
	return id, ok && attr == "Arn" && tpl.Resources[id].Type == "AWS::SQS::Queue"
}

type sample struct {
	path string
	body []byte
}

func samples(t testing.TB, folder string) []sample {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "events", folder, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no samples in events/%s", folder)
	}
	sort.Strings(paths)
	var out []sample
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sample{path: p, body: b})
	}
	return out
}

// ---------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------

func TestTemplate_tableIsTheStoreSchema(t *testing.T) {
	tpl := loadTemplate(t)
	var tables []string
	for id, r := range tpl.Resources {
		if r.Type == "AWS::DynamoDB::Table" {
			tables = append(tables, id)
		}
	}
	if len(tables) != 1 || tables[0] != "Table" {
		t.Fatalf("tables %v, want one, Table", tables)
	}
	tb := tpl.Resources["Table"]
	p := tb.Properties
	def := store.TableDefinition("x")

	if got := str(p["BillingMode"]); got != string(def.BillingMode) {
		t.Errorf("BillingMode = %q, want %q", got, def.BillingMode)
	}
	wantAttrs := map[string]string{}
	for _, a := range def.AttributeDefinitions {
		wantAttrs[*a.AttributeName] = string(a.AttributeType)
	}
	gotAttrs := map[string]string{}
	for _, a := range listOf(p["AttributeDefinitions"]) {
		m, _ := a.(map[string]any)
		gotAttrs[str(m["AttributeName"])] = str(m["AttributeType"])
	}
	if !reflect.DeepEqual(gotAttrs, wantAttrs) {
		t.Errorf("AttributeDefinitions = %v, store has %v", gotAttrs, wantAttrs)
	}
	keys := func(v any) string {
		var s []string
		for _, k := range listOf(v) {
			m, _ := k.(map[string]any)
			s = append(s, str(m["AttributeName"])+":"+str(m["KeyType"]))
		}
		return strings.Join(s, ",")
	}
	var wantKeys []string
	for _, k := range def.KeySchema {
		wantKeys = append(wantKeys, *k.AttributeName+":"+string(k.KeyType))
	}
	if got := keys(p["KeySchema"]); got != strings.Join(wantKeys, ",") {
		t.Errorf("KeySchema = %s, store has %s", got, strings.Join(wantKeys, ","))
	}
	wantGSI := map[string]string{}
	for _, g := range def.GlobalSecondaryIndexes {
		var ks []string
		for _, k := range g.KeySchema {
			ks = append(ks, *k.AttributeName+":"+string(k.KeyType))
		}
		wantGSI[*g.IndexName] = strings.Join(ks, ",") + " " + string(g.Projection.ProjectionType)
	}
	gotGSI := map[string]string{}
	for _, g := range listOf(p["GlobalSecondaryIndexes"]) {
		m, _ := g.(map[string]any)
		gotGSI[str(m["IndexName"])] = keys(m["KeySchema"]) + " " + str(mapAt(m, "Projection")["ProjectionType"])
	}
	if !reflect.DeepEqual(gotGSI, wantGSI) {
		t.Errorf("GlobalSecondaryIndexes = %v, store has %v", gotGSI, wantGSI)
	}
	ttl := mapAt(p, "TimeToLiveSpecification")
	if str(ttl["AttributeName"]) != store.AttrExpiresAt || ttl["Enabled"] != true {
		t.Errorf("TimeToLiveSpecification = %s, want %s enabled", canon(ttl), store.AttrExpiresAt)
	}
	if mapAt(p, "PointInTimeRecoverySpecification")["PointInTimeRecoveryEnabled"] != true {
		t.Error("no point-in-time recovery")
	}
	if mapAt(p, "SSESpecification")["SSEEnabled"] != true {
		t.Error("SSESpecification.SSEEnabled is not true (KMS encryption at rest)")
	}
	if param, _ := ref(p["DeletionProtectionEnabled"]); tpl.Parameters[param] == nil {
		t.Errorf("DeletionProtectionEnabled = %s, want !Ref of a parameter", canon(p["DeletionProtectionEnabled"]))
	}
	if got := str(mapAt(p, "StreamSpecification")["StreamViewType"]); got != string(store.StreamView) || def.StreamSpecification == nil {
		t.Errorf("StreamSpecification.StreamViewType = %q, store has %s: the outbox reads the stream", got, store.StreamView)
	}
	if tb.DeletionPolicy != "Retain" {
		t.Errorf("DeletionPolicy = %q, want Retain: deleting the stack must not delete the leads", tb.DeletionPolicy)
	}
}

// ---------------------------------------------------------------------------
// IAM: least privilege, derived from what each main builds
// ---------------------------------------------------------------------------

type statement struct {
	where     string
	effect    string
	actions   []string
	resources []any
	condition map[string]any
	other     []string // NotAction, NotResource, Principal ...
}

func statements(where string, doc any) []statement {
	var out []statement
	d, _ := doc.(map[string]any)
	for i, s := range listOf(d["Statement"]) {
		m, _ := s.(map[string]any)
		st := statement{where: fmt.Sprintf("%s statement %d (%s)", where, i+1, str(m["Sid"])), effect: str(m["Effect"])}
		for _, a := range listOf(m["Action"]) {
			st.actions = append(st.actions, str(a))
		}
		st.resources = listOf(m["Resource"])
		st.condition, _ = m["Condition"].(map[string]any)
		for _, k := range []string{"NotAction", "NotResource", "NotPrincipal", "Principal"} {
			if _, ok := m[k]; ok {
				st.other = append(st.other, k)
			}
		}
		out = append(out, st)
	}
	return out
}

// roleStatements gathers a role's inline policies and the AWS::IAM::Policy
// resources attached to it.
func roleStatements(t *testing.T, tpl *Template, roleID string) []statement {
	t.Helper()
	role := tpl.Resources[roleID]
	if role.Properties["ManagedPolicyArns"] != nil {
		t.Errorf("%s has ManagedPolicyArns: grant what the function uses, inline", roleID)
	}
	var out []statement
	for _, p := range listOf(role.Properties["Policies"]) {
		m, _ := p.(map[string]any)
		out = append(out, statements(roleID+" policy "+str(m["PolicyName"]), m["PolicyDocument"])...)
	}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::IAM::Policy" && r.Type != "AWS::IAM::ManagedPolicy" {
			continue
		}
		for _, rr := range listOf(r.Properties["Roles"]) {
			if name, _ := ref(rr); name == roleID {
				out = append(out, statements(id, r.Properties["PolicyDocument"])...)
			}
		}
	}
	return out
}

// dynamoOps are the DynamoDB operations shared/store calls.
func dynamoOps(t *testing.T) map[string]bool {
	t.Helper()
	pkgs, err := listDeps("./shared/store")
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	fset := token.NewFileSet()
	for _, p := range pkgs {
		if p.ImportPath != modulePath+"/shared/store" {
			continue
		}
		files, err := parseFiles(fset, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if inner, ok := sel.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "client" {
					ops[sel.Sel.Name] = true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "dynamodb" {
					if op, ok := strings.CutSuffix(strings.TrimPrefix(sel.Sel.Name, "New"), "Paginator"); ok {
						ops[op] = true
					}
				}
				return true
			})
		}
	}
	if len(ops) == 0 {
		t.Fatal("found no DynamoDB calls in shared/store")
	}
	return ops
}

// streamOps are what Lambda's event source mapping calls on a DynamoDB
// stream, with the function's role.
var streamOps = map[string]bool{"DescribeStream": true, "GetRecords": true, "GetShardIterator": true, "ListStreams": true}

func TestTemplate_eachFunctionMayDoOnlyWhatItsCodeDoes(t *testing.T) {
	tpl := loadTemplate(t)
	ops := dynamoOps(t)
	for _, name := range functionFolders(t) {
		id := logicalID(name)
		fn, ok := tpl.Resources[id]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			use := functionUsage(t, name)
			roleID, _, _ := getAtt(fn.Properties["Role"])
			role := tpl.Resources[roleID]
			trust := statements(roleID+" trust", role.Properties["AssumeRolePolicyDocument"])
			if len(trust) != 1 || canon(trustPrincipal(role)) != `{"Service":"lambda.amazonaws.com"}` {
				t.Errorf("%s: trust policy %s, want only lambda.amazonaws.com", roleID, canon(role.Properties["AssumeRolePolicyDocument"]))
			}
			logs, _ := ref(mapAt(fn.Properties, "LoggingConfig")["LogGroup"])
			dlq, _, _ := getAtt(mapAt(fn.Properties, "DeadLetterQueue")["TargetArn"])
			// A function behind the table's stream: the event source mapping
			// reads the stream with the function's role, and parks failed
			// batches in its on-failure destination.
			var stream bool
			var onFailure string
			for _, e := range events(fn, "DynamoDB") {
				stream = true
				onFailure, _, _ = getAtt(mapAt(mapAt(e, "DestinationConfig"), "OnFailure")["Destination"])
			}
			// A function behind a queue (the settle queue): its event source
			// mapping receives and deletes the queue's messages with the
			// function's role.
			var queue string
			for _, e := range events(fn, "SQS") {
				queue, _, _ = getAtt(e["Queue"])
			}
			granted := map[string]bool{}
			resourceIs := func(st statement, want ...string) bool {
				if len(st.resources) != len(want) {
					return false
				}
				for i, r := range st.resources {
					if canon(r) != want[i] {
						return false
					}
				}
				return true
			}
			queryScoped := func(st statement) bool {
				due := canon(map[string]any{"Fn::Sub": "${Table.Arn}/index/" + store.IndexDue})
				open := canon(map[string]any{"Fn::Sub": "${Table.Arn}/index/" + store.IndexOpen})
				day := canon(map[string]any{"Fn::Sub": "${Table.Arn}/index/" + store.IndexDay})
				table := canon(map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}})
				for _, r := range st.resources {
					if c := canon(r); c != due && c != open && c != day && c != table {
						return false
					}
				}
				return len(st.resources) > 0
			}
			subSuffix := func(st statement, suffixes ...string) bool {
				for _, r := range st.resources {
					s, ok := sub(r)
					if !ok || !slices.ContainsFunc(suffixes, func(suf string) bool { return strings.HasSuffix(s, suf) }) {
						return false
					}
				}
				return len(st.resources) > 0
			}
			for _, st := range roleStatements(t, tpl, roleID) {
				if st.effect != "Allow" || len(st.other) > 0 {
					t.Errorf("%s: want a plain Allow of Action on Resource, got effect %q with %v", st.where, st.effect, st.other)
					continue
				}
				for _, a := range st.actions {
					granted[a] = true
					if strings.Contains(a, "*") {
						t.Errorf("%s: wildcard action %q", st.where, a)
						continue
					}
					if slices.ContainsFunc(st.resources, func(r any) bool { return r == "*" }) && a != "ses:GetAccount" {
						t.Errorf("%s: %s on every resource; scope it", st.where, a)
						continue
					}
					svc, op, _ := strings.Cut(a, ":")
					var problem string
					switch {
					case a == "logs:CreateLogStream" || a == "logs:PutLogEvents":
						if !resourceIs(st, canon(map[string]any{"Fn::GetAtt": []any{logs, "Arn"}})) {
							problem = "only on the function's own log group " + logs
						}
					case svc == "dynamodb" && streamOps[op]:
						switch {
						case !stream:
							problem = "the function has no DynamoDB stream event"
						case !resourceIs(st, canon(map[string]any{"Fn::Sub": "${Table.Arn}/stream/*"})):
							problem = "only on the table's stream (${Table.Arn}/stream/*)"
						}
					case svc == "dynamodb":
						switch {
						case !use.Calls["DynamoDB"]:
							problem = "the function builds no DynamoDB client"
						case !ops[op]:
							problem = "shared/store never calls " + op
						case op == "Query" && !queryScoped(st):
							// The scheduler queries the due index; the
							// inbox and the digest the open index; the
							// activities behind an alert are a query of
							// the table (one lead's partition).
							problem = "Query only on the " + store.IndexDue + ", " + store.IndexOpen + " and " + store.IndexDay + " indexes and the table"
						case op != "Query" && !resourceIs(st, canon(map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}})):
							problem = "only on the table"
						}
					case a == "ses:SendEmail":
						sandbox := st.condition != nil && mapAt(st.condition, "ForAllValues:StringEquals")["ses:Recipients"] != nil
						switch {
						case !use.Calls["SES"]:
							problem = "the function builds no SES client"
						case sandbox && subSuffix(st, ":identity/*"):
						case !subSuffix(st, ":identity/${SenderIdentity}", ":configuration-set/${ConfigurationSet}"):
							problem = "only from the sending identity with the configuration set (or, in the sandbox, to the listed recipients)"
						}
					case a == "ses:GetAccount":
						if !use.Calls["SES"] {
							problem = "the function builds no SES client"
						}
					case a == "ssm:GetParameter":
						// Each secret's parameter, to the functions that load it.
						for _, r := range st.resources {
							s, _ := sub(r)
							loader := ""
							for _, sec := range secrets {
								if strings.HasSuffix(s, ":parameter${"+sec.templateParameter+"}") {
									loader = sec.loader
								}
							}
							switch {
							case loader == "":
								problem = "only on a secret's parameter (TokenKeysParameter, AlertWebhookParameter, LifecycleEventsParameter)"
							case !use.Calls[loader]:
								problem = "the function never calls " + loader
							}
						}
					case a == "kms:Decrypt":
						switch {
						case !use.Calls["LoadTokenKeys"]:
							problem = "the function never calls LoadTokenKeys"
						case !resourceIs(st, `{"Ref":"TokenKeysKmsKeyArn"}`) || mapAt(st.condition, "StringEquals")["kms:ViaService"] == nil:
							problem = "only the TokenKeysKmsKeyArn key, only through SSM (kms:ViaService)"
						}
					case a == "sqs:SendMessage":
						own := func(q string) bool {
							return q != "" && resourceIs(st, canon(map[string]any{"Fn::GetAtt": []any{q, "Arn"}}))
						}
						// The function sends to the queue it reads only when
						// its code builds an SQS client (the settle's delays).
						if !own(dlq) && !own(onFailure) && !(use.Calls["SQS"] && own(queue)) {
							problem = "only to the function's own dead-letter queue or on-failure destination, or, with an SQS client, to the queue it reads"
						}
					case a == "sqs:ReceiveMessage" || a == "sqs:DeleteMessage" || a == "sqs:GetQueueAttributes":
						if queue == "" || !resourceIs(st, canon(map[string]any{"Fn::GetAtt": []any{queue, "Arn"}})) {
							problem = "only on the queue of the function's SQS event"
						}
					default:
						problem = "no rule in this test allows it: add one, derived from the code, if a function needs it"
					}
					if problem != "" {
						t.Errorf("%s: %s: %s", st.where, a, problem)
					}
				}
			}
			need := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
			if use.Calls["DynamoDB"] {
				need = append(need, "dynamodb:GetItem")
			}
			if use.Calls["SES"] {
				// GetAccount (the send rate) is the scheduler's alone; every
				// SES user sends.
				need = append(need, "ses:SendEmail")
			}
			if use.Calls["LoadTokenKeys"] {
				// With TokenKeysKmsKeyArn set, the parameter is encrypted
				// with that key: a function that reads it and cannot
				// decrypt it cannot start.
				need = append(need, "ssm:GetParameter", "kms:Decrypt")
			}
			if dlq != "" || onFailure != "" || use.Calls["SQS"] {
				need = append(need, "sqs:SendMessage")
			}
			if queue != "" {
				need = append(need, "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
			}
			if stream {
				for op := range streamOps {
					need = append(need, "dynamodb:"+op)
				}
			}
			for _, a := range need {
				if !granted[a] {
					t.Errorf("%s lacks %s, which the function needs", roleID, a)
				}
			}
		})
	}
}

func trustPrincipal(role Resource) any {
	st := listOf(mapAt(role.Properties, "AssumeRolePolicyDocument")["Statement"])
	if len(st) != 1 {
		return nil
	}
	m, _ := st[0].(map[string]any)
	return m["Principal"]
}

// ---------------------------------------------------------------------------
// Alarms, outputs, secrets
// ---------------------------------------------------------------------------

func TestTemplate_alarms(t *testing.T) {
	tpl := loadTemplate(t)
	type metric struct{ ns, name, dim string }
	alarms := map[metric]map[string]any{}
	for _, r := range tpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		dim := ""
		for _, d := range listOf(r.Properties["Dimensions"]) {
			m, _ := d.(map[string]any)
			dim += str(m["Name"]) + "=" + canon(m["Value"])
		}
		alarms[metric{str(r.Properties["Namespace"]), str(r.Properties["MetricName"]), dim}] = r.Properties
		if len(listOf(r.Properties["AlarmActions"])) == 0 {
			t.Errorf("alarm on %s has no AlarmActions", str(r.Properties["MetricName"]))
		}
	}
	for _, id := range sortedKeys(tpl.Functions()) {
		if alarms[metric{"AWS/Lambda", "Errors", "FunctionName=" + canon(map[string]any{"Ref": id})}] == nil {
			t.Errorf("no Errors alarm for %s", id)
		}
	}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::SQS::Queue" {
			continue
		}
		name := "QueueName=" + canon(map[string]any{"Fn::GetAtt": []any{id, "QueueName"}})
		if r.Properties["RedrivePolicy"] != nil {
			// A working queue (its failures redrive to a dead-letter
			// queue): messages waiting too long say nobody takes them.
			if alarms[metric{"AWS/SQS", "ApproximateAgeOfOldestMessage", name}] == nil {
				t.Errorf("no age alarm for the queue %s", id)
			}
			continue
		}
		if alarms[metric{"AWS/SQS", "ApproximateNumberOfMessagesVisible", name}] == nil {
			t.Errorf("no depth alarm for the dead-letter queue %s", id)
		}
	}
	// SES reviews an account at 5% bounces and 0.1% complaints.
	for name, max := range map[string]float64{"Reputation.BounceRate": 0.05, "Reputation.ComplaintRate": 0.001} {
		a := alarms[metric{"AWS/SES", name, ""}]
		if a == nil {
			t.Errorf("no alarm on the account's %s", name)
			continue
		}
		if th, _ := a["Threshold"].(float64); th <= 0 || th > max {
			t.Errorf("%s alarm threshold %v, want above 0 and at most SES's review threshold %v", name, a["Threshold"], max)
		}
	}
}

// The dashboard shows every business metric the code writes (each value of
// a dimension), in the namespace the code writes it to, every alarm of the
// template, every function's errors and every dead-letter queue; its body
// is valid JSON once CloudFormation substitutes it, and every name it
// substitutes exists. A metric renamed in shared/metrics, or one added,
// fails here until the dashboard shows it.
func TestTemplate_dashboardShowsEveryBusinessMetricAndAlarm(t *testing.T) {
	tpl := loadTemplate(t)
	var bodies []string
	for id, r := range tpl.Resources {
		if r.Type != "AWS::CloudWatch::Dashboard" {
			continue
		}
		body, ok := sub(r.Properties["DashboardBody"])
		if !ok {
			t.Fatalf("%s: DashboardBody = %s, want !Sub of the JSON body", id, canon(r.Properties["DashboardBody"]))
		}
		bodies = append(bodies, body)
	}
	if len(bodies) != 1 {
		t.Fatalf("%d AWS::CloudWatch::Dashboard resources, want 1", len(bodies))
	}
	// What !Sub would put in: each name a pseudo parameter, a parameter or
	// a resource (with an attribute).
	subs := map[string]bool{}
	body := regexp.MustCompile(`\$\{([^}!]+)\}`).ReplaceAllStringFunc(bodies[0], func(m string) string {
		name := m[2 : len(m)-1]
		subs[name] = true
		res, _, _ := strings.Cut(name, ".")
		_, isParam := tpl.Parameters[name]
		_, isRes := tpl.Resources[res]
		if !strings.HasPrefix(name, "AWS::") && !isParam && !isRes {
			t.Errorf("the dashboard substitutes ${%s}, which the template does not define", name)
		}
		return "sub-" + strings.ReplaceAll(name, ":", "-")
	})
	var dash struct {
		Widgets []struct {
			Type                string
			X, Y, Width, Height int
			Properties          struct {
				Title   string
				Region  string
				Metrics [][]any
				Alarms  []string
			}
		}
	}
	dec := json.NewDecoder(strings.NewReader(body))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("the dashboard body is no JSON: %v\n%s", err, body)
	}
	if dec.More() {
		t.Fatal("data after the dashboard body's JSON")
	}
	shown := map[string]bool{} // namespace/name[/dimension=value]
	for i, w := range dash.Widgets {
		if w.Width < 1 || w.Height < 1 || w.X < 0 || w.X+w.Width > 24 {
			t.Errorf("widget %d (%s) lies outside the 24-column grid: x %d width %d", i, w.Properties.Title, w.X, w.Width)
		}
		if w.Type == "metric" && w.Properties.Region != "sub-AWS--Region" {
			t.Errorf("widget %q: region %q, want ${AWS::Region}", w.Properties.Title, w.Properties.Region)
		}
		for _, m := range w.Properties.Metrics {
			var parts []string
			for _, p := range m {
				if s, ok := p.(string); ok {
					parts = append(parts, s)
				}
			}
			if len(parts) < 2 || len(parts)%2 != 0 {
				t.Errorf("widget %q: metric %v is not [namespace, name, (dimension, value)...]", w.Properties.Title, m)
				continue
			}
			key := parts[0] + "/" + parts[1]
			for j := 2; j+1 < len(parts); j += 2 {
				key += "/" + parts[j] + "=" + parts[j+1]
			}
			shown[key] = true
		}
	}
	for _, m := range metrics.All {
		keys := []string{metrics.Namespace + "/" + m.Name}
		if m.Dimension != "" {
			keys = nil
			for _, v := range m.Values {
				keys = append(keys, metrics.Namespace+"/"+m.Name+"/"+m.Dimension+"="+v)
			}
		}
		for _, k := range keys {
			if !shown[k] {
				t.Errorf("the dashboard does not show %s (%s)", k, m.Means)
			}
		}
	}
	// Nothing in the namespace the code does not write, or a log metric
	// filter of the template does not make.
	made := map[string]bool{}
	for _, m := range metrics.All {
		made[m.Name] = true
	}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Logs::MetricFilter" {
			continue
		}
		for _, tr := range listOf(r.Properties["MetricTransformations"]) {
			mt, _ := tr.(map[string]any)
			if ns := str(mt["MetricNamespace"]); ns != metrics.Namespace {
				t.Errorf("%s writes to namespace %q, the code to %q", id, ns, metrics.Namespace)
			}
			made[str(mt["MetricName"])] = true
		}
	}
	for k := range shown {
		parts := strings.Split(k, "/")
		if parts[0] == metrics.Namespace && !made[parts[1]] {
			t.Errorf("the dashboard shows %s, which neither the code (shared/metrics) nor a metric filter makes", k)
		}
	}
	for id, r := range tpl.Resources {
		switch r.Type {
		case "AWS::CloudWatch::Alarm":
			if !subs[id+".Arn"] {
				t.Errorf("the dashboard's alarm widget does not list %s", id)
			}
		case "AWS::Serverless::Function":
			if !shown["AWS/Lambda/Errors/FunctionName=sub-"+id] {
				t.Errorf("the dashboard does not show %s's errors", id)
			}
		case "AWS::SQS::Queue":
			if !shown["AWS/SQS/ApproximateNumberOfMessagesVisible/QueueName=sub-"+id+".QueueName"] {
				t.Errorf("the dashboard does not show the depth of %s", id)
			}
		}
	}
	if o := tpl.Outputs["DashboardUrl"]; o == nil {
		t.Error("no DashboardUrl output: where is the dashboard?")
	}
}

func TestTemplate_outputsTellWhereToPointTheWebsite(t *testing.T) {
	tpl := loadTemplate(t)
	var formPath string
	for _, r := range httpapi.Routes {
		if r.Function == "capture" && r.Method == "POST" {
			formPath = r.Path
		}
	}
	api, form := tpl.Outputs["ApiUrl"], tpl.Outputs["FormActionUrl"]
	if api == nil || form == nil {
		t.Fatalf("outputs %v, want ApiUrl and FormActionUrl", sortedKeys(tpl.Outputs))
	}
	// Both branches of the custom-domain !If end with the form route.
	ifs, ok := form["Value"].(map[string]any)["Fn::If"].([]any)
	if !ok || len(ifs) != 3 {
		t.Fatalf("FormActionUrl = %s, want !If [HasApiDomain, ..., ...]", canon(form["Value"]))
	}
	apiIfs, _ := api["Value"].(map[string]any)["Fn::If"].([]any)
	for i, v := range ifs[1:] {
		s, _ := sub(v)
		if !strings.HasSuffix(s, formPath) {
			t.Errorf("FormActionUrl %q does not end with %s", s, formPath)
		}
		if len(apiIfs) == 3 {
			base, _ := sub(apiIfs[i+1])
			if s != base+formPath {
				t.Errorf("FormActionUrl %q is not ApiUrl %q + %s", s, base, formPath)
			}
		}
	}
	// The links in mail point where the API is.
	sched := tpl.Resources[logicalID("scheduler")]
	if got := tpl.Env(sched)["PUBLIC_BASE_URL"]; canon(got) != canon(api["Value"]) {
		t.Errorf("scheduler PUBLIC_BASE_URL = %s, ApiUrl = %s", canon(got), canon(api["Value"]))
	}
}

func TestTemplate_holdsNoSecretAndSaysWhyItSkipsChecks(t *testing.T) {
	tpl := loadTemplate(t)
	for id, fn := range tpl.Functions() {
		for k, v := range tpl.Env(fn) {
			if s, ok := v.(string); ok {
				if _, err := nurturetoken.ParseKeys(s); err == nil {
					t.Errorf("%s: %s holds signing keys in plain text", id, k)
				}
			}
		}
	}
	for name, p := range tpl.Parameters {
		if d, ok := p["Default"].(string); ok && d != "" {
			if _, err := nurturetoken.ParseKeys(d); err == nil {
				t.Errorf("parameter %s defaults to signing keys", name)
			}
		}
	}
	for id, r := range tpl.Resources {
		for _, s := range listOf(mapAt(r.Metadata, "checkov")["skip"]) {
			m, _ := s.(map[string]any)
			if str(m["id"]) == "" || len(strings.TrimSpace(str(m["comment"]))) < 20 {
				t.Errorf("%s: checkov skip %s without a reason (comment)", id, canon(s))
			}
		}
	}
}

// ---------------------------------------------------------------------------
// The outbox: the table's stream to the alerts and the events functions
// ---------------------------------------------------------------------------

// outboxFunctions are the functions behind the table's stream, the kinds
// of outbox work each takes, the secret it alone reads, and its samples in
// events/<function>.
var outboxFunctions = []struct {
	function string
	kinds    []string
	secret   string
}{
	{"alerts", []string{lead.OutboxAlert, lead.OutboxSettle}, "WEBHOOK_URL"},
	{"events", []string{lead.OutboxEvent}, "EVENTS_URL"},
}

// Each outbox function's event source mapping reads the table's stream as
// the outbox wants: only lead items with ready work of its kind (the
// filter is outbox.Pattern of the kind, and the samples pass it), failures
// reported per lead, retried a bounded number of times, halved, and parked
// in a queue with an alarm. No more than two read the stream: DynamoDB
// Streams throttles a third reader of a shard.
func TestTemplate_outboxFunctionsReadTheTablesStream_eachFilteredToItsKind(t *testing.T) {
	tpl := loadTemplate(t)
	readers := 0
	for _, fn := range tpl.Functions() {
		readers += len(events(fn, "DynamoDB"))
	}
	if readers > 2 {
		t.Errorf("%d event source mappings read the table's stream; DynamoDB Streams serves two readers of a shard without throttling", readers)
	}
	for _, of := range outboxFunctions {
		t.Run(of.function, func(t *testing.T) {
			fn, ok := tpl.Resources[logicalID(of.function)]
			if !ok {
				t.Fatalf("no %s", logicalID(of.function))
			}
			ev := events(fn, "DynamoDB")
			if len(ev) != 1 {
				t.Fatalf("%s has %d DynamoDB events, want 1", logicalID(of.function), len(ev))
			}
			for name, e := range ev {
				if id, attr, _ := getAtt(e["Stream"]); id != "Table" || attr != "StreamArn" {
					t.Errorf("%s: Stream = %s, want !GetAtt Table.StreamArn", name, canon(e["Stream"]))
				}
				if !slices.Contains(listOf(e["FunctionResponseTypes"]), any("ReportBatchItemFailures")) {
					t.Errorf("%s: FunctionResponseTypes lacks ReportBatchItemFailures: the handler reports failed leads, which Lambda would otherwise ignore", name)
				}
				if e["BisectBatchOnFunctionError"] != true {
					t.Errorf("%s: BisectBatchOnFunctionError is not true", name)
				}
				if n, _ := e["MaximumRetryAttempts"].(float64); n < 1 || n > 10 {
					t.Errorf("%s: MaximumRetryAttempts = %v, want a bounded number of retries", name, e["MaximumRetryAttempts"])
				}
				if n, _ := e["BatchSize"].(float64); n < 1 || n > 100 {
					t.Errorf("%s: BatchSize = %v", name, e["BatchSize"])
				}
				if q, ok := getAttQueue(tpl, mapAt(mapAt(e, "DestinationConfig"), "OnFailure")["Destination"]); !ok {
					t.Errorf("%s: DestinationConfig.OnFailure.Destination = %s, want !GetAtt of an SQS queue", name, canon(e["DestinationConfig"]))
				} else if str(mapAt(mapAt(e, "DestinationConfig"), "OnFailure")["Type"]) != "SQS" {
					t.Errorf("%s: on-failure destination %s is not of Type SQS", name, q)
				}
				filters := listOf(mapAt(e, "FilterCriteria")["Filters"])
				if len(filters) != 1 {
					t.Fatalf("%s: %d filters, want 1", name, len(filters))
				}
				var got, want any
				raw := str(filters[0].(map[string]any)["Pattern"])
				if err := json.Unmarshal([]byte(raw), &got); err != nil {
					t.Fatalf("%s: filter pattern %s: %v", name, raw, err)
				}
				_ = json.Unmarshal([]byte(outbox.Pattern(of.kinds...)), &want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: filter pattern %s, want %s: the items whose new image's %q names %v work", name, raw, outbox.Pattern(of.kinds...), store.AttrOutbox, of.kinds)
				}
			}
			env := tpl.Env(fn)
			s := secrets[of.secret]
			if p, _ := ref(env[s.parameter]); p != s.templateParameter {
				t.Errorf("%s = %s, want !Ref %s", s.parameter, canon(env[s.parameter]), s.templateParameter)
			}
			if got := env["PUBLIC_BASE_URL"]; canon(got) != canon(tpl.Outputs["ApiUrl"]["Value"]) {
				t.Errorf("%s PUBLIC_BASE_URL = %s, want the ApiUrl: its links point at the API", of.function, canon(got))
			}

			wanted := map[string]int{}
			for _, smp := range samples(t, of.function) {
				if isQueueSample(t, smp) {
					continue // the settle queue's (TestTemplate_settleQueue...)
				}
				var ev lambdaevents.DynamoDBEvent
				if err := json.Unmarshal(smp.body, &ev); err != nil {
					t.Fatalf("%s: %v", smp.path, err)
				}
				for _, r := range ev.Records {
					if r.EventSource != "aws:dynamodb" || r.Change.StreamViewType != string(store.StreamView) || r.Change.SequenceNumber == "" {
						t.Errorf("%s: record %s is not a %s stream record", smp.path, r.EventID, store.StreamView)
					}
					for _, k := range of.kinds {
						if outbox.Wants(r, k) {
							wanted[k]++
						}
					}
				}
			}
			for _, k := range of.kinds {
				if wanted[k] == 0 {
					t.Errorf("no sample in events/%s holds a record with %s work", of.function, k)
				}
			}
		})
	}
}

// isQueueSample reports whether a sample is an SQS batch (the settle
// queue's) rather than stream records.
func isQueueSample(t testing.TB, smp sample) bool {
	t.Helper()
	var ev lambdaevents.SQSEvent
	if err := json.Unmarshal(smp.body, &ev); err != nil {
		t.Fatalf("%s: %v", smp.path, err)
	}
	return len(ev.Records) > 0 && ev.Records[0].EventSource == "aws:sqs"
}

// The settle time's delay queue: the alerts function sends a settling
// alert's wake-up there (SETTLE_QUEUE_URL, read once at start) and takes it
// back through an SQS event source mapping that reports failures per
// message; failures come back after a visibility timeout that outlasts
// Lambda's retries of a batch, then go to a dead-letter queue; both are
// encrypted and TLS only. The samples are wake-ups the function reads.
func TestTemplate_settleQueue_bringsTheWakeupsBackToTheAlertsFunction(t *testing.T) {
	tpl := loadTemplate(t)
	fn := tpl.Resources["AlertsFunction"]
	if got := canon(tpl.Env(fn)["SETTLE_QUEUE_URL"]); got != `{"Ref":"SettleQueue"}` {
		t.Errorf("SETTLE_QUEUE_URL = %s, want !Ref SettleQueue (the queue's URL)", got)
	}
	ev := events(fn, "SQS")
	if len(ev) != 1 {
		t.Fatalf("AlertsFunction has %d SQS events, want 1", len(ev))
	}
	for name, e := range ev {
		if id, attr, _ := getAtt(e["Queue"]); id != "SettleQueue" || attr != "Arn" {
			t.Errorf("%s: Queue = %s, want !GetAtt SettleQueue.Arn", name, canon(e["Queue"]))
		}
		if !slices.Contains(listOf(e["FunctionResponseTypes"]), any("ReportBatchItemFailures")) {
			t.Errorf("%s: FunctionResponseTypes lacks ReportBatchItemFailures: one failed wake-up would bring its whole batch back", name)
		}
		if n, _ := e["BatchSize"].(float64); n < 1 || n > 10 {
			t.Errorf("%s: BatchSize = %v, want 1 to 10", name, e["BatchSize"])
		}
		if w, _ := e["MaximumBatchingWindowInSeconds"].(float64); w != 0 {
			t.Errorf("%s: MaximumBatchingWindowInSeconds = %v: a due wake-up must not wait for a batch to fill", name, e["MaximumBatchingWindowInSeconds"])
		}
	}
	q := tpl.Resources["SettleQueue"]
	timeout, _ := fn.Properties["Timeout"].(float64)
	if v, _ := q.Properties["VisibilityTimeout"].(float64); v < 6*timeout {
		t.Errorf("SettleQueue VisibilityTimeout = %v, want at least 6 times the function's %vs timeout (Lambda's advice for event source mappings)", q.Properties["VisibilityTimeout"], timeout)
	}
	if d, _ := q.Properties["DelaySeconds"].(float64); d != 0 {
		t.Errorf("SettleQueue DelaySeconds = %v: each message sets its own delay", d)
	}
	redrive := mapAt(q.Properties, "RedrivePolicy")
	dlq, _, _ := getAtt(redrive["deadLetterTargetArn"])
	if tpl.Resources[dlq].Type != "AWS::SQS::Queue" {
		t.Errorf("SettleQueue RedrivePolicy.deadLetterTargetArn = %s, want !GetAtt of a queue", canon(redrive["deadLetterTargetArn"]))
	}
	if n, _ := redrive["maxReceiveCount"].(float64); n < 2 || n > 10 {
		t.Errorf("SettleQueue maxReceiveCount = %v, want a few tries", redrive["maxReceiveCount"])
	}
	for _, id := range []string{"SettleQueue", dlq} {
		r := tpl.Resources[id]
		if r.Properties["SqsManagedSseEnabled"] != true && r.Properties["KmsMasterKeyId"] == nil {
			t.Errorf("%s is not encrypted at rest", id)
		}
		tls := false
		for _, p := range tpl.Resources {
			if p.Type == "AWS::SQS::QueuePolicy" && slices.ContainsFunc(listOf(p.Properties["Queues"]), func(v any) bool { r, _ := ref(v); return r == id }) {
				tls = strings.Contains(canon(p.Properties["PolicyDocument"]), `"aws:SecureTransport":"false"`)
			}
		}
		if !tls {
			t.Errorf("%s has no policy denying requests without TLS", id)
		}
	}
	// The wake-ups the function may be handed decode, and fit one delay.
	wakeups := 0
	for _, smp := range samples(t, "alerts") {
		if !isQueueSample(t, smp) {
			continue
		}
		var ev lambdaevents.SQSEvent
		_ = json.Unmarshal(smp.body, &ev)
		for _, m := range ev.Records {
			if _, err := outbox.DecodeWakeup(m.Body); err != nil {
				t.Errorf("%s: message %s: %v", smp.path, m.MessageId, err)
			}
			wakeups++
		}
	}
	if wakeups == 0 {
		t.Error("no sample in events/alerts holds a settle wake-up")
	}
	if outbox.MaxDelay > 900*time.Second || program.MaxSettle > outbox.MaxDelay {
		t.Errorf("outbox.MaxDelay %s, program.MaxSettle %s: one SQS delay (900 s at most) should cover the longest settle", outbox.MaxDelay, program.MaxSettle)
	}
}

// Lifecycle events are recorded only where the events function has a CRM
// to deliver them to: every function is told whether there is one.
func TestTemplate_lifecycleEventsOnlyWithACRM(t *testing.T) {
	tpl := loadTemplate(t)
	for id, fn := range tpl.Functions() {
		got := canon(tpl.Env(fn)["LIFECYCLE_EVENTS"])
		if want := canon(map[string]any{"Fn::If": []any{"HasLifecycleEvents", "on", "off"}}); got != want {
			t.Errorf("%s: LIFECYCLE_EVENTS = %s, want %s", id, got, want)
		}
	}
}

// A route's throttle is shared by all its clients: the one-click
// unsubscribe (POST /u/{token}) has a throttle of its own, well above the
// API's default and every other route's, so junk on other routes never
// touches it and junk on it must be ten times the default's rate first.
func TestTemplate_unsubscribePostHasItsOwnHigherThrottle(t *testing.T) {
	tpl := loadTemplate(t)
	def := mapAt(tpl.Resources["HttpApi"].Properties, "DefaultRouteSettings")
	num := func(v any) float64 {
		switch n := v.(type) {
		case int:
			return float64(n)
		case float64:
			return n
		}
		t.Fatalf("throttle %v is not a number", v)
		return 0
	}
	rate := func(m map[string]any) float64 { return num(m["ThrottlingRateLimit"]) }
	burst := func(m map[string]any) float64 { return num(m["ThrottlingBurstLimit"]) }
	var unsub map[string]any
	others := map[string]map[string]any{}
	for name, res := range tpl.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		for ev, e := range events(res, "HttpApi") {
			key := str(e["Method"]) + " " + str(e["Path"])
			if key == "POST /u/{token}" {
				unsub = mapAt(e, "RouteSettings")
				continue
			}
			if rs := mapAt(e, "RouteSettings"); rs != nil {
				others[name+"."+ev] = rs
			}
		}
	}
	if unsub == nil {
		t.Fatalf("POST /u/{token} has no RouteSettings of its own: it shares DefaultRouteSettings %s", canon(def))
	}
	if rate(unsub) < 10*rate(def) || burst(unsub) < 10*burst(def) {
		t.Errorf("POST /u/{token} throttle %s, want at least ten times the default %s", canon(unsub), canon(def))
	}
	for name, rs := range others {
		if rate(rs) >= rate(unsub) {
			t.Errorf("%s throttle %s is not below the unsubscribe's %s", name, canon(rs), canon(unsub))
		}
	}
}
