package batch

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ffbatch/ffbatch/internal/dotnettime"
)

// Duration is a time span that travels as an ISO 8601 duration, the way
// the Batch service writes .NET TimeSpan values: "PT15M", "P1DT2H",
// "PT0.5S". Precision is 100 ns (one .NET tick); the codec is
// internal/dotnettime.
//
// InfiniteDuration stands for the service's "unlimited" value
// P10675199DT2H48M5.4775807S (TimeSpan.MaxValue), which does not fit in a
// time.Duration; any decoded value beyond time.Duration's range becomes
// InfiniteDuration.
type Duration time.Duration

// InfiniteDuration is the service's "no limit" duration.
const InfiniteDuration = Duration(dotnettime.Unlimited)

// String returns the ISO 8601 form.
func (d Duration) String() string { return dotnettime.FormatDuration(time.Duration(d)) }

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON implements json.Unmarshaler. It accepts null (leaving d
// unchanged) and ISO 8601 strings.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a JSON string, got %s", b)
	}
	v, err := dotnettime.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
