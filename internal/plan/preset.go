package plan

import (
	"fmt"
	"sort"
)

// Preset is a named set of ffmpeg encoder arguments. Arguments are fixed
// strings chosen here, never taken from a message, so nothing a producer
// sends can reach ffmpeg's argument list.
type Preset struct {
	Name        string
	Description string
	// Args are the encoder arguments placed between the input and the
	// output file names.
	Args []string
}

// DefaultPresetName is the preset used when neither the arrival nor the
// configuration names one.
const DefaultPresetName = "mp3-192k-cbr"

var presets = map[string]Preset{
	"mp3-128k-cbr": {
		Name:        "mp3-128k-cbr",
		Description: "MP3, constant 128 kbit/s, 44.1 kHz",
		Args:        []string{"-vn", "-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100"},
	},
	"mp3-192k-cbr": {
		Name:        "mp3-192k-cbr",
		Description: "MP3, constant 192 kbit/s, 44.1 kHz",
		Args:        []string{"-vn", "-c:a", "libmp3lame", "-b:a", "192k", "-ar", "44100"},
	},
	"mp3-320k-cbr": {
		Name:        "mp3-320k-cbr",
		Description: "MP3, constant 320 kbit/s, 44.1 kHz",
		Args:        []string{"-vn", "-c:a", "libmp3lame", "-b:a", "320k", "-ar", "44100"},
	},
	"mp3-v2-vbr": {
		Name:        "mp3-v2-vbr",
		Description: "MP3, LAME VBR quality 2 (about 190 kbit/s)",
		Args:        []string{"-vn", "-c:a", "libmp3lame", "-q:a", "2"},
	},
	"mp3-v5-vbr": {
		Name:        "mp3-v5-vbr",
		Description: "MP3, LAME VBR quality 5 (about 130 kbit/s), for speech",
		Args:        []string{"-vn", "-c:a", "libmp3lame", "-q:a", "5"},
	},
}

// LookupPreset returns the preset called name.
func LookupPreset(name string) (Preset, bool) {
	p, ok := presets[name]
	if ok {
		p.Args = append([]string(nil), p.Args...)
	}
	return p, ok
}

// PresetNames returns the known preset names, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ErrUnknownPreset is wrapped by errors about preset names.
var ErrUnknownPreset = fmt.Errorf("unknown preset")
