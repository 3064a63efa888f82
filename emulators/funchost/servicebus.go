package funchost

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/google/uuid"
)

// serviceBusTriggerConfig is a serviceBusTrigger binding.
type serviceBusTriggerConfig struct {
	Queue        string
	Topic        string
	Subscription string
	// Connection is the name of the connection setting (or section).
	Connection   string
	Many         bool
	DataType     string // "", "string" or "binary"
	AutoComplete bool
	MaxBatch     int
}

func (c *serviceBusTriggerConfig) entity() string {
	if c.Queue != "" {
		return c.Queue
	}
	return c.Topic + "/Subscriptions/" + c.Subscription
}

func parseServiceBusTrigger(b binding, hc *hostConfig) (*serviceBusTriggerConfig, error) {
	c := &serviceBusTriggerConfig{
		Queue:        b.str("queuename"),
		Topic:        b.str("topicname"),
		Subscription: b.str("subscriptionname"),
		Connection:   b.str("connection"),
		DataType:     strings.ToLower(b.str("datatype")),
		MaxBatch:     hc.ServiceBus.MaxMessageBatchSize,
	}
	switch {
	case c.Queue != "" && (c.Topic != "" || c.Subscription != ""):
		return nil, errors.New("set either queueName or topicName with subscriptionName, not both")
	case c.Queue == "" && (c.Topic == "" || c.Subscription == ""):
		return nil, errors.New("missing queueName (or topicName and subscriptionName)")
	}
	if c.Connection == "" {
		c.Connection = "AzureWebJobsServiceBus"
	}
	switch card := strings.ToLower(b.str("cardinality")); card {
	case "", "one":
	case "many":
		c.Many = true
	default:
		return nil, fmt.Errorf("cardinality %q must be one or many", b.str("cardinality"))
	}
	switch c.DataType {
	case "", "string", "binary":
	case "stream":
		return nil, errors.New("dataType stream cannot be sent to a custom handler; use string or binary")
	default:
		return nil, fmt.Errorf("dataType %q must be string or binary", b.str("datatype"))
	}
	if c.Many && c.DataType == "" {
		// The real host asks for object[] and fails every batch (host#6487).
		return nil, errors.New("cardinality many needs \"dataType\": \"string\" or \"binary\"; without it the Functions host binds object[] and every invocation fails (azure-functions-host#6487)")
	}
	sessions, err := b.boolean("issessionsenabled", false)
	if err != nil {
		return nil, err
	}
	if sessions {
		return nil, errors.New("isSessionsEnabled is not supported by funchost")
	}
	if c.AutoComplete, err = b.boolean("autocompletemessages", hc.ServiceBus.AutoCompleteMessages); err != nil {
		return nil, err
	}
	if v, ok := b.props["maxmessagebatchsize"]; ok {
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil || i < 1 {
			return nil, fmt.Errorf("maxMessageBatchSize must be a positive integer, got %v", v)
		}
		c.MaxBatch = int(i)
	}
	return c, nil
}

// messageReceiver is the part of *azservicebus.Receiver the trigger uses.
type messageReceiver interface {
	ReceiveMessages(ctx context.Context, maxMessages int, options *azservicebus.ReceiveMessagesOptions) ([]*azservicebus.ReceivedMessage, error)
	CompleteMessage(ctx context.Context, message *azservicebus.ReceivedMessage, options *azservicebus.CompleteMessageOptions) error
	AbandonMessage(ctx context.Context, message *azservicebus.ReceivedMessage, options *azservicebus.AbandonMessageOptions) error
	RenewMessageLock(ctx context.Context, msg *azservicebus.ReceivedMessage, options *azservicebus.RenewMessageLockOptions) error
	Close(ctx context.Context) error
}

var _ messageReceiver = (*azservicebus.Receiver)(nil)

// sbClientInfo is Metadata.Client, JObject.FromObject(ServiceBusClient).
type sbClientInfo struct {
	FullyQualifiedNamespace string `json:"FullyQualifiedNamespace"`
	IsClosed                bool   `json:"IsClosed"`
	TransportType           int    `json:"TransportType"`
	Identifier              string `json:"Identifier"`
}

// sbListener runs one serviceBusTrigger function.
type sbListener struct {
	h      *Host
	fn     *function
	cfg    *serviceBusTriggerConfig
	rcv    messageReceiver
	client sbClientInfo
	log    *slog.Logger
}

