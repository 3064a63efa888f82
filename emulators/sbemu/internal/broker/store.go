package broker

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// store persists broker state in one bbolt file (DataDir/sbemu.db).
//
// Layout:
//
//	meta   / "seq:<entity key>"  -> last sequence number (8 bytes, big-endian)
//	msgs   / <queue key> / seq   -> record JSON  (queue key: lower-case path,
//	                                              e.g. "q", "q/$deadletterqueue",
//	                                              "t" for scheduled topic messages)
//	dedup  / <entity key> / id   -> expiry (8 bytes, Unix nanoseconds)
//
// Every broker operation that changes persistent state commits exactly one
// bbolt read-write transaction, which bbolt fsyncs before Commit returns.
// Locks are not persisted.
type store struct {
	db *bolt.DB
}

var (
	bucketMeta  = []byte("meta")
	bucketMsgs  = []byte("msgs")
	bucketDedup = []byte("dedup")
)

const storeFile = "sbemu.db"

// storeLockTimeout bounds the wait for the file lock another process (or
// broker) holds on the store.
const storeLockTimeout = 500 * time.Millisecond

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, storeFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: storeLockTimeout})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketMsgs, bucketDedup} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise %s: %w", path, err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

// writeKind is one kind of store mutation.
type writeKind uint8

const (
	wPutMsg writeKind = iota
	wDelMsg
	wSeq
	wPutDedup
	wDelDedup
)

// write is one mutation, applied in order inside one transaction.
type write struct {
	kind   writeKind
	bucket string // queue key or entity key
	key    []byte
	val    []byte
}

func seqKey(seq int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(seq)) }

func (s *store) apply(ws []write) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		msgs, dedup, meta := tx.Bucket(bucketMsgs), tx.Bucket(bucketDedup), tx.Bucket(bucketMeta)
		cache := map[string]*bolt.Bucket{}
		sub := func(parent *bolt.Bucket, prefix, name string) (*bolt.Bucket, error) {
			if b := cache[prefix+name]; b != nil {
				return b, nil
			}
			b, err := parent.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return nil, fmt.Errorf("bucket %s%s: %w", prefix, name, err)
			}
			cache[prefix+name] = b
			return b, nil
		}
		for _, w := range ws {
			var err error
			switch w.kind {
			case wPutMsg, wDelMsg:
				var b *bolt.Bucket
				if b, err = sub(msgs, "m:", w.bucket); err != nil {
					return err
				}
				if w.kind == wPutMsg {
					err = b.Put(w.key, w.val)
				} else {
					err = b.Delete(w.key)
				}
			case wSeq:
				err = meta.Put([]byte("seq:"+w.bucket), w.val)
			case wPutDedup, wDelDedup:
				var b *bolt.Bucket
				if b, err = sub(dedup, "d:", w.bucket); err != nil {
					return err
				}
				if w.kind == wPutDedup {
					err = b.Put(w.key, w.val)
				} else {
					err = b.Delete(w.key)
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// loaded is the persisted state read at start-up.
type loaded struct {
	msgs  map[string][]*Message // queue key -> messages in sequence order
	seqs  map[string]int64      // entity key -> last sequence number
	dedup map[string]map[string]time.Time
}

func (s *store) load() (*loaded, error) {
	l := &loaded{msgs: map[string][]*Message{}, seqs: map[string]int64{}, dedup: map[string]map[string]time.Time{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketMeta).ForEach(func(k, v []byte) error {
			if len(k) > 4 && string(k[:4]) == "seq:" && len(v) == 8 {
				l.seqs[string(k[4:])] = int64(binary.BigEndian.Uint64(v))
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketMsgs).ForEachBucket(func(name []byte) error {
			q := string(name)
			return tx.Bucket(bucketMsgs).Bucket(name).ForEach(func(k, v []byte) error {
				m, err := decodeRecord(v)
				if err != nil {
					return fmt.Errorf("decode message %s/%x: %w", q, k, err)
				}
				l.msgs[q] = append(l.msgs[q], m)
				return nil
			})
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketDedup).ForEachBucket(func(name []byte) error {
			e := string(name)
			l.dedup[e] = map[string]time.Time{}
			return tx.Bucket(bucketDedup).Bucket(name).ForEach(func(k, v []byte) error {
				if len(v) == 8 {
					l.dedup[e][string(k)] = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
				}
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load store: %w", err)
	}
	return l, nil
}
