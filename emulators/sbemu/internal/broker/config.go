package broker

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/ffbatch/ffbatch/internal/dotnettime"
)

// DefaultConfigJSON is the Config.json of the local stack's entities, in the
// official emulator's format. DefaultConfig returns it parsed.
//
//go:embed default_config.json
var DefaultConfigJSON []byte

// NamespaceName is the only namespace name the official emulator accepts.
const NamespaceName = "sbemulatorns"

// Config is a validated set of entities: the parsed form of the official
// emulator's Config.json (UserConfig). Build one with LoadConfig or
// DefaultConfig, or construct it in Go and check it with Validate.
type Config struct {
	Namespace string
	Queues    []QueueConfig
	Topics    []TopicConfig
	// Logging is UserConfig.Logging.Type ("File", "Console", "File,Console"
	// or "Console,File"). It is validated and recorded but has no effect:
	// the emulator always logs through the slog logger it is given.
	Logging string
}

// EntityProperties are the settable properties of a queue or subscription.
// Topics use only DefaultMessageTimeToLive and the duplicate detection pair;
// subscriptions ignore the duplicate detection pair (it is a topic setting).
type EntityProperties struct {
	DeadLetteringOnMessageExpiration    bool
	DefaultMessageTimeToLive            time.Duration
	DuplicateDetectionHistoryTimeWindow time.Duration
	ForwardDeadLetteredMessagesTo       string
	ForwardTo                           string
	LockDuration                        time.Duration
	MaxDeliveryCount                    int
	RequiresDuplicateDetection          bool
	RequiresSession                     bool
}

// DefaultProperties returns the official emulator's defaults
// (Config-schema.json): TTL PT1H, duplicate detection window PT20S, lock
// PT1M, MaxDeliveryCount 3, everything else off.
func DefaultProperties() EntityProperties {
	return EntityProperties{
		DefaultMessageTimeToLive:            time.Hour,
		DuplicateDetectionHistoryTimeWindow: 20 * time.Second,
		LockDuration:                        time.Minute,
		MaxDeliveryCount:                    3,
	}
}

// QueueConfig is one queue.
type QueueConfig struct {
	Name       string
	Properties EntityProperties
}

// TopicConfig is one topic and its subscriptions.
type TopicConfig struct {
	Name          string
	Properties    EntityProperties
	Subscriptions []SubscriptionConfig
}

// SubscriptionConfig is one subscription. No rules means the default rule:
// the true filter, as for a subscription created without rules in Azure.
type SubscriptionConfig struct {
	Name       string
	Properties EntityProperties
	Rules      []RuleConfig
}

// FilterType is a rule's filter kind as spelled in Config.json.
type FilterType string

// Filter types.
const (
	FilterCorrelation FilterType = "Correlation"
	FilterSQL         FilterType = "Sql"
)

// RuleConfig is one subscription rule: a filter and an optional action.
type RuleConfig struct {
	Name        string
	FilterType  FilterType
	Correlation *CorrelationFilter // when FilterType is Correlation
	SQL         string             // SqlFilter.SqlExpression when FilterType is Sql
	Action      string             // Action.SqlExpression; "" for none
}

// CorrelationFilter matches when every non-empty field equals the message's
// (exact, case-sensitive) and every listed application property is present
// with an equal value.
type CorrelationFilter struct {
	ContentType      string
	CorrelationID    string
	Label            string // the message's Subject
	MessageID        string
	ReplyTo          string
	ReplyToSessionID string
	SessionID        string
	To               string
	Properties       map[string]any // string, bool, int64 or float64 values
}

// FieldError is one problem with one field of a configuration.
type FieldError struct {
	Field   string // JSON path, e.g. UserConfig.Namespaces[0].Queues[1].Properties.LockDuration
	Problem string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Problem }

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	Problems []FieldError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return fmt.Sprintf("invalid emulator config (%d problems): %s", len(e.Problems), strings.Join(msgs, "; "))
}