func (l *sbListener) run(ctx context.Context) {
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.rcv.Close(closeCtx); err != nil {
			l.log.Debug("close receiver", slog.Any("error", err))
		}
	}()
	l.log.Info("listening", slog.String("entity", l.cfg.entity()), slog.Bool("batch", l.cfg.Many))
	if l.cfg.Many {
		l.runBatches(ctx)
		return
	}
	l.runSingle(ctx)
}

// receiveBackoff waits after a receive error; it reports false when ctx ended.
func receiveBackoff(ctx context.Context, d *time.Duration) bool {
	t := time.NewTimer(*d)
	defer t.Stop()
	*d = min(2**d, 30*time.Second)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// runSingle dispatches messages one per invocation, up to
// maxConcurrentCalls at a time.
func (l *sbListener) runSingle(ctx context.Context) {
	limit := l.h.cfg.ServiceBus.MaxConcurrentCalls
	sem := make(chan struct{}, limit)
	backoff := l.h.opts.ServiceBusRetryDelay
	for ctx.Err() == nil {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1
		for n < limit && n < 100 {
			select {
			case sem <- struct{}{}:
				n++
				continue
			default:
			}
			break
		}
		msgs, err := l.rcv.ReceiveMessages(ctx, n, nil)
		for range n - len(msgs) {
			<-sem
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.log.Error("receive messages", slog.String("entity", l.cfg.entity()), slog.Any("error", err))
			if !receiveBackoff(ctx, &backoff) {
				return
			}
			continue
		}
		backoff = l.h.opts.ServiceBusRetryDelay
		for _, m := range msgs {
			l.h.wg.Add(1)
			go func() {
				defer l.h.wg.Done()
				defer func() { <-sem }()
				l.handle(ctx, []*azservicebus.ReceivedMessage{m})
			}()
		}
	}
}

// runBatches receives up to maxMessageBatchSize messages, waits up to
// maxBatchWaitTime for minMessageBatchSize, and invokes once per batch.
func (l *sbListener) runBatches(ctx context.Context) {
	hc := l.h.cfg.ServiceBus
	backoff := l.h.opts.ServiceBusRetryDelay
	for ctx.Err() == nil {
		msgs, err := l.rcv.ReceiveMessages(ctx, l.cfg.MaxBatch, nil)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.log.Error("receive messages", slog.String("entity", l.cfg.entity()), slog.Any("error", err))
			if !receiveBackoff(ctx, &backoff) {
				return
			}
			continue
		}
		backoff = l.h.opts.ServiceBusRetryDelay
		if len(msgs) < hc.MinMessageBatchSize && len(msgs) < l.cfg.MaxBatch {
			waitCtx, cancel := context.WithTimeout(ctx, hc.MaxBatchWaitTime)
			for len(msgs) < hc.MinMessageBatchSize && waitCtx.Err() == nil {
				more, err := l.rcv.ReceiveMessages(waitCtx, l.cfg.MaxBatch-len(msgs), nil)
				msgs = append(msgs, more...)
				if err != nil {
					break
				}
			}
			cancel()
		}
		if len(msgs) == 0 {
			continue
		}
		l.handle(ctx, msgs)
	}
}

// handle invokes the function with msgs and settles them: complete on
// success (autoCompleteMessages), abandon on failure.
func (l *sbListener) handle(ctx context.Context, msgs []*azservicebus.ReceivedMessage) {
	now := l.h.now()
	var req *invocationRequest
	if l.cfg.Many {
		req = sbBatchRequest(l.fn, msgs, l.client, now)
	} else {
		req = sbSingleRequest(l.fn, msgs[0], l.client, now)
	}
	invCtx, stopRenew := context.WithCancel(ctx)
	if !l.cfg.Many {
		go l.renewLock(invCtx, msgs[0])
	}
	_, err := l.h.invoker.invoke(invCtx, newInvocation(l.fn, fmt.Sprintf("New ServiceBus message detected on '%s'.", l.cfg.entity())), req)
	stopRenew()
	settleCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, m := range msgs {
		var serr error
		switch {
		case err != nil:
			serr = l.rcv.AbandonMessage(settleCtx, m, nil)
		case l.cfg.AutoComplete:
			serr = l.rcv.CompleteMessage(settleCtx, m, nil)
		default:
			continue
		}
		if serr != nil {
			l.log.Error("settle message", slog.String("messageId", m.MessageID), slog.Bool("complete", err == nil), slog.Any("error", serr))
		}
	}
}

