package request

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Version identifies one version of one input blob. Every type that names
// an input (arrival messages, task variables, status records, result
// events) embeds it, so the JSON field names are the same everywhere.
type Version struct {
	Container string `json:"container"`
	Blob      string `json:"blob"`
	// ETag is the blob version, without HTTP quotes.
	ETag string `json:"etag"`
	// Size is the blob's length in bytes.
	Size int64 `json:"size,omitempty"`
	// ContentMD5 is the base64 MD5 of the blob's content, when known.
	ContentMD5 string `json:"contentMD5,omitempty"`
}

// SameContent reports whether v and o are the same bytes of the same blob:
// the same version, or two versions whose content MD5 and size match.
func (v Version) SameContent(o Version) bool {
	if v.Container != o.Container || v.Blob != o.Blob {
		return false
	}
	if v.ETag == o.ETag {
		return true
	}
	return v.ContentMD5 != "" && v.ContentMD5 == o.ContentMD5 && v.Size == o.Size
}

// ContentKey names v's content for task ids: its MD5 and size when the
// MD5 is known (two uploads of the same bytes are the same content), else
// its version (ETag).
func (v Version) ContentKey() string {
	if v.ContentMD5 != "" {
		return "md5:" + v.ContentMD5 + ":" + strconv.FormatInt(v.Size, 10)
	}
	return "etag:" + v.ETag
}

// FileKey is the hex SHA-256 over container and blob: the identity of a
// file across versions (the status store's key).
func FileKey(container, blob string) string { return Hash(container, blob) }

// Hash returns the hex SHA-256 over parts, each length-prefixed so that no
// two different lists collide by concatenation.
func Hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
