package infra

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// AppSettingsVar is the name of the object variable in main.bicep that holds
// the function app's own settings.
const AppSettingsVar = "appSettings"

// localOnly lists settings internal/config reads that must not be app
// settings in Azure, and why. They must still be documented in
// local.settings.json.example.
var localOnly = map[string]string{
	"FFBATCH_STORAGE_CONNECTION_STRING":    "it carries an account key; Azure uses FFBATCH_STORAGE_ACCOUNT_URL with managed identity",
	"FFBATCH_SERVICEBUS_CONNECTION_STRING": "it carries a SAS key; Azure uses FFBATCH_SERVICEBUS_NAMESPACE with managed identity",
	"FFBATCH_BATCH_ACCOUNT_KEY":            "it is a Batch account key; Azure uses FFBATCH_BATCH_AUTH=entra",
	"ServiceBusConnection":                 "it is a connection string with a key; Azure uses ServiceBusConnection__fullyQualifiedNamespace",
}

// entityNames are settings that name something the template creates: the
// value in Bicep, in local.settings.json.example and the internal/config
// default must agree, and the module that creates the entity must receive
// that same value.
var entityNames = []struct {
	setting, module, param string
}{
	{"FFBATCH_INPUT_CONTAINER", "dataStorage", "containerNames"},
	{"FFBATCH_OUTPUT_CONTAINER", "dataStorage", "containerNames"},
	{"FFBATCH_STATUS_CONTAINER", "dataStorage", "containerNames"},
	{"FFBATCH_INPUT_CONTAINER", "eventGrid", "inputContainerName"},
	{"FFBATCH_OUTPUT_CONTAINER", "eventGrid", "outputContainerName"},
	{"FFBATCH_LOGS_PREFIX", "eventGrid", "logsPrefix"},
	{"FFBATCH_ARRIVALS_QUEUE", "serviceBus", "arrivalsQueueName"},
	{"FFBATCH_RESULTS_TOPIC", "serviceBus", "resultsTopicName"},
}

// eventGridModule is the module holding the Event Grid subscriptions, and
// eventGridFunctionParams its parameters naming the functions they feed
// (BlobCreated, TaskFinished).
const eventGridModule = "eventGrid"

var eventGridFunctionParams = []string{"functionName", "taskFinishedFunctionName"}

// CheckSettings returns every disagreement between internal/config, the
// Bicep app settings, local.settings.json.example and the function
// definitions. An empty result means they agree.
func CheckSettings(r *Repo) []Problem {
	c := &checker{r: r}
	c.run()
	sort.SliceStable(c.probs, func(i, j int) bool {
		if c.probs[i].File != c.probs[j].File {
			return c.probs[i].File < c.probs[j].File
		}
		return c.probs[i].Subject < c.probs[j].Subject
	})
	return c.probs
}

type checker struct {
	r       *Repo
	probs   []Problem
	main    *BicepFile
	params  *BicepParams
	app     map[string]string // appSettings entries: name -> raw expression
	local   map[string]string
	known   map[string]bool // settings internal/config reads
	funcs   map[string][]map[string]any
	bicepAt string // how to name the Bicep side in messages
}

func (c *checker) add(file, subject, format string, args ...any) {
	c.probs = append(c.probs, Problem{file, subject, fmt.Sprintf(format, args...)})
}

func (c *checker) run() {
	if !c.load() {
		return
	}
	c.coverage()
	c.emptyOverrides()
	c.names()
	c.bindings()
	c.lockCoversBatch()
	c.outputs()
	c.slotsFitVM()
	c.runFromPackage()
	c.outputsRead()
}

// outputs: every app setting computed from a deployed resource is also a
// template output, so operators and scripts can read the value the app got.
func (c *checker) outputs() {
	have := map[string]bool{}
	for _, e := range c.main.OutputExp {
		have[e] = true
	}
	for _, s := range sortedKeys(c.app) {
		if e := c.app[s]; strings.Contains(e, ".outputs.") && !have[e] {
			c.add(MainBicepPath, s, "its value %s is not a template output; add `output <name> string = %s`", e, e)
		}
	}
}

