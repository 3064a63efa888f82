// Package arrivalmsg builds the Service Bus message that carries an arrival
// to the arrivals queue. Every producer in this repository (BlobCreated,
// SweepPools' resubmissions and the ffbatch CLI) builds it here, so the
// message id (duplicate detection), correlation id, content type and
// subject are the same whoever sends the arrival. docs/messages.md
// describes the message.
package arrivalmsg

import (
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/internal/arrival"
	"github.com/ffbatch/ffbatch/internal/request"
)

const (
	// ContentType is the content type of an arrival message's body.
	ContentType = "application/json"
	// Subject is the subject (label) of an arrival message.
	Subject = "arrival"
)

// New returns the message for a: the JSON body, MessageID a.MessageID()
// (the request id, so duplicate detection drops resends of one request),
// ContentType, Subject, and CorrelationID a.Correlation when it is set.
// New does not validate a; callers that accept arrivals from outside call
// a.Validate first.
func New(a arrival.Arrival) (*azservicebus.Message, error) {
	body, err := a.Marshal()
	if err != nil {
		return nil, fmt.Errorf("arrival message for %s/%s: %w", a.Container, a.Blob, err)
	}
	id, ct, subject := a.MessageID(), ContentType, Subject
	m := &azservicebus.Message{Body: body, MessageID: &id, ContentType: &ct, Subject: &subject}
	if a.Correlation != "" {
		c := a.Correlation
		m.CorrelationID = &c
	}
	return m, nil
}

// Resend returns the message for resend n of a (SweepPools sending the
// arrival of a waiting request again): New's message under the MessageID
// request.ResendMessageID(a.ID(), a.Resubmit, n).
func Resend(a arrival.Arrival, n int) (*azservicebus.Message, error) {
	m, err := New(a)
	if err != nil {
		return nil, err
	}
	id := request.ResendMessageID(a.ID(), a.Resubmit, n)
	m.MessageID = &id
	return m, nil
}
