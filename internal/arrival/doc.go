// Package arrival defines the arrival message: the one JSON document that
// announces an MP4 to transcode. BlobCreated produces it from Event Grid
// events; upstream systems may send it to the arrivals queue directly.
// docs/messages.md and docs/schemas/arrival.schema.json describe it.
//
// Parse validates a message completely and names every problem with a
// stable reason code, so SubmitTasks can reject one bad message (as a
// "rejected" result event) without blocking the valid ones in its batch.
// The package does not talk to Service Bus or Storage.
package arrival