// load parses every input; a file that cannot be read stops the checks that
// need it, with one problem naming it.
func (c *checker) load() bool {
	ok := true
	c.known = map[string]bool{}
	for _, s := range c.r.Settings {
		c.known[s] = true
	}
	if len(c.known) == 0 {
		c.add(ConfigSourcePath, "", "no settings given (expected config.Settings())")
		ok = false
	}
	var err error
	if c.main, err = ParseBicep(c.r.Files[MainBicepPath]); err != nil {
		c.add(MainBicepPath, "", "%v", err)
		ok = false
	} else if c.app = c.main.Objects[AppSettingsVar]; c.app == nil {
		c.add(MainBicepPath, "", "no `var %s = {` object with the function app's settings", AppSettingsVar)
		ok = false
	}
	if c.params, err = ParseBicepParams(c.r.Files[MainParamsPath]); err != nil {
		c.add(MainParamsPath, "", "%v", err)
		ok = false
	}
	if c.local, err = localValues(c.r.Files[LocalSettingsPath]); err != nil {
		c.add(LocalSettingsPath, "", "%v", err)
		ok = false
	}
	c.funcs = map[string][]map[string]any{}
	defs := c.r.functionDefs()
	if len(defs) == 0 {
		c.add(FunctionsDir, "", "no <Function>/function.json found")
		ok = false
	}
	for name, src := range defs {
		var doc struct {
			Bindings []map[string]any `json:"bindings"`
		}
		if err := json.Unmarshal([]byte(src), &doc); err != nil {
			c.add(funcPath(name), "", "parse: %v", err)
			ok = false
			continue
		}
		c.funcs[name] = doc.Bindings
	}
	c.bicepAt = MainBicepPath + " (with " + MainParamsPath + ")"
	return ok
}

func funcPath(name string) string { return FunctionsDir + "/" + name + "/function.json" }

// coverage: every setting read is in Bicep (unless local-only) and in the
// example; nothing unknown or secret is.
func (c *checker) coverage() {
	for _, s := range c.r.Settings {
		if reason, ok := localOnly[s]; ok {
			if _, inBicep := c.app[s]; inBicep {
				c.add(MainBicepPath, s, "must not be an app setting in Azure: %s", reason)
			}
		} else if _, inBicep := c.app[s]; !inBicep {
			c.add(MainBicepPath, s, "read by internal/config but missing from `var %s`", AppSettingsVar)
		}
		if _, ok := c.local[s]; !ok {
			c.add(LocalSettingsPath, s, "read by internal/config but missing from Values")
		}
	}
	for _, s := range sortedKeys(localOnly) {
		if !c.known[s] {
			c.add("infra/settings.go", s, "listed as local-only but internal/config does not read it; remove it from localOnly")
		}
	}
	for _, s := range sortedKeys(c.app) {
		if strings.HasPrefix(s, "FFBATCH_") && !c.known[s] {
			c.add(MainBicepPath, s, "is not read by internal/config (misspelt or stale)")
		}
	}
	for _, s := range sortedKeys(c.local) {
		if strings.HasPrefix(s, "FFBATCH_") && !c.known[s] {
			c.add(LocalSettingsPath, s, "is not read by internal/config (misspelt or stale)")
		}
	}
}

// emptyOverrides: envconfig applies a default only when the variable is
// unset, so an explicit empty value silently replaces the default.
func (c *checker) emptyOverrides() {
	for _, s := range sortedKeys(c.app) {
		def, hasDef := c.r.Defaults[s]
		if v, ok := c.resolveOne(c.app[s]); ok && v == "" && hasDef && def != "" {
			c.add(MainBicepPath, s, "is set to '' which replaces the internal/config default %q with an empty value (envconfig uses the default only when a variable is unset)", def)
		}
	}
	for _, s := range sortedKeys(c.local) {
		if def, hasDef := c.r.Defaults[s]; hasDef && def != "" && c.local[s] == "" {
			c.add(LocalSettingsPath, s, "is \"\" which replaces the internal/config default %q with an empty value (envconfig uses the default only when a variable is unset)", def)
		}
	}
}