// renewLock renews the message lock at half its remaining time while the
// invocation runs, for at most maxAutoLockRenewalDuration (single mode only,
// as in the extension).
func (l *sbListener) renewLock(ctx context.Context, m *azservicebus.ReceivedMessage) {
	limit := l.h.cfg.ServiceBus.MaxAutoLockRenewal
	if limit == 0 || m.LockedUntil == nil {
		return
	}
	start := l.h.now()
	for {
		wait := max(m.LockedUntil.Sub(l.h.now())/2, time.Second)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if limit > 0 && l.h.now().Sub(start) >= limit {
			return
		}
		if err := l.rcv.RenewMessageLock(ctx, m, nil); err != nil {
			if ctx.Err() == nil {
				l.log.Warn("renew message lock", slog.String("messageId", m.MessageID), slog.Any("error", err))
			}
			return
		}
	}
}

// maxDateTimeOffset is DateTimeOffset.MaxValue, the expiry of a message
// without a time to live.
var maxDateTimeOffset = time.Date(9999, 12, 31, 23, 59, 59, 999999900, time.UTC)

func expiresAt(m *azservicebus.ReceivedMessage) time.Time {
	if m.ExpiresAt != nil {
		return *m.ExpiresAt
	}
	return maxDateTimeOffset
}

func enqueuedAt(m *azservicebus.ReceivedMessage) time.Time {
	if m.EnqueuedTime != nil {
		return *m.EnqueuedTime
	}
	return time.Time{}
}

func appProps(m *azservicebus.ReceivedMessage) map[string]any {
	if m.ApplicationProperties == nil {
		return map[string]any{}
	}
	return m.ApplicationProperties
}

// sbActions are the action and client objects every Service Bus invocation
// carries (they cannot be used over HTTP).
func sbActions(md map[string]any, client sbClientInfo) {
	for _, k := range []string{"MessageReceiver", "MessageSession", "MessageActions", "SessionActions", "ReceiveActions"} {
		md[k] = map[string]any{}
	}
	md["Client"] = client
}

// sbBody encodes one message body for Data per dataType.
func sbBody(dataType string, body []byte) any {
	if dataType == "binary" {
		return base64.StdEncoding.EncodeToString(body)
	}
	return hostString(string(body))
}

// sbSingleRequest builds the envelope for one message
// (ServiceBusTriggerBindingStrategy, functions-host.md §1.6.3).
func sbSingleRequest(fn *function, m *azservicebus.ReceivedMessage, client sbClientInfo, now time.Time) *invocationRequest {
	md := map[string]any{}
	sbActions(md, client)
	md["DeliveryCount"] = hostInt(int64(m.DeliveryCount))
	md["LockToken"] = hostString(uuid.UUID(m.LockToken).String())
	md["ExpiresAtUtc"] = hostDateTime(expiresAt(m))
	md["ExpiresAt"] = hostDateTimeOffset(expiresAt(m))
	md["EnqueuedTimeUtc"] = hostDateTime(enqueuedAt(m))
	md["EnqueuedTime"] = hostDateTimeOffset(enqueuedAt(m))
	md["MessageId"] = hostString(m.MessageID)
	if m.SequenceNumber != nil {
		md["SequenceNumber"] = hostInt(*m.SequenceNumber)
	}
	optional := map[string]*string{
		"DeadLetterSource": m.DeadLetterSource,
		"ContentType":      m.ContentType,
		"ReplyTo":          m.ReplyTo,
		"To":               m.To,
		"Subject":          m.Subject,
		"Label":            m.Subject,
		"CorrelationId":    m.CorrelationID,
		"SessionId":        m.SessionID,
		"ReplyToSessionId": m.ReplyToSessionID,
		"PartitionKey":     m.PartitionKey,
	}
	for k, v := range optional {
		if v != nil {
			md[k] = hostString(*v)
		}
	}
	md["ApplicationProperties"] = appProps(m)
	md["UserProperties"] = appProps(m)
	if fn.ServiceBus.DataType != "binary" {
		applyBindingData(md, m.Body)
	}
	md["sys"] = newSys(fn.Name, now)
	return &invocationRequest{
		Data:     map[string]any{fn.Trigger.Name: sbBody(fn.ServiceBus.DataType, m.Body)},
		Metadata: md,
	}
}

