package lifecycle

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ffbatch/ffbatch/internal/request"
)

// Record names. A record is named for its file, so that a listing with a
// prefix finds the records of the files whose names start with it, in
// name order:
//
//	files/<container>/<blob>
//
// A blob name that cannot be reused as is (the record name would be too
// long or have too many path segments, or the blob ends in "." or holds a
// backslash, a control character or hashMark) gives a long-form name: the
// longest prefix of the blob that is safe to keep (cutBytes, cutSegments,
// up to the first unsafe character), hashMark and the file's key:
//
//	files/<container>/<cut>~~<64 hex digits of request.FileKey>
//
// Short forms never contain hashMark, so no short form equals a long form,
// and long forms differ by the key. docs/status-api.md explains the layout.
const (
	hashMark = "~~"
	// maxShortName bounds a short-form record name in bytes (Azure allows
	// 1,024 characters).
	maxShortName = 900
	// maxSegments bounds a short-form record name's path segments (Azure
	// allows 254).
	maxSegments = 250
	// cutBytes and cutSegments bound the part of a blob name a long form
	// keeps: with files/, the container, hashMark and the key the name stays
	// under 940 bytes and 242 segments.
	cutBytes    = 800
	cutSegments = 239
)

// RecordName is the blob name of the record of containerName/blobName.
func RecordName(containerName, blobName string) string {
	base := containerPrefix(containerName)
	if shortForm(base, blobName) {
		return base + blobName
	}
	return base + cutName(blobName) + hashMark + request.FileKey(containerName, blobName)
}

// containerPrefix is the prefix of the records of one container.
func containerPrefix(containerName string) string {
	return RecordPrefix + containerName + "/"
}

// shortForm reports whether blobName can follow base unchanged.
func shortForm(base, blobName string) bool {
	full := base + blobName
	return blobName != "" && len(full) <= maxShortName && strings.Count(full, "/") < maxSegments &&
		!strings.HasSuffix(blobName, ".") && !strings.Contains(blobName, hashMark) &&
		strings.IndexFunc(blobName, unsafeRune) < 0
}

// unsafeRune reports characters a record name never carries.
func unsafeRune(r rune) bool { return r == '\\' || unicode.IsControl(r) || r == utf8.RuneError }

// cutName is the longest prefix of name within cutBytes and cutSegments,
// on a rune boundary, before the first unsafe character.
func cutName(name string) string {
	segs := 1
	for i, r := range name {
		if unsafeRune(r) || i+utf8.RuneLen(r) > cutBytes {
			return name[:i]
		}
		if r == '/' {
			if segs++; segs > cutSegments {
				return name[:i]
			}
		}
	}
	return name
}

// listingPrefix is the record-name prefix under which the records of every
// blob of containerName starting with namePrefix are, and whether a
// listing under it may also hold records of other names (namePrefix was
// cut), which the caller must then filter by the full name.
func listingPrefix(containerName, namePrefix string) (string, bool) {
	cut := cutName(namePrefix)
	if strings.HasSuffix(cut, "~") {
		cut = strings.TrimSuffix(cut, "~") // a short name never holds hashMark
	}
	return containerPrefix(containerName) + cut, cut != namePrefix
}

// nameInRecordName returns the blob name a record name gives: the whole
// name for a short form (complete true), the cut for a long form.
func nameInRecordName(recordName, containerName string) (name string, complete bool) {
	rest, ok := strings.CutPrefix(recordName, containerPrefix(containerName))
	if !ok {
		return "", false
	}
	if i := strings.LastIndex(rest, hashMark); i >= 0 && len(rest)-i == len(hashMark)+64 {
		return rest[:i], false
	}
	return rest, true
}