// names: queue, topic and container names agree everywhere.
func (c *checker) names() {
	for _, e := range entityNames {
		def, hasDef := c.r.Defaults[e.setting]
		if !hasDef {
			c.add(ConfigSourcePath, e.setting, "has no default; the infra checks expect one for every queue, topic and container name")
			continue
		}
		if v, ok := c.local[e.setting]; ok && v != def {
			c.add(LocalSettingsPath, e.setting, "is %q but the internal/config default is %q", v, def)
		}
		raw, ok := c.app[e.setting]
		if !ok {
			continue // reported by coverage
		}
		v, ok := c.resolveOne(raw)
		if !ok {
			c.add(MainBicepPath, e.setting, "value %s is not a literal or a parameter with a literal value; names must be checkable", raw)
			continue
		}
		if v != def {
			c.add(c.bicepAt, e.setting, "resolves to %q but the internal/config default is %q", v, def)
		}
		mod, ok := c.main.Modules[e.module]
		if !ok {
			c.add(MainBicepPath, e.setting, "module %s, which creates it, is missing", e.module)
			continue
		}
		vals, ok := c.resolve(mod.Params[e.param], 0)
		if !ok {
			c.add(MainBicepPath, e.setting, "module %s param %s = %q cannot be resolved to names", e.module, e.param, mod.Params[e.param])
			continue
		}
		if !contains(vals, v) {
			c.add(c.bicepAt, e.setting, "the app uses %q but module %s param %s resolves to %q, so the template does not create it", v, e.module, e.param, vals)
		}
	}
}

var settingRef = regexp.MustCompile(`%([^%\s]+)%`)

// bindings: function.json references and trigger targets agree with the
// settings and the template.
func (c *checker) bindings() {
	arrivals := c.r.Defaults["FFBATCH_ARRIVALS_QUEUE"]
	results := c.r.Defaults["FFBATCH_RESULTS_TOPIC"]
	var egFuncs []string
	for _, fn := range sortedKeys(c.funcs) {
		file := funcPath(fn)
		for _, b := range c.funcs[fn] {
			btype, _ := b["type"].(string)
			if btype == "eventGridTrigger" {
				egFuncs = append(egFuncs, fn)
			}
			for _, k := range sortedKeys(b) {
				v, isStr := b[k].(string)
				if !isStr {
					continue
				}
				for _, m := range settingRef.FindAllStringSubmatch(v, -1) {
					c.bindingRef(file, k, m[1])
				}
			}
			if conn, ok := b["connection"].(string); ok && conn != "" {
				if !hasConnection(c.app, conn) {
					c.add(MainBicepPath, conn, "%s binding %q uses connection %s but `var %s` sets neither %s nor %s__*", file, b["name"], conn, AppSettingsVar, conn, conn)
				}
				if !hasConnection(c.local, conn) {
					c.add(LocalSettingsPath, conn, "%s binding %q uses connection %s but Values sets neither %s nor %s__*", file, b["name"], conn, conn, conn)
				}
			}
			if q, ok := b["queueName"].(string); ok {
				if got := c.bindingValue(q); got != arrivals {
					c.add(file, "queueName", "%q resolves to %q but the arrivals queue (FFBATCH_ARRIVALS_QUEUE default) is %q", q, got, arrivals)
				}
			}
			if t, ok := b["topicName"].(string); ok {
				if got := c.bindingValue(t); got != results {
					c.add(file, "topicName", "%q resolves to %q but the results topic (FFBATCH_RESULTS_TOPIC default) is %q", t, got, results)
				}
			}
			if btype == "serviceBusTrigger" && b["cardinality"] == "many" {
				if dt, _ := b["dataType"].(string); dt != "string" && dt != "binary" {
					c.add(file, "dataType", "a serviceBusTrigger with cardinality many needs dataType string or binary for a custom handler, got %q", dt)
				}
			}
		}
	}
	mod, ok := c.main.Modules[eventGridModule]
	if !ok {
		c.add(MainBicepPath, "module "+eventGridModule, "is missing; nothing would deliver BlobCreated events")
		return
	}
	var targets []string
	for _, param := range eventGridFunctionParams {
		target, ok := c.resolveOne(mod.Params[param])
		if !ok {
			c.add(MainBicepPath, "module "+eventGridModule, "param %s = %q does not resolve to a function name", param, mod.Params[param])
			continue
		}
		targets = append(targets, target)
		if _, exists := c.funcs[target]; !exists {
			c.add(c.bicepAt, "module "+eventGridModule, "delivers events to function %q, which has no %s", target, funcPath(target))
		} else if !contains(egFuncs, target) {
			c.add(c.bicepAt, "module "+eventGridModule, "delivers events to function %q, which has no eventGridTrigger binding", target)
		}
	}
	for _, fn := range egFuncs {
		if !contains(targets, fn) {
			c.add(funcPath(fn), "", "has an eventGridTrigger but no Event Grid subscription targets it (they target %s), so it never runs", strings.Join(targets, ", "))
		}
	}
}

