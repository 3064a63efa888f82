package broker

import (
	"fmt"
	"strings"
	"time"
)

// rule is a compiled subscription rule.
type rule struct {
	name   string
	filter expr     // nil never happens: true filter is a literal
	action []assign // nil: no action
}

// matches reports whether the filter selects m (unknown counts as false).
func (r *rule) matches(m *Message) bool {
	v := r.filter.eval(m)
	b, ok := v.(bool)
	return ok && b
}

// apply returns the application and system property changes of the rule's
// action for m.
func (r *rule) apply(m *Message) (props map[string]any, sys map[string]string) {
	for _, a := range r.action {
		v := a.value.eval(m)
		if a.sys != "" {
			s, ok := v.(string)
			if !ok {
				continue // a non-string value for a string system property is an evaluation error; the assignment is skipped
			}
			if sys == nil {
				sys = map[string]string{}
			}
			sys[a.sys] = s
			continue
		}
		if props == nil {
			props = map[string]any{}
		}
		props[a.prop] = v
	}
	return props, sys
}

// compileRule compiles one rule; errors are FieldErrors relative to the
// rule's Properties.
func compileRule(rc RuleConfig) (*rule, error) {
	r := &rule{name: rc.Name}
	switch rc.FilterType {
	case FilterCorrelation:
		if rc.Correlation == nil {
			return nil, FieldError{Field: "CorrelationFilter", Problem: "required when FilterType is Correlation"}
		}
		if rc.SQL != "" {
			return nil, FieldError{Field: "SqlFilter", Problem: "not allowed when FilterType is Correlation"}
		}
		c := rc.Correlation
		if c.ContentType == "" && c.CorrelationID == "" && c.Label == "" && c.MessageID == "" && c.ReplyTo == "" &&
			c.ReplyToSessionID == "" && c.SessionID == "" && c.To == "" && len(c.Properties) == 0 {
			return nil, FieldError{Field: "CorrelationFilter", Problem: "at least one property is required"}
		}
		r.filter = &correlationExpr{f: *c}
	case FilterSQL:
		if rc.Correlation != nil {
			return nil, FieldError{Field: "CorrelationFilter", Problem: "not allowed when FilterType is Sql"}
		}
		if strings.TrimSpace(rc.SQL) == "" {
			return nil, FieldError{Field: "SqlFilter.SqlExpression", Problem: "required when FilterType is Sql"}
		}
		e, err := parseSQLFilter(rc.SQL)
		if err != nil {
			return nil, FieldError{Field: "SqlFilter.SqlExpression", Problem: err.Error()}
		}
		r.filter = e
	default:
		return nil, FieldError{Field: "FilterType", Problem: fmt.Sprintf("%q is not Correlation or Sql", rc.FilterType)}
	}
	if strings.TrimSpace(rc.Action) != "" {
		a, err := parseSQLAction(rc.Action)
		if err != nil {
			return nil, FieldError{Field: "Action.SqlExpression", Problem: err.Error()}
		}
		r.action = a
	}
	return r, nil
}

// trueRule is the default rule of a subscription configured without rules.
func trueRule() *rule { return &rule{name: "$Default", filter: literal{v: true}} }

// correlationExpr is a correlation filter.
type correlationExpr struct{ f CorrelationFilter }

func (c *correlationExpr) eval(m *Message) any {
	f := &c.f
	eq := func(want, got string) bool { return want == "" || want == got }
	if !eq(f.ContentType, m.ContentType) || !eq(f.CorrelationID, m.CorrelationID) || !eq(f.Label, m.Subject) ||
		!eq(f.MessageID, m.MessageID) || !eq(f.ReplyTo, m.ReplyTo) || !eq(f.ReplyToSessionID, m.ReplyToSessionID) ||
		!eq(f.SessionID, m.SessionID) || !eq(f.To, m.To) {
		return false
	}
	for k, want := range f.Properties {
		got, ok := m.ApplicationProperties[k]
		if !ok {
			return false
		}
		if b, ok := compareValues(normalize(want), normalize(got), "="); !ok || !b {
			return false
		}
	}
	return true
}

// normalize maps the property value types the AMQP layer produces onto
// the evaluation types nil, string, bool, int64, float64 and time.Time.
// Other types are kept and compare unequal to everything.
func normalize(v any) any {
	switch v := v.(type) {
	case int:
		return int64(v)
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case uint8:
		return int64(v)
	case uint16:
		return int64(v)
	case uint32:
		return int64(v)
	case uint:
		if v <= 1<<63-1 {
			return int64(v)
		}
		return float64(v)
	case uint64:
		if v <= 1<<63-1 {
			return int64(v)
		}
		return float64(v)
	case float32:
		return float64(v)
	}
	return v
}

// compareValues compares two normalised values with op. ok is false when
// the result is unknown (a null operand or incomparable types).
func compareValues(a, b any, op string) (result, ok bool) {
	if a == nil || b == nil {
		return false, false
	}
	var c int
	switch x := a.(type) {
	case string:
		y, isStr := b.(string)
		if !isStr {
			return false, false
		}
		c = strings.Compare(x, y)
	case bool:
		y, isBool := b.(bool)
		if !isBool || (op != "=" && op != "<>") {
			return false, false
		}
		if x == y {
			c = 0
		} else {
			c = 1
		}
	case int64, float64:
		fa, _ := toFloat(a)
		fb, isNum := toFloat(b)
		if !isNum {
			return false, false
		}
		if ia, aInt := a.(int64); aInt {
			if ib, bInt := b.(int64); bInt {
				fa, fb = 0, 0
				switch {
				case ia < ib:
					fa = -1
				case ia > ib:
					fa = 1
				}
			}
		}
		switch {
		case fa < fb:
			c = -1
		case fa > fb:
			c = 1
		}
	case time.Time:
		y, isTime := b.(time.Time)
		if !isTime {
			return false, false
		}
		c = x.Compare(y)
	default:
		return false, false
	}
	switch op {
	case "=":
		return c == 0, true
	case "<>", "!=":
		return c != 0, true
	case "<":
		return c < 0, true
	case "<=":
		return c <= 0, true
	case ">":
		return c > 0, true
	case ">=":
		return c >= 0, true
	}
	return false, false
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}
