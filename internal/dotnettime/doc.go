// Package dotnettime reads and writes the two text forms in which Azure
// services and the Functions host exchange .NET TimeSpan values:
//
//   - ISO 8601 durations as .NET's XmlConvert.ToTimeSpan reads them and
//     XmlConvert.ToString(TimeSpan) writes them ("PT15M", "P1DT2H",
//     "PT0.5S"): the Batch REST API, the Service Bus management and
//     emulator configuration, and ARM templates use this form;
//   - the TimeSpan text [-][d.]hh:mm[:ss[.fffffff]] of host.json, read
//     as TimeSpan.Parse reads it, and written in the constant format
//     [-][d.]hh:mm:ss[.fffffff] of the Batch autoscale evaluation results.
//
// Values are time.Duration at .NET's precision of one tick (100 ns), except
// that FormatTimeSpanTicks takes a tick count and so covers a TimeSpan's
// whole range.
// TimeSpan.MaxValue, which the services write for "unlimited", is longer
// than a time.Duration can hold; it and every longer-than-292-years value
// read as Unlimited, and Unlimited is written back as TimeSpan.MaxValue.
//
// Years and months are read as XmlConvert reads them: a year is 365 days,
// twelve months are a year and each remaining month is 30 days. Weeks
// ("P1W") are not part of xs:duration and are rejected, as .NET rejects
// them. See docs/decisions/0100-codec-dotnettime.md.
//
// The package is a pure codec: no I/O, and it imports nothing from this
// module, so the emulators and the production code may both use it.
package dotnettime