func (c *checker) bindingRef(file, key, name string) {
	if strings.HasPrefix(name, "FFBATCH_") && !c.known[name] {
		c.add(file, name, "%s refers to %%%s%%, which internal/config does not read", key, name)
	}
	if _, ok := c.app[name]; !ok {
		c.add(MainBicepPath, name, "%s %s refers to %%%s%% but `var %s` does not set it", file, key, name, AppSettingsVar)
	}
	if _, ok := c.local[name]; !ok {
		c.add(LocalSettingsPath, name, "%s %s refers to %%%s%% but Values does not set it", file, key, name)
	}
}

// bindingValue resolves a whole-value %Setting% reference to the setting's
// internal/config default; other values are returned as they are.
func (c *checker) bindingValue(v string) string {
	if m := settingRef.FindStringSubmatch(v); m != nil && m[0] == v {
		return c.r.Defaults[m[1]]
	}
	return v
}

func hasConnection(settings map[string]string, conn string) bool {
	if _, ok := settings[conn]; ok {
		return true
	}
	for k := range settings {
		if strings.HasPrefix(k, conn+"__") {
			return true
		}
	}
	return false
}

func (c *checker) resolveOne(expr string) (string, bool) {
	vals, ok := c.resolve(expr, 0)
	if !ok || len(vals) != 1 || strings.HasPrefix(strings.TrimSpace(expr), "[") {
		return "", false
	}
	return vals[0], true
}

var (
	identRE      = regexp.MustCompile(`^[A-Za-z_]\w*$`)
	intLiteralRE = regexp.MustCompile(`^-?[0-9]+$`)
	stringCallRE = regexp.MustCompile(`^string\(\s*([A-Za-z_]\w*|-?[0-9]+)\s*\)$`)
)

// resolve evaluates the small subset of Bicep expressions the checks need:
// string and integer literals without interpolation, parameters (bicepparam
// value first, then the default), variables, string() of a parameter or
// integer, and single-line arrays of those.
func (c *checker) resolve(expr string, depth int) ([]string, bool) {
	expr = strings.TrimSpace(expr)
	if depth > 10 || expr == "" {
		return nil, false
	}
	if m := stringCallRE.FindStringSubmatch(expr); m != nil {
		expr = m[1] // string(x) of a literal or parameter is x's text
	}
	switch {
	case intLiteralRE.MatchString(expr):
		return []string{expr}, true
	case len(expr) >= 2 && expr[0] == '\'' && expr[len(expr)-1] == '\'' && !strings.Contains(expr, "${"):
		inner := expr[1 : len(expr)-1]
		if strings.Contains(strings.ReplaceAll(inner, `\'`, ""), "'") {
			return nil, false // 'a' + 'b' or similar
		}
		return []string{strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(inner)}, true
	case identRE.MatchString(expr):
		if v, ok := c.params.Values[expr]; ok {
			return c.resolve(v, depth+1)
		}
		if p, ok := c.main.Params[expr]; ok {
			return c.resolve(p.Default, depth+1)
		}
		if v, ok := c.main.Vars[expr]; ok {
			return c.resolve(v, depth+1)
		}
		return nil, false
	case strings.HasPrefix(expr, "[") && strings.HasSuffix(expr, "]"):
		var out []string
		for _, item := range strings.Split(expr[1:len(expr)-1], ",") {
			if strings.TrimSpace(item) == "" {
				continue
			}
			vals, ok := c.resolve(item, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, vals...)
		}
		return out, true
	}
	return nil, false
}