// sbBatchRequest builds the envelope for a batch: the bodies as one JSON
// string holding an array, and every property as <Key>Array (§1.6.4).
func sbBatchRequest(fn *function, msgs []*azservicebus.ReceivedMessage, client sbClientInfo, now time.Time) *invocationRequest {
	n := len(msgs)
	var (
		deliveryCount = make([]uint32, n)
		lockTokens    = make([]string, n)
		messageIDs    = make([]string, n)
		seqNumbers    = make([]int64, n)
		expUTC        = make([]string, n)
		exp           = make([]string, n)
		enqUTC        = make([]string, n)
		enq           = make([]string, n)
		props         = make([]map[string]any, n)
		strs          = map[string][]*string{}
	)
	strKeys := []string{"DeadLetterSource", "ContentType", "ReplyTo", "To", "Label", "Subject", "CorrelationId", "SessionId", "ReplyToSessionId", "PartitionKey", "TransactionPartitionKey"}
	for _, k := range strKeys {
		strs[k] = make([]*string, n)
	}
	bodies := make([]string, n)
	for i, m := range msgs {
		deliveryCount[i] = m.DeliveryCount
		lockTokens[i] = uuid.UUID(m.LockToken).String()
		messageIDs[i] = m.MessageID
		if m.SequenceNumber != nil {
			seqNumbers[i] = *m.SequenceNumber
		}
		expUTC[i] = netUTC(expiresAt(m))
		exp[i] = netOffset(expiresAt(m))
		enqUTC[i] = netUTC(enqueuedAt(m))
		enq[i] = netOffset(enqueuedAt(m))
		props[i] = appProps(m)
		strs["DeadLetterSource"][i] = m.DeadLetterSource
		strs["ContentType"][i] = m.ContentType
		strs["ReplyTo"][i] = m.ReplyTo
		strs["To"][i] = m.To
		strs["Label"][i] = m.Subject
		strs["Subject"][i] = m.Subject
		strs["CorrelationId"][i] = m.CorrelationID
		strs["SessionId"][i] = m.SessionID
		strs["ReplyToSessionId"][i] = m.ReplyToSessionID
		strs["PartitionKey"][i] = m.PartitionKey
		if fn.ServiceBus.DataType == "binary" {
			bodies[i] = base64.StdEncoding.EncodeToString(m.Body)
		} else {
			bodies[i] = string(m.Body)
		}
	}
	md := map[string]any{}
	sbActions(md, client)
	md["DeliveryCountArray"] = hostArray(deliveryCount)
	md["LockTokenArray"] = hostArray(lockTokens)
	md["MessageIdArray"] = hostArray(messageIDs)
	md["SequenceNumberArray"] = hostArray(seqNumbers)
	md["ExpiresAtUtcArray"] = hostArray(expUTC)
	md["ExpiresAtArray"] = hostArray(exp)
	md["EnqueuedTimeUtcArray"] = hostArray(enqUTC)
	md["EnqueuedTimeArray"] = hostArray(enq)
	md["ApplicationPropertiesArray"] = hostArray(props)
	md["UserPropertiesArray"] = hostArray(props)
	for _, k := range strKeys {
		md[k+"Array"] = hostArray(strs[k])
	}
	md["sys"] = newSys(fn.Name, now)
	return &invocationRequest{
		Data:     map[string]any{fn.Trigger.Name: hostArray(bodies)},
		Metadata: md,
	}
}

// applyBindingData merges the top-level non-array properties of a JSON
// object body into the binding data, replacing same-named keys
// case-insensitively (Utility.ApplyBindingData).
func applyBindingData(md map[string]any, body []byte) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return
	}
	for k, raw := range obj {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			continue
		}
		var enc any
		switch val := v.(type) {
		case nil, []any:
			continue
		case map[string]any:
			enc = val
		default:
			enc = string(raw) // JSON text of the scalar: "\"abc\"", "4", "true"
		}
		for existing := range md {
			if strings.EqualFold(existing, k) {
				delete(md, existing)
			}
		}
		md[k] = enc
	}
}
