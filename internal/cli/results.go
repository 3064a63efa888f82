package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/Azure/go-amqp"

	"github.com/ffbatch/ffbatch/internal/localstack"
	"github.com/ffbatch/ffbatch/internal/results"
)

// maxPeek bounds how many result events one results command reads.
const maxPeek = 100000

// peekResults reads the result events on a subscription of the results
// topic without settling them (peek), so any number of `ffbatch results`
// runs see the same events.
func peekResults(ctx context.Context, c *clients, subscription string) ([]results.Event, error) {
	sb, err := c.serviceBus()
	if err != nil {
		return nil, err
	}
	// Messages that are not result events are skipped; the schema is
	// documented in docs/messages.md.
	p, err := localstack.PeekResults(ctx, sb, c.ep, subscription, maxPeek)
	if entityNotFound(err) {
		err = fmt.Errorf("the results topic %q has no subscription %q: the stack's Service Bus config (`up --sb-config FILE`) must define it: add {\"Name\": %q} to the topic's Subscriptions, or read another with --subscription NAME: %w",
			c.ep.ResultsTopic, subscription, subscription, err)
	}
	if p == nil {
		return nil, err
	}
	out := p.Events
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, err
}

// describe is one result event as a line.
func describe(ev results.Event) string {
	name := "(unnamed message)"
	if ev.File != nil {
		name = ev.File.Container + "/" + ev.File.Blob
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %s", ev.Status, name)
	switch ev.Status {
	case results.StatusSucceeded:
		if ev.Output != nil {
			fmt.Fprintf(&b, " -> %s/%s", ev.Output.Container, ev.Output.Blob)
		}
		if ev.Reused != nil {
			fmt.Fprintf(&b, " (reused: same work as request %s)", ev.Reused.Request)
		}
		if ev.Timings != nil {
			fmt.Fprintf(&b, " (run %dms, total %dms)", ev.Timings.RunMillis, ev.Timings.TotalMillis)
		}
	case results.StatusFailed:
		if f := ev.Failure; f != nil {
			fmt.Fprintf(&b, ": %s", f.Category)
			if f.Code != "" {
				fmt.Fprintf(&b, " %s", f.Code)
			}
			if f.ExitCode != nil {
				fmt.Fprintf(&b, " exit %d", *f.ExitCode)
			}
			if f.Message != "" {
				fmt.Fprintf(&b, ": %s", oneLine(f.Message, 120))
			}
			if s := lastLine(f.Stderr); s != "" {
				fmt.Fprintf(&b, "\n          stderr: %s", oneLine(s, 120))
			}
		}
	case results.StatusRejected, results.StatusIgnored:
		if r := ev.Rejection; r != nil {
			fmt.Fprintf(&b, ": %s: %s", r.Reason, oneLine(r.Message, 120))
			if r.MessageID != "" {
				fmt.Fprintf(&b, " (message %s)", r.MessageID)
			}
		}
	}
	return b.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func cmdResults(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "results", "[flags]")
	sub := fs.String("subscription", "", "subscription of the results topic to read, peeked, not consumed (default: the CLI's own, "+localstack.CLISubscription+")")
	asJSON := fs.Bool("json", false, "print the result events as JSON lines")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	c, err := connect(e)
	if err != nil {
		return err
	}
	defer c.close()
	if *sub == "" {
		*sub = cliSubscription(c.ep)
	}
	evs, err := peekResults(ctx, c, *sub)
	if err != nil {
		return err
	}
	return printResults(e.stdout, evs, *asJSON)
}

// entityNotFound reports whether err says that a Service Bus entity does
// not exist: an attach refused with amqp:not-found (what azservicebus
// passes on as it is), or a $cbs or management call answered 404 (the
// service refuses the token for a missing entity).
func entityNotFound(err error) bool {
	var amqpErr *amqp.Error
	var sbErr *azservicebus.Error
	return (errors.As(err, &amqpErr) && amqpErr.Condition == amqp.ErrCondNotFound) ||
		(errors.As(err, &sbErr) && sbErr.Code == azservicebus.CodeNotFound)
}

// cliSubscription is the subscription the CLI reads: the one stack.json
// names, or the default for a record written before it named one.
func cliSubscription(ep localstack.Endpoints) string {
	if ep.CLISubscription != "" {
		return ep.CLISubscription
	}
	return localstack.CLISubscription
}

func printResults(w io.Writer, evs []results.Event, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				return fmt.Errorf("print results: %w", err)
			}
		}
		return nil
	}
	n := map[results.Status]int{}
	for _, ev := range evs {
		n[ev.Status]++
		fmt.Fprintln(w, describe(ev))
	}
	fmt.Fprintf(w, "%d result(s): %d succeeded, %d failed, %d rejected\n", len(evs), n[results.StatusSucceeded], n[results.StatusFailed], n[results.StatusRejected])
	return nil
}
