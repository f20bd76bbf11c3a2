package digest

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"atalaya"
)

// The store keeps one bucket per digest name under bucketDigests, holding:
//
//	state     the State, as JSON
//	pending   the Pending message, as JSON, while one is being delivered
//	sent/     release ID → sentEntry: every release a message of this digest delivered
//	attempts/ sequence number → Attempt: the last maxAttempts delivery attempts
var (
	bucketDigests  = []byte("digests")
	bucketSent     = []byte("sent")
	bucketAttempts = []byte("attempts")
	keyState       = []byte("state")
	keyPending     = []byte("pending")
)

// maxAttempts bounds the attempts kept per digest.
const maxAttempts = 100

// Store is the digests' embedded store (<data>/digest.db): per digest its
// watermark, the message being delivered, the releases sent and the
// delivery attempts. It is safe for concurrent use; one process at a time
// may open it.
type Store struct {
	db   *bolt.DB
	path string
}

// State is what the store knows of one digest.
type State struct {
	// Watermark is when the last run that left nothing unsent built its
	// message: the next message holds the releases indexed after it (and
	// an hour before, not sent yet).
	Watermark time.Time `json:"watermark"`
	// Covered is when the last delivered message was built: the coverage
	// section counts from there.
	Covered   time.Time `json:"covered"`
	LastSent  time.Time `json:"last_sent"`  // when the last message was accepted
	Messages  int       `json:"messages"`   // messages delivered
	Releases  int       `json:"releases"`   // releases delivered, corrections included
	LastCount int       `json:"last_count"` // releases in the last message delivered
	Seq       int       `json:"seq"`        // messages built, delivered or not
	// Failures counts the failed attempts since the last delivery.
	Failures  int       `json:"failures"`
	LastError string    `json:"last_error,omitempty"`
	LastTry   time.Time `json:"last_try"`
}

// Attempt is one delivery attempt.
type Attempt struct {
	At        time.Time `json:"at"`
	MessageID string    `json:"message_id"`
	Releases  int       `json:"releases"`
	OK        bool      `json:"ok"`
	Reason    string    `json:"reason,omitempty"` // one of the Reason values, on failure
	Error     string    `json:"error,omitempty"`
}

// Pending is a message built and about to be delivered, or whose delivery
// may have happened (the server's answer never came, or the process died
// before recording it). The next run delivers it again, with the same
// Message-ID, before building another.
type Pending struct {
	Message Message `json:"message"`
	// Certain reports that the message was never accepted (set after a
	// failure before DATA); such a pending message is rebuilt instead,
	// so that it also holds what was indexed since.
	Certain bool `json:"certain,omitempty"`
}

// sentEntry is one release a message delivered.
type sentEntry struct {
	Version int       `json:"version"`
	Label   string    `json:"label"`
	Seq     int       `json:"seq"`
	At      time.Time `json:"at"`
}

// OpenStore opens (creating it if needed) the store at path, waiting up to
// lockTimeout for another process to release it.
func OpenStore(path string, lockTimeout time.Duration) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("digest: creating %s: %v", filepath.Dir(path), err)
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: lockTimeout})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("digest: open %s: another atalaya process is using it (is `atalaya serve` running?); stop it or use another data directory", path)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, fmt.Errorf("digest: open %s: not a valid digest store (%v); restore it from a backup, or move it aside to start every digest afresh (its next message then lists every matching release again)", path, err)
	case err != nil:
		return nil, fmt.Errorf("digest: open %s: %v", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketDigests)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("digest: open %s: %v", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// Close closes the store.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("digest: closing %s: %v", s.path, err)
	}
	return nil
}

// digestBucket returns the bucket of digest name, creating it in a
// writable transaction; nil in a read-only one when it does not exist.
func digestBucket(tx *bolt.Tx, name string) (*bolt.Bucket, error) {
	top := tx.Bucket(bucketDigests)
	if !tx.Writable() {
		return top.Bucket([]byte(name)), nil
	}
	b, err := top.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, err
	}
	for _, sub := range [][]byte{bucketSent, bucketAttempts} {
		if _, err := b.CreateBucketIfNotExists(sub); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	if b == nil {
		return false, nil
	}
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decoding %s: %v", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// view runs fn on digest name's bucket (nil if the digest never ran) in a
// read-only transaction.
func (s *Store) view(name string, fn func(b *bolt.Bucket) error) error {
	err := s.db.View(func(tx *bolt.Tx) error {
		b, err := digestBucket(tx, name)
		if err != nil {
			return err
		}
		return fn(b)
	})
	if err != nil {
		return fmt.Errorf("digest: reading the store for %s: %v", name, err)
	}
	return nil
}

// update runs fn on digest name's bucket in a writable transaction.
func (s *Store) update(name string, fn func(b *bolt.Bucket) error) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := digestBucket(tx, name)
		if err != nil {
			return err
		}
		return fn(b)
	})
	if err != nil {
		return fmt.Errorf("digest: writing the store for %s: %v", name, err)
	}
	return nil
}