func (e *ValidationError) add(field, format string, args ...any) {
	e.Problems = append(e.Problems, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

// DefaultConfig returns the local stack's entities (DefaultConfigJSON): the
// queue "arrivals" and the topic "results" with the subscriptions "all"
// (for anyone) and "cli" (for `ffbatch results`).
func DefaultConfig() *Config {
	cfg, err := LoadConfig(DefaultConfigJSON)
	if err != nil {
		panic("broker: embedded default_config.json is invalid: " + err.Error())
	}
	return cfg
}

// The JSON shapes of Config.json. Pointers tell "absent" (default) from
// zero values. Unknown fields are rejected, so a misspelt property is an
// error instead of a silently applied default.
type (
	jsonFile struct {
		UserConfig *jsonUserConfig `json:"UserConfig"`
	}
	jsonUserConfig struct {
		Namespaces []jsonNamespace `json:"Namespaces"`
		Logging    *struct {
			Type string `json:"Type"`
		} `json:"Logging"`
	}
	jsonNamespace struct {
		Name   string      `json:"Name"`
		Queues []jsonQueue `json:"Queues"`
		Topics []jsonTopic `json:"Topics"`
	}
	jsonQueue struct {
		Name       string         `json:"Name"`
		Properties *jsonQueueProp `json:"Properties"`
	}
	jsonQueueProp struct {
		DeadLetteringOnMessageExpiration    *bool   `json:"DeadLetteringOnMessageExpiration"`
		DefaultMessageTimeToLive            *string `json:"DefaultMessageTimeToLive"`
		DuplicateDetectionHistoryTimeWindow *string `json:"DuplicateDetectionHistoryTimeWindow"`
		ForwardDeadLetteredMessagesTo       *string `json:"ForwardDeadLetteredMessagesTo"`
		ForwardTo                           *string `json:"ForwardTo"`
		LockDuration                        *string `json:"LockDuration"`
		MaxDeliveryCount                    *int    `json:"MaxDeliveryCount"`
		RequiresDuplicateDetection          *bool   `json:"RequiresDuplicateDetection"`
		RequiresSession                     *bool   `json:"RequiresSession"`
	}
	jsonTopic struct {
		Name          string         `json:"Name"`
		Properties    *jsonTopicProp `json:"Properties"`
		Subscriptions []jsonSub      `json:"Subscriptions"`
	}
	jsonTopicProp struct {
		DefaultMessageTimeToLive            *string `json:"DefaultMessageTimeToLive"`
		DuplicateDetectionHistoryTimeWindow *string `json:"DuplicateDetectionHistoryTimeWindow"`
		RequiresDuplicateDetection          *bool   `json:"RequiresDuplicateDetection"`
	}
	jsonSub struct {
		Name       string       `json:"Name"`
		Properties *jsonSubProp `json:"Properties"`
		Rules      []jsonRule   `json:"Rules"`
	}
	jsonSubProp struct {
		DeadLetteringOnMessageExpiration *bool   `json:"DeadLetteringOnMessageExpiration"`
		DefaultMessageTimeToLive         *string `json:"DefaultMessageTimeToLive"`
		ForwardDeadLetteredMessagesTo    *string `json:"ForwardDeadLetteredMessagesTo"`
		ForwardTo                        *string `json:"ForwardTo"`
		LockDuration                     *string `json:"LockDuration"`
		MaxDeliveryCount                 *int    `json:"MaxDeliveryCount"`
		RequiresSession                  *bool   `json:"RequiresSession"`
	}
	jsonRule struct {
		Name       string        `json:"Name"`
		Properties *jsonRuleProp `json:"Properties"`
	}
	jsonRuleProp struct {
		FilterType        string    `json:"FilterType"`
		CorrelationFilter *jsonCorr `json:"CorrelationFilter"`
		SqlFilter         *jsonSQL  `json:"SqlFilter"`
		Action            *jsonSQL  `json:"Action"`
	}
	jsonCorr struct {
		ContentType      *string        `json:"ContentType"`
		CorrelationID    *string        `json:"CorrelationId"`
		Label            *string        `json:"Label"`
		MessageID        *string        `json:"MessageId"`
		ReplyTo          *string        `json:"ReplyTo"`
		ReplyToSessionID *string        `json:"ReplyToSessionId"`
		SessionID        *string        `json:"SessionId"`
		To               *string        `json:"To"`
		Properties       map[string]any `json:"Properties"`
	}
	jsonSQL struct {
		SqlExpression *string `json:"SqlExpression"`
	}
)

// LoadConfig parses the official emulator's Config.json format
// ({"UserConfig":{"Namespaces":[{"Name":"sbemulatorns","Queues":[...],
// "Topics":[...]}],"Logging":{"Type":"File"}}}) and validates it. Like the
// official samples, the file may contain // and /* */ comments. Absent
// properties take the official emulator's defaults (DefaultProperties).
// Every problem is reported, each with its field path, in a
// *ValidationError; malformed JSON and unknown fields are reported by the
// JSON decoder.
func LoadConfig(data []byte) (*Config, error) {
	clean, err := stripJSONComments(data)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var f jsonFile
	if err := dec.Decode(&f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("load config: %s: wrong JSON type %s, want %s", te.Field, te.Value, te.Type)
		}
		return nil, fmt.Errorf("load config: parse JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("load config: unexpected data after the top-level object")
	}
	verr := &ValidationError{}
	cfg := convertConfig(&f, verr)
	if len(verr.Problems) == 0 {
		cfg.validate(verr)
	}
	if len(verr.Problems) > 0 {
		return nil, fmt.Errorf("load config: %w", verr)
	}
	return cfg, nil
}

func convertConfig(f *jsonFile, verr *ValidationError) *Config {
	cfg := &Config{}
	if f.UserConfig == nil {
		verr.add("UserConfig", "required")
		return cfg
	}
	uc := f.UserConfig
	if uc.Logging != nil {
		cfg.Logging = uc.Logging.Type
		switch uc.Logging.Type {
		case "File", "Console", "File,Console", "Console,File":
		default:
			verr.add("UserConfig.Logging.Type", "%q is not one of File, Console, File,Console, Console,File", uc.Logging.Type)
		}
	}
	if len(uc.Namespaces) != 1 {
		verr.add("UserConfig.Namespaces", "exactly one namespace is required, got %d", len(uc.Namespaces))
		return cfg
	}
	ns := uc.Namespaces[0]
	cfg.Namespace = ns.Name
	for i, q := range ns.Queues {
		field := fmt.Sprintf("UserConfig.Namespaces[0].Queues[%d].Properties", i)
		p := DefaultProperties()
		if jp := q.Properties; jp != nil {
			setBool(&p.DeadLetteringOnMessageExpiration, jp.DeadLetteringOnMessageExpiration)
			setDuration(&p.DefaultMessageTimeToLive, jp.DefaultMessageTimeToLive, field+".DefaultMessageTimeToLive", verr)
			setDuration(&p.DuplicateDetectionHistoryTimeWindow, jp.DuplicateDetectionHistoryTimeWindow, field+".DuplicateDetectionHistoryTimeWindow", verr)
			setString(&p.ForwardDeadLetteredMessagesTo, jp.ForwardDeadLetteredMessagesTo)
			setString(&p.ForwardTo, jp.ForwardTo)
			setDuration(&p.LockDuration, jp.LockDuration, field+".LockDuration", verr)
			setInt(&p.MaxDeliveryCount, jp.MaxDeliveryCount)
			setBool(&p.RequiresDuplicateDetection, jp.RequiresDuplicateDetection)
			setBool(&p.RequiresSession, jp.RequiresSession)
		}
		cfg.Queues = append(cfg.Queues, QueueConfig{Name: q.Name, Properties: p})
	}
	for i, t := range ns.Topics {
		tfield := fmt.Sprintf("UserConfig.Namespaces[0].Topics[%d]", i)
		tp := DefaultProperties()
		if jp := t.Properties; jp != nil {
			setDuration(&tp.DefaultMessageTimeToLive, jp.DefaultMessageTimeToLive, tfield+".Properties.DefaultMessageTimeToLive", verr)
			setDuration(&tp.DuplicateDetectionHistoryTimeWindow, jp.DuplicateDetectionHistoryTimeWindow, tfield+".Properties.DuplicateDetectionHistoryTimeWindow", verr)
			setBool(&tp.RequiresDuplicateDetection, jp.RequiresDuplicateDetection)
		}
		tc := TopicConfig{Name: t.Name, Properties: tp}
		if t.Subscriptions == nil {
			verr.add(tfield+".Subscriptions", "required (at least one subscription)")
		}
		for j, s := range t.Subscriptions {
			sfield := fmt.Sprintf("%s.Subscriptions[%d]", tfield, j)
			sp := DefaultProperties()
			sp.DuplicateDetectionHistoryTimeWindow = 0
			if jp := s.Properties; jp != nil {
				setBool(&sp.DeadLetteringOnMessageExpiration, jp.DeadLetteringOnMessageExpiration)
				setDuration(&sp.DefaultMessageTimeToLive, jp.DefaultMessageTimeToLive, sfield+".Properties.DefaultMessageTimeToLive", verr)
				setString(&sp.ForwardDeadLetteredMessagesTo, jp.ForwardDeadLetteredMessagesTo)
				setString(&sp.ForwardTo, jp.ForwardTo)
				setDuration(&sp.LockDuration, jp.LockDuration, sfield+".Properties.LockDuration", verr)
				setInt(&sp.MaxDeliveryCount, jp.MaxDeliveryCount)
				setBool(&sp.RequiresSession, jp.RequiresSession)
			}
			sc := SubscriptionConfig{Name: s.Name, Properties: sp}
			for k, r := range s.Rules {
				sc.Rules = append(sc.Rules, convertRule(r, fmt.Sprintf("%s.Rules[%d]", sfield, k), verr))
			}
			tc.Subscriptions = append(tc.Subscriptions, sc)
		}
		cfg.Topics = append(cfg.Topics, tc)
	}
	return cfg
}

func convertRule(r jsonRule, field string, verr *ValidationError) RuleConfig {
	rc := RuleConfig{Name: r.Name}
	if r.Properties == nil {
		verr.add(field+".Properties", "required")
		return rc
	}
	p := r.Properties
	rc.FilterType = FilterType(p.FilterType)
	if p.CorrelationFilter != nil {
		c := p.CorrelationFilter
		cf := &CorrelationFilter{}
		setString(&cf.ContentType, c.ContentType)
		setString(&cf.CorrelationID, c.CorrelationID)
		setString(&cf.Label, c.Label)
		setString(&cf.MessageID, c.MessageID)
		setString(&cf.ReplyTo, c.ReplyTo)
		setString(&cf.ReplyToSessionID, c.ReplyToSessionID)
		setString(&cf.SessionID, c.SessionID)
		setString(&cf.To, c.To)
		if c.Properties != nil {
			cf.Properties = make(map[string]any, len(c.Properties))
			for k, v := range c.Properties {
				switch v := v.(type) {
				case string, bool:
					cf.Properties[k] = v
				case json.Number:
					if i, err := v.Int64(); err == nil {
						cf.Properties[k] = i
					} else if f, err := v.Float64(); err == nil {
						cf.Properties[k] = f
					} else {
						verr.add(field+".Properties.CorrelationFilter.Properties."+k, "bad number %s", v)
					}
				default:
					verr.add(field+".Properties.CorrelationFilter.Properties."+k, "value must be a string, number or boolean, got %T", v)
				}
			}
		}
		rc.Correlation = cf
	}
	if p.SqlFilter != nil {
		if p.SqlFilter.SqlExpression == nil {
			verr.add(field+".Properties.SqlFilter.SqlExpression", "required")
		} else {
			rc.SQL = *p.SqlFilter.SqlExpression
		}
	}
	if p.Action != nil {
		if p.Action.SqlExpression == nil {
			verr.add(field+".Properties.Action.SqlExpression", "required")
		} else {
			rc.Action = *p.Action.SqlExpression
		}
	}
	return rc
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func setDuration(dst *time.Duration, v *string, field string, verr *ValidationError) {
	if v == nil {
		return
	}
	d, err := dotnettime.ParseDuration(*v)
	if err != nil {
		verr.add(field, "%v", err)
		return
	}
	*dst = d
}

// Name rules: the official schema's pattern (letters, digits, '_', '-', '.',
// '/'; starting and ending with a letter or digit) and Azure's lengths.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9]$|^[A-Za-z0-9][\w\-./]*[A-Za-z0-9]$`)

const (
	maxEntityNameLen = 260
	maxSubNameLen    = 50
	maxRuleNameLen   = 50
)

// Accepted property ranges: the union of the official emulator's
// (Config-schema.json) and Azure Service Bus Standard's, so that both an
// emulator sample and a production-like configuration load.
const (
	minLockDuration   = 5 * time.Second
	maxLockDuration   = 5 * time.Minute
	minTTL            = time.Second
	minDupWindow      = 5 * time.Second
	maxDupWindow      = 7 * 24 * time.Hour
	minDeliveryCount  = 1
	maxDeliveryCount  = 2000
	maxForwardingHops = 4
)

// Validate checks a configuration built in Go. LoadConfig already calls it.
func (c *Config) Validate() error {
	verr := &ValidationError{}
	c.validate(verr)
	if len(verr.Problems) > 0 {
		return verr
	}
	return nil
}

func (c *Config) validate(verr *ValidationError) {
	const nsField = "UserConfig.Namespaces[0]"
	if c.Namespace != NamespaceName {
		verr.add(nsField+".Name", "%q: the emulator supports only the namespace %q", c.Namespace, NamespaceName)
	}
	names := map[string]string{} // lower-case queue/topic name -> field
	checkName := func(field, name, kind string, maxLen int, slash bool) {
		switch {
		case name == "":
			verr.add(field, "%s name is required", kind)
		case len(name) > maxLen:
			verr.add(field, "%s name %q is longer than %d characters", kind, name, maxLen)
		case !namePattern.MatchString(name):
			verr.add(field, "%s name %q must start and end with a letter or digit and contain only letters, digits, '_', '-', '.', '/'", kind, name)
		case !slash && strings.Contains(name, "/"):
			verr.add(field, "%s name %q must not contain '/'", kind, name)
		case strings.Contains(strings.ToLower(name), "$deadletterqueue") || strings.Contains(strings.ToLower(name), "/subscriptions/"):
			verr.add(field, "%s name %q contains a reserved path segment", kind, name)
		}
	}
	for i, q := range c.Queues {
		field := fmt.Sprintf("%s.Queues[%d]", nsField, i)
		checkName(field+".Name", q.Name, "queue", maxEntityNameLen, true)
		if prev, dup := names[strings.ToLower(q.Name)]; dup && q.Name != "" {
			verr.add(field+".Name", "duplicate entity name %q (also %s; names are case-insensitive)", q.Name, prev)
		} else {
			names[strings.ToLower(q.Name)] = field
		}
		validateProps(field+".Properties", q.Properties, true, verr)
	}
	for i, t := range c.Topics {
		field := fmt.Sprintf("%s.Topics[%d]", nsField, i)
		checkName(field+".Name", t.Name, "topic", maxEntityNameLen, true)
		if prev, dup := names[strings.ToLower(t.Name)]; dup && t.Name != "" {
			verr.add(field+".Name", "duplicate entity name %q (also %s; names are case-insensitive)", t.Name, prev)
		} else {
			names[strings.ToLower(t.Name)] = field
		}
		validateTopicProps(field+".Properties", t.Properties, verr)
		if len(t.Subscriptions) == 0 {
			verr.add(field+".Subscriptions", "at least one subscription is required")
		}
		subs := map[string]string{}
		for j, s := range t.Subscriptions {
			sfield := fmt.Sprintf("%s.Subscriptions[%d]", field, j)
			checkName(sfield+".Name", s.Name, "subscription", maxSubNameLen, false)
			if prev, dup := subs[strings.ToLower(s.Name)]; dup && s.Name != "" {
				verr.add(sfield+".Name", "duplicate subscription name %q (also %s)", s.Name, prev)
			} else {
				subs[strings.ToLower(s.Name)] = sfield
			}
			validateProps(sfield+".Properties", s.Properties, false, verr)
			rules := map[string]string{}
			for k, r := range s.Rules {
				rfield := fmt.Sprintf("%s.Rules[%d]", sfield, k)
				checkName(rfield+".Name", r.Name, "rule", maxRuleNameLen, false)
				if prev, dup := rules[strings.ToLower(r.Name)]; dup && r.Name != "" {
					verr.add(rfield+".Name", "duplicate rule name %q (also %s)", r.Name, prev)
				} else {
					rules[strings.ToLower(r.Name)] = rfield
				}
				if _, err := compileRule(r); err != nil {
					var fe FieldError
					if errors.As(err, &fe) {
						verr.add(rfield+".Properties."+fe.Field, "%s", fe.Problem)
					} else {
						verr.add(rfield+".Properties", "%v", err)
					}
				}
			}
		}
	}
	c.validateForwarding(names, verr)
}

func validateProps(field string, p EntityProperties, queue bool, verr *ValidationError) {
	if p.LockDuration < minLockDuration || p.LockDuration > maxLockDuration {
		verr.add(field+".LockDuration", "%s is outside the allowed range PT5S..PT5M", dotnettime.FormatDuration(p.LockDuration))
	}
	if p.MaxDeliveryCount < minDeliveryCount || p.MaxDeliveryCount > maxDeliveryCount {
		verr.add(field+".MaxDeliveryCount", "%d is outside the allowed range %d..%d", p.MaxDeliveryCount, minDeliveryCount, maxDeliveryCount)
	}
	if p.DefaultMessageTimeToLive < minTTL {
		verr.add(field+".DefaultMessageTimeToLive", "%s is shorter than the minimum PT1S", dotnettime.FormatDuration(p.DefaultMessageTimeToLive))
	}
	if queue {
		validateDupWindow(field, p, verr)
	} else if p.RequiresDuplicateDetection {
		verr.add(field+".RequiresDuplicateDetection", "duplicate detection is a topic property, not a subscription property")
	}
}

func validateTopicProps(field string, p EntityProperties, verr *ValidationError) {
	if p.DefaultMessageTimeToLive < minTTL {
		verr.add(field+".DefaultMessageTimeToLive", "%s is shorter than the minimum PT1S", dotnettime.FormatDuration(p.DefaultMessageTimeToLive))
	}
	validateDupWindow(field, p, verr)
	if p.ForwardTo != "" || p.ForwardDeadLetteredMessagesTo != "" || p.RequiresSession {
		verr.add(field, "topics have no ForwardTo, ForwardDeadLetteredMessagesTo or RequiresSession (set them on subscriptions)")
	}
}

func validateDupWindow(field string, p EntityProperties, verr *ValidationError) {
	if p.DuplicateDetectionHistoryTimeWindow < minDupWindow || p.DuplicateDetectionHistoryTimeWindow > maxDupWindow {
		verr.add(field+".DuplicateDetectionHistoryTimeWindow", "%s is outside the allowed range PT5S..P7D", dotnettime.FormatDuration(p.DuplicateDetectionHistoryTimeWindow))
	}
}

// validateForwarding checks that ForwardTo and ForwardDeadLetteredMessagesTo
// name an existing queue or topic and that auto-forwarding has no cycle.
func (c *Config) validateForwarding(names map[string]string, verr *ValidationError) {
	const nsField = "UserConfig.Namespaces[0]"
	// edges: lower-case entity -> lower-case forwarding targets (a topic's
	// edges are its subscriptions' ForwardTo).
	edges := map[string][]string{}
	check := func(field, self, target string) bool {
		if target == "" {
			return false
		}
		if _, ok := names[strings.ToLower(target)]; !ok {
			verr.add(field, "%q is not a queue or topic in this namespace", target)
			return false
		}
		if strings.EqualFold(target, self) {
			verr.add(field, "an entity cannot forward to itself")
			return false
		}
		return true
	}
	for i, q := range c.Queues {
		field := fmt.Sprintf("%s.Queues[%d].Properties", nsField, i)
		if check(field+".ForwardTo", q.Name, q.Properties.ForwardTo) {
			edges[strings.ToLower(q.Name)] = append(edges[strings.ToLower(q.Name)], strings.ToLower(q.Properties.ForwardTo))
		}
		check(field+".ForwardDeadLetteredMessagesTo", q.Name, q.Properties.ForwardDeadLetteredMessagesTo)
	}
	for i, t := range c.Topics {
		for j, s := range t.Subscriptions {
			field := fmt.Sprintf("%s.Topics[%d].Subscriptions[%d].Properties", nsField, i, j)
			if check(field+".ForwardTo", t.Name, s.Properties.ForwardTo) {
				edges[strings.ToLower(t.Name)] = append(edges[strings.ToLower(t.Name)], strings.ToLower(s.Properties.ForwardTo))
			}
			check(field+".ForwardDeadLetteredMessagesTo", t.Name, s.Properties.ForwardDeadLetteredMessagesTo)
		}
	}
	// Depth-first search for cycles and chains longer than the service's
	// limit of maxForwardingHops.
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	depth := map[string]int{}
	var visit func(n string) int
	visit = func(n string) int {
		switch state[n] {
		case active:
			verr.add(names[n]+".Name", "auto-forwarding cycle through %q", n)
			return 0
		case done:
			return depth[n]
		}
		state[n] = active
		d := 0
		for _, m := range edges[n] {
			d = max(d, 1+visit(m))
		}
		state[n] = done
		depth[n] = d
		return d
	}
	// Visit in configuration order so errors are deterministic.
	var order []string
	for _, q := range c.Queues {
		order = append(order, strings.ToLower(q.Name))
	}
	for _, t := range c.Topics {
		order = append(order, strings.ToLower(t.Name))
	}
	for _, n := range order {
		if state[n] == done {
			continue
		}
		if visit(n) > maxForwardingHops {
			verr.add(names[n]+".Name", "auto-forwarding chain from %q is longer than %d hops", n, maxForwardingHops)
		}
	}
}

// stripJSONComments removes // line and /* */ block comments outside
// strings, as the official emulator's sample Config.json uses them.
func stripJSONComments(in []byte) ([]byte, error) {
	out := make([]byte, 0, len(in))
	inString := false
	for i := 0; i < len(in); i++ {
		c := in[i]
		if inString {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(in) {
					i++
					out = append(out, in[i])
				}
			case '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out = append(out, c)
			continue
		}
		if c == '/' && i+1 < len(in) && in[i+1] == '/' {
			for i < len(in) && in[i] != '\n' {
				i++
			}
			out = append(out, '\n')
			continue
		}
		if c == '/' && i+1 < len(in) && in[i+1] == '*' {
			end := bytes.Index(in[i+2:], []byte("*/"))
			if end < 0 {
				return nil, errors.New("unterminated /* comment")
			}
			out = append(out, ' ')
			i += 2 + end + 1
			continue
		}
		out = append(out, c)
	}
	return out, nil
}
