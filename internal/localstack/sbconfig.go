package localstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
)

// CLISubscription is the results topic's subscription that `ffbatch
// results` peeks: its own, so that a user's receiver on "all" (or any
// other) and the CLI never take events from each other. The Service Bus
// emulator's built-in configuration defines it next to "all".
const CLISubscription = "cli"

// sbEntities is what the stack checks in a user's Service Bus emulator
// Config.json (the official emulator's format); sbemu validates the rest
// when it starts.
type sbEntities struct {
	queues []string
	topics map[string][]string // topic -> subscriptions
}

// readServiceBusConfig checks that path exists and parses as a Config.json
// with a UserConfig, and returns its entities.
func readServiceBusConfig(path string) (*sbEntities, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("service bus config: %w", err)
	}
	var file struct {
		UserConfig *struct {
			Namespaces []struct {
				Queues []struct{ Name string }
				Topics []struct {
					Name          string
					Subscriptions []struct{ Name string }
				}
			}
		}
	}
	if err := json.Unmarshal(b, &file); err != nil {
		return nil, fmt.Errorf("service bus config %s: %w", path, err)
	}
	if file.UserConfig == nil || len(file.UserConfig.Namespaces) == 0 {
		return nil, fmt.Errorf("service bus config %s: %w", path, errors.New("no UserConfig.Namespaces (want the Service Bus emulator's Config.json format; `bin/sbemu --print-default-config` prints the built-in one)"))
	}
	e := &sbEntities{topics: map[string][]string{}}
	for _, ns := range file.UserConfig.Namespaces {
		for _, q := range ns.Queues {
			e.queues = append(e.queues, q.Name)
		}
		for _, t := range ns.Topics {
			for _, s := range t.Subscriptions {
				e.topics[t.Name] = append(e.topics[t.Name], s.Name)
			}
			if _, ok := e.topics[t.Name]; !ok {
				e.topics[t.Name] = nil
			}
		}
	}
	return e, nil
}

// missing describes what the pipeline and the CLI need that the
// configuration lacks: the arrivals queue, the results topic and its
// CLISubscription.
func (e *sbEntities) missing(ep Endpoints) []string {
	var out []string
	if !slices.Contains(e.queues, ep.ArrivalsQueue) {
		out = append(out, fmt.Sprintf("queue %q (the pipeline's arrivals)", ep.ArrivalsQueue))
	}
	subs, ok := e.topics[ep.ResultsTopic]
	switch {
	case !ok:
		out = append(out, fmt.Sprintf("topic %q (the pipeline's result events)", ep.ResultsTopic))
	case !slices.Contains(subs, ep.CLISubscription):
		out = append(out, fmt.Sprintf("subscription %q of topic %q (read by `ffbatch results`; add {\"Name\": %q} to the topic's Subscriptions)",
			ep.CLISubscription, ep.ResultsTopic, ep.CLISubscription))
	}
	return out
}