// State returns digest name's state and its pending message, if any.
func (s *Store) State(name string) (State, *Pending, error) {
	var st State
	var p Pending
	var has bool
	err := s.view(name, func(b *bolt.Bucket) error {
		if _, err := getJSON(b, keyState, &st); err != nil {
			return err
		}
		var err error
		has, err = getJSON(b, keyPending, &p)
		return err
	})
	if err != nil || !has {
		return st, nil, err
	}
	return st, &p, nil
}

// sent returns what the store knows of the releases ids: the version and
// label each was last delivered with; releases never delivered are absent.
func (s *Store) sent(name string, ids []atalaya.ID) (map[atalaya.ID]sentEntry, error) {
	out := map[atalaya.ID]sentEntry{}
	err := s.view(name, func(b *bolt.Bucket) error {
		if b == nil {
			return nil
		}
		sb := b.Bucket(bucketSent)
		for _, id := range ids {
			var e sentEntry
			ok, err := getJSON(sb, []byte(id), &e)
			if err != nil {
				return err
			}
			if ok {
				out[id] = e
			}
		}
		return nil
	})
	return out, err
}

// begin records m as digest name's pending message: from now until
// delivered or failed records the outcome, a run delivers m first.
func (s *Store) begin(name string, m Message) error {
	return s.update(name, func(b *bolt.Bucket) error {
		var st State
		if _, err := getJSON(b, keyState, &st); err != nil {
			return err
		}
		st.Seq = max(st.Seq, m.Seq)
		if err := putJSON(b, keyState, st); err != nil {
			return err
		}
		return putJSON(b, keyPending, Pending{Message: m})
	})
}

// delivered records that the server accepted m, in one transaction: the
// releases are logged as sent, the watermark moves to m's period end, the
// pending message is dropped and the attempt recorded.
func (s *Store) delivered(name string, m Message, at time.Time) error {
	return s.update(name, func(b *bolt.Bucket) error {
		var st State
		if _, err := getJSON(b, keyState, &st); err != nil {
			return err
		}
		sb := b.Bucket(bucketSent)
		for _, it := range m.Items() {
			if err := putJSON(sb, []byte(it.ID), sentEntry{Version: it.Version, Label: it.Label, Seq: m.Seq, At: at}); err != nil {
				return err
			}
		}
		if m.Watermark.After(st.Watermark) {
			st.Watermark = m.Watermark
		}
		if m.Date.After(st.Covered) {
			st.Covered = m.Date
		}
		st.LastSent, st.LastTry = at, at
		st.Messages++
		st.Releases += len(m.Items())
		st.LastCount = len(m.Items())
		st.Failures, st.LastError = 0, ""
		if err := putJSON(b, keyState, st); err != nil {
			return err
		}
		if err := b.Delete(keyPending); err != nil {
			return err
		}
		return addAttempt(b, Attempt{At: at, MessageID: m.MessageID, Releases: len(m.Items()), OK: true})
	})
}

// advance moves digest name's watermark to w, after a run that found
// nothing to send, so that the next run looks at less.
func (s *Store) advance(name string, w time.Time) error {
	return s.update(name, func(b *bolt.Bucket) error {
		var st State
		if _, err := getJSON(b, keyState, &st); err != nil {
			return err
		}
		if !w.After(st.Watermark) {
			return nil
		}
		st.Watermark = w
		return putJSON(b, keyState, st)
	})
}

// failed records a failed attempt to deliver m. When the failure proves
// the server never took the message (certain), the pending message is
// marked so the next run rebuilds it; otherwise it stays, to be delivered
// again with the same Message-ID.
func (s *Store) failed(name string, m Message, at time.Time, reason Reason, cause error, certain bool) error {
	return s.update(name, func(b *bolt.Bucket) error {
		var st State
		if _, err := getJSON(b, keyState, &st); err != nil {
			return err
		}
		st.Failures++
		st.LastError = cause.Error()
		st.LastTry = at
		if err := putJSON(b, keyState, st); err != nil {
			return err
		}
		if err := putJSON(b, keyPending, Pending{Message: m, Certain: certain}); err != nil {
			return err
		}
		return addAttempt(b, Attempt{At: at, MessageID: m.MessageID, Releases: len(m.Items()), Reason: string(reason), Error: cause.Error()})
	})
}

// Attempts returns digest name's last delivery attempts, oldest first.
func (s *Store) Attempts(name string) ([]Attempt, error) {
	var out []Attempt
	err := s.view(name, func(b *bolt.Bucket) error {
		if b == nil {
			return nil
		}
		return b.Bucket(bucketAttempts).ForEach(func(_, v []byte) error {
			var a Attempt
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}

// addAttempt appends a to the attempts of b, dropping the oldest past
// maxAttempts.
func addAttempt(b *bolt.Bucket, a Attempt) error {
	ab := b.Bucket(bucketAttempts)
	seq, err := ab.NextSequence()
	if err != nil {
		return err
	}
	if err := putJSON(ab, binary.BigEndian.AppendUint64(nil, seq), a); err != nil {
		return err
	}
	if seq > maxAttempts {
		return ab.Delete(binary.BigEndian.AppendUint64(nil, seq-maxAttempts))
	}
	return nil
}
